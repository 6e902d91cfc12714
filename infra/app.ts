/**
 * The CDK app (`npx cdk synth|deploy`): one PgMigrationStack, configured by context (`-c key=value` or cdk.json),
 * checked by cdk-nag AwsSolutions; any unacknowledged finding fails the synth.
 */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { App, Validations } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { PgMigrationStack, type PgMigrationStackProps } from './pg-migration-stack.js';

/** Reads the app's settings from CDK context; every key is optional. */
export function stackPropsFromContext(app: App): PgMigrationStackProps {
  const text = (key: string): string | undefined => {
    const value: unknown = app.node.tryGetContext(key);
    if (value === undefined || value === null || value === '') return undefined;
    return typeof value === 'string' ? value : JSON.stringify(value);
  };
  const number = (key: string): number | undefined => {
    const value = text(key);
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!Number.isFinite(n)) throw new Error(`context ${key}: not a number: ${value}`);
    return n;
  };
  const json = (key: string): Record<string, unknown> | undefined => {
    const value = text(key);
    if (value === undefined) return undefined;
    const parsed: unknown = JSON.parse(value);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new Error(`context ${key}: must be a JSON object`);
    return parsed as Record<string, unknown>;
  };
  const account = text('account') ?? process.env.CDK_DEFAULT_ACCOUNT;
  const region = text('region') ?? process.env.CDK_DEFAULT_REGION;
  const vpcId = text('vpcId');
  const list = (key: string): string[] | undefined =>
    text(key)
      ?.split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
  const subnetIds = list('subnetIds');
  const secretsKmsKeyArns = list('secretsKmsKeyArns');
  const routeTableIds = list('routeTableIds');
  const databaseSecurityGroupIds = list('databaseSecurityGroupIds');
  const subnetType = text('subnetType');
  if (subnetType !== undefined && subnetType !== 'private-with-egress' && subnetType !== 'private-isolated')
    throw new Error(`context subnetType: ${subnetType} is not private-with-egress or private-isolated`);
  const databasePort = number('databasePort');
  const createVpc = text('createVpc') === 'true';
  const vpcEndpoints = text('vpcEndpoints') === 'true';
  const sourceSecretArn = text('sourceSecretArn');
  const targetSecretArn = text('targetSecretArn');
  const allowedSecretArns = text('allowedSecretArns')
    ?.split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const alarmEmail = text('alarmEmail');
  const nightlyCheckInput = json('nightlyCheckInput');
  const nightlyCheckTime = text('nightlyCheckTime');
  const taskCpu = number('taskCpu');
  const taskMemoryMiB = number('taskMemoryMiB');
  const databaseConcurrency = number('databaseConcurrency');
  const logRetentionDays = number('logRetentionDays');
  if (logRetentionDays !== undefined && !Object.values(logs.RetentionDays).includes(logRetentionDays))
    throw new Error(
      `context logRetentionDays: ${logRetentionDays} is not a CloudWatch Logs retention (1, 3, 5, 7, 14, 30, …)`,
    );
  const allowPlainUris = text('allowPlainUris') === 'true';
  const acknowledgeWildcardSecretArns = text('acknowledgeWildcardSecretArns') === 'true';
  const metricsNamespace = text('metricsNamespace');
  const replicationLagAlarmBytes = number('replicationLagAlarmBytes');
  return {
    // A lookup (vpcId without subnetIds) needs the account and region at synth.
    ...(vpcId !== undefined && subnetIds === undefined ? { env: { account, region } } : {}),
    ...(vpcId !== undefined ? { vpcId } : {}),
    ...(subnetIds !== undefined ? { subnetIds } : {}),
    ...(secretsKmsKeyArns !== undefined ? { secretsKmsKeyArns } : {}),
    ...(routeTableIds !== undefined ? { routeTableIds } : {}),
    ...(subnetType !== undefined ? { subnetType } : {}),
    ...(createVpc ? { createVpc } : {}),
    ...(databaseSecurityGroupIds !== undefined ? { databaseSecurityGroupIds } : {}),
    ...(databasePort !== undefined ? { databasePort } : {}),
    ...(vpcEndpoints ? { vpcEndpoints } : {}),
    ...(sourceSecretArn !== undefined ? { sourceSecretArn } : {}),
    ...(targetSecretArn !== undefined ? { targetSecretArn } : {}),
    ...(allowedSecretArns !== undefined ? { allowedSecretArns } : {}),
    ...(alarmEmail !== undefined ? { alarmEmail } : {}),
    ...(nightlyCheckInput !== undefined ? { nightlyCheckInput } : {}),
    ...(nightlyCheckTime !== undefined ? { nightlyCheckTime } : {}),
    workflow: {
      ...(taskCpu !== undefined ? { taskCpu } : {}),
      ...(taskMemoryMiB !== undefined ? { taskMemoryMiB } : {}),
      ...(databaseConcurrency !== undefined ? { databaseConcurrency } : {}),
      ...(logRetentionDays !== undefined ? { logRetention: logRetentionDays as logs.RetentionDays } : {}),
      ...(allowPlainUris ? { allowPlainUris } : {}),
      ...(acknowledgeWildcardSecretArns ? { acknowledgeWildcardSecretArns } : {}),
      ...(metricsNamespace !== undefined ? { metricsNamespace } : {}),
      ...(replicationLagAlarmBytes !== undefined ? { replicationLagAlarmBytes } : {}),
    },
  };
}

/** The app with cdk-nag applied: `createApp().synth()` throws on any unacknowledged finding. */
export function createApp(app = new App()): { readonly app: App; readonly stack: PgMigrationStack } {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const stackName = (app.node.tryGetContext('stackName') as string | undefined) ?? 'PgMigrationStack';
  const stack = new PgMigrationStack(app, stackName, {
    description: 'pg-migrate: PostgreSQL-to-PostgreSQL migration workflow (Step Functions, Lambda, Fargate)',
    ...stackPropsFromContext(app),
  });
  return { app, stack };
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(realpathSync(entry)).href) {
  createApp().app.synth();
}
