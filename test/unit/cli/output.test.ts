import { describe, expect, it } from 'vitest';
import { bar, formatBytes, formatDuration, table, truncate } from '../../../cli/output/format.js';
import { parseLogLine } from '../../../cli/output/log-lines.js';
import { Printer } from '../../../cli/output/printer.js';
import { renderReport, verdict } from '../../../cli/output/summary.js';
import { registerSecret } from '../../../core/errors.js';
import type { Report } from '../../../core/report.js';

const report: Report = {
  ok: true,
  action: 'migrate',
  durationMs: 65_000,
  source: { host: '10.0.0.1', port: 5432, version: '14.11' },
  target: { host: '10.0.0.2', port: 5432, version: '16.2' },
  checks: [
    { id: 'version', status: 'pass', message: 'target 16.2 is newer than source 14.11', remedy: '' },
    {
      id: 'primary-keys',
      status: 'warn',
      database: 'shop',
      message: '1 table without a primary key: public.audit_log',
      remedy: 'add a primary key or pass --replica-identity-full',
    },
    { id: 'extensions', status: 'pass', database: 'shop', message: 'all available', remedy: '' },
    { id: 'extensions', status: 'pass', database: 'crm', message: 'all available', remedy: '' },
  ],
  roles: [
    { name: 'app_rw', status: 'created', message: '' },
    { name: 'postgres', status: 'exists', message: '' },
  ],
  warnings: [],
  databases: [
    {
      name: 'shop',
      method: 'dump',
      status: 'done',
      tables: 5,
      rows: 128_400,
      bytes: 12 * 1024 * 1024,
      durationMs: 4200,
      lagBytes: 0,
      message: '',
      verification: [
        { name: 'sales.orders', sourceRows: 30000, targetRows: 30000, bytes: 1, durationMs: 1, ok: true },
        { name: 'sales.order_items', sourceRows: 90000, targetRows: 89999, bytes: 1, durationMs: 1, ok: false },
      ],
    },
    {
      name: 'crm',
      method: 'replication',
      status: 'replicating',
      tables: 2,
      rows: 12_000,
      bytes: 2048,
      durationMs: 900,
      lagBytes: 512,
      message: 'in sync',
    },
  ],
};

describe('format helpers', () => {
  it('formats sizes, durations, bars and aligned tables', () => {
    expect([formatBytes(512), formatBytes(1536), formatBytes(12 * 1024 * 1024)]).toEqual(['512 B', '1.5 KB', '12 MB']);
    expect([formatDuration(45), formatDuration(1234), formatDuration(65_000), formatDuration(3_700_000)]).toEqual([
      '45ms',
      '1.2s',
      '1m 05s',
      '1h 01m',
    ]);
    expect(bar(0.5, 10)).toBe('█████░░░░░');
    expect(bar(undefined, 5, 2)).toBe('░███░');
    expect(
      table(
        [
          ['a', 'bbb', '1'],
          ['cc', 'd', '100'],
        ],
        [2],
      ),
    ).toEqual(['  a   bbb    1', '  cc  d    100']);
    expect(truncate('abcdefgh', 5)).toBe('abcd…\x1b[0m');
  });
});

