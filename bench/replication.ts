/**
 * Benchmark: time from start to "in sync" of `migrateByReplication` (fast consistent start: slot snapshot, parallel
 * COPY, post-data, subscription with copy_data = false) against native logical replication
 * (`CREATE SUBSCRIPTION … copy_data = true` into a target whose schema — tables and primary keys — exists already),
 * on the same two throwaway PostgreSQL 15 servers in the same run. Data: pgbench at the given scale.
 *
 *   npx tsx bench/replication.ts                # scale 70 (~1 GB database), jobs 4; writes docs/PERFORMANCE.md
 *   npx tsx bench/replication.ts --scale 5      # quick run (~75 MB)
 *   options: --scale N  --jobs N  --runs N (order alternates; median reported)  --no-write (print only)
 *
 * Native timing: from CREATE SUBSCRIPTION until every pg_subscription_rel row is 'r'. Ours: from the call until it
 * returns in sync (includes target database creation, pre-data, publication, slot, COPY, post-data, subscription).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConnectionString } from '../core/connection.js';
import { type ProgressEvent, silentLogger } from '../core/logger.js';
import { parseRequest } from '../core/request.js';
import { abortReplication, migrateByReplication } from '../core/steps/replication/index.js';
import { subscriptionConninfo } from '../core/steps/replication/sql.js';
import { startCluster, type TestCluster } from '../test/support/cluster.js';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const scale = flag('scale', 70);
const jobs = flag('jobs', 4);
const runs = flag('runs', 3);
const write = !args.includes('--no-write');
const BIN = '/usr/lib/postgresql/15/bin';
const DB = 'bench';

function pgbench(cluster: TestCluster, database: string, init: string): void {
  const result = spawnSync(join(BIN, 'pgbench'), ['-i', '-q', '-I', init, '-s', String(scale), database], {
    env: {
      ...process.env,
      PGHOST: cluster.host,
      PGPORT: String(cluster.port),
      PGUSER: cluster.superuser,
      PGPASSWORD: cluster.password,
    },
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`pgbench failed: ${result.stderr}`);
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function native(source: TestCluster, target: TestCluster): Promise<number> {
  const db = 'bench_native';
  await target.createDatabase(db);
  pgbench(target, db, 'dtp'); // the schema first: tables and primary keys, no data
  await source.query('CREATE PUBLICATION bench_native FOR ALL TABLES', [], DB);
  const conninfo = subscriptionConninfo(parseConnectionString(source.uri(DB)), DB, { sslmode: 'prefer' });
  const started = Date.now();
  await target.query(
    `CREATE SUBSCRIPTION bench_native CONNECTION '${conninfo.replace(/'/g, "''")}' PUBLICATION bench_native WITH (copy_data = true)`,
    [],
    db,
  );
  await waitFor(
    async () => {
      const [row] = await target.query<{ pending: number; total: number }>(
        `SELECT count(*) FILTER (WHERE r.srsubstate <> 'r')::int AS pending, count(*)::int AS total
           FROM pg_subscription_rel r JOIN pg_subscription s ON s.oid = r.srsubid WHERE s.subname = 'bench_native'`,
        [],
        db,
      );
      return row !== undefined && row.total > 0 && row.pending === 0;
    },
    3_600_000,
    'native sync',
  );
  const elapsed = Date.now() - started;
  await target.query('DROP SUBSCRIPTION bench_native', [], db);
  await source.query('DROP PUBLICATION bench_native', [], DB);
  await target.dropDatabase(db);
  return elapsed;
}

async function ours(source: TestCluster, target: TestCluster): Promise<{ ms: number; message: string }> {
  const t0 = Date.now();
  const ctx = {
    source: parseConnectionString(source.uri()),
    target: parseConnectionString(target.uri()),
    logger: silentLogger,
    progress: (event: ProgressEvent) => {
      if (event.kind === 'phase' && event.phase !== 'sync') {
        console.log(
          `  ${((Date.now() - t0) / 1000).toFixed(1)} s  ${event.phase}${event.detail ? ` (${event.detail})` : ''}`,
        );
      }
    },
  };
  const request = parseRequest({
    action: 'migrate',
    source: { uri: source.uri() },
    target: { uri: target.uri() },
    method: 'replication',
    jobs,
    timeoutSeconds: 3600,
    replicaIdentityFull: true, // pgbench_history has no primary key
  });
  const started = Date.now();
  const result = await migrateByReplication(ctx, request, {
    name: DB,
    method: 'replication',
    reasons: [],
    replicaIdentityFull: [],
    targetExists: false,
  });
  const ms = Date.now() - started;
  if (!/; in sync/.test(result.message)) throw new Error(`not in sync: ${result.message}`);
  return { ms, message: result.message };
}

/** A checkpoint on both servers, so one measurement does not pay for the previous one's dirty buffers. */
async function settle(source: TestCluster, target: TestCluster): Promise<void> {
  await Promise.all([source.query('CHECKPOINT'), target.query('CHECKPOINT')]);
}

/** The target holds exactly the source's rows (not timed): a fast result that copied less would be no result. */
async function checkCounts(source: TestCluster, target: TestCluster): Promise<void> {
  for (const table of ['pgbench_accounts', 'pgbench_branches', 'pgbench_tellers', 'pgbench_history']) {
    const sql = `SELECT count(*)::bigint::text AS n FROM ${table}`;
    const [a] = await source.query<{ n: string }>(sql, [], DB);
    const [b] = await target.query<{ n: string }>(sql, [], DB);
    if (a?.n !== b?.n) throw new Error(`${table}: source ${a?.n} rows, target ${b?.n}`);
  }
}

