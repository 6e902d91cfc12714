import { describe, expect, it } from 'vitest';
import { parseLocalArgs } from '../../cli/args.js';
import { exitCodeFor } from '../../cli/outcome.js';
import { renderReport, verdict } from '../../cli/output/summary.js';
import { InputError } from '../../core/errors.js';
import type { DatabaseResult, RoleResult } from '../../core/report.js';
import { acceptedKinds, buildReport, reportCause } from '../../core/report-builder.js';
import { parseRequest } from '../../core/request.js';
import { formatPublicationNote, parsePublicationNote } from '../../core/steps/replication/sql.js';
import { listSome, WARNING_KINDS, WarningList } from '../../core/warnings.js';

const startedAt = '2026-01-01T00:00:00Z';
const now = Date.parse(startedAt) + 1000;

const shop: DatabaseResult = {
  name: 'shop',
  method: 'dump',
  status: 'done',
  tables: 3,
  rows: 10,
  bytes: 100,
  durationMs: 5,
  lagBytes: 0,
  message: '3 tables',
  warnings: [
    { kind: 'owner', message: '2 object(s) owned by postgres on the source are owned by avnadmin on the target' },
    { kind: 'locale', message: 'locale de_DE.UTF-8 unavailable on the target' },
  ],
};
const roles: RoleResult[] = [
  {
    name: 'app',
    status: 'created',
    message: 'a placeholder password was set',
    warnings: [{ kind: 'placeholder-password', message: 'a placeholder password was set' }],
  },
  { name: 'ghost', status: 'exists', message: 'already on the target; left alone' },
];

describe('warnings in the report', () => {
  it('makes a migrate report not ok while a warning is not accepted, and ok once every kind is', () => {
    const degraded = buildReport({ action: 'migrate', startedAt, databases: [shop], roles, now });
    expect(degraded.ok).toBe(false);
    expect(degraded.databases[0]?.warnings?.map((w) => w.accepted)).toEqual([false, false]);
    expect(degraded.warnings).toEqual([
      { kind: 'placeholder-password', message: 'a placeholder password was set', accepted: false, role: 'app' },
    ]);
    const partly = buildReport({ action: 'migrate', startedAt, databases: [shop], roles, accept: ['owner'], now });
    expect(partly.ok).toBe(false);
    const consented = buildReport({
      action: 'migrate',
      startedAt,
      databases: [shop],
      roles,
      accept: ['owner', 'locale', 'placeholder-password'],
      now,
    });
    expect(consented.ok).toBe(true);
    expect(consented.databases[0]?.warnings?.every((w) => w.accepted)).toBe(true);
  });

  it('counts warnings against cutover but not against status or check', () => {
    const replicating = { ...shop, method: 'replication' as const, status: 'replicating' as const };
    expect(buildReport({ action: 'cutover', startedAt, databases: [shop], now }).ok).toBe(false);
    expect(buildReport({ action: 'status', startedAt, databases: [replicating], now }).ok).toBe(true);
    expect(buildReport({ action: 'check', startedAt, now }).warnings).toEqual([]);
  });

  it('reads the consented kinds from the request the workflow passes, ignoring what is not a kind', () => {
    expect(acceptedKinds({ accept: ['owner', 'nonsense', 3] })).toEqual(['owner']);
    expect(acceptedKinds(undefined)).toEqual([]);
    expect(acceptedKinds({ accept: 'owner' })).toEqual([]);
  });

  it('keeps the warnings in the shortest form of the Fail cause', () => {
    const checks = Array.from({ length: 50 }, (_, i) => ({
      id: 'extensions',
      status: 'fail' as const,
      database: `db${i}`,
      message: 'x'.repeat(100),
      remedy: '',
    }));
    const report = buildReport({ action: 'migrate', startedAt, checks, databases: [shop], roles, now });
    const text = reportCause(report, 1200);
    expect(text).toContain('truncated');
    const cause = JSON.parse(text) as typeof report;
    expect(cause.databases[0]?.warnings).toHaveLength(2);
    expect(cause.warnings).toHaveLength(1);
  });

  it('exits 1 on unaccepted warnings and 0 with consent', () => {
    const degraded = buildReport({ action: 'migrate', startedAt, databases: [shop], now });
    expect(exitCodeFor({ kind: 'report', report: degraded })).toBe(1);
    const consented = buildReport({
      action: 'migrate',
      startedAt,
      databases: [shop],
      accept: ['owner', 'locale'],
      now,
    });
    expect(exitCodeFor({ kind: 'report', report: consented })).toBe(0);
  });

  it('shows every warning in the summary and says how to consent', () => {
    const degraded = buildReport({ action: 'migrate', startedAt, databases: [shop], roles, accept: ['locale'], now });
    const text = renderReport(degraded).join('\n');
    expect(text).toContain('Warnings');
    expect(text).toContain('role app: placeholder-password: a placeholder password was set');
    expect(text).toContain('shop: owner: 2 object(s) owned by postgres');
    expect(text).toMatch(/shop: locale: .*\(accepted\)/);
    expect(verdict({ kind: 'report', report: degraded })).toBe(
      'DEGRADED — 2 warnings not accepted (placeholder-password, owner): the migration finished, but not everything ' +
        'is as on the source. Review the warnings above; to consent up front, pass --accept placeholder-password,owner.',
    );
    const consented = buildReport({
      action: 'migrate',
      startedAt,
      databases: [shop],
      accept: ['owner', 'locale'],
      now,
    });
    expect(verdict({ kind: 'report', report: consented })).toBe('OK — 1 database done (2 accepted warnings).');
  });
});

