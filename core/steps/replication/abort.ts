/**
 * Stopping replication: `abort` (every object this tool created, both sides, for all or the filtered databases),
 * the workflow's per-database clean-up after a failure, and finding the databases that replicate (status, cutover,
 * abort run without a plan).
 */
import { withClient } from '../../connection.js';
import type { RunContext } from '../../context.js';
import { causeMessage, describeError, scrub } from '../../errors.js';
import type { PlannedDatabase } from '../../plan.js';
import type { DatabaseResult } from '../../report.js';
import type { Request } from '../../request.js';
import {
  isReplicationName,
  REPLICATION_PREFIX,
  type ReplicationNames,
  replicationNames,
  SUBSCRIPTION_ROLE_PREFIX,
  subscriptionRoleName,
} from './names.js';
import { dropReplicationObjects } from './objects.js';

const LIKE_PREFIX = `${REPLICATION_PREFIX.replace(/_/g, '\\_')}%`;

function selected(request: Pick<Request, 'dbs' | 'excludeDbs'>, database: string): boolean {
  if (request.dbs && !request.dbs.includes(database)) return false;
  return !request.excludeDbs.includes(database);
}

function result(
  name: string,
  fields: Partial<DatabaseResult> & Pick<DatabaseResult, 'status' | 'message'>,
): DatabaseResult {
  return { name, method: 'replication', tables: 0, rows: 0, bytes: 0, durationMs: 0, lagBytes: 0, ...fields };
}

/**
 * The databases whose subscription (ours, by name) exists on the target, filtered by `dbs` / `excludeDbs`: what
 * `status`, `cutover` and `abort` work on.
 */
export async function discoverDatabases(ctx: RunContext, request: Request): Promise<PlannedDatabase[]> {
  const rows = await withClient(ctx.target, ctx.target.database, async (client) => {
    const res = await client.query<{ subname: string; datname: string }>(
      `SELECT s.subname, d.datname FROM pg_catalog.pg_subscription s JOIN pg_catalog.pg_database d ON d.oid = s.subdbid
        WHERE s.subname LIKE $1 ORDER BY d.datname`,
      [LIKE_PREFIX],
    );
    return res.rows;
  });
  return rows
    .filter((r) => replicationNames(r.datname).subscription === r.subname && selected(request, r.datname))
    .map((r) => ({
      name: r.datname,
      method: 'replication' as const,
      reasons: [`subscription ${r.subname} exists on the target`],
      replicaIdentityFull: [],
      targetExists: true,
    }));
}

/** Every (database, object name) pair of ours on either side. */
async function findObjects(ctx: RunContext): Promise<Map<string, Set<string>>> {
  const found = new Map<string, Set<string>>();
  const add = (database: string, name: string) => {
    if (!isReplicationName(name)) return;
    const set = found.get(database) ?? new Set<string>();
    set.add(name);
    found.set(database, set);
  };
  await withClient(ctx.target, ctx.target.database, async (client) => {
    const { rows } = await client.query<{ name: string; db: string }>(
      `SELECT s.subname AS name, d.datname AS db FROM pg_catalog.pg_subscription s
         JOIN pg_catalog.pg_database d ON d.oid = s.subdbid WHERE s.subname LIKE $1`,
      [LIKE_PREFIX],
    );
    for (const r of rows) add(r.db, r.name);
  });
  const databases = await withClient(ctx.source, ctx.source.database, async (client) => {
    const slots = await client.query<{ name: string; db: string | null }>(
      'SELECT slot_name AS name, database AS db FROM pg_catalog.pg_replication_slots WHERE slot_name LIKE $1',
      [LIKE_PREFIX],
    );
    for (const r of slots.rows) if (r.db !== null) add(r.db, r.name);
    const dbs = await client.query<{ datname: string }>(
      'SELECT datname FROM pg_catalog.pg_database WHERE datallowconn AND NOT datistemplate ORDER BY datname',
    );
    // A subscription role left without its subscription (a set-up interrupted in between) is found by its name.
    const roles = await client.query<{ name: string }>(
      'SELECT rolname AS name FROM pg_catalog.pg_roles WHERE rolname LIKE $1',
      [`${SUBSCRIPTION_ROLE_PREFIX.replace(/_/g, '\\_')}%`],
    );
    const roleNames = new Set(roles.rows.map((r) => r.name));
    for (const r of dbs.rows) {
      const role = subscriptionRoleName(r.datname);
      if (roleNames.has(role)) add(r.datname, replicationNames(r.datname).slot);
    }
    return dbs.rows.map((r) => r.datname);
  });
  for (const database of databases) {
    try {
      await withClient(ctx.source, database, async (client) => {
        const { rows } = await client.query<{ name: string }>(
          'SELECT pubname AS name FROM pg_catalog.pg_publication WHERE pubname LIKE $1',
          [LIKE_PREFIX],
        );
        for (const r of rows) add(database, r.name);
      });
    } catch (err) {
      ctx.logger.warn('cannot look for publications in a source database', { database, reason: describeError(err) });
    }
  }
  return found;
}

