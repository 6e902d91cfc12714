/**
 * Dropping what set-up created, for one database: the subscription (target), the slots (source: ours and the
 * tablesync slots of our subscription), the publication (source), the REPLICA IDENTITY changes recorded on the
 * publication, and the subscription's per-run role (source). Idempotent; each part is tried even when another failed, and the failures are returned.
 */
import type pg from 'pg';
import { connect, withClient } from '../../connection.js';
import type { RunContext } from '../../context.js';
import { describeError, TransientError } from '../../errors.js';
import { readPublication } from './catalog.js';
import { dropSubscriptionRole, forgetSourceLogin } from './login.js';
import { type ReplicationNames, subscriptionRoleName } from './names.js';
import {
  aivenDropSubscriptionSql,
  dropPublicationSql,
  dropSlotSql,
  dropSubscriptionSql,
  type PublicationNote,
  parsePublicationNote,
  replicaIdentitySql,
  type TableName,
  terminateSlotHolderSql,
} from './sql.js';
import { pollUntil } from './wait.js';

/** What {@link dropReplicationObjects} did. */
export interface DropOutcome {
  readonly dropped: string[];
  readonly reverted: TableName[];
  readonly problems: string[];
}

async function databaseExists(spec: RunContext['target'], database: string): Promise<boolean> {
  return withClient(spec, spec.database, async (client) => {
    const { rows } = await client.query('SELECT 1 FROM pg_catalog.pg_database WHERE datname = $1', [database]);
    return rows.length > 0;
  });
}

/** Drops the subscription of `names` in the target database; returns its oid when there was one. */
async function dropSubscription(
  ctx: RunContext,
  database: string,
  names: ReplicationNames,
  outcome: DropOutcome,
): Promise<number | undefined> {
  if (!(await databaseExists(ctx.target, database))) return undefined;
  return withClient(ctx.target, database, async (client) => {
    // A subscription the user owns (or any, as superuser) is dropped natively; one aiven_extras created belongs to
    // the extension's superuser and is dropped through it.
    const { rows } = await client.query<{ oid: number; su: boolean; aiven: boolean }>(
      `SELECT s.oid::int AS oid,
              (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user)
                OR pg_catalog.pg_has_role(s.subowner, 'USAGE') AS su,
              EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'aiven_extras') AS aiven
         FROM pg_catalog.pg_subscription s
        WHERE s.subname = $1 AND s.subdbid = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())`,
      [names.subscription],
    );
    const row = rows[0];
    // The fallback's fingerprint of the source login goes with the subscription it describes.
    await forgetSourceLogin(client);
    if (!row) return undefined;
    if (!row.su && row.aiven) {
      const command = aivenDropSubscriptionSql(names.subscription);
      await client.query(command.text, [...command.values]);
    } else {
      for (const statement of dropSubscriptionSql(names.subscription)) await client.query(statement);
    }
    outcome.dropped.push(`subscription ${names.subscription}`);
    return row.oid;
  });
}

/** Drops a slot on the source, terminating the walsender that holds it (a dying apply worker may hold it briefly). */
export async function dropSlot(client: pg.Client, slot: string): Promise<boolean> {
  const exists = async () =>
    (await client.query('SELECT 1 FROM pg_catalog.pg_replication_slots WHERE slot_name = $1', [slot])).rows.length > 0;
  if (!(await exists())) return false;
  await pollUntil(
    async () => {
      const terminate = terminateSlotHolderSql(slot);
      await client.query(terminate.text, [...terminate.values]);
      const drop = dropSlotSql(slot);
      await client.query(drop.text, [...drop.values]);
      return !(await exists());
    },
    { timeoutMs: 30_000, intervalMs: 200 },
  ).catch((err: unknown) => {
    throw new TransientError(`replication slot ${slot} is still in use: ${describeError(err)}`);
  });
  return true;
}

