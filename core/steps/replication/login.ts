/**
 * How the subscription logs in to the source. By default it does not use the source user's credentials: set-up
 * creates a per-run login role on the source for the database's subscription ({@link subscriptionRoleName}), with
 * a random password and only what the walsender and the tablesync need, and cutover, abort and every clean-up drop
 * it with the slot. The administrator's own password then never reaches the target server.
 *
 * - **Who may create it** ({@link planSubscriptionLogin}, pure): a superuser; on PostgreSQL 16+ a user with
 *   CREATEROLE and REPLICATION (15 and older let only superusers create REPLICATION roles); on RDS / Aurora a user
 *   that may grant `rds_replication`. Otherwise — and when the role, once made, cannot open a replication
 *   connection — the subscription logs in as the source user, as before, and the database's result carries a
 *   `subscription-login` warning.
 * - **What it gets**: LOGIN and REPLICATION (or `rds_replication`); CONNECT on the database when PUBLIC lacks it;
 *   with `copy_data = true` (the target's tablesync copies the tables) USAGE on the published tables' schemas and
 *   SELECT on them. Nothing else: it owns nothing, and a fast start (`copy_data = false`) grants no table.
 * - **Its password** is 256 random bits; only a SCRAM-SHA-256 verifier computed here (core/scram.ts) is sent to the
 *   source, through the silenced path of core/secret-statements.ts; the password itself goes to the target only in
 *   the subscription's connection string (bound as a parameter, never in statement text).
 *
 * @example
 * ```ts
 * const login = await prepareSubscriptionLogin(ctx, 'shop', { copyTables: [] }, warnings);
 * const conninfo = subscriptionConninfo(ctx.source, 'shop', tls, login);
 * ```
 */
import { pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import type pg from 'pg';
import { connect, type ConnectionSpec, qualifiedName, quoteIdent, withClient } from '../../connection.js';
import type { RunContext } from '../../context.js';
import { describeError, registerSecret } from '../../errors.js';
import { randomPassword, scramVerifier } from '../../scram.js';
import { quietSession, runWithSecret } from '../../secret-statements.js';
import type { Request } from '../../request.js';
import type { WarningList } from '../../warnings.js';
import { replicationNames, subscriptionRoleName } from './names.js';
import { alterSubscriptionConnectionSql, subscriptionConninfo, type TableName } from './sql.js';
import { subscriptionTls } from './subscriber.js';

/** What the source user may do, as far as making the subscription's role goes. */
export interface LoginPowers {
  readonly versionNum: number;
  readonly superuser: boolean;
  /** The REPLICATION attribute itself. */
  readonly replicationAttribute: boolean;
  readonly createrole: boolean;
  /** `rds_replication` exists and this user may grant it (RDS / Aurora). */
  readonly rdsReplication: boolean;
}

/** How the subscription's role gets replication, or why the source user's own login is used. */
export type LoginPlan =
  | { readonly kind: 'role'; readonly replication: 'attribute' | 'rds_replication' }
  | { readonly kind: 'source-user'; readonly reason: string };

/** The login the subscription's connection string carries. */
export interface SubscriptionLogin {
  readonly user: string;
  readonly password?: string;
  /** true: the per-run role; false: the source user (fallback). */
  readonly perRun: boolean;
}

/** Pure: whether the source user may create a role the subscription can replicate as, and how. */
export function planSubscriptionLogin(powers: LoginPowers): LoginPlan {
  if (powers.superuser) return { kind: 'role', replication: 'attribute' };
  if (powers.versionNum >= 160000 && powers.createrole && powers.replicationAttribute)
    return { kind: 'role', replication: 'attribute' };
  if (powers.createrole && powers.rdsReplication) return { kind: 'role', replication: 'rds_replication' };
  if (!powers.createrole) return { kind: 'source-user', reason: 'the source user lacks CREATEROLE' };
  if (powers.versionNum < 160000)
    return {
      kind: 'source-user',
      reason: `the source (PostgreSQL ${Math.floor(powers.versionNum / 10000)}) lets only superusers create a role with REPLICATION`,
    };
  return { kind: 'source-user', reason: 'the source user lacks REPLICATION, which it needs to give it' };
}

export async function readLoginPowers(client: pg.Client): Promise<LoginPowers> {
  const { rows } = await client.query<{ v: number; su: boolean; repl: boolean; cr: boolean; rds: boolean }>(
    `SELECT current_setting('server_version_num')::int AS v, r.rolsuper AS su, r.rolreplication AS repl,
            r.rolcreaterole AS cr,
            EXISTS (SELECT 1 FROM pg_catalog.pg_roles g WHERE g.rolname = 'rds_replication'
                       AND (r.rolsuper OR (current_setting('server_version_num')::int < 160000 AND r.rolcreaterole)
                            OR pg_catalog.pg_has_role(r.oid, g.oid, 'MEMBER WITH ADMIN OPTION'))) AS rds
       FROM pg_catalog.pg_roles r WHERE r.rolname = current_user`,
  );
  const row = rows[0];
  if (!row) throw new Error('cannot read the current role');
  return {
    versionNum: row.v,
    superuser: row.su,
    replicationAttribute: row.repl,
    createrole: row.cr,
    rdsReplication: row.rds,
  };
}

/** Pure: the statement creating (or, on a re-run, updating) the role; `password` is the verifier's placeholder. */
export function subscriptionRoleSql(
  role: string,
  exists: boolean,
  replication: 'attribute' | 'rds_replication',
  password: string,
): string {
  const attributes = `LOGIN${replication === 'attribute' ? ' REPLICATION' : ''} NOSUPERUSER NOCREATEDB NOCREATEROLE`;
  return `${exists ? 'ALTER' : 'CREATE'} ROLE ${quoteIdent(role)} ${attributes} PASSWORD ${password}`;
}

/** Pure: the grants the role needs: rds_replication, CONNECT, and with `copyTables` USAGE + SELECT for tablesync. */
export function subscriptionRoleGrants(
  role: string,
  database: string,
  options: {
    readonly rdsReplication: boolean;
    readonly connect: boolean;
    readonly copyTables: readonly TableName[];
  },
): string[] {
  const out: string[] = [];
  const name = quoteIdent(role);
  if (options.rdsReplication) out.push(`GRANT rds_replication TO ${name}`);
  if (options.connect) out.push(`GRANT CONNECT ON DATABASE ${quoteIdent(database)} TO ${name}`);
  const schemas = [...new Set(options.copyTables.map((t) => t.schema))].sort();
  for (const schema of schemas) out.push(`GRANT USAGE ON SCHEMA ${quoteIdent(schema)} TO ${name}`);
  for (let i = 0; i < options.copyTables.length; i += 500) {
    const batch = options.copyTables.slice(i, i + 500).map((t) => qualifiedName(t.schema, t.name));
    out.push(`GRANT SELECT ON TABLE ${batch.join(', ')} TO ${name}`);
  }
  return out;
}

/** SQLSTATEs meaning "the source user may not make or use the role this way": fall back to its own login. */
const NOT_ALLOWED = new Set(['42501', '28000', '28P01', '0LP01', '0A000', '08P01']);

function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string'
    ? err.code
    : undefined;
}

