/**
 * The AWS resources of the workflow, each made by one function: the security groups, the Lambda functions (one per
 * handler module), the Fargate task definition, and the secret grants. The construct composes them.
 */
import { ArnFormat, type Duration, IgnoreMode, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import type { FunctionName } from './state-names.js';
import { LAMBDA_HANDLER, lambdaCode, TASK_DOCKERFILE, taskImageContext, taskImageExclude } from './workflow-assets.js';

/**
 * The PostgreSQL client tools majors installed side by side in the task image (tasks/Dockerfile `ARG PG_MAJORS`);
 * the task uses the target's major, or the nearest (core/pgtools-locate.ts `choosePgTools`).
 */
export const TASK_IMAGE_PG_MAJORS: readonly number[] = [14, 15, 16, 17, 18];

/** The newest client tools major in the task image: the newest source it can dump. */
export const TASK_IMAGE_PG_MAJOR = Math.max(...TASK_IMAGE_PG_MAJORS);

/** The task's container name (ECS container overrides refer to it). */
export const TASK_CONTAINER_NAME = 'pg-migrate';

/** Construct ids of the functions (stable: they name the logical ids of the functions). */
export const FUNCTION_IDS: Readonly<Record<FunctionName, string>> = {
  resolve: 'ResolveFunction',
  precheck: 'PreCheckFunction',
  plan: 'PlanFunction',
  roles: 'RolesFunction',
  cleanup: 'CleanupFunction',
  status: 'StatusFunction',
  discover: 'DiscoverFunction',
  abort: 'AbortFunction',
  report: 'ReportFunction',
};

/** Functions that only parse or compute and never connect to a server: no secret access. */
export const PURE_FUNCTIONS: ReadonlySet<FunctionName> = new Set(['resolve', 'plan', 'report']);

/** Prefix of every object the workflow writes to the report bucket (core/report-store.ts). */
export const REPORT_PREFIX = 'runs/';

/** The report bucket: S3-managed encryption, TLS only, no public access, objects expire after `retention`. */
export function createReportBucket(scope: Construct, retention: Duration): s3.Bucket {
  return new s3.Bucket(scope, 'ReportBucket', {
    encryption: s3.BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    lifecycleRules: [{ id: 'ExpireRuns', prefix: REPORT_PREFIX, expiration: retention }],
    // Reports are audit records: deleting the stack leaves them until they expire.
    removalPolicy: RemovalPolicy.RETAIN,
  });
}

/** The functions that write to the report store, and those that also read it. */
export const REPORT_WRITERS: ReadonlySet<FunctionName> = new Set(['resolve', 'precheck', 'report']);
export const REPORT_READERS: ReadonlySet<FunctionName> = new Set(['report']);

/** Lets `grantee` get the workflow's objects in the report bucket (full reports): `s3:GetObject` on `runs/*`. */
export function grantReportReads(bucket: s3.IBucket, grantee: iam.IGrantable): void {
  iam.Grant.addToPrincipal({
    grantee,
    actions: ['s3:GetObject'],
    resourceArns: [bucket.arnForObjects(`${REPORT_PREFIX}*`)],
  });
  bucket.encryptionKey?.grantDecrypt(grantee);
}

/**
 * Lets `grantee` put (and, with `read`, get) the workflow's objects in the report bucket: `s3:PutObject` /
 * `s3:GetObject` on `runs/*` only (no list, no delete), and the bucket's KMS key when it has one.
 */
export function grantReports(bucket: s3.IBucket, grantee: iam.IGrantable, read: boolean): void {
  const actions = read ? ['s3:PutObject', 's3:GetObject'] : ['s3:PutObject'];
  iam.Grant.addToPrincipal({ grantee, actions, resourceArns: [bucket.arnForObjects(`${REPORT_PREFIX}*`)] });
  if (bucket.encryptionKey) {
    if (read) bucket.encryptionKey.grantEncryptDecrypt(grantee);
    else bucket.encryptionKey.grantEncrypt(grantee);
  }
}

/** The secrets a function or the task may read. */
export interface SecretAccess {
  readonly sourceSecret?: secretsmanager.ISecret;
  readonly targetSecret?: secretsmanager.ISecret;
  readonly allowedSecretArns?: readonly string[];
  /** Customer-managed keys of the secrets (kms:Decrypt through Secrets Manager). */
  readonly kmsKeys?: readonly kms.IKey[];
}

/**
 * The ARNs a given secret may have. A partial ARN: itself and `<partial>-??????`. A "complete" one too: a name that
 * happens to end in `-` and six letters or digits (`pg-migrate/prod-source`) cannot be told from a complete ARN, so
 * `<arn>-??????` is granted beside it (Secrets Manager's suffix is exactly `-` and six characters).
 */
export function secretArnForms(secret: secretsmanager.ISecret): string[] {
  const arn = secret.secretFullArn ?? secret.secretArn;
  return [arn, `${arn}-??????`];
}

/**
 * The ARN patterns of every secret a request may name: the given secrets (a secret imported by a partial ARN as
 * the partial ARN and `<partial>-??????`, the form of its complete ARN) and the allowed patterns.
 */
export function allowedSecretPatterns(access: SecretAccess): string[] {
  const ofSecret = (secret: secretsmanager.ISecret | undefined) => (secret === undefined ? [] : secretArnForms(secret));
  return [...ofSecret(access.sourceSecret), ...ofSecret(access.targetSecret), ...(access.allowedSecretArns ?? [])];
}

/** Secret read access for a function or the task role: the given secrets and the allowed patterns. */
export function grantSecrets(grantee: iam.IGrantable, access: SecretAccess): void {
  const resources = allowedSecretPatterns(access);
  if (resources.length > 0) {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
        resources,
      }),
    );
  }
  for (const key of access.kmsKeys ?? []) {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['kms:Decrypt'],
        resources: [key.keyArn],
        conditions: {
          StringEquals: { 'kms:ViaService': `secretsmanager.${keyRegion(key)}.amazonaws.com` },
        },
      }),
    );
  }
}

