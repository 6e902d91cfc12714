/**
 * The data copy: parallel `COPY … TO STDOUT` → `COPY … FROM STDIN` streams from source to target
 * (copy-stream.ts: the source's CopyData messages forwarded to the target as they arrive), `jobs` reader/writer pairs, every reader on one exported snapshot. Largest tables first; tables
 * above `splitBytes` are split into ctid page ranges (each visible row version has exactly one ctid under the
 * snapshot, so every row is copied exactly once). Binary format when both majors are equal and no column holds a
 * type whose binary form carries a database-specific OID (user-defined composites, arrays of user types, extension
 * types); text otherwise. The sockets are piped with backpressure: memory stays bounded whatever the table size.
 * Small tables are copied in groups: many COPYs on one session pair, one target transaction per group, so that a
 * database of thousands of small tables does not pay a commit and several round trips per table.
 *
 * With `resume` (the default), each chunk's COPY commits in the same transaction that records it in
 * `_pg_migrate.copy_progress`: a re-run skips completed tables and recopies partially copied ones from empty.
 */
import type pg from 'pg';
import { filterTables, partitionRootSql, type TableFilters, type TableName, USER_RELATION_SQL } from '../catalog.js';
import { connect, qualifiedName, quoteIdent, serverMajor } from '../connection.js';
import type { RunContext } from '../context.js';
import { AbortedError, classify } from '../errors.js';
import { pipeCopy } from './copy-stream.js';
import { copiedChunks, ensureProgress } from './progress.js';
import { exportSnapshot, importSnapshot } from './snapshot.js';

export type TableKind = 'regular' | 'partition' | 'unlogged';

/** A table whose data is copied. */
export interface TableRef {
  readonly schema: string;
  readonly name: string;
  /** pg_table_size on the source. */
  readonly bytes: number;
  /** reltuples (an estimate; -1 or 0 when never analyzed). */
  readonly rowsEstimate: number;
  readonly kind: TableKind;
  readonly hasPk: boolean;
  /** The columns COPY reads and writes (no dropped or generated columns), in order. */
  readonly columns: readonly string[];
  /** False when a column's binary form is database-specific (text COPY is used then). */
  readonly binarySafe: boolean;
  /** For a partition: its top-level partitioned table (filters naming the root apply to it). */
  readonly root?: TableName;
}

export type { TableFilters } from '../catalog.js';
/** Applies `withTables` / `skipTables`: core/catalog.ts `filterTables`, the one definition checks and steps share. */
export { filterTables };

/** `schema.table` as people read it (and as the report names tables). */
export function tableName(t: Pick<TableRef, 'schema' | 'name'>): string {
  const part = (s: string) => (/^[a-z_][a-z0-9_$]*$/.test(s) ? s : quoteIdent(s));
  return `${part(t.schema)}.${part(t.name)}`;
}

/**
 * The source tables of `database` that hold data to copy: ordinary tables, leaf partitions and unlogged tables
 * (not partitioned parents, views, foreign tables, or extension-owned tables), largest first.
 */
export async function listTables(ctx: RunContext, database: string, filters: TableFilters = {}): Promise<TableRef[]> {
  const client = await connect(ctx.source, database);
  try {
    return filterTables(await queryTables(client), filters);
  } catch (err) {
    throw classify(err, `listing tables of ${JSON.stringify(database)}`);
  } finally {
    await client.end().catch(() => {});
  }
}

