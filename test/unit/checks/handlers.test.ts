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
      action: 'check',
      request: input,
      startedAt: new Date(Date.now() - 50).toISOString(),
      checks: [[{ id: 'extensions', status: 'fail', database: 'a "quoted" \\ name', message: 'x', remedy: 'y' }]],
    });
    expect(report).toMatchObject({ ok: false, action: 'check', roles: [], databases: [] });
    expect(report.durationMs).toBeGreaterThanOrEqual(0);
    expect(JSON.parse(cause)).toEqual(report);
  });
});