/**
 * Lets `grantee` complete a secret RDS manages (username and password only) with its instance's or cluster's
 * endpoint (lambdas/shared/rds.ts): `rds:DescribeDBInstances` on the DB instances and `rds:DescribeDBClusters` on
 * the DB clusters of this stack's account and region (a request may name any of them; describing reveals endpoints,
 * never data or credentials). `secretsmanager:DescribeSecret` (the secret's `aws:rds:primaryDB…Arn` tag) comes with
 * {@link grantSecrets}, on the allowed secrets only.
 */
export function grantRdsDescribe(scope: Construct, grantee: iam.IGrantable): void {
  const stack = Stack.of(scope);
  const arn = (resource: 'db' | 'cluster') =>
    stack.formatArn({ service: 'rds', resource, resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME });
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions: ['rds:DescribeDBInstances'], resources: [arn('db')] }),
  );
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions: ['rds:DescribeDBClusters'], resources: [arn('cluster')] }),
  );
}

/** The region of a key: from its ARN when literal (keys and their secrets share it), else the stack's. */
function keyRegion(key: kms.IKey): string {
  const region = Token.isUnresolved(key.keyArn) ? undefined : key.keyArn.split(':')[3];
  return region !== undefined && region !== '' ? region : Stack.of(key).region;
}

/** An egress-only security group (allow it into both PostgreSQL servers' security groups). */
export function createSecurityGroup(
  scope: Construct,
  id: string,
  vpc: ec2.IVpc,
  description: string,
): ec2.SecurityGroup {
  return new ec2.SecurityGroup(scope, id, { vpc, description, allowAllOutbound: true });
}

/** What every function shares. */
export interface FunctionSettings {
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly securityGroup: ec2.ISecurityGroup;
  readonly timeout: Duration;
  readonly environment: Readonly<Record<string, string>>;
  readonly retention: logs.RetentionDays;
}

