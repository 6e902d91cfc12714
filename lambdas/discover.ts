/** `Discover`: `{ request }` → `{ databases }`, the databases replicating to the target (status, cutover, abort). */
import { parseRequest } from '../core/request.js';
import { discoverDatabases } from '../core/steps/replication/index.js';
import { createRunContext } from './shared/context.js';
import { powertoolsLogger } from './shared/logger.js';

const logger = powertoolsLogger();

export async function handler(event: { request?: unknown }) {
  const request = parseRequest(event.request);
  const ctx = await createRunContext(request, logger);
  return { databases: await discoverDatabases(ctx, request) };
}
