import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeTasksCommand, ECSClient, StopTaskCommand } from '@aws-sdk/client-ecs';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  GetExecutionHistoryCommand,
  type HistoryEvent,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { HistoryReader, interpretEvent, submittedTasks } from '../../../cli/aws/execution.js';
import { awsCommand } from '../../../cli/commands/aws.js';
import { main } from '../../../cli/main.js';
import type { Report } from '../../../core/report.js';
import { memoryIo } from './io.js';

const sfnMock = mockClient(SFNClient);
const ecsMock = mockClient(ECSClient);
const s3Mock = mockClient(S3Client);
afterEach(() => {
  sfnMock.reset();
  ecsMock.reset();
  s3Mock.reset();
});

const SM = 'arn:aws:states:eu-west-1:123456789012:stateMachine:PgMigrate';
const EXEC = 'arn:aws:states:eu-west-1:123456789012:execution:PgMigrate:run-1';
const SECRET_S = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:source-AbCdEf';
const SECRET_T = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:target-AbCdEf';
const clients = () => ({ sfn: new SFNClient({ region: 'eu-west-1' }), ecs: new ECSClient({ region: 'eu-west-1' }) });

const report: Report = {
  ok: true,
  action: 'migrate',
  durationMs: 1200,
  checks: [{ id: 'version', status: 'pass', message: '15 → 16', remedy: '' }],
  roles: [],
  warnings: [],
  databases: [
    {
      name: 'shop',
      method: 'dump',
      status: 'done',
      tables: 3,
      rows: 700,
      bytes: 8192,
      durationMs: 900,
      lagBytes: 0,
      message: '',
    },
  ],
};

function ev(id: number, type: string, details: Record<string, unknown> = {}): HistoryEvent {
  return { id, type, timestamp: new Date(1_700_000_000_000 + id), ...details } as HistoryEvent;
}

const ecsParameters = JSON.stringify({
  Cluster: 'arn:aws:ecs:eu-west-1:123456789012:cluster/c',
  Overrides: {
    ContainerOverrides: [
      {
        Name: 'pg-migrate',
        Environment: [
          { Name: 'TASK_TOKEN', Value: 'tok' },
          {
            Name: 'TASK_INPUT',
            Value: JSON.stringify({ mode: 'migrate', database: { name: 'shop', method: 'dump' } }),
          },
        ],
      },
    ],
  },
});

const history: HistoryEvent[] = [
  ev(1, 'ExecutionStarted', { executionStartedEventDetails: { input: '{}' } }),
  ev(2, 'TaskStateEntered', { stateEnteredEventDetails: { name: 'ResolveRequest' } }),
  ev(3, 'TaskStateExited', { stateExitedEventDetails: { name: 'ResolveRequest' } }),
  ev(4, 'MapStateEntered', { stateEnteredEventDetails: { name: 'MigrateDatabases' } }),
  ev(5, 'TaskScheduled', {
    taskScheduledEventDetails: {
      resourceType: 'ecs',
      resource: 'runTask.waitForTaskToken',
      region: 'eu-west-1',
      parameters: ecsParameters,
    },
  }),
  ev(6, 'TaskSubmitted', {
    taskSubmittedEventDetails: {
      resourceType: 'ecs',
      resource: 'runTask.waitForTaskToken',
      output: JSON.stringify({
        Tasks: [
          {
            TaskArn: 'arn:aws:ecs:eu-west-1:123456789012:task/c/aaa',
            ClusterArn: 'arn:aws:ecs:eu-west-1:123456789012:cluster/c',
          },
        ],
      }),
    },
  }),
  ev(7, 'TaskSucceeded', {
    taskSucceededEventDetails: {
      resourceType: 'ecs',
      resource: 'runTask.waitForTaskToken',
      output: JSON.stringify(report.databases[0]),
    },
  }),
  ev(8, 'MapStateExited', { stateExitedEventDetails: { name: 'MigrateDatabases' } }),
  ev(9, 'ExecutionSucceeded', { executionSucceededEventDetails: { output: JSON.stringify(report) } }),
];

