/**
 * `unlogged-tables`: logical replication does not carry unlogged tables. Per selected database: which there are
 * (after the table filters) and how the run handles them (dump: copied with the data; replication: copied again at
 * cutover). Fails when the source user may not read some of them: the copy would fail.
 */
import { dataTables, plainTableName, type TableName } from '../catalog.js';
import type { CheckResult } from '../report.js';
import type { Request } from '../request.js';
import { defineCheck, result } from './check.js';
import { listNames, type PerDatabase } from './facts.js';
import { filterTablesFor, type TableFilterOptions } from './primary-keys.js';

export interface UnloggedTable extends TableName {
  readonly readable: boolean;
  /** For a partition: its top-level partitioned table. */
  readonly root?: TableName;
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
    const tables = filterTablesFor(found.value, request, database);
    const names = tables.map(plainTableName);
    const unreadable = tables.filter((t) => !t.readable).map(plainTableName);
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

export const unloggedTablesCheck = defineCheck<never, UnloggedTablesFacts>({
  id: 'unlogged-tables',
  database: {
    select: (db) => ({
      databases: [
        {
          database: db.item.name,
          facts: db.source.tables.ok
            ? {
                ok: true,
                value: dataTables(db.source.tables.value)
                  .filter((t) => t.unlogged)
                  .map(
                    (t): UnloggedTable => ({
                      schema: t.schema,
                      name: t.name,
                      readable: t.readable,
                      ...(t.root ? { root: t.root } : {}),
                    }),
                  ),
              }
            : db.source.tables,
        },
      ],
    }),
    evaluate: evaluateUnloggedTables,
  },
});
