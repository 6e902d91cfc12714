#!/usr/bin/env node
// pg-migrate's executable. Plain JavaScript so that `npx pg-migrate` works right after `npm ci`.
// It loads the bundled CLI (dist/cli.mjs, built by `tsx cli/bundle.ts`) when that bundle is newer than every
// source file it was built from — start-up in a fraction of the time — and otherwise runs the TypeScript sources
// through tsx. `demo` always runs from the sources (it uses the test harness); PG_MIGRATE_FROM_SOURCE=1 forces them.
// The installed npm package ships the bundles and no sources: there, `demo` says where it runs instead.
import { existsSync, readdirSync, statSync } from 'node:fs';
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
  process.env.PG_MIGRATE_ENTRY = 'bundle';
  ({ main } = await import(pathToFileURL(bundle).href));
} else if (!existsSync(join(root, 'cli', 'main.ts'))) {
  process.stderr.write(
    argv[0] === 'demo'
      ? 'pg-migrate demo runs from a clone of the pg-migrate repository (it starts throwaway PostgreSQL servers with the test harness): npm ci && npm run demo there.\n'
      : `pg-migrate: this installation has no CLI bundle (${bundle}); reinstall pg-migrate.\n`,
  );
  process.exit(2);
} else {
  process.env.PG_MIGRATE_ENTRY = 'sources';
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import(pathToFileURL(join(root, 'cli', 'main.ts')).href));
}
process.exit(await main(argv));
