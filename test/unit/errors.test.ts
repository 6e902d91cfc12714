import { describe, expect, it } from 'vitest';
import { classify, isTransient, MigrationError, registerSecret, scrub, TransientError } from '../../core/errors.js';

function pgError(code: string, message = 'boom'): Error {
  return Object.assign(new Error(message), { code });
}

describe('isTransient', () => {
  it.each([
    ['08006', true],
    ['08001', true],
    ['57P01', true],
    ['53300', true],
    ['40001', true],
    ['42P01', false],
    ['28P01', false],
    ['42501', false],
    ['ECONNREFUSED', true],
    ['ECONNRESET', true],
    ['ENOENT', false],
  ])('classifies %s as transient=%s', (code, expected) => {
    expect(isTransient(pgError(code))).toBe(expected);
  });
});

describe('classify', () => {
  it('names transient errors PgMigrate.Transient and keeps the cause', () => {
    const cause = pgError('57P01', 'terminating connection due to administrator command');
    const error = classify(cause, 'copy public.t');
    expect(error).toBeInstanceOf(TransientError);
    expect(error.name).toBe('PgMigrate.Transient');
    expect(error.message).toBe('copy public.t: terminating connection due to administrator command (SQLSTATE 57P01)');
    expect(error.cause).toBe(cause);
  });

  it('names everything else PgMigrate.Permanent', () => {
    expect(classify(pgError('42501', 'permission denied')).name).toBe('PgMigrate.Permanent');
  });

  it('passes MigrationErrors through', () => {
    const error = new TransientError('x');
    expect(classify(error)).toBe(error);
    expect(error).toBeInstanceOf(MigrationError);
  });

  it('scrubs registered secrets from messages', () => {
    registerSecret('s3cr3t-value');
    expect(classify(new Error('auth with s3cr3t-value failed')).message).toBe('auth with *** failed');
    expect(scrub(`x ${encodeURIComponent('s3cr3t-value')}`)).toBe('x ***');
  });
});
