import { describe, expect, it } from 'vitest';
import { causeMessage } from '../../../core/errors.js';
import {
  parseCaughtError,
  parseDatabaseRefs,
  parseDatabaseResults,
  parsePlannedDatabase,
} from '../../../core/steps/replication/input.js';

describe('causeMessage', () => {
  it('reads the message of a Lambda error cause and takes any other cause as it is', () => {
    expect(causeMessage(JSON.stringify({ errorType: 'PgMigrate.Permanent', errorMessage: 'boom' }))).toBe('boom');
    expect(causeMessage('task stopped')).toBe('task stopped');
    expect(causeMessage('{"other": 1}')).toBe('{"other": 1}');
    expect(causeMessage(undefined)).toBe('unknown error');
  });
});

describe('handler input parsing', () => {
  it('fills the defaults of a planned database and keeps its fields', () => {
    expect(parsePlannedDatabase({ name: 'shop', method: 'replication' })).toEqual({
      name: 'shop',
      method: 'replication',
      reasons: [],
      replicaIdentityFull: [],
      targetExists: true,
    });
  });

  it('accepts planned databases and results as database references', () => {
    expect(
      parseDatabaseRefs([
        { name: 'a', method: 'dump' },
        { name: 'b', method: 'replication', status: 'failed' },
      ]),
    ).toHaveLength(2);
  });

  it('fails when a database has no name or an unknown method, naming the field', () => {
    expect(() => parseDatabaseRefs([{ method: 'replication' }])).toThrow(/databases\.0\.name/);
    expect(() => parsePlannedDatabase({ name: 'x', method: 'rsync' })).toThrow(/database\.method/);
    expect(() => parseDatabaseResults([{ name: 'x', method: 'dump', status: 'done' }])).toThrow(/databases\.0\.tables/);
  });

  it('passes unknown result fields through for the report', () => {
    const [result] = parseDatabaseResults([
      {
        name: 'x',
        method: 'dump',
        status: 'done',
        tables: 1,
        rows: 2,
        bytes: 3,
        durationMs: 4,
        lagBytes: 0,
        message: '',
        error: 'E',
      },
    ]);
    expect(result).toMatchObject({ error: 'E' });
  });

  it('takes a missing Catch error as empty', () => {
    expect(parseCaughtError(undefined)).toEqual({});
    expect(parseCaughtError({ Error: 'States.TaskFailed', Cause: 'x' })).toEqual({
      Error: 'States.TaskFailed',
      Cause: 'x',
    });
  });
});
