/**
 * The SQL of the replication method, as data: pure builders tested for exact text (commands as data). Identifiers
 * go through quoteIdent, values are parameters where the statement allows them and literals (quoteLiteral) only in
 * DDL that cannot take parameters.
 */
import { type ConnectionSpec, qualifiedName, quoteIdent, quoteLiteral, type SslMode } from '../../connection.js';
import { isWarningKind, type Warning } from '../../warnings.js';

/** A statement with its parameters. */
export interface SqlCommand {
  readonly text: string;
  readonly values: readonly unknown[];
}

/** A table by schema and name (exact, unquoted). */
export interface TableName {
  readonly schema: string;
  readonly name: string;
}

/** What our publications publish: every DML kind (TRUNCATE included, so a truncate on the source is not lost). */
export const PUBLISH_OPERATIONS = 'insert, update, delete, truncate';

/** {@link PUBLISH_OPERATIONS} as a source of `versionNum` accepts it (TRUNCATE is published from PostgreSQL 11). */
export function publishOperations(versionNum: number): string {
  return versionNum >= 110000 ? PUBLISH_OPERATIONS : 'insert, update, delete';
}

/**
 * `CREATE PUBLICATION` without tables: tables are added after their replica identity is safe. `versionNum`: the
 * source's server_version_num (before 11 without TRUNCATE).
 */
export function createPublicationSql(publication: string, versionNum = 110000): string {
  return `CREATE PUBLICATION ${quoteIdent(publication)} WITH (publish = ${quoteLiteral(publishOperations(versionNum))})`;
}

/** `CREATE PUBLICATION … FOR ALL TABLES` (superuser). Not used by default: see docs/REPLICATION.md. */
export function createPublicationForAllTablesSql(publication: string): string {
  return `CREATE PUBLICATION ${quoteIdent(publication)} FOR ALL TABLES WITH (publish = ${quoteLiteral(PUBLISH_OPERATIONS)})`;
}

/** `ALTER PUBLICATION … ADD TABLE a, b`; undefined for an empty list. */
export function addTablesToPublicationSql(publication: string, tables: readonly TableName[]): string | undefined {
  if (tables.length === 0) return undefined;
  return `ALTER PUBLICATION ${quoteIdent(publication)} ADD TABLE ${tables.map((t) => qualifiedName(t.schema, t.name)).join(', ')}`;
}

/** Records what pg-migrate changed on the source (the tables it set to REPLICA IDENTITY FULL) on the publication. */
export function commentOnPublicationSql(publication: string, note: PublicationNote): string {
  return `COMMENT ON PUBLICATION ${quoteIdent(publication)} IS ${quoteLiteral(formatPublicationNote(note))}`;
}

export function dropPublicationSql(publication: string): string {
  return `DROP PUBLICATION IF EXISTS ${quoteIdent(publication)}`;
}

/** What the publication's comment records, so that cutover and abort revert exactly what set-up changed. */
export interface PublicationNote {
  /** Tables set to REPLICA IDENTITY FULL by pg-migrate (their identity was DEFAULT without a primary key). */
  readonly replicaIdentityFull: readonly TableName[];
  /** The set-up's warnings (owners, grants, …), so that a re-run and cutover still report them. */
  readonly warnings?: readonly Warning[];
}

const NOTE_PREFIX = 'pg-migrate ';

export function formatPublicationNote(note: PublicationNote): string {
  return `${NOTE_PREFIX}${JSON.stringify({
    replicaIdentityFull: note.replicaIdentityFull.map((t) => [t.schema, t.name]),
    ...(note.warnings && note.warnings.length > 0
      ? { warnings: note.warnings.map((w) => ({ kind: w.kind, message: w.message })) }
      : {}),
  })}`;
}

