/**
 * The props of {@link PgMigrationWorkflow} (readonly, flat, every optional prop with its `@default`), their
 * defaults in one place, and their validation at construction time.
 */
import { Duration } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { DEFAULT_METRICS_NAMESPACE } from '../core/metrics.js';
import { parseRequest } from '../core/request.js';
import type { WorkflowDefinitionOptions } from './workflow-definition.js';

/** TLS modes a deployment may default to (`PGSSLMODE` for connection strings that name none). */
export type DefaultSslMode = 'require' | 'verify-ca' | 'verify-full' | 'prefer';

/**
 * The root certificates verifying connections default to: `rds`, the Amazon RDS CA bundle shipped in the Lambda
 * bundles and the task (core/rds-ca.ts); `system`, the operating system's and Node's public roots (verify-full only).
 */
export type DefaultSslRootCert = 'rds' | 'system';

/** An EventBridge Scheduler schedule that starts an execution with a fixed input. */
export interface PgMigrationSchedule {
  /** Construct id of the schedule, e.g. `NightlyCheck` (stable: changing it replaces the schedule). */
  readonly id: string;
  /** When to run, e.g. `ScheduleExpression.cron({ hour: '2', minute: '0' })`. */
  readonly schedule: scheduler.ScheduleExpression;
  /**
   * The execution input: a request (`core/request.ts`), validated at synth. Use `{ secretArn }` connection refs:
   * the input is stored in the schedule and visible in the console, so it must never hold a credential.
   */
  readonly input: Readonly<Record<string, unknown>>;
  /** @default - no description */
  readonly description?: string;
  /** @default true */
  readonly enabled?: boolean;
}

