import { describe, expect, it } from 'vitest';
import { cutoverDatabase, migrateByReplication } from '../../../core/steps/replication/index.js';
import { useCluster } from '../../support/vitest.js';
import {
  fingerprint,
  leftovers,
  planned,
  replicationRequest,
  runContext,
  SHOP_DATA,
  SHOP_SCHEMA,
  Writer,
} from './support.js';

const source = useCluster({ version: 14 });
const target = useCluster({ version: 15 });

describe('replication 14 → 15', () => {
  it.each([
    ['the fast start (EXPORT_SNAPSHOT slot, copy under it)', 'auto', 'fast', /fast start/],
    ['copy_data = true (the subscription copies)', 'copy-data', 'copydata', /copy_data = true/],
  ] as const)(
    'replicates with %s while a writer runs, and cuts over to an equal target',
    async (_label, start, db, message) => {
      await source().createDatabase(db);
      await source().loadFixture(db, SHOP_SCHEMA + SHOP_DATA);
      const ctx = runContext(source(), target());
      const request = replicationRequest(source(), target(), { replicaIdentityFull: true });
      const writer = new Writer(source(), db).start();
      await writer.advance(30);
      const result = await migrateByReplication(ctx, request, planned(db), { start });
      expect(result.status).toBe('replicating');
      expect(result.message).toMatch(message);
      expect(result.message).toMatch(/; in sync/);
      await writer.advance(200);
      await writer.stop();
      expect(writer.errors).toEqual([]);
      const done = await cutoverDatabase(ctx, { ...request, action: 'cutover' }, planned(db));
      expect(done.status, done.message).toBe('done');
      expect(await fingerprint(target(), db)).toEqual(await fingerprint(source(), db));
      expect(await leftovers(source(), target(), [db])).toEqual([]);
    },
  );
});
