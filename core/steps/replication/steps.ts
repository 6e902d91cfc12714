/**
 * The dump engine's steps the replication method builds on (schema, parallel COPY, sequences, large objects,
 * verification), behind one small interface so that the method's own logic does not depend on their option shapes.
 * {@link defaultSteps} wires the real ones; tests may replace single steps.
 */
import type { RunContext } from '../../context.js';
import { PermanentError } from '../../errors.js';
import type { PlannedDatabase } from '../../plan.js';
import type { TableResult } from '../../report.js';
import type { Request } from '../../request.js';
import type { TableName } from './sql.js';

export interface CopySummary {
  readonly tables: number;
  readonly rows: number;
  readonly bytes: number;
}

export interface ReplicationSteps {
  /** Creates the target database when missing. */
  ensureTargetDatabase(ctx: RunContext, request: Request, database: PlannedDatabase): Promise<void>;
  /** Restores the pre-data section (types, tables, functions, …) into the target database. */
  restorePreData(ctx: RunContext, request: Request, database: PlannedDatabase): Promise<void>;
  /** Restores the post-data section (indexes, constraints, triggers). */
  restorePostData(ctx: RunContext, request: Request, database: PlannedDatabase): Promise<void>;
  /**
   * Copies table data source → target with the parallel COPY engine: every selected table, or only `tables`;
   * under `snapshot` (an exported snapshot id) when given. The target tables are empty.
   */
  copyTables(
    ctx: RunContext,
    request: Request,
    database: PlannedDatabase,
    options: { readonly snapshot?: string; readonly tables?: readonly TableName[] },
  ): Promise<CopySummary>;
  /** Sets every target sequence to the source's value. */
  copySequences(ctx: RunContext, request: Request, database: PlannedDatabase): Promise<void>;
  /** Copies large objects (replacing those on the target). */
  copyLargeObjects(ctx: RunContext, request: Request, database: PlannedDatabase): Promise<void>;
  /** Per-table row counts (and checksums when the request asks) on both sides. */
  verifyTables(ctx: RunContext, request: Request, database: PlannedDatabase): Promise<TableResult[]>;
}

function missing(step: string): never {
  throw new PermanentError(`the dump engine's ${step} step is not available in this build`);
}

/** The dump engine's steps. */
export const defaultSteps: ReplicationSteps = {
  ensureTargetDatabase: () => missing('ensureTargetDatabase'),
  restorePreData: () => missing('restorePreData'),
  restorePostData: () => missing('restorePostData'),
  copyTables: () => missing('copyTables'),
  copySequences: () => missing('copySequences'),
  copyLargeObjects: () => missing('copyLargeObjects'),
  verifyTables: () => missing('verifyTables'),
};

/** The default steps with some replaced. */
export function resolveSteps(overrides: Partial<ReplicationSteps> = {}): ReplicationSteps {
  return { ...defaultSteps, ...overrides };
}
