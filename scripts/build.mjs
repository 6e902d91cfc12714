// Bundles the deployable entry points with esbuild: the Fargate task (dist/task.mjs).
// The Lambdas are bundled by CDK's NodejsFunction at synth time.
import { existsSync } from 'node:fs';
import { build } from 'esbuild';

const entries = [{ in: 'tasks/main.ts', out: 'task' }].filter((e) => existsSync(e.in));
if (entries.length > 0) {
  await build({
    entryPoints: entries,
    outdir: 'dist',
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    sourcemap: true,
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
    logLevel: 'info',
  });
}
