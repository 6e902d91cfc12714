/**
 * `PgMigrationWorkflow`: the pg-migrate Step Functions workflow (Lambdas for checks and small steps, a Fargate task
 * for the long work), with logging, tracing, an alarm and optional schedules.
 *
 * @example
 * ```ts
 * const workflow = new PgMigrationWorkflow(this, 'Workflow', {
 *   vpc,
 *   sourceSecret: Secret.fromSecretCompleteArn(this, 'Source', sourceArn),
 *   targetSecret: Secret.fromSecretCompleteArn(this, 'Target', targetArn),
 *   schedules: [{ id: 'NightlyCheck', schedule: ScheduleExpression.cron({ hour: '2', minute: '0' }),
 *                 input: { action: 'check', source: { secretArn: sourceArn }, target: { secretArn: targetArn } } }],
 * });
 * workflow.grantStartExecution(operatorsRole);
 * ```
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CfnElement, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { CHECK_IDS } from '../core/checks/ids.js';
import { TASK_PG_MAJOR_ENV } from '../core/checks/version.js';
import { ERROR_NAMES } from '../core/errors.js';
import { parseRequest } from '../core/request.js';
import { preCheckStateName, RUN_FAILED_ERROR, STATE_NAMES } from './state-names.js';

/** The PostgreSQL client tools major in the task image (tasks/Dockerfile `ARG PG_MAJOR`). */
export const TASK_IMAGE_PG_MAJOR = 17;

/** The repository root (infra/ is one level down): entries and the task's Docker build context. */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** TLS modes a deployment may default to (`PGSSLMODE` for connection strings that name none). */
export type DefaultSslMode = 'require' | 'verify-ca' | 'verify-full' | 'prefer';

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
   * prefix reserved for migration credentials. Secrets encrypted with a customer key also need `kms:Decrypt`,
   * which this does not grant.
   * @default - none: only `sourceSecret` and `targetSecret`
   */
  readonly allowedSecretArns?: readonly string[];
  /**
   * Accept `{ uri }` connection refs (credentials in the execution input, visible in the console and history).
   * For test deployments only. When true, the state machine log leaves out execution data.
   * @default false
   */
  readonly allowPlainUris?: boolean;
  /**
   * `PGSSLMODE` for connections whose secret or string names no sslmode.
   * @default 'require'
   */
  readonly defaultSslMode?: DefaultSslMode;
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
  /** Where the failed-executions alarm notifies. @default - the alarm has no action */
  readonly alarmTopic?: sns.ITopic;
  /** Retention of the state machine's, the functions' and the task's logs. @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** @default - a name generated by CloudFormation */
  readonly stateMachineName?: string;
}

/** The Lambda functions, by role in the workflow. */
type FunctionName =
  | 'resolve'
  | 'precheck'
  | 'plan'
  | 'roles'
  | 'cleanup'
  | 'status'
  | 'discover'
  | 'abort'
  | 'verify'
  | 'report';

/** Construct ids of the functions (stable: they name the logical ids the ASL artefact refers to). */
const FUNCTION_IDS: Readonly<Record<FunctionName, string>> = {
  resolve: 'ResolveFunction',
  precheck: 'PreCheckFunction',
  plan: 'PlanFunction',
  roles: 'RolesFunction',
  cleanup: 'CleanupFunction',
  status: 'StatusFunction',
  discover: 'DiscoverFunction',
  abort: 'AbortFunction',
  verify: 'VerifyFunction',
  report: 'ReportFunction',
};

/** Functions that only parse or compute and never connect to a server: no secret access. */
const PURE_FUNCTIONS: ReadonlySet<FunctionName> = new Set(['resolve', 'plan']);

/** The task's container name (ECS container overrides refer to it). */
export const TASK_CONTAINER_NAME = 'pg-migrate';

/** Errors retried on every Task state: only what can succeed later (core/errors.ts). */
const TRANSIENT_ERRORS = [ERROR_NAMES.transient];

/**
 * The pg-migrate workflow: one Standard state machine routed by `request.action` (check, migrate, status,
 * cutover, abort), Lambdas in private subnets, a Fargate task per database, logs, tracing and an alarm.
 */
