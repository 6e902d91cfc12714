import { describe, expect, it } from 'vitest';
import { handler as planHandler } from '../../../lambdas/plan.js';
import { handler as reportHandler } from '../../../lambdas/report.js';
import { handler as resolveHandler } from '../../../lambdas/resolve.js';

const input = { action: 'check', source: { env: 'SRC' }, target: { env: 'TGT' } };

describe('the ResolveRequest handler', () => {
  it('fills the defaults', async () => {
    await expect(resolveHandler(input)).resolves.toMatchObject({
      action: 'check',
      method: 'auto',
      jobs: 4,
      excludeDbs: [],
    });
  });

  it('returns a request the next states can parse again unchanged', async () => {
    const request = await resolveHandler({ ...input, dbs: ['shop'], method: 'dump' });
    await expect(resolveHandler(JSON.parse(JSON.stringify(request)))).resolves.toEqual(request);
  });

  it('fails when the input is bad, with the PgMigrate.BadInput name the state machine matches', async () => {
    await expect(resolveHandler({ ...input, method: 'teleport', extra: 1 })).rejects.toMatchObject({
      name: 'PgMigrate.BadInput',
    });
  });
});

describe('the Plan handler', () => {
  it('plans from the check results', async () => {
    const checks = [
      [{ id: 'source-databases', status: 'pass', message: '', remedy: '', details: { databases: ['a'] } }],
      [{ id: 'replication-slots', status: 'pass', message: '', remedy: '' }],
      [{ id: 'replication-preconditions', status: 'pass', database: 'a', message: '', remedy: '' }],
      [{ id: 'primary-keys', status: 'pass', database: 'a', message: '', remedy: '' }],
    ] as const;
    const plan = await planHandler({ request: input, checks });
    expect(plan).toMatchObject({ blocked: false, databases: [{ name: 'a', method: 'replication' }] });
  });

  it('fails when the request is bad', async () => {
    await expect(planHandler({ request: {}, checks: [] })).rejects.toMatchObject({ name: 'PgMigrate.BadInput' });
  });
});

describe('the Report handler', () => {
  it('builds the report from what the run produced', async () => {
    const { report, cause } = await reportHandler({
      request: input,
      run: { id: 'run-1', startedAt: new Date(Date.now() - 50).toISOString() },
      checks: [[{ id: 'extensions', status: 'fail', database: 'a "quoted" \\ name', message: 'x', remedy: 'y' }]],
    });
    expect(report).toMatchObject({ ok: false, action: 'check', roles: [], databases: [] });
    expect(report.error).toBeUndefined();
    expect(report.durationMs).toBeGreaterThanOrEqual(0);
    expect(JSON.parse(cause)).toEqual(report);
  });

  it('names the state that failed, with its error and message, and is not ok', async () => {
    const { report, cause } = await reportHandler({
      request: { ...input, action: 'migrate' },
      run: { id: 'run-1', startedAt: new Date().toISOString() },
      errors: {
        Roles: {
          Error: 'PgMigrate.Permanent',
          Cause: JSON.stringify({ errorType: 'PgMigrate.Permanent', errorMessage: 'permission denied to create role' }),
        },
      },
    });
    expect(report).toMatchObject({
      ok: false,
      action: 'migrate',
      error: { state: 'Roles', name: 'PgMigrate.Permanent', message: 'permission denied to create role' },
    });
    expect(JSON.parse(cause)).toEqual(report);
  });

  it('reports a request that did not resolve with its action when it names one, else as check', async () => {
    const caught = { ResolveRequest: { Error: 'PgMigrate.BadInput', Cause: 'method: Invalid option' } };
    const named = await reportHandler({ request: { action: 'migrate', method: 'x' }, errors: caught });
    expect(named.report).toMatchObject({ ok: false, action: 'migrate', error: { name: 'PgMigrate.BadInput' } });
    const unnamed = await reportHandler({ request: { action: 'explode' }, errors: caught });
    expect(unnamed.report).toMatchObject({ ok: false, action: 'check', error: { state: 'ResolveRequest' } });
  });
});
