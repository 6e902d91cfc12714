/**
 * Metrics: core's progress events tallied per database (core/metrics.ts) and published as CloudWatch EMF documents
 * through Powertools Metrics (lambdas/shared/metrics.ts), captured from stdout as CloudWatch Logs would read them.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ProgressEvent } from '../../core/logger.js';
import { METRIC_NAMES, MetricsTally, PHASES, phaseNumber } from '../../core/metrics.js';
import { createProgressMetrics, metricsEnabled, metricsNamespace } from '../../lambdas/shared/metrics.js';

type Emf = {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[];
  };
} & Record<string, unknown>;

const copied = (database: string, table: string, rows: number, bytes: number): ProgressEvent => ({
  kind: 'table',
  database,
  table,
  rows,
  bytes,
  done: true,
});

describe('MetricsTally', () => {
  it('sums the rows and bytes of finished tables and counts them against the total of the copy', () => {
    const tally = new MetricsTally();
    tally.record({ kind: 'phase', database: 'shop', phase: 'copy' });
    tally.record({ kind: 'tables', database: 'shop', done: 1, total: 4 });
    tally.record({ kind: 'table', database: 'shop', table: 'public.a', rows: 5, bytes: 50, done: false });
    tally.record(copied('shop', 'public.a', 10, 100));
    tally.record(copied('shop', 'public.b', 20, 300));
    expect(tally.drain()).toEqual([
      {
        database: 'shop',
        phase: 'copy',
        values: { RowsCopied: 30, BytesCopied: 400, TablesDone: 3, TablesTotal: 4, Phase: phaseNumber('copy') },
      },
    ]);
    // The next sample counts from the previous one: rows and bytes afresh, tables done of total carried on.
    tally.record(copied('shop', 'public.c', 7, 70));
    expect(tally.drain()).toEqual([
      { database: 'shop', values: { RowsCopied: 7, BytesCopied: 70, TablesDone: 4, TablesTotal: 4 } },
    ]);
    expect(tally.drain()).toEqual([]);
  });

  it('keeps the latest replication reading per database, the apply worker as 1 or 0', () => {
    const tally = new MetricsTally();
    tally.record({ kind: 'replication', database: 'shop', applyRunning: true, tables: 4, ready: 4, lagBytes: 900 });
    tally.record({ kind: 'replication', database: 'shop', applyRunning: false, tables: 4, ready: 4, lagBytes: 120 });
    tally.record({ kind: 'replication', database: 'crm', applyRunning: true, tables: 2, ready: 1 });
    expect(tally.drain()).toEqual([
      { database: 'shop', values: { ReplicationLagBytes: 120, ApplyWorkerUp: 0 } },
      { database: 'crm', values: { ApplyWorkerUp: 1 } },
    ]);
  });

  it('leaves out events without a database and table progress that has not finished', () => {
    const tally = new MetricsTally();
    tally.record({ kind: 'phase', phase: 'roles' });
    tally.record({ kind: 'table', database: 'shop', table: 'public.a', rows: 5, bytes: 50, done: false });
    expect(tally.pending).toBe(false);
    expect(tally.drain()).toEqual([]);
  });

  it('numbers phases by their order in a run, 0 for an unknown one', () => {
    expect(PHASES.map(phaseNumber)).toEqual(PHASES.map((_, i) => i + 1));
    expect(phaseNumber('pre-data')).toBeLessThan(phaseNumber('copy'));
    expect(phaseNumber('something else')).toBe(0);
  });
});

describe('metricsEnabled', () => {
  it.each([
    ['in a Lambda function', { AWS_LAMBDA_FUNCTION_NAME: 'pg-migrate-status' }, 'lambda', true],
    ['in an ECS task', { ECS_CONTAINER_METADATA_URI_V4: 'http://169.254.170.2/v4/x' }, 'task', true],
    ['when asked locally', { PG_MIGRATE_METRICS: 'on' }, 'task', true],
    ['when asked with true', { PG_MIGRATE_METRICS: 'TRUE' }, 'lambda', true],
  ] as const)('publishes %s', (_label, env, host, expected) => {
    expect(metricsEnabled(env, host)).toBe(expected);
  });

  it.each([
    ['locally (the CLI: neither a Lambda nor an ECS task)', {}, 'lambda'],
    ['for the task locally', {}, 'task'],
    ['for a Lambda handler running in an ECS container', { ECS_CONTAINER_METADATA_URI_V4: 'http://x' }, 'lambda'],
    ['when turned off on AWS', { AWS_LAMBDA_FUNCTION_NAME: 'f', PG_MIGRATE_METRICS: 'off' }, 'lambda'],
  ] as const)('publishes nothing %s', (_label, env, host) => {
    expect(metricsEnabled(env, host)).toBe(false);
  });

  it('takes the namespace from POWERTOOLS_METRICS_NAMESPACE, PgMigrate by default', () => {
    expect(metricsNamespace({})).toBe('PgMigrate');
    expect(metricsNamespace({ POWERTOOLS_METRICS_NAMESPACE: 'Team/Migrations' })).toBe('Team/Migrations');
  });
});

describe('createProgressMetrics', () => {
  let lines: string[];
  beforeEach(() => {
    lines = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      return true;
    });
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });
  const documents = () => lines.map((line) => JSON.parse(line) as Emf);

  it('publishes one EMF document per database with per-database and rollup dimension sets', () => {
    const metrics = createProgressMetrics({
      env: { AWS_LAMBDA_FUNCTION_NAME: 'pg-migrate-status', POWERTOOLS_METRICS_NAMESPACE: 'Team/Migrations' },
      host: 'lambda',
    });
    metrics.listener({
      kind: 'replication',
      database: 'shop',
      applyRunning: false,
      tables: 3,
      ready: 3,
      lagBytes: 4096,
    });
    const [doc, ...rest] = documents();
    expect(rest).toEqual([]);
    expect(doc?._aws.CloudWatchMetrics).toEqual([
      {
        Namespace: 'Team/Migrations',
        Dimensions: [['service', 'Database'], ['service']],
        Metrics: [
          { Name: METRIC_NAMES.replicationLagBytes, Unit: 'Bytes' },
          { Name: METRIC_NAMES.applyWorkerUp, Unit: 'Count' },
        ],
      },
    ]);
    expect(doc).toMatchObject({ service: 'pg-migrate', Database: 'shop', ReplicationLagBytes: 4096, ApplyWorkerUp: 0 });
  });

  it('buffers copied tables in the task until the interval or close, and publishes a phase at once', () => {
    const metrics = createProgressMetrics({
      env: { ECS_CONTAINER_METADATA_URI_V4: 'http://169.254.170.2/v4/x' },
      host: 'task',
      flushIntervalMs: 60_000,
    });
    metrics.listener({ kind: 'phase', database: 'shop', phase: 'copy' });
    expect(documents()).toHaveLength(1);
    expect(documents()[0]).toMatchObject({ Database: 'shop', Phase: phaseNumber('copy'), phase: 'copy' });
    metrics.listener(copied('shop', 'public.a', 10, 100));
    metrics.listener(copied('shop', 'public.b', 5, 50));
    metrics.listener(copied('crm', 'public.c', 1, 8));
    expect(documents()).toHaveLength(1);
    metrics.close();
    const [, shop, crm] = documents();
    expect(documents()).toHaveLength(3);
    expect(shop).toMatchObject({ Database: 'shop', RowsCopied: 15, BytesCopied: 150, TablesDone: 2 });
    expect(crm).toMatchObject({ Database: 'crm', RowsCopied: 1, BytesCopied: 8, TablesDone: 1 });
    expect(shop?._aws.CloudWatchMetrics[0]?.Namespace).toBe('PgMigrate');
    expect(shop?._aws.CloudWatchMetrics[0]?.Metrics).toEqual([
      { Name: 'RowsCopied', Unit: 'Count' },
      { Name: 'BytesCopied', Unit: 'Bytes' },
      { Name: 'TablesDone', Unit: 'Count' },
    ]);
  });

  it('writes nothing to stdout locally', () => {
    const metrics = createProgressMetrics({ env: {}, host: 'task', flushIntervalMs: 60_000 });
    expect(metrics.enabled).toBe(false);
    metrics.listener({ kind: 'phase', database: 'shop', phase: 'copy' });
    metrics.listener(copied('shop', 'public.a', 10, 100));
    metrics.close();
    expect(lines).toEqual([]);
  });
});
