/**
 * The check → migrate (auto) → status → cutover lifecycle through the bin, between provider profiles
 * (test/support/providers.ts), as a user of a managed service runs it: as the provider's admin, never a superuser.
 */
import { expect } from 'vitest';
import type { TestCluster } from '../support/cluster.js';
import type { ProviderServer } from '../support/providers.js';
import { fingerprint, leftovers } from '../integration/replication/support.js';
import { jsonPath, leakForms, readJson, runCli } from './cli.js';

/** One side of a run: a provider (connect as its admin) or a plain server (connect as its superuser). */
export type Side = ProviderServer | TestCluster;

export function clusterOf(side: Side): TestCluster {
  return 'cluster' in side ? side.cluster : side;
}

function uriOf(side: Side): string {
  return side.uri('postgres');
}

function secretsOf(side: Side): string[] {
  return 'admin' in side ? [side.password, side.cluster.password] : [side.password];
}

export interface ReportJson {
  readonly ok: boolean;
  readonly action: string;
  readonly checks: ReadonlyArray<{
    readonly id: string;
    readonly status: string;
    readonly database?: string;
    readonly message: string;
    readonly details?: Record<string, unknown>;
  }>;
  readonly databases: ReadonlyArray<{
    readonly name: string;
    readonly method: string;
    readonly status: string;
    readonly message: string;
    readonly warnings?: ReadonlyArray<{ readonly kind: string; readonly message: string }>;
  }>;
}

export interface CliRun {
  readonly code: number;
  readonly output: string;
  readonly report: ReportJson;
}

/** Runs the bin with `source` and `target` in the environment; no secret may show in its output. */
export async function pgMigrate(source: Side, target: Side, args: readonly string[]): Promise<CliRun> {
  const path = jsonPath();
  const result = await runCli([...args, '--json', path], {
    PG_MIGRATE_SOURCE: uriOf(source),
    PG_MIGRATE_TARGET: uriOf(target),
  });
  const output = `${result.stdout}\n${result.stderr}`;
  for (const secret of leakForms([...secretsOf(source), ...secretsOf(target)])) expect(output).not.toContain(secret);
  return { code: result.code, output, report: readJson(path) as ReportJson };
}

/** The application fixture, loaded by the source's admin into a database it creates: owned tables, another owner. */
export const APP_FIXTURE = `
  CREATE TABLE public.items (id serial PRIMARY KEY, name text NOT NULL, price numeric(10,2) NOT NULL);
  CREATE TABLE public.orders (id bigserial PRIMARY KEY, item_id int NOT NULL REFERENCES public.items (id), qty int);
  CREATE TABLE public.moves (id int, at date, cents int, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
  CREATE TABLE public.moves_2025 PARTITION OF public.moves FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
  CREATE TABLE public.moves_2026 PARTITION OF public.moves FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
  CREATE SEQUENCE public.invoice_no START 1000;
  INSERT INTO public.items (name, price) SELECT 'item ' || g, g * 1.5 FROM generate_series(1, 300) g;
  INSERT INTO public.orders (item_id, qty) SELECT 1 + g % 300, g % 7 FROM generate_series(1, 5000) g;
  INSERT INTO public.moves SELECT g, date '2025-01-01' + (g % 700), g FROM generate_series(1, 2000) g;
  SELECT setval('public.invoice_no', 1234);
`;

/** Changes the source while it replicates (what cutover must carry over). */
export const LIVE_CHANGES = `
  INSERT INTO public.orders (item_id, qty) SELECT 1 + g % 300, 1 FROM generate_series(1, 100) g;
  UPDATE public.items SET price = price + 1 WHERE id <= 10;
  DELETE FROM public.orders WHERE id <= 50;
  INSERT INTO public.moves VALUES (9001, '2026-06-01', 5);
  SELECT nextval('public.invoice_no');
`;

