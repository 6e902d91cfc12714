/**
 * PostgreSQL 15 → 15, superusers on both sides: the happy path and the failing variants of the checks that do not
 * need another topology.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { CHECK_IDS, runCheck, runChecks } from '../../../core/checks/index.js';
import { buildPlan } from '../../../core/plan.js';
import { buildReport } from '../../../core/report-builder.js';
import { freePort } from '../../support/cluster.js';
import { useCluster } from '../../support/vitest.js';
import { contextFor, only, requestFor, statuses } from './support.js';

const source = useCluster({ version: 15, settings: { max_prepared_transactions: 4 } });
const target = useCluster({ version: 15, settings: { max_logical_replication_workers: 2 } });

const WEIRD = 'x"; drop database keyed; --';

beforeAll(async () => {
  const s = source();
  await s.createDatabase('keyed');
  await s.loadFixture(
    'keyed',
    `create extension hstore;
     create table items (id int primary key, tags hstore);
     insert into items select g, hstore('k', g::text) from generate_series(1, 100) g;`,
  );
  await s.createDatabase('shop');
  await s.loadFixture(
    'shop',
    `create table orders (id int primary key, total numeric);
     insert into orders select g, g * 1.5 from generate_series(1, 50) g;
     create table audit_log (at timestamptz, what text);
     create unlogged table cache (k text primary key, v text);
     create materialized view order_totals as select count(*) as n, sum(total) as total from orders;
     select lo_from_bytea(0, 'hello');`,
  );
  await s.createDatabase(WEIRD);
  await s.loadFixture(WEIRD, 'create table t (id int primary key);');
  await s.createRole('app_owner', { login: false });
}, 60_000);

const ctx = () => contextFor(source().uri(), target().uri());

describe('checks on PostgreSQL 15 → 15 as superuser', () => {
  it('passes every check for a clean database and plans replication for it', async () => {
    const request = requestFor({ dbs: ['keyed'] });
    const results = await runChecks(request, ctx());
    expect(results).toHaveLength(CHECK_IDS.length);
    results.forEach((list, i) => {
      expect(list.length, CHECK_IDS[i]).toBeGreaterThan(0);
      expect(
        list.every((r) => r.id === CHECK_IDS[i] && r.status === 'pass'),
        `${CHECK_IDS[i]}: ${JSON.stringify(list)}`,
      ).toBe(true);
    });
    const plan = buildPlan(request, results);
    expect(plan.blocked).toBe(false);
    expect(plan.databases).toEqual([
      expect.objectContaining({ name: 'keyed', method: 'replication', targetExists: false, replicaIdentityFull: [] }),
    ]);
    const report = buildReport({
      action: 'check',
      startedAt: new Date(Date.now() - 5).toISOString(),
      checks: results,
      plan,
    });
    expect(report.ok).toBe(true);
    expect(report.source).toMatchObject({ host: '127.0.0.1', port: source().port });
    expect(report.source?.version).toMatch(/^15\.\d+/);
    expect(JSON.stringify(report)).not.toContain(source().password);
  });

  it('names the pg_dump it found and its version', async () => {
    const [version] = await runCheck('version', requestFor(), ctx());
    expect(version?.status).toBe('pass');
    expect(String(version?.details?.pgDump)).toMatch(/\/pg_dump$/);
    expect(String(version?.details?.toolsVersion)).toMatch(/^1[5-9]/);
  });

  it('fails when the source password is wrong, without echoing it', async () => {
    const wrong = 'Wr0ng-s3cret-pw';
    const results = await runCheck(
      'connection-source',
      requestFor(),
      contextFor(source().uri('postgres', 'postgres', wrong), target().uri()),
    );
    expect(statuses(results)).toEqual(['fail']);
    expect(results[0]?.message).toMatch(/password authentication failed/);
    expect(results[0]?.remedy).toMatch(/password/);
    expect(JSON.stringify(results)).not.toContain(wrong);
  });

  it('fails when nothing listens on the target port, with a network remedy', async () => {
    const port = await freePort();
    const results = await runCheck(
      'connection-target',
      requestFor(),
      contextFor(source().uri(), `postgresql://postgres:pw@127.0.0.1:${port}/postgres`),
    );
    expect(statuses(results)).toEqual(['fail']);
    expect(results[0]?.remedy).toMatch(/listen_addresses|security group/);
    expect(JSON.stringify(results)).not.toContain(':pw@');
  });

  it.each([
    [
      'the server has no TLS but sslmode=require',
      (uri: string) => `${uri}?sslmode=require`,
      /does not accept TLS connections, and sslmode=require demands TLS/,
      /sslmode/,
    ],
    [
      'the database does not exist',
      (uri: string) => uri.replace(/\/postgres$/, '/no_such_db'),
      /does not exist/,
      /name an existing database/,
    ],
  ])('fails when %s, with a matching remedy', async (_name, change, message, remedy) => {
    const results = await runCheck(
      'connection-target',
      requestFor(),
      contextFor(source().uri(), change(target().uri())),
    );
    expect(statuses(results)).toEqual(['fail']);
    expect(results[0]?.message).toMatch(message);
    expect(results[0]?.remedy).toMatch(remedy);
  });

  it('fails when source and target are the same server under different host names', async () => {
    const s = source();
    const sameServer = contextFor(
      `postgresql://postgres:${encodeURIComponent(s.password)}@localhost:${s.port}/postgres`,
      s.uri('shop'),
    );
    const results = await runCheck('distinct-servers', requestFor(), sameServer);
    expect(statuses(results)).toEqual(['fail']);
    expect(results[0]?.message).toMatch(/same server/);
    const different = await runCheck('distinct-servers', requestFor(), ctx());
    expect(statuses(different)).toEqual(['pass']);
  });

  it('selects every database but templates, with any name, and reaches each', async () => {
    const results = await runCheck('source-databases', requestFor(), ctx());
    expect(statuses(results)).toEqual(['pass']);
    expect(results[0]?.details?.databases).toEqual(['keyed', 'postgres', 'shop', WEIRD]);
  });

  it('fails when the filter names a database that does not exist', async () => {
    const results = await runCheck('source-databases', requestFor({ dbs: ['keyed', 'nope'] }), ctx());
    expect(only(results, 'fail')).toHaveLength(1);
    expect(results[0]?.message).toMatch(/do not exist.*nope/);
    expect(results.some((r) => r.status === 'pass')).toBe(false);
  });

  it('fails when the filters leave nothing to migrate', async () => {
    const results = await runCheck(
      'source-databases',
      requestFor({ excludeDbs: ['keyed', 'postgres', 'shop', WEIRD] }),
      ctx(),
    );
    expect(statuses(results)).toEqual(['fail']);
    expect(results[0]?.message).toMatch(/leave no database/);
    expect(buildPlan(requestFor(), [results]).blocked).toBe(true);
  });

  it('fails when a target database already holds user data, and accepts one left by an interrupted run', async () => {
    const t = target();
    await t.createDatabase('shop');
    await t.loadFixture('shop', 'create table someone_elses (id int);');
    await t.createDatabase(WEIRD);
    await t.loadFixture(
      WEIRD,
      `create table t (id int primary key);
       create schema _pg_migrate; create table _pg_migrate.steps (step text primary key);
       insert into _pg_migrate.steps values ('pre-data');`,
    );
    try {
      const results = await runCheck('target-databases', requestFor(), ctx());
      expect(statuses(results)).toEqual(['pass:keyed', 'pass:postgres', 'fail:shop', `warn:${WEIRD}`]);
      expect(only(results, 'fail')[0]?.message).toMatch(/public\.someone_elses/);
      expect(results.map((r) => r.details?.targetExists)).toEqual([false, true, true, true]);
    } finally {
      await t.dropDatabase('shop');
      await t.dropDatabase(WEIRD);
    }
  });

  it('fails when the target has less free space than 130% of the source', async () => {
    const results = await runCheck('disk-space', requestFor({ targetFreeBytes: 1024 }), ctx());
    expect(statuses(results)).toEqual(['fail']);
    expect(results[0]?.details).toMatchObject({ freeBytes: 1024, freeFrom: 'request' });
    expect(Number(results[0]?.details?.requiredBytes)).toBeGreaterThan(Number(results[0]?.details?.sourceBytes));
  });

  it('measures the free space of a local target without running anything on the server', async () => {
    const results = await runCheck('disk-space', requestFor(), ctx());
    expect(statuses(results)).toEqual(['pass']);
    expect(results[0]?.details).toMatchObject({ freeFrom: 'statfs' });
  });

  it('fails when the target lacks apply workers for every database, and auto mode falls back to dump', async () => {
    const request = requestFor();
    const results = await runCheck('replication-slots', request, ctx());
    expect(statuses(results)).toEqual(['fail']);
    expect(results[0]?.message).toMatch(/max_logical_replication_workers/);
    expect(results[0]?.details?.replicationOnly).toBe(true);
    const plan = buildPlan(request, [
      results,
      await runCheck('source-databases', request, ctx()),
      await runCheck('replication-preconditions', request, ctx()),
      await runCheck('primary-keys', request, ctx()),
    ]);
    expect(plan.blocked).toBe(false);
    expect(plan.databases.map((d) => d.method)).toEqual(['dump', 'dump', 'dump', 'dump']);
    expect(plan.databases[0]?.reasons.join(' ')).toMatch(/max_logical_replication_workers/);
    const forced = buildPlan(requestFor({ method: 'replication' }), [
      results,
      await runCheck('source-databases', request, ctx()),
    ]);
    expect(forced.blocked).toBe(true);
    expect(forced.blockers.map((b) => b.id)).toContain('replication-slots');
  });

  it('is skipped for slots, preconditions and keys when dump is forced', async () => {
    const request = requestFor({ method: 'dump' });
    for (const id of ['replication-slots', 'replication-preconditions', 'primary-keys'] as const) {
      expect(statuses(await runCheck(id, request, ctx()))).toEqual(['skip']);
    }
  });

  it('passes languages and extensions available on the target', async () => {
    const langs = await runCheck('languages', requestFor({ dbs: ['keyed'] }), ctx());
    expect(statuses(langs)).toEqual(['pass:keyed']);
    const exts = await runCheck('extensions', requestFor({ dbs: ['keyed'] }), ctx());
    expect(statuses(exts)).toEqual(['pass:keyed']);
    expect(exts[0]?.message).toMatch(/hstore/);
  });

  it('warns when an existing target database has an older extension version', async () => {
    await target().createDatabase('keyed');
    try {
      await target().query("create extension hstore version '1.4'", [], 'keyed');
      const results = await runCheck('extensions', requestFor({ dbs: ['keyed'] }), ctx());
      expect(statuses(results)).toEqual(['warn:keyed']);
      expect(results[0]?.message).toMatch(/hstore 1\.4 \(source 1\.8\)/);
      expect(results[0]?.remedy).toMatch(/ALTER EXTENSION hstore UPDATE/);
    } finally {
      await target().dropDatabase('keyed');
    }
  });

  it('fails primary-keys for a table without key, and with consent lists it for REPLICA IDENTITY FULL', async () => {
    const request = requestFor({ dbs: ['shop', 'keyed'] });
    const results = await runCheck('primary-keys', request, ctx());
    expect(statuses(results)).toEqual(['pass:keyed', 'fail:shop']);
    expect(only(results, 'fail')[0]?.details?.tables).toEqual(['public.audit_log']);
    const consent = requestFor({ dbs: ['shop', 'keyed'], replicaIdentityFull: true });
    const consented = await runCheck('primary-keys', consent, ctx());
    expect(statuses(consented)).toEqual(['pass:keyed', 'warn:shop']);
    const plan = buildPlan(consent, await runChecks(consent, ctx()));
    expect(plan.databases.find((d) => d.name === 'shop')).toMatchObject({
      method: 'replication',
      replicaIdentityFull: ['public.audit_log'],
    });
    const skipped = await runCheck(
      'primary-keys',
      requestFor({ dbs: ['shop'], skipTables: ['shop.public.audit_log'] }),
      ctx(),
    );
    expect(statuses(skipped)).toEqual(['pass:shop']);
  });

  it('lists the roles to create: every role with --roles all, only those the databases need by default', async () => {
    const results = await runCheck('roles', requestFor({ roleScope: 'all' }), ctx());
    expect(statuses(results)).toEqual(['pass']);
    expect(results[0]?.details?.create).toEqual(['app_owner']);
    // app_owner owns nothing and holds no grant: no selected database needs it (core/role-scope.ts).
    const needed = await runCheck('roles', requestFor(), ctx());
    expect(statuses(needed)).toEqual(['pass']);
    expect(needed[0]?.details?.create).toEqual([]);
    expect(needed[0]?.details?.notNeeded).toBeGreaterThan(0);
    expect(statuses(await runCheck('roles', requestFor({ roles: false }), ctx()))).toEqual(['skip']);
  });

  it('reports what logical replication does not carry', async () => {
    const request = requestFor({ dbs: ['shop', 'keyed'] });
    expect(statuses(await runCheck('large-objects', request, ctx()))).toEqual(['pass:keyed', 'warn:shop']);
    expect(statuses(await runCheck('unlogged-tables', request, ctx()))).toEqual(['pass:keyed', 'warn:shop']);
    expect(statuses(await runCheck('materialized-views', request, ctx()))).toEqual(['pass:keyed', 'warn:shop']);
    const dump = requestFor({ dbs: ['shop'], method: 'dump' });
    expect(statuses(await runCheck('large-objects', dump, ctx()))).toEqual(['pass:shop']);
    expect(statuses(await runCheck('unlogged-tables', dump, ctx()))).toEqual(['pass:shop']);
  });

  it('fails when a materialized view reads a table whose data the filters leave out', async () => {
    const results = await runCheck(
      'materialized-views',
      requestFor({ dbs: ['shop'], skipTables: ['shop.public.orders'] }),
      ctx(),
    );
    expect(statuses(results)).toEqual(['fail:shop']);
    expect(results[0]?.message).toMatch(/public\.order_totals \(reads public\.orders\)/);
  });

  it('fails when a prepared transaction would stall slot creation, and only warns for dump', async () => {
    const client = await source().client('shop');
    try {
      await client.query("begin; insert into orders values (1000, 1); prepare transaction 'pgm-test-gid'");
      const results = await runCheck('source-activity', requestFor(), ctx());
      expect(statuses(results)).toEqual(['fail']);
      expect(results[0]?.message).toMatch(/pgm-test-gid/);
      expect(results[0]?.details?.replicationOnly).toBe(true);
      expect(statuses(await runCheck('source-activity', requestFor({ method: 'dump' }), ctx()))).toEqual(['warn']);
    } finally {
      await client.query("rollback prepared 'pgm-test-gid'");
      await client.end();
    }
    expect(statuses(await runCheck('source-activity', requestFor(), ctx()))).toEqual(['pass']);
  });

  it('warns instead of hanging when a catalog it reads is locked', async () => {
    const client = await source().client('shop');
    try {
      await client.query('begin; lock table pg_catalog.pg_largeobject_metadata in access exclusive mode');
      const started = Date.now();
      const results = await runCheck(
        'large-objects',
        requestFor({ dbs: ['shop', 'keyed'], checkStatementTimeoutMs: 1000 }),
        ctx(),
      );
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(statuses(results)).toEqual(['pass:keyed', 'warn:shop']);
      expect(results[1]?.message).toMatch(
        /cannot count the large objects of "shop": .*(lock timeout|statement timeout)/,
      );
    } finally {
      await client.query('rollback');
      await client.end();
    }
  });
});
