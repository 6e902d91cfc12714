/**
 * Resolves a request's {@link ConnectionRef} into a {@link ConnectionSpec}: Secrets Manager (RDS secret JSON, or a
 * secret holding a URI), an environment variable, or — only where the deployment allows it — a plain URI.
 * Values are cached per ARN for a warm container and never logged.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type ConnectionSpec, parseConnectionString } from '../../core/connection.js';
import { InputError, registerSecret } from '../../core/errors.js';
import type { ConnectionRef } from '../../core/request.js';

let client: SecretsManagerClient | undefined;
const cache = new Map<string, string>();

/** For tests: forget cached secret values and the client. */
export function resetSecretCache(): void {
  cache.clear();
  client = undefined;
}

interface RdsSecret {
  readonly username?: string;
  readonly password?: string;
  readonly host?: string;
  readonly port?: number | string;
  readonly dbname?: string;
  readonly uri?: string;
  readonly sslmode?: string;
}

function quoteValue(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** Turns a secret string (RDS JSON, `{ "uri": … }`, or a URI / key=value string) into a connection string. */
export function secretToConnectionString(secret: string, label: string): string {
  const trimmed = secret.trim();
  if (!trimmed.startsWith('{')) return trimmed;
  let json: RdsSecret;
  try {
    json = JSON.parse(trimmed) as RdsSecret;
  } catch {
    throw new InputError(`${label}: the secret is neither JSON nor a connection string`);
  }
  if (json.uri) return json.uri;
  if (!json.host || !json.username) {
    throw new InputError(`${label}: the secret JSON needs host and username (RDS format) or uri`);
  }
  registerSecret(json.password);
  const parts = [
    `host=${quoteValue(json.host)}`,
    `port=${quoteValue(String(json.port ?? 5432))}`,
    `user=${quoteValue(json.username)}`,
    `dbname=${quoteValue(json.dbname ?? 'postgres')}`,
    `sslmode=${quoteValue(json.sslmode ?? process.env.PGSSLMODE ?? 'require')}`,
  ];
  if (json.password !== undefined) parts.push(`password=${quoteValue(json.password)}`);
  return parts.join(' ');
}

async function readSecret(arn: string): Promise<string> {
  const cached = cache.get(arn);
  if (cached !== undefined) return cached;
  client ??= new SecretsManagerClient({});
  const out = await client.send(new GetSecretValueCommand({ SecretId: arn }));
  if (out.SecretString === undefined) throw new InputError(`secret ${arn} has no string value`);
  cache.set(arn, out.SecretString);
  return out.SecretString;
}

/**
 * Resolves one connection reference. `label` ("source" / "target") names it in errors.
 * Plain `{ uri }` references are refused unless `PG_MIGRATE_ALLOW_PLAIN_URIS=true`.
 */
export async function resolveConnection(ref: ConnectionRef, label: string): Promise<ConnectionSpec> {
  if ('secretArn' in ref) {
    return parseConnectionString(secretToConnectionString(await readSecret(ref.secretArn), label), label);
  }
  if ('env' in ref) {
    const value = process.env[ref.env];
    if (value === undefined || value === '')
      throw new InputError(`${label}: environment variable ${ref.env} is not set`);
    return parseConnectionString(value, label);
  }
  if (process.env.PG_MIGRATE_ALLOW_PLAIN_URIS !== 'true') {
    throw new InputError(
      `${label}: plain URIs are not allowed in this deployment; pass a Secrets Manager ARN ({ "secretArn": … })`,
    );
  }
  return parseConnectionString(ref.uri, label);
}
