/**
 * Turns a request's {@link ConnectionRef} into a {@link ConnectionSpec}, on AWS (Lambdas, the Fargate task).
 *
 * - `{ secretArn }`: Secrets Manager GetSecretValue. The secret string is an RDS secret JSON
 *   (`{ username, password, host, port, dbname, engine }`, optional `sslmode`), a JSON `{ uri }`, or a plain
 *   libpq URI / key=value string. Cached per ARN for the warm container (5 minutes, so a rotation is picked up).
 * - `{ env }`: the named environment variable holds a URI or key=value string.
 * - `{ uri }`: only when `PG_MIGRATE_ALLOW_PLAIN_URIS=true` (the construct's `allowPlainUris`).
 *
 * Values are never logged; every password is registered with `scrub()`. When a connection string or secret does
 * not name an sslmode, `PGSSLMODE` from the environment applies (the construct sets `require`).
 *
 * @example
 * ```ts
 * const { source, target } = await resolveConnections(request);
 * ```
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type ConnectionSpec, parseConnectionString, type SslMode } from '../../core/connection.js';
import { InputError, PermanentError, registerSecret, TransientError } from '../../core/errors.js';
import type { ConnectionRef, Request } from '../../core/request.js';
import { AWS_CLIENT_CONFIG, isUnreachable, unreachableHint } from './aws-clients.js';

export interface ResolveOptions {
  /** Secrets Manager client. @default a client for the Lambda's / task's region */
  readonly client?: SecretsManagerClient;
  /** Environment to read `{ env }` refs, `PG_MIGRATE_ALLOW_PLAIN_URIS` and `PGSSLMODE` from. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** Clock for the cache, ms. @default Date.now */
  readonly now?: () => number;
}

const CACHE_TTL_MS = 5 * 60 * 1000;
const SSL_MODES: readonly string[] = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'];
const TRANSIENT_SDK_ERRORS = new Set([
  'InternalServiceError',
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestTimeout',
  'TimeoutError',
]);

const cache = new Map<string, { readonly value: Promise<string>; readonly expires: number }>();
let defaultClient: SecretsManagerClient | undefined;

/** Empties the per-ARN cache (tests; a forced refresh after rotation). */
export function clearSecretCache(): void {
  cache.clear();
}

function errorName(err: unknown): string {
  return err instanceof Error ? err.name : 'Error';
}

async function fetchSecretString(client: SecretsManagerClient, arn: string, label: string): Promise<string> {
  let output;
  try {
    output = await client.send(new GetSecretValueCommand({ SecretId: arn }));
  } catch (err) {
    const name = errorName(err);
    // The SDK's message names the ARN at most; the secret value is never part of an error.
    const message = isUnreachable(err)
      ? `${label}: cannot read secret ${arn}: ${unreachableHint('secretsmanager')}`
      : `${label}: cannot read secret ${arn} (${name})`;
    const retryable = typeof err === 'object' && err !== null && '$retryable' in err && Boolean(err.$retryable);
    if (retryable || TRANSIENT_SDK_ERRORS.has(name)) throw new TransientError(message, { cause: err });
    throw new PermanentError(message, { cause: err });
  }
  if (output.SecretString === undefined)
    throw new InputError(`${label}: secret ${arn} has no SecretString (binary secrets are not supported)`);
  return output.SecretString;
}

function secretString(client: SecretsManagerClient, arn: string, label: string, now: number): Promise<string> {
  const hit = cache.get(arn);
  if (hit && hit.expires > now) return hit.value;
  const value = fetchSecretString(client, arn, label);
  cache.set(arn, { value, expires: now + CACHE_TTL_MS });
  // A failed read is not cached: the next call (a Retry) tries again.
  value.catch(() => cache.delete(arn));
  return value;
}

function defaultSslMode(env: NodeJS.ProcessEnv): SslMode | undefined {
  const mode = env.PGSSLMODE;
  return mode !== undefined && SSL_MODES.includes(mode) ? (mode as SslMode) : undefined;
}

const NAMES_SSLMODE = /(^|[?&\s])sslmode\s*=/i;

/** Parses a URI / key=value string, applying the environment's default sslmode when the string names none. */
function parseWithDefaults(text: string, label: string, env: NodeJS.ProcessEnv): ConnectionSpec {
  const spec = parseConnectionString(text, label);
  const mode = defaultSslMode(env);
  return mode !== undefined && !NAMES_SSLMODE.test(text) ? { ...spec, sslmode: mode } : spec;
}

