import { describe, expect, it } from 'vitest';
import { InputError } from '../../core/errors.js';
import { parseRequest, parseTableFilter, tableFiltersFor } from '../../core/request.js';

const base = { action: 'check', source: { env: 'PG_MIGRATE_SOURCE' }, target: { env: 'PG_MIGRATE_TARGET' } };

describe('parseRequest', () => {
  it('fills every default', () => {
    const request = parseRequest(base);
    expect(request).toMatchObject({
      method: 'auto',
      jobs: 4,
      maxConcurrency: 2,
      roles: true,
      cutover: false,
      excludeDbs: [],
    });
  });

  it('fails when an unknown key is given, reporting every problem at once', () => {
    let error: unknown;
    try {
      parseRequest({ ...base, action: 'move', jobz: 3, jobs: 0 });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InputError);
    const problems = (error as InputError).problems.join('\n');
    expect(problems).toMatch(/action/);
    expect(problems).toMatch(/jobz/);
    expect(problems).toMatch(/jobs/);
  });

  it('fails when a secret ARN is not a Secrets Manager ARN', () => {
    expect(() => parseRequest({ ...base, source: { secretArn: 'arn:aws:s3:::bucket' } })).toThrow(
      /Secrets Manager ARN/,
    );
  });

  it('takes an RDS instance or cluster beside a secret ARN, by identifier or ARN', () => {
    const secretArn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-1234-AbCdEf';
    const request = parseRequest({
      ...base,
      source: { secretArn, dbInstanceIdentifier: 'orders-db-1' },
      target: { secretArn, dbClusterIdentifier: 'arn:aws:rds:eu-west-1:123456789012:cluster:orders-aurora' },
    });
    expect(request.source).toEqual({ secretArn, dbInstanceIdentifier: 'orders-db-1' });
    expect(request.target).toEqual({
      secretArn,
      dbClusterIdentifier: 'arn:aws:rds:eu-west-1:123456789012:cluster:orders-aurora',
    });
  });

  it('fails when a ref names both an RDS instance and a cluster, or an identifier RDS would refuse', () => {
    const secretArn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-1234-AbCdEf';
    expect(() =>
      parseRequest({ ...base, source: { secretArn, dbInstanceIdentifier: 'a', dbClusterIdentifier: 'b' } }),
    ).toThrow(/source: give dbInstanceIdentifier or dbClusterIdentifier, not both/);
    expect(() =>
      parseRequest({ ...base, target: { secretArn, dbInstanceIdentifier: '1-starts-with-a-digit' } }),
    ).toThrow(InputError);
    expect(() =>
      parseRequest({ ...base, target: { secretArn, dbClusterIdentifier: 'arn:aws:rds:eu-west-1:123456789012:db:x' } }),
    ).toThrow(InputError);
    // The fields belong to a secret: an env ref stays strict.
    expect(() => parseRequest({ ...base, source: { env: 'PG_MIGRATE_SOURCE', dbInstanceIdentifier: 'a' } })).toThrow(
      InputError,
    );
  });

  it('fails when the database filter is an empty list', () => {
    expect(() => parseRequest({ ...base, dbs: [] })).toThrow(/selects nothing/);
  });
});

describe('table filters', () => {
  it.each([
    ['public.orders', { schema: 'public', table: 'orders' }],
    ['shop.public.orders', { database: 'shop', schema: 'public', table: 'orders' }],
  ])('splits %s', (text, expected) => {
    expect(parseTableFilter(text)).toEqual(expected);
  });

  it('keeps the filters that name the database or no database', () => {
    const filters = tableFiltersFor({ withTables: ['a.public.x', 'public.y', 'b.public.z'], skipTables: [] }, 'a');
    expect(filters.withTables.map((f) => f.table)).toEqual(['x', 'y']);
  });
});
