/**
 * The dump method for one database, in the fastest safe order (docs/ARCHITECTURE.md, DESIGN.md "Data path"):
 * ensure the target database → pre-data → parallel COPY on one snapshot → post-data (`pg_restore -j`) → sequences →
 * large objects → ANALYZE → verify. Resumable: an interrupted run leaves `_pg_migrate` progress in the target
 * database and the next run continues from it (see core/steps/progress.ts for the consistency trade-off).
 */
import { join } from 'node:path';
import { readTargetContent } from '../catalog.js';
import { connect, serverMajor, withClient } from '../connection.js';
import type { RunContext } from '../context.js';
import { AbortedError, classify, ERROR_NAMES, PermanentError } from '../errors.js';
import type { PlannedDatabase } from '../plan.js';
import { findPgTools } from '../pgtools-locate.js';
import { databaseConcurrency, taskSessions } from '../session-budget.js';
import type { PgTools } from '../pgtools.js';
import type { DatabaseResult, TableResult } from '../report.js';
import { type Request, tableFiltersFor } from '../request.js';
import { analyzeTarget } from './analyze.js';
import { copyBuildingIndexes, readEarlyIndexesAt } from './indexes.js';
import { copyLargeObjects } from './large-objects.js';
import { allLimited, forEachLimit } from './pool.js';
import { WarningList } from '../warnings.js';
import { completedSteps, dropProgress, ensureProgress, markStep, saveWarnings, savedWarnings } from './progress.js';
import {
  dumpSchema,
  ensureTargetDatabase,
  handOverDatabase,
  reconcileOwners,
  restorePostData,
  restorePreData,
} from './schema.js';
import { readSequences, writeSequences } from './sequences.js';
import { exportSnapshot, importSnapshot } from './snapshot.js';
import { openPrivateDir } from './tempdir.js';
import { compareTable, measureTable } from './verify.js';

async function majorOf(spec: RunContext['source']): Promise<number> {
  return withClient(spec, spec.database, serverMajor);
}

/**
 * Finds pg_dump / pg_restore able to dump the source (major ≥ the source's), of the target's major where installed
 * (core/pgtools-locate.ts `choosePgTools`: pg_restore then writes nothing the target rejects), and logs the choice.
 */
export async function locateTools(ctx: RunContext): Promise<PgTools> {
  const [sourceMajor, targetMajor] = await Promise.all([majorOf(ctx.source), majorOf(ctx.target)]);
  const tools = await findPgTools(sourceMajor, {
    targetMajor,
    ...(ctx.pgToolDirs ? { distribution: ctx.pgToolDirs } : {}),
  });
  if (!tools) {
    throw new PermanentError(
      `no pg_dump/pg_restore of major ${sourceMajor} or newer found (PG_MIGRATE_PG_BIN, /usr/lib/postgresql/<N>/bin, PATH)`,
    );
  }
  ctx.logger.info('client tools chosen', {
    dir: tools.dir,
    version: tools.version,
    sourceMajor,
    targetMajor,
    ...(tools.major !== targetMajor ? { note: `no client tools of the target's major ${targetMajor} found` } : {}),
  });
  return tools;
}

/** What the report says of the tools a database was migrated with, e.g. `16.4 (/usr/lib/postgresql/16/bin)`. */
export function toolsUsed(tools: PgTools): string {
  return `${tools.version} (${tools.dir})`;
}

/**
 * Whether the target database holds user objects besides pg-migrate's own progress record (core/catalog.ts: the
 * definition the target-databases check uses, extension members left out).
 */
async function hasUserObjects(ctx: RunContext, database: string): Promise<boolean> {
  return withClient(ctx.target, database, async (client) => (await readTargetContent(client)).objects > 0);
}

/** Whether the source database holds no user objects and no large objects (core/catalog.ts, as for a target). */
async function sourceIsEmpty(ctx: RunContext, database: string): Promise<boolean> {
  return withClient(ctx.source, database, async (client) => {
    if ((await readTargetContent(client)).objects > 0) return false;
    const { rows } = await client.query('SELECT 1 FROM pg_catalog.pg_largeobject_metadata LIMIT 1');
    return rows.length === 0;
  });
}

/**
 * Migrates one database by dump and parallel COPY. Returns the database's result, verification included; a
 * verification mismatch gives status `failed` with error `PgMigrate.VerifyMismatch`. Other failures throw a
 * classified {@link MigrationError}.
 *
 * @example
 * ```ts
 * const result = await migrateByDump(ctx, request, { name: 'shop', method: 'dump', reasons: [], replicaIdentityFull: [], targetExists: false });
 * ```
 */
