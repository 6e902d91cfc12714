/**
 * Secret resolution for the Lambdas and the task: Secrets Manager and RDS mocked with aws-sdk-client-mock.
 */
import { readFileSync } from 'node:fs';
import { DescribeDBClustersCommand, DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { DescribeSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { scrub } from '../../core/errors.js';
import { rdsCaBundlePem } from '../../core/rds-ca.js';
import { AWS_CLIENT_CONFIG } from '../../lambdas/shared/aws-clients.js';
import { PRIMARY_CLUSTER_TAG, PRIMARY_INSTANCE_TAG, targetRdsInstance } from '../../lambdas/shared/rds.js';
import { resolveConnection, resolveConnections } from '../../lambdas/shared/secrets.js';

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:pg-migrate/source-AbCdEf';
const OTHER_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:pg-migrate/target-GhIjKl';

const secretsManager = mockClient(SecretsManagerClient);
const rdsApi = mockClient(RDSClient);
const client = new SecretsManagerClient({ region: 'eu-west-1' });
const rds = new RDSClient({ region: 'eu-west-1' });

function awsError(name: string, retryable = false): Error {
  const error = new Error(`${name} happened`);
  error.name = name;
  if (retryable) Object.assign(error, { $retryable: {} });
  return error;
}

beforeEach(() => {
  secretsManager.reset();
  rdsApi.reset();
});
afterEach(() => {
  secretsManager.reset();
  rdsApi.reset();
});

describe('resolveConnection with a secretArn', () => {
  it('reads an RDS secret JSON into a connection spec, defaulting sslmode from PGSSLMODE', async () => {
    secretsManager.on(GetSecretValueCommand, { SecretId: ARN }).resolves({
      SecretString: JSON.stringify({
        engine: 'postgres',
        host: 'db.example.com',
        port: 5433,
        username: 'migrator',
        password: 'rds-s3cret!',
        dbname: 'shop',
      }),
    });
    const spec = await resolveConnection({ secretArn: ARN }, 'source', { client, env: { PGSSLMODE: 'require' } });
    expect(spec).toEqual({
      host: 'db.example.com',
      port: 5433,
      user: 'migrator',
      password: 'rds-s3cret!',
      database: 'shop',
      sslmode: 'require',
    });
    expect(scrub('failed with rds-s3cret!')).toBe('failed with ***');
  });

  it('accepts an RDS secret with the port as a string and no dbname (postgres), and an explicit sslmode', async () => {
    secretsManager.on(GetSecretValueCommand).resolves({
      SecretString: JSON.stringify({
        engine: 'aurora-postgresql',
        host: 'h',
        port: '5432',
        username: 'u',
        password: 'p4ss',
        sslmode: 'verify-full',
      }),
    });
    const spec = await resolveConnection({ secretArn: ARN }, 'target', { client, env: { PGSSLMODE: 'require' } });
    expect(spec).toMatchObject({ port: 5432, database: 'postgres', sslmode: 'verify-full' });
  });

  it('reads a secret holding a URI, and one holding JSON { uri }', async () => {
    secretsManager
      .on(GetSecretValueCommand, { SecretId: ARN })
      .resolves({ SecretString: 'postgres://app:pw%40x@src.example.com:5432/shop?sslmode=verify-full' });
    secretsManager
      .on(GetSecretValueCommand, { SecretId: OTHER_ARN })
      .resolves({ SecretString: JSON.stringify({ uri: 'postgresql://app:pw@tgt.example.com/shop' }) });
    const { source, target } = await resolveConnections(
      { source: { secretArn: ARN }, target: { secretArn: OTHER_ARN } },
      { client, env: { PGSSLMODE: 'require' } },
    );
    expect(source).toMatchObject({ host: 'src.example.com', password: 'pw@x', sslmode: 'verify-full' });
    expect(target).toMatchObject({ host: 'tgt.example.com', database: 'shop', sslmode: 'require' });
  });

  it('reads the secret afresh on every call, so a step after a rotation gets the new password', async () => {
    secretsManager
      .on(GetSecretValueCommand)
      .resolvesOnce({ SecretString: 'postgres://u:before-rotation@h/db' })
      .resolves({ SecretString: 'postgres://u:after-rotation@h/db' });
    const first = await resolveConnection({ secretArn: ARN }, 'source', { client, env: {} });
    const second = await resolveConnection({ secretArn: ARN }, 'source', { client, env: {} });
    expect(first.password).toBe('before-rotation');
    expect(second.password).toBe('after-rotation');
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('reads a secret that both refs name once per step', async () => {
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: 'postgres://u:p@h/db' });
    await resolveConnections({ source: { secretArn: ARN }, target: { secretArn: ARN } }, { client, env: {} });
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    await resolveConnections({ source: { secretArn: ARN }, target: { secretArn: ARN } }, { client, env: {} });
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('fails when the secret is not PostgreSQL, without the secret value in the message', async () => {
    secretsManager.on(GetSecretValueCommand).resolves({
      SecretString: JSON.stringify({ engine: 'mysql', host: 'h', username: 'u', password: 'mysql-pw-123' }),
    });
    const error = await resolveConnection({ secretArn: ARN }, 'source', { client, env: {} }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'PgMigrate.BadInput' });
    expect(String((error as Error).message)).toContain('not PostgreSQL');
    expect(String((error as Error).message)).not.toContain('mysql-pw-123');
  });

  it('fails when the secret JSON lacks host and username, reporting every problem at once', async () => {
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ password: 'x' }) });
    const error = (await resolveConnection({ secretArn: ARN }, 'source', { client, env: {} }).catch(
      (e: unknown) => e,
    )) as { problems: string[] };
    expect(error.problems).toEqual([`source: secret ${ARN} has no "host"`, `source: secret ${ARN} has no "username"`]);
  });

  it('fails when the secret string is broken JSON, without echoing it', async () => {
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: '{"password":"leak-me", oops' });
    const error = (await resolveConnection({ secretArn: ARN }, 'source', { client, env: {} }).catch(
      (e: unknown) => e,
    )) as Error;
    expect(error.name).toBe('PgMigrate.BadInput');
    expect(error.message).not.toContain('leak-me');
  });

  it('fails when the secret is binary', async () => {
    secretsManager.on(GetSecretValueCommand).resolves({ SecretBinary: new Uint8Array([1, 2]) });
    await expect(resolveConnection({ secretArn: ARN }, 'source', { client, env: {} })).rejects.toMatchObject({
      name: 'PgMigrate.BadInput',
      message: expect.stringContaining('no SecretString') as unknown,
    });
  });

  it('fails as PgMigrate.Permanent when access is denied, and as PgMigrate.Transient when throttled', async () => {
    secretsManager.on(GetSecretValueCommand).rejects(awsError('AccessDeniedException'));
    await expect(resolveConnection({ secretArn: ARN }, 'source', { client, env: {} })).rejects.toMatchObject({
      name: 'PgMigrate.Permanent',
    });
    secretsManager.reset();
    secretsManager.on(GetSecretValueCommand).rejects(awsError('ThrottlingException', true));
    await expect(resolveConnection({ secretArn: ARN }, 'source', { client, env: {} })).rejects.toMatchObject({
      name: 'PgMigrate.Transient',
    });
  });

  it('fails when Secrets Manager cannot be reached, saying what route the subnets lack', async () => {
    secretsManager.on(GetSecretValueCommand).rejects(awsError('TimeoutError'));
    const failure = resolveConnection({ secretArn: ARN }, 'source', { client, env: {} });
    await expect(failure).rejects.toMatchObject({ name: 'PgMigrate.Transient' });
    await expect(failure).rejects.toThrow(
      /secretsmanager did not answer within 3 s.*NAT gateway, or the secretsmanager VPC endpoint/,
    );
  });

  it('builds every SDK client with connect and request timeouts of seconds', () => {
    expect(AWS_CLIENT_CONFIG.requestHandler.connectionTimeout).toBeLessThanOrEqual(5_000);
    expect(AWS_CLIENT_CONFIG.requestHandler.requestTimeout).toBeLessThanOrEqual(30_000);
  });

  it('does not cache a failed read: the retry reads again', async () => {
    secretsManager
      .on(GetSecretValueCommand)
      .rejectsOnce(awsError('InternalServiceError'))
      .resolves({ SecretString: 'postgres://u:p@h/db' });
    await expect(resolveConnection({ secretArn: ARN }, 'source', { client, env: {} })).rejects.toThrow();
    await expect(resolveConnection({ secretArn: ARN }, 'source', { client, env: {} })).resolves.toMatchObject({
      host: 'h',
    });
  });
});

