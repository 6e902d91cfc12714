/**
 * `PgMigrationStack`: one pg-migrate deployment per account and region. Creates a VPC (with a flow log) unless
 * given `vpcId`, the workflow, an optional alarm topic with an e-mail subscription, and an optional nightly check.
 */
import { CfnOutput, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import {
  type PgMigrationSchedule,
  PgMigrationWorkflow,
  type PgMigrationWorkflowProps,
} from './pg-migration-workflow.js';

export interface PgMigrationStackProps extends StackProps {
  /** An existing VPC to look up (needs credentials and an explicit env at synth). @default - a new VPC */
  readonly vpcId?: string;
  /** Complete or partial ARN of the source server's secret. @default - none */
  readonly sourceSecretArn?: string;
  /** Complete or partial ARN of the target server's secret. @default - none */
  readonly targetSecretArn?: string;
  /** Further secret ARN patterns requests may name (see PgMigrationWorkflowProps). @default - none */
  readonly allowedSecretArns?: readonly string[];
  /** E-mail address notified when an execution fails. @default - no topic */
  readonly alarmEmail?: string;
  /** Input of a nightly `check` execution (a request with `{ secretArn }` refs). @default - no schedule */
  readonly nightlyCheckInput?: Readonly<Record<string, unknown>>;
  /** Cron (UTC) of the nightly check, `minute hour`. @default '0 2' (02:00 UTC) */
  readonly nightlyCheckTime?: string;
  /** Further workflow settings. @default - the construct's defaults */
  readonly workflow?: Partial<Omit<PgMigrationWorkflowProps, 'vpc' | 'sourceSecret' | 'targetSecret' | 'alarmTopic'>>;
}

function importSecret(scope: Construct, id: string, arn: string): secretsmanager.ISecret {
  // A complete ARN ends in the 6-character suffix Secrets Manager appends to the name.
  return /-[A-Za-z0-9]{6}$/.test(arn)
    ? secretsmanager.Secret.fromSecretCompleteArn(scope, id, arn)
    : secretsmanager.Secret.fromSecretPartialArn(scope, id, arn);
}

export class PgMigrationStack extends Stack {
  readonly workflow: PgMigrationWorkflow;

  constructor(scope: Construct, id: string, props: PgMigrationStackProps = {}) {
    super(scope, id, props);

    const vpc = props.vpcId !== undefined ? ec2.Vpc.fromLookup(this, 'Vpc', { vpcId: props.vpcId }) : this.createVpc();

    let alarmTopic: sns.Topic | undefined;
    if (props.alarmEmail !== undefined) {
      alarmTopic = new sns.Topic(this, 'AlarmTopic', { displayName: 'pg-migrate alarms', enforceSSL: true });
      alarmTopic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
      Validations.of(alarmTopic).acknowledge({
        id: 'AwsSolutions-SNS2',
        reason:
          'Alarm notifications carry only the alarm state, no data; CloudWatch cannot publish to a topic encrypted with the AWS managed key, and a customer key is not worth its cost here.',
      });
    }

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
      ...(alarmTopic !== undefined ? { alarmTopic } : {}),
      schedules,
    });

    new CfnOutput(this, 'StateMachineArn', { value: this.workflow.stateMachine.stateMachineArn });
    new CfnOutput(this, 'FunctionSecurityGroupId', {
      value: this.workflow.functionSecurityGroup.securityGroupId,
      description: 'Allow this security group into both PostgreSQL servers (port 5432)',
    });
    new CfnOutput(this, 'TaskSecurityGroupId', {
      value: this.workflow.taskSecurityGroup.securityGroupId,
      description: 'Allow this security group into both PostgreSQL servers (port 5432)',
    });
  }

  private createVpc(): ec2.Vpc {
    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 1,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
      ],
    });
    vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(
        new logs.LogGroup(this, 'FlowLogs', { retention: logs.RetentionDays.ONE_MONTH }),
      ),
      trafficType: ec2.FlowLogTrafficType.REJECT,
    });
    return vpc;
  }
}