export async function migrateByDump(
  ctx: RunContext,
  request: Request,
  database: PlannedDatabase,
): Promise<DatabaseResult> {
  const started = Date.now();
  const name = database.name;
  // The run's session budget, this task's share of it, split between the steps' parallel parts.
  const sessions = taskSessions(request, databaseConcurrency(request));
  const phase = (p: string, detail?: string) =>
    ctx.progress({ kind: 'phase', database: name, phase: p, ...(detail ? { detail } : {}) });
  const warnings = new WarningList(ctx.logger, { database: name });
  try {
    const tools = await locateTools(ctx);
    ctx.logger.info('session budget', { database: name, budget: request.sessionBudget, ...sessions });
    phase('database');
    await ensureTargetDatabase(ctx, name, warnings);
    // What both sides hold, read at once (each read is its own session: sessions opened one after the other cost a
    // round of authentication each), the target's reads within the task's share of the session budget.
    const [empty, [steps, saved, progressExists, userObjects]] = await Promise.all([
      sourceIsEmpty(ctx, name),
      allLimited(sessions.share, [
        () => completedSteps(ctx.target, name),
        () => savedWarnings(ctx.target, name),
        () =>
          withClient(ctx.target, name, async (c) => {
            const { rows } = await c.query("SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = '_pg_migrate'");
            return rows.length > 0;
          }),
        () => hasUserObjects(ctx, name),
      ] as const),
    ]);
    // A source database with nothing in it (the `postgres` of a fresh server): nothing is written, not even the
    // progress record — so a target database the user may not create objects in (e.g. the provider's `postgres`)
    // is fine, as the target-databases check predicts. A database this run created still gets its owner.
    if (empty) {
      ctx.logger.info('the source database holds no user objects: nothing to migrate', { database: name });
      await handOverDatabase(ctx, name, warnings);
      return {
        name,
        method: 'dump',
        status: 'done',
        tables: 0,
        rows: 0,
        bytes: 0,
        durationMs: Date.now() - started,
        lagBytes: 0,
        message: 'nothing to migrate: the source database holds no user objects',
        verification: [],
        warnings: warnings.list(),
        pgTools: toolsUsed(tools),
      };
    }
    warnings.addAll(saved);
    if (steps.size > 0) ctx.logger.info('resuming an interrupted migration', { database: name, steps: [...steps] });
    if (!steps.has('pre-data') && userObjects) {
      if (!progressExists) {
        throw new PermanentError(
          `target database ${JSON.stringify(name)} already holds objects; migrate into an empty or new database`,
        );
      }
      // pre-data is restored in one transaction and marked right after: objects after a started pre-data mean
      // it committed just before the interruption.
      if (steps.has('pre-data-started')) steps.add('pre-data');
    }
    // The progress record on the target and the snapshot on the source, at once.
    const [recorded, exported] = await Promise.allSettled([
      (async () => {
        await ensureProgress(ctx.target, name);
        await saveWarnings(ctx.target, name, warnings.list());
      })(),
      exportSnapshot(ctx.source, name),
    ]);
    if (recorded.status === 'rejected') {
      if (exported.status === 'fulfilled') await exported.value.release();
      throw recorded.reason;
    }
    if (exported.status === 'rejected') throw exported.reason;
    const snapshot = exported.value;
    // Both schema sections from one pg_dump under the snapshot (one catalog read of the source instead of two).
    const schemaDir = await openPrivateDir();
    const archive = join(schemaDir.path, 'schema.dump');
    try {
      if (!steps.has('pre-data') || !steps.has('post-data'))
        await dumpSchema(ctx, name, { tools, snapshot: snapshot.id }, archive);
      // The statements of the indexes built during the copy are read from the source while pre-data restores.
      // (None when the session share leaves no room for index builders.)
      const early =
        steps.has('copy') || sessions.indexJobs === 0
          ? Promise.resolve(new Map<string, string[]>())
          : readEarlyIndexesAt(ctx, name, snapshot.id);
      early.catch(() => {}); // awaited below; a failure of the restore first must not leave it unhandled
      if (!steps.has('pre-data')) {
        await markStep(ctx.target, name, 'pre-data-started');
        await restorePreData(
          ctx,
          name,
          { jobs: sessions.restoreJobs, tools, snapshot: snapshot.id, archive },
          warnings,
        );
        await saveWarnings(ctx.target, name, warnings.list());
        await markStep(ctx.target, name, 'pre-data');
      }
      phase('copy');
      // Indexes and keys of finished tables are built while the other tables copy (post-data skips them).
      const copy = await copyBuildingIndexes(
        ctx,
        {
          database: name,
          jobs: sessions.copyJobs,
          indexJobs: sessions.indexJobs,
          snapshot: snapshot.id,
          ...tableFiltersFor(request, name),
        },
        await early,
      );
      await markStep(ctx.target, name, 'copy');

      phase('post-data');
      const postData = (async () => {
        if (!steps.has('post-data')) {
          await markStep(ctx.target, name, 'post-data-started');
          await restorePostData(
            ctx,
            name,
            { jobs: sessions.restoreJobs, tools, snapshot: snapshot.id, archive, resume: true },
            warnings,
          );
          await saveWarnings(ctx.target, name, warnings.list());
          await markStep(ctx.target, name, 'post-data');
        } else {
          await reconcileOwners(ctx, name, warnings);
        }
      })();
      // Sequences and large objects while post-data restores: post-data creates neither, nor anything they need.
      const data = (async () => {
        phase('sequences');
        const source = await connect(ctx.source, name, { role: 'reader' });
        try {
          const target = await connect(ctx.target, name);
          try {
            await importSnapshot(source, snapshot.id);
            await writeSequences(target, await readSequences(source));
            phase('large-objects');
            return await copyLargeObjects(source, target, ctx.signal);
          } finally {
            await target.end().catch(() => {});
          }
        } finally {
          await source.end().catch(() => {});
        }
      })();
      const [restored, copied] = await Promise.allSettled([postData, data]);
      if (restored.status === 'rejected') throw restored.reason;
      if (copied.status === 'rejected') throw copied.reason;
      const largeObjects = copied.value;

      phase('analyze');
      await analyzeTarget(ctx, name, sessions.analyzeJobs);
      await handOverDatabase(ctx, name, warnings);

      phase('verify');
      const verification = await verifyTables(
        ctx,
        name,
        snapshot.id,
        copy.tables,
        request.checksums,
        sessions.verifyJobs,
      );
      const mismatches = verification.filter((t) => !t.ok);
      const rows = verification.reduce((s, t) => s + t.sourceRows, 0);
      const summary = `${copy.tables.length} tables, ${rows} rows, ${largeObjects.count} large objects${
        copy.tables.some((t) => t.resumed)
          ? `; resumed (${copy.tables.filter((t) => t.resumed).length} tables copied by an earlier run)`
          : ''
      }`;
      if (mismatches.length > 0) {
        const list = mismatches
          .slice(0, 10)
          .map(
            (t) =>
              `${t.name} (source ${t.sourceRows} rows, target ${t.targetRows}${t.sourceChecksum !== t.targetChecksum ? ', checksums differ' : ''})`,
          )
          .join('; ');
        ctx.logger.error('verification failed', { database: name, mismatches: mismatches.length });
        return {
          name,
          method: 'dump',
          status: 'failed',
          tables: copy.tables.length,
          rows,
          bytes: copy.bytes,
          durationMs: Date.now() - started,
          lagBytes: 0,
          message: `verification failed for ${mismatches.length} table(s): ${list}`,
          verification,
          error: ERROR_NAMES.verifyMismatch,
          warnings: warnings.list(),
          pgTools: toolsUsed(tools),
        };
      }
      await dropProgress(ctx.target, name);
      ctx.logger.info('database migrated', { database: name, tables: copy.tables.length, rows });
      return {
        name,
        method: 'dump',
        status: 'done',
        tables: copy.tables.length,
        rows,
        bytes: copy.bytes,
        durationMs: Date.now() - started,
        lagBytes: 0,
        message: summary,
        verification,
        warnings: warnings.list(),
        pgTools: toolsUsed(tools),
      };
    } finally {
      await snapshot.release();
      await schemaDir.remove();
    }
  } catch (err) {
    if (ctx.signal?.aborted) throw new AbortedError(`migration of ${JSON.stringify(name)} stopped on request`);
    throw classify(err, `migrating ${JSON.stringify(name)}`);
  }
}

