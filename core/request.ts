/**
 * The request: the state machine's input, the CLI's options, parsed once at the edge. Defaults live here only.
 *
 * @example
 * ```ts
 * const request = parseRequest({ action: 'check', source: { uri: 'postgres://…' }, target: { env: 'PG_MIGRATE_TARGET' } });
 * ```
 */
import { z } from 'zod';
import { InputError } from './errors.js';
import { budgetProblem } from './session-budget.js';
import { SSL_MODES } from './tls.js';
import { WARNING_KINDS } from './warnings.js';

/** An RDS DB instance or cluster identifier (1–63 letters, digits, hyphens; a letter first), or its ARN. */
const rdsIdentifier = (kind: 'db' | 'cluster') =>
  z
    .string()
    .regex(
      new RegExp(`^(arn:aws[a-z-]*:rds:[a-z0-9-]+:\\d{12}:${kind}:)?[A-Za-z][A-Za-z0-9-]{0,62}$`),
      `must be an RDS ${kind === 'db' ? 'DB instance' : 'DB cluster'} identifier or its ARN`,
    );

/**
 * Where a server's connection string comes from. Credentials are never in the request itself on AWS:
 * `secretArn` (RDS secret JSON or a secret holding a URI) is resolved by the Lambda / task. A secret RDS manages
 * (`ManageMasterUserPassword`) holds only the user name and password: `dbInstanceIdentifier` or
 * `dbClusterIdentifier` (at most one) names the RDS instance or Aurora cluster whose endpoint, port and database
 * complete it (without either, the secret's `aws:rds:primaryDB…Arn` tag names it; lambdas/shared/rds.ts). `env`
 * names an environment variable holding a URI or key=value string (the local CLI uses it so that no credential
 * enters the execution input). `uri` is allowed only where the deployment explicitly allows plain URIs.
 */
export const ConnectionRefSchema = z.union([
  z.strictObject({
    secretArn: z.string().regex(/^arn:aws[a-z-]*:secretsmanager:/, 'must be a Secrets Manager ARN'),
    dbInstanceIdentifier: rdsIdentifier('db').optional(),
    dbClusterIdentifier: rdsIdentifier('cluster').optional(),
  }),
  z.strictObject({ env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'must be an environment variable name') }),
  z.strictObject({ uri: z.string().min(1) }),
]);
export type ConnectionRef = z.infer<typeof ConnectionRefSchema>;

const tableFilter = z
  .string()
  .regex(/^[^.\s]+(\.[^.\s]+){1,2}$/, 'must be schema.table or db.schema.table (quote nothing; names are exact)');

export const ACTIONS = ['check', 'migrate', 'status', 'cutover', 'abort'] as const;

export const RequestSchema = z.strictObject({
  action: z.enum(ACTIONS),
  source: ConnectionRefSchema,
  target: ConnectionRefSchema,
  /** Only these source databases (exact names). Unknown names fail the `source-databases` check. */
  dbs: z.array(z.string().min(1).max(63)).optional(),
  /** Every source database except these. */
  excludeDbs: z.array(z.string().min(1).max(63)).default([]),
  /** Only these tables' data (`[db.]schema.table`, repeatable). */
  withTables: z.array(tableFilter).default([]),
  /** Not these tables' data (`[db.]schema.table`, repeatable). */
  skipTables: z.array(tableFilter).default([]),
  method: z.enum(['auto', 'dump', 'replication']).default('auto'),
  /** Parallel COPY streams (and pg_restore -j) per database. */
  jobs: z.int().min(1).max(64).default(4),
  /** Databases migrated at the same time (the Map's MaxConcurrency). */
  maxConcurrency: z.int().min(1).max(40).default(2),
  /** Create the source's roles on the target first. */
  roles: z.boolean().default(true),
  /**
   * Which roles: `needed` — those the selected databases need (owners, grantees, policy and default-privilege
   * roles, roles with settings in them, and the roles these are members of, up the chain); `all` — every role of
   * the source (core/role-scope.ts).
   */
  roleScope: z.enum(['needed', 'all']).default('needed'),
  /**
   * Consent to recreate these privileged attributes on the target; without it, roles holding them are created
   * without them (the roles check warns, the role's result says so).
   */
  roleAttributes: z.array(z.enum(['superuser', 'bypassrls', 'replication'])).default([]),
  /**
   * sslmode of the subscription's connection (target server → source). Default: the source connection's mode,
   * capped at `require` unless `subscriptionSslrootcert` names the CA on the target server.
   */
  subscriptionSslmode: z.enum(SSL_MODES).optional(),
  /** sslrootcert of the subscription's connection: a path on the target server, or `system` (PostgreSQL 16+). */
  subscriptionSslrootcert: z.string().min(1).optional(),
  /** Consent to REPLICA IDENTITY FULL on source tables without a primary key (replication method). */
  replicaIdentityFull: z.boolean().default(false),
  /**
   * Warning kinds the user consents to up front (core/warnings.ts): a degradation of one of these kinds is still
   * reported, but does not make the run fail (`ok` stays true, exit code 0).
   */
  accept: z.array(z.enum(WARNING_KINDS, { error: () => `must be one of ${WARNING_KINDS.join(', ')}` })).default([]),
  /** After `migrate` by replication reaches sync, go straight on into cutover. */
  cutover: z.boolean().default(false),
  /** Replication lag (bytes) at or under which a database counts as in sync / may be cut over. */
  maxLagBytes: z
    .int()
    .min(0)
    .default(1024 * 1024),
  /** How long `cutover` waits for the lag to drop before failing (nothing is dropped on timeout). */
  timeoutSeconds: z.int().min(1).max(86_400).default(600),
  /**
   * How long `migrate` waits for replication databases to get in sync before it ends with a report saying which
   * are not and why (their replication keeps running: status, cutover and abort work on it later).
   */
  syncTimeoutSeconds: z.int().min(60).max(2_592_000).default(86_400),
  /** Per-table checksums in verification (slower: reads every row on both sides). */
  checksums: z.boolean().default(false),
  /** Free bytes on the target's disk, when the user knows it and the tool cannot measure it. */
  targetFreeBytes: z.int().min(0).optional(),
  /** RDS / Aurora instance identifier of the target, to read FreeStorageSpace from CloudWatch. */
  targetRdsInstanceId: z.string().min(1).optional(),
  /** Connect timeout for checks and steps, seconds. */
  connectTimeoutSeconds: z.int().min(1).max(300).default(10),
  /** Statement timeout for pre-check queries, milliseconds. */
  checkStatementTimeoutMs: z.int().min(100).max(600_000).default(15_000),
  /**
   * Sessions a run may hold open on each server at once. The pre-checks read server-wide facts on one session per
   * server, then check this many databases at a time on one session per server each (docs/CHECKS.md). Each
   * database's task gets ⌊sessionBudget / maxConcurrency⌋ and fits its copy, pg_restore -j, index builds and
   * verification in it (core/session-budget.ts); `migrate` needs at least 2 per database migrated at once.
   */
  sessionBudget: z.int().min(1).max(200).default(10),
});

