/**
 * Builds what the npm package ships beside the CLI bundle (package.json "prepack": `npm pack`, `npm publish`), so
 * that an app which installs the package needs neither esbuild, nor tsx, nor this repository's layout:
 * - `dist/lambda/<name>/`: one bundle per handler module `lambdas/<name>.ts` (the list is the directory's, so a new
 *   handler is picked up), made by the very function that bundles them at synth from the sources
 *   (infra/workflow-assets.ts `bundleLambda`);
 * - `dist/task.mjs`: the task bundle the local CLI runs (scripts/build.mjs);
 * - `dist/task-image/`: the task image's build context, exactly the directory a synthesis from the sources stages
 *   for it (tasks/Dockerfile and what it copies, after the construct's exclude list);
 * - `dist/cdk/`: the library entry `pg-migrate/cdk` (infra/cdk.ts) as ESM (`index.js`) and CommonJS (`index.cjs`)
 *   with `aws-cdk-lib` and `constructs` left to the app (peer dependencies), and its declarations (`index.d.ts`,
 *   `index.d.cts`): the `.d.ts` closure of the entry, which may import nothing but those two packages.
 *
 * Run: `npx tsx scripts/build-package.ts` (prepack runs it; the CLI bundle comes from "prepare").
 */
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { App, Stack } from 'aws-cdk-lib';
import { type BuildOptions, build } from 'esbuild';
import { bundleLambda, PREBUILT } from '../infra/workflow-assets.js';
import { WORKFLOW_DEFAULTS } from '../infra/workflow-props.js';
import { createTaskDefinition } from '../infra/workflow-resources.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CDK_OUT = join(ROOT, 'dist', 'cdk');

/** The packages the library's JavaScript and declarations may import: the peer dependencies (and Node's own). */
export const LIBRARY_EXTERNALS = ['aws-cdk-lib', 'constructs'] as const;

function isAllowedImport(specifier: string): boolean {
  return (
    specifier.startsWith('node:') ||
    LIBRARY_EXTERNALS.some((name) => specifier === name || specifier.startsWith(`${name}/`))
  );
}

let last = performance.now();

function step(message: string): void {
  const now = performance.now();
  process.stdout.write(`build-package: ${message} [${((now - last) / 1000).toFixed(1)} s]\n`);
  last = now;
}

/** The handler modules: every `lambdas/<name>.ts` (not `lambdas/shared/`). */
export function handlerModules(root = ROOT): string[] {
  return readdirSync(join(root, 'lambdas'), { withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts'))
    .map((entry) => entry.name.slice(0, -'.ts'.length))
    .sort();
}

function buildLambdas(): void {
  const names = handlerModules();
  for (const name of names) bundleLambda(name, join(ROOT, PREBUILT.lambdaDir(name)), ROOT);
  step(`${names.length} Lambda bundles in dist/lambda/ (${names.join(', ')})`);
}

function buildTask(): void {
  const run = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: 'inherit' });
  if (run.status !== 0) throw new Error(`scripts/build.mjs failed (exit ${run.status ?? run.signal})`);
}

/**
 * Synthesizes the construct's task definition from the sources and copies the image's staged build context: the
 * Dockerfile and exactly the files the construct's exclude list lets through.
 */
