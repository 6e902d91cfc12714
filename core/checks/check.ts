/**
 * A check is pure: it picks the facts it needs from what the run read once (core/checks/collect.ts: the server
 * phase, then one database at a time) and evaluates them into {@link CheckResult}s. A check has a server part
 * (results about the run as a whole, evaluated once), a database part (results for one selected database, evaluated
 * in that database's iteration), or both. A part whose facts could not be read reports why: `skip`, or — for the
 * {@link SAFETY_CHECKS} — a `fail` that blocks, never a silent pass.
 */
import { describeError } from '../errors.js';
import type { CheckResult, CheckStatus } from '../report.js';
import type { Request } from '../request.js';
import type { DatabaseFacts, ServerPhaseFacts, SharedFacts } from './collect.js';
import { type Outcome } from './facts.js';
import type { CheckId } from './ids.js';

/** A fact a check needs could not be read: the check reports this reason instead of a verdict. */
export class FactsUnavailable extends Error {
  readonly code: string | undefined;
  constructor(reason: string, code?: string) {
    super(reason);
    this.name = 'FactsUnavailable';
    this.code = code;
  }
}

/** The value of an outcome, or {@link FactsUnavailable} with its reason. */
export function need<T>(outcome: Outcome<T>, what?: string): T {
  if (outcome.ok) return outcome.value;
  throw new FactsUnavailable(what ? `${what}: ${outcome.error}` : outcome.error, outcome.code);
}

/** The server part of a check: facts → results about the run as a whole. */
export interface ServerPart<F> {
  /** Pure: the facts this part needs (throws {@link FactsUnavailable}). */
  select(facts: ServerPhaseFacts, request: Request): F;
  evaluate(facts: F, request: Request): CheckResult[];
}

/** The database part of a check: facts of one database → its results. */
export interface DatabasePart<F> {
  /** Pure: the facts this part needs, or undefined when the check has nothing to say about this database. */
  select(database: DatabaseFacts, shared: SharedFacts, request: Request): F | undefined;
  evaluate(facts: F, request: Request): CheckResult[];
}

export interface Check<S = unknown, D = unknown> {
  readonly id: CheckId;
  readonly server?: ServerPart<S>;
  readonly database?: DatabasePart<D>;
}

/**
 * Checks that guard against writing over or past something: when they cannot run they block (`fail`), because
 * running without them could truncate a user's tables or break the source (docs/CHECKS.md).
 */
export const SAFETY_CHECKS: ReadonlySet<CheckId> = new Set([
  'target-databases',
  'replication-preconditions',
  'primary-keys',
]);

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

/** Pure: the result of a check part that could not run — a skip, or a blocking fail for the safety checks. */
export function couldNotRun(id: CheckId, err: unknown, database?: string): CheckResult {
  const safety = SAFETY_CHECKS.has(id);
  return result(id, safety ? 'fail' : 'skip', `could not run: ${describeError(err)}`, {
    ...(database !== undefined ? { database } : {}),
    remedy: safety
      ? `${skipRemedy(err)}; this check guards the migration, so nothing is migrated until it can run`
      : skipRemedy(err),
    ...(safety ? { details: { couldNotRun: true }, replicationOnly: false } : {}),
  });
}

function run(id: CheckId, evaluate: () => CheckResult[], database?: string): CheckResult[] {
  try {
    return evaluate();
  } catch (err) {
    if (err instanceof FactsUnavailable) return [couldNotRun(id, err, database)];
    // A defect in an evaluation must not stop the other checks: report it (a safety check blocks).
    const safety = SAFETY_CHECKS.has(id);
    return [
      result(id, safety ? 'fail' : 'warn', `could not evaluate: ${describeError(err)}`, {
        ...(database !== undefined ? { database } : {}),
        remedy: 'report this as a bug',
        ...(safety ? { details: { couldNotRun: true }, replicationOnly: false } : {}),
      }),
    ];
  }
}

/** A declared check, its facts' types erased: what the runner calls. Neither method throws. */
export interface RunnableCheck {
  readonly id: CheckId;
  /** Results about the run as a whole (none when the check has no server part). */
  evaluateServer(facts: ServerPhaseFacts, request: Request): CheckResult[];
  /** Results for one database (none when the check has no database part or nothing to say about it). */
  evaluateDatabase(database: DatabaseFacts, shared: SharedFacts, request: Request): CheckResult[];
}

/**
 * Declares a check.
 *
 * @example
 * ```ts
 * export const versionCheck = defineCheck({ id: 'version', server: { select: (facts) => …, evaluate: evaluateVersion } });
 * ```
 */
export function defineCheck<S = never, D = never>(check: Check<S, D>): RunnableCheck {
  const { id, server, database } = check;
  return {
    id,
    evaluateServer(facts, request) {
      if (!server) return [];
      return run(id, () => server.evaluate(server.select(facts, request), request));
    },
    evaluateDatabase(db, shared, request) {
      if (!database) return [];
      return run(
        id,
        () => {
          const facts = database.select(db, shared, request);
          return facts === undefined ? [] : database.evaluate(facts, request);
        },
        db.item.name,
      );
    },
  };
}
