/**
 * Connection specs and sessions. A spec comes from a libpq URI or key=value string; `withClient` opens a session
 * with `search_path` pinned, an `application_name`, and connect / statement timeouts, and always closes it.
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { InputError, registerSecret, scrub } from './errors.js';

export type SslMode = 'disable' | 'allow' | 'prefer' | 'require' | 'verify-ca' | 'verify-full';

/** A parsed connection: never log it whole (it holds the password); use {@link describeServer}. */
export interface ConnectionSpec {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password?: string;
  /** The database the tool connects to first (and the default for server-level queries). */
  readonly database: string;
  readonly sslmode: SslMode;
  /** Path to a CA bundle (sslrootcert) for verify-ca / verify-full. */
  readonly sslrootcert?: string;
}

const SSL_MODES: readonly SslMode[] = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'];

function parseKeyValue(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /\s*([A-Za-z_]+)\s*=\s*('(?:[^'\\]|\\.)*'|[^\s']*)/gy;
  let match: RegExpExecArray | null;
  let last = 0;
  while ((match = re.exec(text)) !== null) {
    let value = match[2]!;
    if (value.startsWith("'")) value = value.slice(1, -1).replace(/\\(.)/g, '$1');
    out.set(match[1]!.toLowerCase(), value);
    last = re.lastIndex;
  }
  if (text.slice(last).trim() !== '') throw new Error('not a key=value connection string');
  return out;
}

function parseUri(text: string): Map<string, string> {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error('not a valid URI');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new Error(`unsupported scheme ${JSON.stringify(url.protocol)}; use postgres:// or postgresql://`);
  }
  const out = new Map<string, string>();
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      throw new Error('bad percent-encoding');
    }
  };
  if (url.hostname) out.set('host', decode(url.hostname.replace(/^\[(.*)\]$/, '$1')));
  if (url.port) out.set('port', url.port);
  if (url.username) out.set('user', decode(url.username));
  if (url.password) out.set('password', decode(url.password));
  const path = url.pathname.replace(/^\//, '');
  if (path) out.set('dbname', decode(path));
  for (const [key, value] of url.searchParams) out.set(key.toLowerCase(), value);
  return out;
}

/**
 * Parses a libpq URI (`postgres://user:pass@host:5432/db?sslmode=require`, percent-encoded) or a key=value string
 * (`host=… port=… user=… password=… dbname=…`). Throws {@link InputError} with a scrubbed message on bad input.
 * `label` names the input in messages (e.g. "source").
 */
export function parseConnectionString(text: string, label = 'connection'): ConnectionSpec {
  const trimmed = text.trim();
  if (trimmed === '') throw new InputError(`${label}: empty connection string`);
  let fields: Map<string, string>;
  try {
    fields = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? parseUri(trimmed) : parseKeyValue(trimmed);
  } catch (err) {
    throw new InputError(
      `${label}: cannot parse connection string (${(err as Error).message}); expected a URI such as postgres://USER@HOST:PORT/DBNAME (password percent-encoded) or "host=… user=… dbname=…"`,
    );
  }
  const password = fields.get('password');
  registerSecret(password);
  const portText = fields.get('port') ?? '5432';
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new InputError(`${label}: invalid port ${JSON.stringify(portText)}`);
  const host = fields.get('host') ?? 'localhost';
  if (host.startsWith('/')) throw new InputError(`${label}: Unix-domain sockets are not supported; use a TCP host`);
  const user = fields.get('user');
  if (!user) throw new InputError(`${label}: no user given; add user=… or postgres://USER@…`);
  const sslmode = (fields.get('sslmode') ?? 'prefer') as SslMode;
  if (!SSL_MODES.includes(sslmode)) throw new InputError(`${label}: invalid sslmode ${JSON.stringify(sslmode)}`);
  const known = new Set([
    'host',
    'port',
    'user',
    'password',
    'dbname',
    'sslmode',
    'sslrootcert',
    'connect_timeout',
    'application_name',
  ]);
  const unknown = [...fields.keys()].filter((k) => !known.has(k));
  if (unknown.length > 0) throw new InputError(`${label}: unsupported connection parameter(s): ${unknown.join(', ')}`);
  const sslrootcert = fields.get('sslrootcert');
  return {
    host,
    port,
    user,
    ...(password !== undefined ? { password } : {}),
    database: fields.get('dbname') ?? user,
    sslmode,
    ...(sslrootcert !== undefined ? { sslrootcert } : {}),
  };
}

