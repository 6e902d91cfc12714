import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../core/plan.js';
import type { CheckResult } from '../../core/report.js';

type Req = Parameters<typeof buildPlan>[0];
const r = (id: string, status: CheckResult['status'], extra: Partial<CheckResult> = {}): CheckResult => ({
  id,
  status,
  message: `${id} ${status}`,
  remedy: '',
  ...extra,
});
const selection = (...dbs: string[]) => [r('source-databases', 'pass', { details: { databases: dbs } })];
/** Everything a database needs for replication. */
const replicable = (db: string) => [
  r('replication-preconditions', 'pass', { database: db }),
  r('primary-keys', 'pass', { database: db }),
];
const slots = [r('replication-slots', 'pass')];
const auto: Req = { method: 'auto', replicaIdentityFull: false };

describe('buildPlan', () => {
  it.each<[string, Req, CheckResult[][], { blocked: boolean; methods: string[]; blockers?: string[] }]>([
    [
      'all preconditions hold: replication',
      auto,
      [selection('a', 'b'), slots, replicable('a'), replicable('b')],
      { blocked: false, methods: ['replication', 'replication'] },
    ],
    [
      'dump forced: dump everywhere',
      { ...auto, method: 'dump' },
      [selection('a', 'b'), slots, replicable('a'), replicable('b')],
      { blocked: false, methods: ['dump', 'dump'] },
    ],
    [
      'auto: a replication-only failure falls back for that database only',
      auto,
      [
        selection('a', 'b'),
        slots,
        replicable('a'),
        [
          r('replication-preconditions', 'fail', { database: 'b', details: { replicationOnly: true } }),
          r('primary-keys', 'pass', { database: 'b' }),
        ],
      ],
      { blocked: false, methods: ['replication', 'dump'] },
    ],
    [
      'auto: a database-less replication-only failure falls back for the databases it names',
      auto,
      [
        selection('a', 'b'),
        [r('replication-slots', 'fail', { details: { replicationOnly: true, databases: ['a', 'b'] } })],
        replicable('a'),
        replicable('b'),
      ],
      { blocked: false, methods: ['dump', 'dump'] },
    ],
    [
      'auto: source-activity prepared transactions fall back too',
      auto,
      [
        selection('a'),
        slots,
        replicable('a'),
        [r('source-activity', 'fail', { details: { replicationOnly: true, databases: ['a'] } })],
      ],
      { blocked: false, methods: ['dump'] },
    ],
    [
      'auto: missing evidence falls back to dump',
      auto,
      [selection('a'), slots, [r('replication-preconditions', 'pass', { database: 'a' })]],
      { blocked: false, methods: ['dump'] },
    ],
    [
      'forced replication: a replication-only failure blocks',
      { ...auto, method: 'replication' },
      [
        selection('a'),
        slots,
        [
          r('replication-preconditions', 'fail', { database: 'a', details: { replicationOnly: true } }),
          r('primary-keys', 'pass', { database: 'a' }),
        ],
      ],
      { blocked: true, methods: ['replication'], blockers: ['replication-preconditions'] },
    ],
    [
      'forced replication: missing evidence blocks',
      { ...auto, method: 'replication' },
      [selection('a'), replicable('a')],
      { blocked: true, methods: ['replication'], blockers: ['replication-preconditions'] },
    ],
    [
      'a blocking failure blocks',
      auto,
      [selection('a'), slots, replicable('a'), [r('extensions', 'fail', { database: 'a' })]],
      { blocked: true, methods: ['replication'], blockers: ['extensions'] },
    ],
    [
      'warnings and skips do not block',
      auto,
      [selection('a'), slots, replicable('a'), [r('disk-space', 'warn'), r('roles', 'skip')]],
      { blocked: false, methods: ['replication'] },
    ],
    [
      'no database selection blocks',
      auto,
      [[r('connection-source', 'pass')]],
      { blocked: true, methods: [], blockers: ['source-databases'] },
    ],
    [
      'a failed selection blocks once',
      auto,
      [[r('source-databases', 'fail')]],
      { blocked: true, methods: [], blockers: ['source-databases'] },
    ],
  ])('%s', (_name, request, results, expected) => {
    const plan = buildPlan(request, results);
    expect(plan.blocked).toBe(expected.blocked);
    expect(plan.databases.map((d) => d.method)).toEqual(expected.methods);
    if (expected.blockers) expect(plan.blockers.map((b) => b.id)).toEqual(expected.blockers);
    expect(plan.checks).toHaveLength(results.flat().length);
  });

  it("gives the failing results' messages as the reasons for dump", () => {
    const plan = buildPlan(auto, [
      selection('a'),
      slots,
      [
        r('replication-preconditions', 'fail', {
          database: 'a',
          message: '"a": wal_level is replica on the source, not logical',
          details: { replicationOnly: true },
        }),
      ],
      [
        r('primary-keys', 'fail', {
          database: 'a',
          message: '1 table(s) of "a" have no primary key',
          details: { replicationOnly: true, tables: ['public.t'] },
        }),
      ],
    ]);
    expect(plan.databases[0]?.reasons).toEqual([
      'replication not possible, replication-preconditions: "a": wal_level is replica on the source, not logical',
      'replication not possible, primary-keys: 1 table(s) of "a" have no primary key',
    ]);
  });

  it('takes REPLICA IDENTITY FULL tables from consented primary-keys warnings, and targetExists from target-databases', () => {
    const plan = buildPlan({ method: 'auto', replicaIdentityFull: true }, [
      selection('a', 'b'),
      slots,
      [
        r('replication-preconditions', 'pass', { database: 'a' }),
        r('replication-preconditions', 'pass', { database: 'b' }),
      ],
      [
        r('primary-keys', 'warn', { database: 'a', details: { tables: ['public.log', 'app.events'] } }),
        r('primary-keys', 'pass', { database: 'b' }),
      ],
      [
        r('target-databases', 'pass', { database: 'a', details: { targetExists: true } }),
        r('target-databases', 'pass', { database: 'b', details: { targetExists: false } }),
      ],
    ]);
    expect(plan.databases).toEqual([
      {
        name: 'a',
        method: 'replication',
        reasons: ['every replication precondition holds', 'REPLICA IDENTITY FULL (consented) for 2 table(s)'],
        replicaIdentityFull: ['public.log', 'app.events'],
        targetExists: true,
      },
      {
        name: 'b',
        method: 'replication',
        reasons: ['every replication precondition holds'],
        replicaIdentityFull: [],
        targetExists: false,
      },
    ]);
  });

  it('reads merged passes (many databases): evidence from details.databases, targetExists from details.existing', () => {
    const plan = buildPlan(auto, [
      selection('a', 'b', 'c'),
      slots,
      [r('replication-preconditions', 'pass', { details: { databases: ['a', 'b', 'c'] } })],
      [
        r('primary-keys', 'pass', { details: { databases: ['a', 'c'] } }),
        r('primary-keys', 'fail', { database: 'b', details: { replicationOnly: true, tables: ['public.t'] } }),
      ],
      [r('target-databases', 'pass', { details: { databases: ['a', 'b', 'c'], existing: ['b'] } })],
    ]);
    expect(plan.databases.map((d) => [d.name, d.method, d.targetExists])).toEqual([
      ['a', 'replication', false],
      ['b', 'dump', true],
      ['c', 'replication', false],
    ]);
  });

  it('lists a shared replication blocker once when replication is forced', () => {
    const shared = r('replication-slots', 'fail', { details: { replicationOnly: true, databases: ['a', 'b'] } });
    const plan = buildPlan({ method: 'replication', replicaIdentityFull: false }, [
      selection('a', 'b'),
      [shared],
      replicable('a'),
      replicable('b'),
    ]);
    expect(plan.blockers).toEqual([shared]);
  });
});
