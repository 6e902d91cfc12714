/**
 * `ResolveRequest`: the raw execution input → the parsed {@link Request} (defaults filled; connection references,
 * never credentials). Bad input throws `PgMigrate.BadInput`, which the state machine routes to the report. A `uri`
 * reference where plain URIs are off, or a secret outside the deployment's, is refused first, before anything is
 * logged (core/ref-policy.ts).
 */
import { InputError } from '../core/errors.js';
import { parseRequest, type Request } from '../core/request.js';
import { powertoolsLogger } from './shared/logger.js';
import { requestRefProblems } from '../core/ref-policy.js';

const logger = powertoolsLogger();

export function handler(event: unknown): Promise<Request> {
  return Promise.resolve().then(() => {
    try {
      const refused = requestRefProblems(event, process.env);
      if (refused.length > 0) throw new InputError(refused);
      const request = parseRequest(event);
      logger.info('request resolved', { action: request.action, method: request.method });
      return request;
    } catch (err) {
      logger.error('bad request', { error: err instanceof Error ? err.message : String(err) });
      throw err;
    }
  });
}