function buildTaskImageContext(): void {
  const outdir = mkdtempSync(join(tmpdir(), 'pg-migrate-prebuild-'));
  try {
    const app = new App({ outdir, builtinCloudFormationValidation: false });
    const stack = new Stack(app, 'PgMigratePrebuild');
    createTaskDefinition(stack, {
      cpu: WORKFLOW_DEFAULTS.taskCpu,
      memoryMiB: WORKFLOW_DEFAULTS.taskMemoryMiB,
      environment: {},
      retention: WORKFLOW_DEFAULTS.logRetention,
    });
    app.synth();
    const manifest = JSON.parse(readFileSync(join(outdir, `${stack.artifactId}.assets.json`), 'utf8')) as {
      dockerImages?: Record<string, { source: { directory?: string; dockerFile?: string } }>;
    };
    const images = Object.values(manifest.dockerImages ?? {});
    if (images.length !== 1 || images[0]?.source.directory === undefined)
      throw new Error(`expected one Docker image asset, found ${images.length}`);
    const context = join(ROOT, PREBUILT.taskImageContext);
    cpSync(join(outdir, images[0].source.directory), context, { recursive: true });
    const dockerfile = images[0].source.dockerFile ?? 'Dockerfile';
    if (!existsSync(join(context, dockerfile))) throw new Error(`the staged image context lacks ${dockerfile}`);
    const files = readdirSync(context, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;
    step(`task image context in ${PREBUILT.taskImageContext}/ (${files} files, Dockerfile ${dockerfile})`);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

async function buildLibrary(): Promise<void> {
  const common: BuildOptions = {
    entryPoints: [join(ROOT, 'infra', 'cdk.ts')],
    bundle: true,
    platform: 'node',
    target: 'node20',
    external: [...LIBRARY_EXTERNALS.flatMap((name) => [name, `${name}/*`]), 'esbuild'],
    legalComments: 'none',
    logLevel: 'warning',
  };
  await build({
    ...common,
    format: 'esm',
    outfile: join(CDK_OUT, 'index.js'),
    // CommonJS modules bundled into ESM require() Node built-ins: give the bundle a require().
    banner: {
      js: "import { createRequire as __pgmCreateRequire } from 'node:module';const require = __pgmCreateRequire(import.meta.url);",
    },
  });
  await build({
    ...common,
    format: 'cjs',
    outfile: join(CDK_OUT, 'index.cjs'),
    // The modules find the package through import.meta.url: give the CommonJS build one.
    define: { 'import.meta.url': '__pgmImportMetaUrl' },
    banner: { js: "const __pgmImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  });
  step('library in dist/cdk/ (index.js, index.cjs)');
}

/** Relative specifiers of a declaration file, and the others. */
function importsOf(declarations: string): { relative: string[]; packages: string[] } {
  const text = declarations.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const specifiers = [
    ...text.matchAll(/\bfrom\s+['"]([^'"]+)['"]/g),
    ...text.matchAll(/\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g),
    ...text.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm),
  ].map((m) => m[1] as string);
  return {
    relative: specifiers.filter((s) => s.startsWith('.')),
    packages: specifiers.filter((s) => !s.startsWith('.')),
  };
}

/** tsc's declarations of the entry, pruned to what `index.d.ts` reaches, for ESM (`.d.ts`) and CommonJS (`.d.cts`). */
function buildDeclarations(): void {
  const work = mkdtempSync(join(tmpdir(), 'pg-migrate-dts-'));
  try {
    const config = join(work, 'tsconfig.json');
    writeFileSync(
      config,
      JSON.stringify({
        extends: join(ROOT, 'tsconfig.json'),
        compilerOptions: {
          noEmit: false,
          declaration: true,
          emitDeclarationOnly: true,
          // `npm run typecheck` checks the sources; here tsc only writes what they declare.
          noCheck: true,
          rootDir: ROOT,
          outDir: join(work, 'out'),
          typeRoots: [join(ROOT, 'node_modules', '@types')],
        },
        files: [join(ROOT, 'infra', 'cdk.ts')],
        include: [],
      }),
    );
    const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', config], {
      cwd: ROOT,
      stdio: 'inherit',
    });
    if (tsc.status !== 0) throw new Error(`tsc failed (exit ${tsc.status ?? tsc.signal})`);

    const out = join(work, 'out');
    const closure = new Set<string>();
    const pending = [join(out, 'infra', 'cdk.d.ts')];
    const problems: string[] = [];
    while (pending.length > 0) {
      const file = pending.pop() as string;
      if (closure.has(file)) continue;
      if (!existsSync(file)) throw new Error(`declaration ${relative(out, file)} was not emitted`);
      closure.add(file);
      const { relative: rel, packages } = importsOf(readFileSync(file, 'utf8'));
      for (const p of packages.filter((s) => !isAllowedImport(s))) problems.push(`${relative(out, file)} imports ${p}`);
      for (const r of rel) pending.push(resolve(dirname(file), r.replace(/\.js$/, '.d.ts')));
    }
    if (problems.length > 0)
      throw new Error(
        `the library's declarations may import only ${LIBRARY_EXTERNALS.join(', ')}: ${problems.join('; ')}`,
      );

    for (const file of closure) {
      const path = relative(out, file);
      const text = readFileSync(file, 'utf8');
      const esm = join(CDK_OUT, 'types', path);
      mkdirSync(dirname(esm), { recursive: true });
      writeFileSync(esm, text);
      const cjs = join(CDK_OUT, 'types-cjs', path.replace(/\.d\.ts$/, '.d.cts'));
      mkdirSync(dirname(cjs), { recursive: true });
      writeFileSync(cjs, text.replace(/(['"])(\.{1,2}\/[^'"]*)\.js\1/g, '$1$2.cjs$1'));
    }
    writeFileSync(join(CDK_OUT, 'index.d.ts'), "export * from './types/infra/cdk.js';\n");
    writeFileSync(join(CDK_OUT, 'index.d.cts'), "export * from './types-cjs/infra/cdk.cjs';\n");
    step(`declarations in dist/cdk/ (${closure.size} files, importing only ${LIBRARY_EXTERNALS.join(', ')})`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  for (const dir of ['cdk', 'lambda', 'task-image']) rmSync(join(ROOT, 'dist', dir), { recursive: true, force: true });
  buildLambdas();
  buildTask();
  buildTaskImageContext();
  await buildLibrary();
  buildDeclarations();
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(realpathSync(entry)).href) await main();
