/**
 * The run's metrics as data: their names and units, and {@link MetricsTally}, which turns core's progress events
 * into one sample per database. Pure: the shells (lambdas/shared/metrics.ts, tasks/main.ts) publish the samples
 * (CloudWatch EMF through Powertools Metrics on AWS); the construct's dashboard and alarms read the same names.
 *
 * @example
 * ```ts
 * const tally = new MetricsTally();
 * tally.record({ kind: 'table', database: 'shop', table: 'public.orders', rows: 10, bytes: 800, done: true });
 * tally.drain(); // [{ database: 'shop', values: { RowsCopied: 10, BytesCopied: 800, TablesDone: 1 } }]
 * ```
 */
import type { ProgressEvent } from './logger.js';

/** `on` (also `true`, `1`): publish; `off` (`false`, `0`): never; `auto` or unset: only on AWS. */
export const METRICS_ENV = 'PG_MIGRATE_METRICS';
/** The CloudWatch namespace (Powertools' own variable). @default {@link DEFAULT_METRICS_NAMESPACE} */
export const METRICS_NAMESPACE_ENV = 'POWERTOOLS_METRICS_NAMESPACE';

/** The namespace metrics go to when the deployment names none. */
export const DEFAULT_METRICS_NAMESPACE = 'PgMigrate';

/** The `service` dimension of every metric (Powertools' service name). */
export const METRICS_SERVICE = 'pg-migrate';

/** The dimension naming the database of a sample. Every sample is also published without it (the run's rollup). */
export const DATABASE_DIMENSION = 'Database';

/** The metrics, by name. */
export const METRIC_NAMES = {
  /** Rows copied since the previous sample (sum them over time). */
  rowsCopied: 'RowsCopied',
  /** Bytes copied since the previous sample (COPY data as it crossed the wire). */
  bytesCopied: 'BytesCopied',
  /** Tables copied so far in this database's copy (an earlier run's tables included). */
  tablesDone: 'TablesDone',
  /** Tables this database's copy has to copy. */
  tablesTotal: 'TablesTotal',
  /** The phase the database is in, as its number in {@link PHASES} (0: another phase). */
  phase: 'Phase',
  /** Source WAL not yet confirmed by the subscription, bytes. */
  replicationLagBytes: 'ReplicationLagBytes',
  /** 1 while the subscription is enabled and its apply worker runs, 0 otherwise. */
  applyWorkerUp: 'ApplyWorkerUp',
} as const;

export type MetricName = (typeof METRIC_NAMES)[keyof typeof METRIC_NAMES];

/** CloudWatch units of the metrics. */
export const METRIC_UNITS: Readonly<Record<MetricName, 'Count' | 'Bytes' | 'None'>> = {
  RowsCopied: 'Count',
  BytesCopied: 'Bytes',
  TablesDone: 'Count',
  TablesTotal: 'Count',
  Phase: 'None',
  ReplicationLagBytes: 'Bytes',
  ApplyWorkerUp: 'Count',
};

/** The phases of a database in the order a run meets them; the `Phase` metric is the 1-based position. */
export const PHASES = [
  'database',
  'schema',
  'pre-data',
  'copy',
  'post-data',
  'sequences',
  'large-objects',
  'analyze',
  'subscribe',
  'sync',
  'cutover',
  'verify',
] as const;

/** The `Phase` metric's value of a phase name: its 1-based position in {@link PHASES}, 0 when it is not there. */
export function phaseNumber(phase: string): number {
  return (PHASES as readonly string[]).indexOf(phase) + 1;
}

/** What one database measured since the previous sample. */
export interface MetricSample {
  readonly database: string;
  readonly values: Readonly<Partial<Record<MetricName, number>>>;
  /** The phase's name, when the phase changed since the previous sample (published as metadata beside `Phase`). */
  readonly phase?: string;
}

interface Pending {
  rows: number;
  bytes: number;
  copied: boolean;
  tablesDone: number;
  tablesChanged: boolean;
  phase?: string;
  lagBytes?: number;
  applyUp?: number;
}

/**
 * Accumulates progress events per database until {@link drain}: rows and bytes are summed over the finished
 * tables, tables done / total, the phase, the lag and the apply worker keep their latest value. Table progress
 * that has not finished is not counted (a finished table reports its exact totals). Events without a database (the
 * run's roles) carry no per-database metric and are left out.
 */
export class MetricsTally {
  readonly #pending = new Map<string, Pending>();
  /** Per database: tables done and total of its copy, kept across drains (a sample of one repeats the other). */
  readonly #tables = new Map<string, { done: number; total?: number }>();

  #of(database: string): Pending {
    let pending = this.#pending.get(database);
    if (!pending) {
      pending = {
        rows: 0,
        bytes: 0,
        copied: false,
        tablesDone: this.#tables.get(database)?.done ?? 0,
        tablesChanged: false,
      };
      this.#pending.set(database, pending);
    }
    return pending;
  }

  record(event: ProgressEvent): void {
    switch (event.kind) {
      case 'phase': {
        if (event.database !== undefined) this.#of(event.database).phase = event.phase;
        return;
      }
      case 'tables': {
        const pending = this.#of(event.database);
        pending.tablesDone = event.done;
        pending.tablesChanged = true;
        this.#tables.set(event.database, { done: event.done, total: event.total });
        return;
      }
      case 'table': {
        if (!event.done) return;
        const pending = this.#of(event.database);
        pending.rows += event.rows;
        pending.bytes += event.bytes;
        pending.copied = true;
        pending.tablesDone += 1;
        pending.tablesChanged = true;
        this.#tables.set(event.database, { ...this.#tables.get(event.database), done: pending.tablesDone });
        return;
      }
      case 'replication': {
        const pending = this.#of(event.database);
        pending.applyUp = event.applyRunning ? 1 : 0;
        if (event.lagBytes !== undefined) pending.lagBytes = event.lagBytes;
        return;
      }
    }
  }

  /** Whether a sample is waiting. */
  get pending(): boolean {
    return this.#pending.size > 0;
  }

  /** The samples since the previous drain, one per database that measured something; then starts afresh. */
  drain(): MetricSample[] {
    const samples: MetricSample[] = [];
    for (const [database, p] of this.#pending) {
      const values: Partial<Record<MetricName, number>> = {};
      if (p.copied) {
        values.RowsCopied = p.rows;
        values.BytesCopied = p.bytes;
      }
      if (p.tablesChanged) {
        values.TablesDone = p.tablesDone;
        const total = this.#tables.get(database)?.total;
        if (total !== undefined) values.TablesTotal = total;
      }
      if (p.phase !== undefined) values.Phase = phaseNumber(p.phase);
      if (p.lagBytes !== undefined) values.ReplicationLagBytes = p.lagBytes;
      if (p.applyUp !== undefined) values.ApplyWorkerUp = p.applyUp;
      if (Object.keys(values).length === 0) continue;
      samples.push({ database, values, ...(p.phase !== undefined ? { phase: p.phase } : {}) });
    }
    this.#pending.clear();
    return samples;
  }
}