/**
 * Verification under the copy's snapshot. A table copied by this run is proven by the servers' own counts: the
 * rows the source's COPY sent under the snapshot and the rows the target's COPY stored in the same, committed
 * transaction — exact, and free. With `checksums`, or for a table an earlier run copied (its source rows may have
 * moved since), both sides are read: counts (and checksums) of the source in the snapshot and of the target.
 */
async function verifyTables(
  ctx: RunContext,
  database: string,
  snapshot: string,
  tables: readonly {
    table: { schema: string; name: string };
    rows: number;
    sourceRows?: number;
    bytes: number;
    durationMs: number;
  }[],
  checksums: boolean,
  jobs: number,
): Promise<TableResult[]> {
  const results: TableResult[] = [];
  const measured = tables.filter((t) => checksums || t.sourceRows === undefined);
  for (const t of tables) {
    if (checksums || t.sourceRows === undefined) continue;
    results.push(
      compareTable(t.table, { rows: t.sourceRows }, { rows: t.rows }, { bytes: t.bytes, durationMs: t.durationMs }),
    );
  }
  if (measured.length === 0) return results.sort((a, b) => a.name.localeCompare(b.name));
  const pairs = await Promise.all(
    Array.from({ length: Math.max(1, Math.min(jobs, measured.length)) }, async () => {
      const source = await connect(ctx.source, database, { role: 'reader' });
      await importSnapshot(source, snapshot);
      await source.query('SET LOCAL row_security = off');
      const target = await connect(ctx.target, database);
      await target.query('SET row_security = off');
      return { source, target };
    }),
  );
  try {
    await forEachLimit(measured, pairs.length, async (t, worker) => {
      const pair = pairs[worker]!;
      const [s, d] = await Promise.all([
        measureTable(pair.source, t.table, checksums),
        measureTable(pair.target, t.table, checksums),
      ]);
      results.push(compareTable(t.table, s, d, { bytes: t.bytes, durationMs: t.durationMs }));
    });
    return results.sort((a, b) => a.name.localeCompare(b.name));
  } finally {
    await Promise.all(pairs.flatMap((p) => [p.source.end().catch(() => {}), p.target.end().catch(() => {})]));
  }
}
