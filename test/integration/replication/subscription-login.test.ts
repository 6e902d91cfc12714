/**
 * How the subscription logs in to the source (core/steps/replication/login.ts): a per-run role with a random
 * password when the source user may make one, dropped at cutover and abort; the source user's own login, with a
 * `subscription-login` warning, where it may not. Sources are provider profiles (non-superuser admins); the target
 * logs every statement.
 *
 * PostgreSQL 16 sources cannot be dumped by this machine's pg_dump 15, so their tests create the target schema
 * themselves (the steps the dump engine would run are replaced; the data still goes through the COPY engine or
 * the target's tablesync).
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseConnectionString } from '../../../core/connection.js';
import type { RunContext } from '../../../core/context.js';
import type { PlannedDatabase } from '../../../core/plan.js';
import type { Request } from '../../../core/request.js';
import { scramVerifier } from '../../../core/scram.js';
import {
  abortReplication,
  cutoverDatabase,
  migrateByReplication,
  type ReplicationSteps,
  replicationNames,
  replicationStatus,
  subscriptionRoleName,
} from '../../../core/steps/replication/index.js';
import type { TestCluster } from '../../support/cluster.js';
import { type ProviderServer, providerExtensionsInstalled, useProvider } from '../../support/providers.js';
import { useCluster } from '../../support/vitest.js';
import { leftovers, planned, replicationRequest, runContext } from './support.js';

const LOG_EVERYTHING = { log_statement: 'all', log_min_duration_statement: 0, log_min_error_statement: 'error' };
const aiven16 = useProvider('aiven', { version: 16, settings: LOG_EVERYTHING });
const rds16 = useProvider('rds', { version: 16 });
const aiven15 = useProvider('aiven', { version: 15 });
const rds15 = useProvider('rds', { version: 15 });
/** An Aiven target: avnadmin subscribes through aiven_extras (the subscription belongs to the extension). */
const aivenTarget = useProvider('aiven', { version: 15 });
const target = useCluster({ version: 15, settings: LOG_EVERYTHING });

const SCHEMA = `
  CREATE SCHEMA sales;
  CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL);
  CREATE TABLE sales.orders (id bigint PRIMARY KEY, item_id int NOT NULL, qty int NOT NULL);`;
const DATA = `
  INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 300) g;
  INSERT INTO sales.orders SELECT g, 1 + g % 300, g % 5 FROM generate_series(1, 2000) g;`;

/** The target schema made directly (a 16 source cannot be dumped here); the rest is the real engine. */
function schemaSteps(sql: string): Partial<ReplicationSteps> {
  return {
    async ensureTargetDatabase(_ctx, _request, database) {
      const [exists] = await target().query('SELECT 1 FROM pg_database WHERE datname = $1', [database.name]);
      if (!exists) await target().createDatabase(database.name);
    },
    async restorePreData(_ctx, _request, database) {
      await target().loadFixture(database.name, sql);
    },
    async restorePostData() {},
  };
}

function contextFor(source: ProviderServer): RunContext {
  return runContext(source.cluster, target(), source.uri());
}

function requestFor(source: ProviderServer, extra: Parameters<typeof replicationRequest>[2] = {}): Request {
  return replicationRequest(source.cluster, target(), { source: { uri: source.uri() }, ...extra });
}

async function subconninfo(database: string): Promise<string> {
  const [row] = await target().query<{ c: string }>('SELECT subconninfo AS c FROM pg_subscription WHERE subname = $1', [
    replicationNames(database).subscription,
  ]);
  return row?.c ?? '';
}

async function subscriptionRoles(cluster: TestCluster): Promise<string[]> {
  const rows = await cluster.query<{ n: string }>(
    "SELECT rolname AS n FROM pg_roles WHERE rolname LIKE 'pgmigrate\\_sub\\_%' ORDER BY 1",
  );
  return rows.map((r) => r.n);
}

async function prepareSource(source: ProviderServer, database: string): Promise<PlannedDatabase> {
  await source.createDatabase(database);
  await source.asAdmin(database, SCHEMA + DATA);
  return planned(database);
}

/**
 * Rotates the admin's password as a secrets manager would (only a verifier in the statement, so the test's own
 * statement puts no password in a server log) and drops the subscription's walsender, so that its apply worker must
 * log in again. Returns a context with the new password.
 */
async function rotateAdminPassword(source: ProviderServer): Promise<{ password: string; ctx: RunContext }> {
  const password = `rot-${randomBytes(12).toString('base64url')}`;
  await source.cluster.query(`ALTER ROLE ${source.admin} PASSWORD '${scramVerifier(password)}'`);
  await source.cluster.query(
    "SELECT pg_terminate_backend(pid) FROM pg_stat_replication WHERE application_name = 'pg-migrate-subscription'",
  );
  return { password, ctx: runContext(source.cluster, target(), source.uri('postgres', source.admin, password)) };
}

