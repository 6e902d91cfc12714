/**
 * What the replication steps read from the servers: the source user's powers, the tables to publish, and the
 * state of a database's subscription and slot.
 */
import type pg from 'pg';
import { filterTables, readDatabaseAccess, readUserTables } from '../../catalog.js';
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
  /**
   * aiven_extras is installed in the connected database and the user may use it (USAGE on its schema, EXECUTE on
   * its functions: core/catalog.ts `readDatabaseAccess`, what the replication-preconditions check predicts).
   */
  readonly aivenExtras: boolean;
  /** aiven_extras is installed (usable or not). */
  readonly aivenExtrasInstalled: boolean;
  /** aiven_extras could be created here by this user: available, on pgextwlist's allow-list, not installed. */
  readonly aivenExtrasInstallable: boolean;
  /** May create subscriptions natively without superuser: pg_create_subscription (16+) and CREATE on the database. */
  readonly nativeSubscription: boolean;
}

export async function readPowers(client: pg.Client): Promise<ServerPowers> {
  const { rows } = await client.query<{ v: number; su: boolean; repl: boolean; installable: boolean; sub: boolean }>(
    `SELECT current_setting('server_version_num')::int AS v, r.rolsuper AS su, r.rolsuper OR r.rolreplication OR EXISTS (
              SELECT 1 FROM pg_catalog.pg_roles g
               WHERE g.rolname = 'rds_replication' AND pg_catalog.pg_has_role(r.oid, g.oid, 'member')) AS repl,
            NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'aiven_extras')
              AND EXISTS (SELECT 1 FROM pg_catalog.pg_available_extensions WHERE name = 'aiven_extras')
              AND 'aiven_extras' = ANY (pg_catalog.string_to_array(pg_catalog.replace(
                    coalesce(current_setting('extwlist.extensions', true), ''), ' ', ''), ',')) AS installable,
            current_setting('server_version_num')::int >= 160000
              AND EXISTS (SELECT 1 FROM pg_catalog.pg_roles g
                           WHERE g.rolname = 'pg_create_subscription' AND pg_catalog.pg_has_role(r.oid, g.oid, 'USAGE'))
              AND pg_catalog.has_database_privilege(current_database(), 'CREATE') AS sub
       FROM pg_catalog.pg_roles r WHERE r.rolname = current_user`,
  );
  const row = rows[0];
  if (!row) throw new Error('cannot read the current role');
  const access = await readDatabaseAccess(client);
  return {
    versionNum: row.v,
    superuser: row.su,
    replication: row.repl,
    aivenExtras: access.aivenExtrasUsable,
    aivenExtrasInstalled: access.aivenExtrasInstalled,
    aivenExtrasInstallable: row.installable,
    nativeSubscription: row.su || row.sub,
  };
}

/**
 * Creates aiven_extras in the connected database through the allow-list when the user needs it and may
 * (`aivenExtrasInstallable`), as aiven-db-migrate does; returns the powers read again.
 */
export async function ensureAivenExtras(client: pg.Client, powers: ServerPowers): Promise<ServerPowers> {
  if (powers.superuser || powers.aivenExtras || !powers.aivenExtrasInstallable) return powers;
  await client.query('CREATE EXTENSION IF NOT EXISTS aiven_extras');
  return readPowers(client);
}

/** A user table of the source, with what replication needs to know about it. */
export interface SourceTable extends TableName {
  /** `table`: not partitioned; `partitioned`: a partitioned table (no rows of its own); `partition`: a leaf or branch. */
  readonly kind: 'table' | 'partitioned' | 'partition';
  /** For a partition: its top-level partitioned table. */
  readonly root?: TableName;
  /** UNLOGGED tables cannot be published: copied at set-up and re-copied at cutover. */
  readonly unlogged: boolean;
  /** The source user has the owner's privileges (it may add the table to its publication natively). */
  readonly owned: boolean;
  /** UPDATE / DELETE can be published as it is (primary key, usable replica identity index, or FULL). */
  readonly identityOk: boolean;
}

/**
 * The tables of the database that the request selects (core/catalog.ts `readUserTables` and `filterTables`: the
 * filters applied to a table's own name, or for a partition to its root's), partitions included with their root.
 */
export async function selectedTables(client: pg.Client, request: Request, database: string): Promise<SourceTable[]> {
  const tables = filterTables(await readUserTables(client), tableFiltersFor(request, database));
  return tables.map((t) => ({
    schema: t.schema,
    name: t.name,
    kind: t.kind,
    ...(t.root ? { root: t.root } : {}),
    unlogged: t.unlogged,
    owned: t.owned,
    identityOk: t.identityOk,
  }));
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