/** Removes what a pg-migrate run created, so that the next run starts from the same state. */
async function reset(source: TestCluster, target: TestCluster): Promise<void> {
  const ctx = {
    source: parseConnectionString(source.uri()),
    target: parseConnectionString(target.uri()),
    logger: silentLogger,
    progress: () => {},
  };
  await abortReplication(
    ctx,
    parseRequest({ action: 'abort', source: { uri: source.uri() }, target: { uri: target.uri() } }),
  );
  await target.dropDatabase(DB);
}

function section(rows: string[][], bytes: number): string {
  return [
    '## Replication',
    '',
    'Time from start to "in sync" (every table `srsubstate = r`, apply worker running, lag within `maxLagBytes`) on',
    `two throwaway PostgreSQL 15 servers on one machine (${process.env.BENCH_MACHINE ?? '2 cores, 24 GiB'}), pgbench`,
    `scale ${scale} (${(bytes / 1024 ** 3).toFixed(2)} GiB database), \`--jobs ${jobs}\`. Native: \`CREATE SUBSCRIPTION … copy_data = true\``,
    'into a target whose tables and primary keys exist (the usual way). pg-migrate: `migrateByReplication` from',
    'nothing (target database, pre-data, publication, slot with exported snapshot, parallel COPY under it,',
    'post-data, subscription with `copy_data = false`). Goal: at most 0.75× native. The order alternates between',
    "runs, each measurement starts after a CHECKPOINT on both servers, and after each pg-migrate run every table's",
    `row count is compared with the source. Load average when the run began: ${loadavg()[0]?.toFixed(1)} (the machine`,
    'is shared with other test runs: single runs vary, read the median).',
    '',
    '| run | native copy_data = true | pg-migrate fast start | ratio |',
    '|---|---:|---:|---:|',
    ...rows.map((r) => `| ${r.join(' | ')} |`),
    '',
    'Reproduce: `npx tsx bench/replication.ts` (`--scale 5` for a quick run, `--no-write` to only print).',
    '',
  ].join('\n');
}

function writeSection(text: string): void {
  const path = join(here, '..', 'docs', 'PERFORMANCE.md');
  let doc = '';
  try {
    doc = readFileSync(path, 'utf8');
  } catch {
    doc = '# Performance\n\n';
  }
  const start = doc.indexOf('## Replication');
  if (start < 0) {
    doc = `${doc.trimEnd()}\n\n${text}`;
  } else {
    const next = doc.indexOf('\n## ', start + 1);
    doc = `${doc.slice(0, start)}${text}${next < 0 ? '' : doc.slice(next + 1)}`;
  }
  writeFileSync(path, doc);
}

const source = await startCluster({ version: 15, settings: { max_wal_size: '1GB', checkpoint_timeout: '15min' } });
const target = await startCluster({ version: 15, settings: { max_wal_size: '1GB', checkpoint_timeout: '15min' } });
try {
  await source.createDatabase(DB);
  console.log(`loading pgbench scale ${scale} …`);
  pgbench(source, DB, 'dtgvp');
  const [size] = await source.query<{ b: string }>('SELECT pg_database_size($1)::text AS b', [DB]);
  const bytes = Number(size?.b ?? 0);
  console.log(`source database: ${(bytes / 1024 ** 2).toFixed(0)} MiB`);
  const rows: string[][] = [];
  const ratios: number[] = [];
  for (let run = 1; run <= runs; run++) {
    // Alternate the order (odd runs: native first) and start each measurement after a checkpoint on both servers.
    const measureNative = async () => {
      await settle(source, target);
      return native(source, target);
    };
    const measureOurs = async () => {
      await settle(source, target);
      const mine = await ours(source, target);
      await checkCounts(source, target);
      return mine;
    };
    let nativeMs: number;
    let mine: { ms: number; message: string };
    if (run % 2 === 1) {
      nativeMs = await measureNative();
      mine = await measureOurs();
    } else {
      mine = await measureOurs();
      nativeMs = await measureNative();
    }
    const ratio = mine.ms / nativeMs;
    ratios.push(ratio);
    console.log(
      `run ${run}: native ${(nativeMs / 1000).toFixed(1)} s, pg-migrate ${(mine.ms / 1000).toFixed(1)} s, ratio ${ratio.toFixed(2)}×`,
    );
    rows.push([
      `${new Date().toISOString().slice(0, 10)} #${run} (${run % 2 === 1 ? 'native first' : 'pg-migrate first'})`,
      `${(nativeMs / 1000).toFixed(1)} s`,
      `${(mine.ms / 1000).toFixed(1)} s`,
      `${ratio.toFixed(2)}×`,
    ]);
    await reset(source, target);
  }
  const median = [...ratios].sort((a, b) => a - b)[Math.floor(ratios.length / 2)] ?? 0;
  console.log(`median ratio: ${median.toFixed(2)}× (goal <= 0.75×)`);
  rows.push(['**median**', '', '', `**${median.toFixed(2)}×**`]);
  if (write) writeSection(section(rows, bytes));
} finally {
  source.stop();
  target.stop();
}
