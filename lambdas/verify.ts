/** `Verify`: `{ request, databases }` → DatabaseResult[] (counts for `done`, information for `replicating`). */
import { parseRequest } from '../core/request.js';
import { parseDatabaseResults, verifyDatabases } from '../core/steps/replication/index.js';
import { createRunContext } from './shared/context.js';
import { powertoolsLogger } from './shared/logger.js';

const logger = powertoolsLogger();

export async function handler(event: { request?: unknown; databases?: unknown }) {
  const request = parseRequest(event.request);
  const databases = parseDatabaseResults(event.databases);
  const ctx = await createRunContext(request, logger);
  return verifyDatabases(ctx, request, databases);
}
