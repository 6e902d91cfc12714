import { CloudWatchClient, GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../core/logger.js';
import { rdsFreeStorage } from '../../../lambdas/shared/cloudwatch.js';

const cw = mockClient(CloudWatchClient);
const now = () => new Date('2026-01-01T12:00:00Z');

afterEach(() => cw.reset());

describe('rdsFreeStorage', () => {
  it('reads the latest FreeStorageSpace minimum of the instance', async () => {
    cw.on(GetMetricStatisticsCommand).resolves({
      Datapoints: [
        { Timestamp: new Date('2026-01-01T11:50:00Z'), Minimum: 9e9 },
        { Timestamp: new Date('2026-01-01T11:59:00Z'), Minimum: 5.5e9 },
        { Timestamp: new Date('2026-01-01T11:55:00Z'), Minimum: 7e9 },
      ],
    });
    expect(await rdsFreeStorage('prod-db', silentLogger, new CloudWatchClient({}), now)()).toBe(5.5e9);
    const input = cw.commandCalls(GetMetricStatisticsCommand)[0]?.args[0].input;
    expect(input).toMatchObject({
      Namespace: 'AWS/RDS',
      MetricName: 'FreeStorageSpace',
      Dimensions: [{ Name: 'DBInstanceIdentifier', Value: 'prod-db' }],
      Statistics: ['Minimum'],
      EndTime: now(),
      StartTime: new Date('2026-01-01T11:45:00Z'),
    });
  });

  it.each([
    ['no datapoints', () => cw.on(GetMetricStatisticsCommand).resolves({ Datapoints: [] })],
    [
      'access denied',
      () =>
        cw.on(GetMetricStatisticsCommand).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDenied' })),
    ],
  ])('fails soft (unknown) on %s', async (_name, arrange) => {
    arrange();
    const warnings: string[] = [];
    const logger = { ...silentLogger, warn: (m: string) => void warnings.push(m) };
    expect(await rdsFreeStorage('prod-db', logger, new CloudWatchClient({}), now)()).toBeUndefined();
    expect(warnings).toHaveLength(1);
  });
});
