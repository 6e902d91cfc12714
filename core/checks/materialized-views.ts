/**
 * `materialized-views`: logical replication does not carry materialized views, and no method copies their rows:
 * the target refreshes them (dump: after the restore; replication: at cutover). Per selected database: which there
 * are. Fails when a populated view reads a table whose data the table filters leave out (the refresh on the target
 * would silently compute it from missing data). Only direct table dependencies are considered.
 */
import { plainTableName } from '../catalog.js';
import type { CheckResult } from '../report.js';
import type { Request } from '../request.js';
import { defineCheck, result } from './check.js';
import type { MaterializedViewFacts } from './collect.js';
import { listNames, type PerDatabase, tableName } from './facts.js';
import { filterTablesFor, type TableFilterOptions } from './primary-keys.js';

export type MaterializedView = MaterializedViewFacts;

export interface MaterializedViewsFacts {
  readonly databases: PerDatabase<readonly MaterializedView[]>;
}

export function evaluateMaterializedViews(
  facts: MaterializedViewsFacts,
  request: Pick<Request, 'method'> & TableFilterOptions,
): CheckResult[] {
  return facts.databases.map(({ database, facts: found }) => {
    if (!found.ok) {
      return result(
        'materialized-views',
        'warn',
        `cannot list the materialized views of "${database}": ${found.error}`,
        {
          database,
          remedy: 'GRANT CONNECT on the database to the source user so the check can run',
        },
      );
    }
    const views = found.value;
    const names = views.map((v) => tableName(v.schema, v.view));
    if (views.length === 0)
      return result('materialized-views', 'pass', `"${database}" has no materialized views`, { database });
    const broken = views.flatMap((v) => {
      if (!v.populated || v.dependsOn.length === 0) return [];
      const kept = filterTablesFor(v.dependsOn, request, database);
      const missing = v.dependsOn.filter((d) => !kept.includes(d)).map(plainTableName);
      return missing.length > 0 ? [`${tableName(v.schema, v.view)} (reads ${missing.join(', ')})`] : [];
    });
    if (broken.length > 0) {
      return result(
        'materialized-views',
        'fail',
        `materialized view(s) of "${database}" read tables whose data the filters leave out, so their refresh on the target would be wrong: ${listNames(broken)}`,
        {
          database,
          remedy:
            "include those tables' data (--with-table / --skip-table), or drop the views on the source before migrating",
          details: { views: names, broken },
        },
      );
    }
    const how =
      request.method === 'dump'
        ? 'refreshed on the target after the restore'
        : 'refreshed on the target after the restore (dump) or at cutover (replication: not carried)';
    return result(
      'materialized-views',
      request.method === 'dump' ? 'pass' : 'warn',
      `"${database}" has ${views.length} materialized view(s), ${how}: ${listNames(names)}`,
      {
        database,
        remedy:
          request.method === 'dump'
            ? ''
            : 'nothing to do; refreshing large views at cutover takes time: plan the write stop accordingly',
        details: { views: names },
      },
    );
  });
}

export const materializedViewsCheck = defineCheck<never, MaterializedViewsFacts>({
  id: 'materialized-views',
  database: {
    select: (db) => ({ databases: [{ database: db.item.name, facts: db.source.views }] }),
    evaluate: evaluateMaterializedViews,
  },
});
