#!/usr/bin/env node
// pg-migrate's executable. Plain JavaScript so that `npx pg-migrate` works right after `npm ci`.
// It loads the bundled CLI (dist/cli.mjs, built by `tsx cli/bundle.ts`) when that bundle is newer than every
// source file it was built from — start-up in a fraction of the time — and otherwise runs the TypeScript sources
// through tsx. `demo` always runs from the sources (it uses the test harness); PG_MIGRATE_FROM_SOURCE=1 forces them.
import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bundle = join(root, 'dist', 'cli.mjs');

/** Newest modification time of the .ts files under `dir` (0 when it does not exist). */
function newestSource(dir) {
  let newest = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

function bundleIsFresh() {
  let built;
  try {
    built = statSync(bundle).mtimeMs;
  } catch {
    return false;
  }
  return ['cli', 'core', 'lambdas', 'tasks', 'infra'].every((dir) => newestSource(join(root, dir)) <= built);
}

const argv = process.argv.slice(2);
let main;
if (argv[0] !== 'demo' && process.env.PG_MIGRATE_FROM_SOURCE !== '1' && bundleIsFresh()) {
  ({ main } = await import(pathToFileURL(bundle).href));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import(pathToFileURL(join(root, 'cli', 'main.ts')).href));
}
process.exit(await main(argv));
