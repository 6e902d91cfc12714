import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { ProgressEvent } from '../../../core/logger.js';
import type { AslMachine } from '../../../cli/local/asl.js';
import { type RunObserver, runLocal, type StateEvent } from '../../../cli/local/runner.js';
import { exitCodeFor } from '../../../cli/outcome.js';
import { fakeHandlers } from './fake-lambdas.js';

const here = dirname(fileURLToPath(import.meta.url));
const asl = JSON.parse(readFileSync(join(here, 'fixtures', 'machine.asl.json'), 'utf8')) as AslMachine;
const root = join(here, '..', '..', '..');
const taskCommand = {
  file: process.execPath,
  args: ['--import', 'tsx', join(here, 'fixtures', 'fake-task.ts')],
  cwd: root,
};

function collector() {
  const states: StateEvent[] = [];
  const progress: ProgressEvent[] = [];
  const lines: string[] = [];
  const observer: RunObserver = {
    logger: { debug() {}, info() {}, warn: (m) => lines.push(m), error: (m) => lines.push(m) },
    progress: (e) => progress.push(e),
    state: (e) => states.push(e),
    line: (l) => lines.push(l),
  };
  return { observer, states, progress, lines };
}

async function run(dbs: string[], signal?: AbortSignal, machine: AslMachine = asl, handlers = fakeHandlers) {
  process.env.PG_MIGRATE_SOURCE = 'postgresql://u@127.0.0.1:1/db';
  const c = collector();
  const result = await runLocal({
    asl: machine,
    input: { action: 'migrate', source: { env: 'PG_MIGRATE_SOURCE' }, target: { env: 'PG_MIGRATE_TARGET' }, dbs },
    observer: c.observer,
    loadHandler: (module) => {
      const handler = handlers[module];
      return handler ? Promise.resolve(handler) : Promise.reject(new Error(`no fake for ${module}`));
    },
    taskCommand,
    waitMs: 10,
    retryMs: 10,
    ...(signal ? { signal } : {}),
  });
  return { ...c, result };
}