export class PgMigrationWorkflow extends Construct {
  /** The state machine; its execution output is the report. */
  readonly stateMachine: sfn.StateMachine;
  /** The ECS cluster the task runs in. */
  readonly cluster: ecs.ICluster;
  /** The migration task. */
  readonly taskDefinition: ecs.FargateTaskDefinition;
  /** The functions' security group: allow it into both PostgreSQL servers' security groups. */
  readonly functionSecurityGroup: ec2.SecurityGroup;
  /** The task's security group: allow it into both PostgreSQL servers' security groups. */
  readonly taskSecurityGroup: ec2.SecurityGroup;
  /** Alarm on failed executions. */
  readonly failedExecutionsAlarm: cloudwatch.Alarm;
  /** The state machine's log group. */
  readonly logGroup: logs.LogGroup;
  /** The schedules, by id. */
  readonly schedules: Readonly<Record<string, scheduler.Schedule>>;
  /** The Lambda functions. */
  readonly functions: Readonly<Record<FunctionName, NodejsFunction>>;

  private readonly props: PgMigrationWorkflowProps;
  private readonly subnets: ec2.SubnetSelection;
  private readonly functionTimeout: Duration;

  constructor(scope: Construct, id: string, props: PgMigrationWorkflowProps) {
    super(scope, id);
    this.props = props;
    this.validate(props);
    this.subnets = props.subnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
    this.functionTimeout = props.functionTimeout ?? Duration.minutes(5);
    const retention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;

    this.functionSecurityGroup = new ec2.SecurityGroup(this, 'FunctionSecurityGroup', {
      vpc: props.vpc,
      description: 'pg-migrate Lambda functions: outbound to PostgreSQL and AWS APIs',
      allowAllOutbound: true,
    });
    this.taskSecurityGroup = new ec2.SecurityGroup(this, 'TaskSecurityGroup', {
      vpc: props.vpc,
      description: 'pg-migrate Fargate task: outbound to PostgreSQL and AWS APIs',
      allowAllOutbound: true,
    });

    const environment: Record<string, string> = {
      POWERTOOLS_SERVICE_NAME: 'pg-migrate',
      POWERTOOLS_LOG_LEVEL: 'INFO',
      PGSSLMODE: props.defaultSslMode ?? 'require',
      PG_MIGRATE_ALLOW_PLAIN_URIS: props.allowPlainUris === true ? 'true' : 'false',
    };

    const functions = {} as Record<FunctionName, NodejsFunction>;
    for (const name of Object.keys(FUNCTION_IDS) as FunctionName[]) {
      functions[name] = this.createFunction(name, environment, retention);
    }
    this.functions = functions;
    // pg_dump runs in the Fargate task, not in the pre-check Lambda: the version check takes the task image's
    // client tools major from here (tasks/Dockerfile ARG PG_MAJOR).
    functions.precheck.addEnvironment(TASK_PG_MAJOR_ENV, String(TASK_IMAGE_PG_MAJOR));
    // The disk-space check reads the target's FreeStorageSpace (RDS / Aurora) from CloudWatch.
    functions.precheck.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['cloudwatch:GetMetricData', 'cloudwatch:GetMetricStatistics'],
        resources: ['*'],
      }),
    );
    Validations.of(functions.precheck).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'cloudwatch:GetMetricData / GetMetricStatistics support no resource-level permissions; they read RDS FreeStorageSpace for the disk-space check.',
    });

    this.cluster =
      props.cluster ??
      new ecs.Cluster(this, 'Cluster', {
        vpc: props.vpc,
        containerInsightsV2: ecs.ContainerInsights.ENABLED,
      });
    this.taskDefinition = this.createTaskDefinition(environment, retention);

    this.logGroup = new logs.LogGroup(this, 'StateMachineLogs', { retention });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      ...(props.stateMachineName !== undefined ? { stateMachineName: props.stateMachineName } : {}),
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromChainable(this.definition(functions)),
      // Execution data (inputs, outputs) is logged unless plain URIs are allowed: then inputs may hold passwords.
      logs: {
        destination: this.logGroup,
        level: sfn.LogLevel.ALL,
        includeExecutionData: props.allowPlainUris !== true,
      },
      tracingEnabled: true,
    });
    // The task reports back with SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat.
    this.stateMachine.grantTaskResponse(this.taskDefinition.taskRole);

    this.failedExecutionsAlarm = new cloudwatch.Alarm(this, 'FailedExecutionsAlarm', {
      alarmDescription: 'A pg-migrate execution failed (a blocked plan, a failed database, or an error).',
      metric: this.stateMachine.metricFailed({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (props.alarmTopic) this.failedExecutionsAlarm.addAlarmAction(new cloudwatchActions.SnsAction(props.alarmTopic));

    const schedules: Record<string, scheduler.Schedule> = {};
    for (const schedule of props.schedules ?? []) {
      schedules[schedule.id] = new scheduler.Schedule(this, schedule.id, {
        schedule: schedule.schedule,
        target: new schedulerTargets.StepFunctionsStartExecution(this.stateMachine, {
          input: scheduler.ScheduleTargetInput.fromObject(schedule.input),
        }),
        ...(schedule.description !== undefined ? { description: schedule.description } : {}),
        enabled: schedule.enabled ?? true,
      });
    }
    this.schedules = schedules;

    this.acknowledgeFindings();
  }

  /** Lets `grantee` start executions (the console user's role, a CI role, the `pg-migrate aws` CLI). */
  grantStartExecution(grantee: iam.IGrantable): iam.Grant {
    return this.stateMachine.grantStartExecution(grantee);
  }

  private validate(props: PgMigrationWorkflowProps): void {
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
    for (const arn of props.allowedSecretArns ?? []) {
      if (!/^arn:aws[a-z-]*:secretsmanager:[^:]*:[^:]*:secret:.+/.test(arn))
        problems.push(`allowedSecretArns: ${arn} is not a Secrets Manager secret ARN (pattern)`);
    }
    if (problems.length > 0) throw new Error(`PgMigrationWorkflow: ${problems.join('; ')}`);
  }

  /** Secret read access for a function or the task role: the construct's secrets and the allowed patterns. */
  private grantSecrets(grantee: iam.IGrantable): void {
    this.props.sourceSecret?.grantRead(grantee);
    this.props.targetSecret?.grantRead(grantee);
    const patterns = this.props.allowedSecretArns ?? [];
    if (patterns.length > 0) {
      grantee.grantPrincipal.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
          resources: [...patterns],
        }),
      );
    }
  }

  private createFunction(
    name: FunctionName,
    environment: Record<string, string>,
    retention: logs.RetentionDays,
  ): NodejsFunction {
    const id = FUNCTION_IDS[name];
    const fn = new NodejsFunction(this, id, {
      entry: join(ROOT, 'lambdas', `${name}.ts`),
      handler: 'handler',
      projectRoot: ROOT,
      depsLockFilePath: join(ROOT, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 512,
      timeout: this.functionTimeout,
      tracing: lambda.Tracing.ACTIVE,
      vpc: this.props.vpc,
      vpcSubnets: this.subnets,
      securityGroups: [this.functionSecurityGroup],
      environment: { ...environment, NODE_OPTIONS: '--enable-source-maps' },
      logGroup: new logs.LogGroup(this, `${id}Logs`, { retention }),
      bundling: {
        format: OutputFormat.ESM,
        target: 'node22',
        sourceMap: true,
        mainFields: ['module', 'main'],
        // pg and friends are CommonJS and require() Node built-ins: give the ESM bundle a require().
        banner:
          "import { createRequire as __pgmCreateRequire } from 'node:module';const require = __pgmCreateRequire(import.meta.url);",
        externalModules: ['@aws-sdk/*', 'pg-native'],
      },
    });
    if (!PURE_FUNCTIONS.has(name)) this.grantSecrets(fn);
    return fn;
  }

  private createTaskDefinition(
    environment: Record<string, string>,
    retention: logs.RetentionDays,
  ): ecs.FargateTaskDefinition {
    const taskDefinition = new ecs.FargateTaskDefinition(this, 'TaskDefinition', {
      cpu: this.props.taskCpu ?? 2048,
      memoryLimitMiB: this.props.taskMemoryMiB ?? 4096,
      runtimePlatform: {
        cpuArchitecture: ecs.CpuArchitecture.X86_64,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
    });
    taskDefinition.addContainer('Container', {
      containerName: TASK_CONTAINER_NAME,
      image: ecs.ContainerImage.fromAsset(ROOT, {
        file: 'tasks/Dockerfile',
        platform: Platform.LINUX_AMD64,
        // The build context is the repository root, but the image needs only these two files.
        exclude: ['**', '!tasks/Dockerfile', '!dist/task.mjs'],
      }),
      logging: ecs.LogDrivers.awsLogs({
        streamPrefix: 'task',
        logGroup: new logs.LogGroup(this, 'TaskLogs', { retention }),
      }),
      environment,
      essential: true,
    });
    this.grantSecrets(taskDefinition.taskRole);
    return taskDefinition;
  }

  private lambdaState(
    stateName: string,
    fn: lambda.IFunction,
    payload: Record<string, unknown>,
    resultPath: string,
  ): tasks.LambdaInvoke {
    const state = new tasks.LambdaInvoke(this, stateName, {
      stateName,
      lambdaFunction: fn,
      payload: sfn.TaskInput.fromObject(payload),
      payloadResponseOnly: true,
      // `$` is the default: left out, because the local interpreter writes a `ResultPath: "$"` to a key named "$".
      ...(resultPath !== '$' ? { resultPath } : {}),
      taskTimeout: sfn.Timeout.duration(this.functionTimeout.plus(Duration.seconds(30))),
    });
    state.addRetry({
      errors: TRANSIENT_ERRORS,
      interval: Duration.seconds(5),
      maxAttempts: 3,
      backoffRate: 2,
      jitterStrategy: sfn.JitterType.FULL,
    });
    return state;
  }

  /** One database's Fargate task (`mode` migrate or cutover), waiting for the task token. */
  private ecsState(stateName: string): tasks.EcsRunTask {
    const heartbeat = this.props.heartbeat ?? Duration.minutes(5);
    const container = this.taskDefinition.defaultContainer;
    if (!container) throw new Error('the task definition has no container');
    const state = new tasks.EcsRunTask(this, stateName, {
      stateName,
      integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
      cluster: this.cluster,
      taskDefinition: this.taskDefinition,
      launchTarget: new tasks.EcsFargateLaunchTarget({ platformVersion: ecs.FargatePlatformVersion.LATEST }),
      subnets: this.subnets,
      securityGroups: [this.taskSecurityGroup],
      assignPublicIp: false,
      propagatedTagSource: ecs.PropagatedTagSource.TASK_DEFINITION,
      containerOverrides: [
        {
          containerDefinition: container,
          environment: [
            { name: 'TASK_TOKEN', value: sfn.JsonPath.taskToken },
            // The iteration's input is exactly { mode, request, database }.
            { name: 'TASK_INPUT', value: sfn.JsonPath.jsonToString(sfn.JsonPath.entirePayload) },
          ],
        },
      ],
      heartbeatTimeout: sfn.Timeout.duration(heartbeat),
      taskTimeout: sfn.Timeout.duration(this.props.taskTimeout ?? Duration.hours(24)),
    });
    state.addRetry({
      errors: TRANSIENT_ERRORS,
      interval: Duration.seconds(30),
      maxAttempts: 3,
      backoffRate: 2,
      maxDelay: Duration.minutes(5),
      jitterStrategy: sfn.JitterType.FULL,
    });
    return state;
  }

  /** A failed DatabaseResult built from the caught error, for when no Lambda can (or should) build one. */
  private failedResult(stateName: string): sfn.Pass {
    return new sfn.Pass(this, stateName, {
      stateName,
      parameters: {
        name: sfn.JsonPath.stringAt('$.database.name'),
        method: sfn.JsonPath.stringAt('$.database.method'),
        status: 'failed',
        tables: 0,
        rows: 0,
        bytes: 0,
        durationMs: 0,
        lagBytes: 0,
        message: sfn.JsonPath.jsonToString(sfn.JsonPath.objectAt('$.error')),
        error: sfn.JsonPath.stringAt('$.error.Error'),
      },
    });
  }

  private mapOverDatabases(stateName: string, mode: 'migrate' | 'cutover', itemsPath: string): sfn.Map {
    const concurrency = this.props.databaseConcurrency;
    return new sfn.Map(this, stateName, {
      stateName,
      itemsPath,
      itemSelector: {
        mode,
        request: sfn.JsonPath.objectAt('$.request'),
        database: sfn.JsonPath.objectAt('$$.Map.Item.Value'),
      },
      ...(concurrency !== undefined
        ? { maxConcurrency: concurrency }
        : { maxConcurrencyPath: '$.request.maxConcurrency' }),
      resultPath: '$.databases',
    });
  }

  private definition(fn: Readonly<Record<FunctionName, lambda.IFunction>>): sfn.IChainable {
    const S = STATE_NAMES;
    const request = sfn.JsonPath.objectAt('$.request');
    const databases = sfn.JsonPath.listAt('$.databases');

    const resolve = new tasks.LambdaInvoke(this, S.resolveRequest, {
      stateName: S.resolveRequest,
      lambdaFunction: fn.resolve,
      // No payload: the function receives the raw execution input.
      payloadResponseOnly: true,
      resultPath: '$.request',
      taskTimeout: sfn.Timeout.duration(this.functionTimeout.plus(Duration.seconds(30))),
    });
    const initialize = new sfn.Pass(this, S.initialize, {
      stateName: S.initialize,
      parameters: {
        request,
        checks: [],
        plan: { blocked: false, blockers: [], databases: [], checks: [] },
        roles: [],
        databases: [],
      },
    });

    // check / migrate
    const preChecks = new sfn.Parallel(this, S.preChecks, { stateName: S.preChecks, resultPath: '$.checks' });
    for (const id of CHECK_IDS) {
      preChecks.branch(this.lambdaState(preCheckStateName(id), fn.precheck, { check: id, request }, '$'));
    }
    const plan = this.lambdaState(S.plan, fn.plan, { request, checks: sfn.JsonPath.listAt('$.checks') }, '$.plan');
    const roles = this.lambdaState(S.roles, fn.roles, { request, plan: sfn.JsonPath.objectAt('$.plan') }, '$.roles');

    const migrateDatabases = this.mapOverDatabases(S.migrateDatabases, 'migrate', '$.plan.databases');
    const cleanup = this.lambdaState(
      S.cleanupDatabase,
      fn.cleanup,
      {
        request,
        database: sfn.JsonPath.objectAt('$.database'),
        error: sfn.JsonPath.objectAt('$.error'),
      },
      '$',
    );
    // If even the cleanup fails, the database is still reported as failed and the other databases go on.
    cleanup.addCatch(this.failedResult(S.cleanupFailed), { errors: ['States.ALL'], resultPath: '$.cleanupError' });
    const migrateDatabase = this.ecsState(S.migrateDatabase);
    migrateDatabase.addCatch(cleanup, { errors: ['States.ALL'], resultPath: '$.error' });
    migrateDatabases.itemProcessor(migrateDatabase);

    // "Any database replicating?" without a JSONPath filter: an empty filter result is an error in the local
    // interpreter, and Choice rules cannot filter. The compact JSON of the results is matched instead.
    const summarizeDatabases = new sfn.Pass(this, S.summarizeDatabases, {
      stateName: S.summarizeDatabases,
      parameters: { databasesJson: sfn.JsonPath.jsonToString(sfn.JsonPath.listAt('$.databases')) },
      resultPath: '$.summary',
    });
    const replicationStatus = this.lambdaState(S.replicationStatus, fn.status, { request, databases }, '$.replication');
    const applyReplicationStatus = new sfn.Pass(this, S.applyReplicationStatus, {
      stateName: S.applyReplicationStatus,
      inputPath: '$.replication.databases',
      resultPath: '$.databases',
    });
    const waitForSync = new sfn.Wait(this, S.waitForSync, {
      stateName: S.waitForSync,
      time: sfn.WaitTime.duration(this.props.replicationPollInterval ?? Duration.minutes(5)),
    });

    const cutoverDatabases = this.mapOverDatabases(S.cutoverDatabases, 'cutover', '$.databases');
    const cutoverDatabase = this.ecsState(S.cutoverDatabase);
    // A failed cutover must not undo the replication: the database is reported failed, the cutover can be re-run.
    cutoverDatabase.addCatch(this.failedResult(S.cutoverFailed), { errors: ['States.ALL'], resultPath: '$.error' });
    const keepDatabase = new sfn.Pass(this, S.keepDatabase, { stateName: S.keepDatabase, outputPath: '$.database' });
    cutoverDatabases.itemProcessor(
      new sfn.Choice(this, S.routeCutoverDatabase, { stateName: S.routeCutoverDatabase })
        .when(
          sfn.Condition.and(
            sfn.Condition.stringEquals('$.database.method', 'replication'),
            sfn.Condition.or(
              // Not(IsPresent) rather than IsPresent: false, which the local interpreter never matches.
              sfn.Condition.not(sfn.Condition.isPresent('$.database.status')),
              sfn.Condition.stringEquals('$.database.status', 'replicating'),
            ),
          ),
          cutoverDatabase,
        )
        .otherwise(keepDatabase),
    );

    const verify = this.lambdaState(S.verify, fn.verify, { request, databases }, '$.databases');
    const discover = this.lambdaState(S.discover, fn.discover, { request }, '$.discovered');
    const useDiscovered = new sfn.Pass(this, S.useDiscovered, {
      stateName: S.useDiscovered,
      inputPath: '$.discovered.databases',
      resultPath: '$.databases',
    });
    const abort = this.lambdaState(S.abort, fn.abort, { request }, '$.databases');

    const report = this.lambdaState(
      S.report,
      fn.report,
      {
        action: sfn.JsonPath.stringAt('$.request.action'),
        request,
        checks: sfn.JsonPath.listAt('$.checks'),
        plan: sfn.JsonPath.objectAt('$.plan'),
        roles: sfn.JsonPath.listAt('$.roles'),
        databases,
        startedAt: sfn.JsonPath.stringAt('$$.Execution.StartTime'),
      },
      '$.result',
    );
    const succeeded = new sfn.Succeed(this, S.succeeded, { stateName: S.succeeded, outputPath: '$.result.report' });
    const runFailed = new sfn.Fail(this, S.runFailed, {
      stateName: S.runFailed,
      error: RUN_FAILED_ERROR,
      // The Report Lambda serializes the cause: States.JsonToString is mis-escaped by the local interpreter.
      causePath: '$.result.cause',
    });
    const unknownAction = new sfn.Fail(this, S.unknownAction, {
      stateName: S.unknownAction,
      error: ERROR_NAMES.badInput,
      cause: 'unknown action (expected check, migrate, status, cutover or abort)',
    });

    const action = (name: string) => sfn.Condition.stringEquals('$.request.action', name);

    report.next(
      new sfn.Choice(this, S.routeReport, { stateName: S.routeReport })
        .when(sfn.Condition.booleanEquals('$.result.report.ok', true), succeeded)
        .otherwise(runFailed),
    );
    verify.next(report);
    abort.next(report);

    cutoverDatabases.next(
      new sfn.Choice(this, S.routeAfterCutover, { stateName: S.routeAfterCutover })
        .when(action('cutover'), report)
        .otherwise(verify),
    );
    const routeCutover = new sfn.Choice(this, S.routeCutover, { stateName: S.routeCutover })
      .when(sfn.Condition.booleanEquals('$.request.cutover', true), cutoverDatabases)
      .otherwise(verify);

    replicationStatus
      .next(applyReplicationStatus)
      .next(
        new sfn.Choice(this, S.routeSync, { stateName: S.routeSync })
          .when(action('status'), report)
          .when(sfn.Condition.booleanEquals('$.replication.allInSync', true), routeCutover)
          .otherwise(waitForSync.next(replicationStatus)),
      );
    migrateDatabases
      .next(summarizeDatabases)
      .next(
        new sfn.Choice(this, S.routeReplicating, { stateName: S.routeReplicating })
          .when(sfn.Condition.stringMatches('$.summary.databasesJson', '*"status":"replicating"*'), replicationStatus)
          .otherwise(routeCutover),
      );
    roles.next(migrateDatabases);
    preChecks
      .next(plan)
      .next(
        new sfn.Choice(this, S.routePlan, { stateName: S.routePlan })
          .when(sfn.Condition.or(sfn.Condition.booleanEquals('$.plan.blocked', true), action('check')), report)
          .otherwise(
            new sfn.Choice(this, S.routeRoles, { stateName: S.routeRoles })
              .when(sfn.Condition.booleanEquals('$.request.roles', false), migrateDatabases)
              .otherwise(roles),
          ),
      );
    discover
      .next(useDiscovered)
      .next(
        new sfn.Choice(this, S.routeDiscovered, { stateName: S.routeDiscovered })
          .when(action('status'), replicationStatus)
          .otherwise(cutoverDatabases),
      );

    return resolve.next(initialize).next(
      new sfn.Choice(this, S.routeAction, { stateName: S.routeAction })
        .when(sfn.Condition.or(action('check'), action('migrate')), preChecks)
        .when(sfn.Condition.or(action('status'), action('cutover')), discover)
        .when(action('abort'), abort)
        .otherwise(unknownAction),
    );
  }

  /** Findings cdk-nag reports on what this construct creates, each with the reason it stands. */
  private acknowledgeFindings(): void {
    const patterns = (this.props.allowedSecretArns ?? []).filter((arn) => /[*?]/.test(arn));
    if (patterns.length > 0) {
      Validations.of(this).acknowledge(
        ...patterns.map((arn) => ({
          id: `AwsSolutions-IAM5[Resource::${arn}]`,
          reason:
            'allowedSecretArns: the deployer chose this secret ARN pattern for request-supplied secrets (read only).',
        })),
      );
    }
    const stack = Stack.of(this);
    const logicalId = (construct: Construct): string => {
      const child = construct.node.defaultChild;
      if (!(child instanceof CfnElement)) throw new Error(`${construct.node.path} has no CloudFormation resource`);
      return stack.getLogicalId(child);
    };
    for (const fn of Object.values(this.functions)) {
      Validations.of(fn).acknowledge(
        {
          id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
          reason: 'The AWS managed basic execution policy only lets the function write its own logs.',
        },
        {
          id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
          reason: 'The AWS managed VPC access policy only manages the ENIs a function in a VPC needs.',
        },
        {
          id: 'AwsSolutions-IAM5[Resource::*]',
          reason:
            'X-Ray PutTraceSegments / PutTelemetryRecords support no resource-level permissions (active tracing).',
        },
        {
          id: 'AwsSolutions-L1',
          reason:
            'Node.js 22 is the runtime the project targets and tests (the task image runs node:22 too); both move together.',
        },
      );
    }
    Validations.of(this.taskDefinition).acknowledge(
      {
        id: 'AwsSolutions-ECS2',
        reason:
          'The container environment holds only non-secret settings (sslmode, log level, plain-URI switch); credentials come from Secrets Manager at run time.',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'The execution role needs ecr:GetAuthorizationToken, which supports no resource-level permissions.',
      },
    );
    const taskDefinitionId = logicalId(this.taskDefinition);
    // How cdk-nag renders the task definition family ARN with any revision (`…:task-definition/family:*`).
    const part = (index: number) => `{"Fn::Select":[${index},{"Fn::Split":[":",{"Ref":"${taskDefinitionId}"}]}]}`;
    const family = (index: number) => `{"Fn::Select":[${index},{"Fn::Split":["/",${part(5)}]}]}`;
    Validations.of(this.stateMachine).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'X-Ray tracing and CloudWatch Logs delivery (logging ALL) support no resource-level permissions.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::arn:${part(1)}:${part(2)}:${part(3)}:${part(4)}:${family(0)}/${family(1)}:*]`,
        reason: 'ecs:RunTask on every revision of this task definition family only (how RunTask tasks are granted).',
      },
      ...Object.values(this.functions).map((fn) => ({
        id: `AwsSolutions-IAM5[Resource::<${logicalId(fn)}.Arn>:*]`,
        reason: 'lambda:InvokeFunction on the versions and aliases of this one function only.',
      })),
    );
  }
}
