/**
 * The data copy: parallel `COPY … TO STDOUT` → `COPY … FROM STDIN` streams from source to target
 * (pg-copy-streams), `jobs` reader/writer pairs, every reader on one exported snapshot. Largest tables first; tables
 * above `splitBytes` are split into ctid page ranges (each visible row version has exactly one ctid under the
 * snapshot, so every row is copied exactly once). Binary format when both majors are equal and no column holds a
 * type whose binary form carries a database-specific OID (user-defined composites, arrays of user types, extension
 * types); text otherwise. Streams are piped with backpressure (`stream/promises` pipeline): memory stays bounded
 * whatever the table size.
 *
 * With `resume` (the default), each chunk's COPY commits in the same transaction that records it in
 * `_pg_migrate.copy_progress`: a re-run skips completed tables and recopies partially copied ones from empty.
 */
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { filterTables, partitionRootSql, type TableName, USER_RELATION_SQL } from '../catalog.js';
import { connect, qualifiedName, quoteIdent, serverMajor } from '../connection.js';
import type { RunContext } from '../context.js';
import { AbortedError, classify } from '../errors.js';
import type { TableFilters } from '../catalog.js';
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
             WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '') AS columns,
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
  /** Rows read from the source (under the snapshot) — or recorded by an earlier run when `resumed`. */
  readonly rows: number;
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
interface CopyTask {
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
    // Open and attach every reader before the exporter may go away.
    for (let i = 0; i < jobs; i++) {
      const source = await connect(ctx.source, database, { applicationName: `pg-migrate copy ${i + 1}` });
      const target = await connect(ctx.target, database, { applicationName: `pg-migrate copy ${i + 1}` });
      workers.push({ source, target });
      await importSnapshot(source, snapshot);
      await source.query('SET LOCAL row_security = off'); // all rows, or an error — never silently fewer
      await target.query('SET synchronous_commit = off');
    }
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

    const results = new Map<string, { rows: number; bytes: number; chunks: number; started: number }>();
    for (const r of done.values()) options.onTableDone?.(r);
    const finished: TableCopyResult[] = [...done.values()];
    let next = 0;
    let failure: Error | undefined;
    const runTask = async (worker: Worker, task: CopyTask) => {
      const key = JSON.stringify([task.table.schema, task.table.name]);
      const acc = results.get(key) ?? { rows: 0, bytes: 0, chunks: 0, started: Date.now() };
      results.set(key, acc);
      const format = formatOf(task.table);
      const whole = task.chunks === 1;
      const sql = copySql(task, format, whole && resume);
      await worker.target.query('BEGIN');
      if (whole && resume)
        await worker.target.query(`TRUNCATE ONLY ${qualifiedName(task.table.schema, task.table.name)}`);
      const reader = worker.source.query(copyTo(sql.out));
      const writer = worker.target.query(copyFrom(sql.in));
      let bytes = 0;
      let lines = 0;
      let reportedAt = Date.now();
      const report = () =>
        ctx.progress({
          kind: 'table',
          database,
          table: tableName(task.table),
          // Text COPY ends every row with a newline (embedded ones are escaped): exact. Binary: estimated from the
          // share of the table's size read so far; the final event carries the exact count.
          rows:
            acc.rows +
            (format === 'text'
              ? lines
              : Math.round(Math.max(0, task.table.rowsEstimate) * Math.min(1, bytes / Math.max(1, task.table.bytes)))),
          bytes: acc.bytes + bytes,
          totalBytes: task.table.bytes,
          done: false,
        });
      report();
      reader.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (format === 'text') for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines += 1;
        const now = Date.now();
        if (now - reportedAt >= 1000) {
          reportedAt = now;
          report();
        }
      });
      await pipeline(reader, writer, ...(ctx.signal ? [{ signal: ctx.signal }] : []));
      const rows = writer.rowCount;
      if (resume) {
        await worker.target.query(
          'INSERT INTO _pg_migrate.copy_progress (schema_name, table_name, chunk, chunks, rows, bytes) VALUES ($1, $2, $3, $4, $5, $6)',
          [task.table.schema, task.table.name, task.chunk, task.chunks, rows, bytes],
        );
      }
      await worker.target.query('COMMIT');
      acc.rows += rows;
      acc.bytes += bytes;
      acc.chunks += 1;
      if (acc.chunks === task.chunks) {
        const result: TableCopyResult = {
          table: task.table,
          rows: acc.rows,
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
      }
    };
    await Promise.all(
      workers.map(async (worker) => {
        while (failure === undefined) {
          if (ctx.signal?.aborted) {
            failure ??= new AbortedError('copy stopped on request');
            return;
          }
          const task = tasks[next++];
          if (!task) return;
          try {
            await runTask(worker, task);
          } catch (err) {
            failure ??= ctx.signal?.aborted
              ? new AbortedError('copy stopped on request')
              : classify(err, `copying ${tableName(task.table)} of ${JSON.stringify(database)}`);
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
