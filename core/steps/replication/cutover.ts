/**
 * Cutover of one replicating database: wait until the subscription has applied everything the source wrote before
 * cutover began (the user has stopped writes), carry over what logical replication does not (large objects,
 * UNLOGGED tables), verify with the subscription still in place, re-check the source's insert position, copy the
 * sequence values, then drop subscription, slot and publication and revert REPLICA IDENTITY changes. A timeout or a
 * verification mismatch drops nothing: replication keeps running and cutover can be retried.
 */
import { connect, qualifiedName, withClient } from '../../connection.js';
import type { RunContext } from '../../context.js';
import { classify, ERROR_NAMES, PermanentError, TimeoutError } from '../../errors.js';
import type { PlannedDatabase } from '../../plan.js';
import type { DatabaseResult } from '../../report.js';
import type { Request } from '../../request.js';
import { type Warning, WarningList } from '../../warnings.js';
import { assertMarked, dropProgress } from '../progress.js';
import { selectedTables } from './catalog.js';
import { refreshSourceLogin } from './login.js';
import { replicationNames } from './names.js';
import { dropReplicationObjects, readNote } from './objects.js';
import { describeSyncState, isInSync, readSyncState, replicationEvent, type SyncState } from './status.js';
import { type ReplicationSteps, resolveSteps } from './steps.js';
import { pollUntil } from './wait.js';

export interface CutoverOptions {
  readonly steps?: Partial<ReplicationSteps>;
}

/** `0/16B3748` → bytes. */
export function parseLsn(lsn: string): bigint {
  const [high, low] = lsn.split('/');
  return (BigInt(`0x${high ?? '0'}`) << 32n) + BigInt(`0x${low ?? '0'}`);
}

export function formatLsn(value: bigint): string {
  return `${(value >> 32n).toString(16).toUpperCase()}/${(value & 0xffffffffn).toString(16).toUpperCase()}`;
}

/** `16MB` / `8kB` / plain bytes → bytes. */
function parseSize(text: string): number {
  const match = /^(\d+)\s*(kB|MB|GB)?$/.exec(text.trim());
  if (!match) return Number(text);
  const unit = { kB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 }[match[2] as 'kB' | 'MB' | 'GB'] ?? 1;
  return Number(match[1]) * unit;
}

/**
 * The end of the WAL written so far, from the insert position: every commit made before cutover (also with
 * `synchronous_commit = off`, whose commit records may not be written yet — `pg_current_wal_lsn()` would miss them)
 * ends at or before it. At a page boundary the insert position points past the next page's header, which no record
 * ends in: step back over the header so an idle source can be confirmed. Pure; exported for tests.
 */
export function endOfWrittenWal(insert: bigint, blockSize: number, segmentSize: number): bigint {
  if (insert % BigInt(segmentSize) === 40n) return insert - 40n; // long page header (segment start)
  if (insert % BigInt(blockSize) === 24n) return insert - 24n; // short page header
  return insert;
}

/** Waits until in sync and the slot confirmed `lsn`; TimeoutError (nothing dropped) at the deadline. */
async function waitForLsn(ctx: RunContext, request: Request, database: string, deadline: number): Promise<SyncState> {
  const names = replicationNames(database);
  let state: SyncState = {};
  const cutoverLsn = await withClient(ctx.source, ctx.source.database, async (client) => {
    const { rows } = await client.query<{ lsn: string; block: string; segment: string }>(
      `SELECT pg_catalog.pg_current_wal_insert_lsn()::text AS lsn, current_setting('wal_block_size') AS block,
              current_setting('wal_segment_size') AS segment`,
    );
    const row = rows[0]!;
    return formatLsn(endOfWrittenWal(parseLsn(row.lsn), Number(row.block), parseSize(row.segment)));
  });
  let confirmed = false;
  try {
    await pollUntil(
      async () => {
        state = await readSyncState(ctx, database);
        ctx.progress(replicationEvent(database, state));
        if (!state.subscription || !state.slot) {
          throw new PermanentError(`cannot cut over ${JSON.stringify(database)}: ${describeSyncState(state)}`);
        }
        if (!isInSync(state, request.maxLagBytes)) return false;
        confirmed = await withClient(ctx.source, ctx.source.database, async (client) => {
          const { rows } = await client.query<{ ok: boolean }>(
            'SELECT confirmed_flush_lsn >= $2::pg_lsn AS ok FROM pg_catalog.pg_replication_slots WHERE slot_name = $1',
            [names.slot, cutoverLsn],
          );
          return rows[0]?.ok === true;
        });
        return confirmed;
      },
      {
        timeoutMs: Math.max(0, deadline - Date.now()),
        intervalMs: 200,
        maxIntervalMs: 500,
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      },
    );
  } catch (err) {
    if (err instanceof TimeoutError) {
      throw new TimeoutError(
        `cutover of ${JSON.stringify(database)} timed out after ${request.timeoutSeconds} s waiting for the lag to reach ` +
          `<= ${request.maxLagBytes} B and the source position ${cutoverLsn} to be applied (${describeSyncState(state)}` +
          `${confirmed ? '' : ', not yet applied'}). Nothing was dropped: replication continues. Stop writes on the ` +
          'source and run cutover again, or raise --timeout / --max-lag-bytes.',
      );
    }
    throw err;
  }
  return state;
}

