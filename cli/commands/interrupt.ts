/**
 * After Ctrl-C during `migrate`: remove the replication objects (publication, slot, subscription) of the
 * databases this run set up, through the same `lambdas/abort.ts` handler the state machine's `Abort` state runs.
 * Data already copied stays on the target.
 */
import type { Request } from '../../core/request.js';
import { type Handler, importHandler, type LocalRunResult } from '../local/runner.js';

/** The Abort state's input (`{ request, plan }`) narrowed to the databases this run set up for replication. */
export function abortEvent(result: LocalRunResult, fallback: Request): { request: unknown; plan: unknown } {
  const databases = result.replicationStarted;
  const request = { ...(result.request ?? fallback), action: 'abort', dbs: [...databases] };
  const plannedAll = Array.isArray(result.plan?.databases) ? (result.plan.databases as Array<{ name?: unknown }>) : [];
  const planned = plannedAll.filter((d) => typeof d.name === 'string' && databases.includes(d.name));
  const plan = {
    blocked: false,
    blockers: [],
    checks: [],
    ...(result.plan ?? {}),
    databases:
      planned.length > 0
        ? planned
        : databases.map((name) => ({
            name,
            method: 'replication',
            reasons: [],
            replicaIdentityFull: [],
            targetExists: true,
          })),
  };
  return { request, plan };
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
