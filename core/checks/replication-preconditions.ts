/**
 * `replication-preconditions`: per database that would use logical replication, the source runs PostgreSQL 10+
 * with `wal_level = logical`; the source user may publish every table (superuser, a cloud replication role such as
 * rds_replication, or `aiven_extras` installed or installable there); the target user may subscribe (superuser,
 * pg_create_subscription on 16+, a cloud admin role, or aiven_extras). Failures are replication-only: in auto mode
 * the plan falls back to dump and names these reasons.
 */
import type { CheckResult } from '../report.js';
import { defineCheck, result } from './check.js';
import {
  collectServerFacts,
  majorOf,
  type PerDatabase,
  perDatabase,
  queryRows,
  replicationCandidates,
  type ServerFacts,
  selectedDatabases,
} from './facts.js';

export interface ReplicationPreconditionsFacts {
  readonly candidates: readonly string[];
  readonly source: {
    readonly user: ServerFacts;
    readonly walLevel: string;
    readonly aivenExtrasAvailable: boolean;
  };
  /** Per candidate, whether aiven_extras is installed in the source database. */
  readonly sourceAivenExtras: PerDatabase<boolean>;
  readonly target: { readonly user: ServerFacts; readonly aivenExtrasAvailable: boolean };
}

const SOURCE_REPLICATION_ROLES = [
  'rds_replication',
  'rds_superuser',
  'cloudsqlsuperuser',
  'alloydbsuperuser',
  'azure_pg_admin',
];
const TARGET_SUBSCRIPTION_ROLES = ['rds_superuser', 'cloudsqlsuperuser', 'alloydbsuperuser', 'azure_pg_admin'];

export function evaluateReplicationPreconditions(facts: ReplicationPreconditionsFacts): CheckResult[] {
  if (facts.candidates.length === 0) {
    return [
      result('replication-preconditions', 'skip', 'not needed: no database is planned for replication', {
        replicationOnly: false,
      }),
    ];
  }
  const { source, target } = facts;
  const aiven = new Map(facts.sourceAivenExtras.map((a) => [a.database, a.facts]));
  const sourceMajor = majorOf(source.user.versionNum);
  const out: CheckResult[] = [];
  for (const database of facts.candidates) {
    const problems: { message: string; remedy: string }[] = [];
    if (sourceMajor < 10) {
      problems.push({
        message: `the source runs PostgreSQL ${source.user.version}: logical replication needs 10 or newer`,
        remedy: 'use --method dump, or upgrade the source first',
      });
    }
    if (source.walLevel !== 'logical') {
      problems.push({
        message: `wal_level is ${source.walLevel} on the source, not logical`,
        remedy:
          'set wal_level = logical on the source and restart it (RDS / Aurora: rds.logical_replication = 1 in the parameter group; Cloud SQL: the cloudsql.logical_decoding flag), or use --method dump',
      });
    }
    const installed = aiven.get(database);
    const sourceRole = source.user.memberOf.find((r) => SOURCE_REPLICATION_ROLES.includes(r));
    const sourceOk =
      source.user.superuser ||
      sourceRole !== undefined ||
      source.aivenExtrasAvailable ||
      (installed?.ok === true && installed.value);
    if (!sourceOk) {
      problems.push({
        message: `the source user "${source.user.user}" may not publish every table of "${database}": it is neither superuser nor a member of a cloud replication role (rds_replication, …), and aiven_extras is not available`,
        remedy:
          "connect to the source as a superuser (or a user granted rds_replication / the provider's replication role), install aiven_extras, or use --method dump",
      });
    }
    const targetMajor = majorOf(target.user.versionNum);
    const targetOk =
      target.user.superuser ||
      (targetMajor >= 16 && target.user.memberOf.includes('pg_create_subscription')) ||
      target.user.memberOf.some((r) => TARGET_SUBSCRIPTION_ROLES.includes(r)) ||
      target.aivenExtrasAvailable;
    if (!targetOk) {
      problems.push({
        message: `the target user "${target.user.user}" may not create subscriptions: it is neither superuser${targetMajor >= 16 ? ' nor a member of pg_create_subscription' : ''} nor a member of a cloud admin role, and aiven_extras is not available`,
        remedy:
          targetMajor >= 16
            ? 'GRANT pg_create_subscription to the target user (and CREATE on the database), connect as a superuser, or use --method dump'
            : "connect to the target as a superuser (or the provider's admin role), or use --method dump",
      });
    }
    if (problems.length === 0) {
      out.push(result('replication-preconditions', 'pass', `"${database}" can use logical replication`, { database }));
    }
    for (const p of problems) {
      out.push(
        result('replication-preconditions', 'fail', `"${database}": ${p.message}`, { database, remedy: p.remedy }),
      );
    }
  }
  return out;
}

const AIVEN_AVAILABLE =
  "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_available_extensions WHERE name = 'aiven_extras') AS ok";

export const replicationPreconditionsCheck = defineCheck<ReplicationPreconditionsFacts>({
  id: 'replication-preconditions',
  async collect(ctx, request) {
    const candidates = replicationCandidates(request, await selectedDatabases(ctx, request));
    const [sourceUser, targetUser, walLevel, sourceAiven, targetAiven, sourceAivenExtras] = await Promise.all([
      collectServerFacts(ctx.source, request),
      collectServerFacts(ctx.target, request),
      queryRows<{ wal: string }>(
        ctx.source,
        ctx.source.database,
        request,
        "SELECT current_setting('wal_level') AS wal",
      ),
      queryRows<{ ok: boolean }>(ctx.source, ctx.source.database, request, AIVEN_AVAILABLE),
      queryRows<{ ok: boolean }>(ctx.target, ctx.target.database, request, AIVEN_AVAILABLE),
      perDatabase(ctx.source, candidates, request, async (client) => {
        const { rows } = await client.query<{ ok: boolean }>(
          "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'aiven_extras') AS ok",
        );
        return rows[0]?.ok === true;
      }),
    ]);
    return {
      candidates,
      source: {
        user: sourceUser,
        walLevel: walLevel[0]?.wal ?? 'unknown',
        aivenExtrasAvailable: sourceAiven[0]?.ok === true,
      },
      sourceAivenExtras,
      target: { user: targetUser, aivenExtrasAvailable: targetAiven[0]?.ok === true },
    };
  },
  evaluate: evaluateReplicationPreconditions,
});
