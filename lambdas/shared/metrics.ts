/**
 * Metrics from the Lambdas and the task: core's progress events, tallied per database (core/metrics.ts), published
 * as CloudWatch embedded metric format (EMF) documents through Powertools Metrics. On AWS they go to stdout, where
 * CloudWatch Logs turns them into metrics; locally (the CLI) they go nowhere unless `PG_MIGRATE_METRICS=on`.
 *
 * Every document carries two dimension sets: `[service, Database]` (per database, what the dashboard shows) and
 * `[service]` (the run's rollup, what the alarms watch: one metric whatever the databases are called).
 *
 * @example
 * ```ts
 * const metrics = createProgressMetrics({ env: process.env, host: 'task', flushIntervalMs: 60_000 });
 * const ctx = await createRunContext(request, logger, { progress: metrics.listener });
 * try { await runTask(ctx, input); } finally { metrics.close(); }
 * ```
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Logger, ProgressEvent, ProgressListener } from '../../core/logger.js';
import {
  DATABASE_DIMENSION,
  DEFAULT_METRICS_NAMESPACE,
  type MetricName,
  type MetricSample,
  METRIC_UNITS,
  METRICS_ENV,
  METRICS_NAMESPACE_ENV,
  METRICS_SERVICE,
  MetricsTally,
} from '../../core/metrics.js';

/** Where the code runs: decides what `auto` means. */
export type MetricsHost = 'lambda' | 'task';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Whether to publish. `auto`: in a Lambda function (`AWS_LAMBDA_FUNCTION_NAME`) for `lambda`, in an ECS task
 * (`ECS_CONTAINER_METADATA_URI_V4`) for `task`; the CLI's in-process handlers and its task child are neither.
 */
export function metricsEnabled(env: Env, host: MetricsHost): boolean {
  const mode = (env[METRICS_ENV] ?? '').trim().toLowerCase();
  if (['on', 'true', '1'].includes(mode)) return true;
  if (['off', 'false', '0'].includes(mode)) return false;
  return host === 'lambda' ? Boolean(env.AWS_LAMBDA_FUNCTION_NAME) : Boolean(env.ECS_CONTAINER_METADATA_URI_V4);
}

/** The namespace from the environment, or the default. */
export function metricsNamespace(env: Env): string {
  return env[METRICS_NAMESPACE_ENV]?.trim() || DEFAULT_METRICS_NAMESPACE;
}

const POWERTOOLS_UNITS = { Count: MetricUnit.Count, Bytes: MetricUnit.Bytes, None: MetricUnit.NoUnit } as const;

/** Publishes samples, one EMF document per database. */
export function publishSamples(metrics: Metrics, samples: readonly MetricSample[]): void {
  for (const sample of samples) {
    metrics.addDimension(DATABASE_DIMENSION, sample.database);
    // A second dimension set with the default dimension only (service): the rollup the alarms read.
    metrics.addDimensions({});
    for (const [name, value] of Object.entries(sample.values)) {
      metrics.addMetric(name, POWERTOOLS_UNITS[METRIC_UNITS[name as MetricName]], value);
    }
    if (sample.phase !== undefined) metrics.addMetadata('phase', sample.phase);
    metrics.publishStoredMetrics();
  }
}

export interface ProgressMetricsOptions {
  readonly env: Env;
  readonly host: MetricsHost;
  /**
   * How often buffered samples are published (copied tables, replication readings); phase changes and the start of
   * a copy publish at once. 0: every event at once (a Lambda, which ends soon after).
   * @default 0
   */
  readonly flushIntervalMs?: number;
  /** Where Powertools' own warnings go. @default - Powertools' console */
  readonly logger?: Logger;
  /** The Metrics instance (tests pass one). @default - a new one: namespace from the env, service `pg-migrate` */
  readonly metrics?: Metrics;
}

/** A progress listener that publishes metrics, and how to end it. */
export interface ProgressMetrics {
  readonly enabled: boolean;
  readonly listener: ProgressListener;
  /** Publishes what is buffered. */
  flush(): void;
  /** Publishes what is buffered and stops the timer. */
  close(): void;
}

const disabled: ProgressMetrics = { enabled: false, listener: () => {}, flush() {}, close() {} };

/** Metrics from progress events, or a listener that does nothing when {@link metricsEnabled} says no. */
export function createProgressMetrics(options: ProgressMetricsOptions): ProgressMetrics {
  if (!metricsEnabled(options.env, options.host)) return disabled;
  const metrics =
    options.metrics ??
    new Metrics({
      namespace: metricsNamespace(options.env),
      serviceName: METRICS_SERVICE,
      ...(options.logger ? { logger: options.logger } : {}),
    });
  const tally = new MetricsTally();
  const flush = () => {
    if (!tally.pending) return;
    try {
      publishSamples(metrics, tally.drain());
    } catch (err) {
      // Metrics never stop a migration.
      options.logger?.warn('could not publish metrics', { error: err instanceof Error ? err.message : String(err) });
    }
  };
  const interval = options.flushIntervalMs ?? 0;
  const timer = interval > 0 ? setInterval(flush, interval) : undefined;
  timer?.unref();
  const immediate = (event: ProgressEvent) => interval <= 0 || event.kind === 'phase' || event.kind === 'tables';
  return {
    enabled: true,
    listener: (event) => {
      tally.record(event);
      if (immediate(event)) flush();
    },
    flush,
    close() {
      if (timer) clearInterval(timer);
      flush();
    },
  };
}

let lambdaMetrics: ProgressMetrics | undefined;

/** The Lambda's metrics (one per execution environment, publishing every event at once). */
export function lambdaProgressMetrics(logger: Logger): ProgressMetrics {
  lambdaMetrics ??= createProgressMetrics({ env: process.env, host: 'lambda', logger });
  return lambdaMetrics;
}

/** Calls every listener with each event. */
export function fanOut(...listeners: readonly ProgressListener[]): ProgressListener {
  return (event) => {
    for (const listener of listeners) listener(event);
  };
}
