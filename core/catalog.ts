/**
 * The catalog SQL that the pre-checks and the steps share, in one place so that a check and its step cannot
 * disagree about what they look at:
 *
 * - **user objects**: not in a system schema (`pg_*`, `information_schema`), not temporary, not a member of an
 *   extension (pg_depend `e`) — the same rule for relations, functions, types and schemas, on every side;
 * - **user tables**: ordinary and partitioned tables with their partitions (leaves carry their top-level root), with
 *   what replication and the copy need (persistence, replica identity, primary key, owner, readability);
 * - **table filters**: `withTables` / `skipTables` match a table by its own name or, for a partition, by its root;
 * - **target emptiness**: the user objects of a target database, pg-migrate's own `_pg_migrate` schema and
 *   extensions (their members and the schemas they were created in) left out, and whether pg-migrate marked it;
 * - **extension membership**: the extensions installed in a database.
 *
 * Pure SQL text and small readers over an open session; no decisions (those are the checks' and the steps').
 */
import type pg from 'pg';
import type { TableFilter } from './request.js';

/** pg-migrate's own schema in a target database (progress record and mark; see core/steps/progress.ts). */
export const OWN_SCHEMA = '_pg_migrate';

/** SQL condition on a schema name expression: a user schema (not `pg_*`, not `information_schema`). */
export function userSchemaSql(nspname: string): string {
  return `${nspname} <> 'information_schema' AND ${nspname} NOT LIKE 'pg\\_%'`;
}

/** SQL condition: the object (`catalog` = its system catalog, `oid` = an oid expression) is not an extension member. */
export function notExtensionMemberSql(
  catalog: 'pg_class' | 'pg_proc' | 'pg_type' | 'pg_namespace',
  oid: string,
): string {
  return `NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                       WHERE d.classid = 'pg_catalog.${catalog}'::pg_catalog.regclass AND d.objid = ${oid} AND d.deptype = 'e')`;
}

/**
 * SQL condition (on `c` = pg_class, `n` = its pg_namespace) for user relations: in a user schema, not temporary,
 * not owned by an extension. pg-migrate's own schema is a user schema here; {@link readTargetContent} leaves it out.
 */
export const USER_RELATION_SQL = `${userSchemaSql('n.nspname')} AND ${notExtensionMemberSql('pg_class', 'c.oid')}`;

/** `schema.name` of a table. */
export interface TableName {
  readonly schema: string;
  readonly name: string;
}

/** How a table holds its rows. */
export type TableKind = 'table' | 'partitioned' | 'partition';

/** A user table of a database, as the checks and the steps see it. */
export interface UserTable extends TableName {
  /** `table`: ordinary, not a partition; `partitioned`: a partitioned table (no rows of its own); `partition`. */
  readonly kind: TableKind;
  /** For a partition: the top-level partitioned table it belongs to. */
  readonly root?: TableName;
  readonly unlogged: boolean;
  /** pg_class.relreplident: `d` default, `n` nothing, `f` full, `i` index. */
  readonly replicaIdentity: string;
  /** UPDATE / DELETE can be published as the table is (primary key, a usable replica identity index, or FULL). */
  readonly identityOk: boolean;
  readonly hasPrimaryKey: boolean;
  /** The owning role. */
  readonly owner: string;
  /** The connected user has the owner's privileges (superuser, the owner, or an inheriting member of it). */
  readonly owned: boolean;
  /** The connected user may SELECT it. */
  readonly readable: boolean;
}

/**
 * SQL expression: the oid of the top-level partitioned table of the partition `oid` (NULL for other relations).
 * Works on PostgreSQL 10+ (pg_partition_ancestors is 12+).
 */
export function partitionRootSql(oid: string): string {
  return `(WITH RECURSIVE up AS (
             SELECT i.inhparent AS parent FROM pg_catalog.pg_inherits i WHERE i.inhrelid = ${oid}
             UNION ALL
             SELECT i.inhparent FROM pg_catalog.pg_inherits i JOIN up ON i.inhrelid = up.parent)
           SELECT up.parent FROM up JOIN pg_catalog.pg_class k ON k.oid = up.parent
            WHERE k.relkind = 'p' AND NOT k.relispartition LIMIT 1)`;
}