async function queryTables(client: pg.Client): Promise<TableRef[]> {
  // Generated columns (12+) are computed on the target, never copied.
  const notGenerated = (await serverMajor(client)) >= 12 ? " AND a.attgenerated = ''" : '';
  const { rows } = await client.query<{
    schema: string;
    name: string;
    bytes: string;
    rows: number;
    relpersistence: string;
    relispartition: boolean;
    haspk: boolean;
    columns: string[] | null;
    unsafe: boolean;
    root_schema: string | null;
    root_name: string | null;
  }>(`
    SELECT n.nspname AS schema, c.relname AS name, pg_catalog.pg_table_size(c.oid) AS bytes,
           c.reltuples::float8 AS rows, c.relpersistence, c.relispartition,
           EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'p') AS haspk,
           (SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_catalog.pg_attribute a
             WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped${notGenerated}) AS columns,
           EXISTS (
             SELECT 1 FROM pg_catalog.pg_attribute a
               JOIN pg_catalog.pg_type t0 ON t0.oid = a.atttypid
               JOIN pg_catalog.pg_type t ON t.oid = CASE WHEN t0.typtype = 'd' THEN t0.typbasetype ELSE t0.oid END
               LEFT JOIN pg_catalog.pg_type e ON e.oid = t.typelem AND t.typcategory = 'A'
              WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                AND (t.typtype IN ('c', 'd') OR (t.oid >= 16384 AND t.typtype <> 'e')
                     OR (e.oid IS NOT NULL AND (e.oid >= 16384 OR e.typtype IN ('c', 'd', 'e', 'r', 'm'))))
           ) AS unsafe,
           rn.nspname AS root_schema, r.relname AS root_name
      FROM pg_catalog.pg_class c
      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      LEFT JOIN pg_catalog.pg_class r
        ON c.relispartition AND r.oid = ${partitionRootSql('c.oid')}
      LEFT JOIN pg_catalog.pg_namespace rn ON rn.oid = r.relnamespace
     WHERE c.relkind = 'r' AND c.relpersistence IN ('p', 'u') AND ${USER_RELATION_SQL}
     ORDER BY pg_catalog.pg_table_size(c.oid) DESC, n.nspname, c.relname`);
  return rows.map((r) => ({
    schema: r.schema,
    name: r.name,
    bytes: Number(r.bytes),
    rowsEstimate: r.rows,
    kind: r.relpersistence === 'u' ? 'unlogged' : r.relispartition ? 'partition' : 'regular',
    hasPk: r.haspk,
    columns: r.columns ?? [],
    binarySafe: !r.unsafe,
    ...(r.root_schema !== null && r.root_name !== null ? { root: { schema: r.root_schema, name: r.root_name } } : {}),
  }));
}

/** One table's copy outcome. */
export interface TableCopyResult {
  readonly table: TableRef;
  /** Rows the target stored (COPY FROM's count) — or recorded by an earlier run when `resumed`. */
  readonly rows: number;
  /** Rows the source sent under the snapshot (COPY TO's count); absent when `resumed`. */
  readonly sourceRows?: number;
  readonly bytes: number;
  readonly durationMs: number;
  readonly format: 'binary' | 'text';
  readonly chunks: number;
  /** True when an earlier, interrupted run had already copied the table completely. */
  readonly resumed: boolean;
}

export interface CopyResult {
  readonly tables: readonly TableCopyResult[];
  readonly rows: number;
  readonly bytes: number;
  readonly durationMs: number;
  /** The snapshot the readers used. */
  readonly snapshot: string;
}

export interface CopyOptions extends TableFilters {
  readonly database: string;
  /** Parallel reader/writer pairs. */
  readonly jobs: number;
  /** An already exported snapshot id to read under; when absent one is exported for the copy. */
  readonly snapshot?: string;
  /** The tables to copy (default: {@link listTables} with the filters). */
  readonly tables?: readonly TableRef[];
  /** Called once per table when all its chunks have committed. */
  readonly onTableDone?: (result: TableCopyResult) => void;
  /** Tables larger than this are split into ctid ranges across workers. @default env PG_MIGRATE_COPY_SPLIT_BYTES, else 256 MiB */
  readonly splitBytes?: number;
  /** Record progress in `_pg_migrate.copy_progress` and skip what an earlier run completed. @default true */
  readonly resume?: boolean;
  /** `auto`: binary where safe (equal majors, safe column types). @default 'auto' */
  readonly format?: 'auto' | 'binary' | 'text';
}

/** A unit of work: one table, or one ctid page range of a split table. */
export interface CopyTask {
  readonly table: TableRef;
  readonly chunk: number;
  readonly chunks: number;
  /** [fromPage, toPage) — toPage undefined: to the end. */
  readonly pages?: readonly [number, number | undefined];
  readonly bytes: number;
}

/** Splits tables into tasks, largest first. Pure; exported for tests. */
export function planTasks(
  tables: readonly TableRef[],
  options: { splitBytes: number; jobs: number; blockSize?: number; splittable: boolean },
): CopyTask[] {
  const tasks: CopyTask[] = [];
  const blockSize = options.blockSize ?? 8192;
  for (const table of tables) {
    if (!options.splittable || table.bytes <= options.splitBytes || options.jobs < 2) {
      tasks.push({ table, chunk: 0, chunks: 1, bytes: table.bytes });
      continue;
    }
    // Chunks of at most half the threshold, and at least two per worker: the tail of the copy stays balanced.
    const chunks = Math.min(64, Math.max(options.jobs * 2, Math.ceil(table.bytes / (options.splitBytes / 2))));
    const pages = Math.ceil(table.bytes / blockSize);
    const per = Math.ceil(pages / chunks);
    for (let i = 0; i < chunks; i++) {
      const start = i * per;
      tasks.push({
        table,
        chunk: i,
        chunks,
        pages: [start, i === chunks - 1 ? undefined : start + per],
        bytes: Math.floor(table.bytes / chunks),
      });
    }
  }
  return tasks.sort((a, b) => b.bytes - a.bytes);
}

