/**
 * `CleanupDatabase` (the Map's Catch): `{ request, database, error }` → a `failed` DatabaseResult, after dropping
 * the database's replication objects (an orphaned slot keeps WAL on the source).
 */
import { parseRequest } from '../core/request.js';
import { cleanupDatabase, parseCaughtError, parsePlannedDatabase } from '../core/steps/replication/index.js';
import { createRunContext } from './shared/context.js';
import { powertoolsLogger } from './shared/logger.js';

const logger = powertoolsLogger();

export async function handler(event: { request?: unknown; database?: unknown; error?: unknown }) {
  const request = parseRequest(event.request);
  const database = parsePlannedDatabase(event.database);
  const error = parseCaughtError(event.error);
  const ctx = await createRunContext(request, logger);
  return cleanupDatabase(ctx, request, database, error);
}