/** Reads a publication comment written by {@link formatPublicationNote}; anything else gives an empty note. */
export function parsePublicationNote(comment: string | null | undefined): PublicationNote {
  if (!comment?.startsWith(NOTE_PREFIX)) return { replicaIdentityFull: [] };
  try {
    const parsed = JSON.parse(comment.slice(NOTE_PREFIX.length)) as {
      replicaIdentityFull?: unknown;
      warnings?: unknown;
    };
    const list = Array.isArray(parsed.replicaIdentityFull) ? parsed.replicaIdentityFull : [];
    const warnings = (Array.isArray(parsed.warnings) ? (parsed.warnings as unknown[]) : []).flatMap((w) => {
      const { kind, message } = (w ?? {}) as { kind?: unknown; message?: unknown };
      return isWarningKind(kind) && typeof message === 'string' ? [{ kind, message }] : [];
    });
    return {
      ...(warnings.length > 0 ? { warnings } : {}),
      replicaIdentityFull: list
        .filter(
          (e): e is [string, string] => Array.isArray(e) && e.length === 2 && e.every((p) => typeof p === 'string'),
        )
        .map(([schema, name]) => ({ schema, name })),
    };
  } catch {
    return { replicaIdentityFull: [] };
  }
}

export function replicaIdentitySql(table: TableName, identity: 'FULL' | 'DEFAULT'): string {
  return `ALTER TABLE ${qualifiedName(table.schema, table.name)} REPLICA IDENTITY ${identity}`;
}

/**
 * The replication-protocol command creating the logical slot with an exported snapshot: the `(SNAPSHOT 'export')`
 * option list on 15+, the `EXPORT_SNAPSHOT` keyword on 14 and older. Slot names are `[a-z0-9_]` (checked).
 */
export function createReplicationSlotCommand(slot: string, serverVersionNum: number): string {
  if (!/^[a-z0-9_]{1,63}$/.test(slot)) throw new Error(`invalid slot name ${JSON.stringify(slot)}`);
  return serverVersionNum >= 150000
    ? `CREATE_REPLICATION_SLOT ${slot} LOGICAL pgoutput (SNAPSHOT 'export')`
    : `CREATE_REPLICATION_SLOT ${slot} LOGICAL pgoutput EXPORT_SNAPSHOT`;
}

/** Terminates the walsender holding the slot, if any (a dropped slot must not be active). */
export function terminateSlotHolderSql(slot: string): SqlCommand {
  return {
    text: 'SELECT pg_catalog.pg_terminate_backend(active_pid) FROM pg_catalog.pg_replication_slots WHERE slot_name = $1 AND active_pid IS NOT NULL',
    values: [slot],
  };
}

/** Drops the slot when it exists and is inactive; returns one row when it was dropped. */
export function dropSlotSql(slot: string): SqlCommand {
  return {
    text: 'SELECT pg_catalog.pg_drop_replication_slot(slot_name) FROM pg_catalog.pg_replication_slots WHERE slot_name = $1 AND NOT active',
    values: [slot],
  };
}

