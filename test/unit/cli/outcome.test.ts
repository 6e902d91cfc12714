import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeReport } from '../../../cli/commands/local.js';
import { exitCodeFor, exitCodeForError, outcomeFromFailure, outcomeFromOutput } from '../../../cli/outcome.js';
import { AbortedError, causeMessage, InputError, PermanentError, registerSecret } from '../../../core/errors.js';
import type { Report } from '../../../core/report.js';

const base: Report = { ok: true, action: 'migrate', durationMs: 5, checks: [], roles: [], databases: [], warnings: [] };
const db = {
  name: 'shop',
  method: 'dump' as const,
  tables: 1,
  rows: 1,
  bytes: 1,
  durationMs: 1,
  lagBytes: 0,
  message: '',
};

describe('exit codes', () => {
  it.each([
    ['a successful report', { kind: 'report', report: base }, 0],
    [
      'a report with a failed database',
      { kind: 'report', report: { ...base, ok: false, databases: [{ ...db, status: 'failed' }] } },
      1,
    ],
    [
      'a report blocked by a failing check with nothing attempted',
      {
        kind: 'report',
        report: {
          ...base,
          ok: false,
          checks: [{ id: 'version', status: 'fail', message: 'older', remedy: '' }],
          databases: [{ ...db, status: 'skipped' }],
        },
      },
      2,
    ],
    ['a failed check action', { kind: 'report', report: { ...base, action: 'check', ok: false } }, 2],
    [
      'a report of a request the workflow rejected',
      {
        kind: 'report',
        report: { ...base, ok: false, error: { state: 'ResolveRequest', name: 'PgMigrate.BadInput', message: 'x' } },
      },
      2,
    ],
    [
      'a report of a state that failed after the pre-checks',
      {
        kind: 'report',
        report: { ...base, ok: false, error: { state: 'Roles', name: 'PgMigrate.Permanent', message: 'x' } },
      },
      1,
    ],
    ['a BadInput error', { kind: 'error', error: 'PgMigrate.BadInput', cause: 'x' }, 2],
    ['a Blocked error', { kind: 'error', error: 'PgMigrate.Blocked', cause: 'x' }, 2],
    ['a runtime error', { kind: 'error', error: 'States.Runtime', cause: 'x' }, 1],
    ['an interruption', { kind: 'interrupted' }, 130],
  ] as const)('maps %s to %i', (_name, outcome, code) => {
    expect(exitCodeFor(outcome as never)).toBe(code);
  });

  it('maps thrown errors: bad input 2, aborted 130, anything else 1', () => {
    expect(exitCodeForError(new InputError('x'))).toBe(2);
    expect(exitCodeForError(new AbortedError())).toBe(130);
    expect(exitCodeForError(new PermanentError('x'))).toBe(1);
    expect(exitCodeForError(new Error('x'))).toBe(1);
  });
});

describe('outcomes from an execution', () => {
  it('reads the report from a RunFailed cause', () => {
    const report = { ...base, ok: false };
    expect(outcomeFromFailure('PgMigrate.RunFailed', JSON.stringify(report))).toEqual({ kind: 'report', report });
  });

  it("reads the report from the cause of a run that failed with a state's own error name", () => {
    const report: Report = { ...base, ok: false, error: { state: 'Plan', name: 'PgMigrate.Permanent', message: 'x' } };
    expect(outcomeFromFailure('PgMigrate.Permanent', JSON.stringify(report))).toEqual({ kind: 'report', report });
  });

  it('reads the Lambda error message from a JSON cause and scrubs it', () => {
    const cause = JSON.stringify({
      errorType: 'PgMigrate.Permanent',
      errorMessage: 'cannot connect to postgres://u:pw-xyz@h/db',
    });
    expect(outcomeFromFailure('PgMigrate.Permanent', cause)).toEqual({
      kind: 'error',
      error: 'PgMigrate.Permanent',
      cause: 'cannot connect to postgres://u:***@h/db',
    });
    expect(causeMessage('plain text')).toBe('plain text');
  });

  it('fails when a successful execution returns something that is not a report', () => {
    expect(outcomeFromOutput({ hello: 1 })).toMatchObject({ kind: 'error', error: 'PgMigrate.NoReport' });
    expect(outcomeFromOutput(base)).toEqual({ kind: 'report', report: base });
  });
});

describe('writeReport', () => {
  it('writes valid JSON with every secret scrubbed, whatever the password looks like', () => {
    registerSecret('true'); // a password that is also a JSON literal
    const path = join(mkdtempSync(join(tmpdir(), 'pgm-report-')), 'r.json');
    const report: Report = { ...base, databases: [{ ...db, status: 'done', message: 'connected with password true' }] };
    writeReport(path, { kind: 'report', report }, { action: 'migrate' }, 1);
    const text = readFileSync(path, 'utf8');
    const parsed = JSON.parse(text) as Report;
    expect(parsed.ok).toBe(true);
    expect(parsed.databases[0]?.message).toBe('connected with password ***');
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });
});
