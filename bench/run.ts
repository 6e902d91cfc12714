/**
 * `npm run bench`: every benchmark, one after the other, each against the reference tools in the same run.
 *
 *   npm run bench                 # ~1 GB databases (minutes): dump engine, replication start-up, CLI check start-up
 *   npm run bench -- --quick      # small databases, for a smoke run
 *   npm run bench -- --only dump  # one of: dump, replication, cli
 *
 * Each benchmark writes its table into docs/PERFORMANCE.md (pass --no-write to only print).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    'no-write': { type: 'boolean', default: false },
  },
});
const noWrite = values['no-write'] ? ['--no-write'] : [];

const suites: { name: string; file: string; args: string[] }[] = [
  { name: 'dump', file: 'bench/dump.ts', args: [...(values.quick ? ['--quick'] : []), ...noWrite] },
  { name: 'replication', file: 'bench/replication.ts', args: [...(values.quick ? ['--scale', '5'] : []), ...noWrite] },
  { name: 'cli', file: 'cli/bench/check-startup.ts', args: [values.quick ? '3' : '7'] },
];

let failed = 0;
for (const suite of suites) {
  if (values.only !== undefined && values.only !== suite.name) continue;
  if (!existsSync(join(root, suite.file))) continue;
  console.log(`\n=== ${suite.name}: npx tsx ${suite.file} ${suite.args.join(' ')}`);
  const result = spawnSync(process.execPath, ['--import', 'tsx', join(root, suite.file), ...suite.args], {
    cwd: root,
    stdio: 'inherit',
  });
  if (result.status !== 0) {
    failed += 1;
    console.error(`=== ${suite.name} failed (exit ${result.status ?? result.signal})`);
  }
}
process.exit(failed > 0 ? 1 : 0);
