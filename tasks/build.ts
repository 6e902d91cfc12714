// Bundles the Fargate task: tasks/main.ts -> dist/task.mjs (Node 22, ESM; a createRequire banner for CJS deps).
// Usage: npx tsx tasks/build.ts
import { build } from 'esbuild';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

await build({
  entryPoints: [resolve(root, 'tasks/main.ts')],
  outfile: resolve(root, 'dist/task.mjs'),
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'esm',
  sourcemap: 'inline',
  legalComments: 'none',
  // pg's optional native binding is never used.
  external: ['pg-native'],
  banner: {
    js: "import { createRequire as __pgmCreateRequire } from 'node:module'; const require = __pgmCreateRequire(import.meta.url);",
  },
  logLevel: 'info',
});