describe('--accept', () => {
  const base = ['--source', 'postgres://a@h/db', '--target', 'postgres://a@h2/db'];

  it('takes warning kinds, comma-separated and repeatable, into the request', () => {
    const args = parseLocalArgs('migrate', [...base, '--accept', 'owner,grant', '--accept', 'locale,owner'], {});
    expect(args.request.accept).toEqual(['owner', 'grant', 'locale']);
    expect(parseRequest(args.request).accept).toEqual(['owner', 'grant', 'locale']);
    expect(parseLocalArgs('cutover', [...base, '--accept', 'grant'], {}).request.accept).toEqual(['grant']);
  });

  it('fails when a kind is unknown, naming it and the valid kinds', () => {
    let problems: readonly string[] = [];
    try {
      parseLocalArgs('migrate', [...base, '--accept', 'owners,grant'], {});
    } catch (err) {
      if (err instanceof InputError) problems = err.problems;
    }
    expect(problems).toEqual([`--accept: unknown warning kind "owners"; expected ${WARNING_KINDS.join(', ')}`]);
  });

  it('fails when --accept names nothing, or is given to a command that writes nothing', () => {
    expect(() => parseLocalArgs('migrate', [...base, '--accept', ','], {})).toThrow(/name at least one warning kind/);
    expect(() => parseLocalArgs('check', [...base, '--accept', 'owner'], {})).toThrow(InputError);
  });

  it('fails when the request names an unknown kind', () => {
    expect(() =>
      parseRequest({ action: 'migrate', source: { env: 'A' }, target: { env: 'B' }, accept: ['everything'] }),
    ).toThrow(/accept\.0: must be one of owner, grant/);
  });
});

describe('WarningList', () => {
  it('keeps each warning once and takes only well-formed warnings from elsewhere', () => {
    const list = new WarningList();
    list.add('grant', 'x');
    list.add('grant', 'x');
    list.addAll([{ kind: 'owner', message: 'y' }, { kind: 'bogus', message: 'z' }, null, { kind: 'setting' }]);
    expect(list.list()).toEqual([
      { kind: 'grant', message: 'x' },
      { kind: 'owner', message: 'y' },
    ]);
  });

  it('lists a few names and counts the rest', () => {
    expect(listSome(['a', 'b'])).toBe('a, b');
    expect(listSome(['a', 'b', 'c', 'd'], 2)).toBe('a, b and 2 more');
  });

  it('keeps the set-up warnings in the publication note, and reads old notes without them', () => {
    const note = {
      replicaIdentityFull: [{ schema: 'public', name: 't' }],
      warnings: [{ kind: 'owner' as const, message: "owned by 'postgres'" }],
    };
    expect(parsePublicationNote(formatPublicationNote(note))).toEqual(note);
    expect(
      parsePublicationNote('pg-migrate {"replicaIdentityFull":[],"warnings":[{"kind":"nope","message":"x"}]}'),
    ).toEqual({ replicaIdentityFull: [] });
  });
});
