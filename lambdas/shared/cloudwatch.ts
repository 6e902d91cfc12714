/**
 * The target's free storage from CloudWatch (RDS `FreeStorageSpace`, the minimum over the last 15 minutes), for the
 * disk-space check (`RunContext.targetFreeBytes`). Unknown (undefined) when the metric is missing or unreadable.
 */
import { CloudWatchClient, GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import { describeError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { AWS_CLIENT_CONFIG } from './aws-clients.js';

let shared: CloudWatchClient | undefined;

/**
 * A reader of the instance's free bytes.
 *
 * @example
 * ```ts
 * const ctx = await createRunContext(request, logger, { targetFreeBytes: rdsFreeStorage('prod-db', logger) });
 * ```
 */
export function rdsFreeStorage(
  instanceId: string,
  logger: Logger,
  client: CloudWatchClient = (shared ??=
    new CloudWatchClient(AWS_CLIENT_CONFIG)),
  now: () => Date = () => new Date(),
): () => Promise<number | undefined> {
  return async () => {
    const end = now();
    try {
      const out = await client.send(
        new GetMetricStatisticsCommand({
          Namespace: 'AWS/RDS',
          MetricName: 'FreeStorageSpace',
          Dimensions: [{ Name: 'DBInstanceIdentifier', Value: instanceId }],
          StartTime: new Date(end.getTime() - 15 * 60_000),
          EndTime: end,
          Period: 60,
          Statistics: ['Minimum'],
        }),
      );
      const points = (out.Datapoints ?? []).filter((p) => p.Minimum !== undefined && p.Timestamp !== undefined);
      if (points.length === 0) {
        logger.warn('no FreeStorageSpace datapoints', { instanceId });
        return undefined;
      }
      points.sort((a, b) => b.Timestamp!.getTime() - a.Timestamp!.getTime());
      return Math.floor(points[0]!.Minimum!);
    } catch (err) {
      logger.warn('cannot read FreeStorageSpace from CloudWatch', { instanceId, error: describeError(err) });
      return undefined;
    }
  };
}
