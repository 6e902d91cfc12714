/**
 * `npm run lint:cfn` (the last step of `npm test`): synthesizes the stack in the configurations a user deploys and
 * runs cfn-lint over each template. Any error (cfn-lint exit bit 2) fails; warnings are printed and counted.
 *
 * cfn-lint is a Python tool (PyPI), not an npm package: where it is not on PATH this prints so and exits 0, so
 * that `npm test` stays runnable on a machine without Python. Bundling is skipped (templates only).
 *
 * @example
 * ```sh
 * npm run lint:cfn            # all configurations
 * ```
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { createApp } from '../infra/app.js';

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const SECRET = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:pg-migrate/source-AbCdEf`;

/** The configurations checked: a demo VPC, and an existing isolated VPC with endpoints and every option. */
const CONFIGURATIONS: Readonly<Record<string, Record<string, string>>> = {
  'create-vpc': { createVpc: 'true' },
  'existing-isolated-vpc': {
    account: ACCOUNT,
    region: REGION,
    vpcId: 'vpc-0123456789abcdef0',
    subnetIds: 'subnet-0123456789abcdef0,subnet-0123456789abcdef1',
    routeTableIds: 'rtb-0123456789abcdef0,rtb-0123456789abcdef1',
    subnetType: 'private-isolated',
    databaseSecurityGroupIds: 'sg-0123456789abcdef0',
    vpcEndpoints: 'true',
    sourceSecretArn: SECRET,
    targetSecretArn: SECRET.replace('source', 'target'),
    secretsKmsKeyArns: `arn:aws:kms:${REGION}:${ACCOUNT}:key/0b6f2b4e-1111-2222-3333-444455556666`,
    alarmEmail: 'dba@example.com',
  },
};

function onPath(tool: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const file = join(dir, tool);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

function main(): number {
  const cfnLint = onPath('cfn-lint');
  if (cfnLint === undefined) {
    console.log('lint:cfn: cfn-lint is not on PATH (pip install cfn-lint); templates not linted');
    return 0;
  }
  const dir = mkdtempSync(join(tmpdir(), 'pgm-cfn-lint-'));
  let failed = 0;
  try {
    for (const [name, context] of Object.entries(CONFIGURATIONS)) {
      const app = new App({ context: { 'aws:cdk:bundling-stacks': [], ...context } });
      const { stack } = createApp(app);
      const template = app.synth().getStackByName(stack.stackName).template as unknown;
      const file = join(dir, `${name}.template.json`);
      writeFileSync(file, JSON.stringify(template, null, 1));
      const run = spawnSync(cfnLint, ['--format', 'parseable', file], { encoding: 'utf8' });
      if (run.error) throw run.error;
      const findings = run.stdout.split('\n').filter((l) => l.trim() !== '');
      const errors = findings.filter((l) => /:E\d{4}:/.test(l));
      const warnings = findings.filter((l) => /:W\d{4}:/.test(l));
      const status = run.status ?? 1;
      // cfn-lint's exit status is a bit mask: 2 errors, 4 warnings, 8 informational; anything else is a crash.
      const crashed = (status & ~(2 | 4 | 8)) !== 0;
      console.log(`lint:cfn ${name}: ${errors.length} errors, ${warnings.length} warnings`);
      for (const line of errors) console.log(`  ${line}`);
      if (crashed) console.log(`  cfn-lint exited ${status}: ${run.stderr.trim()}`);
      if (errors.length > 0 || (status & 2) !== 0 || crashed) failed += 1;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return failed === 0 ? 0 : 1;
}

process.exitCode = main();
