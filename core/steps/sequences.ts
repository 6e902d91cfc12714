/** Sequences: each target sequence set to the source's value (`setval`), read under the copy's snapshot. */
import type pg from 'pg';
import { qualifiedName } from '../connection.js';

export interface SequenceValue {
  readonly schema: string;
  readonly name: string;
  readonly lastValue: string;
  readonly isCalled: boolean;
}

/** Reads every sequence's `last_value` / `is_called` on the source session (in whatever snapshot it is in). */
export async function readSequences(source: pg.Client): Promise<SequenceValue[]> {
  const { rows } = await source.query<{ schema: string; name: string }>(`
    SELECT n.nspname::text AS schema, c.relname::text AS name FROM pg_catalog.pg_class c
      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind = 'S' AND n.nspname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2`);
  const out: SequenceValue[] = [];
  for (const s of rows) {
    const { rows: v } = await source.query<{ last_value: string; is_called: boolean }>(
      `SELECT last_value::text AS last_value, is_called FROM ${qualifiedName(s.schema, s.name)}`,
    );
    out.push({ ...s, lastValue: v[0]!.last_value, isCalled: v[0]!.is_called });
  }
  return out;
}

/** Sets each sequence on the target session. */
export async function writeSequences(target: pg.Client, values: readonly SequenceValue[]): Promise<void> {
  for (const s of values) {
    await target.query('SELECT pg_catalog.setval($1::regclass, $2::bigint, $3)', [
      qualifiedName(s.schema, s.name),
      s.lastValue,
      s.isCalled,
    ]);
  }
}
