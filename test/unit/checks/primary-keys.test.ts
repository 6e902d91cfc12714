import { describe, expect, it } from 'vitest';
import { evaluatePrimaryKeys, filterTablesFor } from '../../../core/checks/primary-keys.js';
import { failed, ok, statuses } from './helpers.js';

const tables = [
  { schema: 'public', name: 'log', identity: 'd' },
  { schema: 'app', name: 'events', identity: 'n' },
  { schema: 'app', name: 'moves_2025', identity: 'd', root: { schema: 'app', name: 'moves' } },
];
const request = { replicaIdentityFull: false, withTables: [] as string[], skipTables: [] as string[] };

describe('filterTablesFor', () => {
  it.each([
    ['no filters keep all', {}, ['public.log', 'app.events', 'app.moves_2025']],
    ['skipTables for every database', { skipTables: ['public.log'] }, ['app.events', 'app.moves_2025']],
    ['skipTables for this database', { skipTables: ['shop.public.log'] }, ['app.events', 'app.moves_2025']],
    [
      'skipTables for another database',
      { skipTables: ['other.public.log'] },
      ['public.log', 'app.events', 'app.moves_2025'],
    ],
    ['withTables keeps only those', { withTables: ['app.events'] }, ['app.events']],
    ['a partition follows a filter naming its root', { skipTables: ['app.moves'] }, ['public.log', 'app.events']],
    ['withTables naming a root keeps its partitions', { withTables: ['app.moves'] }, ['app.moves_2025']],
  ])('%s', (_name, filters, expected) => {
    const kept = filterTablesFor(tables, { withTables: [], skipTables: [], ...filters }, 'shop');
    expect(kept.map((t) => `${t.schema}.${t.name}`)).toEqual(expected);
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
      { ...request, skipTables: ['public.log', 'app.events', 'app.moves'] },
      ['pass:shop'],
    ],
    [
      'cannot list',
      ['shop'],
      [{ database: 'shop', facts: failed('permission denied', '42501') }],
      request,
      ['fail:shop'],
    ],
  ] as const)('%s', (_name, candidates, found, req, expected) => {
    expect(statuses(evaluatePrimaryKeys({ candidates, tables: found }, req))).toEqual(expected);
  });

  it('lists the tables for the plan, and marks the failure replication-only', () => {
    const [fail] = evaluatePrimaryKeys(
      { candidates: ['shop'], tables: [{ database: 'shop', facts: ok(tables) }] },
      request,
    );
    expect(fail?.details).toEqual({ tables: ['public.log', 'app.events', 'app.moves_2025'], replicationOnly: true });
    const [warn] = evaluatePrimaryKeys(
      { candidates: ['shop'], tables: [{ database: 'shop', facts: ok(tables) }] },
      { ...request, replicaIdentityFull: true },
    );
    expect(warn?.details).toEqual({ tables: ['public.log', 'app.events', 'app.moves_2025'] });
  });
});
