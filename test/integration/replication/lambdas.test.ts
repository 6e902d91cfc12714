import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as abort } from '../../../lambdas/abort.js';
import { handler as cleanup } from '../../../lambdas/cleanup.js';
import { handler as discover } from '../../../lambdas/discover.js';
import { handler as status } from '../../../lambdas/status.js';
import { runTask } from '../../../core/steps/task.js';
import { useCluster } from '../../support/vitest.js';
import { leftovers, planned, replicationRequest, runContext, SHOP_DATA, SHOP_SCHEMA } from './support.js';

const source = useCluster({ version: 15 });
const target = useCluster({ version: 15 });

// The handlers resolve connections from environment variables, as the local CLI passes them.
const request = { action: 'status', source: { env: 'PGM_TEST_SOURCE' }, target: { env: 'PGM_TEST_TARGET' } };
const saved = { ...process.env };
beforeAll(() => {
  process.env.PGM_TEST_SOURCE = source().uri();
  process.env.PGM_TEST_TARGET = target().uri();
});
afterAll(() => {
  process.env = saved;
});

describe('the replication Lambda handlers and the task dispatcher', () => {
  it('set up through runTask, then discover, report status, clean up and abort through the handlers', async () => {
    await source().createDatabase('shop');
    await source().loadFixture('shop', SHOP_SCHEMA + SHOP_DATA);
    const migrated = await runTask(runContext(source(), target()), {
      mode: 'migrate',
      request: replicationRequest(source(), target(), { replicaIdentityFull: true }),
      database: planned('shop'),
    });
    expect(migrated).toMatchObject({ name: 'shop', method: 'replication', status: 'replicating' });

    const found = await discover({ request });
    expect(found.databases).toMatchObject([{ name: 'shop', method: 'replication' }]);

    const state = await status({ request });
    expect(state.allInSync).toBe(true);
    expect(state.databases).toMatchObject([{ name: 'shop', status: 'replicating' }]);

    const looped = await status({ request, databases: [migrated] });
    expect(looped.databases).toMatchObject([{ name: 'shop', status: 'replicating', rows: migrated.rows }]);
    expect(migrated.rows).toBeGreaterThan(20_000);

    const cleaned = await cleanup({
      request: { ...request, action: 'migrate' },
      database: planned('shop'),
      error: { Error: 'PgMigrate.Transient', Cause: JSON.stringify({ errorMessage: 'lost the connection' }) },
    });
    expect(cleaned).toMatchObject({ name: 'shop', status: 'failed', error: 'PgMigrate.Transient' });
    expect(cleaned.message).toMatch(/^lost the connection; cleaned up: subscription/);
    expect(await leftovers(source(), target(), ['shop'])).toEqual([]);

    const aborted = await abort({ request: { ...request, action: 'abort' } });
    expect(aborted).toEqual([]);
  });

  it('fails when the input is malformed, naming the field', async () => {
    await expect(status({ request, databases: [{ method: 'replication' }] })).rejects.toMatchObject({
      name: 'PgMigrate.BadInput',
      message: expect.stringContaining('databases.0.name') as unknown,
    });
    await expect(cleanup({ request, database: { name: 'x' } })).rejects.toMatchObject({ name: 'PgMigrate.BadInput' });
  });
});