/** Polls `check` until it holds (bounded: a failure names what was awaited). */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function count(cluster: TestCluster, database: string, table: string): Promise<number> {
  const [row] = await cluster.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`, [], database);
  return row!.n;
}

describe('the subscription logs in as a per-run role', () => {
  it('replicates from a non-superuser aiven source (16) through its own role, keeps the admin password out of pg_subscription and both logs, and drops the role at cutover', async () => {
    const s = aiven16();
    const db = await prepareSource(s, 'loginshop');
    const ctx = contextFor(s);
    const request = requestFor(s);
    const steps = schemaSteps(SCHEMA);
    // The profile's own set-up (CREATE ROLE avnadmin … PASSWORD) is in the source log: look at what follows only.
    const sourceLogStart = s.cluster.log().length;

    const result = await migrateByReplication(ctx, request, db, { steps });
    expect(result.status, result.message).toBe('replicating');
    expect(result.message).toMatch(/fast start.*in sync/);
    expect(result.warnings?.filter((w) => w.kind === 'subscription-login') ?? []).toEqual([]);

    const role = subscriptionRoleName('loginshop');
    const [attributes] = await s.cluster.query<{ super: boolean; repl: boolean; login: boolean; createrole: boolean }>(
      'SELECT rolsuper AS super, rolreplication AS repl, rolcanlogin AS login, rolcreaterole AS createrole FROM pg_roles WHERE rolname = $1',
      [role],
    );
    expect(attributes).toEqual({ super: false, repl: true, login: true, createrole: false });
    // A fast start grants no table: the walsender streams without SELECT.
    const [granted] = await s.cluster.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_class c, aclexplode(c.relacl) a WHERE a.grantee = $1::regrole`,
      [role],
      'loginshop',
    );
    expect(granted!.n).toBe(0);
    const conninfo = await subconninfo('loginshop');
    expect(conninfo).toContain(`user='${role}'`);
    expect(conninfo).not.toContain(s.password);
    expect(conninfo).not.toContain(s.admin);
    const rolePassword = /password='([^']+)'/.exec(conninfo)?.[1];
    expect(rolePassword).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const [stored] = await s.cluster.query<{ v: string }>('SELECT rolpassword AS v FROM pg_authid WHERE rolname = $1', [
      role,
    ]);
    expect(stored!.v).toMatch(/^SCRAM-SHA-256\$4096:/);

    // A re-run reuses the subscription and its role; changes keep flowing through it.
    const again = await migrateByReplication(ctx, request, db, { steps });
    expect(again.message).toMatch(/^replication already set up; in sync/);
    expect(await subconninfo('loginshop')).toBe(conninfo);
    // The admin's password rotates mid-run and the subscription's connection drops: it logs in again as its role.
    const rotated = await rotateAdminPassword(s);
    await s.cluster.query(
      "INSERT INTO items VALUES (1001, 'after set-up'); DELETE FROM sales.orders WHERE id <= 10",
      [],
      'loginshop',
    );

    const cut = await cutoverDatabase(rotated.ctx, request, db);
    expect(cut.status, cut.message).toBe('done');
    expect(cut.message).toMatch(/replication objects dropped/);
    expect(await count(target(), 'loginshop', 'items')).toBe(301);
    expect(await count(target(), 'loginshop', 'sales.orders')).toBe(1990);
    expect(await subscriptionRoles(s.cluster)).toEqual([]);
    expect(await leftovers(s.cluster, target(), ['loginshop'])).toEqual([]);

    const targetLog = target().log();
    expect(targetLog).toMatch(/statement: .*SELECT/);
    expect(targetLog).not.toContain(s.password);
    expect(targetLog).not.toContain(rolePassword);
    // The source logs everything and avnadmin may not turn that off: only the role's SCRAM verifier can be there.
    const sourceLog = s.cluster.log().slice(sourceLogStart);
    expect(sourceLog).toMatch(/statement: /);
    expect(sourceLog).not.toContain(rolePassword);
    expect(sourceLog).not.toContain(s.password);
    expect(sourceLog).not.toContain(rotated.password);
    expect(targetLog).not.toContain(rotated.password);
  });

  it('lets the target copy the tables as the role (copy_data = true) with SELECT on the published tables only, and drops role and grants at abort', async () => {
    const s = rds16();
    const db = await prepareSource(s, 'loginledger');
    await s.asAdmin('loginledger', 'CREATE TABLE private_notes (id int PRIMARY KEY, body text)');
    const ctx = contextFor(s);
    const request = requestFor(s, { skipTables: ['public.private_notes'] });
    const steps = schemaSteps(`${SCHEMA}; CREATE TABLE private_notes (id int PRIMARY KEY, body text);`);

    const result = await migrateByReplication(ctx, request, db, { steps, start: 'copy-data' });
    expect(result.status, result.message).toBe('replicating');
    expect(result.message).toMatch(/copy_data = true.*in sync/);
    expect(result.warnings?.filter((w) => w.kind === 'subscription-login') ?? []).toEqual([]);
    expect(await count(target(), 'loginledger', 'sales.orders')).toBe(2000);

    const role = subscriptionRoleName('loginledger');
    const grants = await s.cluster.query<{ t: string; p: string }>(
      `SELECT c.relname AS t, a.privilege_type AS p FROM pg_class c, aclexplode(c.relacl) a
        WHERE a.grantee = $1::regrole ORDER BY 1`,
      [role],
      'loginledger',
    );
    expect(grants).toEqual([
      { t: 'items', p: 'SELECT' },
      { t: 'orders', p: 'SELECT' },
    ]);
    expect(await subconninfo('loginledger')).not.toContain(s.password);

    const aborted = await abortReplication(ctx, { ...request, action: 'abort', dbs: ['loginledger'] });
    expect(aborted.map((d) => d.status)).toEqual(['done']);
    expect(aborted[0]?.message).toContain(`role ${role}`);
    expect(await subscriptionRoles(s.cluster)).toEqual([]);
    expect(await leftovers(s.cluster, target(), ['loginledger'])).toEqual([]);
    const [acl] = await s.cluster.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_class c, aclexplode(c.relacl) a WHERE c.relname IN ('items', 'orders') AND a.grantee <> c.relowner",
      [],
      'loginledger',
    );
    expect(acl!.n).toBe(0);
    // A second abort finds nothing.
    const again = await abortReplication(ctx, { ...request, action: 'abort', dbs: ['loginledger'] });
    expect(again.map((d) => d.status)).toEqual(['skipped']);
  });
});

