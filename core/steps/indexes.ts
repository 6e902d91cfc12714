/**
 * Early index builds: while other tables are still being copied, a finished table's indexes and its primary key,
 * unique and exclusion constraints are built on separate sessions (as pgcopydb does), instead of all of them
 * waiting for the post-data restore. The post-data restore then leaves out what already exists
 * ({@link filterExistingPostData}), so the end state is exactly pg_dump's.
 *
 * Only what pg_dump would emit as a self-contained INDEX / CONSTRAINT entry is built early: ordinary tables (not
 * partitions, whose indexes are attached to their parent's), default tablespace, not the CLUSTER or REPLICA
 * IDENTITY index (pg_dump emits those in the same entry), no per-column statistics targets, no foreign keys.
 * An early build that fails is only logged: post-data builds the object again and reports any error.
 *
 * The statements of small tables go many to a round trip (one multi-statement query, one implicit transaction, one
 * commit), so that thousands of small tables do not pay a round trip and a commit per index; a failure there leaves
 * the whole batch to post-data. A large table's statements go one at a time, so its builds spread over the sessions.
 */
import type pg from 'pg';
import { type ConnectionSpec, connect, qualifiedName, quoteIdent } from '../connection.js';
import type { RunContext } from '../context.js';
import { describeError } from '../errors.js';
import type { Logger } from '../logger.js';
import { type CopyOptions, type CopyResult, copyTables, tableName } from './copy.js';
import { importSnapshot } from './snapshot.js';

/** Index and constraint statements per table (key: JSON [schema, table]). */
export type EarlyIndexes = Map<string, string[]>;

/** Reads, on a source session (in the copy's snapshot), the statements that can be run early. */
export async function readEarlyIndexes(source: pg.Client): Promise<EarlyIndexes> {
  const { rows } = await source.query<{
    schema: string;
    table: string;
    sql: string | null;
    conname: string | null;
    condef: string | null;
  }>(`
    SELECT n.nspname::text AS schema, t.relname::text AS table,
           CASE WHEN c.oid IS NULL THEN pg_catalog.pg_get_indexdef(i.indexrelid) END AS sql,
           c.conname::text AS conname, pg_catalog.pg_get_constraintdef(c.oid) AS condef
      FROM pg_catalog.pg_index i
      JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
      JOIN pg_catalog.pg_class t ON t.oid = i.indrelid
      JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace
      LEFT JOIN pg_catalog.pg_constraint c ON c.conindid = i.indexrelid AND c.conrelid = t.oid AND c.contype IN ('p', 'u', 'x')
     WHERE t.relkind = 'r' AND NOT t.relispartition AND ic.relkind = 'i'
       AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
       AND ic.reltablespace = 0 AND NOT i.indisclustered AND NOT i.indisreplident AND i.indisvalid
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_inherits h WHERE h.inhrelid = i.indexrelid)
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a WHERE a.attrelid = i.indexrelid AND a.attstattarget > 0)
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_class'::regclass
                        AND d.objid = t.oid AND d.deptype = 'e')
       AND (c.oid IS NOT NULL OR NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k WHERE k.conindid = i.indexrelid))
     ORDER BY 1, 2, 3`);
  const out: EarlyIndexes = new Map();
  for (const r of rows) {
    const key = JSON.stringify([r.schema, r.table]);
    const sql =
      r.conname !== null && r.condef !== null
        ? `ALTER TABLE ONLY ${qualifiedName(r.schema, r.table)} ADD CONSTRAINT ${quoteIdent(r.conname)} ${r.condef}`
        : r.sql;
    if (sql) out.set(key, [...(out.get(key) ?? []), sql]);
  }
  return out;
}

/**
 * A small pool of target sessions building indexes as tables finish copying. `add()` never blocks; `drain()`
 * waits for everything queued; `close()` ends the sessions.
 */
/** Tables below this size have their statements batched. */
const SMALL_TABLE_BYTES = 1024 * 1024;
/** At most this many statements per batch. */
const MAX_BATCH = 50;

export class IndexBuilder {
  private readonly queue: { table: string; sql: string; small: boolean }[] = [];
  private readonly sessions: pg.Client[] = [];
  private readonly free: pg.Client[] = [];
  private active = 0;
  private idle: (() => void)[] = [];
  private closed = false;
  /** Statements that ran / failed. */
  built = 0;
  failed = 0;

  private constructor(
    private readonly logger: Logger,
    private readonly database: string,
  ) {}