describe('resolveConnection with env and uri', () => {
  it('reads a connection string from the named environment variable', async () => {
    const spec = await resolveConnection({ env: 'PG_MIGRATE_SOURCE' }, 'source', {
      env: { PG_MIGRATE_SOURCE: 'host=h port=5999 user=u dbname=d' },
    });
    expect(spec).toMatchObject({ host: 'h', port: 5999, user: 'u', database: 'd', sslmode: 'prefer' });
  });

  it('fails when the environment variable is not set', async () => {
    await expect(resolveConnection({ env: 'PG_MIGRATE_SOURCE' }, 'source', { env: {} })).rejects.toMatchObject({
      name: 'PgMigrate.BadInput',
      message: 'source: environment variable PG_MIGRATE_SOURCE is not set',
    });
  });

  it('fails when a plain URI is given and the deployment does not allow plain URIs', async () => {
    const error = (await resolveConnection({ uri: 'postgres://u:hunter22@h/db' }, 'target', { env: {} }).catch(
      (e: unknown) => e,
    )) as Error;
    expect(error.name).toBe('PgMigrate.BadInput');
    expect(error.message).toContain('plain URIs are not allowed');
    expect(error.message).not.toContain('hunter22');
  });

  it('accepts a plain URI when PG_MIGRATE_ALLOW_PLAIN_URIS=true', async () => {
    const spec = await resolveConnection({ uri: 'postgres://u:pw@h:5432/db' }, 'target', {
      env: { PG_MIGRATE_ALLOW_PLAIN_URIS: 'true' },
    });
    expect(spec).toMatchObject({ host: 'h', user: 'u', password: 'pw', database: 'db' });
  });
});