function field(record: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/** An RDS-format secret (`username`, `password`, `host`, `port`, `dbname`, `engine`) to a spec. */
function fromRdsSecret(
  record: Record<string, unknown>,
  label: string,
  arn: string,
  env: NodeJS.ProcessEnv,
): ConnectionSpec {
  const engine = field(record, 'engine');
  if (engine !== undefined && (typeof engine !== 'string' || !/postgres/i.test(engine)))
    throw new InputError(`${label}: secret ${arn} is for engine ${JSON.stringify(engine)}, not PostgreSQL`);
  const host = field(record, 'host');
  const username = field(record, 'username');
  const password = field(record, 'password');
  const problems: string[] = [];
  if (typeof host !== 'string' || host === '') problems.push(`${label}: secret ${arn} has no "host"`);
  if (typeof username !== 'string' || username === '') problems.push(`${label}: secret ${arn} has no "username"`);
  if (password !== undefined && typeof password !== 'string')
    problems.push(`${label}: secret ${arn}: "password" must be a string`);
  const portValue = field(record, 'port') ?? 5432;
  const port = typeof portValue === 'string' ? Number(portValue) : portValue;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535)
    problems.push(`${label}: secret ${arn} has an invalid "port"`);
  const dbname = field(record, 'dbname') ?? 'postgres';
  if (typeof dbname !== 'string' || dbname === '') problems.push(`${label}: secret ${arn} has an invalid "dbname"`);
  const sslmodeValue = field(record, 'sslmode');
  if (sslmodeValue !== undefined && (typeof sslmodeValue !== 'string' || !SSL_MODES.includes(sslmodeValue)))
    problems.push(`${label}: secret ${arn} has an invalid "sslmode"`);
  if (problems.length > 0) throw new InputError(problems);
  registerSecret(password as string | undefined);
  return {
    host: host as string,
    port: port as number,
    user: username as string,
    ...(typeof password === 'string' ? { password } : {}),
    database: dbname as string,
    sslmode: (sslmodeValue as SslMode | undefined) ?? defaultSslMode(env) ?? 'prefer',
  };
}

/** Interprets a secret's string: RDS JSON, JSON `{ uri }`, or a plain URI / key=value string. */
export function specFromSecretString(
  text: string,
  label: string,
  arn: string,
  env: NodeJS.ProcessEnv = process.env,
): ConnectionSpec {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{')) return parseWithDefaults(trimmed, label, env);
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch {
    // Never echo the text: it holds the password.
    throw new InputError(`${label}: secret ${arn} is neither valid JSON nor a connection string`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new InputError(`${label}: secret ${arn} must be a JSON object`);
  const record = parsed as Record<string, unknown>;
  const uri = field(record, 'uri');
  if (uri !== undefined) {
    if (typeof uri !== 'string') throw new InputError(`${label}: secret ${arn}: "uri" must be a string`);
    return parseWithDefaults(uri, label, env);
  }
  return fromRdsSecret(record, label, arn, env);
}

/** Resolves one connection reference. `label` ("source" / "target") names it in error messages. */
export async function resolveConnection(
  ref: ConnectionRef,
  label: string,
  options: ResolveOptions = {},
): Promise<ConnectionSpec> {
  const env = options.env ?? process.env;
  if ('secretArn' in ref) {
    const client = options.client ?? (defaultClient ??= new SecretsManagerClient(AWS_CLIENT_CONFIG));
    const text = await secretString(client, ref.secretArn, label, (options.now ?? Date.now)());
    return specFromSecretString(text, label, ref.secretArn, env);
  }
  if ('env' in ref) {
    const text = env[ref.env];
    if (text === undefined || text.trim() === '')
      throw new InputError(`${label}: environment variable ${ref.env} is not set`);
    return parseWithDefaults(text, label, env);
  }
  if (env.PG_MIGRATE_ALLOW_PLAIN_URIS !== 'true')
    throw new InputError(
      `${label}: plain URIs are not allowed in this deployment; pass { "secretArn": "arn:aws:secretsmanager:…" }`,
    );
  return parseWithDefaults(ref.uri, label, env);
}

/** Resolves the request's source and target (in parallel). */
export async function resolveConnections(
  request: Pick<Request, 'source' | 'target'>,
  options: ResolveOptions = {},
): Promise<{ readonly source: ConnectionSpec; readonly target: ConnectionSpec }> {
  const [source, target] = await Promise.all([
    resolveConnection(request.source, 'source', options),
    resolveConnection(request.target, 'target', options),
  ]);
  return { source, target };
}
