/**
 * `source-databases`: the databases to migrate, after the filters, and each is reachable and readable. A filter
 * naming a database that does not exist, or leaving nothing to migrate, fails — it never means "everything".
 * The passing summary result carries `details.databases` (the selection, in order): the plan reads it.
 * Per database (its own session, core/checks/collect.ts): it is reachable, and the source user may read every
 * table whose data is copied (filters applied) — otherwise both methods would fail in the middle of the copy.
 */
import { dataTables, filterTables, plainTableName, type UserTable } from '../catalog.js';
import type { CheckResult } from '../report.js';
import { tableFiltersFor } from '../request.js';
import { defineCheck, need, result } from './check.js';
import { type DatabaseSelection, isMigratable, listNames, type Outcome, type PerDatabase } from './facts.js';

export interface SourceDatabasesFacts {
  readonly selection: DatabaseSelection;
  /** Every source database that could be migrated (for messages). */
  readonly migratable: readonly string[];
  readonly reach: PerDatabase<true>;
}

function unreachable(database: string, reach: Exclude<Outcome<unknown>, { ok: true }>): CheckResult {
  return result('source-databases', 'fail', `cannot connect to source database "${database}": ${reach.error}`, {
    database,
    remedy:
      reach.permission || /permission denied/i.test(reach.error)
        ? `GRANT CONNECT ON DATABASE to the source user, or exclude it with --exclude-dbs`
        : 'check pg_hba.conf for this database, or exclude it with --exclude-dbs',
  });
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
    if (!reach.ok) out.push(unreachable(database, reach));
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

/** One selected database as its own session saw it. */
export interface SourceDatabaseAccessFacts {
  readonly database: string;
  readonly session: Outcome<true>;
  /** Tables whose data is copied (filters applied) that the source user may not read. */
  readonly unreadable: Outcome<readonly string[]>;
}

export function evaluateSourceDatabase(facts: SourceDatabaseAccessFacts): CheckResult[] {
  const { database } = facts;
  if (!facts.session.ok) return [unreachable(database, facts.session)];
  if (facts.unreadable.ok && facts.unreadable.value.length > 0) {
    const tables = facts.unreadable.value;
    return [
      result(
        'source-databases',
        'fail',
        `the source user may not read ${tables.length} table(s) of "${database}", so their data cannot be copied: ${listNames(tables)}`,
        {
          database,
          remedy:
            'GRANT SELECT on them (or pg_read_all_data) to the source user, connect as their owner, or leave them out with --skip-table',
          details: { unreadable: tables },
        },
      ),
    ];
  }
  return [];
}

function unreadableTables(
  tables: readonly UserTable[],
  request: Parameters<typeof tableFiltersFor>[0],
  database: string,
): string[] {
  // Unlogged tables are the unlogged-tables check's (it says how each method carries them).
  return filterTables(dataTables(tables), tableFiltersFor(request, database))
    .filter((t) => !t.readable && !t.unlogged)
    .map(plainTableName);
}

export const sourceDatabasesCheck = defineCheck<SourceDatabasesFacts, SourceDatabaseAccessFacts>({
  id: 'source-databases',
  server: {
    select: (facts) => {
      const rows = need(facts.source.databases, 'the source');
      return {
        selection: need(facts.selection),
        migratable: rows
          .filter(isMigratable)
          .map((r) => r.name)
          .sort(),
        reach: [],
      };
    },
    evaluate: evaluateSourceDatabases,
  },
  database: {
    select: (db, _shared, request) => ({
      database: db.item.name,
      session: db.source.session,
      unreadable: db.source.tables.ok
        ? { ok: true, value: unreadableTables(db.source.tables.value, request, db.item.name) }
        : db.source.tables,
    }),
    evaluate: evaluateSourceDatabase,
  },
});