async function dropSlots(
  ctx: RunContext,
  names: ReplicationNames,
  subscriptionOid: number | undefined,
  outcome: DropOutcome,
): Promise<void> {
  await withClient(ctx.source, ctx.source.database, async (client) => {
    const { rows } = await client.query<{ slot: string }>(
      `SELECT slot_name AS slot FROM pg_catalog.pg_replication_slots
        WHERE slot_name = $1 OR ($2::int IS NOT NULL AND slot_name LIKE 'pg\\_' || $2::int || '\\_sync\\_%')`,
      [names.slot, subscriptionOid ?? null],
    );
    for (const { slot } of rows) {
      if (await dropSlot(client, slot)) outcome.dropped.push(`slot ${slot}`);
    }
  });
}

/** The note on the database's publication (empty when there is none). */
export async function readNote(ctx: RunContext, database: string, names: ReplicationNames): Promise<PublicationNote> {
  if (!(await databaseExists(ctx.source, database))) return { replicaIdentityFull: [] };
  const publication = await withClient(ctx.source, database, (client) => readPublication(client, names.publication));
  return parsePublicationNote(publication?.comment);
}

/** Reverts REPLICA IDENTITY FULL on the tables the note lists (only those still FULL). */
async function revertIdentity(client: pg.Client, tables: readonly TableName[], outcome: DropOutcome): Promise<void> {
  for (const table of tables) {
    const { rows } = await client.query(
      `SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relname = $2 AND c.relreplident = 'f'`,
      [table.schema, table.name],
    );
    if (rows.length === 0) continue;
    await client.query(replicaIdentitySql(table, 'DEFAULT'));
    outcome.reverted.push(table);
  }
}

/**
 * Drops the publication, then reverts the replica identity changes recorded on it (in this order: a table without
 * a key must never be published with identity DEFAULT, or the source would reject its UPDATEs and DELETEs).
 */
async function dropPublication(
  ctx: RunContext,
  database: string,
  names: ReplicationNames,
  outcome: DropOutcome,
): Promise<void> {
  if (!(await databaseExists(ctx.source, database))) return;
  const client = await connect(ctx.source, database, { lockTimeoutMs: 30_000 });
  try {
    const publication = await readPublication(client, names.publication);
    if (!publication) return;
    const note = parsePublicationNote(publication.comment);
    await client.query(dropPublicationSql(names.publication));
    outcome.dropped.push(`publication ${names.publication}`);
    try {
      await revertIdentity(client, note.replicaIdentityFull, outcome);
    } catch (err) {
      const list = note.replicaIdentityFull.map((t) => `${t.schema}.${t.name}`).join(', ');
      throw new Error(
        `could not revert REPLICA IDENTITY FULL (${describeError(err)}); revert by hand: ALTER TABLE … REPLICA IDENTITY DEFAULT on ${list}`,
      );
    }
  } finally {
    await client.end().catch(() => {});
  }
}

/** Drops every replication object of one database, on both sides. Never throws: problems are returned. */
export async function dropReplicationObjects(
  ctx: RunContext,
  database: string,
  names: ReplicationNames,
): Promise<DropOutcome> {
  const outcome: DropOutcome = { dropped: [], reverted: [], problems: [] };
  let oid: number | undefined;
  try {
    oid = await dropSubscription(ctx, database, names, outcome);
  } catch (err) {
    outcome.problems.push(`subscription ${names.subscription} on the target: ${describeError(err)}`);
  }
  try {
    await dropSlots(ctx, names, oid, outcome);
  } catch (err) {
    outcome.problems.push(`slot ${names.slot} on the source: ${describeError(err)}`);
  }
  try {
    await dropPublication(ctx, database, names, outcome);
  } catch (err) {
    outcome.problems.push(`publication ${names.publication} on the source: ${describeError(err)}`);
  }
  // The subscription's per-run role goes with the subscription that used it (core/steps/replication/login.ts).
  try {
    if (await dropSubscriptionRole(ctx, database)) outcome.dropped.push(`role ${subscriptionRoleName(database)}`);
  } catch (err) {
    outcome.problems.push(`role ${subscriptionRoleName(database)} on the source: ${describeError(err)}`);
  }
  if (outcome.dropped.length > 0 || outcome.reverted.length > 0) {
    ctx.logger.info('dropped replication objects', {
      database,
      dropped: outcome.dropped,
      reverted: outcome.reverted.map((t) => `${t.schema}.${t.name}`),
    });
  }
  for (const problem of outcome.problems) ctx.logger.warn('replication clean-up incomplete', { database, problem });
  return outcome;
}
