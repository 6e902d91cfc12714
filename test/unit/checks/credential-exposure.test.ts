import { describe, expect, it } from 'vitest';
import {
  type CredentialExposureFacts,
  evaluateCredentialExposure,
  type ServerLogFacts,
} from '../../../core/checks/credential-exposure.js';
import type { LogSettings } from '../../../core/secret-statements.js';

const quiet: LogSettings = {
  logStatement: 'none',
  logMinDurationStatement: -1,
  logMinDurationSample: -1,
  logStatementSampleRate: 1,
  logTransactionSampleRate: 0,
  logMinErrorStatement: 'panic',
  logParameterMaxLength: 0,
};

const server = (change: Partial<ServerLogFacts> = {}): ServerLogFacts => ({
  user: 'admin',
  settings: quiet,
  notAllowed: [],
  secretFunction: true,
  ...change,
});

const facts = (change: Partial<CredentialExposureFacts> = {}): CredentialExposureFacts => ({
  rolePasswords: true,
  subscriptions: true,
  target: server(),
  sourceTls: { sslmode: 'prefer' },
  sourceUser: 'src_admin',
  ...change,
});

const statuses = (results: { status: string }[]) => results.map((r) => r.status);

describe('credential-exposure', () => {
  it("passes when every statement carrying a password stays out of the log, and says where the subscription's password rests", () => {
    const results = evaluateCredentialExposure(facts(), {});
    expect(statuses(results)).toEqual(['pass']);
    expect(results[0]?.message).toMatch(/stay out of the target server log/);
    expect(results[0]?.message).toMatch(
      /per-run role where "src_admin" may create one \(else as "src_admin", with a subscription-login warning\): that password sits in the target.s pg_subscription until cutover or abort/,
    );
  });

  it('skips when nothing carries a password', () => {
    expect(statuses(evaluateCredentialExposure(facts({ rolePasswords: false, subscriptions: false }), {}))).toEqual([
      'skip',
    ]);
  });

  it('warns when the target logs every statement and its user may not turn that off, naming the setting and the remedy', () => {
    const target = server({
      user: 'avnadmin',
      settings: { ...quiet, logStatement: 'all', logParameterMaxLength: -1 },
      notAllowed: ['log_statement', 'log_parameter_max_length'],
    });
    const results = evaluateCredentialExposure(facts({ target }), {});
    expect(statuses(results)).toEqual(['warn']);
    expect(results[0]?.message).toMatch(/^the target may write a password into its server log, and "avnadmin" may not/);
    expect(results[0]?.message).toMatch(/log_statement = all logs the statement with its parameters/);
    expect(results[0]?.message).toMatch(/ALTER ROLE … PASSWORD of the roles step/);
    expect(results[0]?.message).toMatch(/CREATE SUBSCRIPTION's connection string/);
    expect(results[0]?.remedy).toMatch(/GRANT SET ON PARAMETER log_statement, log_parameter_max_length TO "avnadmin"/);
    expect(results[0]?.remedy).toMatch(/parameter group/);
  });

  it('passes with log_statement = ddl when the password travels as a bound parameter, warns when it cannot', () => {
    const ddl = { ...quiet, logStatement: 'ddl' };
    expect(statuses(evaluateCredentialExposure(facts({ target: server({ settings: ddl }) }), {}))).toEqual(['pass']);
    const literal = evaluateCredentialExposure(facts({ target: server({ settings: ddl, secretFunction: false }) }), {});
    expect(statuses(literal)).toEqual(['warn']);
    expect(literal[0]?.message).toMatch(/log_statement = ddl logs the statement/);
  });

  it("warns about pgaudit's DDL class for the subscription, not for role passwords (pgaudit redacts those)", () => {
    const audited = server({ settings: { ...quiet, pgaudit: { log: 'ddl,role', logParameter: false } } });
    const both = evaluateCredentialExposure(facts({ target: audited }), {});
    expect(statuses(both)).toEqual(['warn']);
    expect(both[0]?.message).toMatch(
      /pgaudit.log = ddl,role audits DDL statements with their text \(CREATE SUBSCRIPTION/,
    );
    expect(both[0]?.message).not.toMatch(/roles step/);
    expect(statuses(evaluateCredentialExposure(facts({ target: audited, subscriptions: false }), {}))).toEqual([
      'pass',
    ]);
  });

  it('warns when the subscription would check the source certificate less than the source connection does', () => {
    const verified = facts({ sourceTls: { sslmode: 'verify-full', sslrootcert: '/ca.pem' } });
    const weakened = evaluateCredentialExposure(verified, {});
    expect(statuses(weakened)).toEqual(['warn']);
    expect(weakened[0]?.remedy).toMatch(/--subscription-sslrootcert/);
    expect(
      statuses(evaluateCredentialExposure(verified, { subscriptionSslrootcert: '/etc/postgresql/source-ca.pem' })),
    ).toEqual(['pass']);
  });
});