/** `host:port` for people and reports: never the user or password. */
export function describeServer(spec: Pick<ConnectionSpec, 'host' | 'port'>): string {
  return spec.host.includes(':') ? `[${spec.host}]:${spec.port}` : `${spec.host}:${spec.port}`;
}

/** A libpq URI for the spec and database, password included: only for child-process environments, never logged. */
export function toUri(spec: ConnectionSpec, database = spec.database): string {
  const host = spec.host.includes(':') ? `[${spec.host}]` : spec.host;
  const auth = `${encodeURIComponent(spec.user)}${spec.password !== undefined ? `:${encodeURIComponent(spec.password)}` : ''}`;
  const params = new URLSearchParams({ sslmode: spec.sslmode });
  if (spec.sslrootcert) params.set('sslrootcert', spec.sslrootcert);
  return `postgresql://${auth}@${host}:${spec.port}/${encodeURIComponent(database)}?${params.toString()}`;
}

/**
 * libpq environment variables for a child process (pg_dump, pg_restore, psql): the password travels in the
 * environment, never in argv.
 */
export function libpqEnv(spec: ConnectionSpec, database = spec.database): Record<string, string> {
  const env: Record<string, string> = {
    PGHOST: spec.host,
    PGPORT: String(spec.port),
    PGUSER: spec.user,
    PGDATABASE: database,
    PGSSLMODE: spec.sslmode,
    PGAPPNAME: 'pg-migrate',
    PGCONNECT_TIMEOUT: '10',
  };
  if (spec.password !== undefined) env.PGPASSWORD = spec.password;
  if (spec.sslrootcert) env.PGSSLROOTCERT = spec.sslrootcert;
  return env;
}

export interface SessionOptions {
  /** Connect timeout, ms. @default 10000 */
  readonly connectTimeoutMs?: number;
  /** statement_timeout, ms; 0 = none. @default 0 */
  readonly statementTimeoutMs?: number;
  /** lock_timeout, ms; 0 = none. @default 0 */
  readonly lockTimeoutMs?: number;
  /** application_name. @default 'pg-migrate' */
  readonly applicationName?: string;
  /** Open a replication connection (`replication=database`). @default false */
  readonly replication?: boolean;
  /** What the session is for; its {@link SESSION_POLICIES} entry sets its timeouts. @default 'control' */
  readonly role?: SessionRole;
}

/**
 * What a session is for. `snapshot` holds an exported snapshot (or a slot's) open while others read under it;
 * `reader` reads under an imported snapshot across many statements; `writer` writes into the target; `check` runs
 * the short pre-check queries; `control` everything else (catalog reads, DDL).
 */
export type SessionRole = 'check' | 'snapshot' | 'reader' | 'writer' | 'control';

/** The settings a session of a role starts with, beyond `search_path` and the statement and lock timeouts. */
export interface SessionPolicy {
  /**
   * Holds a transaction open for as long as the run needs it (hours, idle in between): the server's
   * `idle_in_transaction_session_timeout` and (17+) `transaction_timeout` must not end it, or the snapshot is lost.
   */
  readonly longTransaction: boolean;
}

/** One policy per session role. */
export const SESSION_POLICIES: Readonly<Record<SessionRole, SessionPolicy>> = {
  check: { longTransaction: false },
  snapshot: { longTransaction: true },
  reader: { longTransaction: true },
  writer: { longTransaction: false },
  control: { longTransaction: false },
};

/**
 * The start-up `-c` settings of a session: `search_path` pinned, the statement and lock timeouts, and for sessions
 * that hold a long transaction `idle_in_transaction_session_timeout = 0` (every supported version has it;
 * `transaction_timeout`, 17+ only, is set after connecting: {@link connect}). Pure; exported for tests.
 */
