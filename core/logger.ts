/**
 * The logger core/ writes to. Injected: Powertools Logger on AWS, a human printer in the CLI, a silent one in
 * tests. core/ never calls console.
 */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** Discards everything. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};

/** Progress events for live views (CLI bars, task logs). */
export type ProgressEvent =
  | { readonly kind: 'phase'; readonly database?: string; readonly phase: string; readonly detail?: string }
  | {
      readonly kind: 'table';
      readonly database: string;
      readonly table: string;
      readonly rows: number;
      readonly bytes: number;
      readonly totalBytes?: number;
      readonly done: boolean;
    }
  /** The copy of a database starts: `total` tables to copy, `done` of them already copied by an earlier run. */
  | { readonly kind: 'tables'; readonly database: string; readonly done: number; readonly total: number }
  /**
   * One reading of a database's replication: the apply worker (enabled and running), the tables ready of those
   * subscribed, and the lag in bytes (undefined: not known yet).
   */
  | {
      readonly kind: 'replication';
      readonly database: string;
      readonly applyRunning: boolean;
      readonly tables: number;
      readonly ready: number;
      readonly lagBytes?: number;
    };

export type ProgressListener = (event: ProgressEvent) => void;

export const noProgress: ProgressListener = () => {};
