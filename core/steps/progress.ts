/**
 * Resumability: a small progress record kept in the target database (schema `_pg_migrate`; the `pg_` prefix is reserved) while it is being
 * migrated, dropped when the database completes.
 *
 * - `_pg_migrate.steps`: steps completed (`pre-data`, `copy`, `post-data`, …).
 * - `_pg_migrate.copy_progress`: one row per table chunk whose COPY committed — inserted in the same transaction as
 *   the COPY, so a row exists exactly when the chunk's data does.
 * - `_pg_migrate.warnings`: the warnings of the steps done so far, so that a resumed run still reports them.
 * - `_pg_migrate.subscription_login` (replication, fallback only): the fingerprint of the source login the
 *   subscription holds (core/steps/replication/login.ts), so that status and cutover notice a rotated password.
 *
 * Trade-off (documented in docs/PERFORMANCE.md): a resumed run reads a new snapshot for the tables still to copy,
 * so tables copied before the interruption reflect the earlier snapshot.
 */
import type pg from 'pg';
import { readTargetContent } from '../catalog.js';
import { type ConnectionSpec, withClient } from '../connection.js';
import { BlockedError } from '../errors.js';
import { isWarningKind, type Warning } from '../warnings.js';

export const PROGRESS_SCHEMA = '_pg_migrate';

/** Creates the progress schema and tables when missing (only after pre-checks passed). */
export async function ensureProgress(target: ConnectionSpec, database: string): Promise<void> {
  await withClient(target, database, async (client) => {
    await client.query(`
      CREATE SCHEMA IF NOT EXISTS _pg_migrate;
      CREATE TABLE IF NOT EXISTS _pg_migrate.steps (step text PRIMARY KEY, done_at timestamptz NOT NULL DEFAULT now());
      CREATE TABLE IF NOT EXISTS _pg_migrate.copy_progress (
        schema_name text NOT NULL, table_name text NOT NULL, chunk int NOT NULL, chunks int NOT NULL,
        rows bigint NOT NULL, bytes bigint NOT NULL, done_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (schema_name, table_name, chunk));
      CREATE TABLE IF NOT EXISTS _pg_migrate.warnings (kind text NOT NULL, message text NOT NULL, PRIMARY KEY (kind, message));`);
  });
}

/** Whether the progress record exists in `database` (i.e. an earlier run was interrupted). */
export async function hasProgress(client: pg.Client): Promise<boolean> {
  const { rows } = await client.query(
    "SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = '_pg_migrate' AND c.relname = 'steps'",
  );
  return rows.length > 0;
}

/** The steps an earlier run completed; empty when there is no progress record. */
export async function completedSteps(target: ConnectionSpec, database: string): Promise<Set<string>> {
  return withClient(target, database, async (client) => {
    if (!(await hasProgress(client))) return new Set<string>();
    const { rows } = await client.query<{ step: string }>('SELECT step FROM _pg_migrate.steps');
    return new Set(rows.map((r) => r.step));
  });
}

/** Marks a step complete. */
export async function markStep(target: ConnectionSpec, database: string, step: string): Promise<void> {
  await withClient(target, database, (client) =>
    client.query('INSERT INTO _pg_migrate.steps (step) VALUES ($1) ON CONFLICT DO NOTHING', [step]),
  );
}

export interface ChunkProgress {
  readonly schema: string;
  readonly table: string;
  readonly chunk: number;
  readonly chunks: number;
  readonly rows: number;
  readonly bytes: number;
}

/** Every chunk recorded as copied. */
export async function copiedChunks(client: pg.Client): Promise<ChunkProgress[]> {
  if (!(await hasProgress(client))) return [];
  const { rows } = await client.query<ChunkProgress>(
    'SELECT schema_name AS schema, table_name AS table, chunk, chunks, rows::float8 AS rows, bytes::float8 AS bytes FROM _pg_migrate.copy_progress',
  );
  return rows;
}

/**
 * Marks `database` on the target as pg-migrate's: created by this run, or empty (core/catalog.ts
 * `readTargetContent`) when adopted. Only a marked database may have its tables emptied by the replication set-up.
 * Throws {@link BlockedError} (nothing written) when the database holds user objects that no pg-migrate run marked.
 */
export async function markDatabase(target: ConnectionSpec, database: string): Promise<void> {
  await withClient(target, database, async (client) => {
    const content = await readTargetContent(client);
    if (content.marked || content.subscriptions) return;
    if (content.objects > 0) {
      throw new BlockedError(
        `target database ${JSON.stringify(database)} holds user objects that pg-migrate did not create ` +
          `(${content.objects}, e.g. ${content.sample.slice(0, 5).join(', ')}): nothing is written to it. Migrate into ` +
          'an empty or new database, or leave this one out with --exclude-dbs.',
      );
    }
  });
  await ensureProgress(target, database);
  await markStep(target, database, 'marked');
}

/** Throws {@link BlockedError} unless pg-migrate marked `database` on the target ({@link markDatabase}). */
export async function assertMarked(client: pg.Client, database: string): Promise<void> {
  const content = await readTargetContent(client);
  if (!content.marked && !content.subscriptions) {
    throw new BlockedError(
      `target database ${JSON.stringify(database)} was not created or marked by pg-migrate: its tables are left untouched`,
    );
  }
}

/** Records warnings (idempotent). */
export async function saveWarnings(
  target: ConnectionSpec,
  database: string,
  warnings: readonly Warning[],
): Promise<void> {
  if (warnings.length === 0) return;
  await withClient(target, database, (client) =>
    client.query(
      `INSERT INTO _pg_migrate.warnings (kind, message)
       SELECT * FROM ROWS FROM (pg_catalog.unnest($1::text[]), pg_catalog.unnest($2::text[])) ON CONFLICT DO NOTHING`,
      [warnings.map((w) => w.kind), warnings.map((w) => w.message)],
    ),
  );
}

/** The warnings an earlier, interrupted run recorded; empty when there is no progress record. */
export async function savedWarnings(target: ConnectionSpec, database: string): Promise<Warning[]> {
  return withClient(target, database, async (client) => {
    if (!(await hasProgress(client))) return [];
    const { rows: table } = await client.query(
      "SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = '_pg_migrate' AND tablename = 'warnings'",
    );
    if (table.length === 0) return [];
    const { rows } = await client.query<{ kind: string; message: string }>(
      'SELECT kind, message FROM _pg_migrate.warnings ORDER BY kind, message',
    );
    return rows.flatMap((r) => (isWarningKind(r.kind) ? [{ kind: r.kind, message: r.message }] : []));
  });
}

/** Drops the progress record (the database is complete). */
export async function dropProgress(target: ConnectionSpec, database: string): Promise<void> {
  await withClient(target, database, (client) => client.query('DROP SCHEMA IF EXISTS _pg_migrate CASCADE'));
}
