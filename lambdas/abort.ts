/** `Abort`: `{ request }` → DatabaseResult[]; drops every replication object pg-migrate created, both sides. */
import { parseRequest } from '../core/request.js';
import { abortReplication } from '../core/steps/replication/index.js';
import { createRunContext } from './shared/context.js';
import { powertoolsLogger } from './shared/logger.js';

const logger = powertoolsLogger();

export async function handler(event: { request?: unknown }) {
  const request = parseRequest(event.request);
  const ctx = await createRunContext(request, logger);
  return abortReplication(ctx, request);
}
