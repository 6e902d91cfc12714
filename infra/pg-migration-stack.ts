/**
 * `PgMigrationStack`: one pg-migrate deployment per account and region. The network is an explicit choice
 * (infra/networking.ts): an existing VPC and its subnets, or a VPC created for a demo; optionally ingress into the
 * databases' security groups and VPC endpoints. Then the workflow, an optional alarm topic with an e-mail
 * subscription, and an optional nightly check.
 */
import { CfnOutput, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import { addVpcEndpoints, allowIntoDatabases, type NetworkProps, resolveNetwork } from './networking.js';
import {
  type PgMigrationSchedule,
  PgMigrationWorkflow,
  type PgMigrationWorkflowProps,
} from './pg-migration-workflow.js';

export interface PgMigrationStackProps extends StackProps, NetworkProps {
  /** ARNs of the customer-managed KMS keys the secrets are encrypted with (kms:Decrypt via Secrets Manager). */
  readonly secretsKmsKeyArns?: readonly string[];
  /** Complete or partial ARN of the source server's secret. @default - none */
  readonly sourceSecretArn?: string;
  /** Complete or partial ARN of the target server's secret. @default - none */
  readonly targetSecretArn?: string;
  /** Further secret ARN patterns requests may name (see PgMigrationWorkflowProps). @default - none */
  readonly allowedSecretArns?: readonly string[];
  /** E-mail address notified when an execution fails. @default - no topic */
  readonly alarmEmail?: string;
  /** An existing SNS topic (this account and region) notified when an execution fails, besides `alarmEmail`'s. @default - none */
  readonly alarmTopicArn?: string;
  /**
   * Also tell the alarm topics of execution status changes (FAILED, TIMED_OUT, ABORTED, SUCCEEDED of a cutover).
   * @default false
   */
  readonly statusChangeNotifications?: boolean;
  /** ARN of an event bus (e.g. the operations account's) that receives those status changes. @default - none */
  readonly statusChangeEventBusArn?: string;
  /** Input of a nightly `check` execution (a request with `{ secretArn }` refs). @default - no schedule */
  readonly nightlyCheckInput?: Readonly<Record<string, unknown>>;
  /** Cron (UTC) of the nightly check, `minute hour`. @default '0 2' (02:00 UTC) */
  readonly nightlyCheckTime?: string;
  /** Further workflow settings. @default - the construct's defaults */
  readonly workflow?: Partial<
    Omit<
      PgMigrationWorkflowProps,
      'vpc' | 'sourceSecret' | 'targetSecret' | 'alarmTopic' | 'statusChangeTopic' | 'statusChangeEventBus'
    >
  >;
}

function importSecret(scope: Construct, id: string, arn: string): secretsmanager.ISecret {
  // A complete ARN ends in the 6-character suffix Secrets Manager appends to the name.
  return /-[A-Za-z0-9]{6}$/.test(arn)
    ? secretsmanager.Secret.fromSecretCompleteArn(scope, id, arn)
    : secretsmanager.Secret.fromSecretPartialArn(scope, id, arn);
}

export class PgMigrationStack extends Stack {
  readonly workflow: PgMigrationWorkflow;
  /** The state machine's ARN (e.g. for `envFromCfnOutputs` of a CDK Pipelines step after the deployment). */
  readonly stateMachineArnOutput: CfnOutput;
  /** The operations role's ARN, when `workflow.operationsPrincipals` are given. */
  readonly operationsRoleArnOutput?: CfnOutput;

  constructor(scope: Construct, id: string, props: PgMigrationStackProps = {}) {
    super(scope, id, props);
    const problems = [
      ...(props.subnetIds !== undefined && props.vpcId === undefined ? ['subnetIds needs vpcId'] : []),
      ...(props.subnetIds !== undefined && props.subnetIds.length === 0 ? ['subnetIds must name a subnet'] : []),
      ...(props.statusChangeNotifications === true &&
      props.alarmEmail === undefined &&
      props.alarmTopicArn === undefined
        ? ['statusChangeNotifications needs alarmEmail or alarmTopicArn']
        : []),
    ];
    if (problems.length > 0) throw new Error(`PgMigrationStack: ${problems.join('; ')}`);

    const { vpc, subnets } = resolveNetwork(this, props);

    let alarmTopic: sns.ITopic | undefined;
    if (props.alarmTopicArn !== undefined) alarmTopic = sns.Topic.fromTopicArn(this, 'AlarmTopic', props.alarmTopicArn);
    else if (props.alarmEmail !== undefined) {
      alarmTopic = new sns.Topic(this, 'AlarmTopic', { displayName: 'pg-migrate alarms', enforceSSL: true });
      Validations.of(alarmTopic).acknowledge({
        id: 'AwsSolutions-SNS2',
        reason:
          'Alarm notifications carry only the alarm state, no data; CloudWatch cannot publish to a topic encrypted with the AWS managed key, and a customer key is not worth its cost here.',
      });
    }
    if (alarmTopic !== undefined && props.alarmEmail !== undefined)
      alarmTopic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));

    const schedules: PgMigrationSchedule[] = [...(props.workflow?.schedules ?? [])];
    if (props.nightlyCheckInput !== undefined) {
      const [minute = '0', hour = '2'] = (props.nightlyCheckTime ?? '0 2').trim().split(/\s+/);
      schedules.push({
        id: 'NightlyCheck',
        description: 'pg-migrate: nightly check of source and target',
        schedule: scheduler.ScheduleExpression.cron({ minute, hour }),
        input: { ...props.nightlyCheckInput, action: 'check' },
      });
    }

    this.workflow = new PgMigrationWorkflow(this, 'Workflow', {
      ...props.workflow,
      vpc,
      ...(props.sourceSecretArn !== undefined
        ? { sourceSecret: importSecret(this, 'SourceSecret', props.sourceSecretArn) }
        : {}),
      ...(props.targetSecretArn !== undefined
        ? { targetSecret: importSecret(this, 'TargetSecret', props.targetSecretArn) }
        : {}),
      ...(props.allowedSecretArns !== undefined ? { allowedSecretArns: props.allowedSecretArns } : {}),
      ...(props.secretsKmsKeyArns !== undefined
        ? {
            secretsKmsKeys: props.secretsKmsKeyArns.map((arn, i) =>
              kms.Key.fromKeyArn(this, `SecretsKey${i + 1}`, arn),
            ),
          }
        : {}),
      ...(alarmTopic !== undefined ? { alarmTopic } : {}),
      subnets,
      ...(props.statusChangeNotifications === true && alarmTopic !== undefined
        ? { statusChangeTopic: alarmTopic }
        : {}),
      ...(props.statusChangeEventBusArn !== undefined
        ? {
            statusChangeEventBus: events.EventBus.fromEventBusArn(
              this,
              'StatusChangeEventBus',
              props.statusChangeEventBusArn,
            ),
          }
        : {}),
      schedules,
    });

    this.stateMachineArnOutput = new CfnOutput(this, 'StateMachineArn', {
      value: this.workflow.stateMachine.stateMachineArn,
    });
    if (this.workflow.operationsRole !== undefined)
      this.operationsRoleArnOutput = new CfnOutput(this, 'OperationsRoleArn', {
        value: this.workflow.operationsRole.roleArn,
        description: 'The role operators of other accounts assume to start and read executions',
      });
    new CfnOutput(this, 'DashboardName', {
      value: this.workflow.dashboard.dashboardName,
      description: 'The CloudWatch dashboard of the workflow: executions, and per database copy, phase and replication',
    });
    const clients = [this.workflow.functionSecurityGroup, this.workflow.taskSecurityGroup];
    if (props.databaseSecurityGroupIds !== undefined)
      allowIntoDatabases(this, clients, props.databaseSecurityGroupIds, props.databasePort);
    if (props.vpcEndpoints === true) addVpcEndpoints(this, vpc, subnets, clients);
    new CfnOutput(this, 'FunctionSecurityGroupId', {
      value: this.workflow.functionSecurityGroup.securityGroupId,
      description: 'Allow this security group into both PostgreSQL servers (port 5432)',
    });
    new CfnOutput(this, 'TaskSecurityGroupId', {
      value: this.workflow.taskSecurityGroup.securityGroupId,
      description: 'Allow this security group into both PostgreSQL servers (port 5432)',
    });
  }
}
