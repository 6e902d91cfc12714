/** Builds the {@link RunContext} a Lambda handler or the task passes to core/. */
import type { RunContext } from '../../core/context.js';
import type { Logger, ProgressListener } from '../../core/logger.js';
import type { Request } from '../../core/request.js';
import { buildRunContext } from './logger.js';

/**
 * Resolves both servers of the request and bundles them with the logger. Progress goes to `options.progress`,
 * or to the logger as log lines (the local CLI reads them from the task's stdout).
 */
export async function createRunContext(
  request: Pick<Request, 'source' | 'target'>,
  logger: Logger,
  options: {
    progress?: ProgressListener;
    signal?: AbortSignal;
    targetFreeBytes?: () => Promise<number | undefined>;
  } = {},
): Promise<RunContext> {
  const context = await buildRunContext(request, {
    logger,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.targetFreeBytes ? { targetFreeBytes: options.targetFreeBytes } : {}),
  });
  return options.progress ? { ...context, progress: options.progress } : context;
}
