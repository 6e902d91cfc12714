/**
 * `PgMigrationStage`: pg-migrate for one account and region, as a CDK Pipelines stage. It holds one
 * {@link PgMigrationStack} built from its props alone — no CDK context, no lookup — so one pipeline deploys the
 * workflow to many accounts, each with its own settings.
 *
 * @example
 * ```ts
 * const prod = new PgMigrationStage(this, 'Production', {
 *   env: { account: '222222222222', region: 'eu-west-1' },
 *   vpcId: 'vpc-0abc…', subnetIds: ['subnet-0a…', 'subnet-0b…'],
 *   sourceSecretArn, targetSecretArn,
 *   alarmEmail: 'dba@example.com',
 *   operationsPrincipals: [new iam.AccountPrincipal('333333333333')],
 * });
 * pipeline.addStage(prod, { pre: [new pipelines.ManualApprovalStep('ApproveProduction')] });
 * ```
 */
import { type CfnOutput, Stage, type StageProps } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { PgMigrationStack, type PgMigrationStackProps } from './pg-migration-stack.js';
import type { PgMigrationSchedule } from './workflow-props.js';

/** One account's pg-migrate deployment. */
export interface PgMigrationStageProps extends Omit<StageProps, 'env'> {
  /** The account and region to deploy to (both required: nothing is looked up). */
  readonly env: { readonly account: string; readonly region: string };
  /** @default 'PgMigration' */
  readonly stackName?: string;
  /** The VPC the Lambdas and the Fargate task run in; it must reach both PostgreSQL servers and the AWS APIs. */
  readonly vpcId: string;
  /** The subnets of `vpcId` they run in (private, with egress or VPC endpoints). Imported by id, no lookup. */
  readonly subnetIds: readonly string[];
  /** Complete or partial ARN of the source server's secret. @default - none */
  readonly sourceSecretArn?: string;
  /** Complete or partial ARN of the target server's secret. @default - none */
  readonly targetSecretArn?: string;
  /** Further secret ARN patterns requests may name. @default - none */
  readonly allowedSecretArns?: readonly string[];
  /** Schedules that start executions (e.g. a nightly `check`). @default - none */
  readonly schedules?: readonly PgMigrationSchedule[];
  /** E-mail notified of failed executions, on a new topic. @default - none */
  readonly alarmEmail?: string;
  /** An existing SNS topic (of this account and region) notified of failed executions. @default - none */
  readonly alarmTopicArn?: string;
  /** Fargate task CPU units. @default 2048 */
  readonly taskCpu?: number;
  /** Fargate task memory, MiB. @default 4096 */
  readonly taskMemoryMiB?: number;
  /**
   * Principals of other accounts (a central operations role, the pipeline's account) that may start executions and
   * read executions and reports, through a role of this account.
   * @default - none
   */
  readonly operationsPrincipals?: readonly iam.IPrincipal[];
  /** Name of that role, so that the other accounts can name it in their policies. @default - generated */
  readonly operationsRoleName?: string;
  /**
   * Also send execution status changes (FAILED, TIMED_OUT, ABORTED; SUCCEEDED of a cutover) to the alarm topic.
   * @default true when `alarmEmail` or `alarmTopicArn` is given
   */
  readonly statusChangeNotifications?: boolean;
  /** An event bus (e.g. the operations account's) that receives those status changes. @default - none */
  readonly statusChangeEventBusArn?: string;
  /** Further workflow settings. @default - the construct's defaults */
  readonly workflow?: PgMigrationStackProps['workflow'];
}

export class PgMigrationStage extends Stage {
  /** The stack the stage deploys. */
  readonly stack: PgMigrationStack;
  /** The state machine's ARN as a stack output (e.g. `envFromCfnOutputs` of a post-deployment step). */
  readonly stateMachineArnOutput: CfnOutput;
  /** The operations role's ARN as a stack output, when there is the role. */
  readonly operationsRoleArnOutput?: CfnOutput;

  constructor(scope: Construct, id: string, props: PgMigrationStageProps) {
    super(scope, id, props);
    const hasAlarmTopic = props.alarmEmail !== undefined || props.alarmTopicArn !== undefined;
    this.stack = new PgMigrationStack(this, 'PgMigration', {
      stackName: props.stackName ?? 'PgMigration',
      env: { account: props.env.account, region: props.env.region },
      description: `pg-migrate: PostgreSQL-to-PostgreSQL migration workflow (${props.env.account} ${props.env.region})`,
      vpcId: props.vpcId,
      subnetIds: props.subnetIds,
      ...(props.sourceSecretArn !== undefined ? { sourceSecretArn: props.sourceSecretArn } : {}),
      ...(props.targetSecretArn !== undefined ? { targetSecretArn: props.targetSecretArn } : {}),
      ...(props.allowedSecretArns !== undefined ? { allowedSecretArns: props.allowedSecretArns } : {}),
      ...(props.alarmEmail !== undefined ? { alarmEmail: props.alarmEmail } : {}),
      ...(props.alarmTopicArn !== undefined ? { alarmTopicArn: props.alarmTopicArn } : {}),
      statusChangeNotifications: props.statusChangeNotifications ?? hasAlarmTopic,
      ...(props.statusChangeEventBusArn !== undefined
        ? { statusChangeEventBusArn: props.statusChangeEventBusArn }
        : {}),
      workflow: {
        ...props.workflow,
        ...(props.schedules !== undefined
          ? { schedules: [...(props.workflow?.schedules ?? []), ...props.schedules] }
          : {}),
        ...(props.taskCpu !== undefined ? { taskCpu: props.taskCpu } : {}),
        ...(props.taskMemoryMiB !== undefined ? { taskMemoryMiB: props.taskMemoryMiB } : {}),
        ...(props.operationsPrincipals !== undefined ? { operationsPrincipals: props.operationsPrincipals } : {}),
        ...(props.operationsRoleName !== undefined ? { operationsRoleName: props.operationsRoleName } : {}),
      },
    });
    this.stateMachineArnOutput = this.stack.stateMachineArnOutput;
    if (this.stack.operationsRoleArnOutput !== undefined)
      this.operationsRoleArnOutput = this.stack.operationsRoleArnOutput;
  }
}
