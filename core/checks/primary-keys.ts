/**
 * `primary-keys`: tables of a database planned for replication that have neither a primary key nor a usable
 * replica identity. Once published, the source would reject their UPDATE and DELETE. Without consent
 * (`replicaIdentityFull`) this rules out replication for that database (replication-only failure: auto mode falls
 * back to dump); with consent the tables are listed in `details.tables` and get REPLICA IDENTITY FULL.
 * Table filters (withTables / skipTables) apply: only published tables matter.
 */
import { filterTables, plainTableName, type TableName, tablesWithoutIdentity } from '../catalog.js';
import type { CheckResult } from '../report.js';
import { type Request, tableFiltersFor } from '../request.js';
import { defineCheck, need, result } from './check.js';
import { listNames, type PerDatabase, replicationCandidates } from './facts.js';

/** A table (or partition) that would be published without a usable replica identity. */
export interface TableWithoutKey extends TableName {
  /** pg_class.relreplident: `d` default (no primary key), `n` nothing, `i` an index that is gone. */
  readonly identity: string;
  /** For a partition: its top-level partitioned table (filters naming the root apply to it). */
  readonly root?: TableName;
}

export interface PrimaryKeysFacts {
  readonly candidates: readonly string[];
  readonly tables: PerDatabase<readonly TableWithoutKey[]>;
}

/** The request's table filters (`[db.]schema.table`). */
export interface TableFilterOptions {
  readonly withTables: readonly string[];
  readonly skipTables: readonly string[];
}

/** Pure: the tables the request's filters keep for `database` (core/catalog.ts `filterTables`, one definition). */
export function filterTablesFor<T extends TableName & { root?: TableName }>(
  tables: readonly T[],
  request: TableFilterOptions,
  database: string,
): T[] {
  return filterTables(tables, tableFiltersFor(request, database));
}

export function evaluatePrimaryKeys(
  facts: PrimaryKeysFacts,
  request: Pick<Request, 'replicaIdentityFull'> & TableFilterOptions,
): CheckResult[] {
  if (facts.candidates.length === 0) {
    return [
      result('primary-keys', 'skip', 'not needed: no database is planned for replication', { replicationOnly: false }),
    ];
  }
  return facts.tables.map(({ database, facts: found }) => {
    if (!found.ok) {
      // A safety check that cannot run blocks (SAFETY_CHECKS): publishing an unknown table could break the source.
      return result('primary-keys', 'fail', `could not run: cannot list the tables of "${database}": ${found.error}`, {
        database,
        remedy: 'GRANT CONNECT on the database to the source user, or use --method dump',
        replicationOnly: false,
        details: { couldNotRun: true },
      });
    }
    const tables = filterTablesFor(found.value, request, database).map(plainTableName);
    if (tables.length === 0) {
      return result(
        'primary-keys',
        'pass',
        `every published table of "${database}" has a primary key or replica identity`,
        { database },
      );
    }
    if (request.replicaIdentityFull) {
      return result(
        'primary-keys',
        'warn',
        `${tables.length} table(s) of "${database}" without primary key get REPLICA IDENTITY FULL (as consented): ${listNames(tables)}`,
        {
          database,
          remedy: 'add primary keys where you can: REPLICA IDENTITY FULL makes UPDATE / DELETE replication slower',
          details: { tables },
        },
      );
    }
    return result(
      'primary-keys',
      'fail',
      `${tables.length} table(s) of "${database}" have no primary key or replica identity, so the source would reject their UPDATE / DELETE once published: ${listNames(tables)}`,
      {
        database,
        remedy:
          'add primary keys (or ALTER TABLE … REPLICA IDENTITY USING INDEX), consent to REPLICA IDENTITY FULL with --replica-identity-full, or use --method dump',
        details: { tables },
      },
    );
  });
}

export const primaryKeysCheck = defineCheck<PrimaryKeysFacts, PrimaryKeysFacts>({
  id: 'primary-keys',
  // Said once: no database is planned for replication.
  server: {
    select: (facts, request) => ({
      candidates: replicationCandidates(request, need(facts.selection).selected),
      tables: [],
    }),
    evaluate: (facts, request) => (facts.candidates.length === 0 ? evaluatePrimaryKeys(facts, request) : []),
  },
  database: {
    select: (db) =>
      db.item.candidate
        ? {
            candidates: [db.item.name],
            tables: [
              {
                database: db.item.name,
                facts: db.source.tables.ok
                  ? {
                      ok: true,
                      value: tablesWithoutIdentity(db.source.tables.value).map(
                        (t): TableWithoutKey => ({
                          schema: t.schema,
                          name: t.name,
                          identity: t.replicaIdentity,
                          ...(t.root ? { root: t.root } : {}),
                        }),
                      ),
                    }
                  : db.source.tables,
              },
            ],
          }
        : undefined,
    evaluate: evaluatePrimaryKeys,
  },
});
