import { describe, expect, it } from 'vitest';
import { evaluateLargeObjects } from '../../../core/checks/large-objects.js';
import { evaluateMaterializedViews, type MaterializedView } from '../../../core/checks/materialized-views.js';
import { evaluateUnloggedTables } from '../../../core/checks/unlogged-tables.js';
import { failed, ok, statuses } from './helpers.js';

const auto = { method: 'auto' as const, withTables: [] as string[], skipTables: [] as string[] };
const dump = { ...auto, method: 'dump' as const };

describe('evaluateLargeObjects', () => {
  it.each([
    ['none', { total: 0, unreadable: 0 }, auto, 'pass'],
    ['some, replication possible', { total: 3, unreadable: 0 }, auto, 'warn'],
    ['some, dump', { total: 3, unreadable: 0 }, dump, 'pass'],
    ['some unreadable', { total: 3, unreadable: 1 }, dump, 'fail'],
  ] as const)('%s → %s', (_name, lo, request, status) => {
    expect(statuses(evaluateLargeObjects({ databases: [{ database: 'd', facts: ok(lo) }] }, request))).toEqual([
      `${status}:d`,
    ]);
  });

  it('warns when it cannot count', () => {
    expect(
      statuses(evaluateLargeObjects({ databases: [{ database: 'd', facts: failed('permission denied') }] }, auto)),
    ).toEqual(['warn:d']);
  });
});

describe('evaluateUnloggedTables', () => {
  const t = (table: string, readable = true) => ({ schema: 'public', name: table, readable });
  it.each([
    ['none', [], auto, 'pass'],
    ['some, replication possible', [t('cache')], auto, 'warn'],
    ['some, dump', [t('cache')], dump, 'pass'],
    ['some unreadable', [t('cache', false)], dump, 'fail'],
    ['unreadable but skipped', [t('cache', false)], { ...dump, skipTables: ['public.cache'] }, 'pass'],
  ] as const)('%s → %s', (_name, tables, request, status) => {
    expect(statuses(evaluateUnloggedTables({ databases: [{ database: 'd', facts: ok(tables) }] }, request))).toEqual([
      `${status}:d`,
    ]);
  });
});

describe('evaluateMaterializedViews', () => {
  const mv = (populated: boolean, ...deps: string[]): MaterializedView => ({
    schema: 'public',
    view: 'totals',
    populated,
    dependsOn: deps.map((d) => ({ schema: 'public', name: d })),
  });
  it.each([
    ['none', [], auto, 'pass'],
    ['some, replication possible', [mv(true, 'orders')], auto, 'warn'],
    ['some, dump', [mv(true, 'orders')], dump, 'pass'],
    ['reads a skipped table', [mv(true, 'orders')], { ...dump, skipTables: ['public.orders'] }, 'fail'],
    [
      'reads a table outside withTables',
      [mv(true, 'orders', 'items')],
      { ...dump, withTables: ['d.public.items'] },
      'fail',
    ],
    [
      'unpopulated view over a skipped table',
      [mv(false, 'orders')],
      { ...dump, skipTables: ['public.orders'] },
      'pass',
    ],
  ] as const)('%s → %s', (_name, views, request, status) => {
    expect(statuses(evaluateMaterializedViews({ databases: [{ database: 'd', facts: ok(views) }] }, request))).toEqual([
      `${status}:d`,
    ]);
  });
});
