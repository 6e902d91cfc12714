/**
 * Replication state per database: the subscription's tables (ready or still copying), its apply worker, and the
 * lag (source WAL position minus the slot's confirmed_flush_lsn). "In sync" needs all three.
 */
import { withClient } from '../../connection.js';
import type { RunContext } from '../../context.js';
import { classify, describeError } from '../../errors.js';
import type { ProgressEvent } from '../../logger.js';
import type { PlannedDatabase } from '../../plan.js';
import type { DatabaseResult, DatabaseStatus } from '../../report.js';
import type { Request } from '../../request.js';
import { WarningList } from '../../warnings.js';
import { readSlot, readSubscription, type SlotState, type SubscriptionState } from './catalog.js';
import { refreshSourceLogin } from './login.js';
import { replicationNames } from './names.js';
import { pollUntil } from './wait.js';

/** The replication state of one database. */
export interface SyncState {
  readonly subscription?: SubscriptionState;
  readonly slot?: SlotState;
}

/** Reads the subscription (target) and slot (source) of a database. */
export async function readSyncState(ctx: RunContext, database: string): Promise<SyncState> {
  const names = replicationNames(database);
  const [subscription, slot] = await Promise.all([
    withClient(ctx.target, database, (client) => readSubscription(client, names)),
    withClient(ctx.source, ctx.source.database, (client) => readSlot(client, names.slot)),
  ]);
  return { ...(subscription ? { subscription } : {}), ...(slot ? { slot } : {}) };
}

/**
 * In sync: every table's initial copy finished (`srsubstate = 'r'`, so a subscription is never called in sync
 * mid-copy), the apply worker runs, and the lag is known and at most `maxLagBytes`.
 */
export function isInSync(state: SyncState, maxLagBytes: number): boolean {
  const { subscription, slot } = state;
  if (!subscription || !slot) return false;
  return (
    subscription.enabled &&
    subscription.ready === subscription.tables &&
    subscription.applyRunning &&
    slot.lagBytes !== undefined &&
    slot.lagBytes <= maxLagBytes
  );
}

/** The state as a progress event: the apply worker (down when there is no subscription), tables ready, the lag. */
export function replicationEvent(database: string, state: SyncState): ProgressEvent {
  const { subscription, slot } = state;
  return {
    kind: 'replication',
    database,
    applyRunning: subscription !== undefined && subscription.enabled && subscription.applyRunning,
    tables: subscription?.tables ?? 0,
    ready: subscription?.ready ?? 0,
    ...(slot?.lagBytes !== undefined ? { lagBytes: slot.lagBytes } : {}),
  };
}

/** One line for people: "4/4 tables ready, apply worker running, lag 120 B". */
export function describeSyncState(state: SyncState): string {
  const { subscription, slot } = state;
  if (!subscription) return 'no subscription on the target';
  if (!slot) return 'the subscription exists but its slot on the source is gone';
  const parts = [
    `${subscription.ready}/${subscription.tables} tables ready`,
    !subscription.enabled
      ? 'subscription disabled'
      : subscription.applyRunning
        ? 'apply worker running'
        : 'apply worker not running',
    slot.lagBytes === undefined ? 'lag unknown' : `lag ${slot.lagBytes} B`,
  ];
  return parts.join(', ');
}

/** A database as the status step receives it: planned, or a result of an earlier state. */
export type DatabaseRef = Pick<PlannedDatabase, 'name' | 'method'> & { readonly status?: DatabaseStatus };

function baseResult(name: string, status: DatabaseStatus, message: string, lagBytes = 0): DatabaseResult {
  return { name, method: 'replication', status, tables: 0, rows: 0, bytes: 0, durationMs: 0, lagBytes, message };
}

/** The state of one database as a result: `replicating` while the subscription exists, `failed` otherwise. */
export async function databaseStatus(
  ctx: RunContext,
  request: Request,
  name: string,
): Promise<{ result: DatabaseResult; inSync: boolean }> {
  const started = Date.now();
  try {
    // A rotated source password reaches the subscription before its worker next needs to log in (fallback only).
    const login = await refreshSourceLogin(ctx, request, name);
    const state = await readSyncState(ctx, name);
    ctx.progress(replicationEvent(name, state));
    const inSync = isInSync(state, request.maxLagBytes);
    const healthy = state.subscription !== undefined && state.slot !== undefined;
    const note = login.refreshed ? '; the source credentials changed: the subscription connection was updated' : '';
    return {
      inSync,
      result: {
        ...baseResult(
          name,
          healthy ? 'replicating' : 'failed',
          `${inSync ? 'in sync' : 'not in sync'}: ${describeSyncState(state)}${note}`,
          state.slot?.lagBytes ?? 0,
        ),
        tables: state.subscription?.tables ?? 0,
        durationMs: Date.now() - started,
        ...(healthy ? {} : { error: 'PgMigrate.Permanent' }),
        ...(login.problem ? { warnings: [{ kind: 'subscription-login' as const, message: login.problem }] } : {}),
      },
    };
  } catch (err) {
    const error = classify(err, `status of ${name}`);
    return {
      inSync: false,
      result: {
        ...baseResult(name, 'failed', describeError(error)),
        error: error.name,
        durationMs: Date.now() - started,
      },
    };
  }
}

