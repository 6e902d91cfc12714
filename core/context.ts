/**
 * What every check and step receives: the two servers, the injected logger and progress listener, and an
 * AbortSignal (Ctrl-C, StopExecution, SIGTERM).
 */
import type { ConnectionSpec } from './connection.js';
import type { Logger, ProgressListener } from './logger.js';

export interface RunContext {
  readonly source: ConnectionSpec;
  readonly target: ConnectionSpec;
  readonly logger: Logger;
  readonly progress: ProgressListener;
  readonly signal?: AbortSignal;
  /**
   * Free bytes on the target's disk, from outside PostgreSQL (RDS CloudWatch FreeStorageSpace), when the caller
   * can measure it. undefined: unknown.
   */
  readonly targetFreeBytes?: () => Promise<number | undefined>;
  /**
   * Replaces the distributions' directories searched for pg_dump / pg_restore (core/pgtools-locate.ts), as a task
   * image's `/usr/lib/postgresql/<N>/bin` would be: tests. `PG_MIGRATE_PG_BIN` and PATH are searched as always.
   */
  readonly pgToolDirs?: readonly string[];
}