export interface PgMigrationWorkflowProps {
  /** The VPC the Lambdas and the Fargate task run in; it must reach both PostgreSQL servers and AWS APIs. */
  readonly vpc: ec2.IVpc;
  /**
   * Subnets for the Lambdas and the task (private, with egress to Secrets Manager, Step Functions, ECR, Logs).
   * @default - the VPC's PRIVATE_WITH_EGRESS subnets
   */
  readonly subnets?: ec2.SubnetSelection;
  /** @default - a new cluster in `vpc` with Container Insights */
  readonly cluster?: ecs.ICluster;
  /**
   * The source server's secret (RDS secret JSON, JSON `{ uri }`, or a URI string). Functions and task may read it.
   * @default - none: requests must use secrets allowed by `allowedSecretArns`
   */
  readonly sourceSecret?: secretsmanager.ISecret;
  /** The target server's secret (same formats). @default - none */
  readonly targetSecret?: secretsmanager.ISecret;
  /**
   * Further secret ARNs (patterns allowed, e.g. `arn:aws:secretsmanager:eu-west-1:123456789012:secret:pg-migrate/*`)
   * that requests may name. Trade-off: any execution can then read any matching secret, so keep the pattern to a
   * prefix reserved for migration credentials. Secrets encrypted with a customer key also need `kms:Decrypt`:
   * give the key in `secretsKmsKeys`.
   * @default - none: only `sourceSecret` and `targetSecret`
   */
  readonly allowedSecretArns?: readonly string[];
  /**
   * Customer-managed KMS keys the secrets are encrypted with: the connecting functions and the task get
   * `kms:Decrypt` on them, only through Secrets Manager (`kms:ViaService`).
   * @default - none: secrets use the AWS managed key `aws/secretsmanager`
   */
  readonly secretsKmsKeys?: readonly kms.IKey[];
  /**
   * Acknowledge that `allowedSecretArns` holds a wildcard pattern (`*` or `?`): whoever may start an execution may
   * then have the workflow read any secret the pattern matches. Without it, such a pattern is refused at synth.
   * @default false
   */
  readonly acknowledgeWildcardSecretArns?: boolean;
  /**
   * Accept `{ uri }` connection refs (credentials in the execution input, visible in the console and history).
   * For test deployments only. When true, the state machine log leaves out execution data.
   * @default false
   */
  readonly allowPlainUris?: boolean;
  /**
   * `PGSSLMODE` for connections whose secret or string names no sslmode. `verify-full` checks the server's
   * certificate against `defaultSslRootCert` (or the secret's own `sslrootcert`) and its name against the host.
   * @default 'verify-full'
   */
  readonly defaultSslMode?: DefaultSslMode;
  /**
   * The root certificates of verifying connections (verify-ca, verify-full) whose secret names no `sslrootcert`.
   * Another CA goes into the connection's secret: `"sslrootcert"` holding the CA certificates as PEM text.
   * @default 'rds' (the Amazon RDS CA bundle shipped in the Lambda bundles and the task)
   */
  readonly defaultSslRootCert?: DefaultSslRootCert;
  /**
   * Databases migrated at the same time. When set, it overrides the request's `maxConcurrency`.
   * @default - the request's `maxConcurrency` (default 2)
   */
  readonly databaseConcurrency?: number;
  /** Fargate task CPU units (256 … 16384). @default 2048 */
  readonly taskCpu?: number;
  /** Fargate task memory, MiB (must fit `taskCpu`). @default 4096 */
  readonly taskMemoryMiB?: number;
  /** The task must send a heartbeat within this interval, or the state fails with `States.HeartbeatTimeout`. @default Duration.minutes(5) */
  readonly heartbeat?: Duration;
  /** The longest one database may take (migrate or cutover task). @default Duration.hours(24) */
  readonly taskTimeout?: Duration;
  /** Timeout of every Lambda function (and of its state, plus 30 s). @default Duration.minutes(5) */
  readonly functionTimeout?: Duration;
  /** Wait between two replication status polls. @default Duration.minutes(5) */
  readonly replicationPollInterval?: Duration;
  /** Schedules that start executions with a fixed input (e.g. a nightly `check`). @default - none */
  readonly schedules?: readonly PgMigrationSchedule[];
  /**
   * Where the alarms notify: failed executions, replication lag, a stopped apply worker.
   * @default - the alarms have no action
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * The CloudWatch namespace of the metrics the Lambdas and the task publish (EMF) and the dashboard shows.
   * @default 'PgMigrate'
   */
  readonly metricsNamespace?: string;
  /**
   * Replication lag, bytes, above which the replication lag alarm fires (the largest lag of any database, in 2 of 3
   * five-minute periods).
   * @default 1 GiB (1073741824)
   */
  readonly replicationLagAlarmBytes?: number;
  /** @default - a name generated by CloudFormation */
  readonly dashboardName?: string;
  /**
   * Where full reports go (every check, every table; the execution's output names the object). Bring your own to
   * keep them with other audit data; it needs the same protections (encryption, TLS only).
   * @default - a new bucket: S3-managed encryption, TLS only, public access blocked, objects expire after `reportRetention`
   */
  readonly reportBucket?: s3.IBucket;
  /** How long the new report bucket keeps a run's objects. @default Duration.days(90) */
  readonly reportRetention?: Duration;
  /** Retention of the state machine's, the functions' and the task's logs. @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** @default - a name generated by CloudFormation */
  readonly stateMachineName?: string;
  /**
   * Principals of other accounts (a central operations role, a deployment pipeline's account) that may start
   * executions and read executions and reports. Step Functions has no resource policy, so they get a role of this
   * account to assume (`operationsRole`), e.g. `[new iam.AccountPrincipal('999999999999')]`.
   * @default - no operations role
   */
  readonly operationsPrincipals?: readonly iam.IPrincipal[];
  /**
   * Name of the operations role, so that the other accounts can name it in their policies before it exists.
   * @default - a name generated by CloudFormation
   */
  readonly operationsRoleName?: string;
  /**
   * SNS topic told of execution status changes: FAILED, TIMED_OUT, ABORTED, and SUCCEEDED of a cutover (through an
   * EventBridge rule, `statusChangeRule`). An imported topic must let `events.amazonaws.com` publish.
   * @default - no topic
   */
  readonly statusChangeTopic?: sns.ITopic;
  /**
   * Event bus (e.g. a central one in the operations account) that receives the same status change events, as they
   * are. A bus of another account must allow this account to put events.
   * @default - no event bus
   */
  readonly statusChangeEventBus?: events.IEventBus;
}

