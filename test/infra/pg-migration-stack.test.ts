/**
 * PgMigrationStack as deployed: the template assertions that matter (pre-checks, the Fargate task with its token
 * and heartbeat, the Map's Catch, Lambdas in the VPC, scoped IAM, logging, tracing, alarm, schedules, cdk-nag).
 * One synth for the whole file (bundling skipped).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import { ScheduleExpression } from 'aws-cdk-lib/aws-scheduler';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import type { CfnStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../infra/app.js';
import { PgMigrationStack } from '../../infra/pg-migration-stack.js';
import { PgMigrationWorkflow } from '../../infra/pg-migration-workflow.js';
import { FUNCTION_NAMES, STATE_NAMES as S } from '../../infra/state-names.js';
import { FUNCTION_IDS } from '../../infra/workflow-resources.js';
import {
  ASL_ARTEFACT_PATH,
  type AslDefinition,
  type CfnTemplate,
  definitionFromTemplate,
  PLACEHOLDER_TASK,
  placeholderFunctionArn,
} from '../../scripts/build-asl.js';
import { ALLOWED_SECRET_ARNS_ENV } from '../../core/ref-policy.js';
import { logicalIdIn } from '../support/template.js';

const ACCOUNT = '123456789012';
const SOURCE_ARN = `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:pg-migrate/source-AbCdEf`;
const TARGET_ARN = `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:pg-migrate/target-GhIjKl`;
const ALLOWED = `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:pg-migrate/requests/*`;
const NIGHTLY = { action: 'check', source: { secretArn: SOURCE_ARN }, target: { secretArn: TARGET_ARN } };

type State = Record<string, unknown>;
type Resource = { Type: string; Properties: Record<string, unknown>; Metadata?: Record<string, unknown> };

let stack: PgMigrationStack;
let template: Template;
let json: CfnTemplate & { Resources: Record<string, Resource> };
let asl: AslDefinition;

function statesOf(definition: { States: Record<string, State> }): Map<string, State> {
  const out = new Map<string, State>();
  const visit = (states: Record<string, State>) => {
    for (const [name, state] of Object.entries(states)) {
      out.set(name, state);
      for (const branch of (state.Branches as AslDefinition[] | undefined) ?? []) visit(branch.States);
      const processor = state.ItemProcessor as AslDefinition | undefined;
      if (processor) visit(processor.States);
    }
  };
  visit(definition.States);
  return out;
}

function state(name: string): State {
  const found = statesOf(asl).get(name);
  if (!found) throw new Error(`no state ${name}`);
  return found;
}

/** Every statement of the inline policies attached to a role (by the role's logical id). */
function statementsOfRole(roleId: string): Record<string, unknown>[] {
  return Object.values(json.Resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy')
    .filter((r) => JSON.stringify(r.Properties.Roles).includes(`"${roleId}"`))
    .flatMap((r) => (r.Properties.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement);
}

function actionsOf(statement: Record<string, unknown>): string[] {
  const action = statement.Action;
  return Array.isArray(action) ? (action as string[]) : [action as string];
}

beforeAll(() => {
  const app = new App({
    context: {
      'aws:cdk:bundling-stacks': [],
      createVpc: 'true',
      sourceSecretArn: SOURCE_ARN,
      targetSecretArn: TARGET_ARN,
      allowedSecretArns: ALLOWED,
      acknowledgeWildcardSecretArns: 'true',
      alarmEmail: 'dba@example.com',
      nightlyCheckInput: JSON.stringify(NIGHTLY),
    },
  });
  const created = createApp(app);
  stack = created.stack;
  const operator = new iam.Role(stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() });
  stack.workflow.grantStartExecution(operator);
  // Synthesis runs cdk-nag: an unacknowledged finding throws here.
  const assembly = app.synth();
  json = assembly.getStackByName(stack.stackName).template as typeof json;
  template = Template.fromJSON(json);
  asl = definitionFromTemplate(json);
}, 120_000);

describe('the state machine definition', () => {
  it('is the graph of the ASL artefact the CLI runs, up to the ARNs of what its Task states call', () => {
    const functionArns = new Map(
      FUNCTION_NAMES.map((name) => [
        `arn:aws:lambda:us-east-1:123456789012:function:${logicalIdIn(json, 'AWS::Lambda::Function', FUNCTION_IDS[name])}`,
        placeholderFunctionArn(name),
      ]),
    );
    const placeholders: Record<string, unknown> = {
      Cluster: PLACEHOLDER_TASK.clusterArn,
      TaskDefinition: PLACEHOLDER_TASK.taskDefinitionArn,
      Subnets: PLACEHOLDER_TASK.subnetIds,
      SecurityGroups: PLACEHOLDER_TASK.securityGroupIds,
    };
    const deployed: unknown = JSON.parse(JSON.stringify(asl), (key, value: unknown) => {
      if (key === 'Resource' && typeof value === 'string') return functionArns.get(value) ?? value;
      return key in placeholders ? placeholders[key] : value;
    });
    expect(deployed).toEqual(JSON.parse(readFileSync(ASL_ARTEFACT_PATH, 'utf8')));
  });

  it('runs the pre-checks as one server-level Lambda, then a Map over the databases within the session budget, then Plan', () => {
    const precheckFunction = logicalIdIn(json, 'AWS::Lambda::Function', 'PreCheckFunction');
    const resource = `arn:aws:lambda:us-east-1:123456789012:function:${precheckFunction}`;
    expect(state(S.serverChecks)).toMatchObject({
      Type: 'Task',
      Resource: resource,
      Parameters: { phase: 'server', 'request.$': '$.request' },
      ResultPath: '$.serverChecks',
      Next: S.databaseChecks,
    });
    expect(state(S.databaseChecks)).toMatchObject({
      Type: 'Map',
      ItemsPath: '$.serverChecks.databases',
      MaxConcurrencyPath: '$.serverChecks.concurrency',
      ItemSelector: {
        phase: 'database',
        'request.$': '$.request',
        'database.$': '$$.Map.Item.Value',
        'shared.$': '$.serverChecks.shared',
      },
      ResultPath: '$.serverChecks.databaseResults',
      Next: S.plan,
    });
    expect(state(S.databaseCheck)).toMatchObject({
      Type: 'Task',
      Resource: resource,
      Parameters: { phase: 'database', 'request.$': '$.request', 'database.$': '$.database', 'shared.$': '$.shared' },
      End: true,
    });
    expect(state(S.plan)).toMatchObject({
      Parameters: {
        'serverChecks.$': '$.serverChecks.results',
        'databaseChecks.$': '$.serverChecks.databaseResults',
      },
      ResultPath: '$.plan',
      Next: S.forgetCheckFacts,
    });
    // The pre-checks' facts leave the state once the plan holds the merged results.
    expect(state(S.forgetCheckFacts)).toMatchObject({ Type: 'Pass', Result: {}, ResultPath: '$.serverChecks' });
  });

  it('runs each database as a Fargate task that waits for its task token, with HeartbeatSeconds and TimeoutSeconds', () => {
    for (const name of [S.migrateDatabase, S.cutoverDatabase]) {
      const task = state(name);
      expect(task).toMatchObject({
        Type: 'Task',
        Resource: 'arn:aws:states:::ecs:runTask.waitForTaskToken',
        HeartbeatSeconds: 300,
        TimeoutSeconds: 86_400,
        Parameters: {
          LaunchType: 'FARGATE',
          NetworkConfiguration: { AwsvpcConfiguration: { SecurityGroups: [expect.any(String)] } },
          Overrides: {
            ContainerOverrides: [
              {
                Name: 'pg-migrate',
                Environment: [
                  { Name: 'TASK_TOKEN', 'Value.$': '$$.Task.Token' },
                  { Name: 'TASK_INPUT', 'Value.$': 'States.JsonToString($.task)' },
                ],
              },
            ],
          },
        },
      });
      const network = (task.Parameters as { NetworkConfiguration: { AwsvpcConfiguration: Record<string, unknown> } })
        .NetworkConfiguration.AwsvpcConfiguration;
      expect(network.AssignPublicIp ?? 'DISABLED').toBe('DISABLED');
    }
  });

  it('retries the task on the classified transient error only, with backoff', () => {
    for (const name of [S.migrateDatabase, S.cutoverDatabase]) {
      const retry = state(name).Retry as Record<string, unknown>[];
      expect(retry).toHaveLength(1);
      expect(retry[0]).toMatchObject({ ErrorEquals: ['PgMigrate.Transient'], BackoffRate: 2 });
      expect(retry[0]?.IntervalSeconds).toBeGreaterThan(0);
    }
  });

  it('maps over the planned databases with the request concurrency and catches every failure per database', () => {
    const map = state(S.migrateDatabases);
    expect(map).toMatchObject({
      Type: 'Map',
      ItemsPath: '$.plan.databases',
      MaxConcurrencyPath: '$.request.maxConcurrency',
      ItemSelector: { mode: 'migrate', 'request.$': '$.request', 'database.$': '$$.Map.Item.Value' },
      ResultPath: '$.databases',
    });
    expect(state(S.migrateDatabase).Catch).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: S.cleanupDatabase },
    ]);
    expect(state(S.cleanupDatabase).Parameters).toEqual({
      'request.$': '$.request',
      'database.$': '$.database',
      'error.$': '$.error',
    });
    expect(state(S.cutoverDatabase).Catch).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: S.cutoverFailed },
    ]);
  });

  it('ends a run whose report is not ok in a Fail state with the report as cause, and returns the report otherwise', () => {
    expect(state(S.routeReport)).toMatchObject({
      Choices: [
        { Variable: '$.result.report.ok', BooleanEquals: true, Next: S.succeeded },
        { Variable: '$.result.report.error', IsPresent: true, Next: S.runErrored },
      ],
      Default: S.runFailed,
    });
    expect(state(S.succeeded)).toEqual({ Type: 'Succeed', OutputPath: '$.result.report' });
    expect(state(S.runFailed)).toMatchObject({
      Type: 'Fail',
      Error: 'PgMigrate.RunFailed',
      CausePath: '$.result.cause',
    });
  });

  it('retries Lambda throttling and service errors with backoff and jitter on every Lambda state', () => {
    const lambdaStates = [...statesOf(asl)].filter(([, s]) => String(s.Resource).includes(':lambda:'));
    expect(lambdaStates.length).toBeGreaterThanOrEqual(FUNCTION_NAMES.length);
    for (const [name, lambdaState] of lambdaStates) {
      const retry = (lambdaState.Retry as Record<string, unknown>[]).find((r) =>
        (r.ErrorEquals as string[]).includes('Lambda.TooManyRequestsException'),
      );
      expect(retry, name).toMatchObject({ BackoffRate: 2, JitterStrategy: 'FULL' });
      expect(retry?.ErrorEquals, name).toEqual(
        expect.arrayContaining(['Lambda.ServiceException', 'Lambda.SdkClientException']),
      );
      expect(retry?.MaxAttempts as number, name).toBeGreaterThanOrEqual(6);
    }
  });

  it('catches every error of every Task, Parallel and Map state outside the Maps into the Report', () => {
    const topLevel = Object.entries(asl.States).filter(([, s]) =>
      ['Task', 'Parallel', 'Map'].includes(s.Type as string),
    );
    expect(topLevel.map(([name]) => name).sort()).toEqual(
      [
        S.resolveRequest,
        S.serverChecks,
        S.databaseChecks,
        S.plan,
        S.roles,
        S.migrateDatabases,
        S.replicationStatus,
        S.cutoverDatabases,
        S.discover,
        S.abort,
        S.report,
      ].sort(),
    );
    for (const [name, topState] of topLevel) {
      expect(topState.Catch, name).toEqual([
        {
          ErrorEquals: ['States.ALL'],
          ResultPath: `$.errors.${name}`,
          Next: name === S.report ? S.routeReportFailure : S.report,
        },
      ]);
    }
    // A failed state's own error name ends the run, with the report as the cause.
    expect(state(S.runErrored)).toEqual({
      Type: 'Fail',
      ErrorPath: '$.result.report.error.name',
      CausePath: '$.result.cause',
    });
  });

  it("has no Verify state: verification is the task's", () => {
    expect(statesOf(asl).has('Verify')).toBe(false);
    expect(Object.keys(json.Resources).filter((id) => id.includes('VerifyFunction'))).toEqual([]);
  });

  it('bounds the wait for sync: an expired wait records a PgMigrate.Timeout and goes to the Report', () => {
    expect(state(S.routeSync).Choices).toContainEqual({
      Variable: '$.replication.expired',
      BooleanEquals: true,
      Next: S.syncTimedOut,
    });
    expect(state(S.syncTimedOut)).toMatchObject({
      Type: 'Pass',
      Parameters: { Error: 'PgMigrate.Timeout', 'Cause.$': '$.replication.reason' },
      ResultPath: `$.errors.${S.waitForSync}`,
      Next: S.report,
    });
  });

  it('waits between replication status polls', () => {
    expect(state(S.waitForSync)).toMatchObject({ Type: 'Wait', Seconds: 300, Next: S.replicationStatus });
  });
});

