/**
 * Runs one dump migration in its own process, for the kill-and-resume test.
 * Env: DRIVER_SOURCE, DRIVER_TARGET (URIs), DRIVER_DB; prints the DatabaseResult as JSON.
 */
import { parseConnectionString } from '../../../core/connection.js';
import { silentLogger } from '../../../core/logger.js';
import { migrateByDump } from '../../../core/steps/dump.js';
import { planned, requestFor } from './support.js';

const result = await migrateByDump(
  {
    source: parseConnectionString(process.env.DRIVER_SOURCE ?? '', 'source'),
    target: parseConnectionString(process.env.DRIVER_TARGET ?? '', 'target'),
    logger: silentLogger,
    progress: () => {},
  },
  requestFor({ checksums: false }),
  planned(process.env.DRIVER_DB ?? ''),
);
process.stdout.write(`${JSON.stringify(result)}\n`);
