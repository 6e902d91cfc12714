/**
 * Finds pg_dump / pg_restore for a migration from a source of one major to a target of another. pg_dump refuses
 * servers newer than itself, so the tools' major must be at least the source's; and pg_restore writes SQL of its own
 * major, which an older target may reject (pg_restore 17 emits `SET transaction_timeout`, unknown to 14–16, and the
 * restore runs with `--exit-on-error`). So among the qualifying tools the TARGET's major is preferred, then the
 * nearest older one, then the nearest newer one ({@link choosePgTools}).
 *
 * Search order: the directory in env `PG_MIGRATE_PG_BIN` (used when it qualifies: an explicit choice wins); then the
 * distributions' directories (`/usr/lib/postgresql/<N>/bin`, `/usr/pgsql-<N>/bin`, Homebrew's `postgresql@<N>`),
 * the best qualifying one; only then the directories of `PATH`, the best qualifying one.
 * A directory anyone may write to (world-writable, like `/tmp`), or a relative `PATH` entry, is never used: whoever
 * can plant a `pg_dump` there would run it with the servers' passwords in its environment.
 *
 * @example
 * ```ts
 * const tools = await findPgTools(14, { targetMajor: 16 }); // { dir: '/usr/lib/postgresql/16/bin', version: '16.4', major: 16 }
 * ```
 */
import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { access, constants } from 'node:fs/promises';
import { delimiter, isAbsolute, join } from 'node:path';

export interface PgTools {
  /** Directory holding both pg_dump and pg_restore. */
  readonly dir: string;
  /** pg_dump's version, e.g. `15.8`. */
  readonly version: string;
  readonly major: number;
}

async function executable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Parses `pg_dump (PostgreSQL) 15.8 (Debian 15.8-1.pgdg120+1)` → `{ version: '15.8', major: 15 }`. */
export function parsePgDumpVersion(output: string): { version: string; major: number } | undefined {
  const match = /\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(output);
  if (!match) return undefined;
  const major = Number(match[1]);
  // Before 10 the major was two numbers (9.6).
  const version = [match[1], match[2], match[3]].filter((p) => p !== undefined).join('.');
  return { version, major: major < 10 ? Number(`${major}.${match[2] ?? 0}`) : major };
}

function versionOf(pgDump: string): Promise<{ version: string; major: number } | undefined> {
  return new Promise((resolve) => {
    execFile(pgDump, ['--version'], { timeout: 5000, env: { PATH: process.env.PATH ?? '' } }, (err, stdout) => {
      resolve(err ? undefined : parsePgDumpVersion(stdout));
    });
  });
}

async function probe(dir: string): Promise<PgTools | undefined> {
  if (!(await executable(join(dir, 'pg_dump'))) || !(await executable(join(dir, 'pg_restore')))) return undefined;
  const found = await versionOf(join(dir, 'pg_dump'));
  return found ? { dir, ...found } : undefined;
}

/** Majors whose distribution directories are searched, newest first. */
const MAJORS = Array.from({ length: 9 }, (_, i) => 18 - i);

/** The distributions' directories of the PostgreSQL client tools, newest major first. */
export function distributionDirs(): string[] {
  return MAJORS.flatMap((n) => [
    `/usr/lib/postgresql/${n}/bin`, // Debian, Ubuntu
    `/usr/pgsql-${n}/bin`, // PGDG RPMs (RHEL, Amazon Linux)
    `/opt/homebrew/opt/postgresql@${n}/bin`, // Homebrew (Apple silicon)
    `/usr/local/opt/postgresql@${n}/bin`, // Homebrew (Intel)
  ]);
}

/**
 * Why a directory must not be searched, or undefined when it may: a relative path (it depends on the working
 * directory), or a directory that anyone may write to.
 */
export function unsafeDirReason(dir: string): string | undefined {
  if (!isAbsolute(dir)) return 'a relative directory';
  try {
    const { mode } = statSync(dir);
    if ((mode & 0o002) !== 0) return 'writable by anyone';
  } catch {
    return undefined; // does not exist: nothing to run from it
  }
  return undefined;
}

export interface PgToolsSearchPath {
  /** `PG_MIGRATE_PG_BIN`, when set and safe. */
  readonly explicit?: string;
  /** The distributions' directories, then the safe directories of PATH, in search order. */
  readonly others: string[];
  /** Directories left out, with the reason (for messages). */
  readonly skipped: string[];
}

