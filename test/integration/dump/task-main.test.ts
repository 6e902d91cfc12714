/**
 * The task's real entry point (tasks/main.ts) end to end: TASK_INPUT with environment connection references,
 * a loopback Step Functions endpoint (AWS_ENDPOINT_URL_SFN) recording the callbacks, two real servers.
 */
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseResult } from '../../../core/report.js';
import { useCluster } from '../../support/vitest.js';
import { planned, tableChecksums } from './support.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const source = useCluster({ version: 15 });
const target = useCluster({ version: 15 });

let server: Server;
let calls: { target: string; body: Record<string, string> }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      calls.push({ target: String(req.headers['x-amz-target']), body: JSON.parse(body) as Record<string, string> });
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
      res.end('{}');
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
});
afterAll(() => new Promise<void>((ok) => server.close(() => ok())));

function runTaskMain(input: unknown): Promise<{ code: number | null; stdout: string }> {
  const port = (server.address() as AddressInfo).port;
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'tasks', 'main.ts')], {
      cwd: root,
      env: {
        PATH: process.env.PATH,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        AWS_ENDPOINT_URL_SFN: `http://127.0.0.1:${port}`,
        TASK_TOKEN: 'token-42',
        TASK_INPUT: JSON.stringify(input),
        PG_MIGRATE_HEARTBEAT_MS: '200',
        PG_MIGRATE_SOURCE: source().uri('postgres'),
        PG_MIGRATE_TARGET: target().uri('postgres'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.on('error', fail);
    child.on('close', (code) => ok({ code, stdout }));
  });
}

const request = {
  action: 'migrate',
  source: { env: 'PG_MIGRATE_SOURCE' },
  target: { env: 'PG_MIGRATE_TARGET' },
  method: 'dump',
  jobs: 2,
};

describe('the task entry point', () => {
  it('migrates one database and reports it with SendTaskSuccess, heartbeating meanwhile, in JSON logs', async () => {
    calls = [];
    await source().createDatabase('orders db');
    await source().loadFixture(
      'orders db',
      `CREATE TABLE public.orders (id int PRIMARY KEY, note text);
       INSERT INTO public.orders SELECT g, 'order ' || g FROM generate_series(1, 200000) g;
       CREATE INDEX orders_note ON public.orders (note);`,
    );
    const { code, stdout } = await runTaskMain({ mode: 'migrate', request, database: planned('orders db') });
    expect(code).toBe(0);
    const success = calls.filter((c) => c.target === 'AWSStepFunctions.SendTaskSuccess');
    expect(success).toHaveLength(1);
    expect(success[0]!.body.taskToken).toBe('token-42');
    const result = JSON.parse(success[0]!.body.output!) as DatabaseResult;
    expect(result).toMatchObject({ name: 'orders db', method: 'dump', status: 'done', tables: 1, rows: 200000 });
    expect(calls.some((c) => c.target === 'AWSStepFunctions.SendTaskHeartbeat')).toBe(true);
    expect(await tableChecksums(target(), 'orders db')).toEqual(await tableChecksums(source(), 'orders db'));
    const lines = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { message: string; service: string });
    expect(lines.some((l) => l.message === 'task finished' && l.service === 'pg-migrate-task')).toBe(true);
    expect(stdout).not.toContain(source().password);
  });

  it('fails when the source database does not exist: SendTaskFailure with a permanent error and exit code 1', async () => {
    calls = [];
    const { code, stdout } = await runTaskMain({ mode: 'migrate', request, database: planned('no such db') });
    expect(code).toBe(1);
    const failure = calls.filter((c) => c.target === 'AWSStepFunctions.SendTaskFailure');
    expect(failure).toHaveLength(1);
    expect(failure[0]!.body.error).toBe('PgMigrate.Permanent');
    expect(failure[0]!.body.cause).toMatch(/no such db/);
    expect(calls.some((c) => c.target === 'AWSStepFunctions.SendTaskSuccess')).toBe(false);
    expect(`${stdout}${JSON.stringify(calls)}`).not.toContain(target().password);
  });
});
