/**
 * PostgreSQL 12 → 16 by logical replication with cutover: before 13 a publication cannot list a partitioned table
 * (its partitions are listed instead), the slot is created with the old EXPORT_SNAPSHOT syntax, and no table is
 * split by ctid ranges. The source ends idle transactions after 200 ms; the slot's snapshot is held much longer.
 */
import { describe, expect, it } from 'vitest';
import { cutoverDatabase, migrateByReplication } from '../../../core/steps/replication/index.js';
import { useCluster } from '../../support/vitest.js';
import {
  fingerprint,
  LEDGER_DATA,
  LEDGER_SCHEMA,
  leftovers,
  planned,
  replicationRequest,
  runContext,
  SHOP_DATA,
  SHOP_SCHEMA,
  Writer,
} from '../replication/support.js';

const source = useCluster({ version: 12, settings: { idle_in_transaction_session_timeout: '200ms' } });
const target = useCluster({ version: 16 });

describe('replication 12 → 16', () => {
  it('replicates a database with partitions while a writer runs, then cuts over to an equal target with nothing left behind', async () => {
    const db = 'shop12';
    await source().createDatabase(db);
    await source().loadFixture(db, SHOP_SCHEMA + SHOP_DATA + LEDGER_SCHEMA + LEDGER_DATA);
    const ctx = runContext(source(), target());
    const request = replicationRequest(source(), target(), { replicaIdentityFull: true });
    const writer = new Writer(source(), db).start();
    await writer.advance(30);
    const started = Date.now();
    const result = await migrateByReplication(ctx, request, planned(db));
    expect(result.status, result.message).toBe('replicating');
    expect(result.message).toMatch(/fast start/);
    expect(result.message).toMatch(/; in sync/);
    expect(Date.now() - started).toBeGreaterThan(200);
    // The partitions replicate: a change to one arrives on the target.
    await source().query(`INSERT INTO "Acc ounts".moves VALUES (900001, '2026-03-01', 7)`, [], db);
    await writer.advance(200);
    await writer.stop();
    expect(writer.errors).toEqual([]);
    const done = await cutoverDatabase(ctx, { ...request, action: 'cutover' }, planned(db));
    expect(done.status, done.message).toBe('done');
    expect(await fingerprint(target(), db)).toEqual(await fingerprint(source(), db));
    const [moved] = await target().query<{ n: number }>(
      `SELECT count(*)::int AS n FROM "Acc ounts".moves_2026 WHERE id = 900001`,
      [],
      db,
    );
    expect(moved?.n).toBe(1);
    expect(await leftovers(source(), target(), [db])).toEqual([]);
  });
});
