/**
 * The npm package as a platform team gets it: `npm pack` on a copy of the project (so the build never touches this
 * working tree), the tarball installed into a fresh CDK app next to `aws-cdk-lib`, `constructs` and cdk-nag (the
 * checker the test needs) from the registry, offline where the npm cache allows. That app imports
 * `PgMigrationWorkflow` from `pg-migrate/cdk`, checks it with cdk-nag AwsSolutions and synthesizes with bundling on;
 * its types compile for ESM and CommonJS; and the CLI of the same package migrates a database.
 */
import { execFile } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FUNCTION_NAMES } from '../../infra/state-names.js';
import { handlerModules } from '../../scripts/build-package.js';
import { contextHas, dockerfileContextSources } from '../support/dockerfile.js';
import { useCluster } from '../support/vitest.js';
import { ROOT, readJson } from '../e2e/cli.js';

const PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
  devDependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  dependencies?: Record<string, string>;
};
const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(file: string, args: readonly string[], cwd: string, env: Record<string, string> = {}): Promise<Run> {
  const base: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    // No PostgreSQL settings of the test's environment, and no npm settings of the running script.
    if (value !== undefined && !key.startsWith('PG') && !key.startsWith('npm_')) base[key] = value;
  }
  return new Promise((resolve) => {
    execFile(
      file,
      [...args],
      { cwd, env: { ...base, ...env }, maxBuffer: 64 * 1024 * 1024, timeout: 600_000 },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
      },
    );
  });
}

function npm(args: readonly string[], cwd: string): Promise<Run> {
  return run('npm', [...args, '--no-audit', '--no-fund', '--no-update-notifier'], cwd);
}

function expectOk(result: Run, what: string): void {
  expect(result.code, `${what}\n${result.stdout}\n${result.stderr}`).toBe(0);
}

let work: string;
let tarball: string;
let packed: string[];
let app: string;
let synth: Run;

/** Copies the project without what is built or installed, and links its node_modules (the build's tools). */
function copyProject(to: string): void {
  const skip = new Set(['node_modules', '.git', 'dist', 'cdk.out', 'coverage', '.tmp']);
  cpSync(ROOT, to, { recursive: true, filter: (src) => !skip.has(relative(ROOT, src).split('/')[0] ?? '') });
  symlinkSync(join(ROOT, 'node_modules'), join(to, 'node_modules'), 'dir');
}

const CONSUMER_APP = `
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import { PgMigrationWorkflow } from 'pg-migrate/cdk';

const app = new App({ outdir: 'cdk.out' });
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
const stack = new Stack(app, 'Consumer', { env: { account: '${ACCOUNT}', region: '${REGION}' } });
const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
  vpcId: 'vpc-0123456789abcdef0',
  availabilityZones: ['${REGION}a', '${REGION}b'],
  privateSubnetIds: ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0bbbbbbbbbbbbbbb2'],
});
const secret = (id, name) =>
  secretsmanager.Secret.fromSecretCompleteArn(stack, id, 'arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:' + name);
new PgMigrationWorkflow(stack, 'Workflow', {
  vpc,
  sourceSecret: secret('Source', 'pg-migrate/source-AbCdEf'),
  targetSecret: secret('Target', 'pg-migrate/target-GhIjKl'),
});
// An unacknowledged cdk-nag finding makes synth() throw.
app.synth();
process.stdout.write('synthesized\\n');
`;

