import {
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  SFNClient,
  TaskDoesNotExist,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalSfnEndpoint, TaskFailure } from '../../../cli/local/sfn-endpoint.js';

let endpoint: LocalSfnEndpoint;
let client: SFNClient;
beforeAll(async () => {
  endpoint = await LocalSfnEndpoint.start();
  client = new SFNClient({
    endpoint: endpoint.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
});
afterAll(async () => {
  client.destroy();
  await endpoint.close();
});

describe('LocalSfnEndpoint with the real SFN client', () => {
  it('resolves a pending token with the parsed output of SendTaskSuccess', async () => {
    const pending = endpoint.expect('t-success');
    await client.send(new SendTaskSuccessCommand({ taskToken: 't-success', output: '{"name":"shop","rows":3}' }));
    await expect(pending).resolves.toEqual({ name: 'shop', rows: 3 });
    expect(endpoint.isPending('t-success')).toBe(false);
  });

  it('rejects a pending token with the error name and cause of SendTaskFailure', async () => {
    const settled = endpoint.expect('t-failure').catch((e: unknown) => e);
    await client.send(
      new SendTaskFailureCommand({ taskToken: 't-failure', error: 'PgMigrate.Transient', cause: 'connection reset' }),
    );
    const err = await settled;
    expect(err).toBeInstanceOf(TaskFailure);
    expect(err).toMatchObject({ name: 'PgMigrate.Transient', message: 'connection reset' });
  });

  it('records heartbeats', async () => {
    const pending = endpoint.expect('t-beat').catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 50));
    const before = endpoint.sinceHeartbeat('t-beat')!;
    await client.send(new SendTaskHeartbeatCommand({ taskToken: 't-beat' }));
    expect(endpoint.sinceHeartbeat('t-beat')!).toBeLessThan(before);
    endpoint.fail('t-beat', new Error('done'));
    expect(await pending).toMatchObject({ message: 'done' });
  });

  it('fails when the token is unknown (TaskDoesNotExist) or already settled (TaskTimedOut)', async () => {
    await expect(client.send(new SendTaskHeartbeatCommand({ taskToken: 'never-issued' }))).rejects.toBeInstanceOf(
      TaskDoesNotExist,
    );
    await expect(
      client.send(new SendTaskSuccessCommand({ taskToken: 't-success', output: '{}' })),
    ).rejects.toBeInstanceOf(TaskTimedOut);
  });
});
