/**
 * Roles only as far as needed: a run that migrates one database of several creates the roles that database needs
 * (owners, grantees, policy and default-privilege roles, roles with settings there, and their groups up the chain),
 * not the cluster's other roles; privileged attributes only with consent; memberships in pre-existing target roles
 * reported.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { collectRoleScope, rolesInScope } from '../../core/role-scope.js';
import { migrateRoles } from '../../core/steps/roles.js';
import { useCluster } from '../support/vitest.js';
import { replicationRequest, runContext } from './replication/support.js';

const source = useCluster({ version: 15 });
const target = useCluster({ version: 15 });

const SALES_ROLES = [
  'dba_super',
  'reporting',
  'sales_app',
  'sales_auditor',
  'sales_owner',
  'sales_reader',
  'sales_tuner',
];

describe('role scope', () => {
  beforeAll(async () => {
    await source().query(`
      CREATE ROLE reporting NOLOGIN;
      CREATE ROLE sales_owner NOLOGIN;
      CREATE ROLE sales_reader NOLOGIN IN ROLE reporting;
      CREATE ROLE sales_app LOGIN PASSWORD 'sales-app-pw';
      CREATE ROLE sales_auditor NOLOGIN;
      CREATE ROLE sales_tuner NOLOGIN;
      CREATE ROLE alice LOGIN PASSWORD 'alice-pw' IN ROLE sales_reader;
      CREATE ROLE dba_super SUPERUSER LOGIN PASSWORD 'dba-pw';
      CREATE ROLE hr_owner NOLOGIN;
      CREATE ROLE hr_reader NOLOGIN;`);
    await source().createDatabase('sales', { owner: 'sales_owner' });
    await source().createDatabase('hr', { owner: 'hr_owner' });
    await source().loadFixture(
      'sales',
      `CREATE TABLE orders (id int PRIMARY KEY, region text);
       ALTER TABLE orders ENABLE ROW LEVEL SECURITY;
       CREATE POLICY auditors ON orders FOR SELECT TO sales_auditor USING (true);
       GRANT SELECT ON orders TO sales_reader;
       ALTER DEFAULT PRIVILEGES GRANT INSERT ON TABLES TO sales_app;
       ALTER ROLE sales_tuner IN DATABASE sales SET work_mem = '64MB';
       CREATE TABLE audit_log (at timestamptz); ALTER TABLE audit_log OWNER TO dba_super;`,
    );
    await source().loadFixture('hr', 'CREATE TABLE people (id int); GRANT SELECT ON people TO hr_reader;');
  }, 120_000);

  it('finds the roles one database needs, with why, and their groups up the chain', async () => {
    const facts = await collectRoleScope(runContext(source(), target()).source, ['sales']);
    const scope = rolesInScope(facts, 'needed');
    expect([...scope.keys()].filter((r) => !r.startsWith('pg_') && r !== 'postgres').sort()).toEqual(SALES_ROLES);
    expect(scope.get('sales_owner')).toContain('owner in sales');
    expect(scope.get('sales_reader')).toContain('grantee in sales');
    expect(scope.get('sales_auditor')).toContain('policy in sales');
    expect(scope.get('sales_app')).toContain('default privileges in sales');
    expect(scope.get('sales_tuner')).toContain('settings in sales');
    expect(scope.get('reporting')).toEqual(['sales_reader is a member']);
    expect(scope.has('alice')).toBe(false);
    expect(scope.has('hr_owner')).toBe(false);
    expect([...rolesInScope(facts, 'all').keys()]).toEqual(expect.arrayContaining(['alice', 'hr_owner', 'hr_reader']));
  });

  it('creates only the roles the selected database needs, a superuser without SUPERUSER, and reports memberships in pre-existing roles', async () => {
    await target().query('CREATE ROLE reporting NOLOGIN');
    const ctx = runContext(source(), target());
    const { results } = await migrateRoles(ctx, replicationRequest(source(), target()), ['sales']);
    const created = results.filter((r) => r.status === 'created').map((r) => r.name);
    expect(created.sort()).toEqual(SALES_ROLES.filter((r) => r !== 'reporting'));
    expect(results.find((r) => r.name === 'reporting')?.status).toBe('exists');
    const onTarget = await target().query<{ rolname: string }>(
      "SELECT rolname FROM pg_roles WHERE rolname IN ('alice', 'hr_owner', 'hr_reader')",
    );
    expect(onTarget).toEqual([]);
    expect(results.find((r) => r.name === 'dba_super')?.message).toMatch(
      /created without SUPERUSER \(not consented: --role-attributes superuser recreates it\)/,
    );
    expect(results.find((r) => r.name === 'sales_reader')?.message).toMatch(
      /member of "reporting" \(a role that was on the target already\)/,
    );
    const [dba] = await target().query<{ rolsuper: boolean }>(
      "SELECT rolsuper FROM pg_roles WHERE rolname = 'dba_super'",
    );
    expect(dba?.rolsuper).toBe(false);

    await target().query('DROP ROLE dba_super');
    const consented = await migrateRoles(
      ctx,
      replicationRequest(source(), target(), { roleAttributes: ['superuser'] }),
      ['sales'],
    );
    expect(consented.results.find((r) => r.name === 'dba_super')).toMatchObject({
      status: 'created',
      message: 'password verifier copied',
    });
    const [again] = await target().query<{ rolsuper: boolean }>(
      "SELECT rolsuper FROM pg_roles WHERE rolname = 'dba_super'",
    );
    expect(again?.rolsuper).toBe(true);
  });

  it('creates every role with --roles all', async () => {
    const { results } = await migrateRoles(
      runContext(source(), target()),
      replicationRequest(source(), target(), { roleScope: 'all' }),
      ['sales'],
    );
    expect(
      results
        .filter((r) => r.status === 'created')
        .map((r) => r.name)
        .sort(),
    ).toEqual(['alice', 'hr_owner', 'hr_reader']);
  });
});
