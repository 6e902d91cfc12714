// Bundles the CLI: cli/main.ts -> dist/cli.mjs (Node 20+, ESM), so that `pg-migrate` starts without compiling
// TypeScript and without resolving hundreds of modules; then the Fargate task (scripts/build.mjs -> dist/task.mjs),
// which local runs start as the container does, instead of compiling tasks/main.ts with tsx. bin/pg-migrate.js uses the bundle only while it is newer
// than every source file it was built from; otherwise it runs the sources through tsx.
// Usage: npx tsx cli/bundle.ts (the `prepare` script runs it after npm ci)
import { dirname, resolve } from 'node:path';
import type * as Esbuild from 'esbuild';
import { fileURLToPath, pathToFileURL } from 'node:url';

// esbuild is a devDependency: without it there is no bundle, and the bin runs the sources.
let build: typeof Esbuild.build;
try {
  ({ build } = await import('esbuild'));
} catch {
  console.warn('pg-migrate: esbuild is not installed; the CLI runs from its TypeScript sources (slower start-up)');
  process.exit(0);
}

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

// aws-local-stepfunctions imports the Lambda SDK (to call real Lambdas when a Task has no local override) and
// asl-validator at load time: ~350 ms of start-up. The CLI overrides every Task state and skips validation (the
// infra tests validate the artefact), so both are replaced by stubs that throw if ever called.
const stubs: Record<string, string> = {
  '@aws-sdk/client-lambda':
    'export class LambdaClient { constructor() { throw new Error("pg-migrate: no Lambda calls in local runs"); } } export class InvokeCommand {}',
  '@aws-sdk/credential-providers':
    'export function fromCognitoIdentityPool() { throw new Error("pg-migrate: no Cognito in local runs"); }',
  'asl-validator': 'export default function aslValidator() { return { isValid: true, errorsText: () => "" }; }',
};

await build({
  entryPoints: [resolve(root, 'cli/main.ts')],
  outfile: resolve(root, 'dist/cli.mjs'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: 'linked',
  legalComments: 'none',
  minify: true,
  keepNames: true,
  external: ['pg-native'],
  banner: {
    js: "import { createRequire as __pgmCreateRequire } from 'node:module'; const require = __pgmCreateRequire(import.meta.url);",
  },
  plugins: [
    {
      name: 'local-run-stubs',
      setup(b) {
        b.onResolve({ filter: /^(@aws-sdk\/client-lambda|@aws-sdk\/credential-providers|asl-validator)$/ }, (args) =>
          args.importer.includes('aws-local-stepfunctions') ? { path: args.path, namespace: 'stub' } : undefined,
        );
        b.onLoad({ filter: /.*/, namespace: 'stub' }, (args) => ({ contents: stubs[args.path], loader: 'js' }));
      },
    },
  ],
  logLevel: 'warning',
});

// The task bundle, so that a local run's task starts as it does in the container (no TypeScript compiled).
process.chdir(root);
await import(pathToFileURL(resolve(root, 'scripts', 'build.mjs')).href);
