/**
 * Replication set-up for one database (`migrate --method replication`):
 *
 * ensure target database → pre-data → publication (empty, with a note of what we change) → REPLICA IDENTITY FULL
 * where consented → tables added to the publication → slot → data → post-data → subscription → wait until in sync.
 *
 * Fast consistent start (the source user has REPLICATION): the slot is created over a replication connection with
 * an exported snapshot; the parallel COPY engine reads under that snapshot while the connection stays open; the
 * subscription then starts from the slot with `copy_data = false`, so it applies exactly the changes after the
 * snapshot. Otherwise the subscription copies the tables itself (`copy_data = true`).
 *
 * Any failure after the first object exists drops every object of the database again (an orphaned slot keeps WAL
 * on the source until its disk is full). A re-run reuses a complete set of objects and recreates a partial one.
 */
import type pg from 'pg';
import { connect, qualifiedName, withClient } from '../../connection.js';
import { quietSession, runWithSecret } from '../../secret-statements.js';
import type { RunContext } from '../../context.js';
import { BlockedError, classify, describeError, PermanentError } from '../../errors.js';
import type { PlannedDatabase } from '../../plan.js';
import type { DatabaseResult } from '../../report.js';
import type { Request } from '../../request.js';
import { WarningList } from '../../warnings.js';
import { assertMarked, markDatabase } from '../progress.js';
import {
  ensureAivenExtras,
  identityFullAllowed,
  identityTables,
  publicationTables,
  readPowers,
  type ServerPowers,
  type SourceTable,
  selectedTables,
} from './catalog.js';
import { type ReplicationNames, replicationNames } from './names.js';
import { handOverDatabase } from '../schema.js';
import { prepareSubscriptionLogin, recordSourceLogin, type SubscriptionLogin } from './login.js';
import { dropReplicationObjects, readNote } from './objects.js';
import {
  addTablesToPublicationSql,
  aivenCreatePublicationSql,
  aivenCreateSubscriptionSql,
  commentOnPublicationSql,
  createPublicationSql,
  createReplicationSlotCommand,
  createSubscriptionSql,
  replicaIdentitySql,
  subscriptionConninfo,
  type TableName,
} from './sql.js';
import { describeSyncState, readSyncState, waitForSync } from './status.js';
import { subscriptionTls } from './subscriber.js';
import { type CopySummary, type ReplicationSteps, resolveSteps } from './steps.js';

/** How set-up starts the data. */
export type StartMode = 'auto' | 'copy-data';

export interface ReplicationOptions {
  /** Replace dump-engine steps (tests). */
  readonly steps?: Partial<ReplicationSteps>;
  /** `auto`: fast consistent start when the source user may, else copy_data = true. @default 'auto' */
  readonly start?: StartMode;
  /** How long set-up waits for sync before returning `replicating` (not in sync yet). @default request.timeoutSeconds */
  readonly syncTimeoutMs?: number;
}

/** SQLSTATEs meaning "this session may not open a replication connection / create the slot this way". */
const NO_REPLICATION_CONNECTION = new Set(['42501', '28000', '08P01', '0A000']);

function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string'
    ? err.code
    : undefined;
}

const qualified = (t: TableName) => `${t.schema}.${t.name}`;

/**
 * Creates the publication with its note, sets REPLICA IDENTITY FULL, then adds the tables. Natively the user adds
 * tables it owns; through aiven_extras (a non-superuser that cannot own every table) the extension's SECURITY
 * DEFINER function creates the publication with the tables and hands it to the user, who then adds the consented
 * REPLICA IDENTITY FULL tables itself (it must own those: the check makes sure).
 */
async function createPublication(
  client: pg.Client,
  names: ReplicationNames,
  powers: ServerPowers,
  published: readonly SourceTable[],
  identityFull: readonly TableName[],
): Promise<void> {
  const full = new Set(identityFull.map(qualified));
  const viaAiven = !powers.superuser && powers.aivenExtras && published.some((t) => !t.owned);
  if (viaAiven) {
    const command = aivenCreatePublicationSql(
      names.publication,
      published.filter((t) => !full.has(qualified(t))),
    );
    await client.query(command.text, [...command.values]);
  } else {
    await client.query(createPublicationSql(names.publication, powers.versionNum));
  }
  await client.query(commentOnPublicationSql(names.publication, { replicaIdentityFull: identityFull }));
  for (const table of identityFull) await client.query(replicaIdentitySql(table, 'FULL'));
  const add = addTablesToPublicationSql(names.publication, viaAiven ? identityFull : published);
  if (add) await client.query(add);
}

