import { describe, expect, it } from 'vitest';
import { evaluateSourceDatabases } from '../../../core/checks/source-databases.js';
import { failed, ok, statuses } from './helpers.js';

const base = { selected: ['a', 'b'], unknown: [], unknownExcluded: [], notMigratable: [] };
const reachAll = [
  { database: 'a', facts: ok(true as const) },
  { database: 'b', facts: ok(true as const) },
];

describe('evaluateSourceDatabases', () => {
  it.each([
    ['a clean selection passes with the list', base, reachAll, ['pass']],
    ['an unknown name fails', { ...base, unknown: ['c'] }, reachAll, ['fail']],
    ['a template named in dbs fails', { ...base, notMigratable: ['template1'] }, reachAll, ['fail']],
    ['nothing selected fails', { ...base, selected: [] }, [], ['fail']],
    ['an unknown excluded name only warns', { ...base, unknownExcluded: ['zz'] }, reachAll, ['pass', 'warn']],
    [
      'an unreachable database fails',
      base,
      [reachAll[0]!, { database: 'b', facts: failed('permission denied for database "b"', '42501') }],
      ['fail:b'],
    ],
  ] as const)('%s', (_name, selection, reach, expected) => {
    const results = evaluateSourceDatabases({ selection, migratable: ['a', 'b', 'x'], reach });
    expect(statuses(results)).toEqual(expected);
  });

  it('puts the selection in the passing summary and the existing names in the remedy', () => {
    expect(evaluateSourceDatabases({ selection: base, migratable: ['a', 'b'], reach: reachAll })[0]?.details).toEqual({
      databases: ['a', 'b'],
    });
    const [unknown] = evaluateSourceDatabases({
      selection: { ...base, unknown: ['c'] },
      migratable: ['a', 'b'],
      reach: reachAll,
    });
    expect(unknown?.message).toMatch(/do not exist on the source: c/);
    expect(unknown?.remedy).toMatch(/a, b/);
  });

  it('gives a permission remedy for CONNECT', () => {
    const results = evaluateSourceDatabases({
      selection: { ...base, selected: ['b'] },
      migratable: ['b'],
      reach: [{ database: 'b', facts: failed('permission denied for database "b"', '42501') }],
    });
    expect(results[0]?.remedy).toMatch(/GRANT CONNECT/);
  });
});
