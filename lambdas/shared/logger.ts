/**
 * The Powertools Logger behind core's {@link Logger} interface, and progress events as log lines. The RunContext a
 * Lambda or the task hands to core is built from them in context.ts.
 *
 * @example
 * ```ts
 * const { logger } = createLogger();
 * const context = await createRunContext(request, logger); // lambdas/shared/context.ts
 * ```
 */
import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { scrub } from '../../core/errors.js';
import type { Logger, ProgressListener } from '../../core/logger.js';

/** The service name in every log line (Powertools `service`). */
export const SERVICE_NAME = 'pg-migrate';

/** Fields are scrubbed like messages: a string field may carry an error message from a driver. */
function scrubFields(fields: Record<string, unknown> | undefined): Record<string, unknown> {
  if (fields === undefined) return {};
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) out[key] = typeof value === 'string' ? scrub(value) : value;
  return out;
}

/** Adapts a Powertools Logger to core's Logger. Messages and string fields go through `scrub()`. */
export function fromPowertools(logger: PowertoolsLogger): Logger {
  return {
    debug: (message, fields) => logger.debug(scrub(message), scrubFields(fields)),
    info: (message, fields) => logger.info(scrub(message), scrubFields(fields)),
    warn: (message, fields) => logger.warn(scrub(message), scrubFields(fields)),
    error: (message, fields) => logger.error(scrub(message), scrubFields(fields)),
  };
}

/**
 * A Powertools Logger (JSON lines; level from `POWERTOOLS_LOG_LEVEL`, default INFO) and core's view of it.
 * `keys` are appended to every line (e.g. `{ action, database }`).
 */
export function createLogger(keys: Record<string, string> = {}): {
  readonly powertools: PowertoolsLogger;
  readonly logger: Logger;
} {
  const powertools = new PowertoolsLogger({ serviceName: SERVICE_NAME, persistentKeys: keys });
  return { powertools, logger: fromPowertools(powertools) };
}

/**
 * Progress events as log lines: phases, the start of a copy and finished tables at info; table progress and
 * replication readings at debug.
 */
export function progressToLogger(logger: Logger): ProgressListener {
  return (event) => {
    if (event.kind === 'phase') {
      logger.info(`phase ${event.phase}`, {
        phase: event.phase,
        ...(event.database !== undefined ? { database: event.database } : {}),
        ...(event.detail !== undefined ? { detail: event.detail } : {}),
      });
      return;
    }
    if (event.kind === 'tables') {
      logger.info(`copying ${event.total} tables`, { ...event });
      return;
    }
    if (event.kind === 'replication') {
      logger.debug('replication state', { ...event });
      return;
    }
    const fields = { database: event.database, table: event.table, rows: event.rows, bytes: event.bytes };
    if (event.done) logger.info(`table ${event.table} copied`, fields);
    else logger.debug(`table ${event.table} progress`, { ...fields, totalBytes: event.totalBytes });
  };
}

/** A core Logger writing JSON lines through Powertools (service `serviceName`), with the Powertools instance alongside. */
export function powertoolsLogger(
  serviceName: string = SERVICE_NAME,
): Logger & { readonly powertools: PowertoolsLogger } {
  const powertools = new PowertoolsLogger({ serviceName });
  return { ...fromPowertools(powertools), powertools };
}
