/**
 * `pg-migrate/cdk`: the library entry of the package — the workflow construct, the stack that deploys it to one
 * account, and the CDK Pipelines stage that holds that stack. Compiled to JavaScript with `.d.ts` types by
 * `npm pack` (scripts/build-package.ts); its peer dependencies are `aws-cdk-lib` and `constructs`.
 *
 * @example
 * ```ts
 * import { PgMigrationStage, PgMigrationWorkflow } from 'pg-migrate/cdk';
 * new PgMigrationWorkflow(stack, 'Workflow', { vpc, sourceSecret, targetSecret });
 * pipeline.addStage(new PgMigrationStage(this, 'Staging', { env, vpcId, subnetIds, sourceSecretArn, targetSecretArn }));
 * ```
 */
export {
  type DefaultSslMode,
  type FunctionName,
  type PgMigrationSchedule,
  PgMigrationWorkflow,
  type PgMigrationWorkflowProps,
  TASK_CONTAINER_NAME,
  TASK_IMAGE_PG_MAJOR,
  TASK_IMAGE_PG_MAJORS,
} from './pg-migration-workflow.js';
export { PgMigrationStack, type PgMigrationStackProps } from './pg-migration-stack.js';
export { PgMigrationStage, type PgMigrationStageProps } from './pg-migration-stage.js';
export { STATE_NAMES } from './state-names.js';
