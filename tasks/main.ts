/**
 * The Fargate task's entry point (bundled to dist/task.mjs): a thin shell around {@link runTaskProcess}.
 * Env: TASK_TOKEN, TASK_INPUT (JSON TaskInput), optional PG_MIGRATE_HEARTBEAT_MS; AWS_ENDPOINT_URL_SFN is honoured
 * by the SDK (the local CLI points it at a loopback server).
 */
import { SFNClient } from '@aws-sdk/client-sfn';
import type { ProgressEvent } from '../core/logger.js';
import { runTask } from '../core/steps/task.js';
import { AWS_CLIENT_CONFIG } from '../lambdas/shared/aws-clients.js';
import { createRunContext } from '../lambdas/shared/context.js';
import { powertoolsLogger } from '../lambdas/shared/logger.js';
import { reportStoreFromEnv } from '../lambdas/shared/report-store.js';
import { runTaskProcess } from './run.js';

const logger = powertoolsLogger('pg-migrate-task');
const store = reportStoreFromEnv(process.env);
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
    const progress = (event: ProgressEvent) => {
      if (event.kind === 'phase') logger.info('phase', { ...event });
      else logger.debug(event.done ? 'table copied' : 'table progress', { ...event });
    };
    return runTask(await createRunContext(input.request, logger, { signal, progress }), input);
  },
});
// Exit now: idle keep-alive sockets must not hold the container open.
process.exit(code);
