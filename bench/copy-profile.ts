/**
 * The copy's hot path, measured by CPU time rather than wall time (so that it means something on a busy machine):
 * one table copied server to server by (a) pg-copy-streams piped with stream.pipeline (the engine before #13),
 * (b) the engine's forwarder (core/steps/copy-stream.ts), (c) `psql -c 'COPY … TO STDOUT' | psql -c 'COPY … FROM
 * STDIN'`. For each: wall seconds, CPU seconds of the middle (node, or both psql processes), CPU seconds of the
 * source and target backends (from /proc), and socket writes to the target (strace is not needed: the forwarder
 * counts them).
 *
 *   npx tsx bench/copy-profile.ts [--scale 10] [--format binary|text] [--runs 3]
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { pipeCopy } from '../core/steps/copy-stream.js';
import { startCluster } from '../test/support/cluster.js';

const PgClient = pg.Client;

const { values: args } = parseArgs({
  options: {
    scale: { type: 'string', default: '10' },
    format: { type: 'string', default: 'binary' },
    runs: { type: 'string', default: '3' },
    only: { type: 'string' },
    // Reuse running servers (URIs of the database holding pgbench_accounts on both), e.g. from --serve.
    source: { type: 'string' },
    target: { type: 'string' },
    // Start the servers, print their URIs, and keep them until killed.
    serve: { type: 'boolean', default: false },
  },
});
const BIN = '/usr/lib/postgresql/15/bin';
const TICK = 100; // USER_HZ
const format = args.format === 'text' ? 'text' : 'binary';
const OUT = `COPY public.pgbench_accounts TO STDOUT (FORMAT ${format})`;
const IN = `COPY public.pgbench_accounts FROM STDIN (FORMAT ${format})`;

function cpuOfPid(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICK; // utime + stime
}

async function backendPid(client: pg.Client): Promise<number> {
  const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  return rows[0]!.pid;
}

interface Sample {
  wall: number;
  middle: number;
  source: number;
  target: number;
}

async function inNode(source: Server, target: Server, how: 'pg-copy-streams' | 'forwarder'): Promise<Sample> {
  const s = await source.client('bench');
  const t = await target.client('bench');
  try {
    await t.query('TRUNCATE public.pgbench_accounts');
    const [sp, tp] = [await backendPid(s), await backendPid(t)];
    const [s0, t0] = [cpuOfPid(sp), cpuOfPid(tp)];
    toggle('on');
    const c0 = process.cpuUsage();
    const w0 = process.hrtime.bigint();
    if (how === 'pg-copy-streams') {
      await pipeline(s.query(copyTo(OUT)), t.query(copyFrom(IN)));
    } else {
      const r = await pipeCopy(s, t, { out: OUT, in: IN });
      console.log(
        `  forwarder: ${r.rowsOut} rows out, ${r.rowsIn} in; ${r.reads} reads (${Math.round(r.bytes / r.reads)} B each), ${r.writes} writes, ${r.pauses} pauses`,
      );
    }
    const wall = Number(process.hrtime.bigint() - w0) / 1e9;
    const c = process.cpuUsage(c0);
    toggle('off');
    return { wall, middle: (c.user + c.system) / 1e6, source: cpuOfPid(sp) - s0, target: cpuOfPid(tp) - t0 };
  } finally {
    await s.end();
    await t.end();
  }
}

/** psql | psql, each under /usr/bin/time for its CPU seconds. */
async function psqlPipe(source: Server, target: Server): Promise<Sample> {
  await target.query('TRUNCATE public.pgbench_accounts', [], 'bench');
  const env = (c: Server) => ({
    ...process.env,
    PGHOST: c.host,
    PGPORT: String(c.port),
    PGUSER: c.superuser,
    PGPASSWORD: c.password,
    PGDATABASE: 'bench',
    PGAPPNAME: 'copy-profile',
  });
  const backendCpu = async (c: Server) => {
    const rows = await c.query<{ pid: number }>(
      "SELECT pid FROM pg_stat_activity WHERE application_name = 'copy-profile'",
      [],
      'bench',
    );
    return rows.map((r) => r.pid);
  };
  const w0 = process.hrtime.bigint();
  const out = spawn('/usr/bin/time', ['-f', '%U %S', join(BIN, 'psql'), '-Xq', '-c', OUT], {
    env: env(source),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const inp = spawn('/usr/bin/time', ['-f', '%U %S', join(BIN, 'psql'), '-Xq', '-c', IN], {
    env: env(target),
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  out.stdout.pipe(inp.stdin);
  let errOut = '';
  let errIn = '';
  out.stderr.on('data', (d: Buffer) => (errOut += d.toString()));
  inp.stderr.on('data', (d: Buffer) => (errIn += d.toString()));
  // Sample the backends' CPU while they live (they exit with their sessions).
  let sourceCpu = 0;
  let targetCpu = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      for (const pid of await backendCpu(source).catch(() => [])) sourceCpu = Math.max(sourceCpu, safeCpu(pid));
      for (const pid of await backendCpu(target).catch(() => [])) targetCpu = Math.max(targetCpu, safeCpu(pid));
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  await Promise.all([new Promise((r) => out.on('close', r)), new Promise((r) => inp.on('close', r))]);
  const wall = Number(process.hrtime.bigint() - w0) / 1e9;
  sampling = false;
  await sampler;
  const cpu = (text: string) => {
    const m = /([\d.]+) ([\d.]+)\s*$/.exec(text.trim());
    if (!m) throw new Error(`psql failed: ${text}`);
    return Number(m[1]) + Number(m[2]);
  };
  return { wall, middle: cpu(errOut) + cpu(errIn), source: sourceCpu, target: targetCpu };
}

/** Under `valgrind --tool=callgrind --collect-atstart=no`, counts instructions of the copy only. */
function toggle(state: 'on' | 'off'): void {
  if (process.env.COPY_PROFILE_CALLGRIND === '1') spawnSync('callgrind_control', ['-i', state, String(process.pid)]);
}

function safeCpu(pid: number): number {
  try {
    return cpuOfPid(pid);
  } catch {
    return 0;
  }
}

/** The parts of a server the measurements use: a running test cluster, or one given by URI. */
interface Server {
  readonly host: string;
  readonly port: number;
  readonly superuser: string;
  readonly password: string;
  client(database: string): Promise<pg.Client>;
  query<R extends pg.QueryResultRow>(sql: string, params: unknown[], database: string): Promise<R[]>;
  uri(database: string): string;
}

function serverAt(uri: string): Server {
  const url = new URL(uri);
  const base = {
    host: url.hostname,
    port: Number(url.port),
    superuser: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
  };
  const client = async (database: string) => {
    const c = new PgClient({ ...base, user: base.superuser, database });
    await c.connect();
    return c;
  };
  return {
    ...base,
    client,
    async query<R extends pg.QueryResultRow>(sql: string, params: unknown[], database: string) {
      const c = await client(database);
      try {
        return (await c.query<R>(sql, params)).rows;
      } finally {
        await c.end();
      }
    },
    uri: (database: string) => {
      const u = new URL(uri);
      u.pathname = `/${encodeURIComponent(database)}`;
      return u.toString();
    },
  };
}

async function measure(source: Server, target: Server): Promise<void> {
  const [size] = await source.query<{ b: string }>(
    "SELECT pg_table_size('public.pgbench_accounts')::text AS b",
    [],
    'bench',
  );
  console.log(
    `pgbench_accounts: ${Math.round(Number(size!.b) / 1048576)} MB, ${format}; load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`,
  );
  console.log('how              wall s  middle cpu s  source cpu s  target cpu s');
  const runs = Number(args.runs);
  for (let i = 0; i < runs; i++) {
    for (const how of ['pg-copy-streams', 'forwarder', 'psql | psql'] as const) {
      if (args.only !== undefined && args.only !== how) continue;
      const r = how === 'psql | psql' ? await psqlPipe(source, target) : await inNode(source, target, how);
      console.log(
        `${how.padEnd(16)} ${r.wall.toFixed(2).padStart(6)}  ${r.middle.toFixed(2).padStart(12)}  ${r.source.toFixed(2).padStart(12)}  ${r.target.toFixed(2).padStart(12)}`,
      );
    }
  }
}

if (args.source && args.target) {
  await measure(serverAt(args.source), serverAt(args.target));
} else {
  const source = await startCluster({ version: 15, walLevel: 'replica', settings: { max_wal_size: '2GB' } });
  const target = await startCluster({ version: 15, walLevel: 'replica', settings: { max_wal_size: '2GB' } });
  try {
    for (const c of [source, target]) {
      await c.createDatabase('bench');
      await new Promise<void>((resolve, reject) => {
        const p = spawn(join(BIN, 'pgbench'), ['-i', '-q', '-I', c === source ? 'dtg' : 'dt', '-s', args.scale], {
          env: {
            ...process.env,
            PGHOST: c.host,
            PGPORT: String(c.port),
            PGUSER: 'postgres',
            PGPASSWORD: c.password,
            PGDATABASE: 'bench',
          },
          stdio: 'ignore',
        });
        p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`pgbench ${code}`))));
      });
    }
    if (args.serve) {
      console.log(`--source '${source.uri('bench')}' --target '${target.uri('bench')}'`);
      const keep = setInterval(() => {}, 60_000); // an idle promise alone would let the process exit
      await new Promise((resolve) => process.once('SIGTERM', resolve));
      clearInterval(keep);
    } else await measure(source, target);
  } finally {
    source.stop();
    target.stop();
  }
}
