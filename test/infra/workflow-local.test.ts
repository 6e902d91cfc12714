/**
 * The committed ASL artefact, run on the local interpreter (aws-local-stepfunctions) with every Task state
 * overridden: the routing of each action, the Map's Retry / Catch, the replication loop and the final Choice.
 * No synth here: this file is fast.
 */
import { readFileSync } from 'node:fs';
import { StateMachine } from 'aws-local-stepfunctions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ASL_ARTEFACT_PATH, type AslDefinition } from '../../scripts/build-asl.js';
import { RUN_FAILED_ERROR, STATE_NAMES as S } from '../../infra/state-names.js';
import { installPolyfills } from '../../cli/local/polyfill.js';
import { handler as reportHandler } from '../../lambdas/report.js';
import type { DatabaseResult } from '../../core/report.js';
import { syncWait } from '../../core/steps/replication/status.js';

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

/** What ReplicationStatus returns: the databases, whether all are in sync, and the sync wait (not expired). */
const syncStatus = (databases: Json, allInSync: boolean): Obj => ({
  databases,
  allInSync,
  waitingSince: '2026-01-01T00:00:00.000Z',
  expired: false,
  reason: '',
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

async function run(input: Obj, handlers: Record<string, Handler>, machineAsl = asl): Promise<Run> {
  const calls: string[] = [];
  const inputs = new Map<string, Obj>();
  const wrapped: Record<string, (input: Json) => Promise<Json>> = {};
  const defaults: Record<string, Handler> = {
    // The state machine passes `{ input, run }`: the raw execution input and the run.
    [S.resolveRequest]: (i) => ({ ...baseRequest, ...(i.input as Obj) }),
    [S.serverChecks]: () => ({
      results: [{ id: 'connection-source', status: 'pass', message: '', remedy: '' }],
      databases: [
        { name: 'shop', targetExists: false, candidate: true, owner: 'app', compact: false },
        { name: 'crm', targetExists: true, candidate: true, owner: 'app', compact: false },
      ],
      shared: { source: {}, target: {} },
      concurrency: 2,
    }),
    [S.databaseCheck]: (i: Obj) => [
      { id: 'languages', status: 'pass', database: (i.database as { name: string }).name, message: '', remedy: '' },
    ],
    // The real Report function: it is pure.
    [S.report]: (i) => reportHandler(i) as unknown as Promise<Json>,
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
  const machine = new StateMachine(machineAsl, { validationOptions: { checkPaths: true, checkArn: true } });
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
      // On AWS the context always names the execution; the interpreter only fills in Input and StartTime.
      Execution: { Name: 'test-run' },
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
    expect(calls).not.toContain(S.replicationStatus);
    // Verification is the task's: after the databases comes the report.
    expect(calls.slice(-1)).toEqual([S.report]);
    const last = inputs.get(S.migrateDatabase);
    // TASK_INPUT carries references only (ECS: 8 KiB of overrides): the task reads the request from the store.
    expect(last && taskInput(last)).toEqual({
      mode: 'migrate',
      run: 'test-run',
      database: { name: 'crm', method: 'dump' },
    });
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

  it('polls replication until in sync, then cuts over when cutover is requested', async () => {
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
          return syncStatus(i.databases as Json, polls >= 2);
        },
        [S.cutoverDatabase]: (i) => {
          expect(taskInput(i)).toMatchObject({ mode: 'cutover', database: { name: 'shop' } });
          return done('shop', 'done', 'replication');
        },
      },
    );
    expect(polls).toBe(2);
    expect(calls.filter((c) => c === S.cutoverDatabase)).toHaveLength(1);
    expect(calls.slice(-1)).toEqual([S.report]);
    expect(inputs.get(S.report)?.databases).toMatchObject([
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
        [S.replicationStatus]: (i) =>
          syncStatus(
            (i.databases as Obj[]).map((d) => done(d.name as string, 'replicating', 'replication')),
            false,
          ),
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
      request: { action: 'abort' },
      checks: [],
      roles: [],
      databases: [],
      plan: { blocked: false, databases: [] },
      errors: {},
    });
    const runOf = inputs.get(S.report)?.run as Obj | undefined;
    expect(Object.keys(runOf ?? {}).sort()).toEqual(['id', 'startedAt']);
    expect(typeof runOf?.id).toBe('string');
    expect(Number.isNaN(Date.parse(runOf?.startedAt as string))).toBe(false);
  });

  it("ends in RunErrored with the failed state's error name and the report as cause when the sync wait expires", async () => {
    const { error, calls, inputs } = await run(
      { action: 'migrate' },
      {
        ...twoDatabases,
        [S.migrateDatabase]: (i) => done((taskInput(i).database as Obj).name as string, 'replicating', 'replication'),
        [S.replicationStatus]: (i) => ({
          ...syncStatus(i.databases as Json, false),
          expired: true,
          reason: 'not in sync after 86400 s: shop: apply worker not running',
        }),
      },
    );
    expect(calls.filter((c) => c === S.replicationStatus)).toHaveLength(1);
    expect(inputs.get(S.report)?.errors).toEqual({
      [S.waitForSync]: {
        Error: 'PgMigrate.Timeout',
        Cause: 'not in sync after 86400 s: shop: apply worker not running',
      },
    });
    expect(error?.name).toBe('PgMigrate.Timeout');
    const report = JSON.parse(error?.message ?? '') as Obj;
    expect(report).toMatchObject({
      ok: false,
      error: { state: S.waitForSync, name: 'PgMigrate.Timeout' },
      databases: [
        { name: 'shop', status: 'replicating' },
        { name: 'crm', status: 'replicating' },
      ],
    });
    expect((report.error as Obj).message).toMatch(/apply worker not running/);
  });
});

