/**
 * pg_dump / pg_restore as data: pure argv builders (unit-tested for exact output) and {@link runPgTool}, which
 * spawns a tool without a shell, with the connection in libpq environment variables (the password never enters
 * argv), and turns a non-zero exit into a {@link PermanentError} carrying the tool's (scrubbed) messages.
 *
 * Database names reach the tools as a conninfo `dbname='…'` (libpq quoting), so any name works — quotes, spaces,
 * `=`, unicode — without being mistaken for a connection string.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { type ConnectionSpec, libpqEnv } from './connection.js';
import { AbortedError, PermanentError, scrub } from './errors.js';

/** Where the client tools live (from `findPgTools`). */
export interface PgTools {
  readonly dir: string;
  readonly version: string;
  readonly major: number;
}

export type DumpSection = 'pre-data' | 'data' | 'post-data';

/** A libpq conninfo holding only the database name, quoted so that any name works. */
export function dbnameConninfo(database: string): string {
  return `dbname='${database.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

export interface PgDumpOptions {
  readonly database: string;
  /** One section, or several (`--section` repeated: e.g. pre-data and post-data, the schema without data). */
  readonly section?: DumpSection | readonly DumpSection[];
  /** Custom format to this file; stdout when absent. */
  readonly file?: string;
  /** Read under an exported snapshot. */
  readonly snapshot?: string;
  /** Leave out ownership (`--no-owner`). */
  readonly noOwner?: boolean;
  /** Leave out grants (`--no-privileges`). */
  readonly noPrivileges?: boolean;
  /** Leave out large objects (`--no-blobs` / `--no-large-objects`). */
  readonly noBlobs?: boolean;
  /** Leave out subscriptions and publications (they belong to the source). */
  readonly noReplicationObjects?: boolean;
  /** Compression level for the custom format; 0 = none (the dump is read once, locally). @default 0 */
  readonly compress?: number;
}

/**
 * argv for pg_dump (custom format). Connection parameters other than the database come from the environment.
 *
 * @example
 * ```ts
 * pgDumpArgs({ database: 'shop', section: 'pre-data', file: '/tmp/x/pre.dump' });
 * // ['--format=custom', '--compress=0', '--section=pre-data', '--file=/tmp/x/pre.dump', '--no-subscriptions', '--no-publications', "--dbname=dbname='shop'"]
 * ```
 */
export function pgDumpArgs(options: PgDumpOptions): string[] {
  const args = ['--format=custom', `--compress=${options.compress ?? 0}`];
  for (const section of typeof options.section === 'string' ? [options.section] : (options.section ?? []))
    args.push(`--section=${section}`);
  if (options.file) args.push(`--file=${options.file}`);
  if (options.snapshot) args.push(`--snapshot=${options.snapshot}`);
  if (options.noOwner) args.push('--no-owner');
  if (options.noPrivileges) args.push('--no-privileges');
  if (options.noBlobs) args.push('--no-blobs');
  if (options.noReplicationObjects ?? true) args.push('--no-subscriptions', '--no-publications');
  args.push(`--dbname=${dbnameConninfo(options.database)}`);
  return args;
}

export interface PgRestoreOptions {
  readonly database: string;
  /** The archive; stdin when absent. */
  readonly file?: string;
  readonly section?: DumpSection;
  /** Parallel jobs (needs a file). */
  readonly jobs?: number;
  /** All in one transaction (cannot be combined with jobs > 1). */
  readonly singleTransaction?: boolean;
  readonly noOwner?: boolean;
  readonly noPrivileges?: boolean;
  /** Restore only the TOC entries of this list file (`pg_restore -L`). */
  readonly useList?: string;
}

/**
 * argv for pg_restore into a database. `--exit-on-error` always: a restore error is an error.
 *
 * @example
 * ```ts
 * pgRestoreArgs({ database: 'shop', file: '/tmp/x/post.dump', jobs: 4 });
 * // ['--exit-on-error', '--jobs=4', "--dbname=dbname='shop'", '/tmp/x/post.dump']
 * ```
 */
export function pgRestoreArgs(options: PgRestoreOptions): string[] {
  const args = ['--exit-on-error'];
  if (options.section) args.push(`--section=${options.section}`);
  if (options.singleTransaction) args.push('--single-transaction');
  if (options.jobs !== undefined && options.jobs > 1) {
    if (!options.file) throw new PermanentError('pg_restore --jobs needs an archive file, not stdin');
    if (options.singleTransaction) throw new PermanentError('pg_restore --jobs cannot run in a single transaction');
    args.push(`--jobs=${options.jobs}`);
  }
  if (options.noOwner) args.push('--no-owner');
  if (options.noPrivileges) args.push('--no-privileges');
  if (options.useList) args.push(`--use-list=${options.useList}`);
  args.push(`--dbname=${dbnameConninfo(options.database)}`);
  if (options.file) args.push(options.file);
  return args;
}

/** argv for listing an archive's table of contents (`pg_restore --list`). */
export function pgRestoreListArgs(file: string): string[] {
  return ['--list', file];
}

/** The lines of a tool's stderr worth reporting (errors first), scrubbed and bounded. */
export function toolErrorSummary(stderr: string, max = 20): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const errors = lines.filter((l) => /error|fatal|could not|failed/i.test(l));
  const chosen = (errors.length > 0 ? errors : lines).slice(0, max);
  const more = (errors.length > 0 ? errors : lines).length - chosen.length;
  return scrub(chosen.join('\n') + (more > 0 ? `\n… ${more} more line(s)` : ''));
}

/** A hint for failures with a known remedy (appended to the message). */
export function remedyFor(stderr: string): string {
  if (/out of shared memory|max_locks_per_transaction/i.test(stderr)) {
    return '\nremedy: the restore takes one lock per object in a single transaction; raise max_locks_per_transaction on the target (restart needed) and run again';
  }
  if (/server version mismatch/i.test(stderr)) {
    return "\nremedy: pg_dump must be at least the source server's major version; set PG_MIGRATE_PG_BIN to newer client tools";
  }
  return '';
}

export interface RunPgToolOptions {
  /** The server and database the tool connects to (through the environment). */
  readonly server: ConnectionSpec;
  readonly database: string;
  readonly signal?: AbortSignal;
  /** Piped to the tool's stdin. */
  readonly stdin?: Readable;
  /** Receives the tool's stdout (otherwise collected and returned). */
  readonly stdout?: Writable;
  /** What the run is, for messages (e.g. "pre-data restore of shop"). */
  readonly what: string;
}

/**
 * Runs `pg_dump`, `pg_restore` or `psql` from `tools.dir` without a shell. The password travels in `PGPASSWORD`
 * (the child's environment), never argv. A non-zero exit rejects with a {@link PermanentError} holding the
 * scrubbed error lines; an abort kills the child and rejects with {@link AbortedError}.
 */
export async function runPgTool(
  tools: PgTools,
  program: 'pg_dump' | 'pg_restore' | 'psql',
  args: readonly string[],
  options: RunPgToolOptions,
): Promise<{ stdout: string; stderr: string }> {
  if (options.signal?.aborted) throw new AbortedError();
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    LANG: 'C.UTF-8',
    // Every session of the tools starts with search_path pinned; pg_dump/pg_restore also pin it themselves.
    PGOPTIONS: '-c search_path=pg_catalog,pg_temp',
    ...libpqEnv(options.server, options.database),
  };
  const child = spawn(join(tools.dir, program), [...args], {
    env,
    shell: false,
    stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  if (!child.stdout || !child.stderr) throw new PermanentError(`${options.what}: cannot run ${program}`);
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    if (stderr.length < 1_000_000) stderr += chunk;
  });
  if (options.stdout) child.stdout.pipe(options.stdout);
  else {
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
    });
  }
  if (options.stdin && child.stdin) {
    child.stdin.on('error', () => {}); // EPIPE when the tool exits early: its exit code tells the story
    options.stdin.pipe(child.stdin);
  }
  const onAbort = () => child.kill('SIGTERM');
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (status, signal) => resolve(status ?? (signal ? 128 : null)));
    });
    if (options.signal?.aborted) throw new AbortedError(`${options.what}: stopped on request`);
    if (code !== 0) {
      throw new PermanentError(
        `${options.what} failed (${program} exit ${code}): ${toolErrorSummary(stderr)}${remedyFor(stderr)}`,
      );
    }
    return { stdout, stderr: scrub(stderr) };
  } catch (err) {
    if (err instanceof PermanentError || err instanceof AbortedError) throw err;
    throw new PermanentError(`${options.what}: cannot run ${program}: ${(err as Error).message}`, { cause: err });
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
}
