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

/**
 * Per-database `pass` results are merged into one when there are more than this many: a server with hundreds of
 * databases must not overflow the state machine's 256 KiB payloads. Below it, each database keeps its own message.
 */
export const COMPACT_PASSES_ABOVE = 10;

/**
 * Pure: merges the per-database passes of one check into a single result (no `database`) with
 * `details.databases` (the names) and, for target-databases, `details.existing` (those with `targetExists`).
 * Other results (warn, fail, skip, database-less) stay as they are, in order, after the merged one.
 */
export function compactPasses(id: CheckId, results: CheckResult[], above = COMPACT_PASSES_ABOVE): CheckResult[] {
  const passes = results.filter((r) => r.status === 'pass' && r.database !== undefined);
  if (passes.length <= above) return results;
  const names = passes.map((r) => r.database!);
  const existing = passes.filter((r) => r.details?.targetExists === true).map((r) => r.database!);
  const merged = result(
    id,
    'pass',
    `${names.length} databases pass: ${names.slice(0, 20).join(', ')}${names.length > 20 ? ` and ${names.length - 20} more` : ''}`,
    {
      details: { databases: names, ...(id === 'target-databases' ? { existing } : {}) },
    },
  );
  return [merged, ...results.filter((r) => !passes.includes(r))];
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
        return compactPasses(check.id, check.evaluate(facts, request));
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
