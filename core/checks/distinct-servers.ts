/**
 * `distinct-servers`: source and target are not the same server. Host strings prove nothing (`localhost`,
 * `127.0.0.1`, a DNS alias, a proxy), so the check asks the servers: the server phase's source session carries a
 * random application_name that is looked for in the target's pg_stat_activity (visible to any user), and the
 * system identifier, data directory, port and start time are compared where the user may read them.
 */
import type { CheckResult } from '../report.js';
import { defineCheck, need, result } from './check.js';
import type { ServerIdentity } from './collect.js';

export type { ServerIdentity } from './collect.js';

export interface DistinctServersFacts {
  readonly source: ServerIdentity;
  readonly target: ServerIdentity;
  /** Whether the target saw the source's probe session. */
  readonly probeSeenOnTarget: boolean;
}

export function evaluateDistinctServers(facts: DistinctServersFacts): CheckResult[] {
  const { source, target } = facts;
  const details = { source, target, probeSeenOnTarget: facts.probeSeenOnTarget };
  const sameId = source.systemIdentifier !== undefined && source.systemIdentifier === target.systemIdentifier;
  const sameInstance =
    sameId &&
    source.port === target.port &&
    source.startTime === target.startTime &&
    (source.dataDirectory === undefined ||
      target.dataDirectory === undefined ||
      source.dataDirectory === target.dataDirectory);
  if (facts.probeSeenOnTarget || sameInstance) {
    return [
      result(
        'distinct-servers',
        'fail',
        'source and target are the same server: a session opened on the source is visible on the target',
        {
          remedy:
            'point --target at a different server (host names such as localhost and 127.0.0.1 can name the same one)',
          details,
        },
      ),
    ];
  }
  if (sameId) {
    return [
      result(
        'distinct-servers',
        'warn',
        `source and target share the system identifier ${source.systemIdentifier ?? ''}: the target is a physical copy or standby of the source`,
        { remedy: 'make sure the target is a writable primary, not a standby of the source', details },
      ),
    ];
  }
  return [result('distinct-servers', 'pass', 'source and target are different servers', { details })];
}

export const distinctServersCheck = defineCheck<DistinctServersFacts>({
  id: 'distinct-servers',
  server: {
    select: (facts) => {
      const { pid: _pid, ...source } = need(facts.source.identity, 'the source');
      return {
        source,
        target: need(facts.target.identity, 'the target'),
        probeSeenOnTarget: need(facts.target.probeSeen, 'the target'),
      };
    },
    evaluate: evaluateDistinctServers,
  },
});
