/**
 * How many sessions the pre-checks open, counted by the servers themselves (log_connections / log_disconnections),
 * not by timing: `check` over 12 databases opens at most 2 sessions per database per server, and never holds more
 * than the request's session budget open at once on a server.
 */
import { describe, expect, it } from 'vitest';
import { runChecks } from '../../../core/checks/index.js';
import { SESSION_LOGGING, sessionsDuring } from '../../support/sessions.js';
import { useCluster } from '../../support/vitest.js';
import { contextFor, requestFor } from './support.js';

const source = useCluster({ version: 15, settings: SESSION_LOGGING });
const target = useCluster({
  version: 16,
  settings: { ...SESSION_LOGGING, max_logical_replication_workers: 16, max_worker_processes: 24 },
});
const TENANTS = Array.from({ length: 12 }, (_, i) => `tenant_${String(i + 1).padStart(2, '0')}`);

describe('pre-check sessions', () => {
  it('opens at most 2 sessions per database per server for check over 12 databases, within the budget', async () => {
    for (const name of TENANTS) {
      await source().createDatabase(name);
      await source().loadFixture(name, 'create table accounts (id int primary key, balance numeric);');
    }
    for (const name of TENANTS.slice(0, 3)) await target().createDatabase(name);
    const request = requestFor({ dbs: TENANTS, sessionBudget: 4 });
    let results: Awaited<ReturnType<typeof runChecks>> = [];
    const [onSource, onTarget] = await sessionsDuring([source(), target()], async () => {
      results = await runChecks(request, contextFor(source().uri(), target().uri()));
    });

    expect(results.flat().filter((r) => r.status === 'fail')).toEqual([]);
    // Source: the server phase on the connect database, then one session per selected database.
    expect(onSource?.perDatabase).toEqual({ postgres: 1, ...Object.fromEntries(TENANTS.map((t) => [t, 1])) });
    // Target: the server phase, then one session per selected database that exists there.
    expect(onTarget?.perDatabase).toEqual({
      postgres: 1,
      ...Object.fromEntries(TENANTS.slice(0, 3).map((t) => [t, 1])),
    });
    expect(onSource!.peak).toBeLessThanOrEqual(4);
    expect(onTarget!.peak).toBeLessThanOrEqual(4);
  });
});