describe('the bounded sync wait, decided by the status function (syncWait) poll after poll', () => {
  /** ReplicationStatus as lambdas/status.ts answers it, each poll 5 minutes after the previous one. */
  const pollingEvery5Minutes = (message: string) => {
    let now = Date.parse('2026-06-01T00:00:00.000Z');
    return (i: Obj) => {
      now += 300_000;
      const databases = (i.databases as Obj[]).map((d) => ({ ...d, message }) as DatabaseResult & Obj);
      const request = i.request as Obj;
      return {
        databases,
        allInSync: false,
        ...syncWait({
          waitingSince: typeof i.waitingSince === 'string' ? i.waitingSince : undefined,
          now: new Date(now),
          timeoutSeconds: request.syncTimeoutSeconds as number,
          allInSync: false,
          databases,
        }),
      } as unknown as Json;
    };
  };

  it('ends after syncTimeoutSeconds when the apply worker stays down, with a report saying which database and why', async () => {
    const { error, calls, inputs } = await run(
      { action: 'migrate', syncTimeoutSeconds: 900 },
      {
        ...twoDatabases,
        [S.migrateDatabase]: (i) => done((taskInput(i).database as Obj).name as string, 'replicating', 'replication'),
        [S.replicationStatus]: pollingEvery5Minutes(
          'not in sync: 4/4 tables ready, apply worker not running, lag 12 B',
        ),
      },
    );
    // Polls at 0, 5, 10 and 15 minutes of waiting: the fourth reaches the 900 s bound.
    expect(calls.filter((c) => c === S.replicationStatus)).toHaveLength(4);
    expect(calls.at(-1)).toBe(S.report);
    expect(error?.name).toBe('PgMigrate.Timeout');
    const report = JSON.parse(error?.message ?? '') as Obj;
    expect(report).toMatchObject({ ok: false, error: { state: S.waitForSync, name: 'PgMigrate.Timeout' } });
    const message = (report.error as Obj).message as string;
    expect(message).toMatch(/^not in sync after 900 s \(syncTimeoutSeconds 900\)/);
    expect(message).toContain('shop: not in sync: 4/4 tables ready, apply worker not running');
    expect(message).toContain('crm: not in sync: 4/4 tables ready, apply worker not running');
    expect(inputs.get(S.report)?.errors).toMatchObject({ [S.waitForSync]: { Error: 'PgMigrate.Timeout' } });
  });

  it('ends the same way when the initial sync never completes', async () => {
    const { error, calls } = await run(
      { action: 'migrate', syncTimeoutSeconds: 600 },
      {
        ...twoDatabases,
        [S.migrateDatabase]: (i) => done((taskInput(i).database as Obj).name as string, 'replicating', 'replication'),
        [S.replicationStatus]: pollingEvery5Minutes('not in sync: 1/4 tables ready, apply worker running, lag 0 B'),
      },
    );
    expect(calls.filter((c) => c === S.replicationStatus)).toHaveLength(3);
    expect(error?.name).toBe('PgMigrate.Timeout');
    expect(((JSON.parse(error?.message ?? '') as Obj).error as Obj).message).toMatch(
      /not in sync after 600 s .*shop: not in sync: 1\/4 tables ready/,
    );
  });
});

