/**
 * A Lambda handler as deployed (`Discover`, lambdas/discover.ts) against a real TLS server: the construct's
 * environment (PGSSLMODE=verify-full, PG_MIGRATE_SSLROOTCERT=rds), secrets RDS manages (user name and password only)
 * completed from the instance their tag names, a non-superuser that may log in over TLS only. Secrets Manager and RDS
 * are mocked (aws-sdk-client-mock); PostgreSQL is real, its certificate signed by a CA made here with openssl.
 */
import { readFileSync } from 'node:fs';
import { DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { DescribeSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as discover } from '../../lambdas/discover.js';
import { PRIMARY_INSTANCE_TAG } from '../../lambdas/shared/rds.js';
import { makeTestCa } from '../support/tls.js';
import { useCluster } from '../support/vitest.js';

const ca = makeTestCa();
const otherCa = makeTestCa(undefined, 'another CA');
const server = useCluster({ version: 15, tls: { ca } });

const SOURCE_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-source-AbCdEf';
const TARGET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-target-GhIjKl';
const INSTANCE_ARN = 'arn:aws:rds:eu-west-1:123456789012:db:orders-db';
const USER = 'rds_master';
const PASSWORD = 'managed-Pw-7fG2!';
const REQUEST = { action: 'status', source: { secretArn: SOURCE_ARN }, target: { secretArn: TARGET_ARN } };

const secretsManager = mockClient(SecretsManagerClient);
const rds = mockClient(RDSClient);

/** Secrets Manager and RDS as they answer for a secret RDS manages; `extra` goes into the secret JSON. */
function mockAws(extra: Record<string, string> = {}): void {
  secretsManager.reset();
  rds.reset();
  secretsManager
    .on(GetSecretValueCommand)
    .resolves({ SecretString: JSON.stringify({ username: USER, password: PASSWORD, ...extra }) });
  secretsManager.on(DescribeSecretCommand).resolves({ Tags: [{ Key: PRIMARY_INSTANCE_TAG, Value: INSTANCE_ARN }] });
  rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: INSTANCE_ARN }).resolves({
    DBInstances: [{ Engine: 'postgres', Endpoint: { Address: server().host, Port: server().port } }],
  });
}

/** The construct's environment of every function and the task (set only while a handler runs: node-postgres reads PGSSLMODE too, and the harness's own sessions must not). */
const DEPLOYED_ENV: Record<string, string> = {
  PGSSLMODE: 'verify-full',
  PG_MIGRATE_SSLROOTCERT: 'rds',
  AWS_REGION: 'eu-west-1',
};

/** Invokes the handler as Lambda would, in the deployed environment (plus `extraEnv`). */
async function invoke(extraEnv: Record<string, string> = {}): Promise<unknown> {
  const env = { ...DEPLOYED_ENV, ...extraEnv };
  const saved = Object.fromEntries(
    Object.keys({ ...env, PG_MIGRATE_RDS_CA_BUNDLE: '' }).map((k) => [k, process.env[k]]),
  );
  delete process.env.PG_MIGRATE_RDS_CA_BUNDLE;
  Object.assign(process.env, env);
  try {
    return await discover({ request: REQUEST });
  } finally {
    for (const [key, value] of Object.entries(saved))
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
  }
}

async function failure(): Promise<Error> {
  const error = await invoke().then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(Error);
  expect((error as Error).message).not.toContain(PASSWORD);
  return error as Error;
}

beforeAll(async () => {
  // Like an RDS master user: no superuser, and the server lets it in over TLS only.
  await server().query(`CREATE ROLE ${USER} LOGIN CREATEDB CREATEROLE PASSWORD '${PASSWORD}'`);
  await server().prependHba([
    `hostnossl all ${USER} 127.0.0.1/32 reject`,
    `hostssl all ${USER} 127.0.0.1/32 scram-sha-256`,
  ]);
});

afterAll(() => {
  secretsManager.restore();
  rds.restore();
});

describe('a step on AWS with a secret RDS manages, over verify-full', () => {
  it("connects with the CA the secret carries as PEM text, to the endpoint of the instance the secret's tag names", async () => {
    mockAws({ sslrootcert: readFileSync(ca.certFile, 'utf8') });
    await expect(invoke()).resolves.toEqual({ databases: [] });
    expect(
      secretsManager
        .commandCalls(DescribeSecretCommand)
        .map((c) => c.args[0].input.SecretId)
        .sort(),
    ).toEqual([SOURCE_ARN, TARGET_ARN]);
    expect(rds.commandCalls(DescribeDBInstancesCommand).length).toBeGreaterThanOrEqual(1);
  });

  it('connects with sslrootcert=rds when PG_MIGRATE_RDS_CA_BUNDLE names the CA file instead of the shipped bundle', async () => {
    mockAws();
    await expect(invoke({ PG_MIGRATE_RDS_CA_BUNDLE: ca.certFile })).resolves.toEqual({ databases: [] });
  });

  it('reads the secret afresh for every invocation: a rotated password is the one the next step uses', async () => {
    mockAws({ sslrootcert: readFileSync(ca.certFile, 'utf8') });
    await expect(invoke()).resolves.toEqual({ databases: [] });
    // Rotation: the server has a new password, and so has the secret.
    const rotated = 'rotated-Pw-9kQ4!';
    await server().query(`ALTER ROLE ${USER} PASSWORD '${rotated}'`);
    try {
      secretsManager.on(GetSecretValueCommand).resolves({
        SecretString: JSON.stringify({
          username: USER,
          password: rotated,
          sslrootcert: readFileSync(ca.certFile, 'utf8'),
        }),
      });
      await expect(invoke()).resolves.toEqual({ databases: [] });
    } finally {
      await server().query(`ALTER ROLE ${USER} PASSWORD '${PASSWORD}'`);
    }
  });

  it('fails when the secret carries another CA than the one that signed the server, saying what to give', async () => {
    mockAws({ sslrootcert: readFileSync(otherCa.certFile, 'utf8') });
    const error = await failure();
    expect(error.message).toMatch(
      /TLS: the server's certificate cannot be verified \(sslmode=verify-full, [A-Z_]+\).*Give the CA that signed it/s,
    );
  });

  it('fails when a server not signed by Amazon RDS meets the default: the shipped RDS bundle', async () => {
    mockAws();
    const error = await failure();
    expect(error.message).toMatch(/TLS: the server's certificate cannot be verified \(sslmode=verify-full/);
    expect(error.message).toContain('(now rds)');
  });
});
