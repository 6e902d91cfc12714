/**
 * A check is a pair: `collect` gathers facts from the servers (I/O, may throw), `evaluate` turns them into
 * {@link CheckResult}s (pure, unit-tested with tables of cases). {@link defineCheck} bundles the pair with a `run`
 * that never throws for a server problem.
 */
import type { RunContext } from '../context.js';
import { describeError } from '../errors.js';
import type { CheckResult, CheckStatus } from '../report.js';
import type { Request } from '../request.js';
import type { CheckId } from './ids.js';

export interface Check<F> {
  readonly id: CheckId;
  /** Facts from the servers. May throw: {@link RunnableCheck.run} turns that into a `skip` result. */
  collect(ctx: RunContext, request: Request): Promise<F>;
  /** Pure: facts + request → findings. */
  evaluate(facts: F, request: Request): CheckResult[];
}

export interface RunnableCheck<F = unknown> extends Check<F> {
  /** collect + evaluate; a thrown error becomes one `skip` result with the reason (never an exception). */
  run(ctx: RunContext, request: Request): Promise<CheckResult[]>;
}

/**
 * Checks whose failures only rule out the replication method: in `auto` mode the plan falls back to dump for the
 * databases concerned instead of blocking. Their results carry `details.replicationOnly = true`.
 */
export const REPLICATION_ONLY_CHECKS: ReadonlySet<CheckId> = new Set([
  'replication-preconditions',
  'replication-slots',
  'primary-keys',
]);

/** Builds one result; `details.replicationOnly` is set for the replication-only checks' fail/skip results. */
export function result(
  id: CheckId,
  status: CheckStatus,
  message: string,
  options: {
    database?: string;
    remedy?: string;
    details?: Record<string, unknown>;
    /** Override the `replicationOnly` marker (e.g. false for a "not needed" skip). */
    replicationOnly?: boolean;
  } = {},
): CheckResult {
  const replicationOnly =
    options.replicationOnly ?? (REPLICATION_ONLY_CHECKS.has(id) && (status === 'fail' || status === 'skip'));
  const details = { ...(options.details ?? {}), ...(replicationOnly ? { replicationOnly: true } : {}) };
  return {
    id,
    status,
    ...(options.database !== undefined ? { database: options.database } : {}),
    message,
    remedy: options.remedy ?? '',
    ...(Object.keys(details).length > 0 ? { details } : {}),
  };
}

/** Pure: what to do when a check could not gather its facts. */
export function skipRemedy(err: unknown): string {
  const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : undefined;
  if (code === '57014')
    return 'the server answered too slowly: raise checkStatementTimeoutMs or rerun when it is less busy';
  if (code === '42501')
    return 'grant the missing privilege named in the message to the connecting user (or connect as a more privileged one), then rerun';
  return 'see the connection checks; rerun when both servers are reachable';
}

/**
 * Declares a check.
 *
 * @example
 * ```ts
 * export const versionCheck = defineCheck({ id: 'version', collect: async (ctx, request) => …, evaluate: (facts) => […] });
 * ```
 */
export function defineCheck<F>(check: Check<F>): RunnableCheck<F> {
  return {
    ...check,
    async run(ctx, request) {
      let facts: F;
      try {
        facts = await check.collect(ctx, request);
      } catch (err) {
        ctx.logger.warn('check could not run', { check: check.id, error: describeError(err) });
        return [result(check.id, 'skip', `could not run: ${describeError(err)}`, { remedy: skipRemedy(err) })];
      }
      try {
        return check.evaluate(facts, request);
      } catch (err) {
        // A defect in an evaluation must not stop the other checks: report it.
        ctx.logger.error('check evaluation failed', { check: check.id, error: describeError(err) });
        return [
          result(check.id, 'warn', `could not evaluate: ${describeError(err)}`, { remedy: 'report this as a bug' }),
        ];
      }
    },
  };
}
