/**
 * Ctrl-C during `migrate` by logical replication: the run stops (exit code 130), its task child is gone, and the
 * replication objects it created are removed on both sides.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { useCluster } from '../support/vitest.js';
import { BIN, leakForms } from './cli.js';

const source = useCluster({ version: 15 });
const target = useCluster({ version: 15 });

async function replicationObjects() {
  const [pubs] = await source().query<{ n: number }>(
    'SELECT count(*)::int AS n FROM pg_catalog.pg_publication',
    [],
    'app',
  );
  const [slots] = await source().query<{ n: number }>('SELECT count(*)::int AS n FROM pg_catalog.pg_replication_slots');
  const [subs] = await target().query<{ n: number }>('SELECT count(*)::int AS n FROM pg_catalog.pg_subscription');
  return { publications: pubs?.n, slots: slots?.n, subscriptions: subs?.n };
}

describe('Ctrl-C during pg-migrate migrate', () => {
  it('stops the run with exit code 130 and removes the replication objects it created', async () => {
    await source().createDatabase('app');
    await source().loadFixture(
      'app',
      `CREATE TABLE public.items (id bigint PRIMARY KEY, payload text NOT NULL);
       INSERT INTO public.items SELECT g, repeat('x', 200) FROM generate_series(1, 200000) g;`,
    );
    const child = spawn(process.execPath, [BIN, 'migrate', '--dbs', 'app', '--method', 'replication', '--no-roles'], {
      env: { ...process.env, PG_MIGRATE_SOURCE: source().uri('postgres'), PG_MIGRATE_TARGET: target().uri('postgres') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    // Interrupt once the replication objects exist (the slot on the source), while the run is still going.
    const deadline = Date.now() + 120_000;
    let interrupted = false;
    while (Date.now() < deadline && child.exitCode === null) {
      const { slots } = await replicationObjects();
      if ((slots ?? 0) > 0) {
        child.kill('SIGINT');
        interrupted = true;
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(interrupted, output).toBe(true);
    const code = await exited;
    expect(code, output).toBe(130);
    expect(output).toMatch(/Stopping/);
    expect(output).toMatch(/Replication objects removed/);
    expect(await replicationObjects()).toEqual({ publications: 0, slots: 0, subscriptions: 0 });
    for (const secret of leakForms([source().password, target().password])) expect(output).not.toContain(secret);
  });
});
