/**
 * `large-objects`: logical replication does not carry large objects. Per selected database: how many there are and
 * how the run handles them (dump: copied with the data; replication: copied again at cutover, when writes have
 * stopped). Fails when the source user cannot read some of them (not superuser, not the owner, no SELECT grant,
 * `lo_compat_privileges` off): the copy would fail.
 */
import type { CheckResult } from '../report.js';
import type { Request } from '../request.js';
import { defineCheck, result } from './check.js';
import type { PerDatabase } from './facts.js';

export interface LargeObjectFacts {
  readonly total: number;
  /** Large objects the source user may not read. */
  readonly unreadable: number;
}

export interface LargeObjectsFacts {
  readonly databases: PerDatabase<LargeObjectFacts>;
}

export function evaluateLargeObjects(facts: LargeObjectsFacts, request: Pick<Request, 'method'>): CheckResult[] {
  return facts.databases.map(({ database, facts: lo }) => {
    if (!lo.ok) {
      return result('large-objects', 'warn', `cannot count the large objects of "${database}": ${lo.error}`, {
        database,
        remedy: 'GRANT CONNECT on the database to the source user so the check can run',
      });
    }
    const { total, unreadable } = lo.value;
    const details = { largeObjects: total, unreadable };
    if (total === 0)
      return result('large-objects', 'pass', `"${database}" has no large objects`, { database, details });
    if (unreadable > 0) {
      return result(
        'large-objects',
        'fail',
        `the source user may not read ${unreadable} of the ${total} large object(s) of "${database}": they cannot be copied`,
        {
          database,
          remedy:
            'connect to the source as a superuser or as their owner, or GRANT SELECT ON LARGE OBJECT … to the source user',
          details,
        },
      );
    }
    if (request.method === 'dump') {
      return result('large-objects', 'pass', `"${database}" has ${total} large object(s): copied with the data`, {
        database,
        details,
      });
    }
    return result(
      'large-objects',
      'warn',
      `"${database}" has ${total} large object(s): logical replication does not carry them; if it is replicated they are copied at cutover (changes to them before then reach the target only then)`,
      {
        database,
        remedy: 'nothing to do; stop writes before cutover as usual',
        details,
      },
    );
  });
}

export const largeObjectsCheck = defineCheck<never, LargeObjectsFacts>({
  id: 'large-objects',
  database: {
    select: (db) => ({ databases: [{ database: db.item.name, facts: db.source.largeObjects }] }),
    evaluate: evaluateLargeObjects,
  },
});
