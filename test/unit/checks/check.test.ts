import { describe, expect, it } from 'vitest';
import { compactPasses, defineCheck, need, result, skipRemedy } from '../../../core/checks/check.js';
import type { ServerPhaseFacts } from '../../../core/checks/collect.js';
import { Semaphore } from '../../../core/checks/facts.js';
import { CHECK_IDS, runCheck } from '../../../core/checks/index.js';
import { parseConnectionString } from '../../../core/connection.js';
import type { RunContext } from '../../../core/context.js';
import { InputError } from '../../../core/errors.js';
import { noProgress, silentLogger } from '../../../core/logger.js';
import { parseRequest } from '../../../core/request.js';

const request = parseRequest({ action: 'check', source: { env: 'S' }, target: { env: 'T' } });
const ctx: RunContext = {
  source: parseConnectionString('postgres://u:secret-pw@127.0.0.1:1/db'),
  target: parseConnectionString('postgres://u:secret-pw@127.0.0.1:1/db'),
  logger: silentLogger,
  progress: noProgress,
};

describe('the check contract', () => {
  it('keeps the id list and its order (the state machine has one branch per id)', () => {
    expect(CHECK_IDS).toEqual([
      'connection-source',
      'connection-target',
      'distinct-servers',
      'source-databases',
      'target-databases',
      'disk-space',
      'version',
      'replication-slots',
      'languages',
      'extensions',
      'replication-preconditions',
      'primary-keys',
      'roles',
      'credential-exposure',
      'large-objects',
      'unlogged-tables',
      'materialized-views',
      'source-activity',
    ]);
  });

  const unreadable = { ok: false, error: 'connection refused', code: 'ECONNREFUSED', permission: false } as const;
  const facts = {} as ServerPhaseFacts;

  it('turns facts that could not be read into a skip with the reason', () => {
    const check = defineCheck<number>({
      id: 'version',
      server: { select: () => need(unreadable, 'the source'), evaluate: () => [] },
    });
    const results = check.evaluateServer(facts, request);
    expect(results).toEqual([
      expect.objectContaining({
        id: 'version',
        status: 'skip',
        message: 'could not run: the source: connection refused',
      }),
    ]);
  });

  it('fails (blocking, not replication-only) when a safety check cannot run', () => {
    for (const id of ['target-databases', 'replication-preconditions', 'primary-keys'] as const) {
      const check = defineCheck<number>({ id, server: { select: () => need(unreadable), evaluate: () => [] } });
      const [r] = check.evaluateServer(facts, request);
      expect(r).toMatchObject({ id, status: 'fail', details: { couldNotRun: true } });
      expect(r?.details?.replicationOnly).toBeUndefined();
      expect(r?.remedy).toMatch(/nothing is migrated until it can run/);
    }
  });

  it('turns an evaluation defect into a warning instead of a crash', () => {
    const check = defineCheck<number>({
      id: 'roles',
      server: {
        select: () => 1,
        evaluate: () => {
          throw new TypeError('boom');
        },
      },
    });
    expect(check.evaluateServer(facts, request)).toEqual([
      expect.objectContaining({ status: 'warn', message: 'could not evaluate: boom' }),
    ]);
  });

  it('marks failures and skips of replication-only checks, and nothing else', () => {
    expect(result('primary-keys', 'fail', 'm').details).toEqual({ replicationOnly: true });
    expect(result('replication-slots', 'skip', 'm').details).toEqual({ replicationOnly: true });
    expect(result('replication-slots', 'skip', 'm', { replicationOnly: false }).details).toBeUndefined();
    expect(result('primary-keys', 'pass', 'm').details).toBeUndefined();
    expect(result('roles', 'fail', 'm').details).toBeUndefined();
  });

  it('fails when the check id is unknown (InputError)', async () => {
    await expect(runCheck('nope' as never, request, ctx)).rejects.toBeInstanceOf(InputError);
  });

  it('reports an unreachable server as data, not as an exception', async () => {
    const results = await runCheck('connection-source', { ...request, connectTimeoutSeconds: 1 }, ctx);
    expect(results).toEqual([expect.objectContaining({ status: 'fail', id: 'connection-source' })]);
    expect(results[0]?.remedy).toMatch(/listen_addresses/);
    const skipped = await runCheck('extensions', { ...request, connectTimeoutSeconds: 1 }, ctx);
    expect(skipped).toEqual([expect.objectContaining({ status: 'skip' })]);
    expect(skipped[0]?.message).not.toContain('secret-pw');
    const blocked = await runCheck('target-databases', { ...request, connectTimeoutSeconds: 1 }, ctx);
    expect(blocked).toEqual([expect.objectContaining({ status: 'fail', details: { couldNotRun: true } })]);
  });
});

describe('skipRemedy', () => {
  it.each([
    [{ code: '57014' }, /checkStatementTimeoutMs/],
    [{ code: '42501' }, /privilege/],
    [new Error('connect ECONNREFUSED'), /connection checks/],
  ])('%j', (err, remedy) => expect(skipRemedy(err)).toMatch(remedy));
});

describe('Semaphore', () => {
  it('lets at most its permits through at once', async () => {
    const sem = new Semaphore(2);
    let inFlight = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 6 }, async () => {
        await sem.acquire();
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((r) => setTimeout(r, 5));
        inFlight--;
        sem.release();
      }),
    );
    expect(peak).toBe(2);
  });
});

describe('compactPasses', () => {
  const pass = (database: string, targetExists?: boolean) =>
    result('target-databases', 'pass', `${database} ok`, {
      database,
      ...(targetExists !== undefined ? { details: { targetExists } } : {}),
    });
  it.each([
    [3, 10, 3],
    [10, 10, 10],
    [11, 10, 1],
    [4, 2, 1],
  ])('%i passes with a limit of %i give %i result(s)', (count, above, expected) => {
    const results = Array.from({ length: count }, (_, i) => pass(`db${i}`));
    expect(compactPasses('target-databases', results, above)).toHaveLength(expected);
  });

  it('keeps warnings and failures, and lists the databases and those that exist', () => {
    const results = [
      pass('a', true),
      pass('b', false),
      pass('c', true),
      result('target-databases', 'fail', 'x', { database: 'd' }),
    ];
    const compact = compactPasses('target-databases', results, 2);
    expect(compact.map((r) => r.status)).toEqual(['pass', 'fail']);
    expect(compact[0]).toMatchObject({
      message: '3 databases pass: a, b, c',
      details: { databases: ['a', 'b', 'c'], existing: ['a', 'c'] },
    });
    expect(compact[0]?.database).toBeUndefined();
  });
});
