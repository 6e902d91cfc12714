/**
 * The plan: all check results turned into, per database, the method and the blockers.
 * `buildPlan` is the pure function from check results to plan.
 */
import type { CheckResult, Method } from './report.js';
import type { Request } from './request.js';

export interface PlannedDatabase {
  /** Source database name (exact; may hold any character). */
  readonly name: string;
  readonly method: Method;
  /** Why this method (e.g. "wal_level is replica on the source: dump"). */
  readonly reasons: readonly string[];
  /** Tables (`schema.table`) without primary key / replica identity that get REPLICA IDENTITY FULL (with consent). */
  readonly replicaIdentityFull: readonly string[];
  /** Whether the target database exists already (the run creates it otherwise). */
  readonly targetExists: boolean;
}

export interface Plan {
  /** True when something blocks: nothing may be written to the target. */
  readonly blocked: boolean;
  /** The failing checks that block (status `fail`). */
  readonly blockers: readonly CheckResult[];
  /** Databases to migrate, in order. */
  readonly databases: readonly PlannedDatabase[];
  /** Every check result, flattened. */
  readonly checks: readonly CheckResult[];
}

/**
 * Convention between the checks and the plan:
 * - Every `fail` blocks the run, except results with `details.replicationOnly === true`: those (from
 *   replication-preconditions, replication-slots, primary-keys without consent, source-activity's prepared
 *   transactions) only rule out logical replication for the database they name (`database`), or — without a
 *   `database` — for the databases in `details.databases` (all candidates when absent). A `skip` with
 *   `replicationOnly` means "could not be verified" and counts the same.
 * - `source-databases` passes with `details.databases`: the selection, in order. Without it the plan blocks.
 * - `target-databases` gives `details.targetExists` per database.
 * - Many per-database passes of one check are merged into one result (core/checks/check.ts `compactPasses`):
 *   `details.databases` lists the databases it passes for, and for target-databases `details.existing` those that
 *   exist on the target.
 * - `primary-keys` gives `details.tables` (`schema.table`) per database: with consent they get REPLICA IDENTITY FULL.
 * - Replication needs positive evidence: a `pass` of replication-preconditions for the database, a `pass` of
 *   replication-slots, and a `pass` or (consented) `warn` of primary-keys for the database.
 */
const REPLICATION_EVIDENCE = ['replication-preconditions', 'replication-slots', 'primary-keys'] as const;

function isReplicationOnly(r: CheckResult): boolean {
  return r.details?.replicationOnly === true;
}

function concerns(r: CheckResult, database: string): boolean {
  if (r.database !== undefined) return r.database === database;
  const list = r.details?.databases;
  return !Array.isArray(list) || list.includes(database);
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/**
 * Pure: check results → plan. Per database the method — `replication` when the request allows it (`auto` or
 * `replication`) and every replication precondition holds for it, else `dump` with the reasons (auto) or a blocker
 * (forced `replication`) — and the blockers.
 *
 * @example
 * ```ts
 * const plan = buildPlan(request, await runChecks(request, ctx));
 * if (plan.blocked) throw new BlockedError(plan.blockers.map((b) => b.message).join('; '));
 * ```
 */
export function buildPlan(
  request: Pick<Request, 'method' | 'replicaIdentityFull'>,
  results: readonly (readonly CheckResult[])[],
): Plan {
  const checks = results.flat();
  const blockers: CheckResult[] = checks.filter((r) => r.status === 'fail' && !isReplicationOnly(r));
  const selection = checks.find(
    (r) => r.id === 'source-databases' && r.status === 'pass' && Array.isArray(r.details?.databases),
  );
  if (!selection && !blockers.some((r) => r.id === 'source-databases')) {
    blockers.push({
      id: 'source-databases',
      status: 'fail',
      message: 'the databases to migrate are unknown: the source-databases check gave no selection',
      remedy: 'look at the source-databases and connection-source results',
    });
  }
  const names = stringList(selection?.details?.databases);
  const databases = names.map((name): PlannedDatabase => {
    const targetExists = checks.some(
      (r) =>
        r.id === 'target-databases' &&
        ((r.database === name && r.details?.targetExists === true) ||
          (r.database === undefined && stringList(r.details?.existing).includes(name))),
    );
    if (request.method === 'dump') {
      return {
        name,
        method: 'dump',
        reasons: ['dump requested (--method dump)'],
        replicaIdentityFull: [],
        targetExists,
      };
    }
    const problems = checks.filter(
      (r) => isReplicationOnly(r) && (r.status === 'fail' || r.status === 'skip') && concerns(r, name),
    );
    const reasons = problems.map((r) => `${r.id}: ${r.message}`);
    for (const id of REPLICATION_EVIDENCE) {
      const evidence = checks.some(
        (r) =>
          r.id === id &&
          (r.status === 'pass' || (id === 'primary-keys' && r.status === 'warn')) &&
          (id === 'replication-slots' ||
            r.database === name ||
            (r.database === undefined && stringList(r.details?.databases).includes(name))),
      );
      if (!evidence && !problems.some((p) => p.id === id)) reasons.push(`${id}: no passing result for this database`);
    }
    if (reasons.length > 0) {
      if (request.method === 'replication') {
        for (const p of problems) if (!blockers.includes(p)) blockers.push(p);
        if (problems.length === 0) {
          blockers.push({
            id: 'replication-preconditions',
            status: 'fail',
            database: name,
            message: `replication was requested for "${name}" but its preconditions are not verified: ${reasons.join('; ')}`,
            remedy: 'rerun the checks, or use --method auto / dump',
          });
        }
        return { name, method: 'replication', reasons, replicaIdentityFull: [], targetExists };
      }
      return {
        name,
        method: 'dump',
        reasons: reasons.map((r) => `replication not possible, ${r}`),
        replicaIdentityFull: [],
        targetExists,
      };
    }
    const consented = request.replicaIdentityFull
      ? checks.find((r) => r.id === 'primary-keys' && r.database === name && r.status === 'warn')?.details
      : undefined;
    const replicaIdentityFull = stringList(consented?.tables);
    // In the workflow's state a long list is cut (core/report-budget.ts): its full length is in `truncated`.
    const truncated = (consented?.truncated as Record<string, unknown> | undefined)?.tables;
    const identityFullCount = typeof truncated === 'number' ? truncated : replicaIdentityFull.length;
    return {
      name,
      method: 'replication',
      reasons: [
        request.method === 'replication'
          ? 'replication requested; its preconditions hold'
          : 'every replication precondition holds',
        ...(identityFullCount > 0 ? [`REPLICA IDENTITY FULL (consented) for ${identityFullCount} table(s)`] : []),
      ],
      replicaIdentityFull,
      targetExists,
    };
  });
  return { blocked: blockers.length > 0, blockers, databases, checks };
}