describe('the resources', () => {
  it('puts every Lambda function in private subnets with its own security group, Node 22 and active tracing', () => {
    const functions = Object.entries(json.Resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function');
    expect(functions).toHaveLength(9);
    const functionSg = logicalIdIn(json, 'AWS::EC2::SecurityGroup', 'FunctionSecurityGroup');
    for (const [id, fn] of functions) {
      const props = fn.Properties as {
        VpcConfig?: { SubnetIds: unknown[]; SecurityGroupIds: unknown[] };
        Runtime: string;
        TracingConfig: unknown;
        Environment: { Variables: Record<string, string> };
      };
      expect(props.VpcConfig, id).toBeDefined();
      expect(JSON.stringify(props.VpcConfig?.SubnetIds)).toMatch(/private/i);
      expect(props.VpcConfig?.SecurityGroupIds).toEqual([{ 'Fn::GetAtt': [functionSg, 'GroupId'] }]);
      expect(props.Runtime).toBe('nodejs22.x');
      expect(props.TracingConfig).toEqual({ Mode: 'Active' });
      expect(props.Environment.Variables).toMatchObject({
        PG_MIGRATE_ALLOW_PLAIN_URIS: 'false',
        PGSSLMODE: 'verify-full',
        PG_MIGRATE_SSLROOTCERT: 'rds',
      });
    }
  });

  it("tells the pre-check Lambda the task image's pg_dump major (the version check cannot find pg_dump in a Lambda)", () => {
    const withMajor = Object.values(json.Resources).filter(
      (r) =>
        r.Type === 'AWS::Lambda::Function' &&
        (r.Properties as { Environment?: { Variables?: Record<string, string> } }).Environment?.Variables
          ?.PG_MIGRATE_TASK_PG_MAJOR === '14,15,16,17,18',
    );
    expect(withMajor).toHaveLength(1);
  });

  it('grants secret reads only on the given secrets and the allowed pattern, never to resolve, plan and report', () => {
    const roles = Object.entries(json.Resources)
      .filter(([, r]) => r.Type === 'AWS::IAM::Role')
      .map(([id]) => id);
    // Each given secret also as `<arn>-??????`: a partial ARN cannot be told from a complete one.
    const allowedResources = new Set([SOURCE_ARN, `${SOURCE_ARN}-??????`, TARGET_ARN, `${TARGET_ARN}-??????`, ALLOWED]);
    let readers = 0;
    for (const role of roles) {
      const secretStatements = statementsOfRole(role).filter((s) =>
        actionsOf(s).some((a) => a.startsWith('secretsmanager:')),
      );
      if (secretStatements.length === 0) continue;
      readers += 1;
      expect(role).not.toMatch(/ResolveFunction|PlanFunction|ReportFunction|ExecutionRole|StateMachine/);
      for (const statement of secretStatements) {
        expect(
          actionsOf(statement).every((a) =>
            ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'].includes(a),
          ),
        ).toBe(true);
        const resources = ([] as unknown[]).concat(statement.Resource);
        for (const resource of resources) expect(allowedResources.has(resource as string), String(resource)).toBe(true);
      }
    }
    // 6 connecting functions (precheck, roles, cleanup, status, discover, abort) and the task role.
    expect(readers).toBe(7);
  });

  it('lets the connecting functions and the task describe RDS instances and clusters of this account and region, and nothing else of RDS', () => {
    const roles = Object.entries(json.Resources)
      .filter(([, r]) => r.Type === 'AWS::IAM::Role')
      .map(([id]) => id);
    const arn = (kind: string) => ({
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':rds:',
          { Ref: 'AWS::Region' },
          ':',
          { Ref: 'AWS::AccountId' },
          `:${kind}:*`,
        ],
      ],
    });
    const describers: string[] = [];
    for (const role of roles) {
      const rdsStatements = statementsOfRole(role).filter((s) => actionsOf(s).some((a) => a.startsWith('rds:')));
      if (rdsStatements.length === 0) continue;
      describers.push(role);
      expect(rdsStatements.map((s) => ({ Action: s.Action, Resource: s.Resource, Effect: s.Effect }))).toEqual([
        { Action: 'rds:DescribeDBInstances', Resource: arn('db'), Effect: 'Allow' },
        { Action: 'rds:DescribeDBClusters', Resource: arn('cluster'), Effect: 'Allow' },
      ]);
      // DescribeSecret (the aws:rds:primaryDB…Arn tag) comes with the secret reads, on the allowed secrets only.
      expect(statementsOfRole(role).flatMap(actionsOf)).toContain('secretsmanager:DescribeSecret');
    }
    expect(describers).toHaveLength(7);
    for (const name of ['ResolveFunction', 'PlanFunction', 'ReportFunction'])
      expect(describers.some((role) => role.includes(name))).toBe(false);
    expect(describers.some((role) => role.includes('TaskDefinitionTaskRole'))).toBe(true);
  });

  it('lets the task role read the secrets and answer its task token on this state machine only', () => {
    const taskRole = logicalIdIn(json, 'AWS::IAM::Role', 'TaskDefinitionTaskRole');
    const stateMachine = logicalIdIn(json, 'AWS::StepFunctions::StateMachine', 'StateMachine');
    const statements = statementsOfRole(taskRole);
    const token = statements.find((s) => actionsOf(s).includes('states:SendTaskSuccess'));
    expect(token).toBeDefined();
    expect(actionsOf(token ?? {}).sort()).toEqual([
      'states:SendTaskFailure',
      'states:SendTaskHeartbeat',
      'states:SendTaskSuccess',
    ]);
    expect(token?.Resource).toEqual({ Ref: stateMachine });
    const all = statements.flatMap(actionsOf).sort();
    expect(
      all.filter(
        (a) =>
          !a.startsWith('secretsmanager:') &&
          !a.startsWith('states:SendTask') &&
          !a.startsWith('s3:') &&
          !['rds:DescribeDBInstances', 'rds:DescribeDBClusters'].includes(a),
      ),
    ).toEqual([]);
  });

  it('keeps full reports in a bucket of the stack: encrypted, TLS only, private, expiring, retained', () => {
    const bucket = logicalIdIn(json, 'AWS::S3::Bucket', 'ReportBucket');
    template.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: {
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        LifecycleConfiguration: {
          Rules: [{ Prefix: 'runs/', ExpirationInDays: 90, Status: 'Enabled' }],
        },
      },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucket },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
    // Every function and the task find it through the environment.
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ PG_MIGRATE_REPORT_BUCKET: { Ref: bucket } }) },
    });
  });

  it('lets only the writers put, only the Report and the task read, and only under runs/', () => {
    const s3Actions = (role: string) =>
      statementsOfRole(role)
        .filter((st) => actionsOf(st).some((a) => a.startsWith('s3:')))
        .flatMap((st) => {
          for (const r of ([] as unknown[]).concat(st.Resource))
            expect(JSON.stringify(r)).toMatch(/runs\/\*|ReportBucket/);
          return actionsOf(st);
        });
    const roleOf = (fn: string) => logicalIdIn(json, 'AWS::IAM::Role', `${fn}ServiceRole`);
    expect(s3Actions(roleOf(FUNCTION_IDS.plan))).toEqual([]);
    expect(s3Actions(roleOf(FUNCTION_IDS.roles))).toEqual([]);
    for (const writer of [FUNCTION_IDS.resolve, FUNCTION_IDS.precheck]) {
      const actions = s3Actions(roleOf(writer));
      expect(actions).toEqual(['s3:PutObject']);
    }
    expect(s3Actions(roleOf(FUNCTION_IDS.report)).sort()).toEqual(['s3:GetObject', 's3:PutObject']);
    expect(s3Actions(logicalIdIn(json, 'AWS::IAM::Role', 'TaskDefinitionTaskRole')).sort()).toEqual([
      's3:GetObject',
      's3:PutObject',
    ]);
  });

  it("passes the task references only: TASK_INPUT is the iteration's `task` (mode, run, database name and method)", () => {
    const env = JSON.stringify(state(S.migrateDatabase).Parameters);
    expect(env).toContain('"Value.$":"States.JsonToString($.task)"');
    const selector = state(S.migrateDatabases).ItemSelector as Record<string, unknown>;
    expect(selector.task).toEqual({
      mode: 'migrate',
      'run.$': '$.run.id',
      database: { 'name.$': '$$.Map.Item.Value.name', 'method.$': '$$.Map.Item.Value.method' },
    });
  });

  it('builds the task image from tasks/Dockerfile and runs it with a log group', () => {
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      RequiresCompatibilities: ['FARGATE'],
      Cpu: '2048',
      Memory: '4096',
      ContainerDefinitions: [
        Match.objectLike({
          Name: 'pg-migrate',
          LogConfiguration: Match.objectLike({ LogDriver: 'awslogs' }),
        }),
      ],
    });
    const assembly = (stack.node.root as App).synth();
    const manifest = JSON.parse(readFileSync(join(assembly.directory, `${stack.stackName}.assets.json`), 'utf8')) as {
      dockerImages: Record<string, { source: { directory: string; dockerFile: string; platform: string } }>;
    };
    const images = Object.values(manifest.dockerImages);
    expect(images).toHaveLength(1);
    expect(images[0]?.source).toMatchObject({ dockerFile: 'tasks/Dockerfile', platform: 'linux/amd64' });
    // The build context holds the task's sources and what bundling them needs (tasks/Dockerfile.dockerignore), never
    // a prebuilt dist/, node_modules or cdk.out (test/infra/task-image.test.ts checks it against the bundle's inputs).
    const context = readdirSync(join(assembly.directory, images[0]?.source.directory ?? ''), { recursive: true });
    expect(context.map(String)).toEqual(
      expect.arrayContaining(['tasks/Dockerfile', 'tasks/main.ts', 'package-lock.json', 'scripts/build.mjs']),
    );
    expect(context.map(String).filter((f) => /^(dist|node_modules|cdk\.out|test)(\/|$)/.test(f))).toEqual([]);
  }, 60_000);

  it('lets the state machine run only this task definition in this cluster, pass its roles to ECS and tag the tasks RunTask creates', () => {
    const role = logicalIdIn(json, 'AWS::IAM::Role', 'StateMachineRole');
    const statements = statementsOfRole(role);
    const taskDefinition = logicalIdIn(json, 'AWS::ECS::TaskDefinition', 'TaskDefinition');
    const cluster = logicalIdIn(json, 'AWS::ECS::Cluster', 'Cluster');
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: 'ecs:RunTask',
        Resource: { Ref: taskDefinition },
        Condition: { ArnEquals: { 'ecs:cluster': { 'Fn::GetAtt': [cluster, 'Arn'] } } },
      }),
    );
    const tag = statements.find((st) => actionsOf(st).includes('ecs:TagResource'));
    expect(tag?.Condition).toEqual({ StringEquals: { 'ecs:CreateAction': 'RunTask' } });
    expect(JSON.stringify(tag?.Resource)).toContain(`":ecs:"`);
    expect(JSON.stringify(tag?.Resource)).toContain(`{"Ref":"${cluster}"},"/*"`);
    const passRole = statements.find((st) => actionsOf(st).includes('iam:PassRole'));
    expect(passRole?.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } });
  });

  it('runs the cluster with Container Insights', () => {
    template.hasResourceProperties('AWS::ECS::Cluster', {
      ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }],
    });
  });

  it('logs every execution event to a retained log group and traces with X-Ray', () => {
    const logGroup = logicalIdIn(json, 'AWS::Logs::LogGroup', 'StateMachineLogs');
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      LoggingConfiguration: {
        Level: 'ALL',
        IncludeExecutionData: true,
        Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [logGroup, 'Arn'] } } }],
      },
      TracingConfiguration: { Enabled: true },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    expect((json.Resources[logGroup]?.Properties.LogGroupName as string).startsWith('/aws/vendedlogs/states/')).toBe(
      true,
    );
    for (const [id, r] of Object.entries(json.Resources).filter(([, r]) => r.Type === 'AWS::Logs::LogGroup'))
      expect(r.Properties.RetentionInDays, id).toBeDefined();
  });

  it('alarms on failed executions and notifies the alarm topic', () => {
    const topic = logicalIdIn(json, 'AWS::SNS::Topic', 'AlarmTopic');
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ExecutionsFailed',
      Namespace: 'AWS/States',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [{ Ref: topic }],
    });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'dba@example.com' });
  });

  it('starts a nightly check on an EventBridge schedule with a fixed input', () => {
    const stateMachine = logicalIdIn(json, 'AWS::StepFunctions::StateMachine', 'StateMachine');
    const schedules = Object.values(json.Resources).filter((r) => r.Type === 'AWS::Scheduler::Schedule');
    expect(schedules).toHaveLength(1);
    const props = schedules[0]?.Properties as {
      ScheduleExpression: string;
      State: string;
      Target: { Arn: unknown; Input: string; RoleArn: unknown };
    };
    expect(props.ScheduleExpression).toBe('cron(0 2 * * ? *)');
    expect(props.State).toBe('ENABLED');
    expect(props.Target.Arn).toEqual({ Ref: stateMachine });
    expect(JSON.parse(props.Target.Input)).toEqual(NIGHTLY);
    const roleId = (props.Target.RoleArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    expect(statementsOfRole(roleId)).toEqual([
      expect.objectContaining({ Action: 'states:StartExecution', Resource: { Ref: stateMachine } }),
    ]);
  });

  it('grants StartExecution on this state machine through grantStartExecution()', () => {
    const operator = logicalIdIn(json, 'AWS::IAM::Role', 'Operator');
    const stateMachine = logicalIdIn(json, 'AWS::StepFunctions::StateMachine', 'StateMachine');
    expect(statementsOfRole(operator)).toEqual([
      expect.objectContaining({ Action: 'states:StartExecution', Resource: { Ref: stateMachine } }),
    ]);
  });

  it('creates the VPC with a flow log when no vpcId is given', () => {
    template.resourceCountIs('AWS::EC2::VPC', 1);
    template.resourceCountIs('AWS::EC2::FlowLog', 1);
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('leaves no finding unacknowledged, and every acknowledgement has a reason', () => {
    const report = new AwsSolutionsChecks().validateScope(stack);
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
    const reasons = stack.node
      .findAll()
      .flatMap((c) => c.node.metadata)
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) => Object.values(m.data as Record<string, string>));
    expect(reasons.length).toBeGreaterThan(0);
    for (const reason of reasons) expect(reason.length).toBeGreaterThan(20);
  }, 60_000);

  it('leaves no finding unacknowledged in a stack deployed to a given account and region', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const located = new PgMigrationStack(app, 'Located', {
      env: { account: '210987654321', region: 'eu-central-1' },
      createVpc: true,
    });
    const report = new AwsSolutionsChecks().validateScope(located);
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
  }, 60_000);

  it('fails synth when a finding is not acknowledged', () => {
    const { app, stack: other } = createApp(new App({ context: { 'aws:cdk:bundling-stacks': [], createVpc: 'true' } }));
    new s3.Bucket(other, 'UnencryptedBucket');
    expect(() => app.synth()).toThrow(/AwsSolutions-S1/);
  }, 60_000);
});

