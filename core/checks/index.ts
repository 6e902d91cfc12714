/**
 * The pre-checks, run the way sessions are spent (docs/CHECKS.md "How the checks run"):
 *
 * 1. {@link runServerChecks}: one session per server reads every server-level fact once; the server parts of the
 *    checks are evaluated; the selected databases become {@link DatabaseItem}s, with the {@link SharedFacts} the next
 *    phase needs. On AWS: the `ServerChecks` Lambda.
 * 2. {@link runDatabaseChecks}: per selected database, one source session (and one target session when the database
 *    exists there) shared by every database part. On AWS: one iteration of the `DatabaseChecks` Map, at most the
 *    request's `sessionBudget` at a time.
 * 3. {@link mergeCheckResults}: all results, grouped by check id in {@link CHECK_IDS} order, passes merged when there
 *    are many databases — what the plan and the report read.
 *
 * {@link runChecks} does all three in one process (the CLI's tests, local tools), {@link runCheck} for one id. None
 * throws for a server problem: a failed or impossible check is a `fail` / `skip` result.
 */
import type { RunContext } from '../context.js';
import { InputError } from '../errors.js';
import type { CheckResult } from '../report.js';
import type { Request } from '../request.js';
import { compactPasses, couldNotRun, FactsUnavailable, type RunnableCheck } from './check.js';
import {
  collectDatabaseFacts,
  collectServerFacts,
  type DatabaseItem,
  databaseItems,
  type SharedFacts,
  sharedFacts,
} from './collect.js';
import { connectionSourceCheck } from './connection-source.js';
import { connectionTargetCheck } from './connection-target.js';
import { credentialExposureCheck } from './credential-exposure.js';
import { diskSpaceCheck } from './disk-space.js';
import { distinctServersCheck } from './distinct-servers.js';
import { extensionsCheck } from './extensions.js';
import { mapLimit } from './facts.js';
import { CHECK_IDS, type CheckId } from './ids.js';
import { languagesCheck } from './languages.js';
import { largeObjectsCheck } from './large-objects.js';
import { materializedViewsCheck } from './materialized-views.js';
import { primaryKeysCheck } from './primary-keys.js';
import { replicationPreconditionsCheck } from './replication-preconditions.js';
import { replicationSlotsCheck } from './replication-slots.js';
import { rolesCheck } from './roles.js';
import { sourceActivityCheck } from './source-activity.js';
import { sourceDatabasesCheck } from './source-databases.js';
import { targetDatabasesCheck } from './target-databases.js';
import { unloggedTablesCheck } from './unlogged-tables.js';
import { versionCheck } from './version.js';

export { CHECK_IDS, type CheckId } from './ids.js';
export type { DatabaseItem, SharedFacts } from './collect.js';

/** Every check by id. */
export const CHECKS: { readonly [K in CheckId]: RunnableCheck } = {
  'connection-source': connectionSourceCheck,
  'connection-target': connectionTargetCheck,
  'distinct-servers': distinctServersCheck,
  'source-databases': sourceDatabasesCheck,
  'target-databases': targetDatabasesCheck,
  'disk-space': diskSpaceCheck,
  version: versionCheck,
  'replication-slots': replicationSlotsCheck,
  languages: languagesCheck,
  extensions: extensionsCheck,
  'replication-preconditions': replicationPreconditionsCheck,
  'primary-keys': primaryKeysCheck,
  roles: rolesCheck,
  'credential-exposure': credentialExposureCheck,
  'large-objects': largeObjectsCheck,
  'unlogged-tables': unloggedTablesCheck,
  'materialized-views': materializedViewsCheck,
  'source-activity': sourceActivityCheck,
};

/** Whether `id` names a check. */
export function isCheckId(id: unknown): id is CheckId {
  return typeof id === 'string' && (CHECK_IDS as readonly string[]).includes(id);
}

function checksOf(ids: readonly CheckId[]): RunnableCheck[] {
  for (const id of ids) {
    if (!isCheckId(id)) throw new InputError(`unknown check id ${JSON.stringify(id)}; known: ${CHECK_IDS.join(', ')}`);
  }
  return ids.map((id) => CHECKS[id]);
}

/** What the server phase hands on: its results, the databases to visit, and the facts they need. */
export interface ServerChecksOutput {
  readonly results: CheckResult[];
  readonly databases: DatabaseItem[];
  readonly shared: SharedFacts;
  /** Database iterations at the same time: the request's session budget per server (each holds one per server). */
  readonly concurrency: number;
}

