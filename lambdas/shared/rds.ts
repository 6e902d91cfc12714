/**
 * Where a secret RDS manages (`ManageMasterUserPassword`: the secret holds only `username` and `password`) points:
 * the endpoint, port and default database of its RDS DB instance or Aurora DB cluster (the writer endpoint).
 *
 * Which instance or cluster, in this order:
 * 1. the request's connection ref: `{ secretArn, dbInstanceIdentifier }` or `{ secretArn, dbClusterIdentifier }`;
 * 2. the secret's own tag, which RDS sets on the secrets it manages: `aws:rds:primaryDBInstanceArn` or
 *    `aws:rds:primaryDBClusterArn` (`secretsmanager:DescribeSecret`);
 * then `rds:DescribeDBInstances` / `rds:DescribeDBClusters`. Nothing is cached: every step asks again.
 *
 * @example
 * ```ts
 * const endpoint = await rdsEndpoint(ref, 'source', { secrets, rds }); // { host, port, database?, from }
 * ```
 */
import { DescribeDBClustersCommand, DescribeDBInstancesCommand, type RDSClient } from '@aws-sdk/client-rds';
import { DescribeSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { InputError, PermanentError, TransientError } from '../../core/errors.js';
import type { Request } from '../../core/request.js';
import { isUnreachable, unreachableHint } from './aws-clients.js';

/** The tags RDS puts on the secrets it manages, naming their instance or cluster (an ARN). */
export const PRIMARY_INSTANCE_TAG = 'aws:rds:primaryDBInstanceArn';
export const PRIMARY_CLUSTER_TAG = 'aws:rds:primaryDBClusterArn';

/** An RDS DB instance or Aurora DB cluster, by identifier or ARN, and where pg-migrate learnt of it. */
export interface RdsResource {
  readonly kind: 'instance' | 'cluster';
  readonly id: string;
  readonly from: 'request' | 'tag';
}

/** What completes the secret. */
export interface RdsEndpoint {
  readonly host: string;
  readonly port: number;
  /** The instance's `DBName` / the cluster's `DatabaseName`: the database created with it, when one was. */
  readonly database?: string;
  readonly resource: RdsResource;
}

/** The part of a connection ref that names an instance or cluster. */
export interface RdsRefFields {
  readonly secretArn: string;
  readonly dbInstanceIdentifier?: string | undefined;
  readonly dbClusterIdentifier?: string | undefined;
}

/** Pure: the instance or cluster the request names, else the one the secret's tags name, else undefined. */
export function rdsResourceOf(
  ref: RdsRefFields,
  tags: readonly { readonly Key?: string | undefined; readonly Value?: string | undefined }[] = [],
): RdsResource | undefined {
  if (ref.dbInstanceIdentifier !== undefined)
    return { kind: 'instance', id: ref.dbInstanceIdentifier, from: 'request' };
  if (ref.dbClusterIdentifier !== undefined) return { kind: 'cluster', id: ref.dbClusterIdentifier, from: 'request' };
  const tag = (key: string) => tags.find((t) => t.Key === key)?.Value;
  const instance = tag(PRIMARY_INSTANCE_TAG);
  if (instance !== undefined && instance !== '') return { kind: 'instance', id: instance, from: 'tag' };
  const cluster = tag(PRIMARY_CLUSTER_TAG);
  if (cluster !== undefined && cluster !== '') return { kind: 'cluster', id: cluster, from: 'tag' };
  return undefined;
}

const TRANSIENT = new Set(['ThrottlingException', 'Throttling', 'TooManyRequestsException', 'InternalFailure']);
const NOT_FOUND = new Set([
  'DBInstanceNotFoundFault',
  'DBInstanceNotFound',
  'DBClusterNotFoundFault',
  'DBClusterNotFound',
]);
const DENIED = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation']);

function errorName(err: unknown): string {
  return err instanceof Error ? err.name : 'Error';
}

/** Maps an SDK error of `action` to the contract: bad input, transient (retried) or permanent, with what to do. */
function sdkFailure(err: unknown, label: string, action: string, what: string, service: string): Error {
  const name = errorName(err);
  if (isUnreachable(err))
    return new TransientError(`${label}: ${action} ${what}: ${unreachableHint(service)}`, { cause: err });
  const retryable = typeof err === 'object' && err !== null && '$retryable' in err && Boolean(err.$retryable);
  if (retryable || TRANSIENT.has(name))
    return new TransientError(`${label}: ${action} ${what} (${name})`, { cause: err });
  if (DENIED.has(name))
    return new PermanentError(
      `${label}: ${action} ${what} was denied (${name}): the function's or the task's role needs ${action} (the PgMigrationWorkflow construct grants it)`,
      { cause: err },
    );
  return new PermanentError(`${label}: ${action} ${what} failed (${name})`, { cause: err });
}

/** The tags of a secret (`secretsmanager:DescribeSecret`). */
async function secretTags(client: SecretsManagerClient, arn: string, label: string) {
  try {
    const output = await client.send(new DescribeSecretCommand({ SecretId: arn }));
    return output.Tags ?? [];
  } catch (err) {
    throw sdkFailure(err, label, 'secretsmanager:DescribeSecret', `on ${arn}`, 'secretsmanager');
  }
}

function checkEngine(engine: string | undefined, label: string, what: string): void {
  if (engine !== undefined && !/postgres/i.test(engine))
    throw new InputError(`${label}: ${what} runs ${JSON.stringify(engine)}, not PostgreSQL`);
}

async function describeInstance(client: RDSClient, resource: RdsResource, label: string): Promise<RdsEndpoint> {
  const what = `RDS DB instance ${resource.id}`;
  let output;
  try {
    output = await client.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: resource.id }));
  } catch (err) {
    if (NOT_FOUND.has(errorName(err)))
      throw new InputError(`${label}: ${what} does not exist in this account and region${origin(resource)}`);
    throw sdkFailure(err, label, 'rds:DescribeDBInstances', `of ${resource.id}`, 'rds');
  }
  const instance = output.DBInstances?.[0];
  if (instance === undefined)
    throw new InputError(`${label}: ${what} does not exist in this account and region${origin(resource)}`);
  checkEngine(instance.Engine, label, what);
  const host = instance.Endpoint?.Address;
  if (host === undefined || host === '')
    throw new TransientError(
      `${label}: ${what} has no endpoint yet (status ${instance.DBInstanceStatus ?? 'unknown'}); run again once it is available`,
    );
  return {
    host,
    port: instance.Endpoint?.Port ?? instance.DbInstancePort ?? 5432,
    ...(instance.DBName ? { database: instance.DBName } : {}),
    resource,
  };
}