/** The user tables of the connected database (ordinary, partitioned, partitions), in name order. */
export const USER_TABLES_SQL = `
  SELECT n.nspname AS schema, c.relname AS name,
         CASE WHEN c.relispartition THEN 'partition' WHEN c.relkind = 'p' THEN 'partitioned' ELSE 'table' END AS kind,
         rn.nspname AS root_schema, r.relname AS root_name,
         c.relpersistence = 'u' AS unlogged, c.relreplident::text AS replica_identity,
         CASE c.relreplident
           WHEN 'f' THEN true
           WHEN 'n' THEN false
           WHEN 'i' THEN EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid AND i.indisreplident)
           ELSE EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid AND i.indisprimary)
         END AS identity_ok,
         EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid AND i.indisprimary) AS has_pk,
         pg_catalog.pg_get_userbyid(c.relowner) AS owner,
         pg_catalog.pg_has_role(c.relowner, 'USAGE') AS owned,
         pg_catalog.has_table_privilege(c.oid, 'SELECT') AS readable
    FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_catalog.pg_class r ON c.relispartition AND r.oid = ${partitionRootSql('c.oid')}
    LEFT JOIN pg_catalog.pg_namespace rn ON rn.oid = r.relnamespace
   WHERE c.relkind IN ('r', 'p') AND c.relpersistence IN ('p', 'u') AND ${USER_RELATION_SQL}
   ORDER BY 1, 2`;

/** Reads {@link USER_TABLES_SQL}. */
export async function readUserTables(client: pg.Client): Promise<UserTable[]> {
  const { rows } = await client.query<{
    schema: string;
    name: string;
    kind: TableKind;
    root_schema: string | null;
    root_name: string | null;
    unlogged: boolean;
    replica_identity: string;
    identity_ok: boolean;
    has_pk: boolean;
    owner: string;
    owned: boolean;
    readable: boolean;
  }>(USER_TABLES_SQL);
  return rows.map((r) => ({
    schema: r.schema,
    name: r.name,
    kind: r.kind,
    ...(r.root_schema !== null && r.root_name !== null ? { root: { schema: r.root_schema, name: r.root_name } } : {}),
    unlogged: r.unlogged,
    replicaIdentity: r.replica_identity,
    identityOk: r.identity_ok,
    hasPrimaryKey: r.has_pk,
    owner: r.owner,
    owned: r.owned,
    readable: r.readable,
  }));
}

/** Tables that hold rows (everything but partitioned parents): what the copy reads and what a key matters for. */
export function dataTables<T extends { kind: TableKind }>(tables: readonly T[]): T[] {
  return tables.filter((t) => t.kind !== 'partitioned');
}

/**
 * What a publication lists: ordinary tables and partitioned roots (a root publishes its partitions), UNLOGGED tables
 * left out (they cannot be published).
 */
export function publishableTables<T extends { kind: TableKind; unlogged: boolean }>(tables: readonly T[]): T[] {
  return tables.filter((t) => t.kind !== 'partition' && !t.unlogged);
}

/**
 * Tables whose UPDATE / DELETE the source would reject once published: rows-holding, logged, without a usable
 * replica identity (a partition counts on its own: its changes are published as its own).
 */
export function tablesWithoutIdentity<T extends { kind: TableKind; unlogged: boolean; identityOk: boolean }>(
  tables: readonly T[],
): T[] {
  return dataTables(tables).filter((t) => !t.unlogged && !t.identityOk);
}

/** The table filters that apply to one database (see core/request.ts `tableFiltersFor`). */
export interface TableFilters {
  readonly withTables?: readonly TableFilter[];
  readonly skipTables?: readonly TableFilter[];
}

function filterMatches(t: TableName & { root?: TableName }, f: TableFilter): boolean {
  const is = (x: TableName) => f.schema === x.schema && f.table === x.name;
  return is(t) || (t.root !== undefined && is(t.root));
}

/**
 * Applies `withTables` / `skipTables` (already narrowed to one database): a table matches a filter by its own name
 * or, for a partition, by its root's name. With `withTables`, only matching tables are kept; `skipTables` removes.
 */
