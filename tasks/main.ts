/**
 * The Fargate task's entry point (bundled to dist/task.mjs): a thin shell around {@link runTaskProcess}.
 * Env: TASK_TOKEN, TASK_INPUT (JSON TaskInput), optional PG_MIGRATE_HEARTBEAT_MS; AWS_ENDPOINT_URL_SFN is honoured
 * by the SDK (the local CLI points it at a loopback server); PG_MIGRATE_METRICS, POWERTOOLS_METRICS_NAMESPACE
 * (lambdas/shared/metrics.ts).
 */
import { SFNClient } from '@aws-sdk/client-sfn';
import type { ProgressEvent } from '../core/logger.js';
import { runTask } from '../core/steps/task.js';
import { AWS_CLIENT_CONFIG } from '../lambdas/shared/aws-clients.js';
import { createRunContext } from '../lambdas/shared/context.js';
import { powertoolsLogger } from '../lambdas/shared/logger.js';
import { createProgressMetrics, fanOut } from '../lambdas/shared/metrics.js';
import { reportStoreFromEnv } from '../lambdas/shared/report-store.js';
import { runTaskProcess } from './run.js';

const logger = powertoolsLogger('pg-migrate-task');
const store = reportStoreFromEnv(process.env);
// EMF on stdout in the ECS task (CloudWatch Logs extracts the metrics); nothing under the local CLI unless asked.
const metrics = createProgressMetrics({ env: process.env, host: 'task', flushIntervalMs: 60_000, logger });
const stop = new AbortController();
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    logger.warn('stop requested', { signal });
    stop.abort();
  });
}

const code = await runTaskProcess({
  env: process.env,
  sfn: new SFNClient(AWS_CLIENT_CONFIG),
  ...(store ? { store } : {}),
  logger,
  signal: stop.signal,
  run: async (input, signal) => {
    const log = (event: ProgressEvent) => {
      if (event.kind === 'phase' || event.kind === 'tables') logger.info(event.kind, { ...event });
      else if (event.kind === 'table') logger.debug(event.done ? 'table copied' : 'table progress', { ...event });
      else logger.debug('replication state', { ...event });
    };
    const progress = fanOut(log, metrics.listener);
    return runTask(await createRunContext(input.request, logger, { signal, progress }), input);
  },
});
metrics.close();
// Exit now: idle keep-alive sockets must not hold the container open.
process.exit(code);
