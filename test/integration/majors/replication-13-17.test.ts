/**
 * PostgreSQL 13 → 17 by logical replication, with partitioned tables whose partitions have no key: REPLICA IDENTITY
 * FULL goes on the partitions (what the publication publishes), and cutover and abort revert it. Then 13 → 18 by
 * dump, the session policy on 17 (transaction_timeout on one database), and a 17 source refused for want of a
 * pg_dump 17 (this machine and CI have Debian's 15 only).
 */
import { describe, expect, it } from 'vitest';
import { runCheck } from '../../../core/checks/index.js';
import { connect, parseConnectionString } from '../../../core/connection.js';
import { migrateByDump } from '../../../core/steps/dump.js';
import { abortReplication, cutoverDatabase, migrateByReplication } from '../../../core/steps/replication/index.js';
import type { TestCluster } from '../../support/cluster.js';
import { useCluster } from '../../support/vitest.js';
import { contextFor as checkContext, requestFor as checkRequest } from '../checks/support.js';
import { planned as dumpPlanned, requestFor } from '../dump/support.js';
import { fingerprint, leftovers, planned, replicationRequest, runContext } from '../replication/support.js';

const source = useCluster({ version: 13 });
const target = useCluster({ version: 17 });
const newest = useCluster({ version: 18 });

/** A partitioned table without a key (two partitions), and a plain table with one. */
const LOGS = `
  CREATE TABLE public.logs (at date NOT NULL, line text) PARTITION BY RANGE (at);
  CREATE TABLE public.logs_2025 PARTITION OF public.logs FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
  CREATE TABLE public.logs_2026 PARTITION OF public.logs FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
  CREATE TABLE public.users (id int PRIMARY KEY, name text);
  INSERT INTO public.logs SELECT date '2025-01-01' + (g % 700), 'line ' || g FROM generate_series(1, 4000) g;
  INSERT INTO public.users SELECT g, 'u' || g FROM generate_series(1, 300) g;
`;

async function identities(cluster: TestCluster, db: string): Promise<Record<string, string>> {
  const rows = await cluster.query<{ name: string; r: string }>(
    "SELECT relname AS name, relreplident AS r FROM pg_class WHERE relname LIKE 'logs%' AND relkind IN ('r', 'p') ORDER BY 1",
    [],
    db,
  );
  return Object.fromEntries(rows.map((r) => [r.name, r.r]));
}

describe('replication 13 → 17', () => {
  it('sets REPLICA IDENTITY FULL on the keyless partitions, replicates their updates, and reverts it at cutover', async () => {
    const db = 'logs13';
    await source().createDatabase(db);
    await source().loadFixture(db, LOGS);
    const ctx = runContext(source(), target());
    const request = replicationRequest(source(), target(), { replicaIdentityFull: true });
    const result = await migrateByReplication(ctx, request, planned(db));
    expect(result.status, result.message).toBe('replicating');
    expect(await identities(source(), db)).toEqual({ logs: 'd', logs_2025: 'f', logs_2026: 'f' });
    // Updates and deletes on a partition are accepted by the source and arrive on the target.
    await source().query(
      "UPDATE public.logs SET line = 'changed' WHERE line = 'line 7'; DELETE FROM public.logs WHERE line = 'line 8'",
      [],
      db,
    );
    const done = await cutoverDatabase(ctx, { ...request, action: 'cutover' }, planned(db));
    expect(done.status, done.message).toBe('done');
    expect(done.message).toMatch(/REPLICA IDENTITY reverted on 2 table\(s\)/);
    expect(await identities(source(), db)).toEqual({ logs: 'd', logs_2025: 'd', logs_2026: 'd' });
    expect(await fingerprint(target(), db)).toEqual(await fingerprint(source(), db));
    const [changed] = await target().query<{ n: number }>(
      "SELECT count(*)::int AS n FROM public.logs WHERE line = 'changed'",
      [],
      db,
    );
    expect(changed?.n).toBe(1);
    expect(await leftovers(source(), target(), [db])).toEqual([]);
  });

  it('reverts REPLICA IDENTITY FULL on the partitions when the replication is aborted', async () => {
    const db = 'logs13b';
    await source().createDatabase(db);
    await source().loadFixture(db, LOGS);
    const ctx = runContext(source(), target());
    const request = replicationRequest(source(), target(), { replicaIdentityFull: true });
    const result = await migrateByReplication(ctx, request, planned(db));
    expect(result.status, result.message).toBe('replicating');
    expect(await identities(source(), db)).toEqual({ logs: 'd', logs_2025: 'f', logs_2026: 'f' });
    const aborted = await abortReplication(ctx, { ...request, action: 'abort', dbs: [db] });
    expect(aborted.map((d) => [d.name, d.status])).toEqual([[db, 'done']]);
    expect(await identities(source(), db)).toEqual({ logs: 'd', logs_2025: 'd', logs_2026: 'd' });
    expect(await leftovers(source(), target(), [db])).toEqual([]);
  });

  it('fails when a keyless partition has no consent, naming the partitions and creating nothing', async () => {
    const db = 'logs13c';
    await source().createDatabase(db);
    await source().loadFixture(db, LOGS);
    const ctx = runContext(source(), target());
    const run = migrateByReplication(ctx, replicationRequest(source(), target()), planned(db));
    await expect(run).rejects.toMatchObject({ name: 'PgMigrate.Blocked' });
    await expect(run).rejects.toThrow(/public\.logs_2025, public\.logs_2026/);
    expect(await identities(source(), db)).toEqual({ logs: 'd', logs_2025: 'd', logs_2026: 'd' });
    expect(await leftovers(source(), target(), [db])).toEqual([]);
  });
});

