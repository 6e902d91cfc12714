/**
 * `source-databases`: the databases to migrate, after the filters, and each is reachable. A filter naming a
 * database that does not exist, or leaving nothing to migrate, fails — it never means "everything".
 * The passing summary result carries `details.databases` (the selection, in order): the plan reads it.
 */
import type { CheckResult } from '../report.js';
import { defineCheck, result } from './check.js';
import {
  collectSourceDatabases,
  type DatabaseSelection,
  isMigratable,
  listNames,
  type PerDatabase,
  perDatabase,
} from './facts.js';

export interface SourceDatabasesFacts {
  readonly selection: DatabaseSelection;
  /** Every source database that could be migrated (for messages). */
  readonly migratable: readonly string[];
  readonly reach: PerDatabase<true>;
}

export function evaluateSourceDatabases(facts: SourceDatabasesFacts): CheckResult[] {
  const { selection } = facts;
  const out: CheckResult[] = [];
  const existing = `databases on the source that can be migrated: ${listNames(facts.migratable, 20) || 'none'}`;
  if (selection.unknown.length > 0) {
    out.push(
      result(
        'source-databases',
        'fail',
        `the filter names database(s) that do not exist on the source: ${listNames(selection.unknown)}`,
        {
          remedy: `correct --dbs (names are exact and case-sensitive); ${existing}`,
          details: { unknown: selection.unknown },
        },
      ),
    );
  }
  if (selection.notMigratable.length > 0) {
    out.push(
      result(
        'source-databases',
        'fail',
        `the filter names database(s) that are never migrated (templates, providers' admin databases, or not accepting connections): ${listNames(selection.notMigratable)}`,
        { remedy: `remove them from --dbs; ${existing}`, details: { notMigratable: selection.notMigratable } },
      ),
    );
  }
  if (selection.selected.length === 0) {
    out.push(
      result('source-databases', 'fail', 'the filters leave no database to migrate', {
        remedy: `loosen --dbs / --exclude-dbs; ${existing}`,
      }),
    );
  }
  if (selection.unknownExcluded.length > 0) {
    out.push(
      result(
        'source-databases',
        'warn',
        `--exclude-dbs names database(s) that do not exist on the source: ${listNames(selection.unknownExcluded)}`,
        {
          remedy: 'check the spelling (names are exact and case-sensitive)',
        },
      ),
    );
  }
  for (const { database, facts: reach } of facts.reach) {
    if (!reach.ok) {
      out.push(
        result('source-databases', 'fail', `cannot connect to source database "${database}": ${reach.error}`, {
          database,
          remedy:
            reach.permission || /permission denied/i.test(reach.error)
              ? `GRANT CONNECT ON DATABASE to the source user, or exclude it with --exclude-dbs`
              : 'check pg_hba.conf for this database, or exclude it with --exclude-dbs',
        }),
      );
    }
  }
  if (!out.some((r) => r.status === 'fail')) {
    out.unshift(
      result(
        'source-databases',
        'pass',
        `${selection.selected.length} source database(s) to migrate: ${listNames(selection.selected)}`,
        {
          details: { databases: selection.selected },
        },
      ),
    );
  }
  return out;
}

export const sourceDatabasesCheck = defineCheck<SourceDatabasesFacts>({
  id: 'source-databases',
  async collect(ctx, request) {
    const { rows, selection } = await collectSourceDatabases(ctx, request);
    const reach = await perDatabase(ctx.source, selection.selected, request, async (client) => {
      await client.query('SELECT 1');
      return true as const;
    });
    return {
      selection,
      migratable: rows
        .filter(isMigratable)
        .map((r) => r.name)
        .sort(),
      reach,
    };
  },
  evaluate: evaluateSourceDatabases,
});
