/**
 * After Ctrl-C during `migrate`: remove the replication objects (publication, slot, subscription) of the
 * databases this run set up, through the same `lambdas/abort.ts` handler the state machine's `Abort` state runs.
 * Data already copied stays on the target.
 */
import type { Request } from '../../core/request.js';
import { importHandler } from '../local/handlers.js';
import type { Handler, LocalRunResult } from '../local/runner.js';

/** The Abort state's input (`{ request }`) narrowed to the databases this run set up for replication. */
export function abortEvent(result: LocalRunResult, fallback: Request): { request: Record<string, unknown> } {
  return { request: { ...(result.request ?? fallback), action: 'abort', dbs: [...result.replicationStarted] } };
}

/** Runs the abort handler for the databases this run set up; resolves with its DatabaseResult[]. */
export async function removeReplicationObjects(
  result: LocalRunResult,
  fallback: Request,
  loadHandler: (module: string) => Promise<Handler> = importHandler,
): Promise<unknown> {
  if (result.replicationStarted.length === 0) return [];
  const abort = await loadHandler('abort');
  return abort(abortEvent(result, fallback));
}
