/**
 * Dump benchmark: pg-migrate's dump engine against `pg_dump -Fc | pg_restore`, `pg_dump -Fd -j / pg_restore -j`
 * and `pgcopydb clone`, on a generated database (pgbench tables + an indexed jsonb table) between two throwaway
 * PostgreSQL 15 clusters on this machine. Prints a markdown table and writes it into docs/PERFORMANCE.md.
 *
 *   npx tsx bench/dump.ts              # ~1 GB (pgbench scale 50 + 1M jsonb documents)
 *   npx tsx bench/dump.ts --quick      # ~100 MB, for a smoke run
 *   npx tsx bench/dump.ts --scale 20 --docs 400000 --jobs 2 --no-write
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startCluster, type TestCluster } from '../test/support/cluster.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    scale: { type: 'string' },
    docs: { type: 'string' },
    jobs: { type: 'string', default: '2' },
    'no-write': { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
  },
});
const scale = Number(args.scale ?? (args.quick ? 5 : 50));
const docs = Number(args.docs ?? (args.quick ? 100_000 : 1_000_000));
const jobs = Number(args.jobs);
const BIN = process.env.PG_MIGRATE_PG_BIN ?? '/usr/lib/postgresql/15/bin';

function env(cluster: TestCluster, database: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PGHOST: cluster.host,
    PGPORT: String(cluster.port),
    PGUSER: cluster.superuser,
    PGPASSWORD: cluster.password,
    PGDATABASE: database,
  };
}

/** Runs a command; rejects on non-zero exit with its stderr. */
function run(file: string, argv: string[], options: { env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(file, argv, { env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (args.verbose && err) console.error(err.trimEnd());
      if (code === 0) resolvePromise(out);
      else reject(new Error(`${file} exited ${code}: ${err}`));
    });
  });
}

