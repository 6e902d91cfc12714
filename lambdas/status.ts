/**
 * `ReplicationStatus`: `{ request, databases? }` → `{ databases, allInSync }`. Without `databases` (the `status`
 * action) the replicating databases are discovered on the target.
 */
import { parseRequest } from '../core/request.js';
import { discoverDatabases, parseDatabaseRefs, replicationStatus } from '../core/steps/replication/index.js';
import { createRunContext } from './shared/context.js';
import { powertoolsLogger } from './shared/logger.js';

const logger = powertoolsLogger();

export async function handler(event: { request?: unknown; databases?: unknown }) {
  const request = parseRequest(event.request);
  const ctx = await createRunContext(request, logger);
  const databases =
    event.databases === undefined ? await discoverDatabases(ctx, request) : parseDatabaseRefs(event.databases);
  return replicationStatus(ctx, request, databases);
}
