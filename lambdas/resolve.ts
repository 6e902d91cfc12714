/**
 * `ResolveRequest`: the raw execution input → the parsed {@link Request} (defaults filled; connection references,
 * never credentials). Bad input throws `PgMigrate.BadInput`, which the state machine routes to the report.
 */
import { parseRequest, type Request } from '../core/request.js';
import { powertoolsLogger } from './shared/logger.js';

const logger = powertoolsLogger();

export function handler(event: unknown): Promise<Request> {
  return Promise.resolve().then(() => {
    try {
      const request = parseRequest(event);
      logger.info('request resolved', { action: request.action, method: request.method });
      return request;
    } catch (err) {
      logger.error('bad request', { error: err instanceof Error ? err.message : String(err) });
      throw err;
    }
  });
}
