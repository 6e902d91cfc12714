/** The Powertools Logger, adapted to core's {@link Logger} (JSON lines in CloudWatch). */
import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { scrub } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';

/** A core Logger writing structured JSON through Powertools; every message is scrubbed. */
export function powertoolsLogger(serviceName = 'pg-migrate'): Logger & { readonly powertools: PowertoolsLogger } {
  const powertools = new PowertoolsLogger({ serviceName });
  return {
    powertools,
    debug: (message, fields) => powertools.debug(scrub(message), fields ?? {}),
    info: (message, fields) => powertools.info(scrub(message), fields ?? {}),
    warn: (message, fields) => powertools.warn(scrub(message), fields ?? {}),
    error: (message, fields) => powertools.error(scrub(message), fields ?? {}),
  };
}
