import { describe, expect, it, vi } from 'vitest';
import { handler } from '../../lambdas/resolve.js';
import { ALLOWED_SECRET_ARNS_ENV, arnMatches, requestRefProblems } from '../../core/ref-policy.js';

const STACK_SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:pg-migrate/source-AbCdEf';
const PREFIX = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:migrations/*';
const OTHER = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:payroll/db-XyZ123';

describe('ARN patterns', () => {
  it.each([
    [STACK_SECRET, STACK_SECRET, true],
    [PREFIX, 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:migrations/shop-Ab12Cd', true],
    [PREFIX, OTHER, false],
    ['arn:aws:secretsmanager:eu-west-1:123456789012:secret:pg-migrate/source-??????', STACK_SECRET, true],
    ['arn:aws:secretsmanager:eu-west-1:123456789012:secret:pg-migrate/source-??????', `${STACK_SECRET}x`, false],
    [
      'arn:aws:secretsmanager:eu-west-1:123456789012:secret:a.b',
      'arn:aws:secretsmanager:eu-west-1:123456789012:secret:aXb',
      false,
    ],
  ])('%s matches %s: %s', (pattern, arn, expected) => {
    expect(arnMatches(pattern, arn)).toBe(expected);
  });
});

describe('what a deployment lets a request name', () => {
  const env = { [ALLOWED_SECRET_ARNS_ENV]: `${STACK_SECRET},${PREFIX}`, PG_MIGRATE_ALLOW_PLAIN_URIS: 'false' };

  it('accepts the stack secrets and the allowed patterns', () => {
    expect(
      requestRefProblems(
        {
          source: { secretArn: STACK_SECRET },
          target: { secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:migrations/target-Zz99Yy' },
        },
        env,
      ),
    ).toEqual([]);
  });

  it('fails when a secret is outside the configured ones, naming the ARN and what is allowed', () => {
    const problems = requestRefProblems({ source: { secretArn: OTHER }, target: { secretArn: STACK_SECRET } }, env);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^source: secret .*payroll\/db-XyZ123 is not one this deployment may read/);
    expect(problems[0]).toContain('migrations/*');
  });

  it('fails when a plain URI is used where plain URIs are off, without repeating it', () => {
    const problems = requestRefProblems(
      { source: { uri: 'postgres://admin:hunter2-secret@db/postgres' }, target: { secretArn: STACK_SECRET } },
      env,
    );
    expect(problems.join('\n')).toMatch(/source: plain URIs are not allowed in this deployment/);
    expect(problems.join('\n')).not.toContain('hunter2-secret');
    expect(
      requestRefProblems({ source: { uri: 'postgres://a:b@h/d' } }, { ...env, PG_MIGRATE_ALLOW_PLAIN_URIS: 'true' }),
    ).toEqual([]);
  });

  it('leaves local runs (no configured ARNs) and env references alone', () => {
    expect(requestRefProblems({ source: { secretArn: OTHER }, target: { env: 'PG_MIGRATE_TARGET' } }, {})).toEqual([]);
  });
});

describe('ResolveRequest', () => {
  it('fails when the request holds a plain URI and plain URIs are off, and logs no part of it', async () => {
    const previous = process.env.PG_MIGRATE_ALLOW_PLAIN_URIS;
    process.env.PG_MIGRATE_ALLOW_PLAIN_URIS = 'false';
    const written: string[] = [];
    const capture = (chunk: unknown) => {
      written.push(String(chunk));
      return true;
    };
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(capture);
    try {
      await expect(
        handler({
          action: 'check',
          source: { uri: 'postgres://admin:hunter2-secret@db/postgres' },
          target: { env: 'PG_MIGRATE_TARGET' },
        }),
      ).rejects.toThrow(/source: plain URIs are not allowed in this deployment/);
    } finally {
      out.mockRestore();
      err.mockRestore();
      if (previous === undefined) delete process.env.PG_MIGRATE_ALLOW_PLAIN_URIS;
      else process.env.PG_MIGRATE_ALLOW_PLAIN_URIS = previous;
    }
    expect(written.join('')).toContain('bad request');
    expect(written.join('')).not.toContain('hunter2-secret');
  });
});