/**
 * Empties the target tables the data goes into (a re-run must not duplicate rows) — only in a database pg-migrate
 * created or marked ({@link markDatabase}); anything else is refused.
 */
async function emptyTargetTables(ctx: RunContext, database: string, tables: readonly TableName[]): Promise<void> {
  if (tables.length === 0) return;
  await withClient(ctx.target, database, async (client) => {
    await assertMarked(client, database);
    const { rows } = await client.query<{ schema: string; name: string }>(
      `SELECT n.nspname AS schema, c.relname AS name FROM pg_catalog.pg_class c
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p')
          AND (n.nspname, c.relname) IN (SELECT * FROM ROWS FROM (pg_catalog.unnest($1::text[]), pg_catalog.unnest($2::text[])))`,
      [tables.map((t) => t.schema), tables.map((t) => t.name)],
    );
    if (rows.length === 0) return;
    await client.query(`TRUNCATE ${rows.map((t) => qualifiedName(t.schema, t.name)).join(', ')}`);
  });
}

/**
 * Creates the subscription on the target (natively, or through aiven_extras). The connection string, password
 * included, never enters statement text: it is a bound parameter (aiven_extras' function, or the pg_temp function of
 * core/secret-statements.ts), in a session with statement logging off where the user may.
 */
async function createSubscription(
  ctx: RunContext,
  request: Request,
  database: string,
  names: ReplicationNames,
  copyData: boolean,
  slotExists: boolean,
  login: SubscriptionLogin,
): Promise<void> {
  const tls = subscriptionTls(ctx.source, request);
  if (tls.weakened) ctx.logger.warn(tls.weakened, { database });
  const conninfo = subscriptionConninfo(ctx.source, database, tls, login);
  await withClient(ctx.target, database, async (client) => {
    let powers = await readPowers(client);
    // Neither superuser nor pg_create_subscription with CREATE here: aiven_extras, created now if it may be.
    if (!powers.nativeSubscription) powers = await ensureAivenExtras(client, powers);
    const options = {
      subscription: names.subscription,
      publication: names.publication,
      slot: names.slot,
      conninfo,
      copyData,
    };
    await quietSession(client);
    if (!powers.nativeSubscription && powers.aivenExtras) {
      const command = aivenCreateSubscriptionSql({ ...options, createSlot: !slotExists });
      await client.query(command.text, [...command.values]);
      return;
    }
    if (!slotExists) throw new PermanentError('internal: the native subscription path expects the slot to exist');
    await runWithSecret(client, (literal) => createSubscriptionSql(options, literal), conninfo);
  });
}

interface Started {
  readonly mode: 'snapshot' | 'copy-data';
  readonly copy: CopySummary;
}

/** Fast consistent start: slot with exported snapshot, COPY under it, post-data. undefined when not possible. */
async function fastStart(
  ctx: RunContext,
  request: Request,
  database: PlannedDatabase,
  names: ReplicationNames,
  powers: ServerPowers,
  steps: ReplicationSteps,
  warnings: WarningList,
): Promise<Started | undefined> {
  let replication: pg.Client;
  let snapshot: string;
  try {
    replication = await connect(ctx.source, database.name, {
      replication: true,
      applicationName: 'pg-migrate-slot',
      role: 'snapshot',
      connectTimeoutMs: request.connectTimeoutSeconds * 1000,
    });
  } catch (err) {
    if (!NO_REPLICATION_CONNECTION.has(errorCode(err) ?? '')) throw err;
    ctx.logger.warn('no replication connection to the source: the subscription copies the data itself', {
      database: database.name,
      reason: describeError(err),
    });
    return undefined;
  }
  try {
    try {
      const { rows } = await replication.query<{ snapshot_name: string | null }>(
        createReplicationSlotCommand(names.slot, powers.versionNum),
      );
      const name = rows[0]?.snapshot_name;
      if (!name) throw new PermanentError('the source created the slot but exported no snapshot');
      snapshot = name;
    } catch (err) {
      if (!NO_REPLICATION_CONNECTION.has(errorCode(err) ?? '')) throw err;
      ctx.logger.warn('cannot create the slot over a replication connection: the subscription copies the data', {
        database: database.name,
        reason: describeError(err),
      });
      return undefined;
    }
    ctx.logger.info('slot created with an exported snapshot; copying under it', { database: database.name });
    ctx.progress({ kind: 'phase', database: database.name, phase: 'copy', detail: 'under the slot snapshot' });
    // The snapshot lives as long as this connection stays idle: copy now, then close it.
    const copy = await steps.copyTables(ctx, request, database, { snapshot });
    await replication.end();
    await steps.restorePostData(ctx, request, database, warnings);
    return { mode: 'snapshot', copy };
  } finally {
    await replication.end().catch(() => {});
  }
}