describe('the subscription falls back to the source user', () => {
  it('uses the source login with a subscription-login warning where the source (aiven on 15) lets only superusers create replication roles', async () => {
    const s = aiven15();
    const db = await prepareSource(s, 'fallbackshop');
    const ctx = contextFor(s);
    const result = await migrateByReplication(ctx, requestFor(s), db);
    expect(result.status, result.message).toBe('replicating');
    const login = result.warnings?.filter((w) => w.kind === 'subscription-login') ?? [];
    expect(login).toHaveLength(1);
    expect(login[0]?.message).toMatch(
      /logs in to the source as the source user "avnadmin".*PostgreSQL 15\) lets only superusers create a role with REPLICATION/,
    );
    expect(login[0]?.message).not.toContain(s.password);
    expect(await subconninfo('fallbackshop')).toContain("user='avnadmin'");
    expect(await subscriptionRoles(s.cluster)).toEqual([]);
    const aborted = await abortReplication(ctx, { ...requestFor(s), action: 'abort', dbs: ['fallbackshop'] });
    expect(aborted.map((d) => d.status)).toEqual(['done']);
    expect(await leftovers(s.cluster, target(), ['fallbackshop'])).toEqual([]);
  });

  it('drops the role again and falls back when the role it made cannot open a replication connection (rds_replication granted, which only RDS turns into replication)', async () => {
    const s = rds15();
    const db = await prepareSource(s, 'probeshop');
    const ctx = contextFor(s);
    const result = await migrateByReplication(ctx, requestFor(s), db);
    expect(result.status, result.message).toBe('replicating');
    const login = result.warnings?.filter((w) => w.kind === 'subscription-login') ?? [];
    expect(login).toHaveLength(1);
    expect(login[0]?.message).toMatch(/could not be made ready .*replication/i);
    expect(await subscriptionRoles(s.cluster)).toEqual([]);
    expect(await subconninfo('probeshop')).toContain("user='dbadmin'");
    await abortReplication(ctx, { ...requestFor(s), action: 'abort', dbs: ['probeshop'] });
    expect(await leftovers(s.cluster, target(), ['probeshop'])).toEqual([]);
  });

  it('reports at status, and refuses at cutover, a rotated source password that a subscription made through aiven_extras cannot take', async () => {
    // CI installs aiven_extras and pgextwlist (.ci/run): without them the Aiven target could not subscribe at all.
    expect(providerExtensionsInstalled()).toBe(true);
    const s = aiven15();
    const t = aivenTarget();
    const db = await prepareSource(s, 'extrashop');
    const ctx = { ...runContext(s.cluster, t.cluster, s.uri()), target: parseConnectionString(t.uri(), 'target') };
    const request = replicationRequest(s.cluster, t.cluster, { source: { uri: s.uri() }, target: { uri: t.uri() } });
    const result = await migrateByReplication(ctx, request, db);
    expect(result.status, result.message).toBe('replicating');
    expect(result.warnings?.filter((w) => w.kind === 'subscription-login')).toHaveLength(1);

    const password = `rot-${randomBytes(12).toString('base64url')}`;
    await s.cluster.query(`ALTER ROLE avnadmin PASSWORD '${scramVerifier(password)}'`);
    const rotated = { ...ctx, source: parseConnectionString(s.uri('postgres', 'avnadmin', password), 'source') };
    const status = await replicationStatus(rotated, { ...request, action: 'status' }, [db]);
    const [warning] = status.databases[0]?.warnings?.filter((w) => w.kind === 'subscription-login') ?? [];
    expect(warning?.message).toMatch(
      /source credentials changed since set-up, but the subscription .* cannot take them/,
    );
    expect(warning?.message).toMatch(/Restore the previous source password until cutover, or abort/);
    expect(JSON.stringify(status)).not.toContain(password);
    await expect(cutoverDatabase(rotated, request, db)).rejects.toThrow(
      /cannot cut over "extrashop": the source credentials changed since set-up/,
    );
    // Nothing was dropped; with the previous password back (the remedy), abort removes everything.
    expect((await leftovers(s.cluster, t.cluster, ['extrashop'])).length).toBeGreaterThan(0);
    await s.cluster.query(`ALTER ROLE avnadmin PASSWORD '${scramVerifier(s.password)}'`);
    const aborted = await abortReplication(ctx, { ...request, action: 'abort', dbs: ['extrashop'] });
    expect(aborted.map((d) => d.status)).toEqual(['done']);
    expect(await leftovers(s.cluster, t.cluster, ['extrashop'])).toEqual([]);
  });

  it('updates the subscription connection at the status step when the source password rotated, and the subscription reconnects and catches up', async () => {
    const s = aiven15();
    const db = await prepareSource(s, 'rotateshop');
    const ctx = contextFor(s);
    const request = requestFor(s);
    const status = { ...request, action: 'status' as const };
    const result = await migrateByReplication(ctx, request, db);
    expect(result.status, result.message).toBe('replicating');
    expect(result.warnings?.filter((w) => w.kind === 'subscription-login')).toHaveLength(1);
    const before = await subconninfo('rotateshop');
    expect(before).toContain("user='avnadmin'");

    // Unchanged credentials: the status step leaves the subscription alone.
    const unchanged = await replicationStatus(ctx, status, [db]);
    expect(unchanged.databases[0]?.message).not.toMatch(/credentials changed/);
    expect(await subconninfo('rotateshop')).toBe(before);

    const logStart = target().log().length;
    const rotated = await rotateAdminPassword(s);
    await s.cluster.query(
      "INSERT INTO items SELECT g, 'rotated ' || g FROM generate_series(5001, 5100) g",
      [],
      'rotateshop',
    );
    // The apply worker cannot log in any more with the password the subscription holds.
    await until('the apply worker fails to log in with the old password', () =>
      Promise.resolve(target().log().slice(logStart).includes('password authentication failed for user "avnadmin"')),
    );
    expect(await count(target(), 'rotateshop', 'items')).toBe(300);

    // The status step of a run that read the new secret updates the subscription, which reconnects and catches up.
    const refreshed = await replicationStatus(rotated.ctx, status, [db]);
    expect(refreshed.databases[0]?.message).toMatch(
      /the source credentials changed: the subscription connection was updated/,
    );
    expect(refreshed.databases[0]?.status).toBe('replicating');
    await until(
      'the rows written after the rotation arrive',
      async () => (await count(target(), 'rotateshop', 'items')) === 400,
    );
    await until(
      'status reports the database in sync',
      async () => (await replicationStatus(rotated.ctx, status, [db])).allInSync,
    );
    expect(await subconninfo('rotateshop')).not.toContain(s.password);
    // A second status finds nothing to update.
    expect((await replicationStatus(rotated.ctx, status, [db])).databases[0]?.message).not.toMatch(
      /credentials changed/,
    );

    const cut = await cutoverDatabase(rotated.ctx, request, db);
    expect(cut.status, cut.message).toBe('done');
    expect(await leftovers(s.cluster, target(), ['rotateshop'])).toEqual([]);
    const log = target().log();
    expect(log).not.toContain(rotated.password);
    expect(log).not.toContain(s.password);
  });
});