/** Every Task, Parallel and Map state outside the Maps, with an input that reaches it and how to make it fail. */
const topLevel = Object.entries(asl.States as Record<string, { Type: string }>)
  .filter(([, state]) => ['Task', 'Parallel', 'Map'].includes(state.Type))
  .map(([name]) => name);

const replicatingPlan = {
  ...twoDatabases,
  [S.migrateDatabase]: (i: Obj) => done((taskInput(i).database as Obj).name as string, 'replicating', 'replication'),
  [S.replicationStatus]: (i: Obj) => syncStatus(i.databases as Json, true),
};
const discovered = { [S.discover]: () => ({ databases: [{ name: 'shop', method: 'replication' }] }) };

/** Per state outside the Maps: a run that reaches it, and the handlers (the failing one included). */
const injections: Record<string, { input: Obj; handlers: Record<string, Handler> }> = {
  [S.resolveRequest]: { input: { action: 'migrate' }, handlers: {} },
  [S.serverChecks]: { input: { action: 'check' }, handlers: {} },
  [S.databaseChecks]: { input: { action: 'check' }, handlers: {} },
  [S.plan]: { input: { action: 'check' }, handlers: {} },
  [S.roles]: { input: { action: 'migrate' }, handlers: { ...twoDatabases } },
  [S.migrateDatabases]: { input: { action: 'migrate', roles: false }, handlers: { ...twoDatabases } },
  [S.replicationStatus]: { input: { action: 'migrate', roles: false }, handlers: { ...replicatingPlan } },
  [S.cutoverDatabases]: { input: { action: 'cutover' }, handlers: { ...discovered } },
  [S.discover]: { input: { action: 'status' }, handlers: {} },
  [S.abort]: { input: { action: 'abort' }, handlers: {} },
  [S.report]: { input: { action: 'migrate', roles: false }, handlers: { ...twoDatabases } },
};

/** The Task state to throw in, to make `state` fail (a Parallel through a branch, a Map through its task). */
function failingTask(state: string): string {
  if (state === S.databaseChecks) return S.databaseCheck;
  return state;
}