/** What a worker does at a time: one task, or a group of small whole tables copied in one target transaction. */
export type CopyUnit = { readonly tasks: readonly CopyTask[]; readonly group: boolean };

/**
 * Groups whole-table tasks smaller than `smallBytes` into units of at most `maxTables` tables and `maxBytes` bytes;
 * other tasks stay units of their own. Order is kept (largest first). Pure; exported for tests.
 */
export function groupTasks(
  tasks: readonly CopyTask[],
  options: { smallBytes: number; maxBytes: number; maxTables: number },
): CopyUnit[] {
  const units: CopyUnit[] = [];
  let open: CopyTask[] = [];
  let openBytes = 0;
  const close = () => {
    if (open.length > 0) units.push({ tasks: open, group: true });
    open = [];
    openBytes = 0;
  };
  for (const task of tasks) {
    if (task.chunks !== 1 || task.bytes >= options.smallBytes) {
      units.push({ tasks: [task], group: false });
      continue;
    }
    if (open.length >= options.maxTables || (open.length > 0 && openBytes + task.bytes > options.maxBytes)) close();
    open.push(task);
    openBytes += task.bytes;
  }
  close();
  return units;
}

/** The SQL of one task, for source and target. Pure; exported for tests. */
export function copySql(task: CopyTask, format: 'binary' | 'text', freeze: boolean): { out: string; in: string } {
  const { table } = task;
  const qn = qualifiedName(table.schema, table.name);
  const cols = table.columns.map(quoteIdent).join(', ');
  const colList = table.columns.length > 0 ? ` (${cols})` : '';
  const opts = `(FORMAT ${format}${freeze ? ', FREEZE' : ''})`;
  let out: string;
  if (task.pages) {
    const [from, to] = task.pages;
    const where = [`ctid >= '(${from},0)'::pg_catalog.tid`];
    if (to !== undefined) where.push(`ctid < '(${to},0)'::pg_catalog.tid`);
    out = `COPY (SELECT ${table.columns.length > 0 ? cols : ''} FROM ONLY ${qn} WHERE ${where.join(' AND ')}) TO STDOUT WITH (FORMAT ${format})`;
  } else {
    out = `COPY ${qn}${colList} TO STDOUT WITH (FORMAT ${format})`;
  }
  return { out, in: `COPY ${qn}${colList} FROM STDIN WITH ${opts}` };
}

/** Tables below this size are copied in groups (see {@link groupTasks}). */
const SMALL_TABLE_BYTES = 1024 * 1024;
const GROUP_MAX_BYTES = 16 * 1024 * 1024;
const GROUP_MAX_TABLES = 100;

interface Worker {
  readonly source: pg.Client;
  readonly target: pg.Client;
}

/**
 * Copies the tables' data from source to target. See the module comment for the guarantees.
 *
 * @example
 * ```ts
 * const result = await copyTables(ctx, { database: 'shop', jobs: 4 });
 * ```
 */
