// Bundles the deployable entry points with esbuild: the Fargate task (dist/task.mjs).
// The Lambdas are bundled by CDK's NodejsFunction at synth time. tasks/Dockerfile runs this very script in its build
// stage. Usage: `node scripts/build.mjs [outdir]` (default dist/); `<outdir>/task.meta.json` lists the bundle's
// inputs (test/infra/task-image.test.ts checks that the image's build context holds every one of them).
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const outdir = process.argv[2] ?? 'dist';
const entries = [{ in: 'tasks/main.ts', out: 'task' }].filter((e) => existsSync(e.in));
if (entries.length > 0) {
  const result = await build({
    entryPoints: entries,
    outdir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    sourcemap: true,
    // Minified (names kept: error names are the Step Functions contract): half the bytes for node to read and
    // compile at every task start.
    minify: true,
    keepNames: true,
    metafile: true,
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
    logLevel: 'info',
  });
  writeFileSync(join(outdir, 'task.meta.json'), JSON.stringify(result.metafile));
}