/** A secret RDS manages (ManageMasterUserPassword): user name and password only. */
const MANAGED = JSON.stringify({ username: 'postgres', password: 'managed-pw-9!' });
const INSTANCE_ARN = 'arn:aws:rds:eu-west-1:123456789012:db:orders-db';
const CLUSTER_ARN = 'arn:aws:rds:eu-west-1:123456789012:cluster:orders-aurora';

describe('resolveConnection with a secret RDS manages', () => {
  it('takes host, port and database from the instance the request names, without reading the tags', async () => {
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: MANAGED });
    rdsApi.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'orders-db' }).resolves({
      DBInstances: [
        {
          Engine: 'postgres',
          DBName: 'orders',
          Endpoint: { Address: 'orders-db.abc.eu-west-1.rds.amazonaws.com', Port: 5433 },
        },
      ],
    });
    const spec = await resolveConnection({ secretArn: ARN, dbInstanceIdentifier: 'orders-db' }, 'source', {
      client,
      rds,
      env: { PGSSLMODE: 'verify-full', PG_MIGRATE_SSLROOTCERT: 'rds' },
    });
    expect(spec).toEqual({
      host: 'orders-db.abc.eu-west-1.rds.amazonaws.com',
      port: 5433,
      user: 'postgres',
      password: 'managed-pw-9!',
      database: 'orders',
      sslmode: 'verify-full',
      sslrootcert: 'rds',
    });
    expect(secretsManager.commandCalls(DescribeSecretCommand)).toHaveLength(0);
    expect(scrub('auth failed for managed-pw-9!')).toBe('auth failed for ***');
  });

  it("follows the secret's aws:rds:primaryDBInstanceArn tag when the request names nothing", async () => {
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: MANAGED });
    secretsManager.on(DescribeSecretCommand, { SecretId: ARN }).resolves({
      Tags: [
        { Key: 'team', Value: 'x' },
        { Key: PRIMARY_INSTANCE_TAG, Value: INSTANCE_ARN },
      ],
    });
    rdsApi.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: INSTANCE_ARN }).resolves({
      DBInstances: [{ Engine: 'postgres', Endpoint: { Address: 'orders-db.rds.example', Port: 5432 } }],
    });
    const spec = await resolveConnection({ secretArn: ARN }, 'target', { client, rds, env: {} });
    // No DBName on the instance: the tool connects to postgres first.
    expect(spec).toMatchObject({ host: 'orders-db.rds.example', port: 5432, database: 'postgres' });
  });

  it("takes an Aurora cluster's writer endpoint, from the request or the aws:rds:primaryDBClusterArn tag", async () => {
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: MANAGED });
    secretsManager.on(DescribeSecretCommand).resolves({ Tags: [{ Key: PRIMARY_CLUSTER_TAG, Value: CLUSTER_ARN }] });
    rdsApi.on(DescribeDBClustersCommand).resolves({
      DBClusters: [
        {
          Engine: 'aurora-postgresql',
          Endpoint: 'orders-aurora.cluster-abc.eu-west-1.rds.amazonaws.com',
          ReaderEndpoint: 'orders-aurora.cluster-ro-abc.eu-west-1.rds.amazonaws.com',
          Port: 5432,
          DatabaseName: 'app',
        },
      ],
    });
    const tagged = await resolveConnection({ secretArn: ARN }, 'source', { client, rds, env: {} });
    expect(tagged).toMatchObject({ host: 'orders-aurora.cluster-abc.eu-west-1.rds.amazonaws.com', database: 'app' });
    expect(rdsApi.commandCalls(DescribeDBClustersCommand)[0]?.args[0].input).toEqual({
      DBClusterIdentifier: CLUSTER_ARN,
    });
    await resolveConnection({ secretArn: ARN, dbClusterIdentifier: 'orders-aurora' }, 'source', {
      client,
      rds,
      env: {},
    });
    expect(rdsApi.commandCalls(DescribeDBClustersCommand)[1]?.args[0].input).toEqual({
      DBClusterIdentifier: 'orders-aurora',
    });
  });

  it("keeps the secret's own port and dbname over the instance's", async () => {
    secretsManager.on(GetSecretValueCommand).resolves({
      SecretString: JSON.stringify({ username: 'u', password: 'p', port: 6432, dbname: 'shop' }),
    });
    rdsApi.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [{ Engine: 'postgres', DBName: 'orders', Endpoint: { Address: 'db.rds.example', Port: 5432 } }],
    });
    const spec = await resolveConnection({ secretArn: ARN, dbInstanceIdentifier: 'orders-db' }, 'source', {
      client,
      rds,
      env: {},
    });
    expect(spec).toMatchObject({ host: 'db.rds.example', port: 6432, database: 'shop' });
  });

  it('fails when neither the request nor the secret names an instance or cluster, saying what to add', async () => {
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: MANAGED });
    secretsManager.on(DescribeSecretCommand).resolves({ Tags: [] });
    const error = (await resolveConnection({ secretArn: ARN }, 'source', { client, rds, env: {} }).catch(
      (e: unknown) => e,
    )) as Error;
    expect(error.name).toBe('PgMigrate.BadInput');
    expect(error.message).toContain(`source: secret ${ARN} has no "host"`);
    expect(error.message).toMatch(
      /add "dbInstanceIdentifier" \(or "dbClusterIdentifier" for Aurora\) beside "secretArn"/,
    );
    expect(error.message).not.toContain('managed-pw-9!');
    expect(rdsApi.calls()).toHaveLength(0);
  });

  it('fails when the named instance does not exist, or runs another engine', async () => {
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: MANAGED });
    const notFound = new Error('DBInstance orders-db not found');
    notFound.name = 'DBInstanceNotFoundFault';
    rdsApi.on(DescribeDBInstancesCommand).rejectsOnce(notFound);
    await expect(
      resolveConnection({ secretArn: ARN, dbInstanceIdentifier: 'orders-db' }, 'source', { client, rds, env: {} }),
    ).rejects.toMatchObject({
      name: 'PgMigrate.BadInput',
      message: expect.stringContaining(
        "RDS DB instance orders-db does not exist in this account and region (named by the request's dbInstanceIdentifier)",
      ) as unknown,
    });
    rdsApi
      .on(DescribeDBInstancesCommand)
      .resolves({ DBInstances: [{ Engine: 'mysql', Endpoint: { Address: 'm.rds.example', Port: 3306 } }] });
    await expect(
      resolveConnection({ secretArn: ARN, dbInstanceIdentifier: 'orders-db' }, 'source', { client, rds, env: {} }),
    ).rejects.toMatchObject({
      name: 'PgMigrate.BadInput',
      message: expect.stringContaining('not PostgreSQL') as unknown,
    });
  });

  it('fails as PgMigrate.Permanent naming the IAM action when DescribeSecret or DescribeDBInstances is denied', async () => {
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: MANAGED });
    secretsManager.on(DescribeSecretCommand).rejects(awsError('AccessDeniedException'));
    await expect(resolveConnection({ secretArn: ARN }, 'source', { client, rds, env: {} })).rejects.toMatchObject({
      name: 'PgMigrate.Permanent',
      message: expect.stringContaining('secretsmanager:DescribeSecret') as unknown,
    });
    rdsApi.on(DescribeDBInstancesCommand).rejects(awsError('AccessDenied'));
    await expect(
      resolveConnection({ secretArn: ARN, dbInstanceIdentifier: 'x' }, 'source', { client, rds, env: {} }),
    ).rejects.toMatchObject({
      name: 'PgMigrate.Permanent',
      message: expect.stringContaining('rds:DescribeDBInstances') as unknown,
    });
  });

  it('fails as PgMigrate.Transient when RDS throttles, cannot be reached, or the instance has no endpoint yet', async () => {
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: MANAGED });
    const ref = { secretArn: ARN, dbInstanceIdentifier: 'x' };
    rdsApi.on(DescribeDBInstancesCommand).rejectsOnce(awsError('Throttling', true));
    await expect(resolveConnection(ref, 'source', { client, rds, env: {} })).rejects.toMatchObject({
      name: 'PgMigrate.Transient',
    });
    rdsApi.reset();
    rdsApi.on(DescribeDBInstancesCommand).rejects(awsError('TimeoutError'));
    await expect(resolveConnection(ref, 'source', { client, rds, env: {} })).rejects.toThrow(/rds VPC endpoint/);
    rdsApi.reset();
    rdsApi
      .on(DescribeDBInstancesCommand)
      .resolves({ DBInstances: [{ Engine: 'postgres', DBInstanceStatus: 'creating' }] });
    await expect(resolveConnection(ref, 'source', { client, rds, env: {} })).rejects.toMatchObject({
      name: 'PgMigrate.Transient',
      message: expect.stringContaining('no endpoint yet (status creating)') as unknown,
    });
  });
});

