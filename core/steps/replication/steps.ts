/**
 * The dump engine's steps the replication method builds on (schema, parallel COPY, sequences, large objects,
 * verification), behind one small interface so that the method's own logic does not depend on their option shapes.
 * {@link defaultSteps} wires the real ones; tests may replace single steps.
 */
import { databaseConcurrency, type TaskSessions, taskSessions } from '../../session-budget.js';
import type pg from 'pg';
import { readTargetContent } from '../../catalog.js';
import { withClient } from '../../connection.js';
import type { RunContext } from '../../context.js';
import type { PlannedDatabase } from '../../plan.js';
import type { TableResult } from '../../report.js';
import { type Request, tableFiltersFor } from '../../request.js';
import { copyTables, listTables, type TableRef } from '../copy.js';
import { locateTools } from '../dump.js';
import { copyBuildingIndexes, readEarlyIndexesAt } from '../indexes.js';
import { copyLargeObjects } from '../large-objects.js';
import { ensureTargetDatabase, restorePostData, restorePreData } from '../schema.js';
import { readSequences, writeSequences } from '../sequences.js';
import { compareTable, measureTable } from '../verify.js';
import type { WarningList } from '../../warnings.js';
import type { TableName } from './sql.js';

export interface CopySummary {
  readonly tables: number;
  readonly rows: number;
  readonly bytes: number;
}

export interface ReplicationSteps {
  /** Creates the target database when missing; what it cannot keep goes to `warnings`. */
  ensureTargetDatabase(
    ctx: RunContext,
    request: Request,
    database: PlannedDatabase,
    warnings: WarningList,
  ): Promise<void>;
  /** Restores the pre-data section (types, tables, functions, …) into the target database. */
  restorePreData(ctx: RunContext, request: Request, database: PlannedDatabase, warnings: WarningList): Promise<void>;
  /** Restores the post-data section (indexes, constraints, triggers), then owners and grants as far as it can. */
  restorePostData(ctx: RunContext, request: Request, database: PlannedDatabase, warnings: WarningList): Promise<void>;
  /**
   * Copies table data source → target with the parallel COPY engine: every selected table, or only `tables`;
   * under `snapshot` (an exported snapshot id) when given. The target tables are empty.
   */
  copyTables(
    ctx: RunContext,
    request: Request,
    database: PlannedDatabase,
    options: { readonly snapshot?: string; readonly tables?: readonly TableName[] },
  ): Promise<CopySummary>;
  /** Sets every target sequence to the source's value. */
  copySequences(ctx: RunContext, request: Request, database: PlannedDatabase): Promise<void>;
  /** Copies large objects (replacing those on the target). */
  copyLargeObjects(ctx: RunContext, request: Request, database: PlannedDatabase): Promise<void>;
  /** Per-table row counts (and checksums when the request asks) on both sides. */
  verifyTables(ctx: RunContext, request: Request, database: PlannedDatabase): Promise<TableResult[]>;
}

/** Whether the target database holds user tables (core/catalog.ts: extension members and `_pg_migrate` left out). */
async function hasUserTables(ctx: RunContext, database: string): Promise<boolean> {
  return withClient(ctx.target, database, async (client) => (await readTargetContent(client)).tables > 0);
}

/** Runs `fn` with a source and a target session on `database`. */
async function withBoth<T>(
  ctx: RunContext,
  database: string,
  fn: (source: pg.Client, target: pg.Client) => Promise<T>,
): Promise<T> {
  return withClient(ctx.source, database, (source) => withClient(ctx.target, database, (target) => fn(source, target)));
}

/**
 * The task's share of the run's session budget (core/session-budget.ts). On the source the slot's replication
 * connection stands where the dump method's snapshot session does; the subscription's own walsender comes later.
 */
function sharesOf(request: Request): TaskSessions {
  return taskSessions(request, databaseConcurrency(request));
}

