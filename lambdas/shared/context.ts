/** Builds the {@link RunContext} a Lambda handler or the task passes to core/. */
import type { RunContext } from '../../core/context.js';
import type { Logger, ProgressListener } from '../../core/logger.js';
import type { Request } from '../../core/request.js';
import { resolveConnection } from './secrets.js';

/** Resolves both servers of the request and bundles them with the logger. */
export async function createRunContext(
  request: Pick<Request, 'source' | 'target'>,
  logger: Logger,
  options: {
    progress?: ProgressListener;
    signal?: AbortSignal;
    targetFreeBytes?: () => Promise<number | undefined>;
  } = {},
): Promise<RunContext> {
  const [source, target] = await Promise.all([
    resolveConnection(request.source, 'source'),
    resolveConnection(request.target, 'target'),
  ]);
  return {
    source,
    target,
    logger,
    progress: options.progress ?? (() => {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.targetFreeBytes ? { targetFreeBytes: options.targetFreeBytes } : {}),
  };
}