describe('pg-migrate aws start', () => {
  it('starts an execution whose input carries the secret ARNs and the request options, never a URI', async () => {
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: EXEC, startDate: new Date() });
    const io = memoryIo();
    const code = await awsCommand(
      [
        'start',
        '--state-machine-arn',
        SM,
        '--source-secret-arn',
        SECRET_S,
        '--target-secret-arn',
        SECRET_T,
        '--dbs',
        'shop,crm',
        '--jobs',
        '8',
        '--no-roles',
      ],
      io,
      clients,
    );
    expect(code).toBe(0);
    const calls = sfnMock.commandCalls(StartExecutionCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input.stateMachineArn).toBe(SM);
    expect(JSON.parse(calls[0]!.args[0].input.input!)).toEqual({
      action: 'migrate',
      source: { secretArn: SECRET_S },
      target: { secretArn: SECRET_T },
      dbs: ['shop', 'crm'],
      jobs: 8,
      roles: false,
    });
    expect(io.stdout()).toContain(EXEC);
  });

  it('fails when the secret ARNs are missing or not ARNs, with exit code 2 and no call to AWS', async () => {
    const io = memoryIo();
    const code = await main(
      ['aws', 'start', '--state-machine-arn', SM, '--source-secret-arn', 'postgres://u:pw@h/db'],
      io,
    );
    expect(code).toBe(2);
    expect(io.stderr()).toContain('--target-secret-arn is required');
    expect(io.stderr()).toContain('must be a Secrets Manager ARN');
    expect(io.stderr()).not.toContain('pw@');
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });
});

