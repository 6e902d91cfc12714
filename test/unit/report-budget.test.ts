/**
 * The payload budget: what the state carries of checks and databases (counts, mismatches, a few items), the store
 * that keeps everything, and the Report putting the full parts back together.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { compactCheckResult, compactDatabaseResult, MAX_LIST_ITEMS } from '../../core/report-budget.js';
import { checksKey, databaseKey, fullParts, REPORT_DIR_ENV, reportKey } from '../../core/report-store.js';
import type { CheckResult, DatabaseResult, Report } from '../../core/report.js';
import { buildPlan } from '../../core/plan.js';
import { handler as reportHandler } from '../../lambdas/report.js';
import { keepCheckResults, keepDatabaseResult } from '../../lambdas/shared/payload.js';
import { DirectoryReportStore } from '../../lambdas/shared/report-store.js';

const store = () => new DirectoryReportStore(mkdtempSync(join(tmpdir(), 'pgm-budget-')));

const tables = (n: number, bad: readonly number[] = []) =>
  Array.from({ length: n }, (_, i) => ({
    name: `public.t${i}`,
    sourceRows: 2,
    targetRows: bad.includes(i) ? 1 : 2,
    bytes: 10,
    durationMs: 1,
    ok: !bad.includes(i),
  }));

const database = (name: string, n: number, bad: readonly number[] = []): DatabaseResult => ({
  name,
  method: 'dump',
  status: bad.length > 0 ? 'failed' : 'done',
  tables: n,
  rows: 2 * n,
  bytes: 10 * n,
  durationMs: 5,
  lagBytes: 0,
  message: 'copied',
  verification: tables(n, bad),
});

const keyless: CheckResult = {
  id: 'primary-keys',
  status: 'warn',
  database: 'shop',
  message: '500 tables have no primary key',
  remedy: 'add keys, or consent to REPLICA IDENTITY FULL',
  details: { tables: Array.from({ length: 500 }, (_, i) => `public.k${i}`), count: 500 },
};

describe('the compact forms the state carries', () => {
  it('keeps the first items of a long check list and says how long it was', () => {
    const compact = compactCheckResult(keyless);
    expect(compact.details?.tables).toHaveLength(MAX_LIST_ITEMS);
    expect(compact.details?.truncated).toEqual({ tables: 500 });
    expect(compact.details?.count).toBe(500);
    expect(compactCheckResult({ ...keyless, details: { tables: ['a'] } }).details).toEqual({ tables: ['a'] });
  });

  it('keeps only the mismatching tables of a database, counting them all', () => {
    const compact = compactDatabaseResult(database('shop', 2000, [7, 1999]), 'runs/r/databases/x.json');
    expect(compact.verification?.map((t) => t.name)).toEqual(['public.t7', 'public.t1999']);
    expect(compact).toMatchObject({ verifiedTables: 2000, detail: 'runs/r/databases/x.json', tables: 2000 });
    expect(Buffer.byteLength(JSON.stringify(compact))).toBeLessThan(2048);
  });

  it('plans REPLICA IDENTITY FULL with the full count when the state cut the consented list', () => {
    const pass = (id: string, extra: Partial<CheckResult> = {}): CheckResult => ({
      id,
      status: 'pass',
      message: '',
      remedy: '',
      ...extra,
    });
    const plan = buildPlan({ method: 'replication', replicaIdentityFull: true }, [
      [pass('source-databases', { details: { databases: ['shop'] } })],
      [pass('replication-slots'), pass('replication-preconditions', { database: 'shop' })],
      [compactCheckResult(keyless)],
    ]);
    expect(plan.blocked).toBe(false);
    expect(plan.databases[0]?.method).toBe('replication');
    expect(plan.databases[0]?.reasons.join(' ')).toMatch(/REPLICA IDENTITY FULL \(consented\) for 500 table/);
  });
});

describe('the report store', () => {
  afterEach(() => {
    delete process.env[REPORT_DIR_ENV];
  });

  it('keeps full results under the run and puts them back for the report', async () => {
    const reports = store();
    const checks = await keepCheckResults([keyless, { ...keyless, database: 'crm' }], 'run-1', reports);
    const db = await keepDatabaseResult(database('shop', 1500, [3]), 'run-1', 'migrate', reports);
    expect(checks[0]?.details?.tables).toHaveLength(MAX_LIST_ITEMS);
    expect(db.verification).toHaveLength(1);
    expect(await reports.get(checksKey('run-1', 'primary-keys'))).toBeDefined();
    const full = await fullParts(reports, 'run-1', checks, [db]);
    expect(full.checks.map((c) => [c.database, (c.details?.tables as string[]).length])).toEqual([
      ['shop', 500],
      ['crm', 500],
    ]);
    expect(full.databases[0]?.verification).toHaveLength(1500);
    expect(full.databases[0]?.detail).toBeUndefined();
  });

  it('fails when a key would leave the run or the store', async () => {
    expect(() => reportKey('../etc')).toThrow(/not a run id/);
    expect(() => checksKey('run-1', '../x')).toThrow(/not a check id/);
    expect(databaseKey('run-1', '../../x', 'migrate')).toMatch(/^runs\/run-1\/databases\/migrate-[0-9a-f]{32}\.json$/);
    await expect(store().put('../outside.json', '{}')).rejects.toThrow(/outside the store/);
  });

  it('has the Report write the full report to the store and return the compact one naming it', async () => {
    const reports = store();
    process.env[REPORT_DIR_ENV] = reports.root;
    const db = await keepDatabaseResult(database('shop', 3000), 'run-2', 'migrate', reports);
    const { report, cause } = await reportHandler({
      request: { action: 'migrate' },
      run: { id: 'run-2', startedAt: new Date().toISOString() },
      checks: [],
      databases: [db],
    });
    expect(report.reportUri).toMatch(/^file:\/\/.*\/runs\/run-2\/report\.json$/);
    expect(report.databases[0]?.verification).toEqual([]);
    expect(Buffer.byteLength(JSON.stringify(report))).toBeLessThan(4096);
    expect(cause.length).toBeLessThan(32_768);
    const full = JSON.parse((await reports.get(reportKey('run-2'))) ?? '{}') as Report;
    expect(full.databases[0]?.verification).toHaveLength(3000);
    expect(full.reportUri).toBeUndefined();
  });
});