describe('a failure at any state outside the Maps', () => {
  it('covers every Task, Parallel and Map state at the top level of the ASL', () => {
    expect(topLevel.sort()).toEqual(Object.keys(injections).sort());
  });

  it('catches into the Report from every state outside the Maps (Maps included)', () => {
    for (const name of topLevel) {
      const state = asl.States[name] as { Catch?: { ErrorEquals: string[]; ResultPath: string; Next: string }[] };
      const expected =
        name === S.report
          ? [{ ErrorEquals: ['States.ALL'], ResultPath: `$.errors.${S.report}`, Next: S.routeReportFailure }]
          : [{ ErrorEquals: ['States.ALL'], ResultPath: `$.errors.${name}`, Next: S.report }];
      expect(state.Catch, name).toEqual(expected);
    }
  });

  for (const state of Object.keys(injections).filter((s) => s !== S.migrateDatabases && s !== S.cutoverDatabases)) {
    it(`still ends with a report naming ${state} when it fails`, async () => {
      const { input, handlers } = injections[state] as (typeof injections)[string];
      const failing = failingTask(state);
      const { error, result } = await run(input, {
        ...handlers,
        [failing]: () => {
          throw namedError('PgMigrate.Permanent', `injected failure in ${failing}`);
        },
      });
      expect(result).toBeUndefined();
      // The failure name stays the contract: the execution fails with the state's own error name.
      expect(error?.name).toBe('PgMigrate.Permanent');
      const report = JSON.parse(error?.message ?? '') as Obj;
      expect(report).toMatchObject({
        ok: false,
        action: input.action as string,
        error: { state, name: 'PgMigrate.Permanent', message: `injected failure in ${failing}` },
      });
      expect(Array.isArray(report.databases)).toBe(true);
    });
  }

  it('still ends with a report when a Map fails as a whole', async () => {
    // Inside the Maps every error is caught per database (cleanup, CutoverFailed). To see the Maps' own Catch at
    // work, the task's Catch is taken out of a copy of the ASL, so the task's error escapes its iteration.
    for (const [map, task, handlersOfCatch, input] of [
      [
        S.migrateDatabases,
        S.migrateDatabase,
        [S.cleanupDatabase, S.cleanupFailed],
        { action: 'migrate', roles: false },
      ],
      [S.cutoverDatabases, S.cutoverDatabase, [S.cutoverFailed], { action: 'cutover' }],
    ] as const) {
      const uncaught = structuredClone(asl) as unknown as AslDefinition;
      const processor = (uncaught.States[map] as { ItemProcessor: AslDefinition }).ItemProcessor;
      delete (processor.States[task] as { Catch?: unknown }).Catch;
      for (const name of handlersOfCatch) delete processor.States[name];
      const { error } = await run(
        input,
        {
          ...(injections[map] as (typeof injections)[string]).handlers,
          [task]: () => {
            throw namedError('PgMigrate.Permanent', `injected failure in ${task}`);
          },
        },
        uncaught as unknown as typeof asl,
      );
      expect(error?.name, map).toBe('PgMigrate.Permanent');
      expect(JSON.parse(error?.message ?? ''), map).toMatchObject({
        ok: false,
        error: { state: map, name: 'PgMigrate.Permanent', message: `injected failure in ${task}` },
      });
    }
  });

  it('reports a rejected request with PgMigrate.BadInput, the action it names, and nothing run', async () => {
    const { error, calls } = await run(
      { action: 'migrate', method: 'sideways' },
      {
        [S.resolveRequest]: () => {
          throw namedError('PgMigrate.BadInput', 'method: Invalid option');
        },
      },
    );
    expect(calls).toEqual([S.resolveRequest, S.report]);
    expect(error?.name).toBe('PgMigrate.BadInput');
    expect(JSON.parse(error?.message ?? '')).toMatchObject({
      ok: false,
      action: 'migrate',
      error: { state: S.resolveRequest, name: 'PgMigrate.BadInput', message: 'method: Invalid option' },
    });
  });

  it('builds a fallback report in the state machine when the Report function itself fails', async () => {
    const { error } = await run(
      { action: 'migrate', roles: false },
      {
        ...twoDatabases,
        [S.migrateDatabase]: (i) => done((taskInput(i).database as Obj).name as string),
        [S.report]: () => {
          throw namedError('Lambda.Unknown', 'out of memory');
        },
      },
    );
    expect(error?.name).toBe('Lambda.Unknown');
    expect(JSON.parse(error?.message ?? '')).toMatchObject({
      ok: false,
      action: 'migrate',
      error: { state: S.report, name: 'Lambda.Unknown', message: 'out of memory' },
      databases: [
        { name: 'shop', status: 'done' },
        { name: 'crm', status: 'done' },
      ],
    });
  });
});
