/**
 * Sequences: each target sequence set to the source's value (`setval`), read under the copy's snapshot. Values are
 * read many sequences to a query and set many to a query, so that thousands of sequences cost a few round trips.
 */
import type pg from 'pg';
import { qualifiedName } from '../connection.js';

export interface SequenceValue {
  readonly schema: string;
  readonly name: string;
  readonly lastValue: string;
  readonly isCalled: boolean;
}

/** Sequences per query. */
const BATCH = 500;

/**
 * The query reading `last_value` / `is_called` of these sequences (at least one): one `UNION ALL` branch each, `i`
 * its position. Pure; exported for tests.
 */
export function readSequencesSql(sequences: readonly { readonly schema: string; readonly name: string }[]): string {
  return sequences
    .map(
      (s, i) => `SELECT ${i} AS i, last_value::text AS last_value, is_called FROM ${qualifiedName(s.schema, s.name)}`,
    )
    .join('\nUNION ALL ');
}

function batches<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += BATCH) out.push(items.slice(i, i + BATCH));
  return out;
}

/** Reads every sequence's `last_value` / `is_called` on the source session (in whatever snapshot it is in). */
export async function readSequences(source: pg.Client): Promise<SequenceValue[]> {
  const { rows } = await source.query<{ schema: string; name: string }>(`
    SELECT n.nspname::text AS schema, c.relname::text AS name FROM pg_catalog.pg_class c
      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind = 'S' AND n.nspname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2`);
  const out: SequenceValue[] = [];
  for (const batch of batches(rows)) {
    const { rows: values } = await source.query<{ i: number; last_value: string; is_called: boolean }>(
      readSequencesSql(batch),
    );
    for (const v of [...values].sort((a, b) => a.i - b.i)) {
      const s = batch[v.i]!;
      out.push({ schema: s.schema, name: s.name, lastValue: v.last_value, isCalled: v.is_called });
    }
  }
  return out;
}

/** Sets each sequence on the target session. */
export async function writeSequences(target: pg.Client, values: readonly SequenceValue[]): Promise<void> {
  for (const batch of batches(values)) {
    await target.query(
      'SELECT pg_catalog.setval(s::regclass, v, c) FROM ROWS FROM (pg_catalog.unnest($1::text[]), ' +
        'pg_catalog.unnest($2::bigint[]), pg_catalog.unnest($3::boolean[])) AS t(s, v, c)',
      [batch.map((s) => qualifiedName(s.schema, s.name)), batch.map((s) => s.lastValue), batch.map((s) => s.isCalled)],
    );
  }
}
