/**
 * `npm run bench`: every case of issue #13, each measured the way a user runs pg-migrate (the whole CLI through its
 * bin, pre-checks included) and as the engine alone, against the reference tools in the same run, on two throwaway
 * PostgreSQL 15 servers on this machine. Median of `--runs` (3); load averages before and after; every figure is
 * flagged when other work used more than 5 % of the CPUs while it was taken, and the run refuses to start on a
 * busy machine (1-minute load average above `--max-load`, default 0.5) unless `--allow-load`.
 *
 *   npm run bench                        # the whole table (~15 min on 2 cores); rewrites docs/PERFORMANCE.md
 *   npm run bench -- --quick             # small databases, 1 run each, nothing written: a smoke run of the harness
 *   npm run bench -- --only dump,check   # some cases: dump, tables, check, replication, scaling
 *   options: --runs N  --jobs N  --no-write  --allow-load  --max-load X
 *
 * Cases: `dump` (~650 MB pgbench + jsonb database), `tables` (1,500 tables: 150 schemas × 10 tables with a primary
 * key and an index), `check` (12 databases), `replication` (to in sync), `scaling` (the engine with jobs 1, 2, 4).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startCluster, type TestCluster } from '../test/support/cluster.js';
import { checkDatabases, jsonbDatabase, tenantDatabase } from './lib/datasets.js';
import { describeMachine, MAX_FOREIGN_SHARE, type Quietness, settleLoad, Window } from './lib/machine.js';
import { pipe, run, runOk } from './lib/processes.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    runs: { type: 'string' },
    jobs: { type: 'string', default: '2' },
    'no-write': { type: 'boolean', default: false },
    'allow-load': { type: 'boolean', default: false },
    'max-load': { type: 'string', default: '0.5' },
  },
});
const quick = args.quick;
const runs = Number(args.runs ?? (quick ? 1 : 3));
const jobs = Number(args.jobs);
const cases = new Set((args.only ?? 'dump,tables,check,replication,scaling').split(','));
const write = !args['no-write'] && !quick && cases.size === 5;
const BIN = process.env.PG_MIGRATE_PG_BIN ?? '/usr/lib/postgresql/15/bin';
const PGCOPYDB = '/usr/bin/pgcopydb';
/** aiven-db-migrate `--validate` over the same 12 databases, from issue #13 (same machine kind); not runnable here. */
const AIVEN_VALIDATE_SECONDS = 3.35;

// ---------------------------------------------------------------------------------------------------------------
// Measuring

