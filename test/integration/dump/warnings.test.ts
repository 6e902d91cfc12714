/**
 * Nothing degraded in silence: each degradation a migration can meet on a non-superuser target is a warning in the
 * report, makes `ok` false without consent, and true with `accept` naming its kind.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConnectionString } from '../../../core/connection.js';
import type { RunContext } from '../../../core/context.js';
import { silentLogger } from '../../../core/logger.js';
import type { DatabaseResult, RoleResult } from '../../../core/report.js';
import { buildReport } from '../../../core/report-builder.js';
import { migrateByDump } from '../../../core/steps/dump.js';
import { migrateRoles } from '../../../core/steps/roles.js';
import type { WarningKind } from '../../../core/warnings.js';
import type { TestCluster } from '../../support/cluster.js';
import { useCluster } from '../../support/vitest.js';
import { planned, requestFor } from './support.js';

const source = useCluster({ version: 15 });
const target = useCluster({ version: 16 });
const older = useCluster({ version: 14 });

const ADMIN = { user: 'admin', password: 'admin-pw-1' };

function context(from: TestCluster, to: TestCluster, sourceUser?: typeof ADMIN, targetUser?: typeof ADMIN): RunContext {
  return {
    source: parseConnectionString(
      sourceUser ? from.uri('postgres', sourceUser.user, sourceUser.password) : from.uri(),
      'source',
    ),
    target: parseConnectionString(
      targetUser ? to.uri('postgres', targetUser.user, targetUser.password) : to.uri(),
      'target',
    ),
    logger: silentLogger,
    progress: () => {},
  };
}

const startedAt = new Date().toISOString();

/** `ok` of a migrate report: false without consent, false when any one kind present is left out, true with all. */
function consent(input: { databases?: DatabaseResult[]; roles?: RoleResult[] }, kinds: readonly WarningKind[]) {
  const report = (accept: readonly string[]) => buildReport({ action: 'migrate', startedAt, ...input, accept });
  return {
    without: report([]).ok,
    eachLeftOut: kinds.map((k) => report(kinds.filter((x) => x !== k)).ok),
    withAll: report(kinds).ok,
  };
}

const kindsOf = (warnings: readonly { kind: WarningKind }[] | undefined) => [
  ...new Set((warnings ?? []).map((w) => w.kind)),
];