describe('renderReport', () => {
  const text = renderReport(report, { verification: true }).join('\n');

  it('lists each check id once with its worst status, and the remedy of the findings that need attention', () => {
    expect(text).toMatch(/✔ +version +target 16.2 is newer/);
    expect(text).toMatch(/⚠ +primary-keys +1 table without a primary key/);
    expect(text).toContain('→ add a primary key or pass --replica-identity-full');
    expect(text).toMatch(/✔ +extensions +all available \(2 databases\)/);
    expect(text.match(/extensions/g)).toHaveLength(1);
  });

  it('shows roles, the databases table with method, status, rows, bytes, duration and lag, and the verification', () => {
    expect(text).toContain('created: app_rw');
    expect(text).toMatch(/shop +dump +done +5 +128,400 +12 MB +4.2s +-/);
    expect(text).toMatch(/crm +replication +replicating +2 +12,000 +2.0 KB +900ms +512 B/);
    expect(text).toMatch(/✖ +sales.order_items +90,000 +89,999/);
    expect(text).toContain('1/2 tables match');
    expect(text).toContain('OK — 1 database done, 1 replicating.');
  });

  it('shows only the mismatching tables when the verification is not asked for', () => {
    const short = renderReport(report).join('\n');
    expect(short).toContain('sales.order_items');
    expect(short).not.toMatch(/✔ +sales.orders/);
  });

  it('shows the plan of a check, whose report lists no databases, and notes failing findings that block nothing', () => {
    const check: Report = {
      ...report,
      action: 'check',
      roles: [],
      databases: [],
      checks: [{ id: 'replication-slots', status: 'fail', message: 'needs 12 workers', remedy: 'raise it' }],
    };
    const plan = {
      databases: [
        {
          name: 'shop',
          method: 'dump' as const,
          reasons: ['wal_level is replica on the source'],
          replicaIdentityFull: [],
          targetExists: false,
        },
      ],
    };
    const text = renderReport(check, { plan }).join('\n');
    expect(text).toMatch(/Plan\n +shop +dump +target database created +wal_level is replica on the source/);
    expect(text).toContain(
      'OK — no blocker: ready to migrate (1 failing finding changed the plan but blocks nothing).',
    );
  });

  it('says a blocked run wrote nothing, and a failed one how many databases failed', () => {
    const blocked: Report = {
      ...report,
      ok: false,
      checks: [{ id: 'version', status: 'fail', message: 'older', remedy: '' }],
      databases: [],
    };
    expect(verdict({ kind: 'report', report: blocked })).toContain('nothing was written to the target');
    const failed: Report = {
      ...report,
      ok: false,
      databases: [{ ...report.databases[0]!, status: 'failed', error: 'PgMigrate.Permanent', message: 'x' }],
    };
    expect(verdict({ kind: 'report', report: failed })).toBe('FAILED — 1 of 1 database failed.');
  });
});

describe('parseLogLine', () => {
  it('reads progress events, the logger adapter format, log records and plain text', () => {
    expect(
      parseLogLine(
        '{"level":"INFO","message":"progress","event":{"kind":"table","database":"d","table":"s.t","rows":3,"bytes":30,"done":false}}',
      ),
    ).toEqual({
      kind: 'progress',
      event: { kind: 'table', database: 'd', table: 's.t', rows: 3, bytes: 30, done: false },
    });
    expect(
      parseLogLine(
        '{"level":"DEBUG","message":"table copied","kind":"table","database":"d","table":"s.t","rows":4,"bytes":40,"done":true}',
      ),
    ).toEqual({
      kind: 'progress',
      event: { kind: 'table', database: 'd', table: 's.t', rows: 4, bytes: 40, done: true },
    });
    expect(parseLogLine('{"level":"INFO","message":"phase copy","phase":"copy","database":"d"}')).toEqual({
      kind: 'progress',
      event: { kind: 'phase', phase: 'copy', database: 'd' },
    });
    expect(
      parseLogLine('{"level":"INFO","message":"table s.t copied","database":"d","table":"s.t","rows":9,"bytes":90}'),
    ).toMatchObject({
      kind: 'progress',
      event: { kind: 'table', rows: 9, done: true },
    });
    expect(parseLogLine('{"level":"WARN","message":"slow","timestamp":"x","database":"d"}')).toEqual({
      kind: 'log',
      level: 'warn',
      message: 'slow',
      fields: { database: 'd' },
    });
    expect(parseLogLine('pg_restore: warning')).toEqual({ kind: 'text', text: 'pg_restore: warning' });
    expect(parseLogLine('{"not closed"')).toEqual({ kind: 'text', text: '{"not closed"' });
    expect(parseLogLine('{"message":"progress","event":{"kind":"table"}}')).toMatchObject({ kind: 'log' });
  });

  it("reads the task's copy announcements and replication readings as progress, not as log lines", () => {
    expect(
      parseLogLine('{"level":"INFO","message":"tables","kind":"tables","database":"d","done":1,"total":4}'),
    ).toEqual({ kind: 'progress', event: { kind: 'tables', database: 'd', done: 1, total: 4 } });
    expect(
      parseLogLine(
        '{"level":"DEBUG","message":"replication state","kind":"replication","database":"d","applyRunning":false,"tables":4,"ready":3,"lagBytes":512}',
      ),
    ).toEqual({
      kind: 'progress',
      event: { kind: 'replication', database: 'd', applyRunning: false, tables: 4, ready: 3, lagBytes: 512 },
    });
  });
});

