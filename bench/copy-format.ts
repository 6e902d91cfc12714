/**
 * COPY format measurement: the data copy alone (copyTables, no schema steps' indexes) in text and in binary
 * format, on pgbench tables between two throwaway PostgreSQL 15 clusters.
 *
 *   npx tsx bench/copy-format.ts [--scale 20] [--jobs 2]
 */
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { parseConnectionString } from '../core/connection.js';
import { silentLogger } from '../core/logger.js';
import { copyTables } from '../core/steps/copy.js';
import { startCluster } from '../test/support/cluster.js';

const { values: args } = parseArgs({
  options: { scale: { type: 'string', default: '20' }, jobs: { type: 'string', default: '2' } },
});
const source = await startCluster({ version: 15, walLevel: 'replica', settings: { max_wal_size: '2GB' } });
const target = await startCluster({ version: 15, walLevel: 'replica', settings: { max_wal_size: '2GB' } });
try {
  await source.createDatabase('bench');
  execFileSync('/usr/lib/postgresql/15/bin/pgbench', ['-i', '-q', '-s', args.scale], {
    env: {
      ...process.env,
      PGHOST: source.host,
      PGPORT: String(source.port),
      PGUSER: 'postgres',
      PGPASSWORD: source.password,
      PGDATABASE: 'bench',
    },
    stdio: 'ignore',
  });
  const [size] = await source.query<{ mb: number }>("SELECT (pg_database_size('bench') / 1048576)::int AS mb");
  const ctx = {
    source: parseConnectionString(source.uri('bench')),
    target: parseConnectionString(target.uri('postgres')),
    logger: silentLogger,
    progress: () => {},
  };
  console.log(`pgbench scale ${args.scale} (${size?.mb} MB), ${args.jobs} jobs, copy only`);
  console.log('| format | seconds | MB/s (COPY stream) |\n|---|---:|---:|');
  for (const format of ['text', 'binary', 'text', 'binary'] as const) {
    await target.dropDatabase('bench');
    await target.createDatabase('bench');
    await target.query(
      `CREATE TABLE pgbench_accounts (aid int, bid int, abalance int, filler char(84));
       CREATE TABLE pgbench_branches (bid int, bbalance int, filler char(88));
       CREATE TABLE pgbench_tellers (tid int, bid int, tbalance int, filler char(84));
       CREATE TABLE pgbench_history (tid int, bid int, aid int, delta int, mtime timestamp, filler char(22));`,
      [],
      'bench',
    );
    await target.query('CHECKPOINT');
    const result = await copyTables(ctx, { database: 'bench', jobs: Number(args.jobs), format, resume: false });
    console.log(
      `| ${format} | ${(result.durationMs / 1000).toFixed(1)} | ${(result.bytes / 1048576 / (result.durationMs / 1000)).toFixed(0)} |`,
    );
  }
} finally {
  source.stop();
  target.stop();
}
