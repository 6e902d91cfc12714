/**
 * Large objects with their contents. Their metadata (owner, grants, comment) comes with pre-data (pg_dump's BLOB
 * entries); here each object is created when missing and its contents rewritten in 1 MiB chunks (bounded memory):
 * truncate then write, in one target transaction per object, so a re-run is harmless.
 */
import type pg from 'pg';

const CHUNK = 1024 * 1024;
const INV_WRITE = 0x20000;

/** Copies every large object of the source session's database (read in its snapshot) to the target session. */
export async function copyLargeObjects(
  source: pg.Client,
  target: pg.Client,
  signal?: AbortSignal,
): Promise<{ count: number; bytes: number }> {
  const { rows } = await source.query<{ oid: string }>(
    'SELECT oid::text AS oid FROM pg_catalog.pg_largeobject_metadata ORDER BY oid',
  );
  let bytes = 0;
  for (const { oid } of rows) {
    signal?.throwIfAborted();
    await target.query('BEGIN');
    try {
      await target.query(
        'SELECT pg_catalog.lo_create($1::oid) WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_largeobject_metadata WHERE oid = $1::oid)',
        [oid],
      );
      const { rows: fdRows } = await target.query<{ fd: number }>('SELECT pg_catalog.lo_open($1::oid, $2) AS fd', [
        oid,
        INV_WRITE,
      ]);
      const fd = fdRows[0]!.fd;
      await target.query('SELECT pg_catalog.lo_truncate64($1, 0)', [fd]);
      for (let offset = 0; ; offset += CHUNK) {
        const { rows: part } = await source.query<{ data: Buffer }>(
          'SELECT pg_catalog.lo_get($1::oid, $2::bigint, $3) AS data',
          [oid, offset, CHUNK],
        );
        const data = part[0]!.data;
        if (data.length === 0) break;
        await target.query('SELECT pg_catalog.lowrite($1, $2)', [fd, data]);
        bytes += data.length;
        if (data.length < CHUNK) break;
      }
      await target.query('SELECT pg_catalog.lo_close($1)', [fd]);
      await target.query('COMMIT');
    } catch (err) {
      await target.query('ROLLBACK').catch(() => {});
      throw err;
    }
  }
  return { count: rows.length, bytes };
}