describe('pg-migrate aws watch', () => {
  it('reads the history incrementally, newest first, stopping at the events it has already seen', async () => {
    const reversed = (upTo: number) => history.slice(0, upTo).reverse();
    sfnMock
      .on(GetExecutionHistoryCommand)
      .resolvesOnce({ events: reversed(3) })
      .resolvesOnce({ events: reversed(7).slice(0, 2), nextToken: 'p2' })
      .resolvesOnce({ events: reversed(7).slice(2) });
    const reader = new HistoryReader(new SFNClient({ region: 'eu-west-1' }), EXEC);
    expect((await reader.poll()).map((e) => e.id)).toEqual([1, 2, 3]);
    expect((await reader.poll()).map((e) => e.id)).toEqual([4, 5, 6, 7]);
    const calls = sfnMock.commandCalls(GetExecutionHistoryCommand);
    expect(calls).toHaveLength(3);
    expect(calls[2]!.args[0].input).toMatchObject({ reverseOrder: true, nextToken: 'p2' });
  });

  it('follows an execution to its report, prints states and task progress, writes --json and exits 0', async () => {
    sfnMock.on(GetExecutionHistoryCommand).resolves({ events: [...history].reverse() });
    const dir = mkdtempSync(join(tmpdir(), 'pgm-cli-'));
    const io = memoryIo();
    const code = await awsCommand(
      ['watch', '--execution-arn', EXEC, '--json', join(dir, 'r.json'), '--interval', '1'],
      io,
      clients,
    );
    expect(code).toBe(0);
    expect(io.stdout()).toContain('request …');
    expect(io.stdout()).toContain('shop: migrate (Fargate task scheduled)');
    expect(io.stdout()).toContain('shop: done (3 tables, 700 rows)');
    expect(io.stdout()).toMatch(/OK — 1 database done/);
    expect(JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8'))).toEqual(report);
  });

  it('writes the full report the execution output names (reportUri in the report bucket) to --json', async () => {
    const uri = 's3://pg-migrate-reports/runs/run-1/report.json';
    const full: Report = {
      ...report,
      databases: [
        {
          ...report.databases[0]!,
          verification: [{ name: 'public.t', sourceRows: 7, targetRows: 7, bytes: 1, durationMs: 1, ok: true }],
        },
      ],
    };
    const compact = { ...report, reportUri: uri, databases: [{ ...report.databases[0]!, verifiedTables: 1 }] };
    sfnMock.on(GetExecutionHistoryCommand).resolves({
      events: [
        ev(9, 'ExecutionSucceeded', { executionSucceededEventDetails: { output: JSON.stringify(compact) } }),
        ...history.slice(0, -1).reverse(),
      ],
    });
    s3Mock
      .on(GetObjectCommand, { Bucket: 'pg-migrate-reports', Key: 'runs/run-1/report.json' })
      .resolves({ Body: { transformToString: () => Promise.resolve(JSON.stringify(full)) } as never });
    const dir = mkdtempSync(join(tmpdir(), 'pgm-cli-'));
    const io = memoryIo();
    const code = await awsCommand(['watch', '--execution-arn', EXEC, '--json', join(dir, 'r.json')], io, clients);
    expect(code).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8'))).toEqual({ ...full, reportUri: uri });
  });

  it('fails when the full report cannot be read: a warning, and --json holds the compact report', async () => {
    const compact = { ...report, reportUri: 's3://pg-migrate-reports/runs/run-1/report.json' };
    sfnMock.on(GetExecutionHistoryCommand).resolves({
      events: [
        ev(9, 'ExecutionSucceeded', { executionSucceededEventDetails: { output: JSON.stringify(compact) } }),
        ...history.slice(0, -1).reverse(),
      ],
    });
    const denied = new Error('Access Denied');
    denied.name = 'AccessDenied';
    s3Mock.on(GetObjectCommand).rejects(denied);
    const dir = mkdtempSync(join(tmpdir(), 'pgm-cli-'));
    const io = memoryIo();
    const code = await awsCommand(['watch', '--execution-arn', EXEC, '--json', join(dir, 'r.json')], io, clients);
    expect(code).toBe(0);
    expect(`${io.stdout()}${io.stderr()}`).toMatch(/cannot read the full report \(.*AccessDenied/);
    expect(JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8'))).toEqual(compact);
  });

  it('fails when the execution ends in RunFailed, with the report from the cause and exit code 1', async () => {
    const failed: Report = {
      ...report,
      ok: false,
      databases: [
        { ...report.databases[0]!, status: 'failed', message: 'restore failed', error: 'PgMigrate.Permanent' },
      ],
    };
    sfnMock.on(GetExecutionHistoryCommand).resolves({
      events: [
        ev(2, 'ExecutionFailed', {
          executionFailedEventDetails: { error: 'PgMigrate.RunFailed', cause: JSON.stringify(failed) },
        }),
        history[0]!,
      ],
    });
    const io = memoryIo();
    expect(await awsCommand(['watch', '--execution-arn', EXEC], io, clients)).toBe(1);
    expect(io.stdout()).toContain('FAILED — 1 of 1 database failed.');
    expect(io.stdout()).toContain('PgMigrate.Permanent: restore failed');
  });

  it('interprets a failed Lambda execution without a report as an error naming it', () => {
    const meaning = interpretEvent(
      ev(3, 'ExecutionFailed', {
        executionFailedEventDetails: {
          error: 'PgMigrate.BadInput',
          cause: JSON.stringify({ errorType: 'PgMigrate.BadInput', errorMessage: 'dbs: unknown' }),
        },
      }),
    );
    expect(meaning.outcome).toEqual({ kind: 'error', error: 'PgMigrate.BadInput', cause: 'dbs: unknown' });
  });
});

describe('pg-migrate aws stop', () => {
  it('stops the execution and only those of its Fargate tasks that still run', async () => {
    const second = ev(10, 'TaskSubmitted', {
      taskSubmittedEventDetails: {
        resourceType: 'ecs',
        resource: 'runTask.waitForTaskToken',
        output: JSON.stringify({
          Tasks: [
            {
              TaskArn: 'arn:aws:ecs:eu-west-1:123456789012:task/c/bbb',
              ClusterArn: 'arn:aws:ecs:eu-west-1:123456789012:cluster/c',
            },
          ],
        }),
      },
    });
    sfnMock.on(StopExecutionCommand).resolves({ stopDate: new Date() });
    sfnMock.on(GetExecutionHistoryCommand).resolves({ events: [second, ...history.slice(0, 8).reverse()] });
    ecsMock.on(DescribeTasksCommand).resolves({
      tasks: [
        { taskArn: 'arn:aws:ecs:eu-west-1:123456789012:task/c/aaa', lastStatus: 'STOPPED' },
        { taskArn: 'arn:aws:ecs:eu-west-1:123456789012:task/c/bbb', lastStatus: 'RUNNING' },
      ],
    });
    ecsMock.on(StopTaskCommand).resolves({});
    const io = memoryIo();
    expect(await awsCommand(['stop', '--execution-arn', EXEC], io, clients)).toBe(0);
    expect(sfnMock.commandCalls(StopExecutionCommand)[0]!.args[0].input).toMatchObject({
      executionArn: EXEC,
      error: 'PgMigrate.Aborted',
    });
    expect(ecsMock.commandCalls(DescribeTasksCommand)[0]!.args[0].input.tasks).toHaveLength(2);
    const stops = ecsMock.commandCalls(StopTaskCommand).map((c) => c.args[0].input.task);
    expect(stops).toEqual(['arn:aws:ecs:eu-west-1:123456789012:task/c/bbb']);
    expect(io.stdout()).toContain('1 Fargate task(s)');
  });

  it('finds the Fargate tasks in TaskSubmitted events only', () => {
    expect(submittedTasks(history)).toEqual([
      {
        taskArn: 'arn:aws:ecs:eu-west-1:123456789012:task/c/aaa',
        cluster: 'arn:aws:ecs:eu-west-1:123456789012:cluster/c',
      },
    ]);
  });
});
