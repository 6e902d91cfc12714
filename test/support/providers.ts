/**
 * Provider profiles: plain PostgreSQL set up the way a managed provider hands it to its users — an admin role that
 * is NOT a superuser, the provider's roles, its administrative database, and its extension allow-list — so tests run
 * pg-migrate as users really run it. Each profile serves as source and as target.
 *
 * What each provider's admin is (from the providers' documentation; docs/CHECKS.md "Providers" has the links):
 *
 * - **aiven** — `avnadmin`: LOGIN CREATEDB CREATEROLE REPLICATION, not superuser. Extensions through an allow-list
 *   (pgextwlist, `extwlist.extensions`), `aiven_extras` among them, created by avnadmin itself in `defaultdb` (owned
 *   by avnadmin); admin database `_aiven`. Emulated faithfully on PostgreSQL 15 with the vendored aiven_extras and
 *   pgextwlist (scripts/vendor); without them (or on 16) the allow-list and aiven_extras are absent.
 * - **rds** — the master user (`dbadmin` here) is LOGIN CREATEDB CREATEROLE NOREPLICATION, a member of
 *   `rds_superuser`; replication is granted through `rds_replication`; on 16+ `rds_superuser` holds
 *   `pg_create_subscription`; admin database `rdsadmin` (owned by the `rdsadmin` superuser, not connectable).
 * - **cloudsql** — admin users are members of `cloudsqlsuperuser`, CREATEROLE CREATEDB LOGIN, no REPLICATION until
 *   `ALTER ROLE … REPLICATION` (with the `cloudsql.logical_decoding` flag); admin database `cloudsqladmin`.
 * - **azure** — the admin is a member of `azure_pg_admin` (the superuser `azuresu` is the provider's); extensions
 *   through the `azure.extensions` allow-list; `ALTER ROLE admin WITH REPLICATION` for logical replication; admin
 *   database `azure_maintenance`.
 *
 * What plain PostgreSQL cannot emulate, and what the profiles do instead:
 * - The providers patch the server so their admin roles hold powers vanilla PostgreSQL keeps for superusers:
 *   `rds_replication` membership grants replication (here: the REPLICATION attribute itself, as the user's documented
 *   first step does on Cloud SQL and Azure); `rds_superuser` / `cloudsqlsuperuser` / `azure_pg_admin` may create
 *   subscriptions on every major (here: only through `pg_create_subscription` on 16+, or aiven_extras) and install the
 *   provider's extensions (here: pgextwlist's allow-list on 15 when installed, else trusted extensions only).
 * - The provider settings (`rds.extensions`, `azure.extensions`, `cloudsql.*`) are not defined: pg-migrate reads
 *   them to recognise a real provider and its patched powers, and an emulation must not claim powers it lacks.
 * - The `postgres` database stays owned by the server's superuser, as on a provider whose `postgres` belongs to its
 *   own superuser: the admin has no CREATE on it.
 * - TLS, IAM authentication, parameter groups and restarts are not emulated.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import type pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { type ClusterOptions, type PgVersion, startCluster, type TestCluster } from './cluster.js';

export type ProviderName = 'aiven' | 'rds' | 'cloudsql' | 'azure';

/** Extensions every profile's allow-list holds (a typical managed provider's list, contrib modules only). */
const COMMON_ALLOWED = [
  'btree_gin',
  'btree_gist',
  'citext',
  'cube',
  'dblink',
  'earthdistance',
  'fuzzystrmatch',
  'hstore',
  'intarray',
  'isn',
  'lo',
  'ltree',
  'pg_buffercache',
  'pg_stat_statements',
  'pg_trgm',
  'pgcrypto',
  'pgrowlocks',
  'pgstattuple',
  'postgres_fdw',
  'seg',
  'tablefunc',
  'tsm_system_rows',
  'tsm_system_time',
  'unaccent',
  'uuid-ossp',
];