/** Uses the declarations: a wrong prop type must fail (else they would have silently become \`any\`). */
const CONSUMER_TYPES = `
import { App, Stack, Stage } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import {
  PgMigrationStack,
  PgMigrationStage,
  type PgMigrationStageProps,
  PgMigrationWorkflow,
  type PgMigrationWorkflowProps,
} from 'pg-migrate/cdk';

const stack = new Stack(new App(), 'Types');
const vpc = ec2.Vpc.fromLookup(stack, 'Vpc', { vpcId: 'vpc-1' });
const props: PgMigrationWorkflowProps = { vpc, taskCpu: 1024 };
const workflow: PgMigrationWorkflow = new PgMigrationWorkflow(stack, 'Workflow', props);
export const arn: string = workflow.stateMachine.stateMachineArn;
export const stackClass: typeof Stack = PgMigrationStack;
const stageProps: PgMigrationStageProps = {
  env: { account: '${ACCOUNT}', region: '${REGION}' },
  vpcId: 'vpc-1',
  subnetIds: ['subnet-1'],
};
export const stage: Stage = new PgMigrationStage(new App(), 'Stage', stageProps);
// @ts-expect-error a stage names its account and region
export const noEnv: PgMigrationStageProps = { vpcId: 'vpc-1', subnetIds: ['subnet-1'] };
// @ts-expect-error taskCpu is a number
export const wrong: PgMigrationWorkflowProps = { vpc, taskCpu: '1024' };
`;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'pg-migrate-package-'));
  const project = join(work, 'project');
  copyProject(project);
  const dest = join(work, 'pack');
  mkdirSync(dest);
  expectOk(await npm(['pack', '--pack-destination', dest], project), 'npm pack');
  const name = readdirSync(dest).find((f) => f.endsWith('.tgz'));
  if (name === undefined) throw new Error('npm pack wrote no tarball');
  tarball = join(dest, name);
  const listing = await run('tar', ['-tzf', tarball], work);
  expectOk(listing, 'tar -t');
  packed = listing.stdout
    .split('\n')
    .filter((line) => line.startsWith('package/') && !line.endsWith('/'))
    .map((line) => line.slice('package/'.length));

  app = join(work, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  const dev = PACKAGE.devDependencies;
  expectOk(
    await npm(
      [
        'install',
        '--prefer-offline',
        `aws-cdk-lib@${dev['aws-cdk-lib']}`,
        `constructs@${dev.constructs}`,
        `cdk-nag@${dev['cdk-nag']}`,
        tarball,
      ],
      app,
    ),
    'npm install',
  );
  writeFileSync(join(app, 'app.mjs'), CONSUMER_APP);
  synth = await run(process.execPath, ['app.mjs'], app);
}, 900_000);

afterAll(() => {
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

describe('the npm package', () => {
  it('declares aws-cdk-lib and constructs as peer dependencies from the versions it is tested with, and bundles the rest', () => {
    expect(PACKAGE.peerDependencies).toEqual({
      'aws-cdk-lib': `^${PACKAGE.devDependencies['aws-cdk-lib']}`,
      constructs: `^${PACKAGE.devDependencies.constructs}`,
    });
    // The CLI, the task, the Lambdas and the library ship as bundles: a runtime dependency would only be installed
    // into every app for nothing. Add new packages to devDependencies.
    expect(PACKAGE.dependencies ?? {}).toEqual({});
  });

  it('ships the library with its types, the CLI, the task, one Lambda bundle per handler module, and the ASL', () => {
    for (const file of [
      'package.json',
      'bin/pg-migrate.js',
      'dist/cli.mjs',
      'dist/task.mjs',
      'dist/cdk/index.js',
      'dist/cdk/index.cjs',
      'dist/cdk/index.d.ts',
      'dist/cdk/index.d.cts',
      'infra/state-machine.asl.json',
    ])
      expect(packed, file).toContain(file);
    const handlers = handlerModules();
    expect(handlers).toEqual(expect.arrayContaining([...FUNCTION_NAMES]));
    for (const name of handlers) expect(packed).toContain(`dist/lambda/${name}/index.mjs`);
    // No TypeScript sources outside the image's build context, no tests, no node_modules.
    expect(
      packed.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && !f.startsWith('dist/task-image/')),
    ).toEqual([]);
    expect(packed.filter((f) => f.startsWith('test/') || f.includes('node_modules/'))).toEqual([]);
  });

  it("ships the task image's build context with everything its Dockerfile copies", () => {
    const contextFiles = packed
      .filter((f) => f.startsWith('dist/task-image/'))
      .map((f) => f.slice('dist/task-image/'.length));
    expect(contextFiles).toContain('tasks/Dockerfile');
    const dockerfile = readFileSync(
      join(app, 'node_modules', 'pg-migrate', 'dist', 'task-image', 'tasks', 'Dockerfile'),
      'utf8',
    );
    expect(dockerfile).toBe(readFileSync(join(ROOT, 'tasks', 'Dockerfile'), 'utf8'));
    const sources = dockerfileContextSources(dockerfile);
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) expect(contextHas(contextFiles, source), `COPY ${source}`).toBe(true);
  });

  it('installs into an app with no esbuild, tsx or TypeScript and no dependency of its own', () => {
    const modules = readdirSync(join(app, 'node_modules'));
    for (const tool of ['esbuild', 'tsx', 'typescript']) expect(modules).not.toContain(tool);
    expect(existsSync(join(app, 'node_modules', 'pg-migrate', 'node_modules'))).toBe(false);
  });
});

