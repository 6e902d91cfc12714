/**
 * Exported snapshots: one REPEATABLE READ transaction on the source exports a snapshot id; every reader imports it
 * with `SET TRANSACTION SNAPSHOT`, so all of them see the same, consistent data.
 */
import type pg from 'pg';
import { type ConnectionSpec, connect, quoteLiteral } from '../connection.js';

/** An open exporting transaction. Keep it open until every reader has imported the snapshot, then `release()`. */
export interface ExportedSnapshot {
  readonly id: string;
  release(): Promise<void>;
}

/** Opens a REPEATABLE READ, READ ONLY transaction on `database` and exports its snapshot. */
export async function exportSnapshot(spec: ConnectionSpec, database: string): Promise<ExportedSnapshot> {
  const client = await connect(spec, database, { applicationName: 'pg-migrate snapshot', role: 'snapshot' });
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const { rows } = await client.query<{ id: string }>('SELECT pg_catalog.pg_export_snapshot() AS id');
    const id = rows[0]!.id;
    let released = false;
    return {
      id,
      async release() {
        if (released) return;
        released = true;
        await client.query('COMMIT').catch(() => {});
        await client.end().catch(() => {});
      },
    };
  } catch (err) {
    await client.end().catch(() => {});
    throw err;
  }
}

/** Starts a REPEATABLE READ, READ ONLY transaction on `client` that reads under `snapshot`. */
export async function importSnapshot(client: pg.Client, snapshot: string): Promise<void> {
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  await client.query(`SET TRANSACTION SNAPSHOT ${quoteLiteral(snapshot)}`);
}
