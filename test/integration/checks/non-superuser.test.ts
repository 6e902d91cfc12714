/**
 * Non-superuser users: a plain reader on a PostgreSQL 15 source, plain deployers on a PostgreSQL 16 target.
 * Checks that cannot see everything warn or skip with the reason; privilege gaps fail with a remedy.
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCheck, runChecks } from '../../../core/checks/index.js';
import { buildPlan } from '../../../core/plan.js';
import { useCluster } from '../../support/vitest.js';
import { contextFor, only, requestFor, statuses } from './support.js';

const source = useCluster({ version: 15 });
const target = useCluster({ version: 16, settings: { max_logical_replication_workers: 16, max_worker_processes: 24 } });
const PW = 'reader-pw-1';
const TENANTS = Array.from({ length: 12 }, (_, i) => `tenant_${String(i + 1).padStart(2, '0')}`);

beforeAll(async () => {
  const s = source();
  await s.createRole('reader', { password: PW });
  await s.createRole('crm_app', { login: false });
  await s.createRole('repl_bot', { replication: true });
  await s.createDatabase('crm');
  await s.loadFixture(
    'crm',
    `create extension hstore; create extension pg_stat_statements;
     create table customers (id int primary key, name text); grant select on customers to reader;
     create unlogged table sessions (id int primary key);
     select lo_from_bytea(0, 'secret');`,
  );
  await s.createDatabase('locked');
  await s.query('revoke connect on database locked from public');
  for (const name of TENANTS) {
    await s.createDatabase(name);
    await s.loadFixture(name, 'create table accounts (id int primary key, balance numeric);');
  }
  const t = target();
  for (const name of TENANTS.slice(0, 2)) await t.createDatabase(name);
  await t.createRole('deployer', { password: PW, createdb: true });
  await t.createRole('admin16', { password: PW, createdb: true, createrole: true });
  await t.createRole('nobody', { password: PW });
}, 60_000);

const reader = () => source().uri('postgres', 'reader', PW);
const as = (targetUser: string, sourceUri = reader()) =>
  contextFor(sourceUri, target().uri('postgres', targetUser, PW));
const crm = requestFor({ dbs: ['crm'] });

describe('checks with non-superuser users (15 → 16)', () => {
  let other: pg.Client | undefined;
  afterAll(async () => {
    await other?.end();
  });

  it('connects and reports that the users are not superusers', async () => {
    const [src] = await runCheck('connection-source', crm, as('deployer'));
    const [tgt] = await runCheck('connection-target', crm, as('deployer'));
    expect([src?.status, tgt?.status]).toEqual(['pass', 'pass']);
    expect(src?.details).toMatchObject({ superuser: false });
    expect(String(src?.details?.version)).toMatch(/^15\./);
    expect(tgt?.details).toMatchObject({ superuser: false });
    expect(String(tgt?.details?.version)).toMatch(/^16\./);
  });

  it('tells the servers apart, and fails when they are the same, without superuser', async () => {
    await source().query('revoke execute on function pg_catalog.pg_control_system() from public');
    const apart = await runCheck('distinct-servers', crm, as('deployer'));
    expect(statuses(apart)).toEqual(['pass']);
    expect(apart[0]?.details?.source).not.toHaveProperty('systemIdentifier');
    expect(apart[0]?.details?.source).not.toHaveProperty('dataDirectory');
    const s = source();
    const same = contextFor(reader(), `postgresql://reader:${PW}@localhost:${s.port}/crm`);
    expect(statuses(await runCheck('distinct-servers', crm, same))).toEqual(['fail']);
  });

  it('fails source-databases for a database the user may not connect to, and other checks warn about it', async () => {
    const request = requestFor({ dbs: ['crm', 'locked'] });
    const results = await runCheck('source-databases', request, as('deployer'));
    expect(statuses(results)).toEqual(['fail:locked']);
    expect(results[0]?.message).toMatch(/permission denied/);
    expect(results[0]?.remedy).toMatch(/GRANT CONNECT/);
    expect(statuses(await runCheck('languages', request, as('deployer')))).toEqual(['pass:crm', 'warn:locked']);
  });

  it('fails target-databases when the target user cannot create databases, and warns when it cannot hand one over', async () => {
    // crm belongs to the source's superuser: the deployer (not a superuser, 16) may create it but not SET ROLE to
    // that owner, so the database keeps the deployer as owner — the migration's owner warning, said by the check.
    const [created] = await runCheck('target-databases', crm, as('deployer'));
    expect(created).toMatchObject({
      status: 'warn',
      database: 'crm',
      details: { targetExists: false, owner: 'deployer' },
    });
    expect(created?.message).toMatch(/owned by "deployer" and not by "postgres"/);
    const results = await runCheck('target-databases', crm, as('nobody'));
    expect(statuses(results)).toEqual(['fail:crm']);
    expect(results[0]?.remedy).toMatch(/CREATEDB/);
  });

  it('warns with the figures when the target free space cannot be known', async () => {
    const results = await runCheck('disk-space', crm, as('deployer'));
    expect(statuses(results)).toEqual(['warn']);
    expect(results[0]?.message).toMatch(/free space is unknown/);
    expect(Number(results[0]?.details?.requiredBytes)).toBeGreaterThan(0);
  });

  it('installs trusted extensions without superuser and fails for one that needs superuser', async () => {
    const results = await runCheck('extensions', crm, as('deployer'));
    expect(statuses(results)).toEqual(['fail:crm']);
    expect(results[0]?.message).toMatch(/pg_stat_statements .* needs superuser/);
    const sup = await runCheck('extensions', crm, contextFor(reader(), target().uri()));
    expect(statuses(sup)).toEqual(['pass:crm']);
    expect(sup[0]?.message).toMatch(/hstore 1\.\d+ \(installable as superuser\)/);
  });

  it('fails replication-preconditions for plain users and names each side', async () => {
    const results = await runCheck('replication-preconditions', crm, as('deployer'));
    expect(statuses(results)).toEqual(['fail:crm', 'fail:crm']);
    expect(results[0]?.message).toMatch(/source user "reader" may not publish/);
    expect(results[1]?.message).toMatch(/target user "deployer" may not create subscriptions/);
    expect(results[1]?.remedy).toMatch(/pg_create_subscription/);
    await target().query('grant pg_create_subscription to deployer');
    const granted = await runCheck('replication-preconditions', crm, as('deployer', source().uri()));
    expect(statuses(granted)).toEqual(['pass:crm']);
  });

  it('fails roles when the target user cannot create roles, and warns about attributes it cannot grant', async () => {
    // Every role (--roles all), the privileged attributes consented: what the target user itself cannot grant.
    const all = requestFor({ dbs: ['crm'], roleScope: 'all', roleAttributes: ['replication'] });
    const results = await runCheck('roles', all, as('deployer'));
    expect(statuses(results)).toEqual(['fail']);
    expect(results[0]?.details?.missing).toEqual(expect.arrayContaining(['crm_app', 'reader', 'repl_bot']));
    const withCreateRole = await runCheck('roles', all, as('admin16'));
    expect(statuses(withCreateRole)).toEqual(['pass', 'warn', 'warn']);
    expect(withCreateRole[1]?.details?.withoutAttributes).toEqual({ repl_bot: ['REPLICATION'] });
    expect(withCreateRole[2]?.message).toMatch(/cannot read password hashes/);
  });

  it('fails large-objects and unlogged-tables when the source user cannot read them', async () => {
    const los = await runCheck('large-objects', crm, as('deployer'));
    expect(statuses(los)).toEqual(['fail:crm']);
    expect(los[0]?.details).toEqual({ largeObjects: 1, unreadable: 1 });
    const unlogged = await runCheck('unlogged-tables', crm, as('deployer'));
    expect(statuses(unlogged)).toEqual(['fail:crm']);
    expect(unlogged[0]?.details?.unreadable).toEqual(['public.sessions']);
    const dumpAsOwner = requestFor({ dbs: ['crm'], method: 'dump' });
    expect(statuses(await runCheck('large-objects', dumpAsOwner, as('deployer', source().uri())))).toEqual([
      'pass:crm',
    ]);
    expect(statuses(await runCheck('unlogged-tables', dumpAsOwner, as('deployer', source().uri())))).toEqual([
      'pass:crm',
    ]);
  });

  it('warns when other sessions are hidden from the source user', async () => {
    other = await source().client('crm');
    await other.query('begin; select 1');
    const results = await runCheck('source-activity', crm, as('deployer'));
    expect(only(results, 'warn').map((r) => r.message)).toEqual([
      expect.stringMatching(/cannot see the transactions of \d+ other session/),
    ]);
    await other.query('commit');
  });

  it('merges the passes of many databases into one result per check, and still plans each database', async () => {
    const request = requestFor({ dbs: TENANTS });
    const results = await runChecks(request, contextFor(source().uri(), target().uri()));
    const languages = results.flat().filter((r) => r.id === 'languages');
    expect(statuses(languages)).toEqual(['pass']);
    expect(languages[0]?.details?.databases).toEqual(TENANTS);
    expect(results.flat().filter((r) => r.database !== undefined && r.status === 'pass')).toEqual([]);
    const plan = buildPlan(request, results);
    expect(plan.blocked).toBe(false);
    expect(plan.databases.map((d) => d.method)).toEqual(TENANTS.map(() => 'replication'));
    expect(plan.databases.filter((d) => d.targetExists).map((d) => d.name)).toEqual(TENANTS.slice(0, 2));
  });
});