describe('the network, an explicit choice', () => {
  const SUBNETS = ['subnet-0a1b2c3d4e5f60001', 'subnet-0a1b2c3d4e5f60002'];
  const stackWith = (context: Record<string, string>) => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [], ...context } });
    const { stack: created } = createApp(app);
    const synthed = app.synth().getStackByName(created.stackName).template as {
      Resources: Record<string, Resource>;
    };
    return { stack: created, template: Template.fromJSON(synthed), json: synthed };
  };

  it('fails when neither an existing VPC nor createVpc is given', () => {
    expect(() => createApp(new App({ context: { 'aws:cdk:bundling-stacks': [] } }))).toThrow(
      /needs a network that reaches your databases: give vpcId and subnetIds/,
    );
  });

  it('fails when createVpc and vpcId are both given, or a subnet id is not one', () => {
    expect(() => stackWith({ vpcId: 'vpc-0123456789abcdef0', createVpc: 'true' })).toThrow(/exclude each other/);
    expect(() => stackWith({ vpcId: 'vpc-0123456789abcdef0', subnetIds: 'subnet-0a1b2c3d,db-subnet' })).toThrow(
      /not a subnet id: "db-subnet"/,
    );
  });

  it('uses the given VPC and subnets offline, and lets the functions and the task into the database groups', () => {
    const { template: t, json: j } = stackWith({
      vpcId: 'vpc-0123456789abcdef0',
      subnetIds: SUBNETS.join(','),
      databaseSecurityGroupIds: 'sg-0123456789abcdef0',
    });
    expect(Object.values(j.Resources).filter((r) => r.Type === 'AWS::EC2::VPC')).toEqual([]);
    const fns = Object.values(j.Resources).filter(
      (r) => r.Type === 'AWS::Lambda::Function' && r.Properties.VpcConfig !== undefined,
    );
    expect(fns.length).toBeGreaterThanOrEqual(9);
    for (const fn of fns) expect((fn.Properties.VpcConfig as { SubnetIds: string[] }).SubnetIds).toEqual(SUBNETS);
    t.hasResourceProperties('AWS::EC2::SecurityGroup', { VpcId: 'vpc-0123456789abcdef0' });
    expect(JSON.stringify(j.Resources)).toContain(JSON.stringify(SUBNETS));
    const ingress = Object.values(j.Resources).filter((r) => r.Type === 'AWS::EC2::SecurityGroupIngress');
    expect(ingress).toHaveLength(2);
    for (const rule of ingress)
      expect(rule.Properties).toMatchObject({ GroupId: 'sg-0123456789abcdef0', FromPort: 5432, ToPort: 5432 });
  }, 60_000);

  it('creates the VPC endpoints isolated subnets need, open to the functions and the task only', () => {
    const {
      stack: s,
      template: t,
      json: j,
    } = stackWith({
      vpcId: 'vpc-0123456789abcdef0',
      subnetIds: SUBNETS.join(','),
      routeTableIds: 'rtb-0123456789abcdef0',
      vpcEndpoints: 'true',
    });
    const endpoints = Object.values(j.Resources).filter((r) => r.Type === 'AWS::EC2::VPCEndpoint');
    const interfaces = endpoints.filter((e) => e.Properties.VpcEndpointType === 'Interface');
    expect(interfaces).toHaveLength(8);
    const services = JSON.stringify(interfaces.map((e) => e.Properties.ServiceName));
    for (const service of ['secretsmanager', 'states', 'ecr.api', 'ecr.dkr', 'logs', 'monitoring', 'rds', 'sts'])
      expect(services).toContain(`.${service}`);
    for (const e of interfaces) expect(e.Properties).toMatchObject({ PrivateDnsEnabled: true, SubnetIds: SUBNETS });
    t.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Gateway',
      RouteTableIds: ['rtb-0123456789abcdef0'],
    });
    const endpointGroup = logicalIdIn(j, 'AWS::EC2::SecurityGroup', 'EndpointSecurityGroup');
    const rules = Object.values(j.Resources).filter(
      (r) =>
        r.Type === 'AWS::EC2::SecurityGroupIngress' && JSON.stringify(r.Properties.GroupId).includes(endpointGroup),
    );
    expect(rules.map((r) => r.Properties.FromPort)).toEqual([443, 443]);
    expect(new AwsSolutionsChecks().validateScope(s).violations.map((v) => v.ruleName)).toEqual([]);
  }, 60_000);

  it('fails when endpoints are asked for given subnets without their route tables', () => {
    expect(() =>
      stackWith({ vpcId: 'vpc-0123456789abcdef0', subnetIds: SUBNETS.join(','), vpcEndpoints: 'true' }),
    ).toThrow(/needs routeTableIds/);
  });
});

