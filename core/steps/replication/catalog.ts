/**
 * What the replication steps read from the servers: the source user's powers, the tables to publish, and the
 * state of a database's subscription and slot.
 */
import type pg from 'pg';
import type { PlannedDatabase } from '../../plan.js';
import { type Request, tableFiltersFor } from '../../request.js';
import type { ReplicationNames } from './names.js';
import type { TableName } from './sql.js';

/** The source session's powers, as far as the replication method cares. */
export interface ServerPowers {
  readonly versionNum: number;
  readonly superuser: boolean;
  /**
   * REPLICATION attribute, superuser, or (RDS / Aurora) member of rds_replication: may create slots and, as far
   * as the role goes, open replication connections.
   */
  readonly replication: boolean;
  /** The aiven_extras extension is installed in the connected database. */
  readonly aivenExtras: boolean;
}

export async function readPowers(client: pg.Client): Promise<ServerPowers> {
  const { rows } = await client.query<{ v: number; su: boolean; repl: boolean; aiven: boolean }>(
    `SELECT current_setting('server_version_num')::int AS v, r.rolsuper AS su, r.rolsuper OR r.rolreplication OR EXISTS (
              SELECT 1 FROM pg_catalog.pg_roles g
               WHERE g.rolname = 'rds_replication' AND pg_catalog.pg_has_role(r.oid, g.oid, 'member')) AS repl,
            EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'aiven_extras') AS aiven
       FROM pg_catalog.pg_roles r WHERE r.rolname = current_user`,
  );
  const row = rows[0];
  if (!row) throw new Error('cannot read the current role');
  return { versionNum: row.v, superuser: row.su, replication: row.repl, aivenExtras: row.aiven };
}

/** A user table of the source, with what replication needs to know about it. */
export interface SourceTable extends TableName {
  /** `table`: not partitioned; `partitioned`: a partitioned table (no rows of its own); `partition`: a leaf or branch. */
  readonly kind: 'table' | 'partitioned' | 'partition';
  /** For a partition: its top-level partitioned table. */
  readonly root?: TableName;
  /** UNLOGGED tables cannot be published: copied at set-up and re-copied at cutover. */
  readonly unlogged: boolean;
  /** UPDATE / DELETE can be published as it is (primary key, usable replica identity index, or FULL). */
  readonly identityOk: boolean;
}

/** SQL expression: the top-level partitioned table of the partition `oid` (works on 10+, before pg_partition_root). */
const PARTITION_ROOT_SQL = (oid: string) => `(WITH RECURSIVE up AS (
    SELECT i.inhparent AS parent FROM pg_catalog.pg_inherits i WHERE i.inhrelid = ${oid}
    UNION ALL SELECT i.inhparent FROM pg_catalog.pg_inherits i JOIN up ON i.inhrelid = up.parent)
  SELECT up.parent FROM up JOIN pg_catalog.pg_class k ON k.oid = up.parent WHERE k.relkind = 'p' AND NOT k.relispartition LIMIT 1)`;

/**
 * The tables of the database that the request selects (filters applied to a table's own name, or for a partition to
 * its root's), partitions included with their root.
 */
export async function selectedTables(client: pg.Client, request: Request, database: string): Promise<SourceTable[]> {
  const { rows } = await client.query<{
    schema: string;
    name: string;
    kind: SourceTable['kind'];
    root_schema: string | null;
    root_name: string | null;
    unlogged: boolean;
    identity_ok: boolean;
  }>(
    `SELECT n.nspname AS schema, c.relname AS name,
            CASE WHEN c.relispartition THEN 'partition' WHEN c.relkind = 'p' THEN 'partitioned' ELSE 'table' END AS kind,
            rn.nspname AS root_schema, r.relname AS root_name, c.relpersistence = 'u' AS unlogged,
            CASE c.relreplident
              WHEN 'f' THEN true
              WHEN 'n' THEN false
              WHEN 'i' THEN EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid AND i.indisreplident)
              ELSE EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid AND i.indisprimary)
            END AS identity_ok
       FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_catalog.pg_class r ON c.relispartition AND r.oid = ${PARTITION_ROOT_SQL('c.oid')}
       LEFT JOIN pg_catalog.pg_namespace rn ON rn.oid = r.relnamespace
      WHERE c.relkind IN ('r', 'p') AND c.relpersistence IN ('p', 'u')
        AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'
        AND n.nspname NOT LIKE 'pg\\_temp\\_%'
        AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                         WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = c.oid AND d.deptype = 'e')
      ORDER BY 1, 2`,
  );
  const { withTables, skipTables } = tableFiltersFor(request, database);
  const matches = (list: readonly { schema: string; table: string }[], t: TableName) =>
    list.some((f) => f.schema === t.schema && f.table === t.name);
  const tables: SourceTable[] = rows.map((t) => ({
    schema: t.schema,
    name: t.name,
    kind: t.kind,
    ...(t.root_schema !== null && t.root_name !== null ? { root: { schema: t.root_schema, name: t.root_name } } : {}),
    unlogged: t.unlogged,
    identityOk: t.identity_ok,
  }));
  const selected = (t: TableName) => (withTables.length === 0 || matches(withTables, t)) && !matches(skipTables, t);
  return tables.filter((t) => selected(t.root ?? t));
}

