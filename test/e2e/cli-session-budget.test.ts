/**
 * The run's session budget holds on both servers (issue #11, item 8): `check`, then `migrate --method dump` with
 * more jobs than the budget, three databases two at a time. Measured two ways on each server:
 * - a side session samples `pg_stat_activity` every 50 ms (client backends and walsenders, itself left out) — what an
 *   operator watching the server would see;
 * - the servers log every connection and disconnection with a millisecond timestamp (test/support/sessions.ts): the
 *   exact peak, which no sampling interval can miss.
 */
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { taskSessions } from '../../core/session-budget.js';
import type { TestCluster } from '../support/cluster.js';
import { SESSION_LOGGING, sessionsDuring } from '../support/sessions.js';
import { useCluster } from '../support/vitest.js';
import { jsonPath, readJson, runCli } from './cli.js';

const source = useCluster({ version: 15, settings: SESSION_LOGGING });
const target = useCluster({ version: 15, settings: SESSION_LOGGING });

const DATABASES = ['budget_a', 'budget_b', 'budget_c'];
const BUDGET = 6;
const JOBS = 8;
const CONCURRENCY = 2;

/** Samples the server's sessions every 50 ms on its own session until stopped; returns the most seen at once. */
async function startSampler(cluster: TestCluster): Promise<{ stop: () => Promise<number> }> {
  const client = new pg.Client({
    host: cluster.host,
    port: cluster.port,
    user: cluster.superuser,
    password: cluster.password,
    database: 'postgres',
    application_name: 'session-sampler',
  });
  await client.connect();
  let running = true;
  let peak = 0;
  const loop = (async () => {
    while (running) {
      const { rows } = await client.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_catalog.pg_stat_activity
          WHERE pid <> pg_catalog.pg_backend_pid() AND backend_type IN ('client backend', 'walsender')`,
      );
      peak = Math.max(peak, rows[0]?.n ?? 0);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      await client.end();
      return peak;
    },
  };
}

/** Runs `work` while sampling both servers; returns the sampled and the logged peaks per server. */
async function measured(work: () => Promise<void>): Promise<{ sampled: number[]; logged: number[] }> {
  const samplers = await Promise.all([startSampler(source()), startSampler(target())]);
  const counts = await sessionsDuring([source(), target()], work);
  const sampled = await Promise.all(samplers.map((s) => s.stop()));
  return { sampled, logged: counts.map((c) => c.peak) };
}

function cliArgs(command: string, report: string, extra: readonly string[] = []): string[] {
  return [
    command,
    '--dbs',
    DATABASES.join(','),
    '--session-budget',
    String(BUDGET),
    '--source',
    source().uri('postgres'),
    '--target',
    target().uri('postgres'),
    '--json',
    report,
    ...extra,
  ];
}

beforeAll(async () => {
  const tables = Array.from(
    { length: 10 },
    (_, i) =>
      `CREATE TABLE t${i} (id int PRIMARY KEY, v text NOT NULL, n int NOT NULL);
       CREATE INDEX t${i}_v ON t${i} (v); CREATE INDEX t${i}_n ON t${i} (n);
       INSERT INTO t${i} SELECT g, md5(g::text), g % 97 FROM generate_series(1, ${2000 * (i + 1)}) g;`,
  ).join('\n');
  for (const name of DATABASES) {
    await source().createDatabase(name);
    await source().loadFixture(name, tables);
  }
}, 240_000);

describe('the session budget on each server', () => {
  it('splits a task share of 3 sessions per server when 2 databases migrate at once under a budget of 6 with 8 jobs', () => {
    expect(taskSessions({ sessionBudget: BUDGET, maxConcurrency: CONCURRENCY, jobs: JOBS })).toMatchObject({
      share: 3,
      copyJobs: 1,
      indexJobs: 1,
      restoreJobs: 2,
    });
  });

  it('holds during check: never more sessions open at once on a server than the budget', async () => {
    const report = jsonPath();
    let code = -1;
    let output = '';
    const { sampled, logged } = await measured(async () => {
      const result = await runCli(cliArgs('check', report, ['--method', 'dump']));
      code = result.code;
      output = `${result.stdout}\n${result.stderr}`;
    });
    expect(code, output).toBe(0);
    expect(sampled[0]).toBeGreaterThan(0); // the sampler saw the run's sessions
    for (const peak of [...sampled, ...logged]) expect(peak).toBeLessThanOrEqual(BUDGET);
  });

  it('holds during migrate --method dump with more jobs than the budget, two databases at a time', async () => {
    const report = jsonPath();
    let code = -1;
    let output = '';
    const { sampled, logged } = await measured(async () => {
      const result = await runCli(
        cliArgs('migrate', report, [
          '--method',
          'dump',
          '--jobs',
          String(JOBS),
          '--max-concurrency',
          String(CONCURRENCY),
          '--no-roles',
        ]),
        {},
        600_000,
      );
      code = result.code;
      output = `${result.stdout}\n${result.stderr}`;
    });
    expect(code, output).toBe(0);
    const json = readJson(report) as { databases: { name: string; status: string; rows: number }[] };
    expect(json.databases.map((d) => [d.name, d.status])).toEqual(DATABASES.map((d) => [d, 'done']));
    expect(json.databases.every((d) => d.rows === 110_000)).toBe(true);
    // The tasks used their share: the snapshot and a reader on the source, a writer and an index builder (or
    // pg_restore's 2 workers) on the target at once.
    expect(logged[0]).toBeGreaterThanOrEqual(2);
    expect(logged[1]).toBeGreaterThanOrEqual(2);
    for (const peak of [...sampled, ...logged]) expect(peak).toBeLessThanOrEqual(BUDGET);
  }, 660_000);
});