interface ProfileDefinition {
  /** The admin role users connect as. */
  readonly admin: string;
  /** The provider's administrative database (never migrated, not connectable by the admin). */
  readonly adminDatabase: string;
  /** The provider's superuser role owning its admin database (created NOLOGIN), when it has a named one. */
  readonly providerSuperuser?: string;
  /** Group roles the admin is a member of. */
  readonly adminRoles: readonly string[];
  /** Group roles created NOLOGIN first, with their own memberships. */
  readonly groups: ReadonlyArray<{ readonly name: string; readonly inRoles?: readonly string[] }>;
  /** Roles holding `pg_create_subscription` on 16+. */
  readonly subscriptionRole?: string;
  /** A database the admin owns, created at set-up. */
  readonly ownDatabase?: string;
  /** Extensions the allow-list holds besides {@link COMMON_ALLOWED}. */
  readonly allowed: readonly string[];
}

const PROFILES: Readonly<Record<ProviderName, ProfileDefinition>> = {
  aiven: {
    admin: 'avnadmin',
    adminDatabase: '_aiven',
    adminRoles: [],
    groups: [],
    ownDatabase: 'defaultdb',
    allowed: ['aiven_extras'],
  },
  rds: {
    admin: 'dbadmin',
    adminDatabase: 'rdsadmin',
    providerSuperuser: 'rdsadmin',
    adminRoles: ['rds_superuser', 'rds_replication'],
    groups: [
      { name: 'rds_superuser', inRoles: ['pg_monitor', 'pg_signal_backend'] },
      { name: 'rds_replication' },
      { name: 'rds_password' },
    ],
    subscriptionRole: 'rds_superuser',
    allowed: [],
  },
  cloudsql: {
    admin: 'csadmin',
    adminDatabase: 'cloudsqladmin',
    providerSuperuser: 'cloudsqladmin',
    adminRoles: ['cloudsqlsuperuser'],
    groups: [{ name: 'cloudsqlsuperuser', inRoles: ['pg_monitor'] }],
    subscriptionRole: 'cloudsqlsuperuser',
    allowed: [],
  },
  azure: {
    admin: 'azadmin',
    adminDatabase: 'azure_maintenance',
    providerSuperuser: 'azuresu',
    adminRoles: ['azure_pg_admin'],
    groups: [{ name: 'azure_pg_admin', inRoles: ['pg_monitor'] }],
    subscriptionRole: 'azure_pg_admin',
    allowed: [],
  },
};

const PG15_LIB = '/usr/lib/postgresql/15/lib';
const PG15_SHARE = '/usr/share/postgresql/15';

/**
 * Whether aiven_extras and pgextwlist are installed in Debian's PostgreSQL 15 (scripts/vendor/install-pg-extensions.sh,
 * run by .ci/run). Tests that depend on them assert the behaviour of the machine they run on, both ways.
 */
export function providerExtensionsInstalled(): boolean {
  return (
    existsSync(`${PG15_LIB}/aiven_extras.so`) &&
    existsSync(`${PG15_SHARE}/extension/aiven_extras.control`) &&
    existsSync(`${PG15_LIB}/pgextwlist.so`) &&
    existsSync(`${PG15_SHARE}/extwlist/aiven_extras/after-create.sql`)
  );
}

/** Whether a profile on `version` gets the pgextwlist allow-list (PostgreSQL 15 with the extensions installed). */
export function hasAllowList(version: PgVersion): boolean {
  return version === 15 && providerExtensionsInstalled();
}

/** The extensions a profile's allow-list holds. */
export function allowList(provider: ProviderName): string[] {
  return [...COMMON_ALLOWED, ...PROFILES[provider].allowed].sort();
}

