import {
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  SFNClient,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { PermanentError, registerSecret } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { DatabaseResult } from '../../core/report.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { databaseKey, requestKey } from '../../core/report-store.js';
import { DirectoryReportStore } from '../../lambdas/shared/report-store.js';
import { parseTaskInput, runTaskProcess, taskOutput } from '../../tasks/run.js';

const sfnMock = mockClient(SFNClient);

const input = {
  mode: 'migrate',
  request: { action: 'migrate', source: { env: 'SRC' }, target: { env: 'DST' }, method: 'dump' },
  database: { name: 'shop', method: 'dump', reasons: [], replicaIdentityFull: [], targetExists: false },
};

const result: DatabaseResult = {
  name: 'shop',
  method: 'dump',
  status: 'done',
  tables: 3,
  rows: 42,
  bytes: 1000,
  durationMs: 5,
  lagBytes: 0,
  message: '3 tables',
};

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const log = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    lines.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`);
  return { lines, debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

const env = { TASK_TOKEN: 'token-1', TASK_INPUT: JSON.stringify(input) };

describe('the Fargate task process', () => {
  beforeEach(() => {
    sfnMock.reset();
    sfnMock.onAnyCommand().resolves({});
  });

  it('sends SendTaskSuccess with the database result as output and exits 0', async () => {
    let seen: unknown;
    const code = await runTaskProcess({
      env,
      sfn: new SFNClient({ region: 'us-east-1' }),
      logger: recordingLogger(),
      run: (parsed) => {
        seen = parsed;
        return Promise.resolve(result);
      },
    });
    expect(code).toBe(0);
    expect(seen).toMatchObject({ mode: 'migrate', database: { name: 'shop' }, request: { jobs: 4 } });
    const calls = sfnMock.commandCalls(SendTaskSuccessCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input.taskToken).toBe('token-1');
    expect(JSON.parse(calls[0]!.args[0].input.output!)).toEqual(result);
    expect(sfnMock.commandCalls(SendTaskFailureCommand)).toHaveLength(0);
  });

  it('fails when the step throws: SendTaskFailure carries the classified name and a scrubbed cause', async () => {
    registerSecret('s3cr3t-pw');
    const code = await runTaskProcess({
      env,
      sfn: new SFNClient({ region: 'us-east-1' }),
      logger: recordingLogger(),
      run: () => Promise.reject(new Error('connect to postgres://app:s3cr3t-pw@db:5432/shop failed')),
    });
    expect(code).toBe(1);
    const [call] = sfnMock.commandCalls(SendTaskFailureCommand);
    expect(call!.args[0].input.error).toBe('PgMigrate.Permanent');
    expect(call!.args[0].input.cause).toContain('failed');
    expect(call!.args[0].input.cause).not.toContain('s3cr3t-pw');
    expect(sfnMock.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
  });

  it('fails when the error is transient with the name Retry matches', async () => {
    await runTaskProcess({
      env,
      sfn: new SFNClient({ region: 'us-east-1' }),
      logger: recordingLogger(),
      run: () =>
        Promise.reject(
          Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }),
        ),
    });
    expect(sfnMock.commandCalls(SendTaskFailureCommand)[0]!.args[0].input.error).toBe('PgMigrate.Transient');
  });

  it('fails when TASK_INPUT is not valid, as bad input', async () => {
    const code = await runTaskProcess({
      env: { TASK_TOKEN: 't', TASK_INPUT: '{"mode":"migrate"' },
      sfn: new SFNClient({ region: 'us-east-1' }),
      logger: recordingLogger(),
      run: () => Promise.resolve(result),
    });
    expect(code).toBe(1);
    expect(sfnMock.commandCalls(SendTaskFailureCommand)[0]!.args[0].input.error).toBe('PgMigrate.BadInput');
  });

  it('fails when there is no task token, with exit code 2 and no call', async () => {
    const code = await runTaskProcess({
      env: { TASK_INPUT: JSON.stringify(input) },
      sfn: new SFNClient({ region: 'us-east-1' }),
      logger: recordingLogger(),
      run: () => Promise.resolve(result),
    });
    expect(code).toBe(2);
    expect(sfnMock.calls()).toHaveLength(0);
  });

  it('sends heartbeats while the step runs and stops them afterwards', async () => {
    await runTaskProcess({
      env,
      sfn: new SFNClient({ region: 'us-east-1' }),
      logger: recordingLogger(),
      heartbeatMs: 20,
      // The step ends only once three heartbeats went out: no timing assumption about a loaded machine.
      run: () =>
        new Promise((resolve) => {
          let seen = 0;
          sfnMock.on(SendTaskHeartbeatCommand).callsFake(() => {
            seen += 1;
            if (seen === 3) resolve(result);
            return Promise.resolve({});
          });
        }),
    });
    const beats = sfnMock.commandCalls(SendTaskHeartbeatCommand).length;
    expect(beats).toBeGreaterThanOrEqual(3);
    expect(sfnMock.commandCalls(SendTaskHeartbeatCommand)[0]!.args[0].input.taskToken).toBe('token-1');
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(sfnMock.commandCalls(SendTaskHeartbeatCommand).length).toBe(beats);
  });

  it('fails as PgMigrate.Aborted when SIGTERM aborts the run', async () => {
    const stop = new AbortController();
    const code = await runTaskProcess({
      env,
      sfn: new SFNClient({ region: 'us-east-1' }),
      logger: recordingLogger(),
      signal: stop.signal,
      run: (_input, signal) =>
        new Promise((_resolve, reject) => {
          signal.addEventListener('abort', () => reject(new PermanentError('copy interrupted')));
          setTimeout(() => stop.abort(), 10);
        }),
    });
    expect(code).toBe(1);
    expect(sfnMock.commandCalls(SendTaskFailureCommand)[0]!.args[0].input.error).toBe('PgMigrate.Aborted');
  });

  it('stops working when Step Functions says the task timed out', async () => {
    sfnMock.on(SendTaskHeartbeatCommand).rejects(new TaskTimedOut({ message: 'timed out', $metadata: {} }));
    let aborted = false;
    await runTaskProcess({
      env,
      sfn: new SFNClient({ region: 'us-east-1' }),
      logger: recordingLogger(),
      heartbeatMs: 10,
      run: (_input, signal) =>
        new Promise((resolve) => {
          signal.addEventListener('abort', () => {
            aborted = true;
            resolve(result);
          });
        }),
    });
    expect(aborted).toBe(true);
    expect(sfnMock.commandCalls(SendTaskFailureCommand)[0]!.args[0].input.error).toBe('PgMigrate.Aborted');
  });
});

describe('task input and output', () => {
  it('parses a task input and fills the request defaults', () => {
    expect(parseTaskInput(JSON.stringify(input)).request?.jobs).toBe(4);
  });

  it('fails when the mode is unknown', () => {
    expect(() => parseTaskInput(JSON.stringify({ ...input, mode: 'dance' }))).toThrow(/mode/);
  });

  it('trims per-table verification to the mismatches when the output would exceed the Step Functions limit', () => {
    const verification = Array.from({ length: 5000 }, (_, i) => ({
      name: `public.table_with_a_long_name_${i}`,
      sourceRows: 1,
      targetRows: i === 7 ? 0 : 1,
      bytes: 1,
      durationMs: 1,
      ok: i !== 7,
    }));
    const out = JSON.parse(taskOutput({ ...result, verification })) as DatabaseResult;
    expect(out.verification).toHaveLength(1);
    expect(out.verification?.[0]?.name).toBe('public.table_with_a_long_name_7');
    expect(out.message).toMatch(/trimmed/);
  });
});

describe('a task input that carries references', () => {
  beforeEach(() => {
    sfnMock.reset();
    sfnMock.onAnyCommand().resolves({});
  });

  const store = () => new DirectoryReportStore(mkdtempSync(join(tmpdir(), 'pgm-store-')));
  const ref = { mode: 'migrate', run: 'run-42', database: { name: 'shop', method: 'dump' } };
  const verification = Array.from({ length: 3000 }, (_, i) => ({
    name: `public.t${i}`,
    sourceRows: 10,
    targetRows: i === 5 ? 9 : 10,
    bytes: 1,
    durationMs: 1,
    ok: i !== 5,
  }));

  it('reads the request from the store, keeps the full result there and reports the compact one', async () => {
    const reports = store();
    await reports.put(requestKey('run-42'), JSON.stringify(input.request));
    let seen: { request: { method: string }; database: { replicaIdentityFull: unknown[] } } | undefined;
    const code = await runTaskProcess({
      env: { TASK_TOKEN: 't', TASK_INPUT: JSON.stringify(ref) },
      sfn: new SFNClient({ region: 'us-east-1' }),
      logger: recordingLogger(),
      store: reports,
      run: (parsed) => {
        seen = parsed as never;
        return Promise.resolve({ ...result, verification });
      },
    });
    expect(code).toBe(0);
    expect(seen?.request.method).toBe('dump');
    expect(seen?.database.replicaIdentityFull).toEqual([]);
    const output = JSON.parse(
      sfnMock.commandCalls(SendTaskSuccessCommand)[0]?.args[0].input.output ?? '',
    ) as DatabaseResult;
    const key = databaseKey('run-42', 'shop', 'migrate');
    expect(output).toMatchObject({ name: 'shop', verifiedTables: 3000, detail: key });
    expect(output.verification?.map((t) => t.name)).toEqual(['public.t5']);
    const full = JSON.parse((await reports.get(key)) ?? '') as DatabaseResult;
    expect(full.verification).toHaveLength(3000);
  });

  it('keeps TASK_INPUT far under the 8 KiB ECS override limit whatever the request holds', () => {
    const longest = { ...ref, run: 'r'.repeat(80), database: { name: '\u0001'.repeat(63), method: 'replication' } };
    expect(Buffer.byteLength(JSON.stringify(longest), 'utf8')).toBeLessThan(1024);
    expect(parseTaskInput(JSON.stringify(longest)).database.name).toHaveLength(63);
  });

  it('fails when TASK_INPUT names a run but no store holds its request', async () => {
    const code = await runTaskProcess({
      env: { TASK_TOKEN: 't', TASK_INPUT: JSON.stringify(ref) },
      sfn: new SFNClient({ region: 'us-east-1' }),
      logger: recordingLogger(),
      store: store(),
      run: () => Promise.resolve(result),
    });
    expect(code).toBe(1);
    const failure = sfnMock.commandCalls(SendTaskFailureCommand)[0]?.args[0].input;
    expect(failure?.error).toBe('PgMigrate.BadInput');
    expect(failure?.cause).toMatch(/request of run run-42 is not in the report store/);
  });
});