describe('runLocal over the fixture machine', () => {
  it('runs Lambda states in process and the ECS state as a child process that calls back the loopback endpoint', async () => {
    const { result, states, progress, lines } = await run(['app', 'crm']);
    expect(result.outcome.kind).toBe('report');
    if (result.outcome.kind !== 'report') return;
    expect(result.outcome.report.ok).toBe(true);
    expect(result.outcome.report.databases.map((d) => [d.name, d.status, d.rows, d.message])).toEqual([
      ['app', 'done', 10, 'mode migrate'],
      ['crm', 'done', 10, 'mode migrate'],
    ]);
    expect(exitCodeFor(result.outcome)).toBe(0);
    const entered = states.filter((s) => s.type === 'entered').map((s) => s.state);
    expect(entered).toEqual(
      expect.arrayContaining([
        'ResolveRequest',
        'PreChecks',
        'ServerChecks',
        'DatabaseCheck',
        'Plan',
        'MigrateDatabase',
        'WaitForSync',
        'Report',
      ]),
    );
    expect(progress).toContainEqual({
      kind: 'table',
      database: 'crm',
      table: 'public.t',
      rows: 10,
      bytes: 100,
      totalBytes: 100,
      done: true,
    });
    // The child inherits the connection variable and its warning reaches the logger.
    expect(lines).toContain('env source set: true');
    expect(result.request?.action).toBe('migrate');
    expect((result.plan?.databases as unknown[]).length).toBe(2);
  }, 30_000);

  it('hands the task its TASK_INPUT intact, whatever the database name holds', async () => {
    const name = 'we"ird \\ db ü';
    const { result } = await run([name]);
    expect(result.outcome.kind === 'report' && result.outcome.report.databases.map((d) => [d.name, d.status])).toEqual([
      [name, 'done'],
    ]);
  }, 30_000);

  it('fails one database when its task sends SendTaskFailure, catches it into clean-up, and reports exit code 1', async () => {
    const { result } = await run(['app', 'bad']);
    expect(result.outcome.kind).toBe('report');
    if (result.outcome.kind !== 'report') return;
    expect(result.outcome.report.ok).toBe(false);
    const bad = result.outcome.report.databases.find((d) => d.name === 'bad');
    expect(bad).toMatchObject({
      status: 'failed',
      error: 'PgMigrate.Permanent',
      message: 'restore failed: relation x exists',
    });
    expect(result.outcome.report.databases.find((d) => d.name === 'app')?.status).toBe('done');
    expect(exitCodeFor(result.outcome)).toBe(1);
  }, 30_000);

  it('fails a database whose task exits without reporting, with States.TaskFailed', async () => {
    const { result } = await run(['crash']);
    expect(result.outcome.kind).toBe('report');
    if (result.outcome.kind !== 'report') return;
    expect(result.outcome.report.databases[0]).toMatchObject({ status: 'failed', error: 'States.TaskFailed' });
    expect(result.outcome.report.databases[0]?.message).toMatch(/exited \(code 3\) without reporting/);
  }, 30_000);

  it('maps a blocked plan to a RunFailed report and exit code 2', async () => {
    const { result, states } = await run(['blocked']);
    expect(result.outcome.kind).toBe('report');
    if (result.outcome.kind !== 'report') return;
    expect(result.outcome.report.ok).toBe(false);
    // The message's quotes and backslash survive (the interpreter's JsonToString would mangle them).
    expect(result.outcome.report.checks.find((c) => c.status === 'fail')?.message).toBe(
      'blocked on "purpose" \\ really',
    );
    expect(states.some((s) => s.state === 'MigrateDatabase')).toBe(false);
    expect(exitCodeFor(result.outcome)).toBe(2);
  }, 30_000);

  it('takes the report of a failed run from the Report state when the Fail cause is not readable JSON', async () => {
    // The shape of the real machine: the Report state returns { report, cause } at $.result; the cause may be cut.
    const machine = structuredClone(asl) as unknown as { States: Record<string, Record<string, unknown>> };
    machine.States.Report = { ...machine.States.Report, ResultPath: '$.result' };
    machine.States.RouteReport = {
      Type: 'Choice',
      Choices: [{ Variable: '$.result.report.ok', BooleanEquals: true, Next: 'Succeeded' }],
      Default: 'RunFailed',
    };
    machine.States.RunFailed = { Type: 'Fail', Error: 'PgMigrate.RunFailed', CausePath: '$.result.cause' };
    machine.States.Succeeded = { Type: 'Succeed', OutputPath: '$.result.report' };
    delete machine.States.SerializeReport;
    const handlers = {
      ...fakeHandlers,
      report: async (event: unknown) => {
        const report = await fakeHandlers.report!(event);
        return { report, cause: JSON.stringify(report).slice(0, 40) };
      },
    };
    const { result } = await run(['app', 'bad'], undefined, machine as unknown as AslMachine, handlers);
    expect(result.outcome.kind).toBe('report');
    if (result.outcome.kind !== 'report') return;
    expect(result.outcome.report.databases.map((d) => d.status).sort()).toEqual(['done', 'failed']);
    expect(exitCodeFor(result.outcome)).toBe(1);
  }, 30_000);

  it('fails with the handler error name and its message when a Lambda state throws, as on AWS', async () => {
    const { result } = await run(['invalid']);
    expect(result.outcome).toEqual({
      kind: 'error',
      error: 'PgMigrate.BadInput',
      cause: 'dbs: "invalid" is not allowed here',
    });
    expect(exitCodeFor(result.outcome)).toBe(2);
  }, 30_000);

  it('stops the execution and its task children when aborted, and remembers replication databases', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const pending = run(['repl_hang', 'hang'], controller.signal);
    setTimeout(() => controller.abort(), 1500);
    const { result } = await pending;
    expect(result.outcome).toEqual({ kind: 'interrupted' });
    expect(exitCodeFor(result.outcome)).toBe(130);
    expect(result.replicationStarted).toEqual(['repl_hang']);
    expect(Date.now() - started).toBeLessThan(8000);
  }, 30_000);

  it('fails when a Task state has no local implementation', async () => {
    const broken: AslMachine = {
      StartAt: 'Mystery',
      States: { Mystery: { Type: 'Task', Resource: 'arn:aws:states:::sqs:sendMessage', End: true } },
    };
    await expect(runLocal({ asl: broken, input: {} as never, observer: collector().observer })).rejects.toThrow(
      'no local implementation for Task state(s): Mystery',
    );
  });
});
