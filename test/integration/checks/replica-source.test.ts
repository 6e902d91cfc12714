/** A PostgreSQL 15 source with `wal_level = replica`: replication is impossible, and the plan says why. */
import { beforeAll, describe, expect, it } from 'vitest';
import { runCheck, runChecks } from '../../../core/checks/index.js';
import { buildPlan } from '../../../core/plan.js';
import { buildReport } from '../../../core/report-builder.js';
import { useCluster } from '../../support/vitest.js';
import { contextFor, requestFor, statuses } from './support.js';

const source = useCluster({ version: 15, walLevel: 'replica' });
const target = useCluster({ version: 15 });

beforeAll(async () => {
  await source().createDatabase('ledger');
  await source().loadFixture(
    'ledger',
    'create table entries (id bigint primary key, amount numeric); insert into entries values (1, 10);',
  );
}, 60_000);

const ctx = () => contextFor(source().uri(), target().uri());

describe('checks with a wal_level = replica source', () => {
  it('fails replication-preconditions for every database, naming wal_level', async () => {
    const results = await runCheck('replication-preconditions', requestFor(), ctx());
    expect(statuses(results)).toEqual(['fail:ledger', 'fail:postgres']);
    expect(results[0]?.message).toMatch(/wal_level is replica on the source/);
    expect(results[0]?.remedy).toMatch(/wal_level = logical/);
    expect(results[0]?.details?.replicationOnly).toBe(true);
  });

  it('plans dump in auto mode and says exactly why', async () => {
    const request = requestFor();
    const results = await runChecks(request, ctx());
    const plan = buildPlan(request, results);
    expect(plan.blocked).toBe(false);
    expect(plan.databases.map((d) => d.method)).toEqual(['dump', 'dump']);
    expect(plan.databases[0]?.reasons).toEqual([
      expect.stringMatching(/replication not possible, replication-preconditions: "ledger": wal_level is replica/),
    ]);
    expect(buildReport({ action: 'check', startedAt: new Date().toISOString(), plan }).ok).toBe(true);
  });

  it('fails when replication is forced: the plan blocks with the reason', async () => {
    const request = requestFor({ method: 'replication' });
    const plan = buildPlan(request, await runChecks(request, ctx()));
    expect(plan.blocked).toBe(true);
    expect(plan.blockers.map((b) => `${b.id}:${b.database}`)).toEqual([
      'replication-preconditions:ledger',
      'replication-preconditions:postgres',
    ]);
    expect(buildReport({ action: 'check', startedAt: new Date().toISOString(), plan }).ok).toBe(false);
  });

  it('passes as it checks nothing replication-specific when dump is forced', async () => {
    const request = requestFor({ method: 'dump' });
    const results = await runChecks(request, ctx());
    const plan = buildPlan(request, results);
    expect(plan.blocked).toBe(false);
    expect(plan.databases.map((d) => d.method)).toEqual(['dump', 'dump']);
    expect(statuses(results.flat().filter((r) => r.id === 'replication-preconditions'))).toEqual(['skip']);
  });
});
