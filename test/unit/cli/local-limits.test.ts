/**
 * AWS's payload limits on the local runner: a state over 256 KiB fails the execution with States.DataLimitExceeded
 * (no Catch catches it), container overrides over 8,192 characters get ECS's InvalidParameterException (a Catch
 * does), a failure cause over 32,768 characters is refused. Small machines, so each limit is seen exactly.
 */
import { describe, expect, it } from 'vitest';
import type { AslMachine } from '../../../cli/local/asl.js';
import {
  AWS_LIMITS,
  causeViolation,
  containerOverridesViolation,
  jsonBytes,
  stateDataViolation,
} from '../../../cli/local/limits.js';
import { type RunObserver, runLocal, type StateEvent } from '../../../cli/local/runner.js';
import { REPORT_DIR_ENV } from '../../../core/report-store.js';

function observer(states: StateEvent[] = []): RunObserver {
  return {
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    progress() {},
    state: (e) => states.push(e),
    line() {},
  };
}

const KIB = 1024;
const input = { action: 'migrate', source: { env: 'S' }, target: { env: 'T' } } as const;

function run(asl: AslMachine, report: (event: unknown) => Promise<unknown>, states: StateEvent[] = []) {
  return runLocal({
    asl,
    input: input,
    observer: observer(states),
    loadHandler: () => Promise.resolve(report),
    retryMs: 1,
  });
}

const lambda = 'arn:aws:lambda:us-east-1:123456789012:function:pg-migrate-report';

describe('the limits as pure functions', () => {
  it('measures JSON in UTF-8 bytes, as Step Functions does', () => {
    expect(jsonBytes({ a: 'é' })).toBe(10);
    // Two bytes a character, two quotes.
    expect(stateDataViolation('S', 'output', 'é'.repeat(128 * KIB - 1))).toBeUndefined();
    expect(stateDataViolation('S', 'output', 'é'.repeat(128 * KIB))?.name).toBe('States.DataLimitExceeded');
  });

  it('counts the container overrides with their JSON formatting', () => {
    const overrides = (value: string) => ({
      Overrides: { ContainerOverrides: [{ Name: 'c', Environment: [{ Name: 'X', Value: value }] }] },
    });
    const frame = JSON.stringify(overrides('').Overrides.ContainerOverrides).length;
    expect(containerOverridesViolation(overrides('x'.repeat(AWS_LIMITS.containerOverrideChars - frame)))).toBe(
      undefined,
    );
    const over = containerOverridesViolation(overrides('x'.repeat(AWS_LIMITS.containerOverrideChars - frame + 1)));
    expect(over?.name).toBe('ECS.InvalidParameterException');
    expect(over?.message).toMatch(/at most 8192/);
  });

  it('refuses a failure cause over 32,768 characters', () => {
    expect(causeViolation('x'.repeat(32_768))).toBeUndefined();
    expect(causeViolation('x'.repeat(32_769))?.name).toBe('States.DataLimitExceeded');
  });
});

