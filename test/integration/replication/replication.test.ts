import { describe, expect, it } from 'vitest';
import {
  abortReplication,
  cutoverDatabase,
  discoverDatabases,
  migrateByReplication,
  replicationNames,
  replicationStatus,
  syncWait,
} from '../../../core/steps/replication/index.js';
import type { ProgressEvent } from '../../../core/logger.js';
import { useCluster } from '../../support/vitest.js';
import {
  fingerprint,
  LEDGER_DATA,
  LEDGER_DB,
  LEDGER_SCHEMA,
  leftovers,
  planned,
  replicationRequest,
  runContext,
  SHOP_DATA,
  SHOP_SCHEMA,
  Writer,
} from './support.js';

const source = useCluster({ version: 15 });
const target = useCluster({ version: 15 });

const identity = async (table: string) =>
  (
    await source().query<{ r: string }>(
      'SELECT relreplident AS r FROM pg_class WHERE oid = $1::regclass',
      [table],
      'shop',
    )
  )[0]?.r;

describe('replication 15 → 15 with a live writer', () => {
  it('replicates two databases while the source changes, then cuts over to an equal target with nothing left behind', async () => {
    await source().createDatabase('shop');
    await source().loadFixture('shop', SHOP_SCHEMA + SHOP_DATA);
    await source().createDatabase(LEDGER_DB);
    await source().loadFixture(LEDGER_DB, LEDGER_SCHEMA + LEDGER_DATA);
    const ctx = runContext(source(), target());
    const request = replicationRequest(source(), target(), { replicaIdentityFull: false });
    const shop = planned('shop', ['public.events']);
    const ledger = planned(LEDGER_DB);

    const writer = new Writer(source(), 'shop').start();
    await writer.advance(50);
    const results = [await migrateByReplication(ctx, request, shop), await migrateByReplication(ctx, request, ledger)];
    for (const result of results) {
      expect(result.status).toBe('replicating');
      expect(result.message).toMatch(/fast start.*; in sync/);
    }
    expect(await identity('public.events')).toBe('f');
    // A re-run of a complete set-up reuses it.
    const again = await migrateByReplication(ctx, request, shop);
    expect(again.message).toMatch(/^replication already set up; in sync/);

    // Replication carries the writer's changes while it keeps going; status and discovery see both databases.
    await writer.advance(300);
    const discovered = await discoverDatabases(ctx, request);
    expect(discovered.map((d) => d.name).sort()).toEqual([LEDGER_DB, 'shop'].sort());
    const status = await replicationStatus(ctx, request, discovered);
    expect(status.databases.map((d) => d.status)).toEqual(['replicating', 'replicating']);
    expect(status.databases.every((d) => /tables ready/.test(d.message))).toBe(true);

    await writer.stop();
    expect(writer.errors).toEqual([]);
    expect(writer.ops).toBeGreaterThan(350);
    // Changes to a partitioned table travel through its partitions.
    await source().query(
      `INSERT INTO "Acc ounts".moves VALUES (9001, '2026-06-01', 5); UPDATE "Acc ounts".moves SET cents = -1 WHERE id < 10;
       DELETE FROM "Acc ounts".moves WHERE id BETWEEN 10 AND 20; UPDATE "Acc ounts"."Balance" SET cents = 0 WHERE id = 1`,
      [],
      LEDGER_DB,
    );

    for (const database of [shop, ledger]) {
      const done = await cutoverDatabase(ctx, { ...request, action: 'cutover' }, database);
      expect(done.status, done.message).toBe('done');
      expect(done.verification?.every((t) => t.ok)).toBe(true);
    }
    expect(await fingerprint(target(), 'shop')).toEqual(await fingerprint(source(), 'shop'));
    expect(await fingerprint(target(), LEDGER_DB)).toEqual(await fingerprint(source(), LEDGER_DB));
    const shopPrint = await fingerprint(target(), 'shop');
    expect(shopPrint['sequence public.invoice_no']).not.toBe('1234');
    expect(Object.keys(shopPrint).filter((k) => k.startsWith('large object'))).toHaveLength(5);
    expect(await leftovers(source(), target(), ['shop', LEDGER_DB])).toEqual([]);
    expect(await identity('public.events')).toBe('d');

    // Abort after cutover finds nothing and changes nothing.
    const aborted = await abortReplication(ctx, { ...request, action: 'abort' });
    expect(aborted.every((d) => d.status === 'skipped')).toBe(true);
  });

  it("builds each table's indexes and keys while the other tables still copy under the slot snapshot, and ends with the source's index set", async () => {
    await source().createDatabase('indexed');
    await source().loadFixture(
      'indexed',
      `CREATE TABLE public.a (id int PRIMARY KEY, v text UNIQUE, n int);
       CREATE INDEX a_n ON public.a (n);
       CREATE TABLE public.b (id bigint PRIMARY KEY, at timestamptz, doc jsonb);
       CREATE INDEX b_doc ON public.b USING gin (doc);
       INSERT INTO public.a SELECT g, md5(g::text), g % 10 FROM generate_series(1, 20000) g;
       INSERT INTO public.b SELECT g, now(), jsonb_build_object('g', g) FROM generate_series(1, 5000) g;`,
    );
    const logged: { message: string; fields?: Record<string, unknown> }[] = [];
    const log = (message: string, fields?: Record<string, unknown>) =>
      logged.push({ message, ...(fields ? { fields } : {}) });
    const ctx = { ...runContext(source(), target()), logger: { debug: log, info: log, warn: log, error: log } };
    const request = replicationRequest(source(), target(), { replicaIdentityFull: false, dbs: ['indexed'] });
    const result = await migrateByReplication(ctx, request, planned('indexed'));
    expect(result.message).toMatch(/fast start.*; in sync/);
    const early = logged.find((l) => l.message === 'indexes built during the copy');
    expect(early?.fields).toMatchObject({ database: 'indexed', built: 5, failed: 0 });
    const indexes = async (cluster: typeof source) =>
      cluster().query<{ indexdef: string }>(
        "SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1",
        [],
        'indexed',
      );
    expect(await indexes(target)).toEqual(await indexes(source));
    await abortReplication(ctx, { ...request, action: 'abort' });
    expect(await leftovers(source(), target(), ['indexed'])).toEqual([]);
  });

  it('cuts over only after writes committed asynchronously just before cutover have arrived', async () => {
    // synchronous_commit = off (the harness default) and a slow WAL writer: the last commit's record is not yet
    // written when cutover starts, so pg_current_wal_lsn() is before it; cutover must still wait for it.
    await source().setConfig({ wal_writer_delay: '5s' });
    try {
      await source().createDatabase('async');
      await source().loadFixture('async', SHOP_SCHEMA + SHOP_DATA);
      const ctx = runContext(source(), target());
      const request = replicationRequest(source(), target(), { replicaIdentityFull: true });
      expect((await migrateByReplication(ctx, request, planned('async'))).status).toBe('replicating');
      await source().query("INSERT INTO items (name, price) VALUES ('last', 1)", [], 'async');
      const done = await cutoverDatabase(ctx, { ...request, action: 'cutover' }, planned('async'));
      expect(done.status, done.message).toBe('done');
      expect(await target().query("SELECT name FROM items WHERE name = 'last'", [], 'async')).toEqual([
        { name: 'last' },
      ]);
    } finally {
      await source().setConfig({ wal_writer_delay: '200ms' });
    }
  });

  it('fails when a table has neither key nor consent, before creating anything', async () => {
    await source().createDatabase('nokey');
    await source().loadFixture('nokey', "CREATE TABLE log (line text); INSERT INTO log VALUES ('a');");
    const ctx = runContext(source(), target());
    const request = replicationRequest(source(), target());
    await expect(migrateByReplication(ctx, request, planned('nokey'))).rejects.toMatchObject({
      name: 'PgMigrate.Blocked',
      message: expect.stringContaining('public.log') as unknown,
    });
    expect(await leftovers(source(), target(), ['nokey'])).toEqual([]);
  });

  it('times out a cutover whose changes cannot arrive, dropping nothing, and aborts cleanly afterwards', async () => {
    await source().createDatabase('stuck');
    await source().loadFixture('stuck', SHOP_SCHEMA + SHOP_DATA);
    const ctx = runContext(source(), target());
    const request = replicationRequest(source(), target(), { replicaIdentityFull: true });
    const result = await migrateByReplication(ctx, request, planned('stuck'));
    expect(result.status).toBe('replicating');
    const names = replicationNames('stuck');
    await target().query(`ALTER SUBSCRIPTION ${names.subscription} DISABLE`, [], 'stuck');
    await source().query("INSERT INTO items (name, price) VALUES ('late', 1)", [], 'stuck');
    // The workflow's status poll sees the apply worker down (the metrics' reading), and its bounded wait ends
    // saying so.
    const events: ProgressEvent[] = [];
    const status = await replicationStatus({ ...ctx, progress: (event) => events.push(event) }, request, [
      { name: 'stuck', method: 'replication', status: 'replicating' },
    ]);
    expect(status.allInSync).toBe(false);
    expect(events).toEqual([expect.objectContaining({ kind: 'replication', database: 'stuck', applyRunning: false })]);
    const wait = syncWait({
      waitingSince: new Date(Date.now() - 120_000).toISOString(),
      now: new Date(),
      timeoutSeconds: 60,
      allInSync: status.allInSync,
      databases: status.databases,
    });
    expect(wait.expired).toBe(true);
    expect(wait.reason).toMatch(/stuck: not in sync: .*subscription disabled/);
    await expect(
      cutoverDatabase(ctx, { ...request, action: 'cutover', timeoutSeconds: 3 }, planned('stuck')),
    ).rejects.toMatchObject({
      name: 'PgMigrate.Timeout',
      message: expect.stringContaining('Nothing was dropped') as unknown,
    });
    expect(await leftovers(source(), target(), ['stuck'])).toEqual(
      expect.arrayContaining([`slot ${names.slot}`, `subscription ${names.subscription}`]),
    );
    const aborted = await abortReplication(ctx, { ...request, action: 'abort', dbs: ['stuck'] });
    expect(aborted).toMatchObject([{ name: 'stuck', status: 'done' }]);
    expect(await leftovers(source(), target(), ['stuck'])).toEqual([]);
    expect(
      (
        await source().query<{ r: string }>(
          "SELECT relreplident AS r FROM pg_class WHERE oid = 'events'::regclass",
          [],
          'stuck',
        )
      )[0]?.r,
    ).toBe('d');
    expect(await abortReplication(ctx, { ...request, action: 'abort', dbs: ['stuck'] })).toMatchObject([
      { name: 'stuck', status: 'skipped' },
    ]);
  });
});
