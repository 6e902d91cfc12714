/**
 * A degradation through the CLI: a migration to a non-superuser target that cannot keep an owner ends with the
 * warning in the summary and the report, exit code 1; the same migration with `--accept owner` exits 0.
 */
import { describe, expect, it } from 'vitest';
import { useCluster } from '../support/vitest.js';
import { jsonPath, readJson, runCli } from './cli.js';

const source = useCluster({ version: 15 });
const target = useCluster({ version: 15 });

interface JsonReport {
  ok: boolean;
  databases: Array<{
    name: string;
    status: string;
    warnings?: Array<{ kind: string; message: string; accepted: boolean }>;
  }>;
}

describe('warnings through the CLI', () => {
  it('exits 1 with the warning shown when an owner cannot be kept, and 0 once --accept owner consents', async () => {
    await source().createDatabase('owned');
    await source().loadFixture(
      'owned',
      `CREATE TABLE public.t (id int PRIMARY KEY); INSERT INTO public.t SELECT generate_series(1, 100);
       CREATE FUNCTION public.f() RETURNS int LANGUAGE sql SECURITY DEFINER AS 'SELECT 1';`,
    );
    await target().query("CREATE ROLE admin LOGIN CREATEDB CREATEROLE PASSWORD 'admin-pw-2'");
    const env = {
      PG_MIGRATE_SOURCE: source().uri('postgres'),
      PG_MIGRATE_TARGET: target().uri('postgres', 'admin', 'admin-pw-2'),
    };
    const args = ['migrate', '--dbs', 'owned', '--method', 'dump', '--no-roles'];

    const first = jsonPath();
    const degraded = await runCli([...args, '--json', first], env);
    const output = `${degraded.stdout}\n${degraded.stderr}`;
    expect(degraded.code, output).toBe(1);
    expect(output).toContain('Warnings');
    expect(output).toMatch(/owned: owner: 2 object\(s\) owned by postgres on the source are owned by admin/);
    expect(output).toMatch(/DEGRADED — 2 warnings not accepted \(owner\).*--accept owner/);
    const report = readJson(first) as JsonReport;
    expect(report.ok).toBe(false);
    expect(report.databases[0]?.status).toBe('done');
    expect(report.databases[0]?.warnings?.map((w) => [w.kind, w.accepted])).toEqual([
      ['owner', false],
      ['owner', false],
    ]);
    const [rows] = await target().query<{ n: number }>('SELECT count(*)::int AS n FROM public.t', [], 'owned');
    expect(rows?.n).toBe(100);

    await target().dropDatabase('owned');
    const second = jsonPath();
    const consented = await runCli([...args, '--accept', 'owner', '--json', second], env);
    const output2 = `${consented.stdout}\n${consented.stderr}`;
    expect(consented.code, output2).toBe(0);
    expect(output2).toMatch(/OK — 1 database done \(2 accepted warnings\)/);
    const report2 = readJson(second) as JsonReport;
    expect(report2.ok).toBe(true);
    expect(report2.databases[0]?.warnings?.every((w) => w.kind === 'owner' && w.accepted)).toBe(true);
  });
});