export interface LifecycleExpectation {
  /** Databases to migrate (`--dbs`). */
  readonly dbs: readonly string[];
  /** The method `--method auto` must choose per database. */
  readonly methods: Readonly<Record<string, 'replication' | 'dump'>>;
  /** Databases whose data is compared after cutover (default: every one of `dbs`). */
  readonly compare?: readonly string[];
  /** Extra arguments for migrate (consent flags). */
  readonly migrateArgs?: readonly string[];
  /**
   * The warning kinds the provider's admin cannot avoid (e.g. `owner`: it may not SET ROLE to the source's owners),
   * consented with `--accept` on migrate and cutover.
   */
  readonly accept?: readonly string[];
  /** Replicated databases holding the fixture, changed on the source while they replicate (default: all). */
  readonly live?: readonly string[];
}

/** Whether a check result is about `db` (its own database, or listed in a merged result). */
function isAbout(c: ReportJson['checks'][number], db: string): boolean {
  return c.database === db || (Array.isArray(c.details?.databases) && c.details.databases.includes(db));
}

/**
 * check (exit 0, replication predicted exactly where expected) → migrate --method auto (exit 0, those methods) →
 * live changes on the source → status (exit 0) → cutover (exit 0) → equal data and no slot, publication or
 * subscription left on either side.
 */
export async function lifecycle(
  source: Side,
  target: Side,
  expected: LifecycleExpectation,
): Promise<{ readonly check: CliRun; readonly migrate: CliRun }> {
  const dbs = ['--dbs', expected.dbs.join(',')];
  const check = await pgMigrate(source, target, ['check', ...dbs]);
  expect(check.code, check.output).toBe(0);
  const predicted = Object.fromEntries(
    expected.dbs.map((db) => [
      db,
      check.report.checks.some((c) => c.id === 'replication-preconditions' && c.status === 'pass' && isAbout(c, db))
        ? 'replication'
        : 'dump',
    ]),
  );
  expect(predicted, check.output).toEqual(expected.methods);

  const accept = expected.accept && expected.accept.length > 0 ? ['--accept', expected.accept.join(',')] : [];
  const migrate = await pgMigrate(source, target, ['migrate', ...dbs, ...accept, ...(expected.migrateArgs ?? [])]);
  expect(migrate.code, migrate.output).toBe(0);
  expect(Object.fromEntries(migrate.report.databases.map((d) => [d.name, d.method]))).toEqual(expected.methods);
  // Auto mode fell back to dump for a reason the report names: a failing replication precondition for that database.
  for (const db of expected.dbs.filter((name) => expected.methods[name] === 'dump')) {
    const reasons = migrate.report.checks.filter(
      (c) => c.id === 'replication-preconditions' && c.status === 'fail' && isAbout(c, db),
    );
    expect(reasons.length, `${db}: ${migrate.output}`).toBeGreaterThan(0);
  }
  for (const d of migrate.report.databases) {
    expect(d.status, d.message).toBe(d.method === 'replication' ? 'replicating' : 'done');
  }

  const replicated = expected.dbs.filter((db) => expected.methods[db] === 'replication');
  for (const db of replicated.filter((name) => expected.live?.includes(name) ?? true)) {
    await clusterOf(source).query(LIVE_CHANGES, [], db);
  }
  const status = await pgMigrate(source, target, ['status', ...dbs]);
  expect(status.code, status.output).toBe(0);
  expect(status.report.databases.map((d) => d.name).sort()).toEqual([...replicated].sort());

  const cutover = await pgMigrate(source, target, [
    'cutover',
    ...dbs,
    ...accept,
    '--max-lag-bytes',
    '0',
    '--timeout',
    '180',
  ]);
  expect(cutover.code, cutover.output).toBe(0);
  for (const d of cutover.report.databases) expect([d.name, d.status, d.message]).toEqual([d.name, 'done', d.message]);

  for (const db of expected.compare ?? expected.dbs) {
    expect(await fingerprint(clusterOf(target), db), db).toEqual(await fingerprint(clusterOf(source), db));
  }
  expect(await leftovers(clusterOf(source), clusterOf(target), [...expected.dbs])).toEqual([]);
  return { check, migrate };
}
