/** A private (0700) temporary directory for dump archives, removed afterwards whatever happens. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Runs `fn` with a fresh 0700 directory under the system temp dir (`PG_MIGRATE_TMPDIR` overrides). */
export async function withPrivateDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(process.env.PG_MIGRATE_TMPDIR ?? tmpdir(), 'pg-migrate-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
