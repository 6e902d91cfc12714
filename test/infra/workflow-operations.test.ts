/**
 * Operating pg-migrate from other accounts, as deployed by PgMigrationStage: the operations role (who may assume it,
 * exactly what it may do), `grantRead`, and the EventBridge rule on execution status changes (its pattern, the SNS
 * message, the central event bus). cdk-nag AwsSolutions runs over it; one synth for the file (bundling skipped).
 */
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { PgMigrationStack } from '../../infra/pg-migration-stack.js';
import { PgMigrationStage } from '../../infra/pg-migration-stage.js';
import { PgMigrationWorkflow } from '../../infra/pg-migration-workflow.js';
import { logicalIdIn } from '../support/template.js';

const ACCOUNT = '222222222222';
const REGION = 'eu-west-1';
const OPERATIONS_ACCOUNT = '999999999999';
const OPERATOR_ROLE = 'arn:aws:iam::888888888888:role/dba-oncall';
const BUS = `arn:aws:events:${REGION}:${OPERATIONS_ACCOUNT}:event-bus/pg-migrate`;
const SUBNETS = ['subnet-0a0a0a0a0a0a0a0a1', 'subnet-0a0a0a0a0a0a0a0a2'];

type Statement = { Action: string | string[]; Resource: unknown; Effect: string };
type Resource = { Type: string; Properties: Record<string, unknown> };

let stage: PgMigrationStage;
let template: Template;
let json: { Resources: Record<string, Resource>; Outputs: Record<string, unknown> };