/** The directories searched, in order (exported for messages). */
export function pgToolsSearchPath(
  env: NodeJS.ProcessEnv = process.env,
  distribution: readonly string[] = distributionDirs(),
): PgToolsSearchPath {
  const skipped: string[] = [];
  const safe = (dir: string) => {
    const reason = unsafeDirReason(dir);
    if (reason !== undefined) skipped.push(`${dir} (${reason})`);
    return reason === undefined;
  };
  const path = (env.PATH ?? '').split(delimiter).filter((d) => d !== '');
  const others = [...new Set([...distribution, ...path])].filter(safe);
  const explicit = env.PG_MIGRATE_PG_BIN && safe(env.PG_MIGRATE_PG_BIN) ? env.PG_MIGRATE_PG_BIN : undefined;
  return { ...(explicit !== undefined ? { explicit } : {}), others, skipped };
}

/** Whether `dir` holds a pg_dump or pg_restore that anyone may replace. */
function toolsWritableByAnyone(dir: string): boolean {
  return ['pg_dump', 'pg_restore'].some((tool) => {
    try {
      return (statSync(join(dir, tool)).mode & 0o002) !== 0;
    } catch {
      return false;
    }
  });
}

async function probeSafe(dir: string): Promise<PgTools | undefined> {
  return toolsWritableByAnyone(dir) ? undefined : probe(dir);
}

/**
 * Pure: the client tools for a migration from `sourceMajor` to `targetMajor`, among `candidates` (in search order),
 * or undefined when none has a major ≥ the source's. Preference: the target's major (pg_dump of that major dumps any
 * older source, and its pg_restore writes nothing the target rejects); else the newest major below the target's;
 * else the oldest above it (the nearest to the target either way). Without a target major: the newest. Among tools
 * of the same major, the first in search order.
 *
 * @example
 * ```ts
 * choosePgTools([{ major: 17 }, { major: 16 }, { major: 15 }], 14, 16); // { major: 16 }
 * choosePgTools([{ major: 17 }, { major: 15 }], 14, 16); // { major: 15 } (older than the target, still ≥ the source)
 * choosePgTools([{ major: 17 }, { major: 14 }], 15, 16); // { major: 17 } (14 cannot dump a 15 source)
 * ```
 */
export function choosePgTools<T extends { readonly major: number }>(
  candidates: readonly (T | undefined)[],
  sourceMajor: number,
  targetMajor?: number,
): T | undefined {
  const qualifying = candidates.filter((t): t is T => t !== undefined && t.major >= sourceMajor);
  const first = (pick: (a: T, b: T) => boolean, among: readonly T[]) =>
    among.reduce<T | undefined>((best, t) => (best === undefined || pick(t, best) ? t : best), undefined);
  if (targetMajor === undefined) return first((a, b) => a.major > b.major, qualifying);
  return (
    qualifying.find((t) => t.major === targetMajor) ??
    first(
      (a, b) => a.major > b.major,
      qualifying.filter((t) => t.major < targetMajor),
    ) ??
    first(
      (a, b) => a.major < b.major,
      qualifying.filter((t) => t.major > targetMajor),
    )
  );
}

export interface FindPgToolsOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** Replaces the distributions' directories (tests). */
  readonly distribution?: readonly string[];
  /** The target's major: tools of that major are preferred ({@link choosePgTools}). Without it: the newest. */
  readonly targetMajor?: number;
}

/**
 * pg_dump / pg_restore able to dump a source of major `sourceMajor` (their major at least that), the best for
 * `options.targetMajor` ({@link choosePgTools}), or undefined when none is installed. `PG_MIGRATE_PG_BIN` wins
 * whenever it qualifies; then the distributions' directories; then `PATH`.
 */
export async function findPgTools(sourceMajor: number, options: FindPgToolsOptions = {}): Promise<PgTools | undefined> {
  const env = options.env ?? process.env;
  const distribution = options.distribution ?? distributionDirs();
  const { explicit, others } = pgToolsSearchPath(env, distribution);
  if (explicit !== undefined) {
    const chosen = await probeSafe(explicit);
    if (chosen && chosen.major >= sourceMajor) return chosen;
  }
  const fromDistribution = choosePgTools(
    await Promise.all(others.filter((d) => distribution.includes(d)).map(probeSafe)),
    sourceMajor,
    options.targetMajor,
  );
  if (fromDistribution) return fromDistribution;
  return choosePgTools(
    await Promise.all(others.filter((d) => !distribution.includes(d)).map(probeSafe)),
    sourceMajor,
    options.targetMajor,
  );
}