describe('an app that imports PgMigrationWorkflow from pg-migrate/cdk', () => {
  it('synthesizes with cdk-nag AwsSolutions checks and no unacknowledged finding', () => {
    expect(synth.code, `${synth.stdout}\n${synth.stderr}`).toBe(0);
    expect(synth.stdout).toContain('synthesized');
  });

  it("deploys every function from the package's prebuilt bundle, with the handler it exports", () => {
    const out = join(app, 'cdk.out');
    const template = readJson(join(out, 'Consumer.template.json')) as {
      Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
    };
    const assets = readJson(join(out, 'Consumer.assets.json')) as {
      files: Record<string, { source: { path: string; packaging?: string } }>;
    };
    const functions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    expect(functions).toHaveLength(FUNCTION_NAMES.length);
    for (const fn of functions) {
      expect(fn.Properties.Handler).toBe('index.handler');
      expect(fn.Properties.Runtime).toBe('nodejs22.x');
      const key = (fn.Properties.Code as { S3Key: string }).S3Key;
      const asset = assets.files[key.replace(/\.zip$/, '')];
      expect(asset, key).toBeDefined();
      expect(readdirSync(join(out, asset?.source.path ?? '')).sort()).toEqual(['index.mjs', 'index.mjs.map']);
    }
  });

  it('stages the task image from the packaged build context', () => {
    const out = join(app, 'cdk.out');
    const assets = readJson(join(out, 'Consumer.assets.json')) as {
      dockerImages: Record<string, { source: { directory: string; dockerFile: string } }>;
    };
    const images = Object.values(assets.dockerImages);
    expect(images).toHaveLength(1);
    const staged = join(out, images[0]?.source.directory ?? '');
    const files = readdirSync(staged, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => relative(staged, join(e.parentPath, e.name)));
    const shipped = packed
      .filter((f) => f.startsWith('dist/task-image/'))
      .map((f) => f.slice('dist/task-image/'.length));
    expect(files.sort()).toEqual(shipped.sort());
    expect(images[0]?.source.dockerFile).toBe('tasks/Dockerfile');
  });

  it('compiles against the declarations, as ESM and as CommonJS', async () => {
    writeFileSync(join(app, 'types.mts'), CONSUMER_TYPES);
    writeFileSync(join(app, 'types.cts'), CONSUMER_TYPES);
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: [],
        },
        files: ['types.mts', 'types.cts'],
      }),
    );
    const tsc = await run(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], app);
    expect(tsc.code, `${tsc.stdout}\n${tsc.stderr}`).toBe(0);
  }, 300_000);

  it('loads pg-migrate/cdk through require() too', async () => {
    const cjs = await run(
      process.execPath,
      [
        '-e',
        "const m = require('pg-migrate/cdk'); process.stdout.write([m.PgMigrationWorkflow, m.PgMigrationStack, m.PgMigrationStage].map((c) => typeof c).join(' '))",
      ],
      app,
    );
    expect(cjs.code, cjs.stderr).toBe(0);
    expect(cjs.stdout).toBe('function function function');
  });
});

describe('the CLI of the installed package', () => {
  const source = useCluster();
  const target = useCluster();

  it('runs from its bundle and migrates a database by dump', async () => {
    const bin = join(app, 'node_modules', '.bin', 'pg-migrate');
    const version = await run(bin, ['--version'], app);
    expect(version.code, version.stderr).toBe(0);
    expect(version.stdout.trim()).toBe(`${PACKAGE.version} (bundle)`);

    await source().createDatabase('shop');
    await source().loadFixture(
      'shop',
      'CREATE TABLE public.item (id int PRIMARY KEY, name text); INSERT INTO public.item SELECT g, md5(g::text) FROM generate_series(1, 500) g;',
    );
    const report = join(work, 'report.json');
    const migrate = await run(
      bin,
      ['migrate', '--dbs', 'shop', '--method', 'dump', '--no-roles', '--json', report],
      app,
      {
        PG_MIGRATE_SOURCE: source().uri('postgres'),
        PG_MIGRATE_TARGET: target().uri('postgres'),
      },
    );
    expect(migrate.code, `${migrate.stdout}\n${migrate.stderr}`).toBe(0);
    const json = readJson(report) as { ok: boolean; databases: Array<{ name: string; status: string; rows: number }> };
    expect(json.ok).toBe(true);
    expect(json.databases).toEqual([expect.objectContaining({ name: 'shop', status: 'done', rows: 500 })]);
    const [count] = await target().query<{ n: number }>('SELECT count(*)::int AS n FROM public.item', [], 'shop');
    expect(count?.n).toBe(500);
  }, 300_000);

  it('says where the demo runs instead of failing on missing sources', async () => {
    const demo = await run(join(app, 'node_modules', '.bin', 'pg-migrate'), ['demo'], app);
    expect(demo.code).toBe(2);
    expect(demo.stderr).toMatch(/clone of the pg-migrate repository/);
  });
});
