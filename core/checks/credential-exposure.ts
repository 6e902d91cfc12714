/**
 * `credential-exposure`: where a password pg-migrate sends could leak around it, before anything is written.
 *
 * - **The target's server log.** The statements that carry a password or verifier — `ALTER ROLE … PASSWORD` of the
 *   roles step and the subscription's `CREATE SUBSCRIPTION … CONNECTION` — run in sessions that turn statement
 *   logging off where the user may, with the secret bound as a parameter (core/secret-statements.ts). This check
 *   opens such a session on the target, tries the same settings, and warns when a setting the user may not change
 *   would still log the secret: it names the setting and the remedy.
 * - **The subscription.** It logs in to the source as a per-run role where the source user may create one, else as
 *   the source user (core/steps/replication/login.ts): that password sits in the target's `pg_subscription`
 *   (readable by the target's superusers) from set-up until cutover or abort — the pass says so.
 *   It warns when the subscription's TLS would check the source's certificate less than the source connection does
 *   (core/steps/replication/subscriber.ts).
 *
 * Skipped when nothing carrying a secret will run (no roles, dump only).
 */
import type { CheckResult } from '../report.js';
import type { Request } from '../request.js';
import { logExposures, type SecretKind } from '../secret-statements.js';
import { subscriptionTls } from '../steps/replication/subscriber.js';
import type { TlsSettings } from '../tls.js';
import { defineCheck, need, result } from './check.js';
import type { ServerLogFacts } from './collect.js';

export type { ServerLogFacts } from './collect.js';

export interface CredentialExposureFacts {
  /** Role passwords go to the target (roles are migrated). */
  readonly rolePasswords: boolean;
  /** Subscriptions may be made (some database may use replication). */
  readonly subscriptions: boolean;
  readonly target: ServerLogFacts;
  /** The source connection's TLS (no credential), for the subscription's. */
  readonly sourceTls: TlsSettings;
  readonly sourceUser: string;
}

/** Pure: the remedy for settings the target user may not turn off. */
export function loggingRemedy(facts: ServerLogFacts): string {
  const settings = facts.notAllowed.filter((s) => s !== 'log_parameter_max_length_on_error');
  const list = settings.length > 0 ? settings.join(', ') : 'log_statement, log_min_duration_statement';
  return (
    `for the migration, lower those settings on the target (ALTER SYSTEM, or the parameter group on RDS / Aurora: ` +
    `log_statement = none or ddl, log_min_duration_statement = -1, log_parameter_max_length = 0` +
    `${facts.settings.pgaudit ? ', pgaudit.log without ddl' : ''}` +
    `${facts.settings.pgStatStatements ? ', pg_stat_statements.track_utility = off' : ''}); or let "${facts.user}" turn them off for its own ` +
    `sessions (PostgreSQL 15+, as a superuser: GRANT SET ON PARAMETER ${list} TO "${facts.user}"); or connect as a superuser`
  );
}

export function evaluateCredentialExposure(
  facts: CredentialExposureFacts | undefined,
  request: Pick<Request, 'subscriptionSslmode' | 'subscriptionSslrootcert'>,
): CheckResult[] {
  if (!facts || (!facts.rolePasswords && !facts.subscriptions))
    return [result('credential-exposure', 'skip', 'no statement of this run carries a password (no roles, dump only)')];
  const out: CheckResult[] = [];
  const kinds: { kind: SecretKind; what: string }[] = [
    ...(facts.rolePasswords
      ? [{ kind: 'role-password' as const, what: 'ALTER ROLE … PASSWORD of the roles step' }]
      : []),
    ...(facts.subscriptions
      ? [{ kind: 'subscription' as const, what: "CREATE SUBSCRIPTION's connection string" }]
      : []),
  ];
  const path = facts.target.secretFunction ? 'parameter' : 'literal';
  const found = kinds.flatMap(({ kind, what }) =>
    logExposures(facts.target.settings, path, kind).map((e) => `${e} (${what})`),
  );
  if (found.length > 0)
    out.push(
      result(
        'credential-exposure',
        'warn',
        `the target may write a password into its server log, and "${facts.target.user}" may not turn that off for its sessions: ${[...new Set(found)].join('; ')}`,
        {
          remedy: loggingRemedy(facts.target),
          details: { settings: facts.target.settings, notAllowed: facts.target.notAllowed },
        },
      ),
    );
  if (facts.subscriptions) {
    const tls = subscriptionTls(facts.sourceTls, request);
    if (tls.weakened)
      out.push(
        result('credential-exposure', 'warn', tls.weakened, {
          remedy:
            'pass --subscription-sslrootcert with the CA file as the target server sees it (or system on PostgreSQL 16+), and --subscription-sslmode verify-full',
        }),
      );
  }
  if (out.length === 0)
    out.push(
      result(
        'credential-exposure',
        'pass',
        [
          'statements carrying passwords stay out of the target server log',
          ...(facts.subscriptions
            ? [
                `a subscription logs in to the source as its own per-run role where "${facts.sourceUser}" may create one (else as "${facts.sourceUser}", with a subscription-login warning): that password sits in the target's pg_subscription until cutover or abort`,
              ]
            : []),
        ].join('; '),
      ),
    );
  return out;
}

export const credentialExposureCheck = defineCheck<CredentialExposureFacts | undefined>({
  id: 'credential-exposure',
  server: {
    // The target's log settings are read on the server phase's target session (core/checks/collect.ts).
    select: (facts, request) => {
      const rolePasswords = request.roles;
      const subscriptions = request.method !== 'dump';
      if ((!rolePasswords && !subscriptions) || !facts.target.logFacts) return undefined;
      return {
        rolePasswords,
        subscriptions,
        target: need(facts.target.logFacts, 'the target'),
        sourceTls: facts.sourceConnection.tls,
        sourceUser: facts.sourceConnection.user,
      };
    },
    evaluate: evaluateCredentialExposure,
  },
});
