/**
 * The pipeline: a CDK Pipelines `CodePipeline` in the pipeline account that deploys {@link PgMigrationStage} to every
 * account of the configuration — non-production accounts first, each production account after a manual approval —
 * and, after each deployment, runs a `check` execution there and fails the stage when the check fails.
 */
import { Aws, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as pipelines from 'aws-cdk-lib/pipelines';
import type { Construct } from 'constructs';
import { PgMigrationStage } from 'pg-migrate/cdk';
import type { AccountConfig, PipelineConfig } from './config.js';

/** The post-deployment check: assume the account's operations role, start a `check`, follow it to its end. */
export function checkCommands(): string[] {
  return [
    // The CLI takes its credentials from a profile that assumes the operations role with CodeBuild's own credentials.
    'aws configure set profile.pgmigrate.role_arn "$OPERATIONS_ROLE_ARN"',
    'aws configure set profile.pgmigrate.credential_source EcsContainer',
    'AWS_PROFILE=pgmigrate npx pg-migrate aws start --state-machine-arn "$STATE_MACHINE_ARN" --source-secret-arn "$SOURCE_SECRET_ARN" --target-secret-arn "$TARGET_SECRET_ARN" --action check --watch --region "$TARGET_REGION"',
  ];
}

/** The stage's props for one account of the configuration. */
export function stageProps(config: PipelineConfig, account: AccountConfig) {
  const secrets = { source: { secretArn: account.sourceSecretArn }, target: { secretArn: account.targetSecretArn } };
  const [hour = '2', minute = '0'] = (account.nightlyCheck ?? '').split(':');
  return {
    env: { account: account.account, region: account.region },
    vpcId: account.vpcId,
    subnetIds: account.subnetIds,
    sourceSecretArn: account.sourceSecretArn,
    targetSecretArn: account.targetSecretArn,
    ...(account.alarmEmail !== undefined ? { alarmEmail: account.alarmEmail } : {}),
    ...(account.taskCpu !== undefined ? { taskCpu: account.taskCpu } : {}),
    ...(account.taskMemoryMiB !== undefined ? { taskMemoryMiB: account.taskMemoryMiB } : {}),
    schedules:
      account.nightlyCheck === undefined
        ? []
        : [
            {
              id: 'NightlyCheck',
              description: 'pg-migrate: nightly check of source and target',
              schedule: scheduler.ScheduleExpression.cron({
                hour: String(Number(hour)),
                minute: String(Number(minute)),
              }),
              input: { action: 'check', ...secrets },
            },
          ],
    // The pipeline's account runs the post-deployment check; the operations account operates every account.
    operationsPrincipals: [config.pipeline.account, ...(config.operationsAccount ? [config.operationsAccount] : [])]
      .filter((id, i, all) => all.indexOf(id) === i)
      .map((id) => new iam.AccountPrincipal(id)),
    operationsRoleName: config.operationsRoleName,
    ...(config.statusEventBusArn !== undefined ? { statusChangeEventBusArn: config.statusEventBusArn } : {}),
  };
}

/** The step after an account's deployment that runs a `check` there; a failed check fails the stage. */
export function checkStep(
  source: pipelines.IFileSetProducer,
  stage: PgMigrationStage,
  config: PipelineConfig,
  account: AccountConfig,
): pipelines.CodeBuildStep {
  const roleOutput = stage.operationsRoleArnOutput;
  if (roleOutput === undefined) throw new Error(`${account.name}: the stage has no operations role`);
  return new pipelines.CodeBuildStep(`Check${account.name}`, {
    input: source,
    installCommands: ['npm ci'],
    commands: checkCommands(),
    env: {
      SOURCE_SECRET_ARN: account.sourceSecretArn,
      TARGET_SECRET_ARN: account.targetSecretArn,
      TARGET_REGION: account.region,
    },
    envFromCfnOutputs: { STATE_MACHINE_ARN: stage.stateMachineArnOutput, OPERATIONS_ROLE_ARN: roleOutput },
    buildEnvironment: { buildImage: codebuild.LinuxBuildImage.STANDARD_7_0 },
    partialBuildSpec: codebuild.BuildSpec.fromObject({ phases: { install: { 'runtime-versions': { nodejs: '20' } } } }),
    rolePolicyStatements: [
      new iam.PolicyStatement({
        actions: ['sts:AssumeRole'],
        resources: [`arn:${Aws.PARTITION}:iam::${account.account}:role/${config.operationsRoleName}`],
      }),
    ],
    timeout: Duration.minutes(30),
  });
}

export interface PgMigrationPipelineStackProps extends StackProps {
  readonly config: PipelineConfig;
}

/** The pipeline stack: in the pipeline account, deploying pg-migrate to every configured account. */
export class PgMigrationPipelineStack extends Stack {
  readonly pipeline: pipelines.CodePipeline;
  /** The stages, by account name, in deployment order. */
  readonly stages: ReadonlyMap<string, PgMigrationStage>;

  constructor(scope: Construct, id: string, props: PgMigrationPipelineStackProps) {
    const { config } = props;
    super(scope, id, { ...props, env: { account: config.pipeline.account, region: config.pipeline.region } });
    const source = pipelines.CodePipelineSource.connection(config.pipeline.repository, config.pipeline.branch, {
      connectionArn: config.pipeline.connectionArn,
    });
    this.pipeline = new pipelines.CodePipeline(this, 'Pipeline', {
      pipelineName: 'pg-migrate',
      // Other accounts read the pipeline's artifacts: encrypt them with a key those accounts may use.
      crossAccountKeys: true,
      enableKeyRotation: true,
      synth: new pipelines.ShellStep('Synth', { input: source, commands: ['npm ci', 'npx cdk synth'] }),
    });
    const stages = new Map<string, PgMigrationStage>();
    const ordered = [...config.accounts.filter((a) => !a.production), ...config.accounts.filter((a) => a.production)];
    for (const account of ordered) {
      const stage = new PgMigrationStage(this, account.name, stageProps(config, account));
      this.pipeline.addStage(stage, {
        pre: account.production
          ? [
              new pipelines.ManualApprovalStep(`Approve${account.name}`, {
                comment: `Deploy pg-migrate to the production account ${account.name} (${account.account}, ${account.region})?`,
              }),
            ]
          : [],
        post: [checkStep(source, stage, config, account)],
      });
      stages.set(account.name, stage);
    }
    this.stages = stages;
  }
}
