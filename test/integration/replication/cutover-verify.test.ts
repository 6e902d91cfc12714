/**
 * Cutover verifies while the subscription still runs: a table that differs stops the cutover with everything in
 * place (slot, publication, subscription, REPLICA IDENTITY FULL), replication goes on, and a later cutover completes.
 */
import { describe, expect, it } from 'vitest';
import { cutoverDatabase, migrateByReplication } from '../../../core/steps/replication/index.js';
import { useCluster } from '../../support/vitest.js';
import { fingerprint, leftovers, planned, replicationRequest, runContext, SHOP_DATA, SHOP_SCHEMA } from './support.js';

const source = useCluster({ version: 15 });
const target = useCluster({ version: 15 });

/** Waits (bounded) until `sql` returns a row on the target. */
async function arrives(db: string, sql: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while ((await target().query(sql, [], db)).length === 0) {
    if (Date.now() > deadline) throw new Error(`never arrived: ${sql}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('cutover verification', () => {
  it('fails cutover when a target table differs, dropping nothing, and cuts over once the tables match again', async () => {
    const db = 'verify_shop';
    await source().createDatabase(db);
    await source().loadFixture(db, SHOP_SCHEMA + SHOP_DATA);
    const ctx = runContext(source(), target());
    const request = replicationRequest(source(), target(), { replicaIdentityFull: true });
    const result = await migrateByReplication(ctx, request, planned(db));
    expect(result.status, result.message).toBe('replicating');

    // A stray row written on the target behind the tool's back.
    await target().query("INSERT INTO items (id, name, price) VALUES (999999, 'stray', 1)", [], db);
    const refused = await cutoverDatabase(ctx, { ...request, action: 'cutover' }, planned(db));
    expect(refused.status).toBe('failed');
    expect(refused.error).toBe('PgMigrate.VerifyMismatch');
    expect(refused.message).toMatch(/public\.items/);
    expect(refused.message).toMatch(/Nothing was dropped: replication continues/);
    // Slot, subscription, publication and the subscription's role all stay.
    expect((await leftovers(source(), target(), [db])).length).toBe(4);
    const [events] = await source().query<{ r: string }>(
      "SELECT relreplident AS r FROM pg_class WHERE relname = 'events'",
      [],
      db,
    );
    expect(events?.r).toBe('f');

    // Replication still runs: a change made after the refused cutover arrives.
    await source().query("INSERT INTO items (name, price) VALUES ('after the refusal', 2)", [], db);
    await arrives(db, "SELECT 1 FROM items WHERE name = 'after the refusal'");

    await target().query('DELETE FROM items WHERE id = 999999', [], db);
    const done = await cutoverDatabase(ctx, { ...request, action: 'cutover' }, planned(db));
    expect(done.status, done.message).toBe('done');
    expect(await fingerprint(target(), db)).toEqual(await fingerprint(source(), db));
    expect(await leftovers(source(), target(), [db])).toEqual([]);
  });
});
