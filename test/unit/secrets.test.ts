/**
 * Secret resolution for the Lambdas and the task: Secrets Manager mocked with aws-sdk-client-mock.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { scrub } from '../../core/errors.js';
import { AWS_CLIENT_CONFIG } from '../../lambdas/shared/aws-clients.js';
import { clearSecretCache, resolveConnection, resolveConnections } from '../../lambdas/shared/secrets.js';

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:pg-migrate/source-AbCdEf';
const OTHER_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:pg-migrate/target-GhIjKl';

const secretsManager = mockClient(SecretsManagerClient);
const client = new SecretsManagerClient({ region: 'eu-west-1' });

function awsError(name: string, retryable = false): Error {
  const error = new Error(`${name} happened`);
  error.name = name;
  if (retryable) Object.assign(error, { $retryable: {} });
  return error;
}

beforeEach(() => {
  secretsManager.reset();
  clearSecretCache();
});
afterEach(() => {
  secretsManager.reset();
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

  it('caches a secret per ARN for the warm container, and reads it again after the cache expires', async () => {
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: 'postgres://u:p@h/db' });
    let now = 1_000;
    const options = { client, env: {}, now: () => now };
    await resolveConnection({ secretArn: ARN }, 'source', options);
    await resolveConnection({ secretArn: ARN }, 'source', options);
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    now += 6 * 60 * 1000;
    await resolveConnection({ secretArn: ARN }, 'source', options);
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
