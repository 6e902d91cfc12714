/**
 * Finding and removing throwaway clusters, also those of an interrupted run. Every cluster directory is named
 * `<runId>-<pid>-…` under {@link CLUSTER_ROOT}; the run id is `r<pid of the vitest main process>` (set by the
 * global setup) or `p<pid>` outside vitest. A directory whose owner process is gone is swept.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CLUSTER_ROOT = join(tmpdir(), 'pg-migrate-test');

/** This test run's id. */
export function runId(): string {
  return process.env.PG_MIGRATE_TEST_RUN ?? `p${process.pid}`;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Stops the postmaster of `dataDir` at once (SIGQUIT, then SIGKILL) — synchronous, so it works in exit hooks. */
export function killPostmaster(dataDir: string): void {
  const pidFile = join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return;
  try {
    process.kill(pid, 'SIGQUIT');
  } catch {
    return;
  }
  for (let i = 0; i < 100 && alive(pid); i++) sleepSync(50);
  if (alive(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
}

/** Removes cluster directories: those of `run` when given, else those whose owning run or process is gone. */
export function sweepClusters(run?: string): string[] {
  if (!existsSync(CLUSTER_ROOT)) return [];
  const removed: string[] = [];
  for (const name of readdirSync(CLUSTER_ROOT)) {
    const [owner, pidText] = name.split('-');
    const ownerPid = Number(owner?.slice(1));
    const workerPid = Number(pidText);
    const mine = run !== undefined && owner === run;
    const orphan = run === undefined && !(alive(ownerPid) || alive(workerPid));
    if (!mine && !orphan) continue;
    const dir = join(CLUSTER_ROOT, name);
    killPostmaster(join(dir, 'data'));
    rmSync(dir, { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}
