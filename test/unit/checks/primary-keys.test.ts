import { describe, expect, it } from 'vitest';
import { evaluatePrimaryKeys, filterTables } from '../../../core/checks/primary-keys.js';
import { failed, ok, statuses } from './helpers.js';

const tables = [
  { schema: 'public', table: 'log', identity: 'd' },
  { schema: 'app', table: 'events', identity: 'n' },
];
const request = { replicaIdentityFull: false, withTables: [] as string[], skipTables: [] as string[] };

describe('filterTables', () => {
  it.each([
    ['no filters keep all', {}, ['public.log', 'app.events']],
    ['skipTables for every database', { skipTables: ['public.log'] }, ['app.events']],
    ['skipTables for this database', { skipTables: ['shop.public.log'] }, ['app.events']],
    ['skipTables for another database', { skipTables: ['other.public.log'] }, ['public.log', 'app.events']],
    ['withTables keeps only those', { withTables: ['app.events'] }, ['app.events']],
  ])('%s', (_name, filters, expected) => {
    const kept = filterTables(tables, { withTables: [], skipTables: [], ...filters }, 'shop');
    expect(kept.map((t) => `${t.schema}.${t.table}`)).toEqual(expected);
  });
});

describe('evaluatePrimaryKeys', () => {
  it.each([
    ['no candidates', [], [], request, ['skip']],
    ['every table keyed', ['shop'], [{ database: 'shop', facts: ok([]) }], request, ['pass:shop']],
    ['tables without key', ['shop'], [{ database: 'shop', facts: ok(tables) }], request, ['fail:shop']],
    [
      'tables without key, consent given',
      ['shop'],
      [{ database: 'shop', facts: ok(tables) }],
      { ...request, replicaIdentityFull: true },
      ['warn:shop'],
    ],
    [
      'tables without key, all skipped',
      ['shop'],
      [{ database: 'shop', facts: ok(tables) }],
      { ...request, skipTables: ['public.log', 'app.events'] },
      ['pass:shop'],
    ],
    [
      'cannot list',
      ['shop'],
      [{ database: 'shop', facts: failed('permission denied', '42501') }],
      request,
      ['skip:shop'],
    ],
  ] as const)('%s', (_name, candidates, found, req, expected) => {
    expect(statuses(evaluatePrimaryKeys({ candidates, tables: found }, req))).toEqual(expected);
  });

  it('lists the tables for the plan, and marks the failure replication-only', () => {
    const [fail] = evaluatePrimaryKeys(
      { candidates: ['shop'], tables: [{ database: 'shop', facts: ok(tables) }] },
      request,
    );
    expect(fail?.details).toEqual({ tables: ['public.log', 'app.events'], replicationOnly: true });
    const [warn] = evaluatePrimaryKeys(
      { candidates: ['shop'], tables: [{ database: 'shop', facts: ok(tables) }] },
      { ...request, replicaIdentityFull: true },
    );
    expect(warn?.details).toEqual({ tables: ['public.log', 'app.events'] });
  });
});