describe('secrets: partial ARNs and customer-managed keys', () => {
  it('grants a secret ARN that looks complete also as <arn>-??????, and kms:Decrypt only through Secrets Manager', () => {
    const ambiguous = `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:pg-migrate/prod-source`;
    const key = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/11111111-2222-3333-4444-555555555555`;
    const app = new App({
      context: {
        'aws:cdk:bundling-stacks': [],
        createVpc: 'true',
        sourceSecretArn: ambiguous,
        secretsKmsKeyArns: key,
      },
    });
    const { stack: created } = createApp(app);
    const synthed = app.synth().getStackByName(created.stackName).template as { Resources: Record<string, Resource> };
    const roleStatements = (part: string) => {
      const roleId = Object.entries(synthed.Resources).find(
        ([id, r]) => r.Type === 'AWS::IAM::Role' && id.includes(part),
      )?.[0];
      return Object.values(synthed.Resources)
        .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes(`"${roleId}"`))
        .flatMap((r) => (r.Properties.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement);
    };
    for (const part of ['TaskDefinitionTaskRole', 'PreCheckFunctionServiceRole']) {
      const statements = roleStatements(part);
      const secretRead = statements.find((st) => actionsOf(st).includes('secretsmanager:GetSecretValue'));
      expect(secretRead?.Resource).toEqual([ambiguous, `${ambiguous}-??????`]);
      const decrypt = statements.find((st) => actionsOf(st).includes('kms:Decrypt'));
      expect(decrypt).toMatchObject({
        Resource: key,
        Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com' } },
      });
    }
    expect(roleStatements('PlanFunctionServiceRole').some((st) => actionsOf(st).includes('kms:Decrypt'))).toBe(false);
  }, 60_000);
});

describe('the construct props', () => {
  const vpcStack = () => {
    const s = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Props');
    return { scope: s, vpc: new ec2.Vpc(s, 'Vpc') };
  };

  it('fails when a schedule input carries a plain URI and plain URIs are not allowed', () => {
    const { scope, vpc } = vpcStack();
    expect(
      () =>
        new PgMigrationWorkflow(scope, 'Workflow', {
          vpc,
          schedules: [
            {
              id: 'Nightly',
              schedule: ScheduleExpression.rate(Duration.days(1)),
              input: { action: 'check', source: { uri: 'postgres://u:p@h/db' }, target: { env: 'T' } },
            },
          ],
        }),
    ).toThrow(/plain URIs are not allowed/);
  });

  it('fails when a schedule input is not a valid request', () => {
    const { scope, vpc } = vpcStack();
    expect(
      () =>
        new PgMigrationWorkflow(scope, 'Workflow', {
          vpc,
          schedules: [
            { id: 'Nightly', schedule: ScheduleExpression.rate(Duration.days(1)), input: { action: 'explode' } },
          ],
        }),
    ).toThrow(/schedule Nightly: .*action/s);
  });

  it('passes allowPlainUris to every function and the task, and then keeps execution data out of the log', () => {
    const scope = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'PlainUris');
    new PgMigrationWorkflow(scope, 'Workflow', { vpc: new ec2.Vpc(scope, 'Vpc'), allowPlainUris: true });
    const plain = Template.fromStack(scope);
    const functions = plain.findResources('AWS::Lambda::Function');
    for (const fn of Object.values(functions))
      expect(fn).toMatchObject({ Properties: { Environment: { Variables: { PG_MIGRATE_ALLOW_PLAIN_URIS: 'true' } } } });
    plain.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [
        Match.objectLike({ Environment: Match.arrayWith([{ Name: 'PG_MIGRATE_ALLOW_PLAIN_URIS', Value: 'true' }]) }),
      ],
    });
    plain.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: false }),
    });
  }, 60_000);

  it('uses a fixed MaxConcurrency instead of the request when databaseConcurrency is set', () => {
    const { scope, vpc } = vpcStack();
    const workflow = new PgMigrationWorkflow(scope, 'Workflow', { vpc, databaseConcurrency: 3 });
    const definition = JSON.stringify(
      scope.resolve((workflow.stateMachine.node.defaultChild as CfnStateMachine).definitionString),
    );
    expect(definition).toContain('\\"MaxConcurrency\\":3');
    expect(definition).not.toContain('$.request.maxConcurrency');
    // The pre-checks' database Map follows the session budget the server checks computed, whatever the prop.
    expect(definition).toContain('\\"MaxConcurrencyPath\\":\\"$.serverChecks.concurrency\\"');
    // Each task shares the session budget with that many others, not with the request's maxConcurrency.
    const definitions = Template.fromStack(Stack.of(workflow)).findResources('AWS::ECS::TaskDefinition') as Record<
      string,
      { Properties: { ContainerDefinitions: { Environment: { Name: string; Value: string }[] }[] } }
    >;
    const environment = Object.values(definitions)[0]?.Properties.ContainerDefinitions[0]?.Environment;
    expect(environment).toContainEqual({ Name: 'PG_MIGRATE_DATABASE_CONCURRENCY', Value: '3' });
  });

  it('tells ResolveRequest which secrets a request may name: the stack secrets and the allowed patterns', () => {
    const id = logicalIdIn(json, 'AWS::Lambda::Function', 'ResolveFunction');
    const variables = (json.Resources[id]?.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(String(variables[ALLOWED_SECRET_ARNS_ENV]).split(',')).toEqual([
      SOURCE_ARN,
      `${SOURCE_ARN}-??????`,
      TARGET_ARN,
      `${TARGET_ARN}-??????`,
      ALLOWED,
    ]);
  });

  it('fails when an allowed secret pattern has a wildcard and the construct has no acknowledgement for it', () => {
    const { scope, vpc } = vpcStack();
    expect(() => new PgMigrationWorkflow(scope, 'Wild', { vpc, allowedSecretArns: [ALLOWED] })).toThrow(
      /allowedSecretArns: .*pg-migrate\/requests\/\* is a wildcard pattern.*acknowledgeWildcardSecretArns: true/,
    );
    expect(
      () =>
        new PgMigrationWorkflow(scope, 'Named', {
          vpc,
          allowedSecretArns: [`arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:pg-migrate/one-AbCdEf`],
        }),
    ).not.toThrow();
    expect(
      () =>
        new PgMigrationWorkflow(scope, 'Acknowledged', {
          vpc,
          allowedSecretArns: [ALLOWED],
          acknowledgeWildcardSecretArns: true,
        }),
    ).not.toThrow();
  });

  it('gives the task verify-full against the shipped RDS CA bundle by default, and takes system roots when asked', () => {
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [
        Match.objectLike({
          Environment: Match.arrayWith([
            { Name: 'PGSSLMODE', Value: 'verify-full' },
            { Name: 'PG_MIGRATE_SSLROOTCERT', Value: 'rds' },
          ]),
        }),
      ],
    });
    const { scope, vpc } = vpcStack();
    const workflow = new PgMigrationWorkflow(scope, 'System', { vpc, defaultSslRootCert: 'system' });
    const variables = scope.resolve((workflow.functions.precheck.node.defaultChild as CfnFunction).environment) as {
      variables: Record<string, string>;
    };
    expect(variables.variables).toMatchObject({ PGSSLMODE: 'verify-full', PG_MIGRATE_SSLROOTCERT: 'system' });
  });

  it('fails when defaultSslRootCert is system and defaultSslMode does not check the name', () => {
    const { scope, vpc } = vpcStack();
    expect(
      () => new PgMigrationWorkflow(scope, 'A', { vpc, defaultSslRootCert: 'system', defaultSslMode: 'verify-ca' }),
    ).toThrow(/defaultSslRootCert system needs defaultSslMode verify-full/);
  });

  it('fails when databaseConcurrency is out of range or an allowed secret is not a secret ARN', () => {
    const { scope, vpc } = vpcStack();
    expect(() => new PgMigrationWorkflow(scope, 'A', { vpc, databaseConcurrency: 0 })).toThrow(/databaseConcurrency/);
    expect(() => new PgMigrationWorkflow(scope, 'B', { vpc, allowedSecretArns: ['arn:aws:s3:::bucket/*'] })).toThrow(
      /allowedSecretArns/,
    );
  });
});
