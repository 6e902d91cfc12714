/**
 * `ResolveRequest`: `{ input, run }` (the raw execution input and the run) → the parsed {@link Request} (defaults
 * filled; connection references, never credentials), also kept in the report store for the task, whose TASK_INPUT
 * carries only references. A raw input alone is accepted too. Bad input throws `PgMigrate.BadInput`, which the
 * state machine routes to the report. A `uri` reference where plain URIs are off, or a secret outside the
 * deployment's, is refused first, before anything is logged (core/ref-policy.ts).
 */
import { InputError } from '../core/errors.js';
import { requestRefProblems } from '../core/ref-policy.js';
import { requestKey } from '../core/report-store.js';
import { parseRequest, type Request } from '../core/request.js';
import { powertoolsLogger } from './shared/logger.js';
import { reportStoreFromEnv } from './shared/report-store.js';

const logger = powertoolsLogger();

/** The state machine's payload: the raw input and the run (the two keys a request never has). */
function unwrap(event: unknown): { readonly input: unknown; readonly run?: string } {
  const e = event as { input?: unknown; run?: { id?: unknown } } | null;
  const keys = e !== null && typeof e === 'object' ? Object.keys(e).sort().join(',') : '';
  if (keys !== 'input,run') return { input: event };
  return { input: e?.input, ...(typeof e?.run?.id === 'string' ? { run: e.run.id } : {}) };
}

export async function handler(event: unknown): Promise<Request> {
  const { input, run } = unwrap(event);
  let request: Request;
  try {
    const refused = requestRefProblems(input, process.env);
    if (refused.length > 0) throw new InputError(refused);
    request = parseRequest(input);
  } catch (err) {
    logger.error('bad request', { error: err instanceof Error ? err.message : String(err) });
    throw err;
  }
  logger.info('request resolved', { action: request.action, method: request.method });
  const store = reportStoreFromEnv();
  if (store && run !== undefined) await store.put(requestKey(run), JSON.stringify(request));
  return request;
}
