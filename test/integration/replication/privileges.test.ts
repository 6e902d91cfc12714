import { describe, expect, it } from 'vitest';
import { migrateByReplication } from '../../../core/steps/replication/index.js';
import { useCluster } from '../../support/vitest.js';
import { leftovers, planned, replicationRequest, runContext, SHOP_DATA, SHOP_SCHEMA } from './support.js';

const source = useCluster({ version: 15 });
const target = useCluster({ version: 15 });

describe('a source user without the REPLICATION attribute', () => {
  it('fails when the source user may not create a slot, naming the remedy and leaving nothing behind', async () => {
    await source().createRole('app', { password: 'app-pass-1' });
    await source().createDatabase('appdb', { owner: 'app' });
    const app = await source().client('appdb', 'app', 'app-pass-1');
    try {
      await app.query(SHOP_SCHEMA + SHOP_DATA);
    } finally {
      await app.end();
    }
    const ctx = runContext(source(), target(), source().uri('postgres', 'app', 'app-pass-1'));
    const request = replicationRequest(source(), target(), { replicaIdentityFull: true });
    const run = migrateByReplication(ctx, request, planned('appdb'));
    await expect(run).rejects.toMatchObject({ name: 'PgMigrate.Permanent' });
    await expect(run).rejects.toThrow(/REPLICATION/);
    expect(await leftovers(source(), target(), ['appdb'])).toEqual([]);
    const [events] = await source().query<{ r: string }>(
      "SELECT relreplident AS r FROM pg_class WHERE oid = 'events'::regclass",
      [],
      'appdb',
    );
    expect(events?.r).toBe('d');
  });
});