function statementsOf(roleId: string): Statement[] {
  return Object.values(json.Resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes(`"${roleId}"`))
    .flatMap((r) => (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}

const actions = (s: Statement) => ([] as string[]).concat(s.Action).sort();

beforeAll(() => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  stage = new PgMigrationStage(app, 'Staging', {
    env: { account: ACCOUNT, region: REGION },
    vpcId: 'vpc-0a0a0a0a0a0a0a0a0',
    subnetIds: SUBNETS,
    sourceSecretArn: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:pg-migrate/source-AbCdEf`,
    targetSecretArn: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:pg-migrate/target-GhIjKl`,
    alarmEmail: 'dba@example.com',
    operationsPrincipals: [new iam.AccountPrincipal(OPERATIONS_ACCOUNT), new iam.ArnPrincipal(OPERATOR_ROLE)],
    operationsRoleName: 'pg-migrate-operations',
    statusChangeEventBusArn: BUS,
  });
  // Synthesis runs cdk-nag: an unacknowledged finding throws here.
  app.synth();
  const assembly = stage.synth();
  json = assembly.getStackByName(stage.stack.stackName).template as typeof json;
  template = Template.fromJSON(json);
  expect(assembly.manifest.missing ?? []).toEqual([]);
}, 300_000);

describe('the operations role', () => {
  it('may be assumed by the given principals of other accounts, and by no one else', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      RoleName: 'pg-migrate-operations',
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: {
              AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::${OPERATIONS_ACCOUNT}:root`]] },
            },
          },
          { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { AWS: OPERATOR_ROLE } },
        ],
      },
    });
  });

  it('may start executions of this state machine and read them, and nothing else', () => {
    const role = logicalIdIn(json, 'AWS::IAM::Role', 'OperationsRole');
    const stateMachine = logicalIdIn(json, 'AWS::StepFunctions::StateMachine', 'StateMachine');
    const statements = statementsOf(role);
    expect(statements.every((s) => s.Effect === 'Allow')).toBe(true);
    const bucket = logicalIdIn(json, 'AWS::S3::Bucket', 'ReportBucket');
    expect(statements.map((s) => [actions(s), s.Resource])).toEqual([
      [['states:StartExecution'], { Ref: stateMachine }],
      // The full reports the executions' output names (reportUri).
      [['s3:GetObject'], { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, '/runs/*']] }],
      [['states:DescribeStateMachine', 'states:ListExecutions'], { Ref: stateMachine }],
      [
        ['states:DescribeExecution', 'states:DescribeStateMachineForExecution', 'states:GetExecutionHistory'],
        {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              `:states:${REGION}:${ACCOUNT}:execution:`,
              { 'Fn::GetAtt': [stateMachine, 'Name'] },
              ':*',
            ],
          ],
        },
      ],
    ]);
  });

  it("is a stack output, for the other accounts' tools", () => {
    const role = logicalIdIn(json, 'AWS::IAM::Role', 'OperationsRole');
    expect(json.Outputs.OperationsRoleArn).toMatchObject({ Value: { 'Fn::GetAtt': [role, 'Arn'] } });
    expect(stage.operationsRoleArnOutput).toBe(stage.stack.operationsRoleArnOutput);
    expect(stage.stack.resolve(stage.stateMachineArnOutput.logicalId)).toBe('StateMachineArn');
  });

  it('is not created without operations principals', () => {
    const stack = new Stack(new App(), 'Plain');
    const workflow = new PgMigrationWorkflow(stack, 'Workflow', {
      vpc: ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
        vpcId: 'vpc-0a0a0a0a0a0a0a0a0',
        availabilityZones: ['eu-west-1a'],
      }),
      subnets: { subnets: [ec2.Subnet.fromSubnetId(stack, 'Subnet', SUBNETS[0] as string)] },
    });
    expect(workflow.operationsRole).toBeUndefined();
    expect(workflow.statusChangeRule).toBeUndefined();
    expect(Template.fromStack(stack).findResources('AWS::Events::Rule')).toEqual({});
  });

  it('fails when a role name is given without principals', () => {
    const stack = new Stack(new App(), 'Named');
    expect(
      () =>
        new PgMigrationWorkflow(stack, 'Workflow', {
          vpc: ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
            vpcId: 'vpc-0a0a0a0a0a0a0a0a0',
            availabilityZones: ['eu-west-1a'],
          }),
          operationsRoleName: 'pg-migrate-operations',
        }),
    ).toThrow(/operationsRoleName needs operationsPrincipals/);
  });
});

describe('grantRead', () => {
  it('lets a principal of this account read the state machine and its executions', () => {
    const stack = new Stack(new App(), 'Reader');
    const workflow = new PgMigrationWorkflow(stack, 'Workflow', {
      vpc: ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
        vpcId: 'vpc-0a0a0a0a0a0a0a0a0',
        availabilityZones: ['eu-west-1a'],
      }),
      subnets: { subnets: [ec2.Subnet.fromSubnetId(stack, 'Subnet', SUBNETS[0] as string)] },
    });
    const reader = new iam.Role(stack, 'Reader', { assumedBy: new iam.AccountRootPrincipal() });
    workflow.grantRead(reader);
    const policies = Template.fromStack(stack).findResources('AWS::IAM::Policy', {
      Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^Reader') }] },
    });
    const granted = Object.values(policies)
      .flatMap((p) => (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument)
      .flatMap((d) => d.Statement)
      .flatMap(actions)
      .sort();
    expect(granted).toEqual([
      's3:GetObject',
      'states:DescribeExecution',
      'states:DescribeStateMachine',
      'states:DescribeStateMachineForExecution',
      'states:GetExecutionHistory',
      'states:ListExecutions',
    ]);
  });
});

describe('the status change rule', () => {
  it('matches executions of this state machine that failed, timed out or were aborted, and cutovers that succeeded', () => {
    const stateMachine = logicalIdIn(json, 'AWS::StepFunctions::StateMachine', 'StateMachine');
    template.hasResourceProperties('AWS::Events::Rule', {
      State: 'ENABLED',
      EventPattern: {
        source: ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        detail: {
          stateMachineArn: [{ Ref: stateMachine }],
          $or: [
            { status: ['FAILED', 'TIMED_OUT', 'ABORTED'] },
            { status: ['SUCCEEDED'], output: [{ wildcard: '*"action":"cutover"*' }] },
            {
              status: ['SUCCEEDED'],
              input: [{ wildcard: '*"cutover":true*' }, { wildcard: '*"cutover": true*' }],
            },
          ],
        },
      },
    });
  });

  it('tells the alarm topic in one line with the execution, its status, account and region', () => {
    const topic = logicalIdIn(json, 'AWS::SNS::Topic', 'AlarmTopic');
    const rule = Object.values(template.findResources('AWS::Events::Rule'))[0] as {
      Properties: { Targets: Array<Record<string, unknown>> };
    };
    const sns = rule.Properties.Targets.find((t) => JSON.stringify(t.Arn) === JSON.stringify({ Ref: topic }));
    expect(sns?.InputTransformer).toMatchObject({
      InputPathsMap: {
        'detail-name': '$.detail.name',
        'detail-status': '$.detail.status',
        account: '$.account',
        region: '$.region',
        'detail-executionArn': '$.detail.executionArn',
      },
    });
    expect((sns?.InputTransformer as { InputTemplate: string }).InputTemplate).toBe(
      '"pg-migrate execution <detail-name> ended <detail-status> (account <account>, <region>): <detail-executionArn>"',
    );
    // The topic lets EventBridge publish.
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: topic }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: 'sns:Publish', Principal: { Service: 'events.amazonaws.com' } }),
        ]),
      },
    });
  });

  it('forwards the events as they are to the central event bus, through a role that may put events there only', () => {
    const rule = Object.values(template.findResources('AWS::Events::Rule'))[0] as {
      Properties: { Targets: Array<{ Arn: unknown; RoleArn?: { 'Fn::GetAtt': [string, string] }; Input?: unknown }> };
    };
    const bus = rule.Properties.Targets.find((t) => t.Arn === BUS);
    expect(bus).toBeDefined();
    expect(bus?.Input).toBeUndefined();
    const role = bus?.RoleArn?.['Fn::GetAtt'][0] ?? '';
    expect(statementsOf(role).map((s) => [actions(s), s.Resource])).toEqual([[['events:PutEvents'], BUS]]);
  });

  it('fails when status changes should go to an alarm topic that is not there', () => {
    expect(
      () =>
        new PgMigrationStack(new App(), 'NoTopic', {
          vpcId: 'vpc-0a0a0a0a0a0a0a0a0',
          subnetIds: SUBNETS,
          statusChangeNotifications: true,
        }),
    ).toThrow(/statusChangeNotifications needs alarmEmail or alarmTopicArn/);
  });
});

describe('PgMigrationStage', () => {
  it('imports the VPC and subnets by id, so nothing is looked up', () => {
    for (const fn of Object.values(template.findResources('AWS::Lambda::Function')))
      expect((fn as Resource).Properties.VpcConfig).toMatchObject({ SubnetIds: SUBNETS });
    template.hasResourceProperties('AWS::EC2::SecurityGroup', { VpcId: 'vpc-0a0a0a0a0a0a0a0a0' });
  });

  it('fails when subnets are given without their VPC', () => {
    expect(() => new PgMigrationStack(new App(), 'NoVpc', { subnetIds: SUBNETS })).toThrow(/subnetIds needs vpcId/);
  });
});
