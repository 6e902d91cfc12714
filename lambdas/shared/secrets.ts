/**
 * Turns a request's {@link ConnectionRef} into a {@link ConnectionSpec}, on AWS (Lambdas, the Fargate task).
 *
 * - `{ secretArn }`: Secrets Manager GetSecretValue. The secret string is an RDS secret JSON
 *   (`{ username, password, host, port, dbname, engine }`, optional `sslmode` and `sslrootcert`), a JSON `{ uri }`,
 *   or a plain libpq URI / key=value string. A JSON secret without `host` is one RDS manages
 *   (`ManageMasterUserPassword`: `{ username, password }` only): its instance's or cluster's endpoint, port and
 *   database complete it (`dbInstanceIdentifier` / `dbClusterIdentifier` in the ref, else the secret's
 *   `aws:rds:primaryDB…Arn` tag; ./rds.ts).
 * - `{ env }`: the named environment variable holds a URI or key=value string.
 * - `{ uri }`: only when `PG_MIGRATE_ALLOW_PLAIN_URIS=true` (the construct's `allowPlainUris`).
 *
 * Nothing is cached between calls: every step (each Lambda invocation, each task) reads the secret afresh, so a
 * rotated password is the one used. Within one {@link resolveConnections} call a secret named twice is read once.
 *
 * TLS: when a connection string or secret names no sslmode, `PGSSLMODE` from the environment applies (the construct
 * sets `verify-full`); when the resulting mode verifies the certificate (verify-ca / verify-full) and no
 * `sslrootcert` is named, `PG_MIGRATE_SSLROOTCERT` applies (the construct sets `rds`: the RDS CA bundle shipped in
 * the code, core/rds-ca.ts). A JSON secret's `sslrootcert` is `rds`, `system`, a file, or the PEM text of the CA
 * certificates themselves (written to a private file).
 *
 * Values are never logged; every password is registered with `scrub()`.
 *
 * @example
 * ```ts
 * const { source, target } = await resolveConnections(request);
 * ```
 */
import { RDSClient } from '@aws-sdk/client-rds';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type ConnectionSpec, parseConnectionString, type SslMode } from '../../core/connection.js';
import { InputError, PermanentError, registerSecret, TransientError } from '../../core/errors.js';
import { isPemText, parsePemCertificates, pemFile } from '../../core/rds-ca.js';
import type { ConnectionRef, Request } from '../../core/request.js';
import { DEFAULT_SSLROOTCERT_ENV, tlsProblems } from '../../core/tls.js';
import { AWS_CLIENT_CONFIG, isUnreachable, unreachableHint } from './aws-clients.js';
import { type RdsEndpoint, rdsEndpoint } from './rds.js';

export interface ResolveOptions {
  /** Secrets Manager client. @default a client for the Lambda's / task's region */
  readonly client?: SecretsManagerClient;
  /** RDS client (secrets RDS manages: their instance or cluster). @default a client for the region */
  readonly rds?: RDSClient;
  /**
   * Environment to read `{ env }` refs, `PG_MIGRATE_ALLOW_PLAIN_URIS`, `PGSSLMODE` and `PG_MIGRATE_SSLROOTCERT`
   * from. @default process.env
   */
  readonly env?: NodeJS.ProcessEnv;
}

const SSL_MODES: readonly string[] = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'];
const TRANSIENT_SDK_ERRORS = new Set([
  'InternalServiceError',
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestTimeout',
  'TimeoutError',
]);

let defaultClient: SecretsManagerClient | undefined;
let defaultRdsClient: RDSClient | undefined;

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

function defaultSslMode(env: NodeJS.ProcessEnv): SslMode | undefined {
  const mode = env.PGSSLMODE;
  return mode !== undefined && SSL_MODES.includes(mode) ? (mode as SslMode) : undefined;
}

const NAMES_SSLMODE = /(^|[?&\s])sslmode\s*=/i;

/**
 * The deployment's TLS defaults on a spec: `PGSSLMODE` unless the source of the spec named a mode, then
 * `PG_MIGRATE_SSLROOTCERT` when the mode verifies the certificate and no root certificate is named.
 */
function withTlsDefaults(
  spec: ConnectionSpec,
  namesMode: boolean,
  label: string,
  env: NodeJS.ProcessEnv,
): ConnectionSpec {
  const mode = namesMode ? undefined : defaultSslMode(env);
  let out: ConnectionSpec = mode !== undefined ? { ...spec, sslmode: mode } : spec;
  const rootcert = env[DEFAULT_SSLROOTCERT_ENV];
  const verifies = out.sslmode === 'verify-ca' || out.sslmode === 'verify-full';
  if (verifies && out.sslrootcert === undefined && rootcert !== undefined && rootcert !== '')
    out = { ...out, sslrootcert: rootcert };
  const problems = tlsProblems(out, label);
  if (problems.length > 0) throw new InputError(problems);
  return out;
}

/** Parses a URI / key=value string with the deployment's TLS defaults for what it does not name. */
function parseWithDefaults(text: string, label: string, env: NodeJS.ProcessEnv): ConnectionSpec {
  const spec = parseConnectionString(text, label);
  // sslrootcert=system without a mode means verify-full (libpq 16+): a default mode must not weaken it.
  return withTlsDefaults(spec, NAMES_SSLMODE.test(text) || spec.sslrootcert === 'system', label, env);
}