/**
 * What the publication lists: from PostgreSQL 13 ordinary tables and partitioned roots (a root publishes its
 * partitions); before 13 a partitioned table cannot be listed, so its partitions are. UNLOGGED tables are left out
 * (they cannot be published). Pure; exported for tests.
 */
export function publicationTables(tables: readonly SourceTable[], sourceVersionNum: number): SourceTable[] {
  const viaRoot = sourceVersionNum >= 130000;
  return tables.filter((t) => !t.unlogged && (viaRoot ? t.kind !== 'partition' : t.kind !== 'partitioned'));
}

/**
 * The tables whose UPDATEs and DELETEs the publication carries, so whose replica identity matters: ordinary tables
 * and partitions, whichever table the publication lists (a partitioned root has no rows; its partitions are
 * published). Pure; exported for tests.
 */
export function identityTables(tables: readonly SourceTable[]): SourceTable[] {
  return tables.filter((t) => !t.unlogged && t.kind !== 'partitioned');
}

/** Whether the plan (or the request's consent) allows REPLICA IDENTITY FULL on `table` (a partition: or its root). */
export function identityFullAllowed(
  request: Request,
  database: PlannedDatabase,
  table: TableName & { readonly root?: TableName },
): boolean {
  const named = (t: TableName) => database.replicaIdentityFull.includes(`${t.schema}.${t.name}`);
  return request.replicaIdentityFull || named(table) || (table.root !== undefined && named(table.root));
}

/** The subscription of a database as the target sees it. */
export interface SubscriptionState {
  readonly oid: number;
  readonly enabled: boolean;
  readonly slot: string | null;
  readonly tables: number;
  readonly ready: number;
  /** The apply worker (not a tablesync worker) is running. */
  readonly applyRunning: boolean;
}

export async function readSubscription(
  client: pg.Client,
  names: ReplicationNames,
): Promise<SubscriptionState | undefined> {
  const { rows } = await client.query<{
    oid: number;
    enabled: boolean;
    slot: string | null;
    tables: number;
    ready: number;
    apply: boolean;
  }>(
    `SELECT s.oid::int AS oid, s.subenabled AS enabled, s.subslotname AS slot,
            (SELECT count(*)::int FROM pg_catalog.pg_subscription_rel r WHERE r.srsubid = s.oid) AS tables,
            (SELECT count(*)::int FROM pg_catalog.pg_subscription_rel r WHERE r.srsubid = s.oid AND r.srsubstate = 'r') AS ready,
            EXISTS (SELECT 1 FROM pg_catalog.pg_stat_subscription w
                     WHERE w.subid = s.oid AND w.relid IS NULL AND w.pid IS NOT NULL) AS apply
       FROM pg_catalog.pg_subscription s
      WHERE s.subname = $1 AND s.subdbid = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())`,
    [names.subscription],
  );
  const row = rows[0];
  if (!row) return undefined;
  return {
    oid: row.oid,
    enabled: row.enabled,
    slot: row.slot,
    tables: row.tables,
    ready: row.ready,
    applyRunning: row.apply,
  };
}

/** A replication slot as the source sees it. */
export interface SlotState {
  readonly name: string;
  readonly database: string | null;
  readonly active: boolean;
  readonly confirmedFlushLsn: string | null;
  /** Source WAL position minus the slot's confirmed_flush_lsn, bytes (undefined before the first confirmation). */
  readonly lagBytes: number | undefined;
}

export async function readSlot(client: pg.Client, slot: string): Promise<SlotState | undefined> {
  const { rows } = await client.query<{
    name: string;
    database: string | null;
    active: boolean;
    lsn: string | null;
    lag: string | null;
  }>(
    `SELECT slot_name AS name, database, active, confirmed_flush_lsn::text AS lsn,
            pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), confirmed_flush_lsn)::bigint::text AS lag
       FROM pg_catalog.pg_replication_slots WHERE slot_name = $1`,
    [slot],
  );
  const row = rows[0];
  if (!row) return undefined;
  return {
    name: row.name,
    database: row.database,
    active: row.active,
    confirmedFlushLsn: row.lsn,
    lagBytes: row.lag === null ? undefined : Math.max(0, Number(row.lag)),
  };
}

/** Whether a publication exists in the connected database, with its comment. */
export async function readPublication(
  client: pg.Client,
  publication: string,
): Promise<{ readonly comment: string | null } | undefined> {
  const { rows } = await client.query<{ comment: string | null }>(
    `SELECT pg_catalog.obj_description(p.oid, 'pg_publication') AS comment
       FROM pg_catalog.pg_publication p WHERE p.pubname = $1`,
    [publication],
  );
  return rows[0];
}
