/**
 * Benchmark: `pg-migrate check` over 12 databases, whole process (node start-up to exit), through the bin as a
 * user runs it. Two throwaway servers (source 14 or 15, target 15), 12 source databases with a few tables each.
 * Prints min / median / max wall time of N runs, for the bundle (dist/cli.mjs, when fresh) and for the sources
 * through tsx (PG_MIGRATE_FROM_SOURCE=1).
 *
 * Usage: npx tsx cli/bench/check-startup.ts [runs]
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { startCluster } from '../../test/support/cluster.js';
import { projectRoot } from '../paths.js';

const runs = Number(process.argv[2] ?? 7);
const root = projectRoot();
const source = await startCluster({ version: 15 });
const target = await startCluster({ version: 15 });
try {
  const dbs: string[] = [];
  for (let i = 1; i <= 12; i++) {
    const name = `app_${String(i).padStart(2, '0')}`;
    dbs.push(name);
    await source.createDatabase(name);
    await source.loadFixture(
      name,
      `CREATE TABLE public.customers (id int PRIMARY KEY, name text);
       CREATE TABLE public.orders (id bigint PRIMARY KEY, customer_id int REFERENCES public.customers (id), total numeric);
       CREATE INDEX ON public.orders (customer_id);
       CREATE VIEW public.big_orders AS SELECT * FROM public.orders WHERE total > 100;
       INSERT INTO public.customers SELECT g, 'c' || g FROM generate_series(1, 100) g;
       INSERT INTO public.orders SELECT g, 1 + g % 100, g FROM generate_series(1, 1000) g;`,
    );
  }
  const env = { ...process.env, PG_MIGRATE_SOURCE: source.uri('postgres'), PG_MIGRATE_TARGET: target.uri('postgres') };
  const measure = (label: string, extraEnv: Record<string, string>) => {
    const times: number[] = [];
    for (let i = 0; i < runs + 1; i++) {
      const started = process.hrtime.bigint();
      const result = spawnSync(
        process.execPath,
        [join(root, 'bin', 'pg-migrate.js'), 'check', '--dbs', dbs.join(',')],
        {
          cwd: root,
          env: { ...env, ...extraEnv },
          encoding: 'utf8',
        },
      );
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (result.status !== 0) throw new Error(`check failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
      if (i > 0) times.push(ms); // the first run warms the OS cache (and tsx's compile cache)
      if (i === runs && process.env.BENCH_SHOW === '1') console.log(result.stdout);
    }
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)]!;
    console.log(
      `${label.padEnd(28)} min ${times[0]!.toFixed(0)} ms  median ${median.toFixed(0)} ms  max ${times.at(-1)!.toFixed(0)} ms  (${runs} runs)`,
    );
  };
  console.log(`pg-migrate check over ${dbs.length} databases, whole process, node ${process.version}`);
  const sessions = async () => {
    const q = 'SELECT sum(sessions)::int AS n FROM pg_catalog.pg_stat_database';
    const [[s], [t]] = await Promise.all([source.query<{ n: number }>(q), target.query<{ n: number }>(q)]);
    return { source: s?.n ?? 0, target: t?.n ?? 0 };
  };
  const before = await sessions();
  spawnSync(process.execPath, [join(root, 'bin', 'pg-migrate.js'), 'check', '--dbs', dbs.join(',')], {
    cwd: root,
    env,
  });
  await new Promise((r) => setTimeout(r, 1500)); // session statistics are flushed asynchronously
  const after = await sessions();
  console.log(
    `sessions per check: source ${after.source - before.source - 1}, target ${after.target - before.target - 1}`,
  );
  measure('bundle (dist/cli.mjs)', {});
  measure('sources through tsx', { PG_MIGRATE_FROM_SOURCE: '1' });
} finally {
  source.stop();
  target.stop();
}