/**
 * Cuts one database over from replication to the target: waits until every write made before cutover began is
 * applied, re-copies large objects and UNLOGGED tables, verifies while the subscription still runs (a mismatch drops
 * nothing: replication continues and cutover can be run again), then re-checks the source's insert position just
 * before the drop, copies the sequences, and drops subscription, slot and publication (reverting REPLICA IDENTITY).
 *
 * @returns status `done` with per-table verification and the replication objects gone, or `failed` (error
 *   `PgMigrate.VerifyMismatch`) with everything still in place when the tables differ.
 * @throws TimeoutError when the lag does not drop within `request.timeoutSeconds` (nothing dropped).
 */
export async function cutoverDatabase(
  ctx: RunContext,
  request: Request,
  database: PlannedDatabase,
  options: CutoverOptions = {},
): Promise<DatabaseResult> {
  const started = Date.now();
  const steps = resolveSteps(options.steps);
  const db = database.name;
  const names = replicationNames(db);
  const deadline = started + request.timeoutSeconds * 1000;
  // The fallback's subscription must log in with the source password of now, or the last changes never arrive.
  const login = await refreshSourceLogin(ctx, request, db);
  if (login.problem) throw new PermanentError(`cannot cut over ${JSON.stringify(db)}: ${login.problem}`);
  ctx.progress({ kind: 'phase', database: db, phase: 'cutover', detail: 'waiting for the last changes' });
  const state = await waitForLsn(ctx, request, db, deadline);
  try {
    // The set-up's warnings (kept on the publication) and those of the migrate run this cutover continues.
    const warnings = new WarningList(ctx.logger, { database: db });
    warnings.addAll((database as { warnings?: readonly Warning[] }).warnings);
    warnings.addAll((await readNote(ctx, db, names)).warnings);
    ctx.progress({ kind: 'phase', database: db, phase: 'cutover', detail: 'large objects, unlogged tables' });
    await steps.copyLargeObjects(ctx, request, database);
    const unlogged = await withClient(ctx.source, db, async (client) =>
      (await selectedTables(client, request, db)).filter((t) => t.unlogged),
    );
    if (unlogged.length > 0) {
      const target = await connect(ctx.target, db);
      try {
        await assertMarked(target, db);
        await target.query(`TRUNCATE ${unlogged.map((t) => qualifiedName(t.schema, t.name)).join(', ')}`);
      } finally {
        await target.end().catch(() => {});
      }
      await steps.copyTables(ctx, request, database, { tables: unlogged });
    }
    ctx.progress({ kind: 'phase', database: db, phase: 'verify' });
    const verification = await steps.verifyTables(ctx, request, database);
    const bad = verification.filter((t) => !t.ok);
    const rows = verification.reduce((sum, t) => sum + t.targetRows, 0);
    const bytes = verification.reduce((sum, t) => sum + t.bytes, 0);
    const base = {
      name: db,
      method: 'replication' as const,
      tables: verification.length || (state.subscription?.tables ?? 0),
      rows,
      bytes,
      lagBytes: 0,
      verification,
      warnings: warnings.list(),
    };
    if (bad.length > 0) {
      return {
        ...base,
        status: 'failed',
        durationMs: Date.now() - started,
        message:
          `not cut over: ${bad.length} table(s) differ: ${bad.map((t) => t.name).join(', ')}. Nothing was dropped: ` +
          'replication continues. Make sure writes to the source have stopped, then run cutover again.',
        error: ERROR_NAMES.verifyMismatch,
      };
    }
    // Just before the drop: everything the source has written until now must be applied (writes that arrived
    // after the first wait, too), then the sequences are read last.
    ctx.progress({ kind: 'phase', database: db, phase: 'cutover', detail: 'last check of the source position' });
    await waitForLsn(ctx, request, db, deadline);
    ctx.progress({ kind: 'phase', database: db, phase: 'cutover', detail: 'sequences' });
    await steps.copySequences(ctx, request, database);
    const outcome = await dropReplicationObjects(ctx, db, names);
    if (outcome.problems.length > 0) {
      throw new PermanentError(`cutover could not remove replication objects: ${outcome.problems.join('; ')}`);
    }
    // The database is the user's now: pg-migrate's mark goes (a failed verification or drop keeps it for a re-run).
    await dropProgress(ctx.target, db);
    const reverted =
      outcome.reverted.length > 0 ? `; REPLICA IDENTITY reverted on ${outcome.reverted.length} table(s)` : '';
    return {
      ...base,
      status: 'done',
      durationMs: Date.now() - started,
      message: `cut over: ${verification.length} table(s) verified, replication objects dropped${reverted}`,
    };
  } catch (err) {
    throw classify(err, `cutover of ${JSON.stringify(db)}`);
  }
}
