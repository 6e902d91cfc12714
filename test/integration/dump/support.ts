/** Shared helpers of the dump-method integration tests: fixture loading and equality proofs. */
import { execFileSync } from 'node:child_process';
import { parseConnectionString } from '../../../core/connection.js';
import type { RunContext } from '../../../core/context.js';
import { silentLogger } from '../../../core/logger.js';
import type { PlannedDatabase } from '../../../core/plan.js';
import { parseRequest, type Request } from '../../../core/request.js';
import type { TestCluster } from '../../support/cluster.js';

/** A 63-byte database name with quotes, spaces, a dash and unicode. */
export const WEIRD_DB = `We"ird db-ü ${'x'.repeat(63 - Buffer.byteLength('We"ird db-ü '))}`;

/** Loads the fixture: roles, then `shop`, `analytics` and a database with an awkward name (analytics.sql). */
export async function loadFixture(source: TestCluster): Promise<void> {
  await source.loadFixture('postgres', 'roles.sql');
  await source.createDatabase('shop', { owner: 'app_owner' });
  await source.loadFixture('shop', 'shop.sql');
  await source.createDatabase('analytics');
  await source.loadFixture('analytics', 'analytics.sql');
  await source.createDatabase(WEIRD_DB);
  await source.loadFixture(WEIRD_DB, 'analytics.sql');
}

export function contextFor(source: TestCluster, target: TestCluster, signal?: AbortSignal): RunContext {
  return {
    source: parseConnectionString(source.uri(), 'source'),
    target: parseConnectionString(target.uri(), 'target'),
    logger: silentLogger,
    progress: () => {},
    ...(signal ? { signal } : {}),
  };
}

export function requestFor(overrides: Record<string, unknown> = {}): Request {
  return parseRequest({
    action: 'migrate',
    source: { env: 'PG_MIGRATE_SOURCE' },
    target: { env: 'PG_MIGRATE_TARGET' },
    method: 'dump',
    jobs: 2,
    checksums: true,
    ...overrides,
  });
}

export function planned(name: string): PlannedDatabase {
  return { name, method: 'dump', reasons: [], replicaIdentityFull: [], targetExists: false };
}

/** `pg_dump --schema-only` of a database (pg_dump 15), with only what must differ normalised. */
export function schemaDump(cluster: TestCluster, database: string): string {
  const out = execFileSync(
    '/usr/lib/postgresql/15/bin/pg_dump',
    ['--schema-only', `--dbname=dbname='${database.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`],
    {
      env: {
        PATH: process.env.PATH,
        PGHOST: cluster.host,
        PGPORT: String(cluster.port),
        PGUSER: cluster.superuser,
        PGPASSWORD: cluster.password,
      },
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  return out
    .split('\n')
    .filter((l) => !/^-- Dumped (from database|by pg_dump) version|^\\(un)?restrict /.test(l))
    .join('\n');
}

/** Per-table row count and order-independent checksum, every user table, keyed by `schema.table`. */
export async function tableChecksums(cluster: TestCluster, database: string): Promise<Record<string, string>> {
  const tables = await cluster.query<{ q: string }>(
    `SELECT format('%I.%I', n.nspname, c.relname) AS q FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
      ORDER BY 1`,
    [],
    database,
  );
  const out: Record<string, string> = {};
  for (const { q } of tables) {
    const [row] = await cluster.query<{ n: string; h: string | null }>(
      `SELECT count(*) AS n, md5(string_agg(md5(t::text), '' ORDER BY md5(t::text))) AS h FROM ONLY ${q} AS t`,
      [],
      database,
    );
    out[q] = `${row?.n}:${row?.h}`;
  }
  return out;
}

/** Sequence values, large objects (oid → md5 of contents, owner) of a database. */
export async function sequencesAndLargeObjects(cluster: TestCluster, database: string): Promise<unknown> {
  const seqs = await cluster.query(
    'SELECT schemaname, sequencename, last_value::text FROM pg_sequences ORDER BY 1, 2',
    [],
    database,
  );
  const los = await cluster.query(
    `SELECT oid::text, pg_get_userbyid(lomowner) AS owner, md5(lo_get(oid)) AS h, obj_description(oid, 'pg_largeobject') AS comment
       FROM pg_largeobject_metadata ORDER BY oid`,
    [],
    database,
  );
  return { seqs, los };
}

/** The fixture roles' attributes, settings and memberships. */
export async function roleFacts(cluster: TestCluster): Promise<unknown> {
  const roles = await cluster.query(
    `SELECT rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, rolreplication, rolbypassrls,
            rolconnlimit, rolvaliduntil, (SELECT setconfig FROM pg_db_role_setting s WHERE s.setrole = r.oid AND s.setdatabase = 0) AS settings
       FROM pg_roles r WHERE rolname !~ '^pg_' AND rolname <> 'postgres' ORDER BY 1`,
  );
  const members = await cluster.query(
    `SELECT pg_get_userbyid(roleid) AS role, pg_get_userbyid(member) AS member, admin_option FROM pg_auth_members
      WHERE pg_get_userbyid(roleid) !~ '^pg_' ORDER BY 1, 2`,
  );
  return { roles, members };
}
