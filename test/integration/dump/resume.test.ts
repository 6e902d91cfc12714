/**
 * Kill -9 in the middle of the copy, then re-run: the second run continues (completed tables are skipped,
 * partially copied ones recopied from empty) and ends with data equal to the source's.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { copyTables, listTables } from '../../../core/steps/copy.js';
import { locateTools, migrateByDump } from '../../../core/steps/dump.js';
import { ensureProgress, markStep } from '../../../core/steps/progress.js';
import { ensureTargetDatabase, restorePreData } from '../../../core/steps/schema.js';
import type { ProgressEvent } from '../../../core/logger.js';
import { useCluster } from '../../support/vitest.js';
import { contextFor, planned, requestFor, schemaDump, sequencesAndLargeObjects, tableChecksums } from './support.js';
import { WarningList } from '../../../core/warnings.js';

const here = dirname(fileURLToPath(import.meta.url));
const source = useCluster({ version: 15 });
const target = useCluster({ version: 15 });
const DB = 'resume me';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function progressRows(): Promise<{ rows: number; big: number; bigChunks: number } | undefined> {
  try {
    const [row] = await target().query<{ rows: number; big: number; big_chunks: number | null }>(
      `SELECT count(*)::int AS rows, count(*) FILTER (WHERE table_name = 'big')::int AS big,
              max(chunks) FILTER (WHERE table_name = 'big') AS big_chunks
         FROM _pg_migrate.copy_progress`,
      [],
      DB,
    );
    return row ? { rows: row.rows, big: row.big, bigChunks: row.big_chunks ?? 0 } : undefined;
  } catch {
    return undefined; // database or progress table not there yet
  }
}

describe('an interrupted dump migration', () => {
  it('continues after kill -9 in the middle of the copy and ends with equal data', async () => {
    await source().createDatabase(DB);
    // Split at 8 MiB: public.big (~53 MiB) is copied in 14 chunks of ~3.8 MiB; public.t1 (~6.6 MiB) is copied whole
    // and, being larger than a chunk, before them (largest tasks first).
    await source().loadFixture(
      DB,
      `CREATE TABLE public.big (id bigint PRIMARY KEY, pad text NOT NULL, n numeric);
       INSERT INTO public.big SELECT g, repeat(md5(g::text), 4), g / 3.0 FROM generate_series(1, 300000) g;
       CREATE TABLE public.t1 AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 100000) g;
       CREATE TABLE public.t2 AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 40000) g;
       CREATE TABLE public.t3 AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 30000) g;
       CREATE TABLE public.t4 AS SELECT g AS id, now() AS at FROM generate_series(1, 40000) g;
       ALTER TABLE public.t1 ADD PRIMARY KEY (id);
       CREATE INDEX t2_v ON public.t2 (v);
       CREATE SEQUENCE public.s START 50; SELECT nextval('public.s'); SELECT nextval('public.s');
       ANALYZE;`,
    );
    const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', join(here, 'driver.ts')], {
      env: {
        ...process.env,
        DRIVER_SOURCE: source().uri(DB),
        DRIVER_TARGET: target().uri('postgres'),
        DRIVER_DB: DB,
        DRIVER_PAUSE_AT_COPY: '1',
        PG_MIGRATE_COPY_SPLIT_BYTES: String(8 * 1024 * 1024),
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let exited = false;
    let output = '';
    child.on('exit', () => {
      exited = true;
    });
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const waitUntil = async (what: string, condition: () => Promise<boolean> | boolean) => {
      for (let i = 0; i < 2400; i++) {
        if (await condition()) return;
        if (exited) throw new Error(`the migration ended while waiting for ${what}: ${output}`);
        await sleep(25);
      }
      throw new Error(`timed out waiting for ${what}: ${output}`);
    };
    // Target sessions waiting for a lock on public.big, by lock mode.
    const waiting = async (mode: string) => {
      const [row] = await target().query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_locks
          WHERE relation = 'public.big'::regclass AND NOT granted AND mode = $1`,
        [mode],
        DB,
      );
      return row?.n ?? 0;
    };
    const gates: pg.Client[] = [];
    try {
      // The driver stops dead when the copy begins: pre-data is restored, no COPY has started.
      await waitUntil('the copy phase', () => output.includes('paused at copy'));
      const gate1 = await target().client(DB);
      gates.push(gate1);
      const gate2 = await target().client(DB);
      gates.push(gate2);
      // Gate 1 keeps every COPY into public.big waiting (SHARE ROW EXCLUSIVE conflicts with ROW EXCLUSIVE).
      await gate1.query('BEGIN');
      await gate1.query('LOCK TABLE public.big IN SHARE ROW EXCLUSIVE MODE');
      child.stdin!.write('\n');
      // Both workers end up waiting on public.big: every task before its chunks (public.t1 at least) committed.
      await waitUntil('both workers to wait for public.big', async () => (await waiting('RowExclusiveLock')) === 2);
      // Gate 2 queues behind the two waiting chunks: when gate 1 goes, exactly those two run and commit, then gate 2
      // holds the next ones. The kill lands with 2 of public.big's chunks recorded, deterministically.
      await gate2.query('BEGIN');
      const locked = gate2.query('LOCK TABLE public.big IN SHARE ROW EXCLUSIVE MODE');
      await waitUntil('gate 2 to queue', async () => (await waiting('ShareRowExclusiveLock')) === 1);
      await gate1.query('COMMIT');
      await locked;
      await waitUntil('the next chunks to wait', async () => (await waiting('RowExclusiveLock')) === 2);
      child.kill('SIGKILL');
      await new Promise((resolve) => (exited ? resolve(undefined) : child.on('exit', resolve)));
    } finally {
      if (!exited) child.kill('SIGKILL');
      await Promise.all(gates.map((gate) => gate.end().catch(() => {})));
    }

    // Partial state: pre-data done, public.t1 and two chunks of public.big recorded, no post-data yet.
    const steps = await target().query<{ step: string }>('SELECT step FROM _pg_migrate.steps ORDER BY 1', [], DB);
    expect(steps.map((s) => s.step)).toEqual(['pre-data', 'pre-data-started']);
    const recorded = await progressRows();
    expect(recorded?.big).toBe(2);
    expect(recorded!.bigChunks).toBeGreaterThan(2);
    const t1 = await target().query(
      "SELECT 1 FROM _pg_migrate.copy_progress WHERE table_name = 't1' AND chunks = 1",
      [],
      DB,
    );
    expect(t1).toHaveLength(1);
    const [{ total } = { total: 0 }] = await target().query<{ total: number }>(
      'SELECT (SELECT count(*) FROM public.big) + (SELECT count(*) FROM public.t1) + (SELECT count(*) FROM public.t2) + (SELECT count(*) FROM public.t3) + (SELECT count(*) FROM public.t4) AS total',
      [],
      DB,
    );
    expect(Number(total)).toBeLessThan(300_000 + 100_000 + 40_000 + 30_000 + 40_000);
    const indexes = await target().query("SELECT 1 FROM pg_indexes WHERE indexname = 't2_v'", [], DB);
    expect(indexes).toEqual([]);

    const logged: string[] = [];
    const log = (message: string, fields?: Record<string, unknown>) =>
      logged.push(`${message} ${JSON.stringify(fields)}`);
    const ctx = { ...contextFor(source(), target()), logger: { debug: log, info: log, warn: log, error: log } };
    const result = await migrateByDump(ctx, requestFor(), planned(DB));
    expect(logged.some((l) => l.startsWith('recopying a partially copied table') && l.includes('public.big'))).toBe(
      true,
    );
    expect(result.status, result.message).toBe('done');
    expect(result.message).toMatch(/resumed/);
    expect(result.verification?.every((t) => t.ok)).toBe(true);
    expect(await tableChecksums(target(), DB)).toEqual(await tableChecksums(source(), DB));
    expect(schemaDump(target(), DB)).toEqual(schemaDump(source(), DB));
    expect(await sequencesAndLargeObjects(target(), DB)).toEqual(await sequencesAndLargeObjects(source(), DB));
    // Deterministic, but long: two migrations and four schema dumps; its duration grows with the machine's load.
  }, 300_000);

  it('continues an interrupted post-data restore without failing on what already exists', async () => {
    await source().loadFixture('postgres', 'roles.sql');
    await target().loadFixture('postgres', 'roles.sql');
    await source().createDatabase('shop');
    await source().loadFixture('shop', 'shop.sql');
    const first = await migrateByDump(contextFor(source(), target()), requestFor(), planned('shop'));
    expect(first.status).toBe('done');
    // Rewind the target to "post-data half done": progress says copy done and post-data started; some of the
    // post-data objects are gone again, others are still there.
    await target().loadFixture(
      'shop',
      `CREATE SCHEMA _pg_migrate;
       CREATE TABLE _pg_migrate.steps (step text PRIMARY KEY, done_at timestamptz NOT NULL DEFAULT now());
       INSERT INTO _pg_migrate.steps (step) VALUES ('pre-data-started'), ('pre-data'), ('copy'), ('post-data-started');
       CREATE TABLE _pg_migrate.copy_progress (schema_name text NOT NULL, table_name text NOT NULL, chunk int NOT NULL,
         chunks int NOT NULL, rows bigint NOT NULL, bytes bigint NOT NULL, done_at timestamptz NOT NULL DEFAULT now(),
         PRIMARY KEY (schema_name, table_name, chunk));
       INSERT INTO _pg_migrate.copy_progress (schema_name, table_name, chunk, chunks, rows, bytes)
       SELECT n.nspname, c.relname, 0, 1, 0, 0 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind = 'r' AND n.nspname = 'shop';
       ALTER TABLE shop.order_lines DROP CONSTRAINT order_lines_product_id_fkey;
       DROP INDEX shop.products_search_idx;
       DROP TRIGGER customers_audit ON shop.customers;
       DROP POLICY customers_staff ON shop.customers;`,
    );
    const again = await migrateByDump(contextFor(source(), target()), requestFor(), planned('shop'));
    expect(again.status, again.message).toBe('done');
    expect(schemaDump(target(), 'shop')).toEqual(schemaDump(source(), 'shop'));
    expect(await tableChecksums(target(), 'shop')).toEqual(await tableChecksums(source(), 'shop'));
  });

  it('fails when a resumed run finds a table that changed on the source since it was copied (the documented trade-off)', async () => {
    await source().createDatabase('drift');
    await source().loadFixture(
      'drift',
      `CREATE TABLE public.kept (id int PRIMARY KEY); INSERT INTO public.kept SELECT generate_series(1, 1000);
       CREATE TABLE public.later (id int PRIMARY KEY); INSERT INTO public.later SELECT generate_series(1, 500);`,
    );
    // An "earlier run": pre-data restored and public.kept copied and recorded, then interrupted.
    const ctx = contextFor(source(), target());
    const warnings = new WarningList();
    await ensureTargetDatabase(ctx, 'drift', warnings);
    await ensureProgress(ctx.target, 'drift');
    await markStep(ctx.target, 'drift', 'pre-data-started');
    await restorePreData(ctx, 'drift', { jobs: 1, tools: await locateTools(ctx) }, warnings);
    expect(warnings.list()).toEqual([]);
    await markStep(ctx.target, 'drift', 'pre-data');
    const [kept] = await listTables(ctx, 'drift', { withTables: [{ schema: 'public', table: 'kept' }] });
    await copyTables(ctx, { database: 'drift', jobs: 1, tables: [kept!] });
    // The source moves on before the re-run.
    await source().query('INSERT INTO public.kept SELECT generate_series(1001, 1010)', [], 'drift');

    const result = await migrateByDump(ctx, requestFor(), planned('drift'));
    expect(result.status).toBe('failed');
    expect(result.error).toBe('PgMigrate.VerifyMismatch');
    expect(result.message).toMatch(/public\.kept \(source 1010 rows, target 1000/);
    expect(result.verification?.find((t) => t.name === 'public.later')?.ok).toBe(true);
    // The progress record stays, so the state is visible and a fresh run can be decided on.
    expect(await target().query("SELECT 1 FROM pg_namespace WHERE nspname = '_pg_migrate'", [], 'drift')).toHaveLength(
      1,
    );
  });

  it('fails as PgMigrate.Aborted when stopped in the middle of the copy, and leaves no session behind', async () => {
    await source().createDatabase('stop me');
    await source().loadFixture(
      'stop me',
      `CREATE TABLE public.rows (id bigint PRIMARY KEY, pad text);
       INSERT INTO public.rows SELECT g, repeat('x', 200) FROM generate_series(1, 600000) g;`,
    );
    const stop = new AbortController();
    const ctx = {
      ...contextFor(source(), target(), stop.signal),
      progress: (event: ProgressEvent) => {
        if (event.kind === 'phase' && event.phase === 'copy') setTimeout(() => stop.abort(), 300);
      },
    };
    await expect(migrateByDump(ctx, requestFor(), planned('stop me'))).rejects.toMatchObject({
      name: 'PgMigrate.Aborted',
    });
    await sleep(200);
    const sessions = async (cluster: typeof source) =>
      cluster().query("SELECT application_name FROM pg_stat_activity WHERE application_name LIKE 'pg-migrate%'");
    expect(await sessions(source)).toEqual([]);
    expect(await sessions(target)).toEqual([]);
  });

  it('fails when the target database holds objects that no interrupted run of pg-migrate left', async () => {
    await source().createDatabase('occupied');
    await source().loadFixture('occupied', 'CREATE TABLE public.a (id int);');
    await target().createDatabase('occupied');
    await target().loadFixture('occupied', 'CREATE TABLE public.mine (id int);');
    await expect(migrateByDump(contextFor(source(), target()), requestFor(), planned('occupied'))).rejects.toThrow(
      /already holds objects/,
    );
  });
});
