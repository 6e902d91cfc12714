/**
 * A dump of a source under writes (issue #11): the run ends `done` with exit 0, and the target is one consistent
 * snapshot of the source — every transaction of the writer is on the target whole or not at all.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { binDirFor, type TestCluster } from '../support/cluster.js';
import { useCluster } from '../support/vitest.js';
import { jsonPath, readJson, runCli } from './cli.js';

const source = useCluster({ version: 15 });
const target = useCluster({ version: 15 });

const ACCOUNTS = 50;

/**
 * The writer: each transaction appends one history row and moves the same amount into its account, as pgbench's
 * TPC-B script does. On any one snapshot, every account's balance equals the sum of its history.
 */
function startWriter(client: pg.Client): { stop: () => Promise<number> } {
  let running = true;
  let committed = 0;
  const loop = (async () => {
    while (running) {
      const account = 1 + (committed % ACCOUNTS);
      const delta = 1 + (committed % 7);
      await client.query('BEGIN');
      await client.query('INSERT INTO bank.history (account, delta) VALUES ($1, $2)', [account, delta]);
      await client.query('UPDATE bank.accounts SET balance = balance + $2 WHERE id = $1', [account, delta]);
      await client.query('COMMIT');
      committed += 1;
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return committed;
    },
  };
}

const PGBENCH = join(binDirFor(15), 'pgbench');

/** pgbench against `cluster`'s `database`; the password goes by environment, never in argv. */
function pgbenchEnv(cluster: TestCluster): NodeJS.ProcessEnv {
  return { ...process.env, PGPASSWORD: cluster.password, PGHOST: cluster.host, PGPORT: String(cluster.port) };
}

async function rowCount(cluster: TestCluster, database: string, table: string): Promise<number> {
  const [row] = await cluster.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`, [], database);
  return Number(row!.n);
}

/** `migrate --method dump` of `database` through the bin; asserts it ended `done` with exit code 0. */
async function migrateDumpDone(database: string): Promise<void> {
  const report = jsonPath();
  const result = await runCli([
    'migrate',
    '--method',
    'dump',
    '--dbs',
    database,
    '--source',
    source().uri('postgres'),
    '--target',
    target().uri('postgres'),
    '--json',
    report,
  ]);
  expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
  const json = readJson(report) as { ok: boolean; databases: Array<{ name: string; status: string }> };
  expect(json.ok).toBe(true);
  expect(json.databases.map((d) => [d.name, d.status])).toEqual([[database, 'done']]);
}

describe('pg-migrate migrate --method dump of a source under writes', () => {
  let writerClient: pg.Client | undefined;
  let bench: ChildProcess | undefined;
  afterAll(async () => {
    bench?.kill('SIGKILL');
    await writerClient?.end();
  });

  it('ends done with exit code 0 under pgbench writes, and the target holds one snapshot of pgbench', async () => {
    await source().createDatabase('bench');
    const init = spawnSync(PGBENCH, ['-i', '-q', '-s', '3', '-U', source().superuser, 'bench'], {
      env: pgbenchEnv(source()),
      encoding: 'utf8',
    });
    expect(init.status, init.stderr).toBe(0);
    // The TPC-B-like default script, 2 clients, until stopped: each transaction updates an account, a teller and a
    // branch by the same delta and appends it to the history.
    bench = spawn(PGBENCH, ['-n', '-c', '2', '-j', '1', '-T', '600', '-U', source().superuser, 'bench'], {
      env: pgbenchEnv(source()),
      stdio: 'ignore',
    });
    const exited = new Promise<void>((resolve) => bench!.once('exit', () => resolve()));
    const deadline = Date.now() + 30_000;
    while ((await rowCount(source(), 'bench', 'pgbench_history')) === 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    const before = await rowCount(source(), 'bench', 'pgbench_history');

    await migrateDumpDone('bench');
    const after = await rowCount(source(), 'bench', 'pgbench_history');
    bench.kill('SIGTERM');
    await exited;
    // pgbench really wrote during the run.
    expect(before).toBeGreaterThan(0);
    expect(after).toBeGreaterThan(before);

    // One snapshot: the deltas of the history the target holds add up to the accounts', tellers' and branches'
    // balances (all start at 0), which would differ if any table came from another moment.
    const [sums] = await target().query<{ history: string; accounts: string; tellers: string; branches: string }>(
      `SELECT (SELECT coalesce(sum(delta), 0) FROM pgbench_history)::text AS history,
              (SELECT sum(abalance) FROM pgbench_accounts)::text AS accounts,
              (SELECT sum(tbalance) FROM pgbench_tellers)::text AS tellers,
              (SELECT sum(bbalance) FROM pgbench_branches)::text AS branches`,
      [],
      'bench',
    );
    expect(sums!.accounts).toBe(sums!.history);
    expect(sums!.tellers).toBe(sums!.history);
    expect(sums!.branches).toBe(sums!.history);
    const copied = await rowCount(target(), 'bench', 'pgbench_history');
    expect(copied).toBeGreaterThanOrEqual(before);
    expect(copied).toBeLessThanOrEqual(after);
  }, 300_000);

  it('ends done with exit code 0, and the target is one consistent snapshot of the source', async () => {
    await source().createDatabase('bank');
    // history is large enough that the copy takes a while, so the writer commits while it runs.
    await source().loadFixture(
      'bank',
      `CREATE SCHEMA bank;
       CREATE TABLE bank.accounts (id int PRIMARY KEY, balance bigint NOT NULL);
       CREATE TABLE bank.history (id bigserial PRIMARY KEY, account int NOT NULL REFERENCES bank.accounts,
                                  delta int NOT NULL, filler text NOT NULL DEFAULT repeat('x', 100));
       CREATE INDEX ON bank.history (account);
       INSERT INTO bank.accounts SELECT g, 0 FROM generate_series(1, ${ACCOUNTS}) g;
       INSERT INTO bank.history (account, delta) SELECT 1 + g % ${ACCOUNTS}, 1 FROM generate_series(1, 300000) g;
       UPDATE bank.accounts a SET balance = h.total
         FROM (SELECT account, sum(delta) AS total FROM bank.history GROUP BY account) h WHERE h.account = a.id;`,
    );
    writerClient = await source().client('bank');
    const writer = startWriter(writerClient);
    const before = await rowCount(source(), 'bank', 'bank.history');

    await migrateDumpDone('bank');
    const committed = await writer.stop();
    const after = await rowCount(source(), 'bank', 'bank.history');
    // The source really was written to during the run.
    expect(committed).toBeGreaterThan(0);
    expect(after).toBeGreaterThan(before);

    // One snapshot: every account's balance on the target is the sum of the history rows the target holds.
    const inconsistent = await target().query<{ id: number }>(
      `SELECT a.id FROM bank.accounts a
         LEFT JOIN (SELECT account, sum(delta) AS total FROM bank.history GROUP BY account) h ON h.account = a.id
        WHERE a.balance IS DISTINCT FROM coalesce(h.total, 0)`,
      [],
      'bank',
    );
    expect(inconsistent).toEqual([]);
    const copied = await rowCount(target(), 'bank', 'bank.history');
    expect(copied).toBeGreaterThanOrEqual(before);
    expect(copied).toBeLessThanOrEqual(after);
  }, 300_000);
});