describe('the local runner enforces them', () => {
  it('runs a state of exactly 256 KiB through', async () => {
    const base = jsonBytes({ ...input, big: '' });
    const asl: AslMachine = {
      StartAt: 'Big',
      States: { Big: { Type: 'Pass', Result: 'x'.repeat(256 * KIB - base), ResultPath: '$.big', End: true } },
    };
    const result = await run(asl, () => Promise.resolve(null));
    // The machine returns no report: the run ends in NoReport, past the limit check.
    expect(result.outcome).toMatchObject({ kind: 'error', error: 'PgMigrate.NoReport' });
  });

  it('fails when a Pass state outputs more than 256 KiB, with States.DataLimitExceeded', async () => {
    const asl: AslMachine = {
      StartAt: 'Big',
      States: {
        Big: { Type: 'Pass', Result: 'x'.repeat(256 * KIB), Next: 'Done' },
        Done: { Type: 'Succeed' },
      },
    };
    const result = await run(asl, () => Promise.resolve(null));
    expect(result.outcome).toMatchObject({ kind: 'error', error: 'States.DataLimitExceeded' });
    if (result.outcome.kind === 'error') expect(result.outcome.cause).toMatch(/output of state Big is \d+ bytes/);
  });

  it('fails when a Task returns more than 256 KiB, and neither its States.ALL Catch nor a later Task runs', async () => {
    const asl: AslMachine = {
      StartAt: 'Report',
      States: {
        Report: {
          Type: 'Task',
          Resource: lambda,
          Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Caught' }],
          Next: 'Abort',
        },
        Caught: { Type: 'Succeed' },
        Abort: { Type: 'Task', Resource: lambda, End: true },
      },
    };
    const states: StateEvent[] = [];
    let calls = 0;
    const result = await run(
      asl,
      () => {
        calls += 1;
        return Promise.resolve({ big: 'x'.repeat(300 * KIB) });
      },
      states,
    );
    expect(result.outcome).toMatchObject({ kind: 'error', error: 'States.DataLimitExceeded' });
    expect(states.map((s) => s.state)).not.toContain('Caught');
    expect(calls).toBe(1);
  });

  it('fails when a state is entered with more than 256 KiB, before its Task runs', async () => {
    let called = 0;
    const asl: AslMachine = {
      StartAt: 'Grow',
      States: {
        Grow: { Type: 'Pass', Parameters: { 'a.$': '$.a', 'b.$': '$.a' }, ResultPath: '$.grown', Next: 'Report' },
        Report: { Type: 'Task', Resource: lambda, End: true },
      },
    };
    const result = await runLocal({
      asl,
      input: { ...input, a: 'x'.repeat(100 * KIB) } as never,
      observer: observer(),
      loadHandler: () =>
        Promise.resolve(() => {
          called += 1;
          return Promise.resolve(null);
        }),
    });
    expect(result.outcome).toMatchObject({ kind: 'error', error: 'States.DataLimitExceeded' });
    if (result.outcome.kind === 'error')
      expect(result.outcome.cause).toMatch(/(input of state Report|output of state Grow)/);
    expect(called).toBe(0);
  });

  it('fails when the container overrides exceed 8 KiB: ECS rejects RunTask, a Catch can route it', async () => {
    const asl: AslMachine = {
      StartAt: 'MigrateDatabase',
      States: {
        MigrateDatabase: {
          Type: 'Task',
          Resource: 'arn:aws:states:::ecs:runTask.waitForTaskToken',
          Parameters: {
            Overrides: {
              ContainerOverrides: [
                {
                  Name: 'pg-migrate',
                  Environment: [
                    { Name: 'TASK_TOKEN', 'Value.$': '$$.Task.Token' },
                    { Name: 'TASK_INPUT', 'Value.$': 'States.JsonToString($.list)' },
                  ],
                },
              ],
            },
          },
          Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Rejected' }],
          End: true,
        },
        Rejected: { Type: 'Fail', ErrorPath: '$.error.Error', CausePath: '$.error.Cause' },
      },
    };
    const list = Array.from({ length: 400 }, (_, i) => `public.table_without_key_${i}`);
    const result = await runLocal({ asl, input: { ...input, list } as never, observer: observer() });
    expect(result.outcome).toMatchObject({ kind: 'error', error: 'ECS.InvalidParameterException' });
    if (result.outcome.kind === 'error') expect(result.outcome.cause).toMatch(/Container Overrides length/);
  });

  it('fails when a Fail state carries a cause over 32,768 characters', async () => {
    const asl: AslMachine = {
      StartAt: 'Failed',
      States: { Failed: { Type: 'Fail', Error: 'PgMigrate.Failed', CausePath: '$.cause' } },
    };
    const result = await runLocal({
      asl,
      input: { ...input, cause: 'c'.repeat(40_000) } as never,
      observer: observer(),
    });
    expect(result.outcome).toMatchObject({ kind: 'error', error: 'States.DataLimitExceeded' });
  });

  it('gives the handlers a private report store for the run and removes it afterwards', async () => {
    let seen: string | undefined;
    const asl: AslMachine = { StartAt: 'Report', States: { Report: { Type: 'Task', Resource: lambda, End: true } } };
    const before = process.env[REPORT_DIR_ENV];
    await run(asl, () => {
      seen = process.env[REPORT_DIR_ENV];
      return Promise.resolve(null);
    });
    expect(seen).toMatch(/pg-migrate-run-/);
    expect(process.env[REPORT_DIR_ENV]).toBe(before);
    const { existsSync } = await import('node:fs');
    expect(existsSync(seen ?? '')).toBe(false);
  });
});