/**
 * Drops every replication object this tool created (subscriptions on the target; slots and publications on the
 * source; REPLICA IDENTITY changes reverted), for all databases or those the request filters. Data stays.
 * Idempotent: a second run finds nothing and reports the databases `skipped`.
 */
export async function abortReplication(ctx: RunContext, request: Request): Promise<DatabaseResult[]> {
  const found = await findObjects(ctx);
  const results: DatabaseResult[] = [];
  const databases = new Set([...found.keys(), ...(request.dbs ?? [])]);
  for (const database of [...databases].sort()) {
    if (!selected(request, database)) continue;
    const started = Date.now();
    const names = found.get(database) ?? new Set<string>();
    const dropped: string[] = [];
    const reverted: string[] = [];
    const problems: string[] = [];
    for (const name of names) {
      const objects: ReplicationNames = { publication: name, slot: name, subscription: name };
      const outcome = await dropReplicationObjects(ctx, database, objects);
      dropped.push(...outcome.dropped);
      reverted.push(...outcome.reverted.map((t) => `${t.schema}.${t.name}`));
      problems.push(...outcome.problems);
    }
    const status = problems.length > 0 ? 'failed' : dropped.length > 0 ? 'done' : 'skipped';
    const message =
      problems.length > 0
        ? `abort incomplete: ${problems.join('; ')}`
        : dropped.length > 0
          ? `replication stopped: dropped ${dropped.join(', ')}${reverted.length > 0 ? `; REPLICA IDENTITY reverted on ${reverted.join(', ')}` : ''}; data on the target stays`
          : 'no replication objects of pg-migrate';
    results.push(
      result(database, {
        status,
        message,
        durationMs: Date.now() - started,
        ...(problems.length > 0 ? { error: 'PgMigrate.Permanent' } : {}),
      }),
    );
  }
  return results;
}

/** The error a Step Functions Catch hands over: `Error` (name) and `Cause` (message, or Lambda's JSON). */
export interface CaughtError {
  readonly Error?: string;
  readonly Cause?: string;
}

/**
 * The Map's Catch for one database: drops the database's replication objects (an orphaned slot would keep WAL on
 * the source) and returns a `failed` result carrying the error, scrubbed. Never throws.
 */
export async function cleanupDatabase(
  ctx: RunContext,
  _request: Request,
  database: Pick<PlannedDatabase, 'name' | 'method'>,
  error: CaughtError,
): Promise<DatabaseResult> {
  const started = Date.now();
  const errorName = error.Error ?? 'PgMigrate.Error';
  let message = causeMessage(error.Cause).slice(0, 2000);
  let outcome: Awaited<ReturnType<typeof dropReplicationObjects>> | undefined;
  try {
    outcome = await dropReplicationObjects(ctx, database.name, replicationNames(database.name));
  } catch (err) {
    message += `; clean-up failed (run abort): ${describeError(err)}`;
  }
  if (outcome && outcome.dropped.length > 0) message += `; cleaned up: ${outcome.dropped.join(', ')}`;
  if (outcome && outcome.problems.length > 0)
    message += `; clean-up incomplete (run abort): ${outcome.problems.join('; ')}`;
  return {
    name: database.name,
    method: database.method,
    status: 'failed',
    tables: 0,
    rows: 0,
    bytes: 0,
    durationMs: Date.now() - started,
    lagBytes: 0,
    message: scrub(message),
    error: errorName,
  };
}
