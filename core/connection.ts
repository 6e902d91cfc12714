/**
 * Connection specs and sessions. A spec comes from a libpq URI or key=value string; `withClient` opens a session
 * with `search_path` pinned, an `application_name`, and connect / statement timeouts, and always closes it.
 */
import pg from 'pg';
import { InputError, registerSecret, scrub } from './errors.js';
import {
  CHANNEL_BINDINGS,
  type ChannelBinding,
  describeTlsFailure,
  mayFallBack,
  nodeTlsOptions,
  SSL_MODES,
  type SslMode,
  type TlsAttempt,
  type TlsSettings,
  tlsAttempts,
  tlsEnv,
  tlsProblems,
} from './tls.js';

export type { ChannelBinding, SslMode } from './tls.js';

/**
 * A parsed connection: never log it whole (it holds the password); use {@link describeServer}. The TLS fields
 * (`sslmode`, `sslrootcert`, `sslcert`, `sslkey`, `channelBinding`) mean what they mean to libpq (core/tls.ts).
 */
export interface ConnectionSpec extends TlsSettings {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password?: string;
  /** The database the tool connects to first (and the default for server-level queries). */
  readonly database: string;
}

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
  const sslrootcert = fields.get('sslrootcert');
  // As in libpq 16+: sslrootcert=system makes verify-full the default.
  const sslmode = (fields.get('sslmode') ?? (sslrootcert === 'system' ? 'verify-full' : 'prefer')) as SslMode;
  if (!SSL_MODES.includes(sslmode)) throw new InputError(`${label}: invalid sslmode ${JSON.stringify(sslmode)}`);
  const channelBinding = fields.get('channel_binding') as ChannelBinding | undefined;
  if (channelBinding !== undefined && !CHANNEL_BINDINGS.includes(channelBinding))
    throw new InputError(
      `${label}: invalid channel_binding ${JSON.stringify(channelBinding)}; use disable, prefer or require`,
    );
  const known = new Set([
    'host',
    'port',
    'user',
    'password',
    'dbname',
    'sslmode',
    'sslrootcert',
    'sslcert',
    'sslkey',
    'channel_binding',
    'connect_timeout',
    'application_name',
  ]);
  const unknown = [...fields.keys()].filter((k) => !known.has(k));
  if (unknown.length > 0) throw new InputError(`${label}: unsupported connection parameter(s): ${unknown.join(', ')}`);
  const sslcert = fields.get('sslcert');
  const sslkey = fields.get('sslkey');
  const tls: TlsSettings = {
    sslmode,
    ...(sslrootcert !== undefined ? { sslrootcert } : {}),
    ...(sslcert !== undefined ? { sslcert } : {}),
    ...(sslkey !== undefined ? { sslkey } : {}),
    ...(channelBinding !== undefined ? { channelBinding } : {}),
  };
  const problems = tlsProblems(tls, label);
  if (problems.length > 0) throw new InputError(problems);
  return {
    host,
    port,
    user,
    ...(password !== undefined ? { password } : {}),
    database: fields.get('dbname') ?? user,
    ...tls,
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
  if (spec.sslrootcert !== undefined) params.set('sslrootcert', spec.sslrootcert);
  if (spec.sslcert !== undefined) params.set('sslcert', spec.sslcert);
  if (spec.sslkey !== undefined) params.set('sslkey', spec.sslkey);
  if (spec.channelBinding !== undefined) params.set('channel_binding', spec.channelBinding);
  return `postgresql://${auth}@${host}:${spec.port}/${encodeURIComponent(database)}?${params.toString()}`;
}

/**
 * libpq environment variables for a child process (pg_dump, pg_restore, psql): the password travels in the
 * environment, never in argv; the TLS settings are the ones the node-postgres sessions use (core/tls.ts).
 */