export async function copyTables(ctx: RunContext, options: CopyOptions): Promise<CopyResult> {
  const started = Date.now();
  const { database } = options;
  const resume = options.resume ?? true;
  const jobs = Math.max(1, options.jobs);
  let exported: Awaited<ReturnType<typeof exportSnapshot>> | undefined;
  const workers: Worker[] = [];
  try {
    const snapshot = options.snapshot ?? (exported = await exportSnapshot(ctx.source, database)).id;
    // Open and attach every reader before the exporter may go away (all sessions at once: each costs a round of
    // authentication, ~30 ms here).
    const opened = await Promise.allSettled(
      Array.from({ length: jobs }, async (_, i) => {
        const applicationName = `pg-migrate copy ${i + 1}`;
        const [source, target] = await Promise.allSettled([
          connect(ctx.source, database, { applicationName, role: 'reader' }),
          connect(ctx.target, database, { applicationName, role: 'writer' }),
        ]);
        if (source.status === 'fulfilled' && target.status === 'fulfilled') {
          workers.push({ source: source.value, target: target.value });
          return;
        }
        if (source.status === 'fulfilled') await source.value.end().catch(() => {});
        if (target.status === 'fulfilled') await target.value.end().catch(() => {});
        throw source.status === 'rejected' ? source.reason : (target as PromiseRejectedResult).reason;
      }),
    );
    const refused = opened.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (refused) throw refused.reason;
    await Promise.all(
      workers.map(async ({ source, target }) => {
        await importSnapshot(source, snapshot);
        await source.query('SET LOCAL row_security = off'); // all rows, or an error — never silently fewer
        await target.query('SET synchronous_commit = off');
      }),
    );
    const first = workers[0]!;
    const [sourceMajor, targetMajor] = await Promise.all([serverMajor(first.source), serverMajor(first.target)]);
    const tables = options.tables ?? filterTables(await queryTables(first.source), options);
    await exported?.release();
    exported = undefined;

    // Resume: skip tables an earlier run completed; recopy partially copied ones from empty.
    const done = new Map<string, TableCopyResult>();
    if (resume) {
      await ensureProgress(ctx.target, database);
      const chunks = await copiedChunks(first.target);
      const byTable = new Map<string, typeof chunks>();
      for (const c of chunks) {
        const key = JSON.stringify([c.schema, c.table]);
        byTable.set(key, [...(byTable.get(key) ?? []), c]);
      }
      for (const table of tables) {
        const key = JSON.stringify([table.schema, table.name]);
        const recorded = byTable.get(key);
        if (!recorded) continue;
        if (recorded.length === recorded[0]!.chunks) {
          done.set(key, {
            table,
            rows: recorded.reduce((s, c) => s + c.rows, 0),
            bytes: recorded.reduce((s, c) => s + c.bytes, 0),
            durationMs: 0,
            format: 'text',
            chunks: recorded.length,
            resumed: true,
          });
        } else {
          ctx.logger.info('recopying a partially copied table', { database, table: tableName(table) });
          await first.target.query('BEGIN');
          await first.target.query(`TRUNCATE ONLY ${qualifiedName(table.schema, table.name)}`);
          await first.target.query('DELETE FROM _pg_migrate.copy_progress WHERE schema_name = $1 AND table_name = $2', [
            table.schema,
            table.name,
          ]);
          await first.target.query('COMMIT');
        }
      }
    }
    ctx.progress({ kind: 'tables', database, done: done.size, total: tables.length });
    const todo = tables.filter((t) => !done.has(JSON.stringify([t.schema, t.name])));
    const tasks = planTasks(todo, {
      splitBytes: options.splitBytes ?? (Number(process.env.PG_MIGRATE_COPY_SPLIT_BYTES) || 256 * 1024 * 1024),
      jobs,
      splittable: sourceMajor >= 14, // TID range scans; older servers would scan the whole table per chunk
    });
    const formatOf = (t: TableRef): 'binary' | 'text' =>
      options.format === 'text' || options.format === 'binary'
        ? options.format
        : sourceMajor === targetMajor && t.binarySafe
          ? 'binary'
          : 'text';

    const units = groupTasks(tasks, {
      smallBytes: SMALL_TABLE_BYTES,
      maxBytes: GROUP_MAX_BYTES,
      maxTables: GROUP_MAX_TABLES,
    });

    const results = new Map<
      string,
      { rows: number; sourceRows: number; bytes: number; chunks: number; started: number }
    >();
    for (const r of done.values()) options.onTableDone?.(r);
    const finished: TableCopyResult[] = [...done.values()];
    let next = 0;
    let failure: Error | undefined;

    /** Copies one task inside the target's open transaction; returns its exact counts. */
    const copyOne = async (worker: Worker, task: CopyTask, freeze: boolean) => {
      const format = formatOf(task.table);
      const sql = copySql(task, format, freeze);
      const key = JSON.stringify([task.table.schema, task.table.name]);
      const acc = results.get(key);
      let reportedAt = Date.now();
      const report = (bytes: number, rows: number) =>
        ctx.progress({
          kind: 'table',
          database,
          table: tableName(task.table),
          // One CopyData message per row (binary adds one for its trailer): exact enough for a progress bar; the
          // final event carries the servers' own count.
          rows: (acc?.rows ?? 0) + rows,
          bytes: (acc?.bytes ?? 0) + bytes,
          totalBytes: task.table.bytes,
          done: false,
        });
      let messages = 0;
      if (task.table.bytes >= SMALL_TABLE_BYTES) report(0, 0);
      const copied = await pipeCopy(worker.source, worker.target, sql, {
        ...(ctx.signal ? { signal: ctx.signal } : {}),
        onData: (bytes, count) => {
          messages += count;
          const now = Date.now();
          if (now - reportedAt >= 1000) {
            reportedAt = now;
            report(bytes, messages);
          }
        },
      });
      return { format, ...copied };
    };

    /** Books a committed task; reports the table when its last chunk is in. */
    const booked = (
      task: CopyTask,
      format: 'binary' | 'text',
      copied: { rowsIn: number; rowsOut: number; bytes: number },
    ) => {
      const key = JSON.stringify([task.table.schema, task.table.name]);
      const acc = results.get(key) ?? { rows: 0, sourceRows: 0, bytes: 0, chunks: 0, started: Date.now() };
      results.set(key, acc);
      acc.rows += copied.rowsIn;
      acc.sourceRows += copied.rowsOut;
      acc.bytes += copied.bytes;
      acc.chunks += 1;
      if (acc.chunks < task.chunks) return;
      const result: TableCopyResult = {
        table: task.table,
        rows: acc.rows,
        sourceRows: acc.sourceRows,
        bytes: acc.bytes,
        durationMs: Date.now() - acc.started,
        format,
        chunks: task.chunks,
        resumed: false,
      };
      finished.push(result);
      ctx.progress({
        kind: 'table',
        database,
        table: tableName(task.table),
        rows: acc.rows,
        bytes: acc.bytes,
        totalBytes: task.table.bytes,
        done: true,
      });
      ctx.logger.debug('table copied', {
        database,
        table: tableName(task.table),
        rows: acc.rows,
        bytes: acc.bytes,
        format,
      });
      options.onTableDone?.(result);
    };

    const progressSql =
      'INSERT INTO _pg_migrate.copy_progress (schema_name, table_name, chunk, chunks, rows, bytes) ' +
      'SELECT * FROM ROWS FROM (pg_catalog.unnest($1::text[]), pg_catalog.unnest($2::text[]), pg_catalog.unnest($3::int[]), ' +
      'pg_catalog.unnest($4::int[]), pg_catalog.unnest($5::bigint[]), pg_catalog.unnest($6::bigint[]))';

    /**
     * One unit in one target transaction: a whole table is truncated and loaded with FREEZE; a chunk of a split
     * table, or a group of small tables, is appended. The progress rows commit with the data.
     */
    const runUnit = async (worker: Worker, unit: CopyUnit) => {
      const [only] = unit.tasks;
      const freeze = !unit.group && only!.chunks === 1 && resume;
      await worker.target.query(
        freeze ? `BEGIN; TRUNCATE ONLY ${qualifiedName(only!.table.schema, only!.table.name)}` : 'BEGIN',
      );
      const copies: { task: CopyTask; format: 'binary' | 'text'; rowsIn: number; rowsOut: number; bytes: number }[] =
        [];
      for (const task of unit.tasks) {
        if (ctx.signal?.aborted) throw new AbortedError('copy stopped on request');
        copies.push({ task, ...(await copyOne(worker, task, freeze)) });
      }
      if (resume) {
        await worker.target.query(progressSql, [
          copies.map((c) => c.task.table.schema),
          copies.map((c) => c.task.table.name),
          copies.map((c) => c.task.chunk),
          copies.map((c) => c.task.chunks),
          copies.map((c) => c.rowsIn),
          copies.map((c) => c.bytes),
        ]);
      }
      await worker.target.query('COMMIT');
      for (const c of copies) booked(c.task, c.format, c);
    };
    await Promise.all(
      workers.map(async (worker) => {
        while (failure === undefined) {
          if (ctx.signal?.aborted) {
            failure ??= new AbortedError('copy stopped on request');
            return;
          }
          const unit = units[next++];
          if (!unit) return;
          try {
            await runUnit(worker, unit);
          } catch (err) {
            const what = unit.tasks.map((t) => tableName(t.table)).join(', ');
            failure ??= ctx.signal?.aborted
              ? new AbortedError('copy stopped on request')
              : classify(err, `copying ${unit.group ? `the group ${what}` : what} of ${JSON.stringify(database)}`);
            return;
          }
        }
      }),
    );
    if (failure !== undefined) throw failure;
    return {
      tables: finished,
      rows: finished.reduce((s, r) => s + r.rows, 0),
      bytes: finished.reduce((s, r) => s + r.bytes, 0),
      durationMs: Date.now() - started,
      snapshot,
    };
  } catch (err) {
    throw ctx.signal?.aborted
      ? new AbortedError('copy stopped on request')
      : classify(err, `copying data of ${JSON.stringify(database)}`);
  } finally {
    await exported?.release();
    await Promise.all(workers.flatMap((w) => [w.source.end().catch(() => {}), w.target.end().catch(() => {})]));
  }
}