interface Figure {
  readonly label: string;
  readonly seconds: number[];
  readonly quiet: Quietness[];
  note?: string;
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const fmt = (s: number) => (Number.isFinite(s) ? s.toFixed(2) : '—');

let servers: TestCluster[] = [];
const postmasters = () =>
  servers.flatMap((s) => {
    try {
      return [Number(readFileSync(join(s.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0])];
    } catch {
      return [];
    }
  });

/** Times `fn` `runs` times (fresh state from `reset` before each, not timed) into a figure. */
async function measure(
  label: string,
  fn: () => Promise<number | undefined>,
  reset: () => Promise<void>,
  count = runs,
): Promise<Figure> {
  const figure: Figure = { label, seconds: [], quiet: [] };
  for (let i = 0; i < count; i++) {
    await reset();
    await Promise.all(servers.map((s) => s.query('CHECKPOINT')));
    const window = new Window(() => [process.pid, ...postmasters()]);
    const started = process.hrtime.bigint();
    const own = await fn();
    const seconds = own ?? Number(process.hrtime.bigint() - started) / 1e9;
    const quiet = window.close();
    figure.seconds.push(seconds);
    figure.quiet.push(quiet);
    const flag =
      quiet.foreignShare > MAX_FOREIGN_SHARE ? `  LOADED (other work ${(quiet.foreignShare * 100).toFixed(0)} %)` : '';
    console.error(
      `  ${label}: ${fmt(seconds)} s (load ${quiet.loadBefore.toFixed(2)} → ${quiet.loadAfter.toFixed(2)})${flag}`,
    );
  }
  return figure;
}

const loaded = (f: Figure) => f.quiet.some((q) => q.foreignShare > MAX_FOREIGN_SHARE);

// ---------------------------------------------------------------------------------------------------------------
// Tools

function libpq(cluster: TestCluster, database: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PGHOST: cluster.host,
    PGPORT: String(cluster.port),
    PGUSER: cluster.superuser,
    PGPASSWORD: cluster.password,
    PGDATABASE: database,
  };
}

async function fresh(target: TestCluster, name: string): Promise<void> {
  await target.dropDatabase(name);
  await target.createDatabase(name);
}

/** pg_dump -Fc -Z0 | pg_restore. */
function dumpPipe(source: TestCluster, target: TestCluster, db: string, into: string): Promise<number> {
  return pipe(
    { file: join(BIN, 'pg_dump'), argv: ['-Fc', '-Z0'], env: libpq(source, db) },
    { file: join(BIN, 'pg_restore'), argv: ['--exit-on-error', '-d', into], env: libpq(target, into) },
  );
}

/** pg_dump -Fd -Z0 -j N, then pg_restore -j N. */
async function dumpDirectory(source: TestCluster, target: TestCluster, db: string, into: string): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'pgm-bench-'));
  try {
    const started = process.hrtime.bigint();
    await runOk(join(BIN, 'pg_dump'), ['-Fd', '-Z0', '-j', String(jobs), '-f', join(dir, 'd')], {
      env: libpq(source, db),
    });
    await runOk(join(BIN, 'pg_restore'), ['--exit-on-error', '-j', String(jobs), '-d', into, join(dir, 'd')], {
      env: libpq(target, into),
    });
    return Number(process.hrtime.bigint() - started) / 1e9;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function pgcopydb(source: TestCluster, target: TestCluster, db: string, into: string): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'pgm-pgcopydb-'));
  try {
    const ran = await runOk(
      PGCOPYDB,
      [
        'clone',
        '--dir',
        dir,
        '--table-jobs',
        String(jobs),
        '--index-jobs',
        String(jobs),
        '--split-tables-larger-than',
        '256MB',
      ],
      { env: { ...process.env, PGCOPYDB_SOURCE_PGURI: source.uri(db), PGCOPYDB_TARGET_PGURI: target.uri(into) } },
    );
    return ran.seconds;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The CLI as a user runs it; returns its wall time and the peak RSS of the CLI and of its task child. */
async function cli(
  source: TestCluster,
  target: TestCluster,
  argv: readonly string[],
): Promise<{ seconds: number; cliBytes: number; taskBytes: number; report: { ok: boolean } }> {
  const dir = mkdtempSync(join(tmpdir(), 'pgm-cli-'));
  try {
    const json = join(dir, 'report.json');
    const ran = await run(process.execPath, [join(root, 'bin', 'pg-migrate.js'), ...argv, '--json', json], {
      cwd: root,
      env: { ...process.env, PG_MIGRATE_SOURCE: source.uri('postgres'), PG_MIGRATE_TARGET: target.uri('postgres') },
      trackRss: true,
    });
    if (ran.code !== 0)
      throw new Error(
        `pg-migrate ${argv.join(' ')} exited ${ran.code}:\n${ran.stdout.slice(-3000)}${ran.stderr.slice(-3000)}`,
      );
    const task = ran.peaks.filter((p) => p.command.includes('task.mjs') || p.command.includes('tasks/main.ts'));
    const self = ran.peaks.filter((p) => p.command.includes('pg-migrate.js'));
    return {
      seconds: ran.seconds,
      cliBytes: Math.max(0, ...self.map((p) => p.bytes)),
      taskBytes: Math.max(0, ...task.map((p) => p.bytes)),
      report: JSON.parse(readFileSync(json, 'utf8')) as { ok: boolean },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `pg-migrate migrate` of one database by `method`, as the cases run it (replication with REPLICA IDENTITY FULL). */
function migrateArgv(method: 'dump' | 'replication', db: string): string[] {
  return [
    'migrate',
    '--method',
    method,
    ...(method === 'replication' ? ['--replica-identity-full'] : []),
    '--dbs',
    db,
    '--jobs',
    String(jobs),
    '--no-roles',
  ];
}

let engineBundle = '';
/** The engine alone, from its bundle; returns the engine call's seconds. */
async function engine(
  source: TestCluster,
  target: TestCluster,
  db: string,
  method: 'dump' | 'replication',
  jobCount = jobs,
): Promise<{ seconds: number; processSeconds: number; rssBytes: number }> {
  const ran = await run(process.execPath, [engineBundle], {
    env: {
      ...process.env,
      BENCH_SOURCE: source.uri(db),
      BENCH_TARGET: target.uri('postgres'),
      BENCH_DB: db,
      BENCH_JOBS: String(jobCount),
      BENCH_METHOD: method,
    },
  });
  const line = ran.stdout.trim().split('\n').at(-1) ?? '';
  const out = (line.startsWith('{') ? JSON.parse(line) : {}) as {
    status?: string;
    seconds?: number;
    maxRssBytes?: number;
    message?: string;
  };
  const ok = method === 'dump' ? out.status === 'done' : /in sync/.test(out.message ?? '');
  if (ran.code !== 0 || !ok)
    throw new Error(`engine (${method}) failed: ${out.message ?? ''}\n${ran.stderr.slice(-3000)}`);
  return { seconds: out.seconds ?? ran.seconds, processSeconds: ran.seconds, rssBytes: out.maxRssBytes ?? 0 };
}

/**
 * Every table's row count on both sides is equal (not timed): a fast result that copied less is no result. pg-migrate's
 * own progress schema on the target (`_pg_migrate`, kept until cutover by a replication run) is not the user's data.
 */
async function sameCounts(source: TestCluster, target: TestCluster, db: string, into = db): Promise<void> {
  const sql = `SELECT format('%I.%I', n.nspname, c.relname) AS t, (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %I.%I', n.nspname, c.relname), false, true, '')))[1]::text AS n
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
                  AND n.nspname <> '_pg_migrate' ORDER BY 1`;
  const [a, b] = await Promise.all([source.query(sql, [], db), target.query(sql, [], into)]);
  if (JSON.stringify(a) !== JSON.stringify(b))
    throw new Error(`row counts differ between source ${db} and target ${into}`);
}

// ---------------------------------------------------------------------------------------------------------------
// Cases

interface Target {
  readonly label: string;
  readonly figure: string;
  readonly reference: string;
  readonly ratio?: number;
  readonly goal: string;
  readonly pass: boolean;
  readonly loaded: boolean;
  readonly measuredHere: boolean;
}
const targets: Target[] = [];
const tables: string[] = [];

function table(title: string, figures: readonly Figure[], reference: Figure): void {
  const base = median(reference.seconds);
  tables.push(
    [
      `**${title}** (median of ${runs}; load average before → after each run)`,
      '',
      '| tool | seconds | × reference | runs (s) | load | note |',
      '|---|---:|---:|---|---|---|',
      ...figures.map(
        (f) =>
          `| ${f.label.replace(/\|/g, '\\|')} | ${fmt(median(f.seconds))} | ${(median(f.seconds) / base).toFixed(2)} | ${f.seconds.map(fmt).join(', ')} | ${f.quiet.map((q) => `${q.loadBefore.toFixed(1)}→${q.loadAfter.toFixed(1)}`).join(', ')}${loaded(f) ? ' **LOADED**' : ''} | ${f.note ?? ''} |`,
      ),
    ].join('\n'),
  );
}

function ratioTarget(label: string, ours: Figure, reference: Figure, goal: number): void {
  const ratio = median(ours.seconds) / median(reference.seconds);
  targets.push({
    label,
    figure: `${fmt(median(ours.seconds))} s`,
    reference: `${fmt(median(reference.seconds))} s (${reference.label})`,
    ratio,
    goal: `≤ ${goal.toFixed(1)}×`,
    pass: ratio <= goal,
    loaded: loaded(ours) || loaded(reference),
    measuredHere: true,
  });
}

async function dumpCase(source: TestCluster, target: TestCluster): Promise<void> {
  const db = 'bench';
  const size = await jsonbDatabase(source, db, quick ? { scale: 3, docs: 60_000 } : { scale: 30, docs: 600_000 });
  console.error(`dump case: ${size} MB`);
  const into = (name: string) => () => fresh(target, name);
  const drop = () => target.dropDatabase(db);
  const pipeRef = await measure(
    'pg_dump -Fc -Z0 | pg_restore',
    () => dumpPipe(source, target, db, 'b_pipe'),
    into('b_pipe'),
  );
  const dir = await measure(
    `pg_dump -Fd -Z0 -j ${jobs} + pg_restore -j ${jobs}`,
    () => dumpDirectory(source, target, db, 'b_dir'),
    into('b_dir'),
  );
  const copydb: Figure = existsSync(PGCOPYDB)
    ? await measure(
        `pgcopydb clone (${jobs} table jobs, ${jobs} index jobs)`,
        () => pgcopydb(source, target, db, 'b_pgcopydb'),
        into('b_pgcopydb'),
      )
    : { label: 'pgcopydb clone', seconds: [Number.NaN], quiet: [] };
  copydb.note = existsSync(PGCOPYDB)
    ? 'no ANALYZE, no verification'
    : 'not installed (apt-get install pgcopydb): not measured';
  for (const name of ['b_pipe', 'b_dir', 'b_pgcopydb']) await target.dropDatabase(name);
  let rss = { cli: 0, task: 0 };
  const whole = await measure(
    `pg-migrate migrate --method dump --jobs ${jobs} (whole CLI)`,
    async () => {
      const r = await cli(source, target, migrateArgv('dump', db));
      if (!r.report.ok) throw new Error('the CLI run did not end ok');
      rss = { cli: Math.max(rss.cli, r.cliBytes), task: Math.max(rss.task, r.taskBytes) };
      await sameCounts(source, target, db);
      return r.seconds;
    },
    drop,
  );
  whole.note = 'pre-checks, task start, copy, post-data, ANALYZE, verification; bin/pg-migrate.js to exit';
  const alone = await measure(
    `pg-migrate engine alone (migrateByDump, jobs ${jobs})`,
    async () => (await engine(source, target, db, 'dump')).seconds,
    drop,
  );
  alone.note = 'the same work without CLI, state machine and pre-checks';
  await drop();
  table(
    `Dump: ${size} MB (pgbench scale ${quick ? 3 : 30} + jsonb documents with a GIN and a btree index)`,
    [pipeRef, dir, copydb, whole, alone],
    pipeRef,
  );
  ratioTarget('dump, whole CLI', whole, pipeRef, 1.0);
  ratioTarget('dump, engine alone', alone, pipeRef, 0.9);
  const peak = rss.cli + rss.task;
  targets.push({
    label: 'dump, peak RSS of the CLI + its task child',
    figure: `${Math.round(peak / 1048576)} MB (CLI ${Math.round(rss.cli / 1048576)} + task ${Math.round(rss.task / 1048576)})`,
    reference: '—',
    goal: '≤ 256 MB',
    pass: peak <= 256 * 1048576,
    loaded: false,
    measuredHere: true,
  });
}

async function scalingCase(source: TestCluster, target: TestCluster): Promise<void> {
  const db = 'bench';
  const size = await jsonbDatabase(source, db, quick ? { scale: 3, docs: 60_000 } : { scale: 30, docs: 600_000 });
  const figures: Figure[] = [];
  for (const j of [1, 2, 4]) {
    const f = await measure(
      `engine alone, jobs ${j}`,
      async () => (await engine(source, target, db, 'dump', j)).seconds,
      () => target.dropDatabase(db),
    );
    figures.push(f);
  }
  await target.dropDatabase(db);
  table(
    `Scaling of the dump engine with jobs (${size} MB; copier and both servers share the machine's cores)`,
    figures,
    figures[0]!,
  );
}

async function tablesCase(source: TestCluster, target: TestCluster): Promise<void> {
  const db = 'tenants';
  const { schemas, perSchema } = quick ? { schemas: 15, perSchema: 10 } : { schemas: 150, perSchema: 10 };
  await tenantDatabase(source, db, schemas, perSchema);
  const pipeRef = await measure(
    'pg_dump -Fc -Z0 | pg_restore',
    () => dumpPipe(source, target, db, 't_pipe'),
    () => fresh(target, 't_pipe'),
  );
  await target.dropDatabase('t_pipe');
  const drop = () => target.dropDatabase(db);
  const whole = await measure(
    `pg-migrate migrate --method dump --jobs ${jobs} (whole CLI)`,
    async () => {
      const r = await cli(source, target, migrateArgv('dump', db));
      if (!r.report.ok) throw new Error('the CLI run did not end ok');
      return r.seconds;
    },
    drop,
  );
  const alone = await measure(
    `pg-migrate engine alone (jobs ${jobs})`,
    async () => (await engine(source, target, db, 'dump')).seconds,
    drop,
  );
  await sameCounts(source, target, db);
  await drop();
  table(
    `${schemas * perSchema} small tables (${schemas} schemas × ${perSchema} tables, each with a primary key and an index, 100 rows)`,
    [pipeRef, whole, alone],
    pipeRef,
  );
  ratioTarget(`${schemas * perSchema} tables, whole CLI`, whole, pipeRef, 1.5);
}

async function checkCase(source: TestCluster, target: TestCluster): Promise<void> {
  const dbs = await checkDatabases(source, 12);
  const sessions = async () => {
    const q = 'SELECT coalesce(sum(sessions), 0)::int AS n FROM pg_catalog.pg_stat_database WHERE datname IS NOT NULL';
    const [[s], [t]] = await Promise.all([source.query<{ n: number }>(q), target.query<{ n: number }>(q)]);
    return { source: s?.n ?? 0, target: t?.n ?? 0 };
  };
  const argv = ['check', '--dbs', dbs.join(',')];
  // Sessions of one run, counted by the servers (statistics are flushed asynchronously: wait a little).
  const before = await sessions();
  await cli(source, target, argv).catch(() => undefined);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const after = await sessions();
  const perDb = Math.max(after.source - before.source - 1, after.target - before.target - 1) / dbs.length;
  const whole = await measure(
    'pg-migrate check over 12 databases (whole CLI)',
    async () => (await cli(source, target, argv)).seconds,
    async () => {},
  );
  whole.note = `${after.source - before.source - 1} sessions on the source, ${after.target - before.target - 1} on the target`;
  const minimal = await measure(
    'minimal validator: 1 session per database per server (node + pg)',
    async () =>
      (
        await runOk(process.execPath, [
          join(root, 'bench', 'lib', 'validator.mjs'),
          source.uri('postgres'),
          target.uri('postgres'),
          ...dbs,
        ])
      ).seconds,
    async () => {},
  );
  minimal.note = 'bench/lib/validator.mjs: the sessions and catalog reads a validator needs, nothing else';
  table('`check` over 12 databases', [whole, minimal], minimal);
  targets.push({
    label: 'check over 12 databases, whole CLI',
    figure: `${fmt(median(whole.seconds))} s`,
    reference: `${AIVEN_VALIDATE_SECONDS} s (aiven-db-migrate --validate, issue #13's figure: NOT measured in this run — it is Python and PyPI is unreachable here)`,
    ratio: median(whole.seconds) / AIVEN_VALIDATE_SECONDS,
    goal: '≤ 0.5×',
    pass: median(whole.seconds) / AIVEN_VALIDATE_SECONDS <= 0.5,
    loaded: loaded(whole),
    measuredHere: false,
  });
  ratioTarget('check over 12 databases, whole CLI, against the minimal validator', whole, minimal, 1.0);
  targets.push({
    label: 'check, sessions per database per run',
    figure: perDb.toFixed(1),
    reference: '—',
    goal: '≤ 2',
    pass: perDb <= 2,
    loaded: false,
    measuredHere: true,
  });
}

async function replicationCase(source: TestCluster, target: TestCluster): Promise<void> {
  const db = 'rbench';
  const size = await jsonbDatabase(source, db, quick ? { scale: 3, docs: 60_000 } : { scale: 30, docs: 600_000 });
  const nativeRef = await measure(
    'native: schema restored, then CREATE SUBSCRIPTION … copy_data = true until every table is ready',
    async () => {
      const started = process.hrtime.bigint();
      await pipe(
        { file: join(BIN, 'pg_dump'), argv: ['-Fc', '-Z0', '--schema-only'], env: libpq(source, db) },
        { file: join(BIN, 'pg_restore'), argv: ['--exit-on-error', '-d', db], env: libpq(target, db) },
      );
      await source.query('CREATE PUBLICATION bench_native FOR ALL TABLES', [], db);
      const u = new URL(source.uri(db));
      const conninfo = `host=${u.hostname} port=${u.port} user=${decodeURIComponent(u.username)} password=${decodeURIComponent(u.password)} dbname=${db}`;
      await target.query(
        `CREATE SUBSCRIPTION bench_native CONNECTION '${conninfo}' PUBLICATION bench_native WITH (copy_data = true)`,
        [],
        db,
      );
      for (;;) {
        const [row] = await target.query<{ pending: number; total: number }>(
          `SELECT count(*) FILTER (WHERE srsubstate <> 'r')::int AS pending, count(*)::int AS total FROM pg_subscription_rel`,
          [],
          db,
        );
        if (row && row.total > 0 && row.pending === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return Number(process.hrtime.bigint() - started) / 1e9;
    },
    async () => {
      await target.query('DROP SUBSCRIPTION IF EXISTS bench_native', [], db).catch(() => {});
      await source.query('DROP PUBLICATION IF EXISTS bench_native', [], db);
      await fresh(target, db);
    },
  );
  await target.query('DROP SUBSCRIPTION IF EXISTS bench_native', [], db);
  await source.query('DROP PUBLICATION IF EXISTS bench_native', [], db);
  const abort = async () => {
    await run(process.execPath, [join(root, 'bin', 'pg-migrate.js'), 'abort', '--dbs', db], {
      cwd: root,
      env: { ...process.env, PG_MIGRATE_SOURCE: source.uri('postgres'), PG_MIGRATE_TARGET: target.uri('postgres') },
    });
    await target.dropDatabase(db);
  };
  const whole = await measure(
    `pg-migrate migrate --method replication --jobs ${jobs} until in sync (whole CLI)`,
    async () => {
      const r = await cli(source, target, migrateArgv('replication', db));
      if (!r.report.ok) throw new Error('the CLI run did not end ok');
      return r.seconds;
    },
    abort,
  );
  const alone = await measure(
    `pg-migrate engine alone (migrateByReplication until in sync, jobs ${jobs})`,
    async () => (await engine(source, target, db, 'replication')).seconds,
    abort,
  );
  await sameCounts(source, target, db);
  await abort();
  table(`Replication to in sync: ${size} MB`, [nativeRef, whole, alone], nativeRef);
  ratioTarget('replication to in sync, whole CLI', whole, nativeRef, 1.0);
}

// ---------------------------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const maxLoad = Number(args['max-load']);
  const load = await settleLoad(maxLoad, quick ? 0 : 120);
  if (load > maxLoad && !args['allow-load']) {
    console.error(
      `refusing to measure: the 1-minute load average is ${load.toFixed(2)} (> ${maxLoad}); other work would make the figures meaningless. ` +
        'Wait for a quiet machine, or pass --allow-load (every figure is then flagged).',
    );
    return 2;
  }
  // As after `npm ci`: the CLI and task bundles are built, so nothing is compiled while timed.
  await runOk(process.execPath, ['--import', 'tsx', join(root, 'cli', 'bundle.ts')], { cwd: root });
  await runOk(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root });
  const dir = mkdtempSync(join(tmpdir(), 'pgm-bench-engine-'));
  engineBundle = join(dir, 'engine.mjs');
  const { build } = await import('esbuild');
  await build({
    entryPoints: [join(root, 'bench', 'engine.ts')],
    outfile: engineBundle,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: ['pg-native'],
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
    logLevel: 'warning',
  });
  const settings = { max_wal_size: '2GB', maintenance_work_mem: '256MB', checkpoint_timeout: '15min' };
  const source = await startCluster({ version: 15, settings });
  const target = await startCluster({ version: 15, settings });
  servers = [source, target];
  const startedAt = new Date();
  try {
    if (cases.has('dump')) await dumpCase(source, target);
    if (cases.has('tables')) await tablesCase(source, target);
    if (cases.has('check')) await checkCase(source, target);
    if (cases.has('replication')) await replicationCase(source, target);
    if (cases.has('scaling')) await scalingCase(source, target);
  } finally {
    source.stop();
    target.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const anyLoaded = targets.some((t) => t.loaded);
  const summary = [
    `Measured ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC on ${describeMachine()}; PostgreSQL 15 → 15, both servers and the tools on this machine; \`--jobs ${jobs}\`${quick ? '; QUICK smoke run (small databases, 1 run): not figures to quote' : ''}.`,
    '',
    '| target | figure | reference | ratio | goal | result |',
    '|---|---|---|---:|---|---|',
    ...targets.map(
      (t) =>
        `| ${t.label} | ${t.figure} | ${t.reference} | ${t.ratio !== undefined ? `${t.ratio.toFixed(2)}×` : '—'} | ${t.goal} | ${t.pass ? 'PASS' : 'FAIL'}${t.loaded ? ' (LOADED: not valid)' : ''}${t.measuredHere ? '' : ' (reference not measured in this run)'} |`,
    ),
    '',
    ...tables.flatMap((t) => [t, '']),
  ].join('\n');
  console.log(`\n${summary}`);
  for (const t of targets) {
    console.log(
      `TARGET ${t.label}: ${t.figure}${t.ratio !== undefined ? `, ${t.ratio.toFixed(2)}×` : ''} (goal ${t.goal}) ${t.pass ? 'PASS' : 'FAIL'}${t.loaded ? ' LOADED' : ''}`,
    );
  }
  if (write && !anyLoaded) writeResults(summary);
  else if (write)
    console.error('not written to docs/PERFORMANCE.md: some figures were taken while other work loaded the machine');
  return 0;
}

/** Replaces the generated block of docs/PERFORMANCE.md. */
function writeResults(summary: string): void {
  const path = join(root, 'docs', 'PERFORMANCE.md');
  const start = '<!-- bench:results:start -->';
  const end = '<!-- bench:results:end -->';
  const text = readFileSync(path, 'utf8');
  const block = `${start}\n${summary}\n${end}`;
  writeFileSync(
    path,
    text.includes(start)
      ? text.slice(0, text.indexOf(start)) + block + text.slice(text.indexOf(end) + end.length)
      : `${text.trimEnd()}\n\n${block}\n`,
  );
}

process.exit(await main());
