/**
 * A dump of a source under writes (issue #11): the run ends `done` with exit 0, and the target is one consistent
 * snapshot of the source — every transaction of the writer is on the target whole or not at all.
 */
import type pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
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

describe('pg-migrate migrate --method dump of a source under writes', () => {
  let writerClient: pg.Client | undefined;
  afterAll(() => writerClient?.end());

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
    const before = (await source().query<{ n: string }>('SELECT count(*) AS n FROM bank.history', [], 'bank'))[0]!.n;

    const report = jsonPath();
    const result = await runCli([
      'migrate',
      '--method',
      'dump',
      '--dbs',
      'bank',
      '--source',
      source().uri('postgres'),
      '--target',
      target().uri('postgres'),
      '--json',
      report,
    ]);
    const committed = await writer.stop();
    const after = (await source().query<{ n: string }>('SELECT count(*) AS n FROM bank.history', [], 'bank'))[0]!.n;
    const output = `${result.stdout}\n${result.stderr}`;

    expect(result.code, output).toBe(0);
    const json = readJson(report) as { ok: boolean; databases: Array<{ name: string; status: string }> };
    expect(json.ok).toBe(true);
    expect(json.databases.map((d) => [d.name, d.status])).toEqual([['bank', 'done']]);
    // The source really was written to during the run.
    expect(committed).toBeGreaterThan(0);
    expect(Number(after)).toBeGreaterThan(Number(before));

    // One snapshot: every account's balance on the target is the sum of the history rows the target holds.
    const inconsistent = await target().query<{ id: number }>(
      `SELECT a.id FROM bank.accounts a
         LEFT JOIN (SELECT account, sum(delta) AS total FROM bank.history GROUP BY account) h ON h.account = a.id
        WHERE a.balance IS DISTINCT FROM coalesce(h.total, 0)`,
      [],
      'bank',
    );
    expect(inconsistent).toEqual([]);
    const [copied] = await target().query<{ n: string }>('SELECT count(*) AS n FROM bank.history', [], 'bank');
    expect(Number(copied!.n)).toBeGreaterThanOrEqual(Number(before));
    expect(Number(copied!.n)).toBeLessThanOrEqual(Number(after));
  }, 300_000);
});
