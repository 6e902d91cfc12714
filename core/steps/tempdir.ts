/** A private (0700) temporary directory for dump archives, removed afterwards whatever happens. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh 0700 directory under the system temp dir (`PG_MIGRATE_TMPDIR` overrides); the caller removes it. */
export async function openPrivateDir(): Promise<{ readonly path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(process.env.PG_MIGRATE_TMPDIR ?? tmpdir(), 'pg-migrate-'));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** Runs `fn` with a fresh private directory ({@link openPrivateDir}), removed afterwards whatever happens. */
export async function withPrivateDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await openPrivateDir();
  try {
    return await fn(dir.path);
  } finally {
    await dir.remove();
  }
}
