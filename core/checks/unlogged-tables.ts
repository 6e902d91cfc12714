/**
 * `unlogged-tables`: logical replication does not carry unlogged tables. Per selected database: which there are
 * (after the table filters) and how the run handles them (dump: copied with the data; replication: copied again at
 * cutover). Fails when the source user may not read some of them: the copy would fail.
 */
import type { CheckResult } from '../report.js';
import type { Request } from '../request.js';
import { defineCheck, result } from './check.js';
import { listNames, type PerDatabase, perDatabase, selectedDatabases, tableName, USER_RELATION_SQL } from './facts.js';
import { filterTables, type TableFilterOptions } from './primary-keys.js';

export interface UnloggedTable {
  readonly schema: string;
  readonly table: string;
  readonly readable: boolean;
}

export interface UnloggedTablesFacts {
  readonly databases: PerDatabase<readonly UnloggedTable[]>;
}

export function evaluateUnloggedTables(
  facts: UnloggedTablesFacts,
  request: Pick<Request, 'method'> & TableFilterOptions,
): CheckResult[] {
  return facts.databases.map(({ database, facts: found }) => {
    if (!found.ok) {
      return result('unlogged-tables', 'warn', `cannot list the unlogged tables of "${database}": ${found.error}`, {
        database,
        remedy: 'GRANT CONNECT on the database to the source user so the check can run',
      });
    }
    const tables = filterTables(found.value, request, database);
    const names = tables.map((t) => tableName(t.schema, t.table));
    const unreadable = tables.filter((t) => !t.readable).map((t) => tableName(t.schema, t.table));
    const details = { tables: names };
    if (tables.length === 0)
      return result('unlogged-tables', 'pass', `"${database}" has no unlogged tables`, { database });
    if (unreadable.length > 0) {
      return result(
        'unlogged-tables',
        'fail',
        `the source user may not read unlogged table(s) of "${database}": ${listNames(unreadable)}`,
        {
          database,
          remedy: 'GRANT SELECT on them to the source user, or leave them out with --skip-table',
          details: { ...details, unreadable },
        },
      );
    }
    if (request.method === 'dump') {
      return result(
        'unlogged-tables',
        'pass',
        `"${database}" has ${tables.length} unlogged table(s), copied with the data: ${listNames(names)}`,
        { database, details },
      );
    }
    return result(
      'unlogged-tables',
      'warn',
      `"${database}" has ${tables.length} unlogged table(s) that logical replication does not carry; if it is replicated they are copied again at cutover: ${listNames(names)}`,
      {
        database,
        remedy:
          'nothing to do; stop writes before cutover as usual (or ALTER TABLE … SET LOGGED on the source to have them replicated)',
        details,
      },
    );
  });
}

export const unloggedTablesCheck = defineCheck<UnloggedTablesFacts>({
  id: 'unlogged-tables',
  async collect(ctx, request) {
    const databases = await selectedDatabases(ctx, request);
    return {
      databases: await perDatabase(ctx.source, databases, request, async (client) => {
        const { rows } = await client.query<UnloggedTable>(
          `SELECT n.nspname AS schema, c.relname AS table, pg_catalog.has_table_privilege(c.oid, 'SELECT') AS readable
             FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p') AND c.relpersistence = 'u' AND ${USER_RELATION_SQL}
            ORDER BY 1, 2`,
        );
        return rows;
      }),
    };
  },
  evaluate: evaluateUnloggedTables,
});
