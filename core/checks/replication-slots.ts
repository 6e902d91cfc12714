/**
 * `replication-slots`: room for one logical replication slot and one WAL sender per database planned for
 * replication on the source, and for one apply worker and replication origin per subscription on the target
 * (`max_logical_replication_workers`, `max_worker_processes`, `max_replication_slots`). Slots and subscriptions left
 * by an interrupted pg-migrate run (named `pg_migrate…`) are reused, so they count as free.
 * Failures are replication-only (`details.replicationOnly`): in auto mode the plan falls back to dump.
 */
import type { CheckResult } from '../report.js';
import { defineCheck, need, result } from './check.js';
import { listNames, replicationCandidates } from './facts.js';

export interface ReplicationSlotsFacts {
  readonly candidates: readonly string[];
  readonly source: {
    readonly maxReplicationSlots: number;
    readonly usedSlots: number;
    readonly ourSlots: number;
    readonly maxWalSenders: number;
    readonly usedWalSenders: number;
  };
  readonly target: {
    readonly maxLogicalReplicationWorkers: number;
    readonly maxWorkerProcesses: number;
    readonly maxReplicationSlots: number;
    readonly otherSubscriptions: number;
  };
}

export function evaluateReplicationSlots(facts: ReplicationSlotsFacts): CheckResult[] {
  const n = facts.candidates.length;
  if (n === 0) {
    return [
      result('replication-slots', 'skip', 'not needed: no database is planned for replication', {
        replicationOnly: false,
      }),
    ];
  }
  const { source, target } = facts;
  const details = { databases: facts.candidates, source, target };
  const problems: { message: string; remedy: string }[] = [];
  const freeSlots = source.maxReplicationSlots - source.usedSlots + source.ourSlots;
  if (freeSlots < n) {
    problems.push({
      message: `the source has ${freeSlots} free replication slot(s) (max_replication_slots = ${source.maxReplicationSlots}, ${source.usedSlots} in use) for ${n} database(s)`,
      remedy: `raise max_replication_slots on the source to at least ${source.usedSlots - source.ourSlots + n} (restart needed), drop unused slots, or migrate fewer databases by replication`,
    });
  }
  const freeSenders = source.maxWalSenders - source.usedWalSenders;
  if (freeSenders < n) {
    problems.push({
      message: `the source has ${freeSenders} free WAL sender(s) (max_wal_senders = ${source.maxWalSenders}, ${source.usedWalSenders} in use) for ${n} database(s)`,
      remedy: `raise max_wal_senders on the source to at least ${source.usedWalSenders + n} (restart needed)`,
    });
  }
  const workers = target.otherSubscriptions + n;
  if (target.maxLogicalReplicationWorkers < workers) {
    problems.push({
      message: `the target allows ${target.maxLogicalReplicationWorkers} logical replication worker(s) (max_logical_replication_workers) but needs ${workers}`,
      remedy: `raise max_logical_replication_workers on the target to at least ${workers} (restart needed)`,
    });
  }
  if (target.maxWorkerProcesses < workers + 1) {
    problems.push({
      message: `the target allows ${target.maxWorkerProcesses} background worker(s) (max_worker_processes) but needs ${workers + 1} (apply workers and the launcher)`,
      remedy: `raise max_worker_processes on the target to at least ${workers + 1} (restart needed)`,
    });
  }
  if (target.maxReplicationSlots < workers) {
    problems.push({
      message: `the target's max_replication_slots (${target.maxReplicationSlots}) bounds its replication origins, one per subscription: ${workers} needed`,
      remedy: `raise max_replication_slots on the target to at least ${workers} (restart needed)`,
    });
  }
  if (problems.length === 0) {
    return [
      result(
        'replication-slots',
        'pass',
        `room for ${n} subscription(s): ${freeSlots} free slot(s) and ${freeSenders} free WAL sender(s) on the source; ${target.maxLogicalReplicationWorkers - target.otherSubscriptions} free apply worker(s) on the target`,
        { details },
      ),
    ];
  }
  return problems.map((p) =>
    result('replication-slots', 'fail', `${p.message} (${listNames(facts.candidates, 5)})`, {
      remedy: p.remedy,
      details,
    }),
  );
}

export const replicationSlotsCheck = defineCheck<ReplicationSlotsFacts>({
  id: 'replication-slots',
  server: {
    select: (facts, request) => {
      const candidates = replicationCandidates(request, need(facts.selection).selected);
      if (candidates.length === 0) {
        return { candidates, source: NO_SOURCE, target: NO_TARGET };
      }
      const { walLevel: _walLevel, ...source } = need(facts.source.replication, 'the source');
      return { candidates, source, target: need(facts.target.replication, 'the target') };
    },
    evaluate: evaluateReplicationSlots,
  },
});

const NO_SOURCE: ReplicationSlotsFacts['source'] = {
  maxReplicationSlots: 0,
  usedSlots: 0,
  ourSlots: 0,
  maxWalSenders: 0,
  usedWalSenders: 0,
};
const NO_TARGET: ReplicationSlotsFacts['target'] = {
  maxLogicalReplicationWorkers: 0,
  maxWorkerProcesses: 0,
  maxReplicationSlots: 0,
  otherSubscriptions: 0,
};