  /** Opens `sessions` target sessions (at once: each costs a round of authentication). */
  static async open(target: ConnectionSpec, database: string, sessions: number, logger: Logger): Promise<IndexBuilder> {
    const builder = new IndexBuilder(logger, database);
    const opened = await Promise.allSettled(
      Array.from({ length: sessions }, (_, i) =>
        connect(target, database, { applicationName: `pg-migrate index ${i + 1}` }),
      ),
    );
    for (const o of opened) {
      if (o.status === 'fulfilled') {
        builder.sessions.push(o.value);
        builder.free.push(o.value);
      }
    }
    const refused = opened.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (refused) {
      await builder.close();
      throw refused.reason;
    }
    return builder;
  }

  /** Queues a finished table's statements (`bytes`: the table's size, which decides whether they are batched). */
  add(table: string, statements: readonly string[], bytes = 0): void {
    if (this.closed) return;
    for (const sql of statements) this.queue.push({ table, sql, small: bytes < SMALL_TABLE_BYTES });
    this.pump();
  }

  /** The next round trip's statements: one, or a run of small tables' statements. */
  private take(): { table: string; sql: string; small: boolean }[] {
    const first = this.queue.shift();
    if (!first) return [];
    const batch = [first];
    while (first.small && batch.length < MAX_BATCH && this.queue[0]?.small) batch.push(this.queue.shift()!);
    return batch;
  }

  private pump(): void {
    while (!this.closed && this.queue.length > 0 && this.free.length > 0) {
      const client = this.free.pop()!;
      this.active++;
      void this.work(client);
    }
  }

  private async work(client: pg.Client): Promise<void> {
    for (let batch = this.take(); batch.length > 0 && !this.closed; batch = this.take()) {
      try {
        // Several statements: one simple query, so one implicit transaction and one commit.
        await client.query(batch.map((b) => b.sql).join(';\n'));
        this.built += batch.length;
      } catch (err) {
        this.failed += batch.length;
        if (!this.closed) {
          this.logger.warn('early index build failed; post-data builds it again', {
            database: this.database,
            table: [...new Set(batch.map((b) => b.table))].join(', '),
            error: describeError(err),
          });
        }
      }
    }
    this.free.push(client);
    this.active--;
    if (this.active === 0) for (const resolve of this.idle.splice(0)) resolve();
  }

  /** Waits until every queued statement has run. */
  async drain(): Promise<void> {
    if (this.active === 0 && this.queue.length === 0) return;
    await new Promise<void>((resolve) => this.idle.push(resolve));
  }

  /** Stops taking work and ends the sessions (a statement in flight ends with its session). */
  async close(): Promise<void> {
    this.closed = true;
    this.queue.length = 0;
    for (const resolve of this.idle.splice(0)) resolve();
    await Promise.all(this.sessions.map((c) => c.end().catch(() => {})));
  }
}

/** {@link readEarlyIndexes} on a new source session reading under `snapshot`. */
export async function readEarlyIndexesAt(ctx: RunContext, database: string, snapshot: string): Promise<EarlyIndexes> {
  const client = await connect(ctx.source, database, { role: 'reader' });
  try {
    await importSnapshot(client, snapshot);
    return await readEarlyIndexes(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * The parallel copy with each finished table's indexes and keys built on `indexJobs` more target sessions while the
 * other tables still copy (`early`: from {@link readEarlyIndexes} in the copy's snapshot; empty: none built early).
 * Used by the dump method and by replication's fast start alike; post-data then leaves out what exists.
 */
export async function copyBuildingIndexes(
  ctx: RunContext,
  options: CopyOptions & {
    /** Target sessions building indexes (core/session-budget.ts); 0 builds none early. @default options.jobs */
    readonly indexJobs?: number;
  },
  early: EarlyIndexes,
): Promise<CopyResult> {
  const indexJobs = options.indexJobs ?? options.jobs;
  const indexes =
    early.size > 0 && indexJobs > 0
      ? await IndexBuilder.open(ctx.target, options.database, indexJobs, ctx.logger)
      : undefined;
  try {
    const copy = await copyTables(ctx, {
      ...options,
      onTableDone: (t) => {
        options.onTableDone?.(t);
        const statements = t.resumed ? undefined : early.get(JSON.stringify([t.table.schema, t.table.name]));
        if (statements) indexes?.add(tableName(t.table), statements, t.table.bytes);
      },
    });
    await indexes?.drain();
    if (indexes) {
      ctx.logger.debug('indexes built during the copy', {
        database: options.database,
        built: indexes.built,
        failed: indexes.failed,
      });
    }
    return copy;
  } finally {
    await indexes?.close();
  }
}
