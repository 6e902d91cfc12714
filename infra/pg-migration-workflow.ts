/**
 * `PgMigrationWorkflow`: the pg-migrate Step Functions workflow (Lambdas for checks and small steps, a Fargate task
 * for the long work), with logging, tracing, metrics, a dashboard, alarms and optional schedules. It composes the props
 * (`workflow-props.ts`), the resources (`workflow-resources.ts`), the state machine definition
 * (`workflow-definition.ts`) and the cdk-nag acknowledgements (`workflow-nag.ts`).
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
import { Duration, Names } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { DATABASE_CONCURRENCY_ENV } from '../core/session-budget.js';
import { TASK_PG_MAJOR_ENV } from '../core/checks/version.js';
import { REPORT_BUCKET_ENV } from '../core/report-store.js';
import { FUNCTION_NAMES, type FunctionName } from './state-names.js';
import { buildWorkflowDefinition } from './workflow-definition.js';
import { ALLOWED_SECRET_ARNS_ENV } from '../core/ref-policy.js';
import { DEFAULT_SSLROOTCERT_ENV } from '../core/tls.js';
import { acknowledgeOperationsFindings, acknowledgeWorkflowFindings } from './workflow-nag.js';
import { createOperationsRole, createStatusChangeRule, grantReadExecutions } from './workflow-operations.js';
import { createDashboard, createReplicationAlarms } from './workflow-monitoring.js';
import { METRICS_ENV, METRICS_NAMESPACE_ENV } from '../core/metrics.js';
import {
  definitionOptions,
  type PgMigrationWorkflowProps,
  validateProps,
  WORKFLOW_DEFAULTS,
} from './workflow-props.js';
import {
  createFunction,
  createReportBucket,
  createSecurityGroup,
  createTaskDefinition,
  grantReportReads,
  grantReports,
  grantRunTask,
  allowedSecretPatterns,
  grantRdsDescribe,
  grantSecrets,
  PURE_FUNCTIONS,
  REPORT_READERS,
  REPORT_WRITERS,
  TASK_CONTAINER_NAME,
  TASK_IMAGE_PG_MAJORS,
} from './workflow-resources.js';

export type { FunctionName } from './state-names.js';
export type {
  DefaultSslMode,
  DefaultSslRootCert,
  PgMigrationSchedule,
  PgMigrationWorkflowProps,
} from './workflow-props.js';
export { TASK_CONTAINER_NAME, TASK_IMAGE_PG_MAJOR, TASK_IMAGE_PG_MAJORS } from './workflow-resources.js';

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
  /** Alarm on replication lag above `replicationLagAlarmBytes` (metric `ReplicationLagBytes`). */
  readonly replicationLagAlarm: cloudwatch.Alarm;
  /** Alarm on a subscription's apply worker seen down (metric `ApplyWorkerUp`). */
  readonly applyWorkerStoppedAlarm: cloudwatch.Alarm;
  /** The CloudWatch dashboard: alarms, executions, and per database the copy, the phase and the replication. */
  readonly dashboard: cloudwatch.Dashboard;
  /** The state machine's log group. */
  readonly logGroup: logs.LogGroup;
  /** The schedules, by id. */
  readonly schedules: Readonly<Record<string, scheduler.Schedule>>;
  /** The Lambda functions. */
  readonly functions: Readonly<Record<FunctionName, lambda.Function>>;
  /** Where full reports go (`runs/<execution name>/report.json`; the execution's output names it). */
  readonly reportBucket: s3.IBucket;
  /** The role `operationsPrincipals` assume to start executions and read executions and reports. */
  readonly operationsRole?: iam.Role;
  /** The EventBridge rule that forwards execution status changes to `statusChangeTopic` / `statusChangeEventBus`. */
  readonly statusChangeRule?: events.Rule;

  constructor(scope: Construct, id: string, props: PgMigrationWorkflowProps) {
    super(scope, id);
    validateProps(props);
    const subnets = props.subnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
    const functionTimeout = props.functionTimeout ?? WORKFLOW_DEFAULTS.functionTimeout;
    const retention = props.logRetention ?? WORKFLOW_DEFAULTS.logRetention;
    const metricsNamespace = props.metricsNamespace ?? WORKFLOW_DEFAULTS.metricsNamespace;
    const secrets = {
      ...(props.sourceSecret ? { sourceSecret: props.sourceSecret } : {}),
      ...(props.targetSecret ? { targetSecret: props.targetSecret } : {}),
      ...(props.allowedSecretArns ? { allowedSecretArns: props.allowedSecretArns } : {}),
      ...(props.secretsKmsKeys ? { kmsKeys: props.secretsKmsKeys } : {}),
    };

    this.functionSecurityGroup = createSecurityGroup(
      this,
      'FunctionSecurityGroup',
      props.vpc,
      'pg-migrate Lambda functions: outbound to PostgreSQL and AWS APIs',
    );
    this.taskSecurityGroup = createSecurityGroup(
      this,
      'TaskSecurityGroup',
      props.vpc,
      'pg-migrate Fargate task: outbound to PostgreSQL and AWS APIs',
    );

    this.reportBucket =
      props.reportBucket ?? createReportBucket(this, props.reportRetention ?? WORKFLOW_DEFAULTS.reportRetention);

    const environment: Record<string, string> = {
      [REPORT_BUCKET_ENV]: this.reportBucket.bucketName,
      POWERTOOLS_SERVICE_NAME: 'pg-migrate',
      POWERTOOLS_LOG_LEVEL: 'INFO',
      PGSSLMODE: props.defaultSslMode ?? WORKFLOW_DEFAULTS.defaultSslMode,
      [DEFAULT_SSLROOTCERT_ENV]: props.defaultSslRootCert ?? WORKFLOW_DEFAULTS.defaultSslRootCert,
      PG_MIGRATE_ALLOW_PLAIN_URIS: props.allowPlainUris === true ? 'true' : 'false',
      // EMF metrics on stdout (lambdas/shared/metrics.ts), in the namespace the dashboard and alarms read.
      [METRICS_ENV]: 'on',
      [METRICS_NAMESPACE_ENV]: metricsNamespace,
    };

    const functions = {} as Record<FunctionName, lambda.Function>;
    for (const name of FUNCTION_NAMES) {
      functions[name] = createFunction(this, name, {
        vpc: props.vpc,
        subnets,
        securityGroup: this.functionSecurityGroup,
        timeout: functionTimeout,
        environment,
        retention,
      });
      if (!PURE_FUNCTIONS.has(name)) {
        grantSecrets(functions[name], secrets);
        grantRdsDescribe(this, functions[name]);
      }
      if (REPORT_WRITERS.has(name)) grantReports(this.reportBucket, functions[name], REPORT_READERS.has(name));
    }
    this.functions = functions;
    // ResolveRequest refuses a secret the stack may not read before anything else sees the request.
    functions.resolve.addEnvironment(ALLOWED_SECRET_ARNS_ENV, allowedSecretPatterns(secrets).join(','));
    // pg_dump runs in the Fargate task, not in the pre-check Lambda: the version check takes the task image's
    // client tools majors from here (tasks/Dockerfile ARG PG_MAJORS).
    functions.precheck.addEnvironment(TASK_PG_MAJOR_ENV, TASK_IMAGE_PG_MAJORS.join(','));
    // The disk-space check reads the target's FreeStorageSpace (RDS / Aurora) from CloudWatch.
    functions.precheck.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['cloudwatch:GetMetricData', 'cloudwatch:GetMetricStatistics'],
        resources: ['*'],
      }),
    );

    this.cluster =
      props.cluster ??
      new ecs.Cluster(this, 'Cluster', {
        vpc: props.vpc,
        containerInsightsV2: ecs.ContainerInsights.ENABLED,
      });
    this.taskDefinition = createTaskDefinition(this, {
      cpu: props.taskCpu ?? WORKFLOW_DEFAULTS.taskCpu,
      memoryMiB: props.taskMemoryMiB ?? WORKFLOW_DEFAULTS.taskMemoryMiB,
      // A fixed Map concurrency replaces the request's in each task's share of the session budget.
      environment:
        props.databaseConcurrency !== undefined
          ? { ...environment, [DATABASE_CONCURRENCY_ENV]: String(props.databaseConcurrency) }
          : environment,
      retention,
    });
    grantSecrets(this.taskDefinition.taskRole, secrets);
    grantRdsDescribe(this, this.taskDefinition.taskRole);
    // The task reads its run's request and writes its full result.
    grantReports(this.reportBucket, this.taskDefinition.taskRole, true);

    const definition = buildWorkflowDefinition(
      this,
      {
        functions,
        task: {
          clusterArn: this.cluster.clusterArn,
          taskDefinitionArn: this.taskDefinition.taskDefinitionArn,
          containerName: TASK_CONTAINER_NAME,
          subnetIds: props.vpc.selectSubnets(subnets).subnetIds,
          securityGroupIds: [this.taskSecurityGroup.securityGroupId],
        },
      },
      definitionOptions(props),
    );

    // Under /aws/vendedlogs/states/: CloudWatch Logs' resource policy for Step Functions log delivery covers that
    // prefix without growing with every state machine.
    this.logGroup = new logs.LogGroup(this, 'StateMachineLogs', {
      logGroupName: `/aws/vendedlogs/states/${Names.uniqueResourceName(this, { maxLength: 400 })}`,
      retention,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      ...(props.stateMachineName !== undefined ? { stateMachineName: props.stateMachineName } : {}),
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      // Execution data (inputs, outputs) is logged unless plain URIs are allowed: then inputs may hold passwords.
      logs: {
        destination: this.logGroup,
        level: sfn.LogLevel.ALL,
        includeExecutionData: props.allowPlainUris !== true,
      },
      tracingEnabled: true,
    });
    grantRunTask(this.stateMachine, this.taskDefinition, this.cluster);
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
    const monitoring = {
      stateMachine: this.stateMachine,
      namespace: metricsNamespace,
      replicationLagAlarmBytes: props.replicationLagAlarmBytes ?? WORKFLOW_DEFAULTS.replicationLagAlarmBytes,
      ...(props.alarmTopic ? { alarmTopic: props.alarmTopic } : {}),
      otherAlarms: [this.failedExecutionsAlarm],
      ...(props.dashboardName !== undefined ? { dashboardName: props.dashboardName } : {}),
    };
    const { replicationLagAlarm, applyWorkerStoppedAlarm } = createReplicationAlarms(this, monitoring);
    this.replicationLagAlarm = replicationLagAlarm;
    this.applyWorkerStoppedAlarm = applyWorkerStoppedAlarm;
    this.dashboard = createDashboard(this, monitoring, [
      this.failedExecutionsAlarm,
      replicationLagAlarm,
      applyWorkerStoppedAlarm,
    ]);

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

    if (props.operationsPrincipals !== undefined && props.operationsPrincipals.length > 0) {
      this.operationsRole = createOperationsRole(this, {
        principals: props.operationsPrincipals,
        ...(props.operationsRoleName !== undefined ? { roleName: props.operationsRoleName } : {}),
        grantStart: (grantee) => this.grantStartExecution(grantee),
        grantRead: (grantee) => this.grantRead(grantee),
      });
      acknowledgeOperationsFindings(this.operationsRole, this.stateMachine);
    }
    if (props.statusChangeTopic !== undefined || props.statusChangeEventBus !== undefined) {
      this.statusChangeRule = createStatusChangeRule(this, this.stateMachine, {
        ...(props.statusChangeTopic !== undefined ? { topic: props.statusChangeTopic } : {}),
        ...(props.statusChangeEventBus !== undefined ? { eventBus: props.statusChangeEventBus } : {}),
      });
    }

    acknowledgeWorkflowFindings({
      workflow: this,
      functions: Object.values(functions),
      precheckFunction: functions.precheck,
      taskDefinition: this.taskDefinition,
      cluster: this.cluster,
      stateMachine: this.stateMachine,
      allowedSecretArns: allowedSecretPatterns(secrets),
      reportBucket: this.reportBucket,
      reportBucketCreated: props.reportBucket === undefined,
    });
  }

  /** Lets `grantee` start executions (the console user's role, a CI role, the `pg-migrate aws` CLI). */
  grantStartExecution(grantee: iam.IGrantable): iam.Grant {
    return this.stateMachine.grantStartExecution(grantee);
  }

  /**
   * Lets `grantee` read the state machine and its executions (status, history, output), and the full reports they
   * name in the report bucket (`s3:GetObject` on `runs/*`): what `pg-migrate aws watch` and the console show. For a
   * principal of another account, use `operationsPrincipals`.
   */
  grantRead(grantee: iam.IGrantable): iam.Grant {
    grantReportReads(this.reportBucket, grantee);
    return grantReadExecutions(this.stateMachine, grantee);
  }
}