export function filterTables<T extends TableName & { root?: TableName }>(
  tables: readonly T[],
  filters: TableFilters,
): T[] {
  const withTables = filters.withTables ?? [];
  const skipTables = filters.skipTables ?? [];
  return tables.filter(
    (t) =>
      (withTables.length === 0 || withTables.some((f) => filterMatches(t, f))) &&
      !skipTables.some((f) => filterMatches(t, f)),
  );
}

/** `schema.table` as the plan, the filters and the checks spell it (unquoted, exact). */
export function plainTableName(t: TableName): string {
  return `${t.schema}.${t.name}`;
}

/** What a target database holds, as far as emptiness goes. */
export interface TargetContent {
  /** User objects: relations, functions, types and schemas outside extensions and pg-migrate's own schema. */
  readonly objects: number;
  /** User tables among them (ordinary and partitioned). */
  readonly tables: number;
  /** Some of their names (`schema.name`, or `schema` for a schema). */
  readonly sample: readonly string[];
  /** pg-migrate's mark: the `_pg_migrate.steps` record of a run that created or adopted this database. */
  readonly marked: boolean;
  /** A subscription of pg-migrate (`pg_migrate…`) in this database. */
  readonly subscriptions: boolean;
}

/**
 * The user objects of the connected database. Extension members are left out (pg_depend `e`), and so are the schemas
 * extensions were installed in (`pg_extension.extnamespace`: `CREATE EXTENSION` creates a schema such as
 * `aiven_extras` without making it a member), `public`, and pg-migrate's own schema.
 */
export const TARGET_CONTENT_SQL = `
  WITH objects AS (
    SELECT 'r' AS kind, n.nspname || '.' || c.relname AS name
      FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND ${USER_RELATION_SQL} AND n.nspname <> '${OWN_SCHEMA}'
    UNION ALL
    SELECT 'f', n.nspname || '.' || p.proname
      FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
     WHERE ${userSchemaSql('n.nspname')} AND n.nspname <> '${OWN_SCHEMA}' AND ${notExtensionMemberSql('pg_proc', 'p.oid')}
    UNION ALL
    SELECT 't', n.nspname || '.' || t.typname
      FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
     WHERE ${userSchemaSql('n.nspname')} AND n.nspname <> '${OWN_SCHEMA}' AND ${notExtensionMemberSql('pg_type', 't.oid')}
       AND t.typtype <> 'm'
       AND (t.typrelid = 0 OR (SELECT k.relkind FROM pg_catalog.pg_class k WHERE k.oid = t.typrelid) = 'c')
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_type e WHERE e.typarray = t.oid)
    UNION ALL
    SELECT 's', n.nspname
      FROM pg_catalog.pg_namespace n
     WHERE ${userSchemaSql('n.nspname')} AND n.nspname NOT IN ('public', '${OWN_SCHEMA}')
       AND ${notExtensionMemberSql('pg_namespace', 'n.oid')}
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension x WHERE x.extnamespace = n.oid)
  )
  SELECT (SELECT count(*)::int FROM objects) AS objects,
         (SELECT count(*)::int FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
           WHERE c.relkind IN ('r', 'p') AND ${USER_RELATION_SQL} AND n.nspname <> '${OWN_SCHEMA}') AS tables,
         (SELECT array_agg(name) FROM (SELECT name FROM objects ORDER BY kind, name LIMIT 10) s) AS sample,
         EXISTS (SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                  WHERE n.nspname = '${OWN_SCHEMA}' AND c.relname = 'steps') AS marked,
         EXISTS (SELECT 1 FROM pg_catalog.pg_subscription s
                  WHERE s.subdbid = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
                    AND s.subname LIKE 'pg\\_migrate%') AS subscriptions`;

/** Reads {@link TARGET_CONTENT_SQL} on a session of a target database (or of any database: its user objects). */
export async function readTargetContent(client: pg.Client): Promise<TargetContent> {
  const { rows } = await client.query<{
    objects: number;
    tables: number;
    sample: string[] | null;
    marked: boolean;
    subscriptions: boolean;
  }>(TARGET_CONTENT_SQL);
  const row = rows[0]!;
  return {
    objects: row.objects,
    tables: row.tables,
    sample: row.sample ?? [],
    marked: row.marked,
    subscriptions: row.subscriptions,
  };
}

/** An installed extension. */
export interface InstalledExtension {
  readonly name: string;
  readonly version: string;
  /** The schema it was installed in. */
  readonly schema: string;
}

