/**
 * Helpers every check shares: the session options of check sessions, facts as data ({@link Outcome}), the
 * database selection (filters applied, templates and providers' admin databases left out), the connected user's
 * rights ({@link ServerFacts}). The facts themselves are gathered once per run by core/checks/collect.ts.
 */
import type pg from 'pg';
import type { SessionOptions } from '../connection.js';
import { describeError } from '../errors.js';
import type { Request } from '../request.js';

/** Databases never migrated: templates and the cloud providers' administrative databases. */
export const ADMIN_DATABASES: ReadonlySet<string> = new Set([
  'template0',
  'template1',
  'rdsadmin',
  '_aiven',
  'cloudsqladmin',
  'azure_maintenance',
  'azure_sys',
  'alloydbadmin',
  'alloydbmetadata',
]);

/** Roles that give a cloud user replication / administration rights without being superuser. */
export const CLOUD_ADMIN_ROLES = [
  'rds_superuser',
  'rds_replication',
  'cloudsqlsuperuser',
  'alloydbsuperuser',
  'azure_pg_admin',
  'pg_create_subscription',
  'pg_read_all_settings',
  'pg_read_all_stats',
  'pg_read_all_data',
  'pg_monitor',
] as const;

/** Session options for check queries: the request's short connect and statement timeouts. */
export function sessionOptions(
  request: Pick<Request, 'connectTimeoutSeconds' | 'checkStatementTimeoutMs'>,
): SessionOptions {
  return {
    connectTimeoutMs: request.connectTimeoutSeconds * 1000,
    statementTimeoutMs: request.checkStatementTimeoutMs,
    lockTimeoutMs: Math.min(request.checkStatementTimeoutMs, 5000),
    applicationName: 'pg-migrate-check',
  };
}

/** A counting semaphore. */
export class Semaphore {
  private free: number;
  private readonly waiting: (() => void)[] = [];
  constructor(permits: number) {
    this.free = permits;
  }
  acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

/** A fact that could not be gathered carries the (scrubbed) reason instead. */
export type Outcome<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: string; readonly code?: string; readonly permission: boolean };

/** The SQLSTATE or socket error code of a thrown value. */
export function errorCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}

/** Runs `fn`, capturing a failure as data. */
export async function attempt<T>(fn: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (err) {
    const code = errorCode(err);
    return {
      ok: false,
      error: describeError(err),
      ...(code !== undefined ? { code } : {}),
      permission: code === '42501',
    };
  }
}

/** Maps `items` through `fn` with at most `limit` in flight, keeping the order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      out[index] = await fn(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** A row of the source's pg_database. */
export interface DatabaseRow {
  readonly name: string;
  readonly allowConn: boolean;
  readonly isTemplate: boolean;
  /** The owning role (absent in older facts). */
  readonly owner?: string;
}

export interface DatabaseSelection {
  /** Databases to migrate, in name order. */
  readonly selected: readonly string[];
  /** Names in `request.dbs` that do not exist (or are never migrated) on the source. */
  readonly unknown: readonly string[];
  /** Names in `request.excludeDbs` that do not exist on the source (harmless, reported as a warning). */
  readonly unknownExcluded: readonly string[];
  /** Names in `request.dbs` that exist but are never migrated (templates, admin databases, no connections). */
  readonly notMigratable: readonly string[];
}

/** Whether a database is ever migrated (not a template, not an admin database, accepting connections). */
export function isMigratable(row: DatabaseRow): boolean {
  return !ADMIN_DATABASES.has(row.name) && !row.isTemplate && row.allowConn;
}

/** Pure: the source databases the request selects. */
export function selectDatabases(
  rows: readonly DatabaseRow[],
  request: Pick<Request, 'dbs' | 'excludeDbs'>,
): DatabaseSelection {
  const byName = new Map(rows.map((r) => [r.name, r]));
  const migratable = rows.filter(isMigratable).map((r) => r.name);
  const exclude = new Set(request.excludeDbs);
  const wanted = request.dbs ? new Set(request.dbs) : undefined;
  const selected = migratable.filter((n) => !exclude.has(n) && (wanted === undefined || wanted.has(n)));
  selected.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const requested = request.dbs ?? [];
  return {
    selected,
    unknown: requested.filter((n) => !byName.has(n)),
    notMigratable: requested.filter((n) => byName.has(n) && !isMigratable(byName.get(n)!)),
    unknownExcluded: request.excludeDbs.filter((n) => !byName.has(n)),
  };
}

/** Databases that would use logical replication: all selected unless the request forces dump. */
export function replicationCandidates(request: Pick<Request, 'method'>, databases: readonly string[]): string[] {
  return request.method === 'dump' ? [] : [...databases];
}

/** The connected user and server, as far as any user can see them. */
export interface ServerFacts {
  readonly versionNum: number;
  readonly version: string;
  readonly user: string;
  readonly superuser: boolean;
  readonly createRole: boolean;
  readonly createDb: boolean;
  readonly replication: boolean;
  readonly bypassRls: boolean;
  /** Of {@link CLOUD_ADMIN_ROLES}, those whose privileges the user has (an inheriting member, directly or not). */
  readonly memberOf: readonly string[];
}

/** The major version of a `server_version_num` (140011 → 14). */
export function majorOf(versionNum: number): number {
  return Math.floor(versionNum / 10000);
}

/** Reads {@link ServerFacts} on an open session. */
export async function readServerFacts(client: pg.Client): Promise<ServerFacts> {
  const { rows } = await client.query<{
    num: number;
    version: string;
    user: string;
    rolsuper: boolean;
    rolcreaterole: boolean;
    rolcreatedb: boolean;
    rolreplication: boolean;
    rolbypassrls: boolean;
    member_of: string[] | null;
  }>(
    `SELECT current_setting('server_version_num')::int AS num, current_setting('server_version') AS version,
            r.rolname AS user, r.rolsuper, r.rolcreaterole, r.rolcreatedb, r.rolreplication, r.rolbypassrls,
            (SELECT array_agg(c.rolname::text ORDER BY c.rolname) FROM pg_catalog.pg_roles c
              WHERE c.rolname = ANY($1::text[]) AND pg_catalog.pg_has_role(r.oid, c.oid, 'USAGE')) AS member_of
       FROM pg_catalog.pg_roles r WHERE r.rolname = current_user`,
    [CLOUD_ADMIN_ROLES],
  );
  const row = rows[0];
  if (!row) throw new Error('cannot read the current role from pg_roles');
  return {
    versionNum: row.num,
    version: row.version.split(' ')[0] ?? row.version,
    user: row.user,
    superuser: row.rolsuper,
    createRole: row.rolcreaterole,
    createDb: row.rolcreatedb,
    replication: row.rolreplication,
    bypassRls: row.rolbypassrls,
    memberOf: row.member_of ?? [],
  };
}

/** `schema.table` as the plan and the filters spell it (unquoted, exact). */
export function tableName(schema: string, table: string): string {
  return `${schema}.${table}`;
}

/** Human list: `a, b, c and 4 more`. */
export function listNames(names: readonly string[], max = 10): string {
  if (names.length <= max) return names.join(', ');
  return `${names.slice(0, max).join(', ')} and ${names.length - max} more`;
}

/** Per selected source database, a fact or the reason it could not be gathered. */
export type PerDatabase<T> = ReadonlyArray<{ readonly database: string; readonly facts: Outcome<T> }>;