function field(record: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/** A JSON secret's `sslrootcert`: `rds`, `system`, a file, or PEM text (written to a private file). */
function secretRootCert(value: unknown, label: string, arn: string, problems: string[]): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.trim() === '') {
    problems.push(`${label}: secret ${arn}: "sslrootcert" must be rds, system, a file, or PEM certificates`);
    return undefined;
  }
  if (!isPemText(value)) return value;
  if (parsePemCertificates(value) === undefined) {
    problems.push(`${label}: secret ${arn}: "sslrootcert" holds PEM text that is not a readable certificate`);
    return undefined;
  }
  return pemFile(value);
}

/**
 * An RDS-format secret (`username`, `password`, `host`, `port`, `dbname`, `engine`, `sslmode`, `sslrootcert`) to a
 * spec; `endpoint` completes a secret RDS manages (no `host`): the secret's own fields win where it has them.
 */
function fromRdsSecret(
  record: Record<string, unknown>,
  label: string,
  arn: string,
  env: NodeJS.ProcessEnv,
  endpoint?: RdsEndpoint,
): ConnectionSpec {
  const engine = field(record, 'engine');
  if (engine !== undefined && (typeof engine !== 'string' || !/postgres/i.test(engine)))
    throw new InputError(`${label}: secret ${arn} is for engine ${JSON.stringify(engine)}, not PostgreSQL`);
  const host = field(record, 'host') ?? endpoint?.host;
  const username = field(record, 'username');
  const password = field(record, 'password');
  const problems: string[] = [];
  if (typeof host !== 'string' || host === '') problems.push(`${label}: secret ${arn} has no "host"`);
  if (typeof username !== 'string' || username === '') problems.push(`${label}: secret ${arn} has no "username"`);
  if (password !== undefined && typeof password !== 'string')
    problems.push(`${label}: secret ${arn}: "password" must be a string`);
  const portValue = field(record, 'port') ?? endpoint?.port ?? 5432;
  const port = typeof portValue === 'string' ? Number(portValue) : portValue;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535)
    problems.push(`${label}: secret ${arn} has an invalid "port"`);
  const dbname = field(record, 'dbname') ?? endpoint?.database ?? 'postgres';
  if (typeof dbname !== 'string' || dbname === '') problems.push(`${label}: secret ${arn} has an invalid "dbname"`);
  const sslmodeValue = field(record, 'sslmode');
  if (sslmodeValue !== undefined && (typeof sslmodeValue !== 'string' || !SSL_MODES.includes(sslmodeValue)))
    problems.push(`${label}: secret ${arn} has an invalid "sslmode"`);
  const sslrootcert = secretRootCert(field(record, 'sslrootcert'), label, arn, problems);
  if (problems.length > 0) throw new InputError(problems);
  registerSecret(password as string | undefined);
  const spec: ConnectionSpec = {
    host: host as string,
    port: port as number,
    user: username as string,
    ...(typeof password === 'string' ? { password } : {}),
    database: dbname as string,
    sslmode: (sslmodeValue as SslMode | undefined) ?? (sslrootcert === 'system' ? 'verify-full' : 'prefer'),
    ...(sslrootcert !== undefined ? { sslrootcert } : {}),
  };
  return withTlsDefaults(spec, sslmodeValue !== undefined || sslrootcert === 'system', label, env);
}

/**
 * Interprets a secret's string: RDS JSON (completed from its RDS instance or cluster when it has no `host`), JSON
 * `{ uri }`, or a plain URI / key=value string.
 */
export async function specFromSecret(
  text: string,
  label: string,
  ref: Extract<ConnectionRef, { secretArn: string }>,
  options: ResolveOptions = {},
): Promise<ConnectionSpec> {
  const env = options.env ?? process.env;
  const arn = ref.secretArn;
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
  const host = field(record, 'host');
  const username = field(record, 'username');
  // A secret RDS manages: user name and password only; its instance or cluster knows the rest.
  const managed = (host === undefined || host === '') && typeof username === 'string' && username !== '';
  const endpoint = managed
    ? await rdsEndpoint(ref, label, {
        secrets: options.client ?? secretsClient(),
        rds: options.rds ?? (defaultRdsClient ??= new RDSClient(AWS_CLIENT_CONFIG)),
      })
    : undefined;
  return fromRdsSecret(record, label, arn, env, endpoint);
}

function secretsClient(): SecretsManagerClient {
  return (defaultClient ??= new SecretsManagerClient(AWS_CLIENT_CONFIG));
}

/** One step's reads: a secret named by both refs is read once (never kept beyond the step). */
type SecretReads = Map<string, Promise<string>>;

async function resolveOne(
  ref: ConnectionRef,
  label: string,
  options: ResolveOptions,
  reads: SecretReads,
): Promise<ConnectionSpec> {
  const env = options.env ?? process.env;
  if ('secretArn' in ref) {
    const client = options.client ?? secretsClient();
    let text = reads.get(ref.secretArn);
    if (text === undefined) {
      text = fetchSecretString(client, ref.secretArn, label);
      reads.set(ref.secretArn, text);
    }
    return specFromSecret(await text, label, ref, options);
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

/** Resolves one connection reference, reading its secret afresh. `label` ("source" / "target") names it in errors. */
export function resolveConnection(
  ref: ConnectionRef,
  label: string,
  options: ResolveOptions = {},
): Promise<ConnectionSpec> {
  return resolveOne(ref, label, options, new Map());
}

/** Resolves the request's source and target (in parallel), reading their secrets afresh. */
export async function resolveConnections(
  request: Pick<Request, 'source' | 'target'>,
  options: ResolveOptions = {},
): Promise<{ readonly source: ConnectionSpec; readonly target: ConnectionSpec }> {
  const reads: SecretReads = new Map();
  const [source, target] = await Promise.all([
    resolveOne(request.source, 'source', options, reads),
    resolveOne(request.target, 'target', options, reads),
  ]);
  return { source, target };
}
