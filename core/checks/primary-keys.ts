/**
 * `primary-keys`: tables of a database planned for replication that have neither a primary key nor a usable
 * replica identity. Once published, the source would reject their UPDATE and DELETE. Without consent
 * (`replicaIdentityFull`) this rules out replication for that database (replication-only failure: auto mode falls
 * back to dump); with consent the tables are listed in `details.tables` and get REPLICA IDENTITY FULL.
 * Table filters (withTables / skipTables) apply: only published tables matter.
 */
import type { CheckResult } from '../report.js';
import { type Request, tableFiltersFor } from '../request.js';
import { defineCheck, result } from './check.js';
import {
  listNames,
  type PerDatabase,
  perDatabase,
  replicationCandidates,
  selectedDatabases,
  tableName,
  USER_RELATION_SQL,
} from './facts.js';

export interface TableWithoutKey {
  readonly schema: string;
  readonly table: string;
  /** pg_class.relreplident: `d` default (no primary key), `n` nothing. */
  readonly identity: string;
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

/** Pure: the tables the request's filters keep for `database`. */
export function filterTables<T extends { schema: string; table: string }>(
  tables: readonly T[],
  request: TableFilterOptions,
  database: string,
): T[] {
  const { withTables, skipTables } = tableFiltersFor(
    { withTables: [...request.withTables], skipTables: [...request.skipTables] },
    database,
  );
  const match = (t: T, f: { schema: string; table: string }) => f.schema === t.schema && f.table === t.table;
  return tables.filter(
    (t) => (withTables.length === 0 || withTables.some((f) => match(t, f))) && !skipTables.some((f) => match(t, f)),
  );
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
      return result('primary-keys', 'skip', `cannot list the tables of "${database}": ${found.error}`, {
        database,
        remedy: 'GRANT CONNECT on the database to the source user, or use --method dump',
      });
    }
    const tables = filterTables(found.value, request, database).map((t) => tableName(t.schema, t.table));
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

export const primaryKeysCheck = defineCheck<PrimaryKeysFacts>({
  id: 'primary-keys',
  async collect(ctx, request) {
    const candidates = replicationCandidates(request, await selectedDatabases(ctx, request));
    const tables = await perDatabase(ctx.source, candidates, request, async (client) => {
      const { rows } = await client.query<TableWithoutKey>(
        `SELECT n.nspname AS schema, c.relname AS table, c.relreplident::text AS identity
           FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
          WHERE c.relkind = 'r' AND c.relpersistence = 'p' AND ${USER_RELATION_SQL}
            AND (c.relreplident = 'n'
                 OR (c.relreplident = 'd' AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid AND i.indisprimary)))
          ORDER BY 1, 2`,
      );
      return rows;
    });
    return { candidates, tables };
  },
  evaluate: evaluatePrimaryKeys,
});