/** Whether a published table has row-level security on (the role's tablesync COPY would be filtered or refused). */
async function rowSecurityTables(client: pg.Client, tables: readonly TableName[]): Promise<string[]> {
  if (tables.length === 0) return [];
  const { rows } = await client.query<{ t: string }>(
    `SELECT pg_catalog.format('%I.%I', n.nspname, c.relname) AS t FROM pg_catalog.pg_class c
       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relrowsecurity
        AND (n.nspname, c.relname) IN (SELECT * FROM ROWS FROM (pg_catalog.unnest($1::text[]), pg_catalog.unnest($2::text[])))`,
    [tables.map((t) => t.schema), tables.map((t) => t.name)],
  );
  return rows.map((r) => r.t);
}

/** Opens a replication connection as the role (what the target server's walsender session will be). */
async function probe(ctx: RunContext, database: string, login: SubscriptionLogin): Promise<void> {
  const spec: ConnectionSpec = {
    ...ctx.source,
    user: login.user,
    ...(login.password ? { password: login.password } : {}),
  };
  const client = await connect(spec, database, { replication: true, applicationName: 'pg-migrate-login-probe' });
  try {
    await client.query('IDENTIFY_SYSTEM');
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * The login of the database's subscription: the per-run role, created (or refreshed on a re-run) when the source
 * user may, else the source user with a `subscription-login` warning. `copyTables`: the tables the target's
 * tablesync will copy (copy_data = true), empty for a fast start.
 */
export async function prepareSubscriptionLogin(
  ctx: RunContext,
  database: string,
  options: { readonly copyTables: readonly TableName[] },
  warnings: WarningList,
): Promise<SubscriptionLogin> {
  const role = subscriptionRoleName(database);
  const fallback = (reason: string): SubscriptionLogin => {
    warnings.add(
      'subscription-login',
      `the subscription logs in to the source as the source user "${ctx.source.user}": its password sits in the ` +
        `target's pg_subscription until cutover or abort (status and cutover update it when the source password ` +
        `rotates). No per-run role: ${reason}. A superuser, a PostgreSQL ` +
        `16+ user with CREATEROLE and ` +
        'REPLICATION, or (RDS / Aurora) a user that may grant rds_replication gets one.',
    );
    return { user: ctx.source.user, ...(ctx.source.password ? { password: ctx.source.password } : {}), perRun: false };
  };
  const plan = await withClient(ctx.source, database, async (client) => {
    const planned = planSubscriptionLogin(await readLoginPowers(client));
    if (planned.kind === 'source-user') return planned;
    const rls = await rowSecurityTables(client, options.copyTables);
    if (rls.length > 0)
      return {
        kind: 'source-user' as const,
        reason: `row-level security on ${rls.slice(0, 5).join(', ')} would filter the role's initial copy`,
      };
    return planned;
  });
  if (plan.kind === 'source-user') return fallback(plan.reason);

  const password = randomPassword();
  registerSecret(password);
  const login: SubscriptionLogin = { user: role, password, perRun: true };
  try {
    await withClient(ctx.source, database, async (client) => {
      await quietSession(client);
      const { rows } = await client.query<{ exists: boolean }>(
        'SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1) AS exists',
        [role],
      );
      const exists = rows[0]?.exists === true;
      // Only a verifier crosses: the password never reaches the source, not even its log.
      await runWithSecret(
        client,
        (literal) => subscriptionRoleSql(role, exists, plan.replication, literal),
        scramVerifier(password),
      );
      const connectable = await client.query<{ ok: boolean }>(
        "SELECT pg_catalog.has_database_privilege($1, pg_catalog.current_database(), 'CONNECT') AS ok",
        [role],
      );
      const grants = subscriptionRoleGrants(role, database, {
        rdsReplication: plan.replication === 'rds_replication',
        connect: connectable.rows[0]?.ok !== true,
        copyTables: options.copyTables,
      });
      for (const statement of grants) await client.query(statement);
    });
    await probe(ctx, database, login);
  } catch (err) {
    await dropSubscriptionRole(ctx, database).catch(() => false);
    if (!NOT_ALLOWED.has(errorCode(err) ?? '')) throw err;
    return fallback(`the role ${role} could not be made ready (${describeError(err)})`);
  }
  ctx.logger.info('subscription role ready on the source', { database, role });
  return login;
}

/**
 * Drops the database's subscription role on the source, revoking first what it was granted in the database
 * (tables, schemas, the database). Idempotent; returns whether there was a role. Call after the subscription is
 * gone (its walsender logs in as the role).
 */
export async function dropSubscriptionRole(ctx: RunContext, database: string): Promise<boolean> {
  const role = subscriptionRoleName(database);
  const exists = await withClient(ctx.source, ctx.source.database, async (client) => {
    const { rows } = await client.query<{ db: boolean; role: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1) AS role,
              EXISTS (SELECT 1 FROM pg_catalog.pg_database WHERE datname = $2 AND datallowconn) AS db`,
      [role, database],
    );
    return rows[0] ?? { role: false, db: false };
  });
  if (!exists.role) return false;
  const revokeAndDrop = async (client: pg.Client, inDatabase: boolean) => {
    if (inDatabase) {
      const { rows } = await client.query<{ statement: string }>(
        `WITH r AS (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = $1)
         SELECT pg_catalog.format('REVOKE ALL ON TABLE %I.%I FROM %I', n.nspname, c.relname, $1::text) AS statement
           FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
          CROSS JOIN LATERAL pg_catalog.aclexplode(c.relacl) a
          WHERE a.grantee = (SELECT oid FROM r)
         UNION
         SELECT pg_catalog.format('REVOKE ALL ON SCHEMA %I FROM %I', n.nspname, $1::text)
           FROM pg_catalog.pg_namespace n CROSS JOIN LATERAL pg_catalog.aclexplode(n.nspacl) a
          WHERE a.grantee = (SELECT oid FROM r)
         UNION
         SELECT pg_catalog.format('REVOKE ALL ON DATABASE %I FROM %I', d.datname, $1::text)
           FROM pg_catalog.pg_database d CROSS JOIN LATERAL pg_catalog.aclexplode(d.datacl) a
          WHERE d.datname = pg_catalog.current_database() AND a.grantee = (SELECT oid FROM r)`,
        [role],
      );
      for (const { statement } of rows) await client.query(statement);
    }
    await client.query(`DROP ROLE IF EXISTS ${quoteIdent(role)}`);
  };
  if (exists.db) await withClient(ctx.source, database, (client) => revokeAndDrop(client, true));
  else await withClient(ctx.source, ctx.source.database, (client) => revokeAndDrop(client, false));
  return true;
}

// --- Rotation: the fallback's subscription holds the source user's password; refresh it when it changes ---

const FINGERPRINT_ITERATIONS = 4096;

/**
 * Pure (given the salt): a salted PBKDF2-SHA-256 of the source user and password — as hard to reverse as the SCRAM
 * verifier the source keeps for it — that tells whether the credentials changed without keeping them.
 * `pbkdf2-sha256$<iterations>$<salt>$<hash>` (base64).
 */
export function loginFingerprint(
  user: string,
  password: string,
  salt: Buffer = randomBytes(16),
  iterations = FINGERPRINT_ITERATIONS,
): string {
  const hash = pbkdf2Sync(`${user}\u0000${password}`, salt, iterations, 32, 'sha256');
  return `pbkdf2-sha256$${iterations}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/** Pure: whether `fingerprint` ({@link loginFingerprint}) is of this user and password; false when unreadable. */
export function sameLogin(fingerprint: string, user: string, password: string): boolean {
  const match = /^pbkdf2-sha256\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(fingerprint);
  if (!match) return false;
  const iterations = Number(match[1]);
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > 1_000_000) return false;
  const expected = Buffer.from(loginFingerprint(user, password, Buffer.from(match[2]!, 'base64'), iterations));
  const actual = Buffer.from(fingerprint);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

const LOGIN_TABLE = '_pg_migrate.subscription_login';

/**
 * Records, in the target database's `_pg_migrate` schema (owned by the target user, no PUBLIC access, dropped at
 * cutover), the fingerprint of the source login the fallback's subscription holds.
 */
export async function recordSourceLogin(ctx: RunContext, database: string): Promise<void> {
  const fingerprint = loginFingerprint(ctx.source.user, ctx.source.password ?? '');
  await withClient(ctx.target, database, async (client) => {
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${LOGIN_TABLE} (id boolean PRIMARY KEY DEFAULT true CHECK (id), ` +
        'fingerprint text NOT NULL, recorded_at timestamptz NOT NULL DEFAULT now())',
    );
    await client.query(
      `INSERT INTO ${LOGIN_TABLE} (fingerprint) VALUES ($1) ON CONFLICT (id) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, recorded_at = now()`,
      [fingerprint],
    );
  });
}

/** Forgets the recorded login fingerprint (the subscription is gone). Idempotent. */
export async function forgetSourceLogin(client: pg.Client): Promise<void> {
  const { rows } = await client.query<{ t: boolean }>(
    `SELECT pg_catalog.to_regclass('${LOGIN_TABLE}') IS NOT NULL AS t`,
  );
  if (rows[0]?.t) await client.query(`DROP TABLE ${LOGIN_TABLE}`);
}

/** What {@link refreshSourceLogin} did. */
export interface LoginRefresh {
  /** The subscription's connection now carries the current source credentials (they had changed). */
  readonly refreshed: boolean;
  /** The credentials changed but the subscription could not take them (why, and the remedy). */
  readonly problem?: string;
}

/**
 * The status step's and cutover's guard against a rotated source password: when the subscription logs in as the
 * source user (the fallback) and the credentials of this run differ from those it holds (by fingerprint), its
 * connection is updated (`ALTER SUBSCRIPTION … CONNECTION`, through the silenced path) and the apply worker
 * reconnects with them. With the per-run role there is nothing to do: its password never changes while it lives.
 */
export async function refreshSourceLogin(ctx: RunContext, request: Request, database: string): Promise<LoginRefresh> {
  return withClient(ctx.target, database, async (client) => {
    const { rows: present } = await client.query<{ t: boolean }>(
      `SELECT pg_catalog.to_regclass('${LOGIN_TABLE}') IS NOT NULL AS t`,
    );
    if (!present[0]?.t) return { refreshed: false };
    const { rows } = await client.query<{ f: string }>(`SELECT fingerprint AS f FROM ${LOGIN_TABLE}`);
    const recorded = rows[0]?.f;
    if (recorded === undefined || sameLogin(recorded, ctx.source.user, ctx.source.password ?? '')) {
      return { refreshed: false };
    }
    const subscription = replicationNames(database).subscription;
    const conninfo = subscriptionConninfo(ctx.source, database, subscriptionTls(ctx.source, request));
    await quietSession(client);
    try {
      await runWithSecret(client, (literal) => alterSubscriptionConnectionSql(subscription, literal), conninfo);
    } catch (err) {
      if (errorCode(err) !== '42501') throw err;
      return {
        refreshed: false,
        problem:
          `the source credentials changed since set-up, but the subscription ${subscription} (not owned by ` +
          `"${ctx.target.user}": made through aiven_extras) cannot take them (${describeError(err)}); once its ` +
          'connection drops it cannot reconnect. Restore the previous source password until cutover, or abort and ' +
          'migrate again',
      };
    }
    await client.query(`UPDATE ${LOGIN_TABLE} SET fingerprint = $1, recorded_at = now()`, [
      loginFingerprint(ctx.source.user, ctx.source.password ?? ''),
    ]);
    ctx.logger.info('source credentials changed: the subscription connection was updated', { database });
    return { refreshed: true };
  });
}
