/**
 * Verification: per-table row counts on both sides (the source read in the copy's snapshot), and on request an
 * order-independent checksum of every row's text (sum of the first 64 bits of each row's md5 — constant memory on
 * the server, whatever the table size). A mismatch makes the table `ok: false`.
 */
import type pg from 'pg';
import { qualifiedName } from '../connection.js';
import type { TableResult } from '../report.js';
import { type TableRef, tableName } from './copy.js';

/** The count (and checksum) query for one table. Pure; exported for tests. */
export function verifySql(table: Pick<TableRef, 'schema' | 'name'>, checksum: boolean): string {
  const qn = qualifiedName(table.schema, table.name);
  return checksum
    ? `SELECT count(*)::float8 AS n, coalesce(sum(('x' || substr(md5(t::text), 1, 16))::bit(64)::bigint::numeric), 0)::text || '/' || count(*) AS checksum FROM ONLY ${qn} AS t`
    : `SELECT count(*)::float8 AS n, NULL::text AS checksum FROM ONLY ${qn}`;
}

/** Counts (and checksums) one table on a session. */
export async function measureTable(
  client: pg.Client,
  table: Pick<TableRef, 'schema' | 'name'>,
  checksum: boolean,
): Promise<{ rows: number; checksum?: string }> {
  const { rows } = await client.query<{ n: number; checksum: string | null }>(verifySql(table, checksum));
  const r = rows[0]!;
  return { rows: r.n, ...(r.checksum !== null ? { checksum: r.checksum } : {}) };
}

/** Compares both sides' measures into a {@link TableResult}. Pure. */
export function compareTable(
  table: Pick<TableRef, 'schema' | 'name'>,
  source: { rows: number; checksum?: string },
  target: { rows: number; checksum?: string },
  extra: { bytes: number; durationMs: number },
): TableResult {
  const ok = source.rows === target.rows && source.checksum === target.checksum;
  return {
    name: tableName(table),
    sourceRows: source.rows,
    targetRows: target.rows,
    bytes: extra.bytes,
    durationMs: extra.durationMs,
    ...(source.checksum !== undefined ? { sourceChecksum: source.checksum } : {}),
    ...(target.checksum !== undefined ? { targetChecksum: target.checksum } : {}),
    ok,
  };
}
