/**
 * ANALYZE of the target database after the data and the schema are in: every table and materialized view, on `jobs`
 * sessions. Small relations are analyzed many to a statement (`ANALYZE a, b, c`, PostgreSQL 11+; each relation still
 * in its own transaction), so that a database of thousands of small tables does not pay a round trip per table.
 */
import { connect, qualifiedName, serverMajor } from '../connection.js';
import type { RunContext } from '../context.js';
import { forEachLimit } from './pool.js';

/** Relations below this size share a statement. */
const SMALL_RELATION_BYTES = 1024 * 1024;
/** At most this many relations per statement. */
const MAX_PER_STATEMENT = 100;

/**
 * The ANALYZE statements for `relations` (largest first): one per relation of at least `smallBytes`, the smaller
 * ones `maxPerStatement` to a statement (`multi`: the server takes a list, 11+). Pure; exported for tests.
 */
export function analyzeStatements(
  relations: readonly { readonly schema: string; readonly name: string; readonly bytes: number }[],
  options: { readonly multi: boolean; readonly smallBytes?: number; readonly maxPerStatement?: number },
): string[] {
  const smallBytes = options.smallBytes ?? SMALL_RELATION_BYTES;
  const max = options.multi ? (options.maxPerStatement ?? MAX_PER_STATEMENT) : 1;
  const out: string[] = [];
  let batch: string[] = [];
  const close = () => {
    if (batch.length > 0) out.push(`ANALYZE ${batch.join(', ')}`);
    batch = [];
  };
  for (const r of relations) {
    const name = qualifiedName(r.schema, r.name);
    if (r.bytes >= smallBytes || max === 1) {
      out.push(`ANALYZE ${name}`);
      continue;
    }
    batch.push(name);
    if (batch.length >= max) close();
  }
  close();
  return out;
}

/** ANALYZE every table and materialized view of the target database, `jobs` sessions at a time. */
export async function analyzeTarget(ctx: RunContext, database: string, jobs: number): Promise<void> {
  const clients = await Promise.all(Array.from({ length: jobs }, () => connect(ctx.target, database)));
  try {
    const { rows } = await clients[0]!.query<{ schema: string; name: string; bytes: string }>(`
      SELECT n.nspname::text AS schema, c.relname::text AS name, pg_catalog.pg_table_size(c.oid) AS bytes
        FROM pg_catalog.pg_class c
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
       WHERE c.relkind IN ('r', 'm', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema', '_pg_migrate')
         AND n.nspname NOT LIKE 'pg\\_%'
       ORDER BY pg_catalog.pg_table_size(c.oid) DESC`);
    const statements = analyzeStatements(
      rows.map((r) => ({ schema: r.schema, name: r.name, bytes: Number(r.bytes) })),
      { multi: (await serverMajor(clients[0]!)) >= 11 },
    );
    await forEachLimit(statements, jobs, async (sql, worker) => {
      await clients[worker]!.query(sql);
    });
  } finally {
    await Promise.all(clients.map((c) => c.end().catch(() => {})));
  }
}
