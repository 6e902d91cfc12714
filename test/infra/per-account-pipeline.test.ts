/**
 * examples/per-account-pipeline as its users synthesize it, for the two accounts of its accounts.json: one stack per
 * account with that account's settings, the approval before the production account, the post-deployment check;
 * the configuration's validation; no context lookup anywhere. One synth for the file (bundling skipped).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type AccountConfig,
  ConfigError,
  loadConfig,
  parseConfig,
  type PipelineConfig,
} from '../../examples/per-account-pipeline/config.js';
import { PgMigrationPipelineStack } from '../../examples/per-account-pipeline/pipeline.js';
import { ROOT } from '../e2e/cli.js';

const EXAMPLE = join(ROOT, 'examples', 'per-account-pipeline');
const CONFIG_FILE = join(EXAMPLE, 'accounts.json');

type Resource = { Type: string; Properties: Record<string, unknown> };
type Action = {
  Name: string;
  RunOrder: number;
  ActionTypeId: { Category: string; Provider: string };
  Configuration?: Record<string, unknown>;
};

let config: PipelineConfig;
let app: App;
let pipelineStack: PgMigrationPipelineStack;
let pipelineTemplate: Template;
let stageTemplates: Map<string, Template>;

function account(name: string): AccountConfig {
  const found = config.accounts.find((a) => a.name === name);
  if (!found) throw new Error(`no account ${name}`);
  return found;
}

function pipelineStage(name: string): Action[] {
  const pipelines = pipelineTemplate.findResources('AWS::CodePipeline::Pipeline');
  const [pipeline] = Object.values(pipelines) as Array<{
    Properties: { Stages: Array<{ Name: string; Actions: Action[] }> };
  }>;
  const stage = pipeline?.Properties.Stages.find((s) => s.Name === name);
  if (!stage) throw new Error(`no pipeline stage ${name}`);
  return stage.Actions;
}

function resources(template: Template, type: string): Resource[] {
  return Object.values(template.findResources(type)) as Resource[];
}

beforeAll(() => {
  config = loadConfig(CONFIG_FILE);
  app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  pipelineStack = new PgMigrationPipelineStack(app, 'PgMigrationPipeline', { config });
  const assembly = app.synth();
  // Nothing was looked up (a lookup would leave missing context for the CLI to fill from AWS).
  const everyAssembly = [assembly, ...assembly.nestedAssemblies.map((n) => n.nestedAssembly)];
  expect(everyAssembly.flatMap((a) => a.manifest.missing ?? [])).toEqual([]);
  pipelineTemplate = Template.fromJSON(assembly.getStackByName(pipelineStack.stackName).template as object);
  stageTemplates = new Map(
    [...pipelineStack.stages].map(([name, stage]) => [
      name,
      Template.fromJSON(stage.synth().getStackByName(stage.stack.stackName).template as object),
    ]),
  );
}, 300_000);

describe('the example configuration', () => {
  it('holds two accounts, one of them production, and is valid', () => {
    expect(config.accounts.map((a) => [a.name, a.production])).toEqual([
      ['Staging', false],
      ['Production', true],
    ]);
  });

  it('fails with every problem, each naming the entry and the setting, when entries are bad', () => {
    const raw = JSON.parse(readFileSync(CONFIG_FILE, 'utf8')) as {
      pipeline: Record<string, unknown>;
      accounts: Array<Record<string, unknown>>;
    };
    raw.pipeline.connectionArn = 'not-an-arn';
    const [staging, production] = raw.accounts;
    if (!staging || !production) throw new Error('the example has two accounts');
    staging.account = '2222';
    staging.taskCpu = 3000;
    delete production.production;
    production.subnetIds = ['subnet-0b0b0b0b0b0b0b0b1', 'sn-2'];
    production.sourceSecretArn = 'arn:aws:secretsmanager:eu-west-1:333333333333:secret:pg-migrate/source-MnOpQr';
    production.tablespace = 'x';
    let error: unknown;
    try {
      parseConfig(raw, 'accounts.json');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^pipeline\.connectionArn: must be a CodeConnections connection ARN, got "not-an-arn"$/),
        expect.stringMatching(/^accounts\[0\] \(Staging\)\.account: must be a 12-digit AWS account id, got "2222"$/),
        expect.stringMatching(/^accounts\[0\] \(Staging\)\.taskCpu: must be one of 256, 512, .*, got 3000$/),
        expect.stringMatching(/^accounts\[1\] \(Production\)\.production: must be true or false \(required\)$/),
        expect.stringMatching(/^accounts\[1\] \(Production\)\.subnetIds: every entry must be a subnet id .*"sn-2"$/),
        expect.stringMatching(
          /^accounts\[1\] \(Production\)\.sourceSecretArn: the secret is in 333333333333 eu-west-1, not in this account's 333333333333 eu-central-1$/,
        ),
        expect.stringMatching(/^accounts\[1\] \(Production\)\.tablespace: unknown setting/),
      ]),
    );
    expect(problems).toHaveLength(7);
    expect((error as Error).message).toMatch(/^accounts\.json: 7 problem\(s\):\n {2}- /);
  });

  it('fails with one problem per bad section, not one per field of a section that is not an object', () => {
    const raw = JSON.parse(readFileSync(CONFIG_FILE, 'utf8')) as Record<string, unknown>;
    delete raw.pipeline;
    (raw.accounts as unknown[])[1] = 'Production';
    expect(() => parseConfig(raw)).toThrow(
      /^accounts\.json: 2 problem\(s\):\n {2}- pipeline: must be an object\n {2}- accounts\[1\]: must be an object$/,
    );
  });

  it('fails when two accounts share a name or an account and region', () => {
    const raw = JSON.parse(readFileSync(CONFIG_FILE, 'utf8')) as { accounts: Array<Record<string, unknown>> };
    const [first] = raw.accounts;
    raw.accounts.push({ ...first, name: 'staging' });
    expect(() => parseConfig(raw)).toThrow(
      /staging has the same name as Staging.*\n.*staging has the same account and region as Staging/,
    );
  });
  it('fails the app with exit code 2 and every problem of the file, before synthesis, when the file is bad', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pg-migrate-pipeline-'));
    try {
      const file = join(dir, 'accounts.json');
      const raw = JSON.parse(readFileSync(CONFIG_FILE, 'utf8')) as { accounts: Array<Record<string, unknown>> };
      const [staging] = raw.accounts;
      if (!staging) throw new Error('the example has accounts');
      staging.region = 'Europe';
      writeFileSync(file, JSON.stringify(raw));
      const outdir = join(dir, 'cdk.out');
      // As `cdk synth -c accounts=FILE` runs it: the context comes in CDK_CONTEXT_JSON.
      const result = await new Promise<{ code: number; stderr: string }>((done) => {
        execFile(
          process.execPath,
          [join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(EXAMPLE, 'app.ts')],
          {
            cwd: ROOT,
            env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify({ accounts: file }), CDK_OUTDIR: outdir },
          },
          (err, _stdout, stderr) => done({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stderr }),
        );
      });
      expect(result.code).toBe(2);
      expect(result.stderr).toBe(
        `${file}: 1 problem(s):\n  - accounts[0] (Staging).region: must be an AWS region such as eu-west-1, got "Europe"\n`,
      );
      expect(() => readFileSync(join(outdir, 'manifest.json'))).toThrow(/ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('the example pipeline', () => {
  it('deploys one stack per account, in that account and region', () => {
    expect([...pipelineStack.stages.keys()]).toEqual(['Staging', 'Production']);
    for (const [name, stage] of pipelineStack.stages) {
      expect(stage.stack.account).toBe(account(name).account);
      expect(stage.stack.region).toBe(account(name).region);
    }
    expect(pipelineStack.account).toBe(config.pipeline.account);
  });

  it("gives each account's stack that account's subnets, secrets, task size, alarm e-mail and nightly check", () => {
    for (const [name, template] of stageTemplates) {
      const a = account(name);
      for (const fn of resources(template, 'AWS::Lambda::Function')) {
        expect((fn.Properties.VpcConfig as { SubnetIds: unknown }).SubnetIds).toEqual(a.subnetIds);
      }
      template.hasResourceProperties('AWS::EC2::SecurityGroup', { VpcId: a.vpcId });
      template.hasResourceProperties('AWS::ECS::TaskDefinition', {
        Cpu: String(a.taskCpu),
        Memory: String(a.taskMemoryMiB),
      });
      template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: a.alarmEmail });
      const [hour, minute] = (a.nightlyCheck ?? '').split(':').map(Number);
      const schedules = resources(template, 'AWS::Scheduler::Schedule');
      expect(schedules).toHaveLength(1);
      expect(schedules[0]?.Properties.ScheduleExpression).toBe(`cron(${minute} ${hour} * * ? *)`);
      const input = JSON.parse((schedules[0]?.Properties.Target as { Input: string }).Input) as unknown;
      expect(input).toEqual({
        action: 'check',
        source: { secretArn: a.sourceSecretArn },
        target: { secretArn: a.targetSecretArn },
      });
      const granted = JSON.stringify(resources(template, 'AWS::IAM::Policy'));
      expect(granted).toContain(a.sourceSecretArn);
      expect(granted).toContain(a.targetSecretArn);
    }
  });

  it("lets the pipeline's account and the operations account assume each account's operations role", () => {
    for (const template of stageTemplates.values()) {
      template.hasResourceProperties('AWS::IAM::Role', {
        RoleName: config.operationsRoleName,
        AssumeRolePolicyDocument: {
          Statement: Match.arrayWith(
            [config.pipeline.account, config.operationsAccount].map((id) =>
              Match.objectLike({
                Action: 'sts:AssumeRole',
                Principal: { AWS: { 'Fn::Join': ['', Match.arrayWith([`:iam::${id}:root`])] } },
              }),
            ),
          ),
        },
      });
    }
  });

  it('waits for a manual approval before deploying to the production account, and only there', () => {
    const production = pipelineStage('Production');
    const approval = production.find((a) => a.ActionTypeId.Category === 'Approval');
    expect(approval).toMatchObject({ ActionTypeId: { Provider: 'Manual' } });
    const deploys = production.filter((a) => a.ActionTypeId.Provider === 'CloudFormation');
    expect(deploys.length).toBeGreaterThan(0);
    for (const deploy of deploys)
      expect(deploy.RunOrder).toBeGreaterThan(approval?.RunOrder ?? Number.POSITIVE_INFINITY);
    expect(pipelineStage('Staging').some((a) => a.ActionTypeId.Category === 'Approval')).toBe(false);
  });

  it('deploys the non-production account before the production one', () => {
    const pipelines = Object.values(pipelineTemplate.findResources('AWS::CodePipeline::Pipeline')) as Array<{
      Properties: { Stages: Array<{ Name: string }> };
    }>;
    const names = pipelines[0]?.Properties.Stages.map((s) => s.Name) ?? [];
    expect(names.indexOf('Staging')).toBeGreaterThan(-1);
    expect(names.indexOf('Staging')).toBeLessThan(names.indexOf('Production'));
  });

  it("runs a check in each account after its deployment, with that account's state machine and secrets, through its operations role", () => {
    const projects = pipelineTemplate.findResources('AWS::CodeBuild::Project') as Record<
      string,
      {
        Properties: {
          Environment: { EnvironmentVariables?: Array<{ Name: string; Value: unknown }> };
          Source: { BuildSpec: string };
        };
      }
    >;
    const policies = JSON.stringify(resources(pipelineTemplate, 'AWS::IAM::Policy'));
    for (const name of ['Staging', 'Production']) {
      const a = account(name);
      const actions = pipelineStage(name);
      const check = actions.find((x) => x.Name === `Check${name}`);
      expect(check?.ActionTypeId).toMatchObject({ Category: 'Build', Provider: 'CodeBuild' });
      const lastDeploy = Math.max(
        ...actions.filter((x) => x.ActionTypeId.Provider === 'CloudFormation').map((x) => x.RunOrder),
      );
      expect(check?.RunOrder).toBeGreaterThan(lastDeploy);
      // Outputs of this account's stack, read by the pipeline after the deployment.
      const outputs = Object.fromEntries(
        (
          JSON.parse(check?.Configuration?.EnvironmentVariables as string) as Array<{ name: string; value: string }>
        ).map((v) => [v.name, v.value]),
      );
      expect(outputs.STATE_MACHINE_ARN).toMatch(new RegExp(`^#\\{\\w*${name}PgMigration\\w*\\.StateMachineArn\\}$`));
      expect(outputs.OPERATIONS_ROLE_ARN).toMatch(
        new RegExp(`^#\\{\\w*${name}PgMigration\\w*\\.OperationsRoleArn\\}$`),
      );
      const project = projects[(check?.Configuration?.ProjectName as { Ref: string }).Ref]?.Properties;
      const env = Object.fromEntries((project?.Environment.EnvironmentVariables ?? []).map((v) => [v.Name, v.Value]));
      expect(env).toEqual({
        SOURCE_SECRET_ARN: a.sourceSecretArn,
        TARGET_SECRET_ARN: a.targetSecretArn,
        TARGET_REGION: a.region,
      });
      const spec = JSON.parse(project?.Source.BuildSpec ?? '{}') as {
        phases: { install: { commands: string[] }; build: { commands: string[] } };
      };
      expect(spec.phases.install.commands).toEqual(['npm ci']);
      const commands = spec.phases.build.commands.join('\n');
      expect(commands).toContain('profile.pgmigrate.role_arn "$OPERATIONS_ROLE_ARN"');
      expect(commands).toMatch(
        /AWS_PROFILE=pgmigrate npx pg-migrate aws start --state-machine-arn "\$STATE_MACHINE_ARN" --source-secret-arn "\$SOURCE_SECRET_ARN" --target-secret-arn "\$TARGET_SECRET_ARN" --action check --watch/,
      );
      // CodeBuild fails the build, and so the stage, when a command exits non-zero: `--watch` exits 2 when a check
      // blocks and 1 when the execution failed. Nothing may swallow that exit code.
      expect(commands).not.toMatch(/\|\||;\s*true|set \+e/);
      expect(policies).toContain(`:iam::${a.account}:role/${config.operationsRoleName}`);
    }
  });
});