async function describeCluster(client: RDSClient, resource: RdsResource, label: string): Promise<RdsEndpoint> {
  const what = `RDS DB cluster ${resource.id}`;
  let output;
  try {
    output = await client.send(new DescribeDBClustersCommand({ DBClusterIdentifier: resource.id }));
  } catch (err) {
    if (NOT_FOUND.has(errorName(err)))
      throw new InputError(`${label}: ${what} does not exist in this account and region${origin(resource)}`);
    throw sdkFailure(err, label, 'rds:DescribeDBClusters', `of ${resource.id}`, 'rds');
  }
  const cluster = output.DBClusters?.[0];
  if (cluster === undefined)
    throw new InputError(`${label}: ${what} does not exist in this account and region${origin(resource)}`);
  checkEngine(cluster.Engine, label, what);
  // The cluster endpoint is the writer's: the one that follows a failover.
  const host = cluster.Endpoint;
  if (host === undefined || host === '')
    throw new TransientError(
      `${label}: ${what} has no writer endpoint yet (status ${cluster.Status ?? 'unknown'}); run again once it is available`,
    );
  return {
    host,
    port: cluster.Port ?? 5432,
    ...(cluster.DatabaseName ? { database: cluster.DatabaseName } : {}),
    resource,
  };
}

function origin(resource: RdsResource): string {
  return resource.from === 'request'
    ? ` (named by the request's ${resource.kind === 'instance' ? 'dbInstanceIdentifier' : 'dbClusterIdentifier'})`
    : ` (named by the secret's ${resource.kind === 'instance' ? PRIMARY_INSTANCE_TAG : PRIMARY_CLUSTER_TAG} tag)`;
}

export interface RdsEndpointClients {
  readonly secrets: SecretsManagerClient;
  readonly rds: RDSClient;
}

/**
 * The endpoint that completes a secret without `host`: from the instance or cluster the ref names, else the one the
 * secret's tag names. Fails with {@link InputError} naming what to add when neither names one.
 */
export async function rdsEndpoint(ref: RdsRefFields, label: string, clients: RdsEndpointClients): Promise<RdsEndpoint> {
  const named = rdsResourceOf(ref);
  const resource = named ?? rdsResourceOf(ref, await secretTags(clients.secrets, ref.secretArn, label));
  if (resource === undefined)
    throw new InputError(
      `${label}: secret ${ref.secretArn} has no "host", and neither the request nor the secret names an RDS instance or cluster: add "dbInstanceIdentifier" (or "dbClusterIdentifier" for Aurora) beside "secretArn" in the request's ${label}, or put "host" (and "port", "dbname") into the secret`,
    );
  return resource.kind === 'instance'
    ? describeInstance(clients.rds, resource, label)
    : describeCluster(clients.rds, resource, label);
}

/**
 * Pure: the RDS DB instance whose CloudWatch `FreeStorageSpace` measures the target's disk: `targetRdsInstanceId`,
 * else the instance the target's ref names (`dbInstanceIdentifier`, an ARN's identifier). undefined: none named.
 */
export function targetRdsInstance(request: Pick<Request, 'target' | 'targetRdsInstanceId'>): string | undefined {
  if (request.targetRdsInstanceId !== undefined) return request.targetRdsInstanceId;
  const ref = request.target;
  if (!('secretArn' in ref) || ref.dbInstanceIdentifier === undefined) return undefined;
  return ref.dbInstanceIdentifier.replace(/^arn:[^:]+:rds:[^:]*:\d*:db:/, '');
}