describe('warnings of a dump migration to a non-superuser target', () => {
  let result: DatabaseResult;

  beforeAll(async () => {
    await source().query(`
      CREATE ROLE app NOLOGIN; CREATE ROLE ghost NOLOGIN; CREATE ROLE reader NOLOGIN;
      CREATE ROLE srcadmin LOGIN CREATEROLE PASSWORD 'src-pw-1';
      CREATE ROLE repl_user LOGIN REPLICATION PASSWORD 'repl-pw-1' IN ROLE pg_read_all_data;`);
    await source().createDatabase('degraded');
    await source().loadFixture(
      'degraded',
      `GRANT CREATE ON SCHEMA public TO app;
       CREATE TABLE public.app_t (id int PRIMARY KEY, v text);
       ALTER TABLE public.app_t OWNER TO app;
       INSERT INTO public.app_t SELECT g, 'v' || g FROM generate_series(1, 500) g;
       CREATE TABLE public.su_t (id int PRIMARY KEY);
       INSERT INTO public.su_t SELECT generate_series(1, 20);
       CREATE FUNCTION public.su_f() RETURNS int LANGUAGE sql SECURITY DEFINER AS 'SELECT 1';
       REVOKE EXECUTE ON FUNCTION public.su_f() FROM PUBLIC;
       GRANT EXECUTE ON FUNCTION public.su_f() TO app;
       GRANT SELECT ON public.app_t TO ghost;
       GRANT SELECT ON public.app_t TO reader;
       GRANT SELECT ON public.app_t TO repl_user;
       ALTER DATABASE degraded SET log_statement = 'all';`,
    );
    // The target user is an admin, not a superuser (as on RDS / Aiven), and may SET ROLE to app.
    await target().query(`
      CREATE ROLE admin LOGIN CREATEDB CREATEROLE PASSWORD '${ADMIN.password}';
      CREATE ROLE app NOLOGIN; GRANT app TO admin WITH SET TRUE; CREATE ROLE reader NOLOGIN;
      CREATE ROLE weak LOGIN PASSWORD 'weak-pw-1';`);
    result = await migrateByDump(
      context(source(), target(), undefined, ADMIN),
      requestFor({ roles: false }),
      planned('degraded'),
    );
  });

  it('migrates the data all the same', () => {
    expect(result.status).toBe('done');
    expect(result.rows).toBe(520);
  });

  it('keeps the owners the target user may set, and warns about those it may not (owner)', async () => {
    const owners = await target().query<{ name: string; owner: string }>(
      `SELECT c.relname AS name, pg_get_userbyid(c.relowner) AS owner FROM pg_class c
        WHERE c.relname IN ('app_t', 'su_t')
       UNION ALL SELECT p.proname, pg_get_userbyid(p.proowner) FROM pg_proc p WHERE p.proname = 'su_f' ORDER BY 1`,
      [],
      'degraded',
    );
    expect(owners).toEqual([
      { name: 'app_t', owner: 'app' },
      { name: 'su_f', owner: 'admin' },
      { name: 'su_t', owner: 'admin' },
    ]);
    const [db] = await target().query<{ owner: string }>(
      "SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = 'degraded'",
    );
    expect(db?.owner).toBe('admin');
    const owner = (result.warnings ?? []).filter((w) => w.kind === 'owner').map((w) => w.message);
    expect(owner).toEqual([
      '2 object(s) owned by postgres on the source are owned by admin on the target (the target user may not SET ROLE ' +
        'to it): function public.su_f(), table public.su_t',
      'database degraded: owned by postgres on the source, by admin on the target (the target user may not SET ROLE to it)',
    ]);
    expect(consent({ databases: [result] }, kindsOf(result.warnings))).toMatchObject({ without: false, withAll: true });
  });

  it('applies the grants to roles the target has, keeps the revoke from PUBLIC, and warns about the rest (grant)', async () => {
    const [acl] = await target().query<{ fn: string; t: string }>(
      `SELECT (SELECT proacl::text FROM pg_proc WHERE proname = 'su_f') AS fn,
              (SELECT relacl::text FROM pg_class WHERE relname = 'app_t') AS t`,
      [],
      'degraded',
    );
    expect(acl?.fn).toContain('app=X/');
    expect(acl?.fn).not.toMatch(/[{,]=X\//);
    expect(acl?.t).toContain('reader=r/app');
    expect(acl?.t).not.toContain('ghost');
    const grant = (result.warnings ?? []).filter((w) => w.kind === 'grant').map((w) => w.message);
    expect(grant).toEqual([
      '1 privilege(s) of ghost not granted (the role is missing on the target): SELECT on table public.app_t',
      '1 privilege(s) of repl_user not granted (the role is missing on the target): SELECT on table public.app_t',
    ]);
  });

  it('warns about a database setting the target user may not set (setting)', () => {
    const setting = (result.warnings ?? []).filter((w) => w.kind === 'setting').map((w) => w.message);
    expect(setting).toEqual([
      expect.stringMatching(/^database degraded: setting log_statement not applied: .*log_statement/),
    ]);
  });

  it('fails the report without consent, and each kind matters, until every kind is accepted', () => {
    const kinds = kindsOf(result.warnings);
    expect(kinds.sort()).toEqual(['grant', 'owner', 'setting']);
    expect(consent({ databases: [result] }, kinds)).toEqual({
      without: false,
      eachLeftOut: [false, false, false],
      withAll: true,
    });
  });

  it('warns when the target has not the locale provider of the source (locale)', async () => {
    await source().query(
      "CREATE DATABASE icu_db TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LC_COLLATE 'C' LC_CTYPE 'C'",
    );
    await source().loadFixture('icu_db', 'CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1), (2);');
    const icu = await migrateByDump(context(source(), older()), requestFor({ roles: false }), planned('icu_db'));
    expect(icu.status).toBe('done');
    expect(icu.warnings).toEqual([
      {
        kind: 'locale',
        message: "database icu_db: the source's locale provider (icu) is unavailable on the target: libc C used",
      },
    ]);
    expect(consent({ databases: [icu] }, ['locale'])).toEqual({ without: false, eachLeftOut: [false], withAll: true });
  });

  it('warns about role attributes, placeholder passwords and memberships the target cannot take', async () => {
    const { results } = await migrateRoles(
      context(source(), target(), { user: 'srcadmin', password: 'src-pw-1' }, ADMIN),
      requestFor({ dbs: ['degraded'] }),
      ['degraded'],
    );
    const repl = results.find((r) => r.name === 'repl_user');
    expect(repl?.status).toBe('created');
    expect(kindsOf(repl?.warnings).sort()).toEqual(['membership', 'placeholder-password', 'role-attribute']);
    expect(repl?.warnings?.find((w) => w.kind === 'role-attribute')?.message).toContain('REPLICATION');
    expect(repl?.warnings?.find((w) => w.kind === 'membership')?.message).toContain('pg_read_all_data');
    const report = buildReport({ action: 'migrate', startedAt, roles: results });
    expect(
      report.warnings
        .filter((w) => w.role === 'repl_user')
        .map((w) => w.kind)
        .sort(),
    ).toEqual(['membership', 'placeholder-password', 'role-attribute']);
    expect(consent({ roles: results }, kindsOf(results.flatMap((r) => r.warnings ?? [])))).toMatchObject({
      without: false,
      withAll: true,
    });
  });

  it('warns about a role the target user may not create (role)', async () => {
    await source().query('CREATE ROLE lonely NOLOGIN');
    await source().query('GRANT SELECT ON public.su_t TO lonely', [], 'degraded');
    const { results } = await migrateRoles(
      context(source(), target(), undefined, { user: 'weak', password: 'weak-pw-1' }),
      requestFor({ dbs: ['degraded'] }),
      ['degraded'],
    );
    const lonely = results.find((r) => r.name === 'lonely');
    expect(lonely?.status).toBe('failed');
    expect(lonely?.warnings?.map((w) => w.kind)).toEqual(['role']);
    expect(lonely?.warnings?.[0]?.message).toMatch(/^not created: .*permission denied/);
    expect(consent({ roles: results }, ['role'])).toEqual({ without: false, eachLeftOut: [false], withAll: true });
  });
});