/** pg_dump -Fc | pg_restore, piped between two processes. */
function dumpPipeRestore(source: TestCluster, target: TestCluster, sourceDb: string, targetDb: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const dump = spawn(join(BIN, 'pg_dump'), ['-Fc'], {
      env: env(source, sourceDb),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const restore = spawn(join(BIN, 'pg_restore'), ['--exit-on-error', '-d', targetDb], {
      env: env(target, targetDb),
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    dump.stdout.pipe(restore.stdin);
    let err = '';
    dump.stderr.on('data', (d: Buffer) => (err += d.toString()));
    restore.stderr.on('data', (d: Buffer) => (err += d.toString()));
    let pending = 2;
    let failed = false;
    const done = (code: number | null) => {
      if (code !== 0) failed = true;
      if (--pending > 0) return;
      if (failed) reject(new Error(err));
      else resolvePromise();
    };
    dump.on('close', done);
    restore.on('close', done);
  });
}

async function time(fn: () => Promise<void>): Promise<number> {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e9;
}

interface Row {
  readonly tool: string;
  readonly seconds?: number;
  readonly peakMb?: number;
  readonly note: string;
}

async function main(): Promise<void> {
  const load = [loadavg()[0]!];
  console.error(`starting clusters (scale ${scale}, ${docs} jsonb documents, jobs ${jobs})`);
  const settings = { max_wal_size: '2GB', maintenance_work_mem: '256MB', checkpoint_timeout: '15min' };
  const source = await startCluster({ version: 15, walLevel: 'replica', settings });
  const target = await startCluster({ version: 15, walLevel: 'replica', settings });
  const rows: Row[] = [];
  try {
    await source.createDatabase('bench');
    console.error('generating the source database…');
    await run(join(BIN, 'pgbench'), ['-i', '-q', '-s', String(scale)], { env: env(source, 'bench') });
    await source.query(
      `CREATE TABLE docs (id bigserial PRIMARY KEY, created_at timestamptz NOT NULL, doc jsonb NOT NULL);
       INSERT INTO docs (created_at, doc)
       SELECT timestamptz '2024-01-01' + g * interval '1 second',
              jsonb_build_object('user', g % 10007, 'kind', (ARRAY['view','click','buy'])[1 + g % 3],
                                 'tags', jsonb_build_array('t' || g % 17, 't' || g % 5), 'amount', g % 1000 / 3.0,
                                 'text', md5(g::text) || ' ü ' || md5((g * 7)::text))
         FROM generate_series(1, ${docs}) g;
       CREATE INDEX docs_doc_idx ON docs USING gin (doc jsonb_path_ops);
       CREATE INDEX docs_created_idx ON docs (created_at);`,
      [],
      'bench',
    );
    await source.query('VACUUM ANALYZE', [], 'bench');
    const [size] = await source.query<{ b: string }>("SELECT pg_database_size('bench')::text AS b");
    const sizeMb = Math.round(Number(size!.b) / 1024 / 1024);
    console.error(`source database: ${sizeMb} MB`);

    const fresh = async (name: string) => {
      await target.dropDatabase(name);
      await target.createDatabase(name);
    };
    const checkpoint = async () => {
      await target.query('CHECKPOINT');
      await source.query('CHECKPOINT');
    };

    await fresh('b_pipe');
    await checkpoint();
    console.error('pg_dump -Fc | pg_restore…');
    const pipeSeconds = await time(() => dumpPipeRestore(source, target, 'bench', 'b_pipe'));
    rows.push({
      tool: 'pg_dump -Fc | pg_restore',
      seconds: pipeSeconds,
      note: 'reference (1 stream, compressed archive)',
    });
    await target.dropDatabase('b_pipe');

    await fresh('b_dir');
    await checkpoint();
    console.error(`pg_dump -Fd -j ${jobs} + pg_restore -j ${jobs}…`);
    const dir = mkdtempSync(join(tmpdir(), 'pgm-bench-'));
    const dirSeconds = await time(async () => {
      await run(join(BIN, 'pg_dump'), ['-Fd', '-j', String(jobs), '-f', join(dir, 'd')], { env: env(source, 'bench') });
      await run(join(BIN, 'pg_restore'), ['--exit-on-error', '-j', String(jobs), '-d', 'b_dir', join(dir, 'd')], {
        env: env(target, 'b_dir'),
      });
    });
    rmSync(dir, { recursive: true, force: true });
    rows.push({
      tool: `pg_dump -Fd -j ${jobs} + pg_restore -j ${jobs}`,
      seconds: dirSeconds,
      note: 'archive on local disk',
    });
    await target.dropDatabase('b_dir');

    const pgcopydb = ['/usr/bin/pgcopydb', join(BIN, 'pgcopydb'), '/usr/local/bin/pgcopydb'].find((p) => existsSync(p));
    if (pgcopydb) {
      await fresh('b_pgcopydb');
      await checkpoint();
      console.error('pgcopydb clone…');
      const work = mkdtempSync(join(tmpdir(), 'pgm-pgcopydb-'));
      const version = /pgcopydb version \S+/.exec(await run(pgcopydb, ['--version']))?.[0] ?? 'pgcopydb';
      const seconds = await time(async () => {
        await run(
          pgcopydb,
          [
            'clone',
            '--dir',
            work,
            '--table-jobs',
            String(jobs),
            '--index-jobs',
            String(jobs),
            '--split-tables-larger-than',
            '256MB',
          ],
          {
            env: {
              ...process.env,
              PGCOPYDB_SOURCE_PGURI: source.uri('bench'),
              PGCOPYDB_TARGET_PGURI: target.uri('b_pgcopydb'),
            },
          },
        );
      });
      rmSync(work, { recursive: true, force: true });
      rows.push({
        tool: `pgcopydb clone (${jobs} table jobs, ${jobs} index jobs)`,
        seconds,
        note: `${version}; tables over 256 MB split, as in pg-migrate; builds indexes while other tables copy`,
      });
      await target.dropDatabase('b_pgcopydb');
    } else {
      rows.push({ tool: 'pgcopydb clone', note: 'not installed on this machine: not measured' });
    }

    await checkpoint();
    console.error(`pg-migrate dump engine (jobs ${jobs})…`);
    let engine: { seconds: number; maxRssBytes: number; status: string; message: string } | undefined;
    const engineSeconds = await time(async () => {
      const out = await run(process.execPath, ['--import', 'tsx', join(root, 'bench', 'engine.ts')], {
        env: {
          ...process.env,
          BENCH_SOURCE: source.uri('bench'),
          BENCH_TARGET: target.uri('postgres'),
          BENCH_DB: 'bench',
          BENCH_JOBS: String(jobs),
        },
      });
      engine = JSON.parse(out.trim().split('\n').at(-1)!) as typeof engine;
    });
    if (engine?.status !== 'done') throw new Error(`engine run failed: ${engine?.message}`);
    rows.push({
      tool: `pg-migrate dump engine (jobs ${jobs})`,
      seconds: engine.seconds,
      peakMb: Math.round(engine.maxRssBytes / 1024 / 1024),
      note: `migrateByDump() wall time, ANALYZE and row-count verification included; ${engineSeconds.toFixed(1)} s with the process start-up (node + tsx compiling TypeScript); peak RSS of the engine process`,
    });
    load.push(loadavg()[0]!);

    const table = [
      `Database: ${sizeMb} MB (pgbench scale ${scale} + ${docs} jsonb rows with a GIN and a btree index), PostgreSQL 15 → 15 on one ${
        process.platform
      } host, ${jobs} jobs; load average ${load.map((l) => l.toFixed(1)).join(' → ')} (shared machine).`,
      '',
      '| tool | seconds | × pg_dump \\| pg_restore | peak RSS | note |',
      '|---|---:|---:|---:|---|',
      ...rows.map(
        (r) =>
          `| ${r.tool.replace(/\|/g, '\\|')} | ${r.seconds?.toFixed(1) ?? '—'} | ${
            r.seconds !== undefined ? (r.seconds / pipeSeconds).toFixed(2) : '—'
          } | ${r.peakMb !== undefined ? `${r.peakMb} MB` : '—'} | ${r.note} |`,
      ),
    ].join('\n');
    console.log(table);
    if (!args['no-write']) writeDoc(table);
  } finally {
    source.stop();
    target.stop();
  }
}

/** Replaces the generated block of docs/PERFORMANCE.md (between the bench markers). */
function writeDoc(table: string): void {
  const path = join(root, 'docs', 'PERFORMANCE.md');
  const start = '<!-- bench:dump:start -->';
  const end = '<!-- bench:dump:end -->';
  const block = `${start}\nMeasured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC with \`npx tsx bench/dump.ts\`:\n\n${table}\n${end}`;
  const text = existsSync(path) ? readFileSync(path, 'utf8') : `# Performance\n\n${block}\n`;
  const next = text.includes(start)
    ? text.slice(0, text.indexOf(start)) + block + text.slice(text.indexOf(end) + end.length)
    : `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(path, next);
}

await main();