function result(
  database: PlannedDatabase,
  started: number,
  fields: Partial<DatabaseResult> & Pick<DatabaseResult, 'message'>,
): DatabaseResult {
  return {
    name: database.name,
    method: 'replication',
    status: 'replicating',
    tables: 0,
    rows: 0,
    bytes: 0,
    lagBytes: 0,
    ...fields,
    durationMs: Date.now() - started,
  };
}

async function waitAndReport(
  ctx: RunContext,
  request: Request,
  database: PlannedDatabase,
  started: number,
  timeoutMs: number,
  prefix: string,
  warnings: WarningList,
  copy: CopySummary = { tables: 0, rows: 0, bytes: 0 },
): Promise<DatabaseResult> {
  ctx.progress({ kind: 'phase', database: database.name, phase: 'sync' });
  const { state, inSync } = await waitForSync(ctx, request, database.name, timeoutMs);
  const message = `${prefix}; ${inSync ? 'in sync' : `not yet in sync after ${Math.round(timeoutMs / 1000)} s`}: ${describeSyncState(state)}`;
  ctx.logger.info(message, { database: database.name });
  return result(database, started, {
    tables: state.subscription?.tables ?? copy.tables,
    rows: copy.rows,
    bytes: copy.bytes,
    lagBytes: state.slot?.lagBytes ?? 0,
    message,
    warnings: warnings.list(),
  });
}

/**
 * Sets up logical replication for one database and waits (bounded) until it is in sync.
 *
 * @returns status `replicating`; `message` says whether it reached sync within the wait.
 * @throws BlockedError (nothing created) when a published table has no usable replica identity and no consent;
 *   any other failure drops the database's replication objects first, then throws the classified error.
 * @example
 * ```ts
 * const result = await migrateByReplication(ctx, request, { name: 'shop', method: 'replication', reasons: [],
 *   replicaIdentityFull: [], targetExists: false });
 * ```
 */