export function sessionStartupOptions(options: SessionOptions = {}): string {
  const settings = [
    'search_path=pg_catalog,pg_temp',
    `statement_timeout=${options.statementTimeoutMs ?? 0}`,
    `lock_timeout=${options.lockTimeoutMs ?? 0}`,
    ...(SESSION_POLICIES[options.role ?? 'control'].longTransaction ? ['idle_in_transaction_session_timeout=0'] : []),
  ];
  return settings.map((s) => `-c ${s}`).join(' ');
}

/** Turns `transaction_timeout` off where the server has it (17+); a no-op elsewhere. */
export const NO_TRANSACTION_TIMEOUT_SQL =
  "SELECT pg_catalog.set_config('transaction_timeout', '0', false) WHERE pg_catalog.current_setting('transaction_timeout', true) IS NOT NULL";

function sslConfig(spec: ConnectionSpec): pg.ClientConfig['ssl'] {
  switch (spec.sslmode) {
    case 'disable':
    case 'allow':
    case 'prefer':
      // node-postgres has no "try TLS, fall back": prefer/allow connect in clear, as libpq does when the server
      // has no TLS. Use require or verify-* to insist on TLS.
      return false;
    case 'require':
      return { rejectUnauthorized: false };
    case 'verify-ca':
    case 'verify-full':
      return {
        rejectUnauthorized: true,
        ...(spec.sslmode === 'verify-ca' ? { checkServerIdentity: () => undefined } : {}),
        ...(spec.sslrootcert ? { ca: readFileSync(spec.sslrootcert, 'utf8') } : {}),
      };
  }
}

/**
 * node-postgres client config for a spec and database; `search_path` pinned to pg_catalog and the role's timeouts
 * set at start-up ({@link sessionStartupOptions}).
 */
export function clientConfig(spec: ConnectionSpec, database: string, options: SessionOptions = {}): pg.ClientConfig {
  const config: pg.ClientConfig & { replication?: string } = {
    host: spec.host,
    port: spec.port,
    user: spec.user,
    database,
    ssl: sslConfig(spec),
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    application_name: options.applicationName ?? 'pg-migrate',
    options: sessionStartupOptions(options),
    keepAlive: true,
  };
  if (spec.password !== undefined) config.password = spec.password;
  if (options.replication) config.replication = 'database';
  return config;
}

/** Opens a session; the caller must `end()` it. Errors come back with credentials scrubbed. */
export async function connect(
  spec: ConnectionSpec,
  database = spec.database,
  options: SessionOptions = {},
): Promise<pg.Client> {
  const client = new pg.Client(clientConfig(spec, database, options));
  // An idle client whose server goes away emits 'error'; without a listener that crashes the process.
  client.on('error', () => {});
  try {
    await client.connect();
    if (SESSION_POLICIES[options.role ?? 'control'].longTransaction) await client.query(NO_TRANSACTION_TIMEOUT_SQL);
  } catch (err) {
    await client.end().catch(() => {});
    if (err instanceof Error) err.message = scrub(err.message);
    throw err;
  }
  return client;
}

/** Runs `fn` with a fresh session on `database` and always closes it. */
export async function withClient<T>(
  spec: ConnectionSpec,
  database: string,
  fn: (client: pg.Client) => Promise<T>,
  options: SessionOptions = {},
): Promise<T> {
  const client = await connect(spec, database, options);
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/** The server's major version (`server_version_num` 150008 → 15). */
export async function serverMajor(client: pg.Client): Promise<number> {
  const { rows } = await client.query<{ v: string }>("SELECT current_setting('server_version_num') AS v");
  return Math.floor(Number(rows[0]?.v) / 10000);
}

/** Quotes an identifier (`"a""b"`): every identifier pg-migrate puts into SQL goes through this. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Quotes a string literal (`'it''s'`), for the rare statements that cannot take parameters (DDL). */
export function quoteLiteral(value: string): string {
  if (value.includes('\0')) throw new InputError('a value contains a NUL byte');
  return value.includes('\\')
    ? `E'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`
    : `'${value.replace(/'/g, "''")}'`;
}

/** `"schema"."table"`. */
export function qualifiedName(schema: string, name: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(name)}`;
}