/** The Lambda function running `lambdas/<name>.ts` (ESM bundle, Node 22, arm64; see workflow-assets.ts), in the VPC. */
export function createFunction(scope: Construct, name: FunctionName, settings: FunctionSettings): lambda.Function {
  const id = FUNCTION_IDS[name];
  return new lambda.Function(scope, id, {
    code: lambdaCode(name),
    handler: LAMBDA_HANDLER,
    runtime: lambda.Runtime.NODEJS_22_X,
    architecture: lambda.Architecture.ARM_64,
    memorySize: 512,
    timeout: settings.timeout,
    tracing: lambda.Tracing.ACTIVE,
    vpc: settings.vpc,
    vpcSubnets: settings.subnets,
    securityGroups: [settings.securityGroup],
    environment: { ...settings.environment, NODE_OPTIONS: '--enable-source-maps' },
    logGroup: new logs.LogGroup(scope, `${id}Logs`, { retention: settings.retention }),
  });
}

/** The task definition's settings. */
export interface TaskSettings {
  readonly cpu: number;
  readonly memoryMiB: number;
  readonly environment: Readonly<Record<string, string>>;
  readonly retention: logs.RetentionDays;
}

/** The Fargate task definition: one container built from tasks/Dockerfile, logging to its own log group. */
export function createTaskDefinition(scope: Construct, settings: TaskSettings): ecs.FargateTaskDefinition {
  const taskDefinition = new ecs.FargateTaskDefinition(scope, 'TaskDefinition', {
    cpu: settings.cpu,
    memoryLimitMiB: settings.memoryMiB,
    runtimePlatform: {
      cpuArchitecture: ecs.CpuArchitecture.X86_64,
      operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
    },
  });
  const context = taskImageContext();
  taskDefinition.addContainer('Container', {
    containerName: TASK_CONTAINER_NAME,
    image: ecs.ContainerImage.fromAsset(context, {
      file: TASK_DOCKERFILE,
      platform: Platform.LINUX_AMD64,
      // The build context is the repository root; the image is built from the task's sources only (an allow-list).
      exclude: taskImageExclude(context),
      ignoreMode: IgnoreMode.DOCKER,
    }),
    logging: ecs.LogDrivers.awsLogs({
      streamPrefix: 'task',
      logGroup: new logs.LogGroup(scope, 'TaskLogs', { retention: settings.retention }),
    }),
    environment: { ...settings.environment },
    essential: true,
  });
  return taskDefinition;
}

/**
 * What the state machine's role needs to run the task (the ECS state is a custom state, so nothing is granted for
 * it automatically): RunTask on this task definition in this cluster, PassRole of its two roles to ECS tasks, and
 * TagResource on the tasks RunTask creates (RunTask propagates the task definition's tags, e.g. the stack's).
 */
export function grantRunTask(grantee: iam.IGrantable, taskDefinition: ecs.TaskDefinition, cluster: ecs.ICluster): void {
  const principal = grantee.grantPrincipal;
  principal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['ecs:RunTask'],
      resources: [taskDefinition.taskDefinitionArn],
      conditions: { ArnEquals: { 'ecs:cluster': cluster.clusterArn } },
    }),
  );
  principal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['iam:PassRole'],
      resources: [
        taskDefinition.taskRole.roleArn,
        ...(taskDefinition.executionRole ? [taskDefinition.executionRole.roleArn] : []),
      ],
      conditions: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
    }),
  );
  principal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['ecs:TagResource'],
      resources: [taskArnPattern(cluster)],
      conditions: { StringEquals: { 'ecs:CreateAction': 'RunTask' } },
    }),
  );
}

/** The ARN of any task in `cluster` (`arn:…:task/<cluster name>/*`): task ids are not known before RunTask. */
export function taskArnPattern(cluster: ecs.ICluster): string {
  return Stack.of(cluster).formatArn({
    service: 'ecs',
    resource: 'task',
    resourceName: `${cluster.clusterName}/*`,
    arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
  });
}