/** A parsed request with every default filled in. */
export type Request = z.infer<typeof RequestSchema>;
/** What callers may pass (defaults optional). */
export type RequestInput = z.input<typeof RequestSchema>;

/** Parses untrusted input into a {@link Request}; every problem is reported at once in one {@link InputError}. */
export function parseRequest(input: unknown): Request {
  const result = RequestSchema.safeParse(input);
  if (!result.success) {
    throw new InputError(
      result.error.issues.map((issue) => {
        const path = issue.path.length > 0 ? issue.path.join('.') : 'request';
        return `${path}: ${issue.message}`;
      }),
    );
  }
  const request = result.data;
  const problems: string[] = [];
  for (const side of ['source', 'target'] as const) {
    const ref = request[side];
    if ('secretArn' in ref && ref.dbInstanceIdentifier !== undefined && ref.dbClusterIdentifier !== undefined)
      problems.push(`${side}: give dbInstanceIdentifier or dbClusterIdentifier, not both`);
  }
  if (request.dbs && request.dbs.length === 0)
    problems.push('dbs: an empty list selects nothing; omit it to select every database');
  if (request.subscriptionSslrootcert === 'system' && (request.subscriptionSslmode ?? 'verify-full') !== 'verify-full')
    problems.push('subscriptionSslrootcert: system needs subscriptionSslmode verify-full');
  if (request.action === 'migrate' || request.action === 'cutover') {
    const budget = budgetProblem(request.sessionBudget, request.maxConcurrency);
    if (budget !== undefined) problems.push(budget);
  }
  if (request.withTables.length > 0 && request.skipTables.some((t) => request.withTables.includes(t))) {
    problems.push('withTables and skipTables name the same table');
  }
  if (problems.length > 0) throw new InputError(problems);
  return request;
}

/** A table filter entry split into its parts; `database` is undefined when the filter applies to every database. */
export interface TableFilter {
  readonly database?: string;
  readonly schema: string;
  readonly table: string;
}

/** Splits `[db.]schema.table`. */
export function parseTableFilter(text: string): TableFilter {
  const parts = text.split('.');
  if (parts.length === 3) return { database: parts[0]!, schema: parts[1]!, table: parts[2]! };
  if (parts.length === 2) return { schema: parts[0]!, table: parts[1]! };
  throw new InputError(`table filter ${JSON.stringify(text)}: must be schema.table or db.schema.table`);
}

/** The table filters that apply to one database. */
export function tableFiltersFor(
  request: { readonly withTables: readonly string[]; readonly skipTables: readonly string[] },
  database: string,
): { readonly withTables: TableFilter[]; readonly skipTables: TableFilter[] } {
  const pick = (list: readonly string[]) =>
    list.map(parseTableFilter).filter((f) => f.database === undefined || f.database === database);
  return { withTables: pick(request.withTables), skipTables: pick(request.skipTables) };
}