/** Server settings a profile needs at start (the allow-list is a preloaded library). */
export function providerSettings(provider: ProviderName, version: PgVersion): Record<string, string> {
  if (!hasAllowList(version)) return {};
  return {
    shared_preload_libraries: 'pgextwlist',
    'extwlist.extensions': allowList(provider).join(','),
    'extwlist.custom_path': `${PG15_SHARE}/extwlist`,
  };
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A server set up as a provider: its cluster, and how to connect as the provider's admin. */
export class ProviderServer {
  constructor(
    readonly provider: ProviderName,
    readonly cluster: TestCluster,
    readonly admin: string,
    readonly password: string,
    readonly adminDatabase: string,
    /** pgextwlist is active (and aiven_extras can be created through it on aiven). */
    readonly allowList: boolean,
  ) {}

  get version(): PgVersion {
    return this.cluster.version;
  }

  /** libpq URI for the admin (or `user`) on `database`. */
  uri(database = 'postgres', user = this.admin, password = this.password): string {
    return this.cluster.uri(database, user, password);
  }

  /** A session as the admin on `database`; the caller ends it. */
  client(database = 'postgres'): Promise<pg.Client> {
    return this.cluster.client(database, this.admin, this.password);
  }

  /** Runs a script as the admin on `database` (what a user of the provider can do). */
  async asAdmin(database: string, sql: string): Promise<void> {
    const client = await this.client(database);
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  }

  /** Creates a database as the admin (owned by the admin, as on the provider's console). */
  async createDatabase(name: string): Promise<void> {
    await this.asAdmin('postgres', `CREATE DATABASE ${quoteIdent(name)}`);
  }
}

/**
 * Turns a running cluster (started with {@link providerSettings}) into `provider`: roles, admin, databases. The
 * cluster's own superuser stays available to tests for what the provider itself would do.
 */
export async function setUpProvider(cluster: TestCluster, provider: ProviderName): Promise<ProviderServer> {
  const profile = PROFILES[provider];
  const password = `adm-${randomBytes(9).toString('base64url')}`;
  const statements: string[] = [];
  if (profile.providerSuperuser)
    statements.push(`CREATE ROLE ${quoteIdent(profile.providerSuperuser)} SUPERUSER NOLOGIN`);
  for (const group of profile.groups) {
    statements.push(`CREATE ROLE ${quoteIdent(group.name)} NOLOGIN`);
    for (const role of group.inRoles ?? []) statements.push(`GRANT ${quoteIdent(role)} TO ${quoteIdent(group.name)}`);
  }
  if (profile.subscriptionRole && cluster.version >= 16) {
    statements.push(`GRANT pg_create_subscription TO ${quoteIdent(profile.subscriptionRole)}`);
  }
  // REPLICATION: Aiven gives it to avnadmin; elsewhere the user's documented first step grants it (rds_replication
  // membership on RDS, which vanilla PostgreSQL cannot turn into the attribute: the attribute stands in for it).
  statements.push(
    `CREATE ROLE ${quoteIdent(profile.admin)} LOGIN CREATEDB CREATEROLE REPLICATION PASSWORD '${password}'` +
      (profile.adminRoles.length > 0 ? ` IN ROLE ${profile.adminRoles.map(quoteIdent).join(', ')}` : ''),
  );
  await cluster.query(statements.join(';\n'));
  const owner = profile.providerSuperuser ? ` OWNER ${quoteIdent(profile.providerSuperuser)}` : '';
  await cluster.query(`CREATE DATABASE ${quoteIdent(profile.adminDatabase)}${owner}`);
  await cluster.query(`REVOKE ALL ON DATABASE ${quoteIdent(profile.adminDatabase)} FROM PUBLIC`);
  const server = new ProviderServer(
    provider,
    cluster,
    profile.admin,
    password,
    profile.adminDatabase,
    hasAllowList(cluster.version),
  );
  if (profile.ownDatabase) {
    await server.createDatabase(profile.ownDatabase);
    if (provider === 'aiven' && server.allowList) {
      await server.asAdmin(profile.ownDatabase, 'CREATE EXTENSION aiven_extras');
    }
  }
  return server;
}

/** Starts a cluster set up as `provider` before the file's tests and stops it after them. */
export function useProvider(
  provider: ProviderName,
  options: Omit<ClusterOptions, 'settings'> & { readonly settings?: Readonly<Record<string, string | number>> } = {},
): () => ProviderServer {
  let server: ProviderServer | undefined;
  beforeAll(async () => {
    const version = options.version ?? 15;
    const cluster = await startCluster({
      ...options,
      version,
      settings: { ...providerSettings(provider, version), ...(options.settings ?? {}) },
    });
    server = await setUpProvider(cluster, provider);
  }, 120_000);
  afterAll(() => server?.cluster.stop());
  return () => {
    if (!server) throw new Error('provider not started: call useProvider() at the top level of the test file');
    return server;
  };
}