export async function migrateByReplication(
  ctx: RunContext,
  request: Request,
  database: PlannedDatabase,
  options: ReplicationOptions = {},
): Promise<DatabaseResult> {
  const started = Date.now();
  const steps = resolveSteps(options.steps);
  const names = replicationNames(database.name);
  const db = database.name;
  const timeoutMs = options.syncTimeoutMs ?? request.timeoutSeconds * 1000;
  const warnings = new WarningList(ctx.logger, { database: db });

  // Re-run: reuse a complete set of objects, recreate a partial one.
  const targetHasDb = await withClient(ctx.target, ctx.target.database, async (client) => {
    const { rows } = await client.query('SELECT 1 FROM pg_catalog.pg_database WHERE datname = $1', [db]);
    return rows.length > 0;
  });
  if (targetHasDb) {
    const existing = await readSyncState(ctx, db);
    if (existing.subscription && existing.slot) {
      ctx.logger.info('replication is already set up: reusing it', { database: db });
      warnings.addAll((await readNote(ctx, db, names)).warnings);
      return waitAndReport(ctx, request, database, started, timeoutMs, 'replication already set up', warnings);
    }
  }
  const leftover = await dropReplicationObjects(ctx, db, names);
  if (leftover.problems.length > 0) {
    throw new PermanentError(`cannot remove the objects of an earlier attempt: ${leftover.problems.join('; ')}`);
  }

  let created = false;
  try {
    ctx.progress({ kind: 'phase', database: db, phase: 'schema' });
    await steps.ensureTargetDatabase(ctx, request, database, warnings);
    await markDatabase(ctx.target, db);
    await steps.restorePreData(ctx, request, database, warnings);

    const source = await connect(ctx.source, db, { lockTimeoutMs: 30_000 });
    let powers: ServerPowers;
    let tables: SourceTable[];
    let identityFull: SourceTable[];
    try {
      powers = await readPowers(source);
      tables = await selectedTables(source, request, db);
      const published = publicationTables(tables, powers.versionNum);
      // Tables of other owners can be published through aiven_extras only: create it now if it may be.
      if (published.some((t) => !t.owned)) powers = await ensureAivenExtras(source, powers);
      // Replica identity matters where the rows are: plain tables and partitions (a root has none of its own).
      const carriers = identityTables(tables);
      const blocked = carriers.filter((t) => !t.identityOk && !identityFullAllowed(request, database, t));
      if (blocked.length > 0) {
        throw new BlockedError(
          `${blocked.length} table(s) have no primary key or replica identity: ${blocked.map(qualified).join(', ')}. ` +
            'Publishing them would make the source reject their UPDATEs and DELETEs. Rerun with --replica-identity-full ' +
            '(sets REPLICA IDENTITY FULL until cutover), add primary keys, or use --method dump.',
        );
      }
      identityFull = carriers.filter((t) => !t.identityOk);
      created = true;
      await createPublication(source, names, powers, published, identityFull);
      ctx.logger.info('publication created', {
        database: db,
        tables: published.length,
        replicaIdentityFull: identityFull.map(qualified),
      });
    } finally {
      await source.end().catch(() => {});
    }

    await emptyTargetTables(ctx, db, tables);
    let start: Started | undefined;
    if (options.start !== 'copy-data' && powers.replication) {
      start = await fastStart(ctx, request, database, names, powers, steps, warnings);
    }
    const aivenSource = !powers.superuser && powers.aivenExtras && !powers.replication;
    if (!start) {
      // copy_data = true: the target's tablesync workers copy the published tables; we copy the rest (UNLOGGED).
      await steps.restorePostData(ctx, request, database, warnings);
      const unlogged = tables.filter((t) => t.unlogged);
      const copy =
        unlogged.length > 0
          ? await steps.copyTables(ctx, request, database, { tables: unlogged })
          : { tables: 0, rows: 0, bytes: 0 };
      if (!aivenSource) {
        await withClient(ctx.source, db, (client) =>
          client.query("SELECT pg_catalog.pg_create_logical_replication_slot($1, 'pgoutput')", [names.slot]),
        ).catch((err: unknown) => {
          if (errorCode(err) !== '42501') throw err;
          throw new PermanentError(
            `the source user may not create a replication slot (${describeError(err)}). Logical replication needs a ` +
              'source user with the REPLICATION attribute (ALTER ROLE … REPLICATION; on RDS / Aurora: GRANT ' +
              'rds_replication), or the aiven_extras extension; otherwise use --method dump.',
            { cause: err },
          );
        });
      }
      start = { mode: 'copy-data', copy };
    }
    ctx.progress({ kind: 'phase', database: db, phase: 'subscribe' });
    // The subscription's own login on the source (the per-run role), so the source user's password stays here.
    const login = await prepareSubscriptionLogin(
      ctx,
      db,
      { copyTables: start.mode === 'copy-data' ? tables.filter((t) => !t.unlogged && t.kind !== 'partitioned') : [] },
      warnings,
    );
    await createSubscription(ctx, request, db, names, start.mode === 'copy-data', !aivenSource, login);
    // The fallback's subscription holds the source password: status and cutover refresh it when it rotates.
    if (!login.perRun) await recordSourceLogin(ctx, db);
    await handOverDatabase(ctx, db, warnings);
    // The note keeps the set-up's warnings for a re-run and for cutover.
    if (warnings.list().length > 0) {
      await withClient(ctx.source, db, (client) =>
        client.query(
          commentOnPublicationSql(names.publication, { replicaIdentityFull: identityFull, warnings: warnings.list() }),
        ),
      );
    }
    ctx.logger.info('subscription created', { database: db, copyData: start.mode === 'copy-data' });
    return await waitAndReport(
      ctx,
      request,
      database,
      started,
      timeoutMs,
      start.mode === 'snapshot'
        ? 'fast start (slot snapshot, parallel COPY)'
        : 'subscription copies the data (copy_data = true)',
      warnings,
      start.copy,
    );
  } catch (err) {
    const error = classify(err, `replication set-up of ${JSON.stringify(db)}`);
    if (created) {
      const outcome = await dropReplicationObjects(ctx, db, names);
      if (outcome.problems.length > 0) {
        error.message += `; clean-up incomplete (run abort): ${outcome.problems.join('; ')}`;
      }
    }
    throw error;
  }
}
