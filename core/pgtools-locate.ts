/**
 * Finds pg_dump / pg_restore able to dump a server of a given major version (pg_dump refuses servers newer than
 * itself). Search order: the directory in env `PG_MIGRATE_PG_BIN` (used when it qualifies: an explicit choice
 * wins), then `/usr/lib/postgresql/<N>/bin` for N from 17 down to 10 and the directories of `PATH`, of which the
 * newest qualifying one is picked.
 *
 * @example
 * ```ts
 * const tools = await findPgTools(14); // { dir: '/usr/lib/postgresql/15/bin', version: '15.8', major: 15 }
 * ```
 */
import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';

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

/** The directories searched, in order (exported for messages). */
export function pgToolsSearchPath(env: NodeJS.ProcessEnv = process.env): { explicit?: string; others: string[] } {
  const versioned = Array.from({ length: 8 }, (_, i) => `/usr/lib/postgresql/${17 - i}/bin`);
  const path = (env.PATH ?? '').split(delimiter).filter((d) => d !== '');
  const others = [...new Set([...versioned, ...path])];
  return env.PG_MIGRATE_PG_BIN ? { explicit: env.PG_MIGRATE_PG_BIN, others } : { others };
}

/** pg_dump / pg_restore whose major is at least `minMajor`, or undefined when none is installed. */
export async function findPgTools(minMajor: number): Promise<PgTools | undefined> {
  const { explicit, others } = pgToolsSearchPath();
  if (explicit !== undefined) {
    const chosen = await probe(explicit);
    if (chosen && chosen.major >= minMajor) return chosen;
  }
  const found = (await Promise.all(others.map(probe))).filter(
    (t): t is PgTools => t !== undefined && t.major >= minMajor,
  );
  found.sort((a, b) => b.major - a.major);
  return found[0];
}
