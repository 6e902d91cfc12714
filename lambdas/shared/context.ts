/** Builds the {@link RunContext} a Lambda handler or the task passes to core/. */
import type { RunContext } from '../../core/context.js';
import type { Logger, ProgressListener } from '../../core/logger.js';
import type { Request } from '../../core/request.js';
import { progressToLogger } from './logger.js';
import { fanOut, lambdaProgressMetrics } from './metrics.js';
import { type ResolveOptions, resolveConnections } from './secrets.js';

export interface RunContextOptions extends ResolveOptions {
  /**
   * Where progress goes. @default progress as log lines ({@link progressToLogger}) and, in a Lambda function, as
   * metrics (lambdas/shared/metrics.ts)
   */
  readonly progress?: ProgressListener;
  readonly signal?: AbortSignal;
  readonly targetFreeBytes?: () => Promise<number | undefined>;
}

/**
 * Resolves both servers of the request (Secrets Manager, env, or an allowed URI) and bundles them with the logger.
 * Progress goes to `options.progress`, or to the logger as log lines and to the Lambda's metrics.
 */
export async function createRunContext(
  request: Pick<Request, 'source' | 'target'>,
  logger: Logger,
  options: RunContextOptions = {},
): Promise<RunContext> {
  const { source, target } = await resolveConnections(request, options);
  return {
    source,
    target,
    logger,
    progress: options.progress ?? fanOut(progressToLogger(logger), lambdaProgressMetrics(logger).listener),
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
    ...(options.targetFreeBytes !== undefined ? { targetFreeBytes: options.targetFreeBytes } : {}),
  };
}
