/**
 * Fact gathering for the pre-checks, shaped by sessions: a run reads the **server-level facts once**, on one
 * session per server ({@link collectServerFacts}), then visits each selected database on **one source session and
 * one target session** (the latter only when the database exists on the target) shared by every check that looks
 * inside it ({@link collectDatabaseFacts}). Each fact is an {@link Outcome}: one query that fails (a lock, a missing
 * privilege) spoils only the checks that need it. The checks turn these facts into results purely
 * (core/checks/check.ts).
 *
 * The server phase hands the database phase what it needs as {@link SharedFacts} (JSON: on AWS it travels through
 * the state machine into each Map iteration) and a list of {@link DatabaseItem}s.
 */
import { randomBytes } from 'node:crypto';
import { readFile, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import type pg from 'pg';
import {
  type DatabaseAccess,
  type InstalledExtension,
  readDatabaseAccess,
  readInstalledExtensions,
  readTargetContent,
  readUserTables,
  type TargetContent,
  type UserTable,
  USER_RELATION_SQL,
} from '../catalog.js';
import { type ConnectionSpec, connect } from '../connection.js';
import type { RunContext } from '../context.js';
import { describeError } from '../errors.js';
import { choosePgTools, findPgTools, type PgTools, pgToolsSearchPath } from '../pgtools-locate.js';
import type { Request } from '../request.js';
import { collectRoleScope, type RoleScopeFacts, readRoleScopeFacts, rolesInScope } from '../role-scope.js';
import { type LogSettings, quietSession, secretFunctionAvailable } from '../secret-statements.js';
import { isSystemRole } from '../steps/roles.js';
import type { TlsSettings } from '../tls.js';
import {
  attempt,
  type DatabaseRow,
  type DatabaseSelection,
  errorCode,
  majorOf,
  type Outcome,
  readServerFacts,
  replicationCandidates,
  type ServerFacts,
  selectDatabases,
  sessionOptions,
} from './facts.js';

// --- shapes ---------------------------------------------------------------------------------------------------

/** Where a server is, as the connection checks describe it (never the password). */
export interface Endpoint {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly database: string;
  readonly sslmode: string;
}

/** pg_control_system / settings that tell two servers apart (distinct-servers). */
export interface ServerIdentity {
  /** pg_control_system().system_identifier, when readable. */
  readonly systemIdentifier?: string;
  /** data_directory, when readable (superuser, pg_read_all_settings). */
  readonly dataDirectory?: string;
  readonly port: number;
  readonly startTime: string;
}

/** A managed provider, recognised by its own server settings (role names prove nothing: anyone can create them). */
export type ProviderKind = 'rds' | 'cloudsql' | 'azure';

/** How a server lets a non-superuser install extensions. */
export interface ExtensionSupport {
  /** pgextwlist's allow-list (`extwlist.extensions`) as the connected user sees it; empty when not in use. */
  readonly extwlist: readonly string[];
  /** The managed provider whose patched admin role installs its supported extensions. */
  readonly provider?: ProviderKind;
  /** The provider's own allow-list (`rds.allowed_extensions`, `azure.extensions`); absent: no restriction known. */
  readonly providerAllowList?: readonly string[];
  /** aiven_extras can be installed on this server (it is in pg_available_extensions). */
  readonly aivenExtrasAvailable: boolean;
}

/** An extension version the target offers (highest version per name). */
export interface AvailableExtensionVersion {
  readonly name: string;
  readonly version: string;
  /** Needs superuser to install. */
  readonly superuser: boolean;
  /** Trusted (PostgreSQL 13+): a non-superuser with CREATE on the database may install it. */
  readonly trusted: boolean;
}

export interface SourceReplicationSettings {
  readonly walLevel: string;
  readonly maxReplicationSlots: number;
  readonly usedSlots: number;
  readonly ourSlots: number;
  readonly maxWalSenders: number;
  readonly usedWalSenders: number;
}

export interface TargetReplicationSettings {
  readonly maxLogicalReplicationWorkers: number;
  readonly maxWorkerProcesses: number;
  readonly maxReplicationSlots: number;
  readonly otherSubscriptions: number;
}

export interface SourceRole {
  readonly name: string;
  readonly superuser: boolean;
  readonly replication: boolean;
  readonly bypassRls: boolean;
}

export interface SourceActivity {
  readonly prepared: ReadonlyArray<{ readonly gid: string; readonly database: string; readonly ageSeconds: number }>;
  readonly running: ReadonlyArray<{
    readonly pid: number;
    readonly database: string | null;
    readonly user: string | null;
    readonly ageSeconds: number;
  }>;
  /** Sessions of other users whose transaction start the source user may not see (needs pg_read_all_stats). */
  readonly hidden: number;
}

/** Free space on the target's disk, and where the figure comes from. */
export type FreeSpace =
  | { readonly known: true; readonly bytes: number; readonly from: 'request' | 'cloudwatch' | 'statfs' }
  | { readonly known: false; readonly reason: string };

/** What the target knows about a role that will own a database there (the source database's owner). */
export interface TargetRoleAccess {
  readonly exists: boolean;
  /** The target user may SET ROLE to it (16+: SET option; before: membership) — CREATE DATABASE … OWNER needs it. */
  readonly set: boolean;
  /** The target user has its privileges (an inheriting member). */
  readonly usage: boolean;
}

export interface SourceServerFacts {
  readonly endpoint: Endpoint;
  readonly server: Outcome<ServerFacts>;
  readonly identity: Outcome<ServerIdentity & { readonly pid: number }>;
  readonly databases: Outcome<readonly DatabaseRow[]>;
  /** pg_database_size per selected database (null: the user may not read it). */
  readonly sizes: Outcome<Readonly<Record<string, number | null>>>;
  readonly replication: Outcome<SourceReplicationSettings>;
  /** Absent when roles are not migrated. */
  readonly roles?: Outcome<readonly SourceRole[]>;
  /** The roles the selected databases need (core/role-scope.ts); absent with `--roles all` or without roles. */
  readonly roleScope?: Outcome<readonly string[]>;
  readonly activity: Outcome<SourceActivity>;
  readonly extensionSupport: Outcome<ExtensionSupport>;
}

export interface TargetServerFacts {
  readonly endpoint: Endpoint;
  readonly server: Outcome<ServerFacts>;
  readonly identity: Outcome<ServerIdentity>;
  /** Whether the target saw the source's probe session in pg_stat_activity. */
  readonly probeSeen: Outcome<boolean>;
  readonly databases: Outcome<readonly string[]>;
  readonly available: Outcome<readonly AvailableExtensionVersion[]>;
  readonly languages: Outcome<readonly string[]>;
  readonly extensionSupport: Outcome<ExtensionSupport>;
  readonly replication: Outcome<TargetReplicationSettings>;
  /** Absent when roles are not migrated. */
  readonly roles?: Outcome<readonly string[]>;
  /** Per owner of a selected source database. */
  readonly ownerRoles: Outcome<Readonly<Record<string, TargetRoleAccess>>>;
  /** `createrole_self_grant` (16+; '' before). */
  readonly createroleSelfGrant: Outcome<string>;
  readonly freeSpace: Outcome<FreeSpace>;
  /** What a secret-carrying session logs there (credential-exposure); absent when no statement carries one. */
  readonly logFacts?: Outcome<ServerLogFacts>;
}

/** The target's side of credential-exposure: what a secret-carrying session there ends up logging. */
export interface ServerLogFacts {
  readonly user: string;
  readonly settings: LogSettings;
  /** Settings the user may not change for its session. */
  readonly notAllowed: readonly string[];
  /** The pg_temp function (the secret as a bound parameter) is available. */
  readonly secretFunction: boolean;
}

/** The source connection as the subscription would use it: its TLS settings and user, no credential. */
export interface SourceConnectionFacts {
  readonly tls: TlsSettings;
  readonly user: string;
}

/** pg_dump / pg_restore for the dump method (checked by `version`). */
export interface ToolsFacts {
  readonly tools?: PgTools & { readonly inTaskImage?: boolean };
  /** Where they were looked for (for the message). */
  readonly searched: string;
}

/** Everything the server phase read. */
export interface ServerPhaseFacts {
  readonly source: SourceServerFacts;
  readonly target: TargetServerFacts;
  readonly selection: Outcome<DatabaseSelection>;
  readonly tools: Outcome<ToolsFacts>;
  readonly sourceConnection: SourceConnectionFacts;
}

/** The part of the server facts the database phase needs (JSON; small: it rides in every Map item). */
export interface SharedFacts {
  readonly source: {
    readonly server: Outcome<ServerFacts>;
    readonly walLevel: Outcome<string>;
    readonly extensionSupport: Outcome<ExtensionSupport>;
  };
  readonly target: {
    readonly server: Outcome<ServerFacts>;
    readonly available: Outcome<readonly AvailableExtensionVersion[]>;
    readonly languages: Outcome<readonly string[]>;
    readonly extensionSupport: Outcome<ExtensionSupport>;
    readonly ownerRoles: Outcome<Readonly<Record<string, TargetRoleAccess>>>;
    readonly createroleSelfGrant: Outcome<string>;
    /** The target's database list could not be read: whether a database exists there is unknown. */
    readonly databasesUnknown?: string;
  };
}

/** One selected database, as the server phase hands it to the database phase. */
export interface DatabaseItem {
  readonly name: string;
  /** The database exists on the target. */
  readonly targetExists: boolean;
  /** The database would use logical replication (all selected unless dump is forced). */
  readonly candidate: boolean;
  /** The source database's owner (it owns the target database when pg-migrate creates it and may). */
  readonly owner: string;
  /** Many databases: passing results are sent without their message (they are merged afterwards). */
  readonly compact: boolean;
}

export interface SourceDatabaseFacts {
  /** The session itself: failure = the database cannot be reached. */
  readonly session: Outcome<true>;
  readonly extensions: Outcome<readonly InstalledExtension[]>;
  readonly languages: Outcome<readonly string[]>;
  readonly tables: Outcome<readonly UserTable[]>;
  readonly largeObjects: Outcome<{ readonly total: number; readonly unreadable: number }>;
  readonly views: Outcome<readonly MaterializedViewFacts[]>;
  readonly access: Outcome<DatabaseAccess>;
}

export interface TargetDatabaseFacts {
  readonly session: Outcome<true>;
  readonly content: Outcome<TargetContent>;
  readonly extensions: Outcome<readonly InstalledExtension[]>;
  readonly access: Outcome<DatabaseAccess>;
}

export interface MaterializedViewFacts {
  readonly schema: string;
  readonly view: string;
  readonly populated: boolean;
  /** Tables it reads directly. */
  readonly dependsOn: ReadonlyArray<{ readonly schema: string; readonly name: string }>;
}

/** Everything read inside one selected database. `target` is absent when the database does not exist there. */
export interface DatabaseFacts {
  readonly item: DatabaseItem;
  readonly source: SourceDatabaseFacts;
  readonly target?: TargetDatabaseFacts;
}

// --- sessions -------------------------------------------------------------------------------------------------

/** One check session: every fact read on it is an Outcome; a session that could not open fails them all alike. */
class FactSession {
  private constructor(
    private readonly client: pg.Client | undefined,
    readonly opened: Outcome<true>,
  ) {}

  static async open(
    spec: ConnectionSpec,
    database: string,
    request: Request,
    applicationName = 'pg-migrate-check',
  ): Promise<FactSession> {
    try {
      const client = await connect(spec, database, { ...sessionOptions(request), applicationName });
      return new FactSession(client, { ok: true, value: true });
    } catch (err) {
      const code = errorCode(err);
      return new FactSession(undefined, {
        ok: false,
        error: describeError(err),
        ...(code !== undefined ? { code } : {}),
        permission: code === '42501',
      });
    }
  }

  private queue: Promise<unknown> = Promise.resolve();

  /** Reads one fact; the facts of one session are read one after another (one statement at a time). */
  fact<T>(read: (client: pg.Client) => Promise<T>): Promise<Outcome<T>> {
    if (!this.opened.ok) return Promise.resolve(this.opened);
    const client = this.client!;
    const next = this.queue.then(() => attempt(() => read(client)));
    this.queue = next;
    return next;
  }

  async close(): Promise<void> {
    await this.client?.end().catch(() => {});
  }
}

const failedWith = (outcome: Outcome<unknown>, error: string): Outcome<never> =>
  outcome.ok ? { ok: false, error, permission: false } : outcome;

function endpoint(spec: ConnectionSpec): Endpoint {
  return { host: spec.host, port: spec.port, user: spec.user, database: spec.database, sslmode: spec.sslmode };
}

async function rows<R extends pg.QueryResultRow>(client: pg.Client, sql: string, params: unknown[] = []) {
  return (await client.query<R>(sql, params)).rows;
}

// --- server phase ---------------------------------------------------------------------------------------------

async function readIdentity(client: pg.Client): Promise<ServerIdentity & { pid: number }> {
  const [row] = await rows<{ port: string; start: string; dir: string | null; pid: number }>(
    client,
    `SELECT current_setting('port') AS port, pg_catalog.pg_postmaster_start_time()::text AS start,
            (SELECT setting FROM pg_catalog.pg_settings WHERE name = 'data_directory') AS dir,
            pg_catalog.pg_backend_pid() AS pid`,
  );
  let systemIdentifier: string | undefined;
  try {
    const [sys] = await rows<{ id: string }>(
      client,
      'SELECT system_identifier::text AS id FROM pg_catalog.pg_control_system()',
    );
    systemIdentifier = sys?.id;
  } catch {
    // EXECUTE may be revoked (some clouds): the probe session decides alone.
  }
  return {
    ...(systemIdentifier !== undefined ? { systemIdentifier } : {}),
    ...(row!.dir !== null ? { dataDirectory: row!.dir } : {}),
    port: Number(row!.port),
    startTime: row!.start,
    pid: row!.pid,
  };
}

const PROVIDER_ADMIN_ROLE: Readonly<Record<ProviderKind, string>> = {
  rds: 'rds_superuser',
  cloudsql: 'cloudsqlsuperuser',
  azure: 'azure_pg_admin',
};

/** The provider's admin role, whose patched powers pg-migrate relies on only where the provider is recognised. */
export function providerAdminRole(provider: ProviderKind): string {
  return PROVIDER_ADMIN_ROLE[provider];
}

const list = (text: string | null | undefined): string[] =>
  (text ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

async function readExtensionSupport(client: pg.Client): Promise<ExtensionSupport> {
  const [row] = await rows<{
    extwlist: string | null;
    rds: string | null;
    rds_allowed: string | null;
    azure: string | null;
    cloudsql: boolean;
    aiven: boolean;
  }>(
    client,
    `SELECT current_setting('extwlist.extensions', true) AS extwlist,
            current_setting('rds.extensions', true) AS rds,
            current_setting('rds.allowed_extensions', true) AS rds_allowed,
            current_setting('azure.extensions', true) AS azure,
            EXISTS (SELECT 1 FROM pg_catalog.pg_settings WHERE name LIKE 'cloudsql.%') AS cloudsql,
            EXISTS (SELECT 1 FROM pg_catalog.pg_available_extensions WHERE name = 'aiven_extras') AS aiven`,
  );
  const r = row!;
  let provider: ProviderKind | undefined;
  let providerAllowList: string[] | undefined;
  if (r.rds !== null && r.rds !== '') {
    provider = 'rds';
    const allowed = list(r.rds_allowed);
    providerAllowList = allowed.length === 0 || allowed.includes('*') ? list(r.rds) : allowed;
  } else if (r.azure !== null) {
    provider = 'azure';
    providerAllowList = list(r.azure);
  } else if (r.cloudsql) {
    provider = 'cloudsql';
  }
  return {
    extwlist: list(r.extwlist),
    ...(provider ? { provider } : {}),
    ...(providerAllowList ? { providerAllowList } : {}),
    aivenExtrasAvailable: r.aiven,
  };
}

/** Free bytes of the target's data directory when it lives on this machine (proven by its postmaster.pid). */
async function localFreeSpace(dir: string, port: number, startEpoch: number): Promise<FreeSpace> {
  let pidFile: string;
  try {
    pidFile = await readFile(join(dir, 'postmaster.pid'), 'utf8');
  } catch {
    return { known: false, reason: 'the target is not on the machine the tool runs on' };
  }
  const [, fileDir, fileStart, filePort] = pidFile.split('\n');
  if (fileDir !== dir || Number(filePort) !== port || Math.abs(Number(fileStart) - startEpoch) > 1) {
    return { known: false, reason: 'a data directory of that path here belongs to another server' };
  }
  const fs = await statfs(dir);
  return { known: true, bytes: fs.bavail * fs.bsize, from: 'statfs' };
}

/**
 * On AWS the check runs in a Lambda but pg_dump runs in the Fargate task: the deployment sets this variable to the
 * majors of the task image's client tools, comma-separated (tasks/Dockerfile `PG_MAJORS`, e.g. `14,15,16,17,18`),
 * used instead of local binaries; the task will pick among them as {@link choosePgTools} does.
 */
export const TASK_PG_MAJOR_ENV = 'PG_MIGRATE_TASK_PG_MAJOR';

/** The majors named by {@link TASK_PG_MAJOR_ENV} (`17`, `14,15,16,17,18`, `17.2`), or undefined when unset. */
export function taskToolsMajors(text: string | undefined = process.env[TASK_PG_MAJOR_ENV]): number[] | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const majors = text
    .split(',')
    .map((part) => Number(part.trim().split('.')[0]))
    .filter((major) => Number.isInteger(major) && major >= 10);
  return majors.length > 0 ? majors : undefined;
}

async function findTools(sourceMajor: number, targetMajor: number | undefined): Promise<ToolsFacts> {
  const task = taskToolsMajors();
  if (task !== undefined) {
    const chosen = choosePgTools(
      task.map((major) => ({ major })),
      sourceMajor,
      targetMajor,
    );
    return {
      ...(chosen
        ? { tools: { dir: 'task image', version: String(chosen.major), major: chosen.major, inTaskImage: true } }
        : {}),
      searched: `${TASK_PG_MAJOR_ENV}=${task.join(',')} (the Fargate task image)`,
    };
  }
  const tools = await findPgTools(sourceMajor, targetMajor === undefined ? {} : { targetMajor });
  const path = pgToolsSearchPath();
  const searched = [
    ...(path.explicit ? [`PG_MIGRATE_PG_BIN=${path.explicit}`] : []),
    '/usr/lib/postgresql/*/bin',
    'PATH',
    ...(path.skipped.length > 0 ? [`not searched: ${path.skipped.join(', ')}`] : []),
  ].join(', ');
  return { ...(tools ? { tools } : {}), searched };
}

/**
 * The server phase: one session on each server's connect database reads everything server-wide, once per run.
 * The source session carries a random application_name the target looks for in pg_stat_activity (distinct-servers).
 */
export async function collectServerFacts(ctx: RunContext, request: Request): Promise<ServerPhaseFacts> {
  const token = `pg-migrate-probe-${randomBytes(8).toString('hex')}`;
  const [s, t] = await Promise.all([
    FactSession.open(ctx.source, ctx.source.database, request, token),
    FactSession.open(ctx.target, ctx.target.database, request),
  ]);
  try {
    const [sourceServer, sourceIdentity, databases, replication, roles, activity, sourceSupport] = await Promise.all([
      s.fact(readServerFacts),
      s.fact(readIdentity),
      s.fact(async (c) =>
        (
          await rows<{ name: string; allow_conn: boolean; is_template: boolean; owner: string }>(
            c,
            `SELECT datname AS name, datallowconn AS allow_conn, datistemplate AS is_template,
                    pg_catalog.pg_get_userbyid(datdba) AS owner FROM pg_catalog.pg_database`,
          )
        ).map(
          (r): DatabaseRow => ({ name: r.name, allowConn: r.allow_conn, isTemplate: r.is_template, owner: r.owner }),
        ),
      ),
      s.fact(async (c) => {
        const [r] = await rows<{
          wal: string;
          slots: number;
          used: number;
          ours: number;
          senders: number;
          used_senders: number;
        }>(
          c,
          `SELECT current_setting('wal_level') AS wal, current_setting('max_replication_slots')::int AS slots,
                  (SELECT count(*)::int FROM pg_catalog.pg_replication_slots) AS used,
                  (SELECT count(*)::int FROM pg_catalog.pg_replication_slots WHERE slot_name LIKE 'pg\\_migrate%') AS ours,
                  current_setting('max_wal_senders')::int AS senders,
                  (SELECT count(*)::int FROM pg_catalog.pg_stat_replication) AS used_senders`,
        );
        return {
          walLevel: r!.wal,
          maxReplicationSlots: r!.slots,
          usedSlots: r!.used,
          ourSlots: r!.ours,
          maxWalSenders: r!.senders,
          usedWalSenders: r!.used_senders,
        } satisfies SourceReplicationSettings;
      }),
      request.roles
        ? s.fact((c) =>
            rows<SourceRole>(
              c,
              'SELECT rolname AS name, rolsuper AS superuser, rolreplication AS replication, rolbypassrls AS "bypassRls" FROM pg_catalog.pg_roles ORDER BY 1',
            ),
          )
        : undefined,
      s.fact(async (c): Promise<SourceActivity> => {
        const prepared = await rows<{ gid: string; database: string; ageSeconds: number }>(
          c,
          'SELECT gid, database, extract(epoch FROM now() - prepared)::float8 AS "ageSeconds" FROM pg_catalog.pg_prepared_xacts ORDER BY prepared',
        );
        const running = await rows<{ pid: number; database: string | null; user: string | null; ageSeconds: number }>(
          c,
          `SELECT pid, datname AS database, usename AS user, extract(epoch FROM now() - xact_start)::float8 AS "ageSeconds"
             FROM pg_catalog.pg_stat_activity
            WHERE xact_start IS NOT NULL AND pid <> pg_catalog.pg_backend_pid() AND backend_type = 'client backend'
            ORDER BY xact_start`,
        );
        const [hidden] = await rows<{ n: number }>(
          c,
          `SELECT count(*)::int AS n FROM pg_catalog.pg_stat_activity
            WHERE datname IS NOT NULL AND usename IS NOT NULL AND query = '<insufficient privilege>'`,
        );
        return { prepared, running, hidden: hidden?.n ?? 0 };
      }),
      s.fact(readExtensionSupport),
    ]);
    const selection: Outcome<DatabaseSelection> = databases.ok
      ? { ok: true, value: selectDatabases(databases.value, request) }
      : databases;
    const selected = selection.ok ? selection.value.selected : [];
    const sizes = await s.fact(async (c) => {
      const found = await rows<{ name: string; bytes: string | null }>(
        c,
        `SELECT d.datname AS name,
                CASE WHEN pg_catalog.has_database_privilege(d.oid, 'CONNECT')
                       OR pg_catalog.pg_has_role('pg_read_all_stats', 'USAGE')
                     THEN pg_catalog.pg_database_size(d.oid)::text END AS bytes
           FROM pg_catalog.pg_database d WHERE d.datname = ANY ($1::text[])`,
        [selected],
      );
      return Object.fromEntries(found.map((r) => [r.name, r.bytes === null ? null : Number(r.bytes)]));
    });

    const owners = [...new Set(selected.map((d) => databases.ok && databases.value.find((r) => r.name === d)?.owner))]
      .filter((o): o is string => typeof o === 'string')
      .sort();
    const [targetServer, targetIdentity, targetDatabases, available, languages, targetSupport, targetReplication] =
      await Promise.all([
        t.fact(readServerFacts),
        t.fact(readIdentity),
        t.fact(async (c) =>
          (await rows<{ name: string }>(c, 'SELECT datname AS name FROM pg_catalog.pg_database')).map((r) => r.name),
        ),
        t.fact(async (c) => {
          const major = majorOf(
            Number((await rows<{ v: string }>(c, "SELECT current_setting('server_version_num') AS v"))[0]!.v),
          );
          const versions = await rows<AvailableExtensionVersion>(
            c,
            `SELECT name, version, superuser, ${major >= 13 ? 'trusted' : 'false'} AS trusted
               FROM pg_catalog.pg_available_extension_versions`,
          );
          return highestVersions(versions);
        }),
        t.fact(async (c) =>
          (
            await rows<{ name: string }>(
              c,
              `SELECT name FROM pg_catalog.pg_available_extensions
               UNION SELECT lanname FROM pg_catalog.pg_language WHERE lanispl`,
            )
          ).map((r) => r.name),
        ),
        t.fact(readExtensionSupport),
        t.fact(async (c) => {
          const [r] = await rows<{ lrw: number; wp: number; slots: number; subs: number }>(
            c,
            `SELECT current_setting('max_logical_replication_workers')::int AS lrw,
                    current_setting('max_worker_processes')::int AS wp,
                    current_setting('max_replication_slots')::int AS slots,
                    (SELECT count(*)::int FROM pg_catalog.pg_subscription WHERE subenabled AND subname NOT LIKE 'pg\\_migrate%') AS subs`,
          );
          return {
            maxLogicalReplicationWorkers: r!.lrw,
            maxWorkerProcesses: r!.wp,
            maxReplicationSlots: r!.slots,
            otherSubscriptions: r!.subs,
          } satisfies TargetReplicationSettings;
        }),
      ]);
    const [probeSeen, targetRoles, ownerRoles, createroleSelfGrant, freeSpace] = await Promise.all([
      sourceIdentity.ok
        ? t.fact(async (c) => {
            const [r] = await rows<{ n: number }>(
              c,
              'SELECT count(*)::int AS n FROM pg_catalog.pg_stat_activity WHERE application_name = $1 AND pid = $2',
              [token, sourceIdentity.value.pid],
            );
            return (r?.n ?? 0) > 0;
          })
        : Promise.resolve(failedWith(sourceIdentity, 'the source is unreachable')),
      request.roles
        ? t.fact(async (c) =>
            (await rows<{ name: string }>(c, 'SELECT rolname AS name FROM pg_catalog.pg_roles')).map((r) => r.name),
          )
        : undefined,
      t.fact(async (c) => {
        const major = majorOf(
          Number((await rows<{ v: string }>(c, "SELECT current_setting('server_version_num') AS v"))[0]!.v),
        );
        const found = await rows<{ name: string; set: boolean; usage: boolean }>(
          c,
          `SELECT r.rolname AS name, pg_catalog.pg_has_role(r.oid, '${major >= 16 ? 'SET' : 'MEMBER'}') AS set,
                  pg_catalog.pg_has_role(r.oid, 'USAGE') AS usage
             FROM pg_catalog.pg_roles r WHERE r.rolname = ANY ($1::text[])`,
          [owners],
        );
        return Object.fromEntries(
          owners.map((o) => {
            const r = found.find((f) => f.name === o);
            return [o, { exists: r !== undefined, set: r?.set ?? false, usage: r?.usage ?? false }];
          }),
        );
      }),
      t.fact(
        async (c) =>
          (await rows<{ g: string | null }>(c, "SELECT current_setting('createrole_self_grant', true) AS g"))[0]?.g ??
          '',
      ),
      request.targetFreeBytes !== undefined
        ? Promise.resolve<Outcome<FreeSpace>>({
            ok: true,
            value: { known: true, bytes: request.targetFreeBytes, from: 'request' },
          })
        : (async (): Promise<Outcome<FreeSpace>> => {
            const fromProvider = await attempt(async () => (await ctx.targetFreeBytes?.()) ?? undefined);
            if (fromProvider.ok && fromProvider.value !== undefined) {
              return { ok: true, value: { known: true, bytes: fromProvider.value, from: 'cloudwatch' } };
            }
            return t.fact(async (c) => {
              const [r] = await rows<{ dir: string | null; port: string; start: string }>(
                c,
                `SELECT (SELECT setting FROM pg_catalog.pg_settings WHERE name = 'data_directory') AS dir,
                        current_setting('port') AS port,
                        floor(extract(epoch FROM pg_catalog.pg_postmaster_start_time()))::bigint::text AS start`,
              );
              if (r!.dir === null) {
                return {
                  known: false,
                  reason:
                    'the target user may not read data_directory (superuser or pg_read_all_settings needed) and no figure was given',
                } satisfies FreeSpace;
              }
              return localFreeSpace(r!.dir, Number(r!.port), Number(r!.start));
            });
          })(),
    ]);
    // Last on the target session: it turns that session's statement logging off where the user may, as the
    // secret-carrying sessions of the run will (core/secret-statements.ts).
    const logFacts = request.roles || request.method !== 'dump' ? await t.fact(readServerLogFacts) : undefined;
    const roleScope =
      request.roles && request.roleScope === 'needed'
        ? await readRoleScope(ctx, request, s, selected, targetRoles)
        : undefined;
    const tools: Outcome<ToolsFacts> = sourceServer.ok
      ? await attempt(() =>
          findTools(
            majorOf(sourceServer.value.versionNum),
            targetServer.ok ? majorOf(targetServer.value.versionNum) : undefined,
          ),
        )
      : sourceServer;
    return {
      source: {
        endpoint: endpoint(ctx.source),
        server: sourceServer,
        identity: sourceIdentity,
        databases,
        sizes,
        replication,
        ...(roles ? { roles } : {}),
        ...(roleScope ? { roleScope } : {}),
        activity,
        extensionSupport: sourceSupport,
      },
      target: {
        endpoint: endpoint(ctx.target),
        server: targetServer,
        identity: targetIdentity.ok ? { ok: true, value: withoutPid(targetIdentity.value) } : targetIdentity,
        probeSeen,
        databases: targetDatabases,
        available,
        languages,
        extensionSupport: targetSupport,
        replication: targetReplication,
        ...(targetRoles ? { roles: targetRoles } : {}),
        ownerRoles,
        createroleSelfGrant,
        freeSpace,
        ...(logFacts ? { logFacts } : {}),
      },
      selection,
      tools,
      sourceConnection: {
        tls: {
          sslmode: ctx.source.sslmode,
          ...(ctx.source.sslrootcert !== undefined ? { sslrootcert: ctx.source.sslrootcert } : {}),
          ...(ctx.source.channelBinding !== undefined ? { channelBinding: ctx.source.channelBinding } : {}),
        },
        user: ctx.source.user,
      },
    };
  } finally {
    await Promise.all([s.close(), t.close()]);
  }
}

async function readServerLogFacts(client: pg.Client): Promise<ServerLogFacts> {
  const { rows: found } = await client.query<{ user: string }>('SELECT current_user AS user');
  const quiet = await quietSession(client);
  return {
    user: found[0]?.user ?? '',
    settings: quiet.settings,
    notAllowed: quiet.notAllowed,
    secretFunction: await secretFunctionAvailable(client),
  };
}

/**
 * The roles the selected databases need, as the roles step will ask core/role-scope.ts: the shared catalogs on the
 * server phase's source session. The bootstrap superuser's own objects are not recorded there: role-scope reads
 * them on one short session per database, which the check opens only when that role would be created (missing on
 * the target and not a server role) — otherwise it decides nothing the step does (the role exists either way).
 */
async function readRoleScope(
  ctx: RunContext,
  request: Request,
  source: FactSession,
  selected: readonly string[],
  targetRoles: Outcome<readonly string[]> | undefined,
): Promise<Outcome<readonly string[]>> {
  const shared = await source.fact((c) => readRoleScopeFacts(c, selected));
  if (!shared.ok) return shared;
  const { bootstrap } = shared.value;
  const onTarget = targetRoles?.ok ? targetRoles.value : [];
  const created = bootstrap !== '' && !isSystemRole(bootstrap) && !onTarget.includes(bootstrap);
  const facts: Outcome<RoleScopeFacts> = created
    ? await attempt(() => collectRoleScope(ctx.source, selected, sessionOptions(request)))
    : { ok: true, value: shared.value };
  return facts.ok ? { ok: true, value: [...rolesInScope(facts.value, 'needed').keys()] } : facts;
}

function withoutPid(identity: ServerIdentity & { pid: number }): ServerIdentity {
  const { pid: _pid, ...rest } = identity;
  return rest;
}

/** Compares extension versions (`1.10` > `1.9`, `2.0.1` > `2.0`); non-numeric parts compare as text. */
export function compareExtensionVersions(a: string, b: string): number {
  const pa = a.split(/[.\-_]/);
  const pb = b.split(/[.\-_]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '0';
    const y = pb[i] ?? '0';
    const nx = /^\d+$/.test(x) ? Number(x) : Number.NaN;
    const ny = /^\d+$/.test(y) ? Number(y) : Number.NaN;
    const c = Number.isNaN(nx) || Number.isNaN(ny) ? x.localeCompare(y) : nx - ny;
    if (c !== 0) return c;
  }
  return 0;
}

/** Pure: the highest version of each available extension (what the extensions check compares against). */
export function highestVersions(versions: readonly AvailableExtensionVersion[]): AvailableExtensionVersion[] {
  const best = new Map<string, AvailableExtensionVersion>();
  for (const v of versions) {
    const seen = best.get(v.name);
    if (!seen || compareExtensionVersions(v.version, seen.version) > 0) best.set(v.name, v);
  }
  return [...best.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Pure: what the database phase needs from the server phase. */
export function sharedFacts(facts: ServerPhaseFacts): SharedFacts {
  const { source, target } = facts;
  return {
    source: {
      server: source.server,
      walLevel: source.replication.ok ? { ok: true, value: source.replication.value.walLevel } : source.replication,
      extensionSupport: source.extensionSupport,
    },
    target: {
      server: target.server,
      available: target.available,
      languages: target.languages,
      extensionSupport: target.extensionSupport,
      ownerRoles: target.ownerRoles,
      createroleSelfGrant: target.createroleSelfGrant,
      ...(target.databases.ok ? {} : { databasesUnknown: target.databases.error }),
    },
  };
}

/** Per-database passes are sent without their message above this many databases (they are merged afterwards). */
export const COMPACT_DATABASES_ABOVE = 10;

/** Pure: the databases the database phase visits, in order. */
export function databaseItems(facts: ServerPhaseFacts, request: Pick<Request, 'method'>): DatabaseItem[] {
  if (!facts.selection.ok) return [];
  const selected = facts.selection.value.selected;
  const onTarget = new Set(facts.target.databases.ok ? facts.target.databases.value : []);
  const candidates = new Set(replicationCandidates(request, selected));
  const rows = facts.source.databases.ok ? facts.source.databases.value : [];
  return selected.map((name) => ({
    name,
    targetExists: onTarget.has(name),
    candidate: candidates.has(name),
    owner: rows.find((r) => r.name === name)?.owner ?? '',
    compact: selected.length > COMPACT_DATABASES_ABOVE,
  }));
}

// --- database phase -------------------------------------------------------------------------------------------

async function readLanguages(client: pg.Client): Promise<string[]> {
  return (
    await rows<{ lanname: string }>(client, 'SELECT lanname FROM pg_catalog.pg_language WHERE lanispl ORDER BY lanname')
  ).map((r) => r.lanname);
}

async function readLargeObjects(client: pg.Client): Promise<{ total: number; unreadable: number }> {
  const [r] = await rows<{ total: number; unreadable: number }>(
    client,
    `SELECT (SELECT count(*)::int FROM pg_catalog.pg_largeobject_metadata) AS total,
            CASE WHEN (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user)
                   OR current_setting('lo_compat_privileges')::boolean THEN 0
                 ELSE (SELECT count(*)::int FROM pg_catalog.pg_largeobject_metadata m
                        WHERE NOT pg_catalog.pg_has_role(m.lomowner, 'USAGE')
                          AND NOT EXISTS (SELECT 1 FROM pg_catalog.aclexplode(m.lomacl) a
                                           WHERE a.privilege_type = 'SELECT'
                                             AND (a.grantee = 0 OR pg_catalog.pg_has_role(a.grantee, 'USAGE'))))
            END AS unreadable`,
  );
  return r!;
}

async function readMaterializedViews(client: pg.Client): Promise<MaterializedViewFacts[]> {
  const found = await rows<{
    schema: string;
    view: string;
    populated: boolean;
    deps: { schema: string; name: string }[] | null;
  }>(
    client,
    `SELECT n.nspname AS schema, c.relname AS view, c.relispopulated AS populated,
            (SELECT json_agg(DISTINCT jsonb_build_object('schema', tn.nspname, 'name', t.relname))
               FROM pg_catalog.pg_rewrite r
               JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::regclass AND d.objid = r.oid
                                          AND d.refclassid = 'pg_catalog.pg_class'::regclass
               JOIN pg_catalog.pg_class t ON t.oid = d.refobjid AND t.oid <> c.oid AND t.relkind IN ('r', 'p')
               JOIN pg_catalog.pg_namespace tn ON tn.oid = t.relnamespace
              WHERE r.ev_class = c.oid) AS deps
       FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind = 'm' AND ${USER_RELATION_SQL}
      ORDER BY 1, 2`,
  );
  return found.map((r) => ({ schema: r.schema, view: r.view, populated: r.populated, dependsOn: r.deps ?? [] }));
}

/**
 * The database phase for one database: one source session (and one target session when the database exists on
 * the target) read everything every per-database check needs.
 */
export async function collectDatabaseFacts(
  ctx: RunContext,
  request: Request,
  item: DatabaseItem,
): Promise<DatabaseFacts> {
  const [s, t] = await Promise.all([
    FactSession.open(ctx.source, item.name, request),
    item.targetExists ? FactSession.open(ctx.target, item.name, request) : Promise.resolve(undefined),
  ]);
  try {
    const [extensions, languages, tables, largeObjects, views, access] = await Promise.all([
      s.fact(readInstalledExtensions),
      s.fact(readLanguages),
      s.fact(readUserTables),
      s.fact(readLargeObjects),
      s.fact(readMaterializedViews),
      s.fact(readDatabaseAccess),
    ]);
    const source: SourceDatabaseFacts = {
      session: s.opened,
      extensions,
      languages,
      tables,
      largeObjects,
      views,
      access,
    };
    if (!t) return { item, source };
    const [content, targetExtensions, targetAccess] = await Promise.all([
      t.fact(readTargetContent),
      t.fact(readInstalledExtensions),
      t.fact(readDatabaseAccess),
    ]);
    return {
      item,
      source,
      target: { session: t.opened, content, extensions: targetExtensions, access: targetAccess },
    };
  } finally {
    await Promise.all([s.close(), t?.close()]);
  }
}
