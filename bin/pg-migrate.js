#!/usr/bin/env node
// pg-migrate's executable: loads the bundled CLI (dist/cli.mjs) when it exists, otherwise the TypeScript sources
// through tsx. Plain JavaScript so that `npx pg-migrate` works right after `npm ci`.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bundle = join(root, 'dist', 'cli.mjs');
let main;
if (existsSync(bundle) && process.env.PG_MIGRATE_FROM_SOURCE !== '1') {
  ({ main } = await import(pathToFileURL(bundle).href));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import(pathToFileURL(join(root, 'cli', 'main.ts')).href));
}
const code = await main(process.argv.slice(2));
process.exit(code);
