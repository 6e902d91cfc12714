/**
 * TLS through the bin, against servers with TLS on and a CA made here with openssl: with the default sslmode
 * (prefer) every session of a whole `migrate` (checks, roles, pg_dump / pg_restore, COPY, the replication
 * connection, the subscription's own sessions, cutover) is encrypted; verify-full passes with the right CA and
 * stops (exit code 2, a clear message) against a certificate that does not name the host; require stops against a
 * server without TLS.
 */
import { describe, expect, it } from 'vitest';
import { makeTestCa } from '../support/tls.js';
import { useCluster } from '../support/vitest.js';
import { jsonPath, leakForms, readJson, runCli } from './cli.js';

const ca = makeTestCa();
const settings = { log_connections: 'on' };
const source = useCluster({ version: 15, tls: { ca }, settings });
const target = useCluster({ version: 15, tls: { ca }, settings });
const misnamed = useCluster({ version: 15, tls: { ca, names: ['DNS:db.example.test'] } });
const plain = useCluster({ version: 15 });

interface ReportJson {
  ok: boolean;
  databases: Array<{ name: string; method: string; status: string }>;
}

async function run(args: string[], sourceUri: string, targetUri: string) {
  const path = jsonPath();
  const result = await runCli([...args, '--json', path], {
    PG_MIGRATE_SOURCE: sourceUri,
    PG_MIGRATE_TARGET: targetUri,
  });
  const output = `${result.stdout}\n${result.stderr}`;
  for (const secret of leakForms([source().password, target().password, plain().password]))
    expect(output).not.toContain(secret);
  return { code: result.code, output, report: readJson(path) as ReportJson };
}

/** The server log's "connection authorized" lines written while `fn` ran. */
async function sessionsDuring(fn: () => Promise<void>): Promise<string[]> {
  const before = [source().log().length, target().log().length] as const;
  await fn();
  return [source().log().slice(before[0]), target().log().slice(before[1])]
    .join('\n')
    .split('\n')
    .filter((line) => /connection authorized/.test(line));
}

describe('TLS through the bin', () => {
  it('encrypts every session of a whole migrate with the default sslmode (prefer)', async () => {
    await source().createDatabase('app');
    await source().loadFixture(
      'app',
      `CREATE ROLE app_owner NOLOGIN;
       CREATE TABLE public.items (id bigserial PRIMARY KEY, name text NOT NULL);
       ALTER TABLE public.items OWNER TO app_owner;
       INSERT INTO public.items (name) SELECT 'item ' || g FROM generate_series(1, 2000) g;
       SELECT pg_catalog.lo_from_bytea(0, 'a large object');`,
    );
    const sessions = await sessionsDuring(async () => {
      const result = await run(
        ['migrate', '--dbs', 'app', '--method', 'replication', '--cutover', '--timeout', '120'],
        source().uri('postgres'),
        target().uri('postgres'),
      );
      expect(result.code, result.output).toBe(0);
      expect(result.report.databases.map((d) => [d.name, d.status])).toEqual([['app', 'done']]);
    });
    const clear = sessions.filter((line) => !/SSL enabled/.test(line));
    expect(clear, clear.join('\n')).toEqual([]);
    // Checks, roles, dump tools, COPY streams, the slot's replication connection and the subscription's walsender.
    expect(sessions.length).toBeGreaterThan(20);
    expect(sessions.some((line) => /replication connection authorized/.test(line))).toBe(true);
    expect(sessions.some((line) => /application_name=pg-migrate-subscription/.test(line))).toBe(true);
    const [rows] = await target().query<{ n: number }>('SELECT count(*)::int AS n FROM public.items', [], 'app');
    expect(rows?.n).toBe(2000);
  });

  it('migrates by dump with verify-full and the CA that signed both certificates', async () => {
    await source().createDatabase('verified');
    await source().loadFixture(
      'verified',
      "CREATE TABLE public.t (id int PRIMARY KEY, v text); INSERT INTO public.t SELECT g, 'v' || g FROM generate_series(1, 100) g;",
    );
    const tls = `sslmode=verify-full&sslrootcert=${encodeURIComponent(ca.certFile)}`;
    const sessions = await sessionsDuring(async () => {
      const result = await run(
        ['migrate', '--dbs', 'verified', '--method', 'dump', '--no-roles'],
        `${source().uri('postgres')}?${tls}`,
        `${target().uri('postgres')}?${tls}`,
      );
      expect(result.code, result.output).toBe(0);
      expect(result.report.databases.map((d) => [d.name, d.status])).toEqual([['verified', 'done']]);
    });
    expect(sessions.filter((line) => !/SSL enabled/.test(line))).toEqual([]);
    const [rows] = await target().query<{ n: number }>('SELECT count(*)::int AS n FROM public.t', [], 'verified');
    expect(rows?.n).toBe(100);
  });

  it('fails when verify-full meets a certificate that does not name the host: exit code 2 and why', async () => {
    const result = await run(
      ['check'],
      `${misnamed().uri('postgres')}?sslmode=verify-full&sslrootcert=${encodeURIComponent(ca.certFile)}`,
      target().uri('postgres'),
    );
    expect(result.code, result.output).toBe(2);
    expect(result.output).toMatch(/certificate does not name "127\.0\.0\.1" \(sslmode=verify-full\)/);
  });

  it('fails when require meets a server without TLS: exit code 2 and why', async () => {
    const result = await run(['check'], source().uri('postgres'), `${plain().uri('postgres')}?sslmode=require`);
    expect(result.code, result.output).toBe(2);
    expect(result.output).toMatch(/does not accept TLS connections, and sslmode=require demands TLS/);
  });
});
