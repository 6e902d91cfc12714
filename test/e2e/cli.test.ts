/**
 * pg-migrate through its bin, as a user runs it, against real servers: check, each bad input (exit code 2, a
 * clear message, nothing written to the target, no password in any output), then migrate by dump.
 */
import { describe, expect, it } from 'vitest';
import { useCluster } from '../support/vitest.js';
import { jsonPath, leakForms, readJson, runCli, serverState } from './cli.js';
import { freePort } from '../support/cluster.js';

const source = useCluster({ version: 14 });
const target = useCluster({ version: 15 });

const ROLE_PASSWORDS = ['app-rw-secret', 'analyst-secret', 'bot-secret'];
const WRONG_PASSWORD = 'Wr0ng&pa$$word:/@';
let loaded = false;

async function loadSource(): Promise<void> {
  if (loaded) return;
  const s = source();
  await s.loadFixture('postgres', 'roles.sql');
  await s.createDatabase('shop', { owner: 'app_owner' });
  await s.loadFixture('shop', 'shop.sql');
  await s.createDatabase('analytics');
  await s.loadFixture('analytics', 'analytics.sql');
  await s.createDatabase('tcl');
  await s.loadFixture(
    'tcl',
    'CREATE EXTENSION pltcl; CREATE TABLE public.t (id int PRIMARY KEY); INSERT INTO public.t VALUES (1);',
  );
  loaded = true;
}

function secrets(): string[] {
  return leakForms([source().password, target().password, WRONG_PASSWORD, ...ROLE_PASSWORDS]);
}

function expectNoSecret(output: string): void {
  for (const secret of secrets()) expect(output, `a secret leaked`).not.toContain(secret);
}

/** Runs a command that must stop before writing: exit code 2, the message, the target untouched, no secret. */
async function expectStopped(args: string[], message: RegExp, env: Record<string, string> = {}): Promise<void> {
  await loadSource();
  const before = await serverState(target());
  const report = jsonPath();
  const result = await runCli([...args, '--json', report], env);
  const output = `${result.stdout}\n${result.stderr}`;
  expect(result.code, output).toBe(2);
  expect(output).toMatch(message);
  expectNoSecret(output);
  expect(await serverState(target())).toEqual(before);
}

describe('pg-migrate through its bin', () => {
  it('checks two servers and reports no blocker, with exit code 0 and the report in --json', async () => {
    await loadSource();
    const report = jsonPath();
    const before = await serverState(target());
    const result = await runCli(['check', '--dbs', 'shop,analytics', '--json', report], {
      PG_MIGRATE_SOURCE: source().uri('postgres'),
      PG_MIGRATE_TARGET: target().uri('postgres'),
    });
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(result.stdout).toContain('pre-checks');
    expect(result.stdout).toMatch(/OK — no blocker/);
    expectNoSecret(result.stdout + result.stderr);
    const json = readJson(report) as { ok: boolean; action: string; checks: Array<{ id: string }> };
    expect(json.ok).toBe(true);
    expect(json.action).toBe('check');
    expect(new Set(json.checks.map((c) => c.id))).toContain('version');
    expect(JSON.stringify(json)).not.toContain(source().password);
    expect(await serverState(target())).toEqual(before);
  });

  it('fails when source and target are the same server', async () => {
    await expectStopped(
      ['check', '--source', source().uri('postgres'), '--target', source().uri('shop')],
      /same server/,
    );
  });

  it('fails when the target password is wrong', async () => {
    await expectStopped(
      [
        'migrate',
        '--dbs',
        'shop',
        '--source',
        source().uri('postgres'),
        '--target',
        target().uri('postgres', 'postgres', WRONG_PASSWORD),
      ],
      /password/i,
    );
  });

  it('fails when the target host is unreachable', async () => {
    const closed = await freePort();
    await expectStopped(['migrate', '--dbs', 'shop'], /connect|refused|reach/i, {
      PG_MIGRATE_SOURCE: source().uri('postgres'),
      PG_MIGRATE_TARGET: `postgresql://postgres:${encodeURIComponent(target().password)}@127.0.0.1:${closed}/postgres?connect_timeout=3`,
    });
  });

  it('fails when a connection string is garbage, before connecting anywhere', async () => {
    await expectStopped(
      ['migrate', '--source', `postgres://postgres:${WRONG_PASSWORD}@[::1`, '--target', target().uri('postgres')],
      /source: cannot parse connection string/,
    );
  });

  it('fails when a source database uses an extension the target does not have', async () => {
    await expectStopped(
      ['migrate', '--dbs', 'tcl', '--source', source().uri('postgres'), '--target', target().uri('postgres')],
      /pltcl/,
    );
  });

  it('fails when --dbs names a database that does not exist on the source', async () => {
    await expectStopped(
      [
        'migrate',
        '--dbs',
        'shop,no_such_db',
        '--source',
        source().uri('postgres'),
        '--target',
        target().uri('postgres'),
      ],
      /no_such_db/,
    );
  });

  it('migrates by dump: exit code 0, every table with its rows on the target, the report in --json', async () => {
    await loadSource();
    const report = jsonPath();
    const result = await runCli(['migrate', '--dbs', 'shop,analytics', '--method', 'dump', '--json', report], {
      PG_MIGRATE_SOURCE: source().uri('postgres'),
      PG_MIGRATE_TARGET: target().uri('postgres'),
    });
    const output = `${result.stdout}\n${result.stderr}`;
    expect(result.code, output).toBe(0);
    expectNoSecret(output);
    const json = readJson(report) as {
      ok: boolean;
      databases: Array<{ name: string; status: string; method: string; rows: number }>;
    };
    expect(json.ok).toBe(true);
    expect(json.databases.map((d) => [d.name, d.method, d.status]).sort()).toEqual([
      ['analytics', 'dump', 'done'],
      ['shop', 'dump', 'done'],
    ]);
    for (const db of ['shop', 'analytics']) {
      const count = `SELECT format('%I.%I', schemaname, relname) AS t FROM pg_catalog.pg_stat_user_tables ORDER BY 1`;
      const tables = (await source().query<{ t: string }>(count, [], db)).map((r) => r.t);
      expect(tables.length).toBeGreaterThan(0);
      for (const table of tables) {
        const q = `SELECT count(*)::int AS n FROM ${table}`;
        const [s] = await source().query<{ n: number }>(q, [], db);
        const [t] = await target().query<{ n: number }>(q, [], db);
        expect(t?.n, `${db}.${table}`).toBe(s?.n);
      }
    }
    expect(output).toMatch(/OK — 2 databases done/);
  });
});