export const INSTALLED_EXTENSIONS_SQL = `
  SELECT x.extname AS name, x.extversion AS version, n.nspname AS schema
    FROM pg_catalog.pg_extension x JOIN pg_catalog.pg_namespace n ON n.oid = x.extnamespace
   ORDER BY 1`;

/** The extensions installed in the connected database. */
export async function readInstalledExtensions(client: pg.Client): Promise<InstalledExtension[]> {
  return (await client.query<InstalledExtension>(INSTALLED_EXTENSIONS_SQL)).rows;
}

/** What the connected user may do in the connected database (privileges the checks predict and the steps rely on). */
export interface DatabaseAccess {
  /** CREATE on the database (schemas, publications, subscriptions). */
  readonly create: boolean;
  /** CREATE on schema `public` (false when it has none). */
  readonly publicCreate: boolean;
  /** The database's owner. */
  readonly owner: string;
  /** The user has the owner's privileges (superuser, the owner, or an inheriting member). */
  readonly ownerPrivileges: boolean;
  /** aiven_extras is installed in this database. */
  readonly aivenExtrasInstalled: boolean;
  /** …and the user may use it: USAGE on its schema and EXECUTE on its publication and subscription functions. */
  readonly aivenExtrasUsable: boolean;
  /** Schemas that hold user objects (relations, functions, types outside extensions). */
  readonly userSchemas: readonly string[];
}

/** The aiven_extras functions pg-migrate calls (core/steps/replication/sql.ts). */
export const AIVEN_EXTRAS_FUNCTIONS = ['pg_create_publication', 'pg_create_subscription', 'pg_drop_subscription'];

export const DATABASE_ACCESS_SQL = `
  SELECT pg_catalog.has_database_privilege(d.oid, 'CREATE') AS create,
         coalesce((SELECT pg_catalog.has_schema_privilege(n.oid, 'CREATE') FROM pg_catalog.pg_namespace n
                    WHERE n.nspname = 'public'), false) AS public_create,
         pg_catalog.pg_get_userbyid(d.datdba) AS owner,
         pg_catalog.pg_has_role(d.datdba, 'USAGE') AS owner_privileges,
         EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'aiven_extras') AS aiven_installed,
         coalesce((SELECT pg_catalog.has_schema_privilege(x.extnamespace, 'USAGE')
                          AND coalesce((SELECT bool_and(pg_catalog.has_function_privilege(p.oid, 'EXECUTE'))
                                          FROM pg_catalog.pg_proc p
                                         WHERE p.pronamespace = x.extnamespace AND p.proname = ANY ($1::text[])), false)
                     FROM pg_catalog.pg_extension x WHERE x.extname = 'aiven_extras'), false) AS aiven_usable,
         coalesce((SELECT array_agg(DISTINCT o.schema::text ORDER BY o.schema::text) FROM (
             SELECT n.nspname AS schema FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
              WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND ${USER_RELATION_SQL} AND n.nspname <> '${OWN_SCHEMA}'
             UNION ALL
             SELECT n.nspname FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
              WHERE ${userSchemaSql('n.nspname')} AND n.nspname <> '${OWN_SCHEMA}' AND ${notExtensionMemberSql('pg_proc', 'p.oid')}
           ) o), '{}') AS user_schemas
    FROM pg_catalog.pg_database d WHERE d.datname = current_database()`;

/** Reads {@link DATABASE_ACCESS_SQL}. */
export async function readDatabaseAccess(client: pg.Client): Promise<DatabaseAccess> {
  const { rows } = await client.query<{
    create: boolean;
    public_create: boolean;
    owner: string;
    owner_privileges: boolean;
    aiven_installed: boolean;
    aiven_usable: boolean;
    user_schemas: string[];
  }>(DATABASE_ACCESS_SQL, [AIVEN_EXTRAS_FUNCTIONS]);
  const row = rows[0]!;
  return {
    create: row.create,
    publicCreate: row.public_create,
    owner: row.owner,
    ownerPrivileges: row.owner_privileges,
    aivenExtrasInstalled: row.aiven_installed,
    aivenExtrasUsable: row.aiven_usable,
    userSchemas: row.user_schemas,
  };
}
