/** Helpers for the end-to-end tests: run `bin/pg-migrate.js` as a user would, and snapshot a server's state. */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestCluster } from '../support/cluster.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The project root. */
export const ROOT = root;
export const BIN = join(root, 'bin', 'pg-migrate.js');

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node bin/pg-migrate.js …args` from the project root (no TTY, no PG_MIGRATE_* from the test's env). */
export function runCli(
  args: readonly string[],
  env: Record<string, string> = {},
  timeoutMs = 240_000,
): Promise<CliResult> {
  const base: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith('PG_MIGRATE_') && !key.startsWith('PG')) base[key] = value;
  }
  return new Promise((resolvePromise) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: root, env: { ...base, ...env }, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolvePromise({ code, stdout, stderr });
      },
    );
  });
}

/** A fresh path for `--json`. */
export function jsonPath(name = 'report.json'): string {
  return join(mkdtempSync(join(tmpdir(), 'pgm-e2e-')), name);
}

export function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8'));
}

/**
 * What the target holds: databases, roles, replication objects, every user relation per database, and the
 * write counters of its user tables. Equal before and after = nothing was written.
 */
export async function serverState(cluster: TestCluster): Promise<unknown> {
  const databases = (
    await cluster.query<{ datname: string }>(
      'SELECT datname FROM pg_catalog.pg_database WHERE datallowconn ORDER BY datname COLLATE "C"',
    )
  ).map((r) => r.datname);
  const roles = (await cluster.query<{ rolname: string }>('SELECT rolname FROM pg_catalog.pg_roles ORDER BY 1')).map(
    (r) => r.rolname,
  );
  const perDatabase: Record<string, unknown> = {};
  for (const db of databases) {
    const relations = (
      await cluster.query<{ name: string }>(
        `SELECT n.nspname || '.' || c.relname AS name FROM pg_catalog.pg_class c
           JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'
            AND n.nspname NOT LIKE 'pg\\_temp%'
          ORDER BY 1`,
        [],
        db,
      )
    ).map((r) => r.name);
    const [counts] = await cluster.query<{ publications: number; subscriptions: number }>(
      `SELECT (SELECT count(*)::int FROM pg_catalog.pg_publication) AS publications,
              (SELECT count(*)::int FROM pg_catalog.pg_subscription) AS subscriptions`,
      [],
      db,
    );
    perDatabase[db] = { relations, ...counts };
  }
  const slots = await cluster.query('SELECT slot_name FROM pg_catalog.pg_replication_slots ORDER BY 1');
  // Writes to user tables only: autovacuum's ANALYZE of the catalogs (pg_statistic) counts in pg_stat_database at
  // moments of its own choosing, which made "nothing written" fail under load.
  const writes: Record<string, unknown> = {};
  for (const db of databases) {
    const [row] = await cluster.query(
      `SELECT coalesce(sum(n_tup_ins), 0)::text AS inserted, coalesce(sum(n_tup_upd), 0)::text AS updated,
              coalesce(sum(n_tup_del), 0)::text AS deleted
         FROM pg_catalog.pg_stat_user_tables`,
      [],
      db,
    );
    writes[db] = row;
  }
  return { databases, roles, perDatabase, slots, writes };
}

/** Every form in which a secret could leak into output. */
export function leakForms(secrets: readonly string[]): string[] {
  return secrets.flatMap((s) => [s, encodeURIComponent(s)]).filter((s, i, all) => s.length > 0 && all.indexOf(s) === i);
}
