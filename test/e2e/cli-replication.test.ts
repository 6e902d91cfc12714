/**
 * The replication lifecycle through the bin: migrate by logical replication (the run ends with the database
 * replicating), status, cutover (sequences copied, replication objects dropped), abort (nothing left to drop).
 */
import { describe, expect, it } from 'vitest';
import { useCluster } from '../support/vitest.js';
import { jsonPath, leakForms, readJson, runCli } from './cli.js';

const source = useCluster({ version: 14 });
const target = useCluster({ version: 15 });

interface ReportJson {
  ok: boolean;
  action: string;
  databases: Array<{ name: string; method: string; status: string; rows: number; lagBytes: number }>;
}

function env(): Record<string, string> {
  return { PG_MIGRATE_SOURCE: source().uri('postgres'), PG_MIGRATE_TARGET: target().uri('postgres') };
}

async function run(args: string[]): Promise<{ code: number; output: string; report: ReportJson }> {
  const path = jsonPath();
  const result = await runCli([...args, '--json', path], env());
  const output = `${result.stdout}\n${result.stderr}`;
  for (const secret of leakForms([source().password, target().password])) expect(output).not.toContain(secret);
  return { code: result.code, output, report: readJson(path) as ReportJson };
}

describe('pg-migrate replication lifecycle through its bin', () => {
  it('migrates by replication, reports status, cuts over, and finds nothing to abort afterwards', async () => {
    await source().createDatabase('app');
    await source().loadFixture(
      'app',
      `CREATE TABLE public.items (id bigserial PRIMARY KEY, name text NOT NULL);
       INSERT INTO public.items (name) SELECT 'item ' || g FROM generate_series(1, 5000) g;`,
    );

    const migrate = await run(['migrate', '--dbs', 'app', '--method', 'replication', '--no-roles']);
    expect(migrate.code, migrate.output).toBe(0);
    expect(migrate.report.databases.map((d) => [d.name, d.method, d.status])).toEqual([
      ['app', 'replication', 'replicating'],
    ]);
    const [subs] = await target().query<{ n: number }>('SELECT count(*)::int AS n FROM pg_catalog.pg_subscription');
    expect(subs?.n).toBe(1);

    await source().query(
      "INSERT INTO public.items (name) SELECT 'late ' || g FROM generate_series(1, 10) g",
      [],
      'app',
    );
    const status = await run(['status', '--dbs', 'app']);
    expect(status.code, status.output).toBe(0);
    expect(status.report.action).toBe('status');
    expect(status.report.databases[0]).toMatchObject({ name: 'app', method: 'replication' });

    const cutover = await run(['cutover', '--dbs', 'app', '--max-lag-bytes', '0', '--timeout', '120']);
    expect(cutover.code, cutover.output).toBe(0);
    expect(cutover.report.databases[0]).toMatchObject({ name: 'app', status: 'done' });
    const [rows] = await target().query<{ n: number }>('SELECT count(*)::int AS n FROM public.items', [], 'app');
    expect(rows?.n).toBe(5010);
    const [left] = await target().query<{ n: number }>('SELECT count(*)::int AS n FROM pg_catalog.pg_subscription');
    expect(left?.n).toBe(0);
    const [seq] = await target().query<{ v: string }>(
      'SELECT last_value::text AS v FROM public.items_id_seq',
      [],
      'app',
    );
    expect(Number(seq?.v)).toBeGreaterThanOrEqual(5010);

    const abort = await run(['abort', '--dbs', 'app']);
    expect(abort.code, abort.output).toBe(0);
    expect(abort.report.action).toBe('abort');
  });
});
