/** The PreChecks Lambda handler against a real server (connection refs `{ env }` point at the cluster). */
import { CloudWatchClient, GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler } from '../../../lambdas/precheck.js';
import { useCluster } from '../../support/vitest.js';

const cluster = useCluster({ version: 15 });
const cw = mockClient(CloudWatchClient);
const request = {
  action: 'check',
  source: { env: 'PGM_LAMBDA_SOURCE' },
  target: { env: 'PGM_LAMBDA_TARGET' },
  connectTimeoutSeconds: 5,
};

beforeAll(() => {
  process.env.PGM_LAMBDA_SOURCE = cluster().uri();
  process.env.PGM_LAMBDA_TARGET = cluster().uri('postgres');
});
afterAll(() => {
  delete process.env.PGM_LAMBDA_SOURCE;
  delete process.env.PGM_LAMBDA_TARGET;
  cw.restore();
});

describe('the PreChecks handler', () => {
  it('runs one check against the servers named by the request', async () => {
    const results = await handler({ check: 'connection-source', request });
    expect(results.map((r) => [r.id, r.status])).toEqual([['connection-source', 'pass']]);
    expect(results[0]?.details).toMatchObject({ host: '127.0.0.1', port: cluster().port });
    expect(JSON.stringify(results)).not.toContain(cluster().password);
  });

  it('reports a failed check as data (the same server on both sides)', async () => {
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
      handler({ check: 'version', request: { ...request, source: { env: 'PGM_LAMBDA_UNSET' } } }),
    ).rejects.toMatchObject({ name: 'PgMigrate.BadInput' });
  });
});
