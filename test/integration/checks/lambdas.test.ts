/** The pre-check Lambda handler against a real server (connection refs `{ env }` point at the cluster). */
import { CloudWatchClient, GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler } from '../../../lambdas/precheck.js';
import { handler as planHandler } from '../../../lambdas/plan.js';
import { useCluster } from '../../support/vitest.js';

const cluster = useCluster({ version: 15 });
const cw = mockClient(CloudWatchClient);
const request = {
  action: 'check',
  source: { env: 'PGM_LAMBDA_SOURCE' },
  target: { env: 'PGM_LAMBDA_TARGET' },
  connectTimeoutSeconds: 5,
};

beforeAll(async () => {
  process.env.PGM_LAMBDA_SOURCE = cluster().uri();
  process.env.PGM_LAMBDA_TARGET = cluster().uri('postgres');
  await cluster().createDatabase('shop');
});
afterAll(() => {
  delete process.env.PGM_LAMBDA_SOURCE;
  delete process.env.PGM_LAMBDA_TARGET;
  cw.restore();
});

describe('the pre-check handler', () => {
  it('runs the server phase, then one database, and the plan merges both', async () => {
    const server = await handler({ phase: 'server', request: { ...request, dbs: ['shop'], sessionBudget: 3 } });
    const source = server.results.find((r) => r.id === 'connection-source');
    expect(source).toMatchObject({ status: 'pass', details: { host: '127.0.0.1', port: cluster().port } });
    expect(server.databases).toEqual([
      { name: 'shop', targetExists: true, candidate: true, owner: 'postgres', compact: false },
    ]);
    expect(server.concurrency).toBe(3);
    expect(JSON.stringify(server)).not.toContain(cluster().password);
    // Everything the next phase gets must survive the state machine: JSON only.
    const shared = JSON.parse(JSON.stringify(server.shared)) as typeof server.shared;
    const shop = await handler({ phase: 'database', request, database: server.databases[0]!, shared });
    expect(shop.filter((r) => r.id === 'languages')).toEqual([
      expect.objectContaining({ status: 'pass', database: 'shop' }),
    ]);
    const plan = await planHandler({ request, serverChecks: server.results, databaseChecks: [shop] });
    // Source and target are the same server here: distinct-servers blocks.
    expect(plan.blockers.map((b) => b.id)).toEqual(['distinct-servers']);
    expect(plan.checks.filter((r) => r.id === 'languages')).toHaveLength(1);
  });

  it('runs one check by id, and reports a failed check as data', async () => {
    const results = await handler({ check: 'distinct-servers', request });
    expect(results.map((r) => r.status)).toEqual(['fail']);
  });

  it('reads the RDS target free storage from CloudWatch', async () => {
    cw.on(GetMetricStatisticsCommand).resolves({ Datapoints: [{ Timestamp: new Date(), Minimum: 1000 }] });
    const results = await handler({ check: 'disk-space', request: { ...request, targetRdsInstanceId: 'prod-db' } });
    expect(results.map((r) => r.status)).toEqual(['fail']);
    expect(results[0]?.details).toMatchObject({ freeBytes: 1000, freeFrom: 'cloudwatch' });
    expect(cw.commandCalls(GetMetricStatisticsCommand)).toHaveLength(1);
  });

  it('fails when the check id is unknown, with the BadInput name', async () => {
    await expect(handler({ check: 'nope' as never, request })).rejects.toMatchObject({ name: 'PgMigrate.BadInput' });
  });

  it('fails when the connection variable is not set, with the BadInput name', async () => {
    await expect(
      handler({ phase: 'server', request: { ...request, source: { env: 'PGM_LAMBDA_UNSET' } } }),
    ).rejects.toMatchObject({ name: 'PgMigrate.BadInput' });
  });
});