export function libpqEnv(spec: ConnectionSpec, database = spec.database): Record<string, string> {
  const env: Record<string, string> = {
    PGHOST: spec.host,
    PGPORT: String(spec.port),
    PGUSER: spec.user,
    PGDATABASE: database,
    ...tlsEnv(spec),
    PGAPPNAME: 'pg-migrate',
    PGCONNECT_TIMEOUT: '10',
  };
  if (spec.password !== undefined) env.PGPASSWORD = spec.password;
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

/**
 * node-postgres client config for a spec and database; `search_path` pinned to pg_catalog and the session role's
 * timeouts set at start-up ({@link sessionStartupOptions}). `attempt` says whether this connection attempt uses TLS
 * (see {@link tlsAttempts}; default: the mode's first attempt).
 */
export function clientConfig(
  spec: ConnectionSpec,
  database: string,
  options: SessionOptions = {},
  attempt: TlsAttempt = tlsAttempts(spec)[0]!,
): pg.ClientConfig {
  const config: pg.ClientConfig & { replication?: string; enableChannelBinding?: boolean } = {
    host: spec.host,
    port: spec.port,
    user: spec.user,
    database,
    ssl: attempt.tls ? nodeTlsOptions(spec, describeServer(spec)) : false,
    enableChannelBinding: attempt.tls && spec.channelBinding !== 'disable',
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    application_name: options.applicationName ?? 'pg-migrate',
    options: sessionStartupOptions(options),
    keepAlive: true,
  };
  if (spec.password !== undefined) config.password = spec.password;
  if (options.replication) config.replication = 'database';
  return config;
}

/**
 * Servers that answered a TLS request with "no TLS" in this process (`host:port`): a `prefer` session goes to them
 * in clear at once instead of asking again (libpq asks every time; the outcome is the same).
 */
const withoutTls = new Set<string>();

/** node-postgres internals the channel-binding guard hooks into (pg 8: the handlers `connect()` binds). */
interface ClientInternals {
  connection: NodeJS.EventEmitter & { stream: { destroy?: () => void; getPeerCertificate?: unknown } };
  _handleAuthCleartextPassword: (msg: unknown) => void;
  _handleAuthMD5Password: (msg: unknown) => void;
  _handleAuthSASL: (msg: { mechanisms: string[] }) => void;
}

/**
 * `channel_binding=require`: the login must be SCRAM-SHA-256-PLUS over TLS. A server asking for a clear-text or
 * MD5 password, offering SCRAM without channel binding, or letting the session in without SCRAM is refused before
 * any password is sent, as libpq does.
 */
function requireChannelBinding(client: pg.Client): void {
  const internals = client as unknown as ClientInternals;
  const connection = internals.connection;
  let bound = false;
  const refuse = (why: string) => {
    connection.emit('error', new Error(`channel_binding=require, but ${why}; the session was refused`));
    connection.stream.destroy?.();
  };
  internals._handleAuthCleartextPassword = () => refuse('the server asked for a clear-text password');
  internals._handleAuthMD5Password = () => refuse('the server asked for MD5 password authentication');
  const sasl = internals._handleAuthSASL.bind(client);
  internals._handleAuthSASL = (msg) => {
    if (typeof connection.stream.getPeerCertificate !== 'function') return refuse('the session is not TLS');
    if (!msg.mechanisms.includes('SCRAM-SHA-256-PLUS'))
      return refuse('the server does not offer SCRAM-SHA-256-PLUS (channel binding)');
    bound = true;
    sasl(msg);
  };
  connection.on('authenticationOk', () => {
    if (!bound) refuse('the server authenticated the session without SCRAM channel binding');
  });
}

async function connectOnce(
  spec: ConnectionSpec,
  database: string,
  options: SessionOptions,
  attempt: TlsAttempt,
): Promise<pg.Client> {
  const client = new pg.Client(clientConfig(spec, database, options, attempt));
  // An idle client whose server goes away emits 'error'; without a listener that crashes the process.
  client.on('error', () => {});
  if (spec.channelBinding === 'require') requireChannelBinding(client);
  try {
    await client.connect();
    if (SESSION_POLICIES[options.role ?? 'control'].longTransaction) await client.query(NO_TRANSACTION_TIMEOUT_SQL);
  } catch (err) {
    await client.end().catch(() => {});
    throw err;
  }
  return client;
}

/**
 * Opens a session; the caller must `end()` it. TLS as libpq does it (core/tls.ts): `prefer` tries TLS first and
 * falls back to clear, `allow` the reverse. Errors come back with credentials scrubbed, TLS failures explained.
 */
export async function connect(
  spec: ConnectionSpec,
  database = spec.database,
  options: SessionOptions = {},
): Promise<pg.Client> {
  const server = describeServer(spec);
  let attempts = tlsAttempts(spec);
  if (spec.sslmode === 'prefer' && withoutTls.has(server)) attempts = [{ tls: false }];
  for (const [index, attempt] of attempts.entries()) {
    try {
      return await connectOnce(spec, database, options, attempt);
    } catch (err) {
      if (index < attempts.length - 1 && mayFallBack(spec.sslmode, attempt, err)) {
        if (attempt.tls && err instanceof Error && /does not support SSL/i.test(err.message)) withoutTls.add(server);
        continue;
      }
      if (err instanceof Error) {
        const tls = attempt.tls ? describeTlsFailure(err, spec, spec) : undefined;
        err.message = scrub(tls ?? err.message);
      }
      throw err;
    }
  }
  throw new Error('unreachable: no connection attempt');
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
