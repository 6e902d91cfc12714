/**
 * Where the workflow's code comes from — the one place that knows. Two cases:
 * - **From this repository's sources** (the construct runs as TypeScript: `npm run synth`, the tests): each Lambda
 *   is bundled at synth time from `lambdas/<name>.ts` by esbuild ({@link bundleLambda}), and the task image's build
 *   context is the repository root.
 * - **From the installed package** (`pg-migrate/cdk`, compiled JavaScript): the Lambda bundles and the task image's
 *   build context were prebuilt into the package by `npm pack` (`scripts/build-package.ts`, with this module's
 *   {@link bundleLambda} and {@link PREBUILT}), so an app that installs the package needs neither esbuild, nor tsx,
 *   nor this repository's layout.
 *
 * The construct asks {@link lambdaCode} and {@link taskImageContext}; nothing else knows a path.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AssetHashType, type BundlingOptions, DockerImage, type ILocalBundling } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as Esbuild from 'esbuild';

/** The package's name (its package.json marks the root). */
const PACKAGE_NAME = 'pg-migrate';

/** Where `npm pack` puts the prebuilt assets, relative to the package root. */
export const PREBUILT = {
  /** `dist/lambda/<name>/index.mjs` (+ its source map): one directory per handler module `lambdas/<name>.ts`. */
  lambdaDir: (name: string): string => join('dist', 'lambda', name),
  /** The task image's build context: exactly the files synthesis from the sources stages for it. */
  taskImageContext: join('dist', 'task-image'),
} as const;

/** The handler every Lambda bundle exports (`index.mjs`, export `handler`). */
export const LAMBDA_HANDLER = 'index.handler';

/** The file every Lambda bundle is written to. */
const LAMBDA_BUNDLE_FILE = 'index.mjs';

/** True when this module runs as TypeScript from the repository, false when it runs compiled from the package. */
export function runsFromSources(moduleUrl: string = import.meta.url): boolean {
  return /\.[cm]?tsx?$/.test(new URL(moduleUrl).pathname);
}

let packageRoot: string | undefined;

/** The directory of pg-migrate's package.json: the repository root, or the installed package's root. */
export function pgMigrateRoot(): string {
  if (packageRoot !== undefined) return packageRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown }).name === PACKAGE_NAME) {
      packageRoot = dir;
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`pg-migrate: cannot find the ${PACKAGE_NAME} package root (package.json)`);
    dir = parent;
  }
}

/** The esbuild options of a Lambda bundle: ESM for Node 22, source maps, the AWS SDK left to the runtime. */
export function lambdaBuildOptions(entry: string, outdir: string): Esbuild.BuildOptions {
  return {
    entryPoints: [entry],
    outfile: join(outdir, LAMBDA_BUNDLE_FILE),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    sourcemap: true,
    mainFields: ['module', 'main'],
    // pg and friends are CommonJS and require() Node built-ins: give the ESM bundle a require().
    banner: {
      js: "import { createRequire as __pgmCreateRequire } from 'node:module';const require = __pgmCreateRequire(import.meta.url);",
    },
    // The Node.js 22 runtime provides the AWS SDK v3; pg-native is an optional native add-on pg never needs here.
    external: ['@aws-sdk/*', 'pg-native'],
    logLevel: 'warning',
  };
}

/** The source of the handler module `lambdas/<name>.ts` in the repository. */
function lambdaEntry(root: string, name: string): string {
  return join(root, 'lambdas', `${name}.ts`);
}

/** Bundles `lambdas/<name>.ts` into `outdir/index.mjs` with esbuild (a dev dependency: sources only). */
export function bundleLambda(name: string, outdir: string, root: string = pgMigrateRoot()): void {
  let esbuild: typeof Esbuild;
  try {
    esbuild = createRequire(import.meta.url)('esbuild') as typeof Esbuild;
  } catch {
    throw new Error(
      'pg-migrate: bundling the Lambda functions from sources needs esbuild (a dev dependency): run npm ci',
    );
  }
  esbuild.buildSync(lambdaBuildOptions(lambdaEntry(root, name), outdir));
}

/**
 * Local bundling by esbuild. Its fields are part of CDK's asset cache key (it is JSON-serialized with the bundling
 * options), so each handler gets its own bundle.
 */
class EsbuildBundling implements ILocalBundling {
  constructor(
    readonly handlerModule: string,
    private readonly root: string,
  ) {}

  tryBundle(outputDir: string): boolean {
    bundleLambda(this.handlerModule, outputDir, this.root);
    return true;
  }
}

/**
 * The code of the Lambda function that runs `lambdas/<name>.ts`: the prebuilt bundle in the installed package, or
 * a bundle esbuild makes at synth from the sources (skipped, as for every asset, under `aws:cdk:bundling-stacks`).
 * The handler is {@link LAMBDA_HANDLER} either way.
 */
export function lambdaCode(name: string): lambda.Code {
  const root = pgMigrateRoot();
  if (!runsFromSources()) {
    const dir = join(root, PREBUILT.lambdaDir(name));
    if (!existsSync(join(dir, LAMBDA_BUNDLE_FILE)))
      throw new Error(
        `pg-migrate: the package has no prebuilt code for the ${name} function (${dir}); reinstall pg-migrate`,
      );
    return lambda.Code.fromAsset(dir);
  }
  if (!existsSync(lambdaEntry(root, name))) throw new Error(`pg-migrate: no handler module lambdas/${name}.ts`);
  const bundling: BundlingOptions = {
    // Never used: local bundling always succeeds or throws (Docker bundling would need its own image).
    image: DockerImage.fromRegistry('pg-migrate-bundles-locally-with-esbuild'),
    local: new EsbuildBundling(name, root),
  };
  return lambda.Code.fromAsset(join(root, 'lambdas'), { assetHashType: AssetHashType.OUTPUT, bundling });
}

/**
 * The directory the task image is built from (with `tasks/Dockerfile` and the construct's exclude list): the
 * repository root, or the context prebuilt into the installed package (the same files, already filtered).
 */
export function taskImageContext(): string {
  const root = pgMigrateRoot();
  if (runsFromSources()) return root;
  const dir = join(root, PREBUILT.taskImageContext);
  if (!existsSync(dir))
    throw new Error(`pg-migrate: the package has no prebuilt task image context (${dir}); reinstall pg-migrate`);
  return dir;
}

/** The task image's Dockerfile and its ignore file, relative to {@link taskImageContext}. */
export const TASK_DOCKERFILE = 'tasks/Dockerfile';
export const TASK_DOCKERIGNORE = 'tasks/Dockerfile.dockerignore';

/** The patterns of a `.dockerignore` text (comments and blank lines left out). */
export function dockerignorePatterns(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

/**
 * The exclude list CDK stages the task image's context with: the very patterns of `tasks/Dockerfile.dockerignore`
 * (Docker mode), so the staged context and a plain `docker build -f tasks/Dockerfile .` see the same files.
 */
export function taskImageExclude(context: string = taskImageContext()): string[] {
  return dockerignorePatterns(readFileSync(join(context, TASK_DOCKERIGNORE), 'utf8'));
}
