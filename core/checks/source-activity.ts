/**
 * `source-activity`: long-running and prepared transactions on the source. Creating a logical replication slot
 * waits until every transaction running at that moment has ended, so an orphaned prepared transaction makes it wait
 * forever: that rules out replication (replication-only failure: auto mode falls back to dump). Long-running
 * transactions (over {@link LONG_TRANSACTION_SECONDS}) only delay it: a warning. With the dump method both are
 * warnings (their locks can hold up the dump).
 */
import type { CheckResult } from '../report.js';
import { defineCheck, need, result } from './check.js';
import type { SourceActivity } from './collect.js';
import { listNames, replicationCandidates } from './facts.js';

/** A transaction older than this is reported. */
export const LONG_TRANSACTION_SECONDS = 300;

export interface SourceActivityFacts extends SourceActivity {
  readonly candidates: readonly string[];
}

export function evaluateSourceActivity(facts: SourceActivityFacts): CheckResult[] {
  const out: CheckResult[] = [];
  const replicating = facts.candidates.length > 0;
  if (facts.prepared.length > 0) {
    const list = listNames(
      facts.prepared.map((p) => `${p.gid} in ${p.database} (${Math.round(p.ageSeconds)} s old)`),
      5,
    );
    out.push(
      result(
        'source-activity',
        replicating ? 'fail' : 'warn',
        `${facts.prepared.length} prepared transaction(s) on the source: ${list}${replicating ? '; creating a replication slot would wait until they are committed or rolled back' : ''}`,
        {
          remedy:
            'COMMIT PREPARED or ROLLBACK PREPARED them (see pg_prepared_xacts)' +
            (replicating ? ', or use --method dump' : ''),
          details: { prepared: facts.prepared, ...(replicating ? { databases: facts.candidates } : {}) },
          replicationOnly: replicating,
        },
      ),
    );
  }
  const long = facts.running.filter((r) => r.ageSeconds >= LONG_TRANSACTION_SECONDS);
  if (long.length > 0) {
    const list = listNames(
      long.map((r) => `pid ${r.pid} (${r.user ?? '?'}@${r.database ?? '?'}, ${Math.round(r.ageSeconds)} s)`),
      5,
    );
    out.push(
      result(
        'source-activity',
        'warn',
        `${long.length} transaction(s) running for over ${LONG_TRANSACTION_SECONDS} s on the source: ${list}; ${replicating ? 'slot creation waits for them' : 'their locks can delay the dump'}`,
        {
          remedy: 'let them finish or end them (pg_terminate_backend) before migrating',
          details: { long },
        },
      ),
    );
  }
  if (facts.hidden > 0 && replicating) {
    out.push(
      result(
        'source-activity',
        'warn',
        `the source user cannot see the transactions of ${facts.hidden} other session(s)`,
        {
          remedy: 'GRANT pg_read_all_stats to the source user to have them checked',
        },
      ),
    );
  }
  if (out.length === 0) {
    out.push(result('source-activity', 'pass', 'no prepared or long-running transactions on the source'));
  }
  return out;
}

export const sourceActivityCheck = defineCheck<SourceActivityFacts>({
  id: 'source-activity',
  server: {
    select: (facts, request) => ({
      candidates: replicationCandidates(request, need(facts.selection).selected),
      ...need(facts.source.activity, 'the source'),
    }),
    evaluate: evaluateSourceActivity,
  },
});
