import { describe, expect, it } from 'vitest';
import type { Plan } from '../../../core/plan.js';
import type { CheckResult, DatabaseResult } from '../../../core/report.js';
import { buildReport } from '../../../core/report-builder.js';

const conn = (id: string, host: string): CheckResult => ({
  id,
  status: 'pass',
  message: 'ok',
  remedy: '',
  details: { host, port: 5432, version: '15.8', versionNum: 150008 },
});
const fail: CheckResult = { id: 'extensions', status: 'fail', message: 'x', remedy: '' };
const replFail: CheckResult = {
  id: 'primary-keys',
  status: 'fail',
  message: 'x',
  remedy: '',
  details: { replicationOnly: true },
};
const plan = (blocked: boolean): Plan => ({
  blocked,
  blockers: blocked ? [fail] : [],
  databases: [],
  checks: [conn('connection-source', 'src'), conn('connection-target', 'tgt')],
});
const db = (status: DatabaseResult['status']): DatabaseResult => ({
  name: 'a',
  method: 'dump',
  status,
  tables: 1,
  rows: 1,
  bytes: 1,
  durationMs: 1,
  lagBytes: 0,
  message: '',
});
const startedAt = '2026-01-01T00:00:00.000Z';
const now = Date.parse(startedAt) + 1234;

describe('buildReport', () => {
  it.each<[string, Parameters<typeof buildReport>[0], boolean]>([
    ['check, plan not blocked', { action: 'check', startedAt, plan: plan(false), now }, true],
    ['check, plan blocked', { action: 'check', startedAt, plan: plan(true), now }, false],
    ['check without plan, a blocking failure', { action: 'check', startedAt, checks: [[fail]], now }, false],
    [
      'check without plan, only a replication-only failure',
      { action: 'check', startedAt, checks: [[replFail]], now },
      true,
    ],
    [
      'migrate, every database done',
      { action: 'migrate', startedAt, plan: plan(false), databases: [db('done'), db('replicating')], now },
      true,
    ],
    [
      'migrate, a database failed',
      { action: 'migrate', startedAt, plan: plan(false), databases: [db('done'), db('failed')], now },
      false,
    ],
    ['migrate, blocked', { action: 'migrate', startedAt, plan: plan(true), now }, false],
  ])('%s → ok %s', (_name, input, ok) => {
    expect(buildReport(input).ok).toBe(ok);
  });

  it('measures the duration and takes the servers from the connection checks', () => {
    const report = buildReport({
      action: 'check',
      startedAt,
      checks: [[conn('connection-source', 'src')], [conn('connection-target', 'tgt')]],
      now,
    });
    expect(report).toMatchObject({
      durationMs: 1234,
      source: { host: 'src', port: 5432, version: '15.8' },
      target: { host: 'tgt' },
    });
    expect(report.source).toEqual({ host: 'src', port: 5432, version: '15.8' });
    expect(report.checks).toHaveLength(2);
  });

  it('accepts a flat list of checks, or takes them from the plan', () => {
    expect(buildReport({ action: 'check', startedAt, checks: [fail, replFail], now }).checks).toHaveLength(2);
    expect(buildReport({ action: 'check', startedAt, plan: plan(false), now }).checks).toHaveLength(2);
  });

  it('prefers the given server info and survives a bad timestamp', () => {
    const report = buildReport({
      action: 'status',
      startedAt: 'yesterday',
      source: { host: 'h', port: 1, version: '16.1' },
    });
    expect(report).toMatchObject({ ok: true, durationMs: 0, source: { host: 'h' }, roles: [], databases: [] });
    expect(report.target).toBeUndefined();
  });
});