/** The dump engine's steps (core/steps/schema.ts, copy.ts, sequences.ts, large-objects.ts, verify.ts). */
export const defaultSteps: ReplicationSteps = {
  async ensureTargetDatabase(ctx, _request, database, warnings) {
    // The schema comes through pg_dump: a source no pg_dump here can dump is refused before the target is touched.
    await locateTools(ctx);
    await ensureTargetDatabase(ctx, database.name, warnings);
  },
  async restorePreData(ctx, request, database, warnings) {
    // pre-data restores in one transaction: tables present mean an earlier attempt restored it completely.
    if (await hasUserTables(ctx, database.name)) {
      ctx.logger.info('pre-data already restored by an earlier attempt', { database: database.name });
      return;
    }
    await restorePreData(
      ctx,
      database.name,
      { jobs: sharesOf(request).restoreJobs, tools: await locateTools(ctx) },
      warnings,
    );
  },
  async restorePostData(ctx, request, database, warnings) {
    await restorePostData(
      ctx,
      database.name,
      { jobs: sharesOf(request).restoreJobs, tools: await locateTools(ctx), resume: true },
      warnings,
    );
  },
  async copyTables(ctx, request, database, options) {
    const filters = tableFiltersFor(request, database.name);
    let tables: TableRef[] | undefined;
    if (options.tables) {
      const wanted = new Set(options.tables.map((t) => JSON.stringify([t.schema, t.name])));
      tables = (await listTables(ctx, database.name)).filter((t) => wanted.has(JSON.stringify([t.schema, t.name])));
    }
    // No resume: a re-run reads under a new slot snapshot, so every table is copied again (set-up empties them).
    const sessions = sharesOf(request);
    const copyOptions = {
      database: database.name,
      jobs: sessions.copyJobs,
      indexJobs: sessions.indexJobs,
      resume: false,
      ...(options.snapshot ? { snapshot: options.snapshot } : {}),
      ...(tables ? { tables } : filters),
    };
    // Under the slot's snapshot (fast start), each finished table's indexes and keys are built while the others
    // still copy, as the dump method does; post-data then leaves out what exists.
    const result = options.snapshot
      ? await copyBuildingIndexes(
          ctx,
          copyOptions,
          sessions.indexJobs > 0
            ? await readEarlyIndexesAt(ctx, database.name, options.snapshot)
            : new Map<string, string[]>(),
        )
      : await copyTables(ctx, copyOptions);
    return { tables: result.tables.length, rows: result.rows, bytes: result.bytes };
  },
  async copySequences(ctx, _request, database) {
    await withBoth(ctx, database.name, async (source, target) => writeSequences(target, await readSequences(source)));
  },
  async copyLargeObjects(ctx, _request, database) {
    await withBoth(ctx, database.name, async (source, target) => {
      const { rows } = await source.query<{ oid: string }>(
        'SELECT oid::text AS oid FROM pg_catalog.pg_largeobject_metadata',
      );
      // Large objects unlinked on the source since set-up go on the target too.
      await target.query(
        'SELECT pg_catalog.lo_unlink(oid) FROM pg_catalog.pg_largeobject_metadata WHERE oid <> ALL ($1::oid[])',
        [rows.map((r) => r.oid)],
      );
      await copyLargeObjects(source, target, ctx.signal);
    });
  },
  async verifyTables(ctx, request, database) {
    const tables = await listTables(ctx, database.name, tableFiltersFor(request, database.name));
    return withBoth(ctx, database.name, async (source, target) => {
      await source.query('SET row_security = off');
      await target.query('SET row_security = off');
      const out: TableResult[] = [];
      for (const table of tables) {
        const s = await measureTable(source, table, request.checksums);
        const d = await measureTable(target, table, request.checksums);
        out.push(compareTable(table, s, d, { bytes: table.bytes, durationMs: 0 }));
      }
      return out.sort((a, b) => a.name.localeCompare(b.name));
    });
  },
};

/** The default steps with some replaced. */
export function resolveSteps(overrides: Partial<ReplicationSteps> = {}): ReplicationSteps {
  return { ...defaultSteps, ...overrides };
}