/**
 * State and lag per database (the `status` action, and the workflow's wait loop). Databases that are not
 * replicating (dump method, failed, done) pass through and do not count against `allInSync`.
 */
export async function replicationStatus(
  ctx: RunContext,
  request: Request,
  databases: readonly DatabaseRef[],
): Promise<{ databases: DatabaseResult[]; allInSync: boolean }> {
  const results: DatabaseResult[] = [];
  let allInSync = true;
  for (const database of databases) {
    const passThrough =
      database.method !== 'replication' || (database.status !== undefined && database.status !== 'replicating');
    if (passThrough) {
      results.push(
        'status' in database && 'lagBytes' in database
          ? (database as DatabaseResult)
          : { ...baseResult(database.name, 'skipped', 'not replicated'), method: database.method },
      );
      continue;
    }
    const { result, inSync } = await databaseStatus(ctx, request, database.name);
    // A result of the migration keeps what it measured (rows and bytes copied, its duration).
    const earlier = 'rows' in database ? (database as DatabaseResult) : undefined;
    const warnings = new WarningList();
    warnings.addAll(earlier?.warnings);
    warnings.addAll(result.warnings);
    results.push({
      ...(earlier
        ? { ...earlier, ...result, rows: earlier.rows, bytes: earlier.bytes, durationMs: earlier.durationMs }
        : result),
      ...(warnings.list().length > 0 ? { warnings: warnings.list() } : {}),
    });
    allInSync &&= inSync;
  }
  return { databases: results, allInSync };
}

/** The bounded wait for sync in the workflow: when it started, whether it is over, and why. */
export interface SyncWait {
  /** ISO time of the first status poll of this wait. */
  readonly waitingSince: string;
  /** True when the databases are not all in sync and `syncTimeoutSeconds` have passed since `waitingSince`. */
  readonly expired: boolean;
  /** Why the wait ended without sync (empty otherwise): the databases not in sync and their state. */
  readonly reason: string;
}

/** Decides the sync wait after one poll. Pure: `waitingSince` is empty on the first poll. */
export function syncWait(options: {
  readonly waitingSince: string | undefined;
  readonly now: Date;
  readonly timeoutSeconds: number;
  readonly allInSync: boolean;
  readonly databases: readonly DatabaseResult[];
}): SyncWait {
  const since = options.waitingSince ? Date.parse(options.waitingSince) : Number.NaN;
  const start = Number.isNaN(since) ? options.now.getTime() : since;
  const waitingSince = new Date(start).toISOString();
  const waitedSeconds = Math.floor((options.now.getTime() - start) / 1000);
  if (options.allInSync || waitedSeconds < options.timeoutSeconds) return { waitingSince, expired: false, reason: '' };
  const behind = options.databases
    .filter((d) => d.method === 'replication' && d.status === 'replicating' && !d.message.startsWith('in sync'))
    .map((d) => `${d.name}: ${d.message}`);
  return {
    waitingSince,
    expired: true,
    reason: `not in sync after ${waitedSeconds} s (syncTimeoutSeconds ${options.timeoutSeconds}); replication keeps running, run status or cutover later${behind.length > 0 ? ` — ${behind.join('; ')}` : ''}`,
  };
}

/**
 * Polls until the database is in sync or `timeoutMs` passes. Returns the last state and whether it is in sync;
 * a missing subscription or slot is an error (something dropped it).
 */
export async function waitForSync(
  ctx: RunContext,
  request: Request,
  database: string,
  timeoutMs: number,
): Promise<{ state: SyncState; inSync: boolean }> {
  let state: SyncState = {};
  let inSync = false;
  try {
    await pollUntil(
      async () => {
        state = await readSyncState(ctx, database);
        ctx.progress(replicationEvent(database, state));
        if (!state.subscription || !state.slot) throw new Error(describeSyncState(state));
        inSync = isInSync(state, request.maxLagBytes);
        if (!inSync) ctx.progress({ kind: 'phase', database, phase: 'sync', detail: describeSyncState(state) });
        return inSync;
      },
      { timeoutMs, intervalMs: 250, maxIntervalMs: 500, ...(ctx.signal ? { signal: ctx.signal } : {}) },
    );
  } catch (err) {
    if (!(err instanceof Error && err.name === 'PgMigrate.Timeout')) throw err;
  }
  return { state, inSync };
}
