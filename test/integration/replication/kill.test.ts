import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  cleanupDatabase,
  cutoverDatabase,
  migrateByReplication,
  replicationNames,
} from '../../../core/steps/replication/index.js';
import type { TestCluster } from '../../support/cluster.js';
import { useCluster } from '../../support/vitest.js';
import { KILL_DATA, KILL_SCHEMA } from './kill-fixture.js';
import { fingerprint, leftovers, planned, replicationRequest, runContext } from './support.js';

const source = useCluster({ version: 15 });
const target = useCluster({ version: 15 });
const here = dirname(fileURLToPath(import.meta.url));
const DB = 'big';

/** Starts set-up in a child process and kills it (SIGKILL) as soon as the slot exists on the source. */
async function killAfterSlot(src: TestCluster, dst: TestCluster): Promise<void> {
  const child = spawn('npx', ['tsx', join(here, 'kill-driver.ts')], {
    env: {
      ...process.env,
      DRIVER_SOURCE: `${src.port}:${src.password}`,
      DRIVER_TARGET: `${dst.port}:${dst.password}`,
      DRIVER_DB: DB,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const slot = replicationNames(DB).slot;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const rows = await src.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1', [slot]);
    if (rows.length > 0) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`the driver ended before the slot appeared (exit ${child.exitCode}): ${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  // Kill the whole process group (npx → tsx → node) at once: no clean-up code can run.
  process.kill(-child.pid!, 'SIGKILL');
  await exited;
  expect(output).not.toContain('set-up finished');
}

describe('a set-up killed after its slot exists', () => {
  it('is cleaned up by the clean-up step and a re-run completes and cuts over', async () => {
    await source().createDatabase(DB);
    await source().loadFixture(DB, KILL_SCHEMA + KILL_DATA);
    const ctx = runContext(source(), target());
    const request = replicationRequest(source(), target());
    const names = replicationNames(DB);

    await killAfterSlot(source(), target());
    expect(await leftovers(source(), target(), [DB])).toEqual(
      expect.arrayContaining([`slot ${names.slot}`, `publication ${names.publication} in ${DB}`]),
    );

    const cleaned = await cleanupDatabase(ctx, request, planned(DB), {
      Error: 'States.TaskFailed',
      Cause: JSON.stringify({ errorMessage: `task killed; source ${source().uri()}` }),
    });
    expect(cleaned).toMatchObject({ name: DB, status: 'failed', error: 'States.TaskFailed' });
    expect(cleaned.message).toContain(`slot ${names.slot}`);
    expect(cleaned.message).not.toContain(source().password);
    expect(await leftovers(source(), target(), [DB])).toEqual([]);

    // Killed again, and this time re-run directly: set-up recreates its own objects over the partial copy.
    await killAfterSlot(source(), target());
    const rerun = await migrateByReplication(ctx, request, planned(DB));
    expect(rerun.status).toBe('replicating');
    expect(rerun.message).toMatch(/; in sync/);
    await source().query('UPDATE small SET id = id + 100', [], DB);

    const done = await cutoverDatabase(ctx, { ...request, action: 'cutover' }, planned(DB));
    expect(done.status, done.message).toBe('done');
    expect(await fingerprint(target(), DB)).toEqual(await fingerprint(source(), DB));
    expect(await leftovers(source(), target(), [DB])).toEqual([]);
  });
});
