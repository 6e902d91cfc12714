import { describe, expect, it } from 'vitest';
import { evaluateReplicationSlots, type ReplicationSlotsFacts } from '../../../core/checks/replication-slots.js';

const roomy: ReplicationSlotsFacts = {
  candidates: ['a', 'b'],
  source: { maxReplicationSlots: 10, usedSlots: 2, ourSlots: 0, maxWalSenders: 10, usedWalSenders: 1 },
  target: { maxLogicalReplicationWorkers: 4, maxWorkerProcesses: 8, maxReplicationSlots: 10, otherSubscriptions: 0 },
};

describe('evaluateReplicationSlots', () => {
  it.each<[string, ReplicationSlotsFacts, string[], RegExp?]>([
    ['enough of everything', roomy, ['pass']],
    ['no candidates (dump)', { ...roomy, candidates: [] }, ['skip']],
    [
      'too few free slots',
      { ...roomy, source: { ...roomy.source, maxReplicationSlots: 3 } },
      ['fail'],
      /1 free replication slot/,
    ],
    [
      'our own slots from an interrupted run count as free',
      { ...roomy, source: { ...roomy.source, maxReplicationSlots: 3, ourSlots: 1 } },
      ['pass'],
    ],
    ['too few WAL senders', { ...roomy, source: { ...roomy.source, maxWalSenders: 2 } }, ['fail'], /max_wal_senders/],
    [
      'too few apply workers',
      { ...roomy, target: { ...roomy.target, maxLogicalReplicationWorkers: 1 } },
      ['fail'],
      /max_logical_replication_workers/,
    ],
    [
      'other subscriptions use the workers',
      { ...roomy, target: { ...roomy.target, otherSubscriptions: 3 } },
      ['fail'],
      /needs 5/,
    ],
    [
      'too few worker processes',
      { ...roomy, target: { ...roomy.target, maxWorkerProcesses: 2 } },
      ['fail'],
      /max_worker_processes/,
    ],
    [
      'too few origins on the target',
      { ...roomy, target: { ...roomy.target, maxReplicationSlots: 1 } },
      ['fail'],
      /origins/,
    ],
    [
      'several problems at once',
      { ...roomy, source: { ...roomy.source, maxReplicationSlots: 0, maxWalSenders: 0 } },
      ['fail', 'fail'],
    ],
  ])('%s', (_name, facts, expected, message) => {
    const results = evaluateReplicationSlots(facts);
    expect(results.map((r) => r.status)).toEqual(expected);
    if (message) expect(results[0]?.message).toMatch(message);
    for (const r of results.filter((x) => x.status === 'fail')) {
      expect(r.details).toMatchObject({ replicationOnly: true, databases: facts.candidates });
    }
  });

  it('does not mark the "not needed" skip as a replication problem', () => {
    expect(evaluateReplicationSlots({ ...roomy, candidates: [] })[0]?.details).toBeUndefined();
  });
});