function conninfoValue(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/**
 * The TLS settings of the subscription's connection (target server → source), in the target server's terms: a
 * local file path means nothing there, so only what the request names for the subscription is used (see
 * {@link subscriptionTls} in subscriber.ts).
 */
export interface SubscriptionTls {
  readonly sslmode: SslMode;
  /** A path on the target server, or `system` (libpq 16+). */
  readonly sslrootcert?: string;
  readonly channelBinding?: 'require';
}

/**
 * The libpq key=value string the target's subscription uses to reach the source (password included: it lives only
 * in the target's pg_subscription catalog; never log it). `login` replaces the source user (the per-run role).
 */
export function subscriptionConninfo(
  spec: ConnectionSpec,
  database: string,
  tls: SubscriptionTls,
  login: { readonly user: string; readonly password?: string } = spec,
): string {
  const parts: [string, string][] = [
    ['host', spec.host],
    ['port', String(spec.port)],
    ['user', login.user],
    ['dbname', database],
    ['sslmode', tls.sslmode],
    ['application_name', 'pg-migrate-subscription'],
  ];
  if (tls.sslrootcert !== undefined) parts.push(['sslrootcert', tls.sslrootcert]);
  if (tls.channelBinding !== undefined) parts.push(['channel_binding', tls.channelBinding]);
  if (login.password !== undefined) parts.push(['password', login.password]);
  return parts.map(([k, v]) => `${k}=${conninfoValue(v)}`).join(' ');
}

export interface SubscriptionOptions {
  readonly subscription: string;
  readonly publication: string;
  readonly slot: string;
  readonly conninfo: string;
  /** true: the target copies every table itself (tablesync); false: the data is there already (fast start). */
  readonly copyData: boolean;
}

/**
 * `CREATE SUBSCRIPTION` from an existing slot. DDL cannot take parameters, so the conninfo is a literal:
 * `conninfoLiteral` replaces it (the setup passes the placeholder of core/secret-statements.ts' runWithSecret, which
 * binds the conninfo as a parameter instead); never log the text.
 */
export function createSubscriptionSql(
  options: SubscriptionOptions,
  conninfoLiteral: string = quoteLiteral(options.conninfo),
): string {
  return (
    `CREATE SUBSCRIPTION ${quoteIdent(options.subscription)} CONNECTION ${conninfoLiteral} ` +
    `PUBLICATION ${quoteIdent(options.publication)} WITH (create_slot = false, slot_name = ${quoteLiteral(options.slot)}, ` +
    `copy_data = ${options.copyData ? 'true' : 'false'}, enabled = true)`
  );
}

/**
 * `ALTER SUBSCRIPTION … CONNECTION` (the source credentials rotated): `conninfoLiteral` is the placeholder of
 * core/secret-statements.ts' runWithSecret, which binds the conninfo as a parameter; never log the text.
 */
export function alterSubscriptionConnectionSql(subscription: string, conninfoLiteral: string): string {
  return `ALTER SUBSCRIPTION ${quoteIdent(subscription)} CONNECTION ${conninfoLiteral}`;
}

/** Drops a subscription without touching the source (the slot is dropped separately, on the source). */
export function dropSubscriptionSql(subscription: string): string[] {
  const name = quoteIdent(subscription);
  return [
    `ALTER SUBSCRIPTION ${name} DISABLE`,
    `ALTER SUBSCRIPTION ${name} SET (slot_name = NONE)`,
    `DROP SUBSCRIPTION IF EXISTS ${name}`,
  ];
}

// --- aiven_extras: the same objects for a non-superuser, through the extension's SECURITY DEFINER functions ---

/** `aiven_extras.pg_create_publication` without tables (they are added with ALTER PUBLICATION by the owner). */
export function aivenCreatePublicationSql(publication: string, tables: readonly TableName[] = []): SqlCommand {
  return {
    text: 'SELECT aiven_extras.pg_create_publication($1, $2, VARIADIC $3::pg_catalog.text[])',
    values: [publication, PUBLISH_OPERATIONS.replace(/ /g, ''), tables.map((t) => qualifiedName(t.schema, t.name))],
  };
}

export function aivenCreatePublicationForAllTablesSql(publication: string): SqlCommand {
  return {
    text: 'SELECT aiven_extras.pg_create_publication_for_all_tables($1, $2)',
    values: [publication, PUBLISH_OPERATIONS.replace(/ /g, '')],
  };
}

/**
 * `aiven_extras.pg_create_subscription` (named arguments: the extension's parameter order differs between
 * releases' documentation). The conninfo is a parameter, so it appears in no statement text.
 */
export function aivenCreateSubscriptionSql(
  options: SubscriptionOptions & { readonly createSlot: boolean },
): SqlCommand {
  return {
    text:
      'SELECT aiven_extras.pg_create_subscription(arg_subscription_name => $1, arg_connection_string => $2, ' +
      'arg_publication_name => $3, arg_slot_name => $4, arg_slot_create => $5, arg_copy_data => $6)',
    values: [
      options.subscription,
      options.conninfo,
      options.publication,
      options.slot,
      options.createSlot,
      options.copyData,
    ],
  };
}

/** `aiven_extras.pg_drop_subscription`: disables, detaches the slot, drops the subscription, drops the slot. */
export function aivenDropSubscriptionSql(subscription: string): SqlCommand {
  return { text: 'SELECT aiven_extras.pg_drop_subscription($1)', values: [subscription] };
}
