import { describe, expect, it } from 'vitest';
import { evaluateSourceActivity, type SourceActivityFacts } from '../../../core/checks/source-activity.js';

const quiet: SourceActivityFacts = { candidates: ['a'], prepared: [], running: [], hidden: 0 };
const prepared = [{ gid: 'g1', database: 'a', ageSeconds: 7200 }];
const long = [{ pid: 42, database: 'a', user: 'app', ageSeconds: 900 }];

describe('evaluateSourceActivity', () => {
  it.each<[string, SourceActivityFacts, string[]]>([
    ['quiet', quiet, ['pass']],
    ['short transactions only', { ...quiet, running: [{ pid: 1, database: 'a', user: 'u', ageSeconds: 3 }] }, ['pass']],
    ['prepared transaction, replication planned', { ...quiet, prepared }, ['fail']],
    ['prepared transaction, dump', { ...quiet, candidates: [], prepared }, ['warn']],
    ['long transaction', { ...quiet, running: long }, ['warn']],
    ['hidden sessions, replication planned', { ...quiet, hidden: 2 }, ['warn']],
    ['hidden sessions, dump', { ...quiet, candidates: [], hidden: 2 }, ['pass']],
    ['everything', { ...quiet, prepared, running: long, hidden: 1 }, ['fail', 'warn', 'warn']],
  ])('%s', (_name, facts, expected) => {
    expect(evaluateSourceActivity(facts).map((r) => r.status)).toEqual(expected);
  });

  it('makes a prepared transaction a replication-only failure for the candidates', () => {
    const [r] = evaluateSourceActivity({ ...quiet, candidates: ['a', 'b'], prepared });
    expect(r?.details).toMatchObject({ replicationOnly: true, databases: ['a', 'b'] });
    expect(r?.message).toMatch(/g1 in a/);
  });
});
