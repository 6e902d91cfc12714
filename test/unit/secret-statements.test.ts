import { describe, expect, it } from 'vitest';
import { isPasswordVerifier, randomPassword, scramVerifier } from '../../core/scram.js';
import { type LogSettings, logExposures, pgauditClasses, secretTemplate } from '../../core/secret-statements.js';

const quiet: LogSettings = {
  logStatement: 'none',
  logMinDurationStatement: -1,
  logMinDurationSample: -1,
  logStatementSampleRate: 1,
  logTransactionSampleRate: 0,
  logMinErrorStatement: 'panic',
  logParameterMaxLength: 0,
};
/** PostgreSQL's defaults: nothing logged but a failing statement. */
const defaults: LogSettings = { ...quiet, logMinErrorStatement: 'error', logParameterMaxLength: -1 };

describe('SCRAM verifiers computed here', () => {
  it('matches the RFC 7677 test vector', () => {
    // Password "pencil" with RFC 7677's salt and 4096 iterations: the verifier PostgreSQL's own tests expect.
    const verifier = scramVerifier('pencil', Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64'), 4096);
    expect(verifier).toBe(
      'SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=',
    );
  });

  it('makes random passwords of 256 bits and verifiers that are never the password', () => {
    const password = randomPassword();
    expect(password).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(randomPassword()).not.toBe(password);
    const verifier = scramVerifier(password);
    expect(isPasswordVerifier(verifier)).toBe(true);
    expect(verifier).not.toContain(password);
    expect(isPasswordVerifier(password)).toBe(false);
  });
});

describe('what would log a secret', () => {
  it('finds nothing once the session is quiet, whichever way the secret travels', () => {
    for (const path of ['parameter', 'literal'] as const)
      for (const kind of ['role-password', 'subscription'] as const)
        expect(logExposures(quiet, path, kind)).toEqual([]);
  });

  it.each([
    [{ logStatement: 'ddl' }, 'parameter', []],
    [{ logStatement: 'ddl' }, 'literal', [/log_statement = ddl logs the statement/, /log_min_error_statement/]],
    [{ logStatement: 'mod', logMinErrorStatement: 'panic' }, 'literal', [/log_statement = mod/]],
    [{ logStatement: 'all' }, 'parameter', [/log_statement = all logs the statement with its parameters/]],
    [{ logStatement: 'all', logParameterMaxLength: 0 }, 'parameter', []],
    [{ logMinDurationStatement: 0 }, 'parameter', [/log_min_duration_statement = 0 ms/]],
    [{ logTransactionSampleRate: 0.1 }, 'parameter', [/log_transaction_sample_rate = 0.1/]],
    [{}, 'parameter', []],
    [{}, 'literal', [/log_min_error_statement = error logs the statement if it fails/]],
  ] as const)('with %j, a %s secret is exposed by %j', (change, path, expected) => {
    const found = logExposures({ ...defaults, ...change }, path, 'subscription');
    expect(found).toHaveLength(expected.length);
    expected.forEach((pattern, i) => expect(found[i]).toMatch(pattern));
  });

  it('counts on pgaudit to redact role passwords, but not a subscription connection string', () => {
    const audited = { ...quiet, pgaudit: { log: 'ddl, role', logParameter: false } };
    expect(logExposures(audited, 'parameter', 'role-password')).toEqual([]);
    expect(logExposures(audited, 'parameter', 'subscription')).toEqual([
      'pgaudit.log = ddl, role audits DDL statements with their text',
    ]);
    const parameters = { ...quiet, pgaudit: { log: 'all, -ddl', logParameter: true } };
    expect(logExposures(parameters, 'parameter', 'role-password')[0]).toMatch(/pgaudit.log_parameter = on/);
  });

  it('counts pg_stat_statements keeping utility statements: nested ones with track = all, top-level ones sent as literals', () => {
    const all = { ...quiet, pgStatStatements: { track: 'all', trackUtility: true } };
    expect(logExposures(all, 'parameter', 'role-password')).toEqual([
      "pg_stat_statements.track_utility = on (track = all) keeps the statement's text in pg_stat_statements",
    ]);
    const top = { ...quiet, pgStatStatements: { track: 'top', trackUtility: true } };
    expect(logExposures(top, 'parameter', 'subscription')).toEqual([]);
    expect(logExposures(top, 'literal', 'subscription')).toHaveLength(1);
    const off = { ...quiet, pgStatStatements: { track: 'all', trackUtility: false } };
    expect(logExposures(off, 'literal', 'subscription')).toEqual([]);
  });

  it('reads pgaudit class lists as pgaudit does', () => {
    expect([...pgauditClasses('all, -misc, -misc_set')].sort()).toEqual(['ddl', 'function', 'read', 'role', 'write']);
    expect([...pgauditClasses('none')]).toEqual([]);
    expect([...pgauditClasses('DDL,Role')].sort()).toEqual(['ddl', 'role']);
  });
});

describe('statements built around a secret', () => {
  it('doubles % outside the secret and marks the secret for format()', () => {
    expect(secretTemplate('ALTER ROLE "50%" PASSWORD <S>', '<S>')).toBe('ALTER ROLE "50%%" PASSWORD %L');
  });

  it('fails when the statement does not hold the secret exactly once', () => {
    expect(() => secretTemplate('ALTER ROLE x', '<S>')).toThrow(/exactly once/);
    expect(() => secretTemplate('<S> <S>', '<S>')).toThrow(/exactly once/);
  });
});
