/**
 * The plan: all check results turned into, per database, the method and the blockers.
 * `buildPlan` is the pure function from check results to plan.
 */
import type { CheckResult, Method } from './report.js';

export interface PlannedDatabase {
  /** Source database name (exact; may hold any character). */
  readonly name: string;
  readonly method: Method;
  /** Why this method (e.g. "wal_level is replica on the source: dump"). */
  readonly reasons: readonly string[];
  /** Tables (`schema.table`) without primary key / replica identity that get REPLICA IDENTITY FULL (with consent). */
  readonly replicaIdentityFull: readonly string[];
  /** Whether the target database exists already (the run creates it otherwise). */
  readonly targetExists: boolean;
}

export interface Plan {
  /** True when something blocks: nothing may be written to the target. */
  readonly blocked: boolean;
  /** The failing checks that block (status `fail`). */
  readonly blockers: readonly CheckResult[];
  /** Databases to migrate, in order. */
  readonly databases: readonly PlannedDatabase[];
  /** Every check result, flattened. */
  readonly checks: readonly CheckResult[];
}
