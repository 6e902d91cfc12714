import { describe, expect, it } from 'vitest';
import { listNames, majorOf, mapLimit, replicationCandidates, selectDatabases } from '../../../core/checks/facts.js';

const rows = [
  { name: 'postgres', allowConn: true, isTemplate: false },
  { name: 'template0', allowConn: false, isTemplate: true },
  { name: 'template1', allowConn: true, isTemplate: true },
  { name: 'rdsadmin', allowConn: true, isTemplate: false },
  { name: '_aiven', allowConn: true, isTemplate: false },
  { name: 'shop', allowConn: true, isTemplate: false },
  { name: 'Zed "q"', allowConn: true, isTemplate: false },
  { name: 'frozen', allowConn: false, isTemplate: false },
  { name: 'my_template', allowConn: true, isTemplate: true },
];

describe('selectDatabases', () => {
  it.each([
    [
      'no filter: everything but templates, admin and closed databases',
      {},
      { selected: ['Zed "q"', 'postgres', 'shop'] },
    ],
    ['dbs picks exact names', { dbs: ['shop'] }, { selected: ['shop'], unknown: [] }],
    ['dbs is case-sensitive', { dbs: ['Shop'] }, { selected: [], unknown: ['Shop'] }],
    ['excludeDbs removes', { excludeDbs: ['postgres'] }, { selected: ['Zed "q"', 'shop'], unknownExcluded: [] }],
    ['excludeDbs of a missing name is noted', { excludeDbs: ['nope'] }, { unknownExcluded: ['nope'] }],
    [
      'dbs naming a template is not migratable',
      { dbs: ['template1', 'rdsadmin', 'frozen'] },
      { selected: [], notMigratable: ['template1', 'rdsadmin', 'frozen'] },
    ],
    ['dbs and excludeDbs combine', { dbs: ['shop', 'postgres'], excludeDbs: ['shop'] }, { selected: ['postgres'] }],
  ])('%s', (_name, filters, expected) => {
    const selection = selectDatabases(rows, { excludeDbs: [], ...filters });
    expect(selection).toMatchObject(expected);
  });
});

describe('small helpers', () => {
  it.each([
    [140011, 14],
    [150008, 15],
    [160004, 16],
    [100023, 10],
  ])('majorOf(%i) is %i', (num, major) => expect(majorOf(num)).toBe(major));

  it.each([
    ['auto', ['a', 'b']],
    ['replication', ['a', 'b']],
    ['dump', []],
  ] as const)('replication candidates for method %s', (method, expected) => {
    expect(replicationCandidates({ method }, ['a', 'b'])).toEqual(expected);
  });

  it('lists names with a tail count', () => {
    expect(listNames(['a', 'b', 'c'], 2)).toBe('a, b and 1 more');
    expect(listNames(['a'])).toBe('a');
  });

  it('maps with a concurrency limit, keeping the order', async () => {
    let inFlight = 0;
    let peak = 0;
    const out = await mapLimit([5, 1, 4, 2, 3], 2, async (n) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, n));
      inFlight--;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30]);
    expect(peak).toBe(2);
  });
});
