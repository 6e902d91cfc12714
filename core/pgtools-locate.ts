/**
 * Finds the PostgreSQL client tools (pg_dump, pg_restore) to use: `PG_MIGRATE_PG_BIN` first, then the Debian /
 * PGDG layout `/usr/lib/postgresql/<N>/bin` from 17 down, then `PATH`. The newest tools dump older servers, never
 * newer ones, so callers pass the source's major as `minMajor`.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

async function probe(dir: string): Promise<{ dir: string; version: string; major: number } | undefined> {
  const file = join(dir, 'pg_dump');
  if (!existsSync(file)) return undefined;
  try {
    const { stdout } = await run(file, ['--version'], { timeout: 10_000 });
    const match = /(\d+)(?:\.(\d+))?/.exec(stdout);
    if (!match) return undefined;
    return { dir, version: match[2] !== undefined ? `${match[1]}.${match[2]}` : match[1]!, major: Number(match[1]) };
  } catch {
    return undefined;
  }
}

/**
 * The directory of pg_dump / pg_restore whose major is at least `minMajor`, or undefined when none is found.
 *
 * @example
 * ```ts
 * const tools = await findPgTools(15); // { dir: '/usr/lib/postgresql/17/bin', version: '17.2', major: 17 }
 * ```
 */
export async function findPgTools(
  minMajor: number,
): Promise<{ dir: string; version: string; major: number } | undefined> {
  const candidates: string[] = [];
  const fromEnv = process.env.PG_MIGRATE_PG_BIN;
  if (fromEnv) candidates.push(fromEnv);
  for (let major = 17; major >= minMajor && major >= 10; major--) candidates.push(`/usr/lib/postgresql/${major}/bin`);
  for (const dir of (process.env.PATH ?? '').split(delimiter)) if (dir) candidates.push(dir);
  for (const dir of candidates) {
    const found = await probe(dir);
    if (found && found.major >= minMajor) return found;
  }
  return undefined;
}
