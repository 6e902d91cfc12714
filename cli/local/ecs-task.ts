/**
 * The local stand-in for ECS `runTask.waitForTaskToken`: runs the task's real entry point (`tasks/main.ts`
 * through tsx, or the bundled `dist/task.mjs`) as a child process with the environment the container gets
 * (`TASK_TOKEN`, `TASK_INPUT` from the container overrides), pointed at the loopback Step Functions endpoint,
 * and waits for its SendTaskSuccess / SendTaskFailure.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { type Dirent, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { scrub } from '../../core/errors.js';
import { projectRoot } from '../paths.js';
import type { AslState } from './asl.js';
import { type LocalSfnEndpoint, TaskFailure } from './sfn-endpoint.js';

/** The command that runs the task's entry point. */
export interface TaskCommand {
  readonly file: string;
  readonly args: readonly string[];
  readonly cwd: string;
}

/** Newest modification time of the `.ts` files under `dir` (0 when it does not exist). */
function newestSource(dir: string): number {
  let newest = 0;
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * `node dist/task.mjs` when the bundle (built by `npm ci`'s prepare, or `npm run build`) is newer than every source
 * it is built from — the task starts without compiling TypeScript, as in the container — else
 * `node --import tsx tasks/main.ts`, so that a stale bundle never runs old task code.
 */
export function defaultTaskCommand(): TaskCommand {
  const root = projectRoot();
  const bundle = join(root, 'dist', 'task.mjs');
  let built = 0;
  try {
    built = statSync(bundle).mtimeMs;
  } catch {
    built = 0;
  }
  const fresh = built > 0 && ['core', 'lambdas', 'tasks'].every((dir) => newestSource(join(root, dir)) <= built);
  if (fresh) return { file: process.execPath, args: [bundle], cwd: root };
  return { file: process.execPath, args: ['--import', 'tsx', join(root, 'tasks', 'main.ts')], cwd: root };
}

/** The container environment of an ECS RunTask's resolved Parameters (`Overrides.ContainerOverrides[].Environment`). */
export function containerEnvironment(parameters: unknown): Record<string, string> {
  const env: Record<string, string> = {};
  const overrides = (parameters as { Overrides?: { ContainerOverrides?: unknown } } | null)?.Overrides
    ?.ContainerOverrides;
  if (!Array.isArray(overrides)) return env;
  for (const container of overrides as Array<{ Environment?: unknown }>) {
    if (!Array.isArray(container.Environment)) continue;
    for (const pair of container.Environment as Array<{ Name?: unknown; Value?: unknown }>) {
      if (typeof pair.Name !== 'string' || typeof pair.Value !== 'string') continue;
      env[pair.Name] = pair.Value;
    }
  }
  return env;
}

export interface LocalTaskRunnerOptions {
  readonly endpoint: LocalSfnEndpoint;
  /** @default {@link defaultTaskCommand} */
  readonly command?: TaskCommand;
  /** Environment the children inherit (the two connection variables among it). @default process.env */
  readonly baseEnv?: Readonly<Record<string, string | undefined>>;
  /** Every line a child writes (stdout: its JSON log lines). */
  readonly onLine: (line: string, stream: 'stdout' | 'stderr', taskInput: unknown) => void;
  /** Called when a child starts, with its parsed TASK_INPUT. */
  readonly onStart?: (taskInput: unknown) => void;
}

const KILL_GRACE_MS = 10_000;

/** Runs task children and keeps track of them, so that Ctrl-C can stop every one. */
export class LocalTaskRunner {
  private readonly children = new Set<ChildProcess>();
  private readonly command: TaskCommand;

  constructor(private readonly options: LocalTaskRunnerOptions) {
    this.command = options.command ?? defaultTaskCommand();
  }

  /** How many task children are running. */
  get running(): number {
    return this.children.size;
  }

  /** Runs one task for an ECS Task state's resolved Parameters; resolves with the task's SendTaskSuccess output. */
  async run(parameters: unknown, state: AslState): Promise<unknown> {
    const containerEnv = containerEnvironment(parameters);
    const token = containerEnv.TASK_TOKEN;
    if (!token) throw new TaskFailure('States.Runtime', 'the ECS task parameters carry no TASK_TOKEN');
    let taskInput: unknown = null;
    try {
      taskInput = JSON.parse(containerEnv.TASK_INPUT ?? 'null');
    } catch {
      taskInput = null;
    }
    const { endpoint } = this.options;
    const outcome = endpoint.expect(token);
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(this.options.baseEnv ?? process.env)) {
      if (value !== undefined && !key.startsWith('AWS_')) env[key] = value;
    }
    Object.assign(env, containerEnv, {
      AWS_ENDPOINT_URL_SFN: endpoint.url,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_REGION: 'us-east-1',
      AWS_EC2_METADATA_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'DEBUG',
      // No EMF among the task's lines unless the user asks (lambdas/shared/metrics.ts), even when the CLI itself
      // runs in an ECS task.
      PG_MIGRATE_METRICS: process.env.PG_MIGRATE_METRICS ?? 'off',
    });
    const child = spawn(this.command.file, [...this.command.args], {
      cwd: this.command.cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.children.add(child);
    this.options.onStart?.(taskInput);
    const lastErrors: string[] = [];
    createInterface({ input: child.stdout }).on('line', (line) => this.options.onLine(line, 'stdout', taskInput));
    createInterface({ input: child.stderr }).on('line', (line) => {
      lastErrors.push(line);
      if (lastErrors.length > 5) lastErrors.shift();
      this.options.onLine(line, 'stderr', taskInput);
    });
    const heartbeatMs = (state.HeartbeatSeconds ?? 0) * 1000;
    const watchdog =
      heartbeatMs > 0
        ? setInterval(() => {
            if ((endpoint.sinceHeartbeat(token) ?? 0) > heartbeatMs) {
              endpoint.fail(
                token,
                new TaskFailure('States.HeartbeatTimeout', `no heartbeat for ${state.HeartbeatSeconds} s`),
              );
              void this.stop(child);
            }
          }, 1000)
        : undefined;
    watchdog?.unref();
    const exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        this.children.delete(child);
        if (watchdog) clearInterval(watchdog);
        // Give the readline interfaces a tick to deliver the last lines before judging.
        setImmediate(() => {
          endpoint.fail(
            token,
            new TaskFailure(
              'States.TaskFailed',
              scrub(
                `the task exited (${signal ?? `code ${code}`}) without reporting its outcome${lastErrors.length > 0 ? `: ${lastErrors.join(' | ')}` : ''}`,
              ),
            ),
          );
          resolve();
        });
      });
      child.once('error', (err) => {
        this.children.delete(child);
        if (watchdog) clearInterval(watchdog);
        endpoint.fail(token, new TaskFailure('States.TaskFailed', scrub(`cannot start the task: ${err.message}`)));
        resolve();
      });
    });
    try {
      return await outcome;
    } finally {
      // The task reports, then exits; wait for that so no child outlives its state.
      const timer = setTimeout(() => void this.stop(child), KILL_GRACE_MS);
      await exited;
      clearTimeout(timer);
    }
  }

  /** SIGTERM every running child (SIGKILL after a grace period); resolves when all have exited. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.children].map((child) => this.stop(child)));
  }

  private stop(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      const kill = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
      child.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }
}