/**
 * The server phase: reads the server-level facts on one session per server and evaluates the checks' server parts.
 *
 * @example
 * ```ts
 * const server = await runServerChecks(request, ctx);
 * const perDatabase = await Promise.all(server.databases.map((d) => runDatabaseChecks(request, ctx, d, server.shared)));
 * const results = mergeCheckResults([server.results, ...perDatabase]);
 * ```
 */
export async function runServerChecks(
  request: Request,
  ctx: RunContext,
  ids: readonly CheckId[] = CHECK_IDS,
): Promise<ServerChecksOutput> {
  const checks = checksOf(ids);
  const started = Date.now();
  const facts = await collectServerFacts(ctx, request);
  const results = checks.flatMap((check) => {
    const own = check.evaluateServer(facts, request);
    // Without a selection there is no database phase: a check that only looks inside databases says why.
    if (own.length === 0 && !facts.selection.ok) {
      return [
        couldNotRun(check.id, new FactsUnavailable(`the databases to check are unknown: ${facts.selection.error}`)),
      ];
    }
    return own;
  });
  ctx.logger.debug('server checks done', { ms: Date.now() - started });
  return {
    results,
    databases: databaseItems(facts, request),
    shared: sharedFacts(facts),
    concurrency: Math.max(1, request.sessionBudget),
  };
}

/** Strips a passing result to what the plan reads (its message goes: many passes are merged afterwards). */
function compactPass(r: CheckResult): CheckResult {
  if (r.status !== 'pass') return r;
  const keep: Record<string, unknown> = {};
  if (r.details?.targetExists !== undefined) keep.targetExists = r.details.targetExists;
  return {
    id: r.id,
    status: r.status,
    ...(r.database !== undefined ? { database: r.database } : {}),
    message: '',
    remedy: '',
    ...(Object.keys(keep).length > 0 ? { details: keep } : {}),
  };
}

/** The database phase for one database: one session per server, every check's database part. */
export async function runDatabaseChecks(
  request: Request,
  ctx: RunContext,
  item: DatabaseItem,
  shared: SharedFacts,
  ids: readonly CheckId[] = CHECK_IDS,
): Promise<CheckResult[]> {
  const checks = checksOf(ids);
  const facts = await collectDatabaseFacts(ctx, request, item);
  const results = checks.flatMap((check) => check.evaluateDatabase(facts, shared, request));
  return item.compact ? results.map(compactPass) : results;
}

/**
 * Pure: the results of both phases grouped by check id (in {@link CHECK_IDS} order, or `ids`), the passes of many
 * databases merged into one result per check (core/checks/check.ts `compactPasses`).
 */
export function mergeCheckResults(
  parts: readonly (readonly CheckResult[])[],
  ids: readonly CheckId[] = CHECK_IDS,
): CheckResult[][] {
  const all = parts.flat();
  return ids.map((id) => {
    let results = all.filter((r) => r.id === id);
    // The selection's summary pass stands only when no selected database failed (the plan reads it as "go").
    if (id === 'source-databases' && results.some((r) => r.status === 'fail')) {
      results = results.filter((r) => r.status !== 'pass');
    }
    return compactPasses(id, results);
  });
}

/** Runs the checks `ids` in this process: both phases, the database phase `sessionBudget` databases at a time. */
export async function runChecks(
  request: Request,
  ctx: RunContext,
  ids: readonly CheckId[] = CHECK_IDS,
): Promise<CheckResult[][]> {
  const server = await runServerChecks(request, ctx, ids);
  const perDatabase = await mapLimit(server.databases, server.concurrency, (item) =>
    runDatabaseChecks(request, ctx, item, server.shared, ids),
  );
  return mergeCheckResults([server.results, ...perDatabase], ids);
}

/**
 * Runs one check (both phases). Never throws for a server problem; throws {@link InputError} for an unknown id.
 *
 * @example
 * ```ts
 * const results = await runCheck('version', request, ctx); // [{ id: 'version', status: 'pass', … }]
 * ```
 */
export async function runCheck(id: CheckId, request: Request, ctx: RunContext): Promise<CheckResult[]> {
  const [results] = await runChecks(request, ctx, [id]);
  return results ?? [];
}
