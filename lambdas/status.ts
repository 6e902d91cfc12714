/**
 * `ReplicationStatus`: `{ request, databases?, waitingSince? }` → `{ databases, allInSync, waitingSince, expired,
 * reason }`. Without `databases` (the `status` action) the replicating databases are discovered on the target.
 * `waitingSince` (empty on the first poll) bounds the workflow's sync wait by `request.syncTimeoutSeconds`.
 */
import { parseRequest } from '../core/request.js';
import { discoverDatabases, parseDatabaseRefs, replicationStatus, syncWait } from '../core/steps/replication/index.js';
import { createRunContext } from './shared/context.js';
import { powertoolsLogger } from './shared/logger.js';

const logger = powertoolsLogger();

export async function handler(event: { request?: unknown; databases?: unknown; waitingSince?: unknown }) {
  const request = parseRequest(event.request);
  const ctx = await createRunContext(request, logger);
  const databases =
    event.databases === undefined ? await discoverDatabases(ctx, request) : parseDatabaseRefs(event.databases);
  const status = await replicationStatus(ctx, request, databases);
  const wait = syncWait({
    waitingSince: typeof event.waitingSince === 'string' ? event.waitingSince : undefined,
    now: new Date(),
    timeoutSeconds: request.syncTimeoutSeconds,
    allInSync: status.allInSync,
    databases: status.databases,
  });
  return { ...status, ...wait };
}