function printer(tty: boolean) {
  let out = '';
  let err = '';
  let now = 0;
  const p = new Printer({
    out: (t) => void (out += t),
    err: (t) => void (err += t),
    tty,
    color: false,
    now: () => now,
    columns: () => 120,
  });
  return { p, out: () => out, err: () => err, advance: (ms: number) => void (now += ms) };
}

describe('Printer', () => {
  it('prints plain lines for phases, finished tables with throughput, and warnings when not on a TTY', () => {
    const { p, out, err, advance } = printer(false);
    p.begin('pg-migrate migrate');
    p.state({ type: 'entered', state: 'DatabaseChecks', stateType: 'Map' });
    p.state({ type: 'entered', state: 'DatabaseCheck', stateType: 'Task', index: 0 });
    p.state({ type: 'exited', state: 'DatabaseCheck', stateType: 'Task', index: 0 });
    advance(800);
    p.state({ type: 'exited', state: 'DatabaseChecks', stateType: 'Map' });
    p.progress({ kind: 'phase', database: 'shop', phase: 'copy' });
    p.progress({ kind: 'table', database: 'shop', table: 'sales.orders', rows: 10, bytes: 100, done: false });
    advance(2000);
    p.progress({
      kind: 'table',
      database: 'shop',
      table: 'sales.orders',
      rows: 30000,
      bytes: 4 * 1024 * 1024,
      done: true,
    });
    p.logger.warn('something odd', { database: 'shop' });
    p.logger.info('chatty');
    p.end();
    expect(out()).toContain('pre-checks (databases) …');
    expect(out()).toContain('pre-checks (databases) done (1/1) in 800ms');
    expect(out()).toContain('shop: copy');
    expect(out()).toContain('shop: sales.orders 30,000 rows, 4.0 MB in 2.0s (2.0 MB/s)');
    expect(err()).toContain('warning: shop: something odd');
    expect(out() + err()).not.toContain('chatty');
  });

  it('draws a live frame with phases and per-table bars with rows, bytes and throughput on a TTY', () => {
    const { p, advance } = printer(true);
    p.state({ type: 'entered', state: 'MigrateDatabases', stateType: 'Map' });
    p.state({ type: 'entered', state: 'MigrateDatabase', stateType: 'Task', index: 0 });
    p.progress({ kind: 'phase', database: 'shop', phase: 'copy' });
    p.progress({
      kind: 'table',
      database: 'shop',
      table: 'sales.orders',
      rows: 0,
      bytes: 0,
      totalBytes: 1000,
      done: false,
    });
    advance(1000);
    p.progress({
      kind: 'table',
      database: 'shop',
      table: 'sales.orders',
      rows: 500,
      bytes: 500,
      totalBytes: 1000,
      done: false,
    });
    const frame = p.frame().join('\n');
    expect(frame).toContain('migrate databases 0/1');
    expect(frame).toMatch(/shop copy +0\/1 tables · 500 rows · 500 B/);
    expect(frame).toMatch(/sales.orders +██████████░░░░░░░░░░ {2}50% +500 rows +500 B 500 B\/s/);
  });

  it('never prints a registered password', () => {
    registerSecret('pw-visible-nowhere');
    const { p, out, err } = printer(false);
    p.logger.error('auth failed for pw-visible-nowhere');
    p.say('connecting with postgres://u:pw-visible-nowhere@h/db');
    expect(out() + err()).not.toContain('pw-visible-nowhere');
    expect(err()).toContain('auth failed for ***');
  });
});

describe('Printer on a narrow terminal', () => {
  it('wraps the phases instead of cutting them off', () => {
    let now = 0;
    const p = new Printer({ out: () => {}, err: () => {}, tty: true, color: false, now: () => now, columns: () => 40 });
    for (const state of ['ResolveRequest', 'ServerChecks', 'Plan', 'Roles', 'MigrateDatabases', 'Verify', 'Report']) {
      p.state({ type: 'entered', state, stateType: 'Task' });
      now += 10;
      p.state({ type: 'exited', state, stateType: 'Task' });
    }
    const frame = p.frame();
    expect(frame.length).toBeGreaterThan(2);
    expect(frame.every((line) => line.length <= 40)).toBe(true);
    expect(frame.join(' ')).toContain('✔ report 10ms');
  });
});