describe('newer targets', () => {
  it('migrates PostgreSQL 13 → 18 by dump with equal data', async () => {
    await source().createDatabase('to18');
    await source().loadFixture('to18', LOGS);
    const result = await migrateByDump(
      runContext(source(), newest()),
      requestFor({ roles: false }),
      dumpPlanned('to18'),
    );
    expect(result.status, result.message).toBe('done');
    expect(await fingerprint(newest(), 'to18')).toEqual(await fingerprint(source(), 'to18'));
  });

  it('keeps a reading session alive on 17 although the database ends transactions after 300 ms', async () => {
    // On one database only: the migrations above must not race the limit.
    await target().createDatabase('timeouts');
    await target().query("ALTER DATABASE timeouts SET transaction_timeout = '300ms'");
    const spec = parseConnectionString(target().uri(), 'target');
    const reader = await connect(spec, 'timeouts', { role: 'reader' });
    const plain = await connect(spec, 'timeouts');
    try {
      for (const client of [reader, plain]) {
        await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
        await client.query('SELECT 1');
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
      await expect(reader.query('SELECT 2 AS x')).resolves.toMatchObject({ rows: [{ x: 2 }] });
      await expect(plain.query('SELECT 2 AS x')).rejects.toThrow();
    } finally {
      await reader.end().catch(() => {});
      await plain.end().catch(() => {});
    }
  });

  it('fails when the source is PostgreSQL 17 and no pg_dump 17 is installed: the version check and both methods say so, touching nothing', async () => {
    const [tools] = await runCheck('version', checkRequest(), checkContext(target().uri(), newest().uri()));
    expect(tools?.status).toBe('fail');
    expect(tools?.message).toMatch(/no pg_dump \/ pg_restore of version 17 or newer/);
    await target().createDatabase('from17');
    const run = migrateByDump(runContext(target(), newest()), requestFor({ roles: false }), dumpPlanned('from17'));
    await expect(run).rejects.toMatchObject({ name: 'PgMigrate.Permanent' });
    await expect(run).rejects.toThrow(/no pg_dump\/pg_restore of major 17 or newer/);
    const replicated = migrateByReplication(
      runContext(target(), newest()),
      replicationRequest(target(), newest()),
      planned('from17'),
    );
    await expect(replicated).rejects.toThrow(/no pg_dump\/pg_restore of major 17 or newer/);
    const [created] = await newest().query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_database WHERE datname = 'from17'",
    );
    expect(created?.n).toBe(0);
    expect(await leftovers(target(), newest(), ['from17'])).toEqual([]);
  });
});
