/**
 * The pipeline app: `npx cdk synth` (offline: nothing is looked up) / `npx cdk deploy` once, then the pipeline
 * updates itself on every push. The per-account settings come from accounts.json, or the file named by
 * `-c accounts=FILE`; a bad entry stops the synth with every problem named.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { ConfigError, loadConfig, type PipelineConfig } from './config.js';
import { PgMigrationPipelineStack } from './pipeline.js';

const app = new App();
const file = app.node.tryGetContext('accounts') as string | undefined;
let config: PipelineConfig;
try {
  config = loadConfig(
    file !== undefined ? resolve(file) : join(dirname(fileURLToPath(import.meta.url)), 'accounts.json'),
  );
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`${err.message}\n`);
  process.exit(2);
}
new PgMigrationPipelineStack(app, 'PgMigrationPipeline', { config });
app.synth();