/** The defaults of the optional props (one place; the TSDoc `@default`s above say the same). */
export const WORKFLOW_DEFAULTS = {
  defaultSslMode: 'verify-full',
  defaultSslRootCert: 'rds',
  taskCpu: 2048,
  taskMemoryMiB: 4096,
  heartbeat: Duration.minutes(5),
  taskTimeout: Duration.hours(24),
  functionTimeout: Duration.minutes(5),
  replicationPollInterval: Duration.minutes(5),
  reportRetention: Duration.days(90),
  logRetention: logs.RetentionDays.ONE_MONTH,
  metricsNamespace: DEFAULT_METRICS_NAMESPACE,
  replicationLagAlarmBytes: 1024 ** 3,
} as const satisfies Partial<Record<keyof PgMigrationWorkflowProps, unknown>>;

/** The definition's settings from the props (defaults filled). */
export function definitionOptions(
  props: Pick<
    PgMigrationWorkflowProps,
    'functionTimeout' | 'heartbeat' | 'taskTimeout' | 'replicationPollInterval' | 'databaseConcurrency'
  >,
): WorkflowDefinitionOptions {
  return {
    functionTimeout: props.functionTimeout ?? WORKFLOW_DEFAULTS.functionTimeout,
    heartbeat: props.heartbeat ?? WORKFLOW_DEFAULTS.heartbeat,
    taskTimeout: props.taskTimeout ?? WORKFLOW_DEFAULTS.taskTimeout,
    replicationPollInterval: props.replicationPollInterval ?? WORKFLOW_DEFAULTS.replicationPollInterval,
    ...(props.databaseConcurrency !== undefined ? { databaseConcurrency: props.databaseConcurrency } : {}),
  };
}

/** Every problem with the props at once, or none. */
export function propsProblems(props: PgMigrationWorkflowProps): string[] {
  const problems: string[] = [];
  const concurrency = props.databaseConcurrency;
  if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 40))
    problems.push('databaseConcurrency must be an integer from 1 to 40');
  for (const schedule of props.schedules ?? []) {
    try {
      const request = parseRequest(schedule.input);
      if (props.allowPlainUris !== true && ('uri' in request.source || 'uri' in request.target))
        problems.push(`schedule ${schedule.id}: plain URIs are not allowed (use { secretArn })`);
    } catch (err) {
      problems.push(`schedule ${schedule.id}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const sslRootCert = props.defaultSslRootCert ?? WORKFLOW_DEFAULTS.defaultSslRootCert;
  if (!['rds', 'system'].includes(sslRootCert)) problems.push('defaultSslRootCert must be rds or system');
  if (sslRootCert === 'system' && (props.defaultSslMode ?? WORKFLOW_DEFAULTS.defaultSslMode) !== 'verify-full')
    problems.push(
      'defaultSslRootCert system needs defaultSslMode verify-full (public CAs vouch for names their customers own)',
    );
  const namespace = props.metricsNamespace;
  if (namespace !== undefined && (!/^[A-Za-z0-9._/#:-]{1,255}$/.test(namespace) || namespace.startsWith('AWS/')))
    problems.push(
      `metricsNamespace ${JSON.stringify(namespace)} is not a CloudWatch namespace of your own (letters, digits, . _ / # : -, not AWS/)`,
    );
  const lag = props.replicationLagAlarmBytes;
  if (lag !== undefined && (!Number.isSafeInteger(lag) || lag < 1))
    problems.push('replicationLagAlarmBytes must be a positive integer (bytes)');
  if (props.operationsRoleName !== undefined && (props.operationsPrincipals ?? []).length === 0)
    problems.push('operationsRoleName needs operationsPrincipals (who may assume the role)');
  for (const arn of props.allowedSecretArns ?? []) {
    if (!/^arn:aws[a-z-]*:secretsmanager:[^:]*:[^:]*:secret:.+/.test(arn))
      problems.push(`allowedSecretArns: ${arn} is not a Secrets Manager secret ARN (pattern)`);
    else if (/[*?]/.test(arn) && props.acknowledgeWildcardSecretArns !== true)
      problems.push(
        `allowedSecretArns: ${arn} is a wildcard pattern: any execution could have the workflow read any secret it matches; name the secrets, or set acknowledgeWildcardSecretArns: true (context acknowledgeWildcardSecretArns=true) to accept it`,
      );
  }
  return problems;
}

/** Throws one error naming every problem with the props. */
export function validateProps(props: PgMigrationWorkflowProps): void {
  const problems = propsProblems(props);
  if (problems.length > 0) throw new Error(`PgMigrationWorkflow: ${problems.join('; ')}`);
}
