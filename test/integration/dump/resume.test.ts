/**
 * Kill -9 in the middle of the copy, then re-run: the second run continues (completed tables are skipped,
 * partially copied ones recopied from empty) and ends with data equal to the source's.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { migrateByDump } from '../../../core/steps/dump.js';
import { useCluster } from '../../support/vitest.js';
import { contextFor, planned, requestFor, schemaDump, sequencesAndLargeObjects, tableChecksums } from './support.js';

const here = dirname(fileURLToPath(import.meta.url));
const source = useCluster({ version: 15 });
const target = useCluster({ version: 15 });
const DB = 'resume me';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function progressRows(): Promise<number | undefined> {
  try {
    const [row] = await target().query<{ n: number }>(
      'SELECT count(*)::int AS n FROM _pg_migrate.copy_progress',
      [],
      DB,
    );
    return row?.n;
  } catch {
    return undefined; // database or progress table not there yet
  }
}

describe('an interrupted dump migration', () => {
  it('continues after kill -9 in the middle of the copy and ends with equal data', async () => {
    await source().createDatabase(DB);
    await source().loadFixture(
      DB,
      `CREATE TABLE public.big (id bigint PRIMARY KEY, pad text NOT NULL, n numeric);
       INSERT INTO public.big SELECT g, repeat(md5(g::text), 4), g / 3.0 FROM generate_series(1, 1200000) g;
       CREATE TABLE public.t1 AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 300000) g;
       CREATE TABLE public.t2 AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 250000) g;
       CREATE TABLE public.t3 AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 200000) g;
       CREATE TABLE public.t4 AS SELECT g AS id, now() AS at FROM generate_series(1, 150000) g;
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
        PG_MIGRATE_COPY_SPLIT_BYTES: String(16 * 1024 * 1024),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let exited = false;
    child.on('exit', () => {
      exited = true;
    });
    let seen = 0;
    for (let i = 0; i < 1200 && !exited; i++) {
      seen = (await progressRows()) ?? 0;
      if (seen >= 3) break;
      await sleep(50);
    }
    expect(exited, 'the migration finished before it could be interrupted').toBe(false);
    child.kill('SIGKILL');
    await new Promise((resolve) => (exited ? resolve(undefined) : child.on('exit', resolve)));

    // Partial state: pre-data done, some chunks recorded, the copy not complete, and no post-data yet.
    const steps = await target().query<{ step: string }>('SELECT step FROM _pg_migrate.steps ORDER BY 1', [], DB);
    expect(steps.map((s) => s.step)).toEqual(['pre-data', 'pre-data-started']);
    const recorded = (await progressRows()) ?? 0;
    expect(recorded).toBeGreaterThanOrEqual(3);
    const [{ total } = { total: 0 }] = await target().query<{ total: number }>(
      'SELECT (SELECT count(*) FROM public.big) + (SELECT count(*) FROM public.t1) + (SELECT count(*) FROM public.t2) + (SELECT count(*) FROM public.t3) + (SELECT count(*) FROM public.t4) AS total',
      [],
      DB,
    );
    expect(Number(total)).toBeLessThan(1_200_000 + 300_000 + 250_000 + 200_000 + 150_000);
    const indexes = await target().query("SELECT 1 FROM pg_indexes WHERE indexname = 't2_v'", [], DB);
    expect(indexes).toEqual([]);

    const result = await migrateByDump(contextFor(source(), target()), requestFor(), planned(DB));
    expect(result.status, result.message).toBe('done');
    expect(result.message).toMatch(/resumed/);
    expect(result.verification?.every((t) => t.ok)).toBe(true);
    expect(await tableChecksums(target(), DB)).toEqual(await tableChecksums(source(), DB));
    expect(schemaDump(target(), DB)).toEqual(schemaDump(source(), DB));
    expect(await sequencesAndLargeObjects(target(), DB)).toEqual(await sequencesAndLargeObjects(source(), DB));
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
