/**
 * The committed ASL artefact, run on the local interpreter (aws-local-stepfunctions) with every Task state
 * overridden: the routing of each action, the Map's Retry / Catch, the replication loop and the final Choice.
 * No synth here: this file is fast.
 */
import { readFileSync } from 'node:fs';
import { StateMachine } from 'aws-local-stepfunctions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ASL_ARTEFACT_PATH } from '../../scripts/build-asl.js';
import { RUN_FAILED_ERROR, STATE_NAMES as S } from '../../infra/state-names.js';
import { installPolyfills } from '../../cli/local/polyfill.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Obj = Record<string, Json>;
type Handler = (input: Obj) => Json | Promise<Json>;

beforeAll(installPolyfills);

function namedError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

const asl = JSON.parse(readFileSync(ASL_ARTEFACT_PATH, 'utf8')) as ConstructorParameters<typeof StateMachine>[0];

interface Run {
  readonly result?: Obj;
  readonly error?: Error;
  /** Task state names in call order. */
  readonly calls: readonly string[];
  /** The input each Task state received last. */
  readonly inputs: ReadonlyMap<string, Obj>;
}

const baseRequest = {
  source: { secretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:src-AbCdEf' },
  target: { secretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:tgt-AbCdEf' },
  maxConcurrency: 2,
  roles: true,
  cutover: false,
};

const done = (name: string, status = 'done', method = 'dump'): Obj => ({
  name,
  method,
  status,
  tables: 1,
  rows: 1,
  bytes: 1,
  durationMs: 1,
  lagBytes: 0,
  message: '',
});

/** The TASK_INPUT a RunTask override received. */
function taskInput(input: Obj): Obj {
  const overrides = input.Overrides as { ContainerOverrides: { Environment: { Name: string; Value: string }[] }[] };
  const env = overrides.ContainerOverrides[0]?.Environment ?? [];
  const value = env.find((e) => e.Name === 'TASK_INPUT')?.Value;
  if (value === undefined) throw new Error('no TASK_INPUT');
  return JSON.parse(value) as Obj;
}

/** What the Report Lambda returns: the report, and the report as the Fail state's JSON cause. */
function asReportResult(report: Obj): Obj {
  return { report, cause: JSON.stringify(report) };
}

async function run(input: Obj, handlers: Record<string, Handler>): Promise<Run> {
  const calls: string[] = [];
  const inputs = new Map<string, Obj>();
  const wrapped: Record<string, (input: Json) => Promise<Json>> = {};
  const defaults: Record<string, Handler> = {
    [S.resolveRequest]: (i) => ({ ...baseRequest, ...i }),
    [S.serverChecks]: () => ({
      results: [{ id: 'connection-source', status: 'pass' }],
      databases: [
        { name: 'shop', targetExists: false, candidate: true, owner: 'app', compact: false },
        { name: 'crm', targetExists: true, candidate: true, owner: 'app', compact: false },
      ],
      shared: { source: {}, target: {} },
      concurrency: 2,
    }),
    [S.databaseCheck]: (i: Obj) => [
      { id: 'languages', status: 'pass', database: (i.database as { name: string }).name },
    ],
    [S.report]: (i) => {
      const databases = i.databases as Obj[];
      return asReportResult({
        ok: databases.every((d) => d.status !== 'failed'),
        action: i.action as string,
        databases,
      });
    },
  };
  const all = { ...defaults, ...handlers };
  for (const [name, handler] of Object.entries(all)) {
    wrapped[name] = (value) => {
      calls.push(name);
      inputs.set(name, value as Obj);
      return Promise.resolve(handler(value as Obj));
    };
  }
  let token = 0;
  const machine = new StateMachine(asl, { validationOptions: { checkPaths: true, checkArn: true } });
  const execution = machine.run(input, {
    overrides: {
      taskResourceLocalHandlers: wrapped,
      waitTimeOverrides: { [S.waitForSync]: 0 },
      retryIntervalOverrides: { [S.migrateDatabase]: 0, [S.cutoverDatabase]: 0, [S.cleanupDatabase]: 0 },
    },
    context: {
      Task: {
        get Token() {
          token += 1;
          return `token-${token}`;
        },
      },
    },
  });
  try {
    return { result: (await execution.result) as Obj, calls, inputs };
  } catch (error) {
    // The interpreter wraps the Fail state's error (name = ASL Error, message = Cause) in an ExecutionError.
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause : (error as Error);
    return { error: cause, calls, inputs };
  }
}

const twoDatabases = {
  [S.plan]: () => ({
    blocked: false,
    blockers: [],
    checks: [],
    databases: [
      { name: 'shop', method: 'dump', reasons: [], replicaIdentityFull: [], targetExists: false },
      { name: 'crm', method: 'dump', reasons: [], replicaIdentityFull: [], targetExists: false },
    ],
  }),
  [S.roles]: () => [],
  [S.verify]: (i: Obj) => i.databases as Json,
};

describe('the state machine on the local interpreter', () => {
  it('runs the server checks once, the database checks once per database, and stops after the plan for check', async () => {
    const { result, calls, inputs } = await run(
      { action: 'check' },
      { [S.plan]: () => ({ blocked: false, blockers: [], checks: [], databases: [] }) },
    );
    expect(result).toMatchObject({ ok: true, action: 'check' });
    expect(calls.filter((c) => c === S.serverChecks)).toHaveLength(1);
    expect(calls.filter((c) => c === S.databaseCheck)).toHaveLength(2);
    expect(inputs.get(S.serverChecks)).toMatchObject({ phase: 'server', request: { action: 'check' } });
    const databaseInput = inputs.get(S.databaseCheck);
    expect(databaseInput).toMatchObject({
      phase: 'database',
      request: { action: 'check' },
      database: { candidate: true },
      shared: { source: {}, target: {} },
    });
    expect(['shop', 'crm']).toContain((databaseInput?.database as Obj).name);
    expect(inputs.get(S.plan)).toMatchObject({
      serverChecks: [{ id: 'connection-source', status: 'pass' }],
      databaseChecks: [
        [{ id: 'languages', status: 'pass', database: 'shop' }],
        [{ id: 'languages', status: 'pass', database: 'crm' }],
      ],
    });
    expect(calls).not.toContain(S.roles);
    expect(calls).not.toContain(S.migrateDatabase);
  });

  it('migrates every planned database in the Map and reports them', async () => {
    const { result, calls, inputs } = await run(
      { action: 'migrate' },
      { ...twoDatabases, [S.migrateDatabase]: (i) => done((taskInput(i).database as Obj).name as string) },
    );
    expect(result).toMatchObject({ ok: true, databases: [{ name: 'shop' }, { name: 'crm' }] });
    expect(calls.filter((c) => c === S.migrateDatabase)).toHaveLength(2);
    expect(calls).toContain(S.roles);
    expect(calls).toContain(S.verify);
    expect(calls).not.toContain(S.replicationStatus);
    const last = inputs.get(S.migrateDatabase);
    expect(last && taskInput(last)).toMatchObject({ mode: 'migrate', request: { action: 'migrate' } });
    expect(JSON.stringify(last?.Overrides)).toMatch(/"Name":"TASK_TOKEN","Value":"token-\d+"/);
  });

  it('skips Roles when the request says roles: false', async () => {
    const { calls } = await run(
      { action: 'migrate', roles: false },
      { ...twoDatabases, [S.migrateDatabase]: (i) => done((taskInput(i).database as Obj).name as string) },
    );
    expect(calls).not.toContain(S.roles);
    expect(calls).toContain(S.migrateDatabase);
  });

  it('retries a database on PgMigrate.Transient and succeeds', async () => {
    let attempts = 0;
    const { result } = await run(
      { action: 'migrate' },
      {
        ...twoDatabases,
        [S.migrateDatabase]: (i) => {
          const name = (taskInput(i).database as Obj).name as string;
          if (name === 'crm' && attempts++ === 0) throw namedError('PgMigrate.Transient', 'connection reset');
          return done(name);
        },
      },
    );
    expect(attempts).toBe(2);
    expect(result).toMatchObject({ ok: true });
  });

  it('fails when a database fails: cleanup runs for it, the others go on, the run ends in RunFailed', async () => {
    const { error, calls, inputs } = await run(
      { action: 'migrate' },
      {
        ...twoDatabases,
        [S.migrateDatabase]: (i) => {
          const name = (taskInput(i).database as Obj).name as string;
          if (name === 'crm') throw namedError('PgMigrate.Permanent', 'permission denied');
          return done(name);
        },
        [S.cleanupDatabase]: (i) => done((i.database as Obj).name as string, 'failed'),
      },
    );
    expect(calls.filter((c) => c === S.migrateDatabase)).toHaveLength(2);
    expect(inputs.get(S.cleanupDatabase)).toMatchObject({
      database: { name: 'crm' },
      error: { Error: 'PgMigrate.Permanent', Cause: 'permission denied' },
    });
    expect(Object.keys(inputs.get(S.cleanupDatabase) ?? {}).sort()).toEqual(['database', 'error', 'request']);
    expect(error?.name).toBe(RUN_FAILED_ERROR);
    expect(error?.message).toContain('"status":"done"');
    expect(error?.message).toContain('"status":"failed"');
  });

  it('fails when even the cleanup fails, still reporting the database as failed', async () => {
    const { error, inputs } = await run(
      { action: 'migrate' },
      {
        ...twoDatabases,
        [S.migrateDatabase]: () => {
          throw namedError('PgMigrate.Permanent', 'restore error');
        },
        [S.cleanupDatabase]: () => {
          throw namedError('PgMigrate.Transient', 'target unreachable');
        },
      },
    );
    expect(inputs.get(S.report)?.databases).toMatchObject([
      { name: 'shop', status: 'failed', error: 'PgMigrate.Permanent' },
      { name: 'crm', status: 'failed', error: 'PgMigrate.Permanent' },
    ]);
    expect(error?.name).toBe(RUN_FAILED_ERROR);
  });

  it('stops before writing when the plan is blocked', async () => {
    const { error, calls } = await run(
      { action: 'migrate' },
      {
        [S.plan]: () => ({ blocked: true, blockers: [{ id: 'version' }], checks: [], databases: [] }),
        [S.report]: () => asReportResult({ ok: false, action: 'migrate', databases: [] }),
      },
    );
    expect(calls).not.toContain(S.roles);
    expect(calls).not.toContain(S.migrateDatabase);
    expect(error?.name).toBe(RUN_FAILED_ERROR);
    expect(JSON.parse(error?.message ?? '')).toEqual({ ok: false, action: 'migrate', databases: [] });
  });

  it('polls replication until in sync, then cuts over and verifies when cutover is requested', async () => {
    let polls = 0;
    const { result, calls, inputs } = await run(
      { action: 'migrate', cutover: true },
      {
        ...twoDatabases,
        [S.plan]: () => ({
          blocked: false,
          blockers: [],
          checks: [],
          databases: [
            { name: 'shop', method: 'replication', reasons: [], replicaIdentityFull: [], targetExists: false },
            { name: 'crm', method: 'dump', reasons: [], replicaIdentityFull: [], targetExists: false },
          ],
        }),
        [S.migrateDatabase]: (i) => {
          const db = taskInput(i).database as Obj;
          return db.method === 'replication' ? done('shop', 'replicating', 'replication') : done('crm');
        },
        [S.replicationStatus]: (i) => {
          polls += 1;
          return { databases: i.databases as Json, allInSync: polls >= 2 };
        },
        [S.cutoverDatabase]: (i) => {
          expect(taskInput(i)).toMatchObject({ mode: 'cutover', database: { name: 'shop' } });
          return done('shop', 'done', 'replication');
        },
      },
    );
    expect(polls).toBe(2);
    expect(calls.filter((c) => c === S.cutoverDatabase)).toHaveLength(1);
    expect(calls.indexOf(S.verify)).toBeGreaterThan(calls.indexOf(S.cutoverDatabase));
    expect(inputs.get(S.verify)?.databases).toMatchObject([
      { name: 'shop', status: 'done' },
      { name: 'crm', status: 'done' },
    ]);
    expect(result).toMatchObject({ ok: true });
  });

  it('reports replication status for status without waiting', async () => {
    const { result, calls } = await run(
      { action: 'status' },
      {
        [S.discover]: () => ({ databases: [{ name: 'shop', method: 'replication' }] }),
        [S.replicationStatus]: (i) => ({
          databases: (i.databases as Obj[]).map((d) => done(d.name as string, 'replicating', 'replication')),
          allInSync: false,
        }),
      },
    );
    expect(calls).toEqual([S.resolveRequest, S.discover, S.replicationStatus, S.report]);
    expect(result).toMatchObject({ ok: true, action: 'status', databases: [{ name: 'shop', status: 'replicating' }] });
  });

  it('cuts over the discovered replication databases for cutover', async () => {
    const { result, calls } = await run(
      { action: 'cutover' },
      {
        [S.discover]: () => ({ databases: [{ name: 'shop', method: 'replication' }] }),
        [S.cutoverDatabase]: (i) => done((taskInput(i).database as Obj).name as string, 'done', 'replication'),
      },
    );
    expect(calls).toEqual([S.resolveRequest, S.discover, S.cutoverDatabase, S.report]);
    expect(result).toMatchObject({ ok: true, action: 'cutover' });
  });

  it('fails when a cutover fails, without running cleanup on that database', async () => {
    const { error, calls, inputs } = await run(
      { action: 'cutover' },
      {
        [S.discover]: () => ({ databases: [{ name: 'shop', method: 'replication' }] }),
        [S.cutoverDatabase]: () => {
          throw namedError('PgMigrate.Timeout', 'lag stayed above maxLagBytes');
        },
      },
    );
    expect(calls).not.toContain(S.cleanupDatabase);
    expect(inputs.get(S.report)?.databases).toMatchObject([
      { name: 'shop', status: 'failed', error: 'PgMigrate.Timeout' },
    ]);
    expect(error?.name).toBe(RUN_FAILED_ERROR);
  });

  it('drops replication objects for abort and reports', async () => {
    const { result, calls } = await run(
      { action: 'abort' },
      { [S.abort]: () => [done('shop', 'skipped', 'replication')] },
    );
    expect(calls).toEqual([S.resolveRequest, S.abort, S.report]);
    expect(result).toMatchObject({ ok: true, action: 'abort' });
  });

  it('gives the Report every part, with defaults where an action has none', async () => {
    const { inputs } = await run({ action: 'abort' }, { [S.abort]: () => [] });
    expect(inputs.get(S.report)).toMatchObject({
      action: 'abort',
      checks: [],
      roles: [],
      databases: [],
      plan: { blocked: false, databases: [] },
    });
    expect(typeof inputs.get(S.report)?.startedAt).toBe('string');
  });
});