describe('TLS defaults of a deployment', () => {
  const deployed = { PGSSLMODE: 'verify-full', PG_MIGRATE_SSLROOTCERT: 'rds' };

  it('verifies against the RDS bundle when the secret names no TLS settings', async () => {
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ host: 'h', username: 'u' }) });
    const spec = await resolveConnection({ secretArn: ARN }, 'source', { client, env: deployed });
    expect(spec).toMatchObject({ sslmode: 'verify-full', sslrootcert: 'rds' });
  });

  it('leaves the root certificate alone when the secret chooses a mode that does not verify', async () => {
    secretsManager
      .on(GetSecretValueCommand)
      .resolves({ SecretString: JSON.stringify({ host: 'h', username: 'u', sslmode: 'require' }) });
    const spec = await resolveConnection({ secretArn: ARN }, 'source', { client, env: deployed });
    expect(spec.sslmode).toBe('require');
    expect(spec.sslrootcert).toBeUndefined();
  });

  it("takes the secret's CA as PEM text, written to a private file", async () => {
    const pem = `${rdsCaBundlePem().split('-----END CERTIFICATE-----')[0]}-----END CERTIFICATE-----\n`;
    secretsManager
      .on(GetSecretValueCommand)
      .resolves({ SecretString: JSON.stringify({ host: 'h', username: 'u', sslrootcert: pem }) });
    const spec = await resolveConnection({ secretArn: ARN }, 'source', { client, env: deployed });
    expect(spec.sslmode).toBe('verify-full');
    expect(readFileSync(spec.sslrootcert as string, 'utf8')).toBe(pem);
  });

  it('keeps sslrootcert=system of a URI at verify-full whatever PGSSLMODE says', async () => {
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: 'postgres://u:p@h/db?sslrootcert=system' });
    const spec = await resolveConnection({ secretArn: ARN }, 'source', { client, env: { PGSSLMODE: 'require' } });
    expect(spec).toMatchObject({ sslmode: 'verify-full', sslrootcert: 'system' });
  });

  it("fails when the secret's sslrootcert is PEM text that does not parse, without echoing it", async () => {
    secretsManager.on(GetSecretValueCommand).resolves({
      SecretString: JSON.stringify({
        host: 'h',
        username: 'u',
        password: 'pw-in-broken-secret',
        sslrootcert: '-----BEGIN CERTIFICATE-----\nnot-base64\n-----END CERTIFICATE-----',
      }),
    });
    const error = (await resolveConnection({ secretArn: ARN }, 'source', { client, env: deployed }).catch(
      (e: unknown) => e,
    )) as Error;
    expect(error.name).toBe('PgMigrate.BadInput');
    expect(error.message).toContain('"sslrootcert" holds PEM text that is not a readable certificate');
    expect(error.message).not.toContain('not-base64');
    expect(error.message).not.toContain('pw-in-broken-secret');
  });
});

describe('the RDS instance that measures the target disk', () => {
  it("is targetRdsInstanceId, else the instance the target's ref names (an ARN's identifier), else none", () => {
    const target = { secretArn: ARN, dbInstanceIdentifier: INSTANCE_ARN };
    expect(targetRdsInstance({ target, targetRdsInstanceId: 'explicit-db' })).toBe('explicit-db');
    expect(targetRdsInstance({ target })).toBe('orders-db');
    expect(targetRdsInstance({ target: { secretArn: ARN, dbInstanceIdentifier: 'plain-id' } })).toBe('plain-id');
    expect(targetRdsInstance({ target: { secretArn: ARN, dbClusterIdentifier: 'aurora' } })).toBeUndefined();
    expect(targetRdsInstance({ target: { env: 'PG_MIGRATE_TARGET' } })).toBeUndefined();
  });
});
