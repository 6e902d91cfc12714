/** The benchmark databases, generated on the source server (idempotent within one run: made once, then reused). */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { TestCluster } from '../../test/support/cluster.js';

const BIN = process.env.PG_MIGRATE_PG_BIN ?? '/usr/lib/postgresql/15/bin';
const made = new Map<string, number>();

function pgbench(cluster: TestCluster, database: string, scale: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(BIN, 'pgbench'), ['-i', '-q', '-s', String(scale), database], {
      env: {
        ...process.env,
        PGHOST: cluster.host,
        PGPORT: String(cluster.port),
        PGUSER: cluster.superuser,
        PGPASSWORD: cluster.password,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`pgbench: ${err}`))));
  });
}

async function sizeMb(cluster: TestCluster, database: string): Promise<number> {
  const [row] = await cluster.query<{ b: string }>('SELECT pg_database_size($1)::text AS b', [database]);
  return Math.round(Number(row?.b ?? 0) / 1048576);
}

/**
 * pgbench tables at `scale` plus `docs` jsonb documents with a GIN and a btree index (scale 30 + 600,000 documents:
 * ~650 MB, the database of issue #13). Returns its size in MB.
 */
export async function jsonbDatabase(
  cluster: TestCluster,
  database: string,
  size: { scale: number; docs: number },
): Promise<number> {
  const known = made.get(database);
  if (known !== undefined) return known;
  await cluster.createDatabase(database);
  await pgbench(cluster, database, size.scale);
  await cluster.query(
    `CREATE TABLE docs (id bigserial PRIMARY KEY, created_at timestamptz NOT NULL, doc jsonb NOT NULL);
     INSERT INTO docs (created_at, doc)
     SELECT timestamptz '2024-01-01' + g * interval '1 second',
            jsonb_build_object('user', g % 10007, 'kind', (ARRAY['view','click','buy'])[1 + g % 3],
                               'tags', jsonb_build_array('t' || g % 17, 't' || g % 5), 'amount', g % 1000 / 3.0,
                               'text', md5(g::text) || ' ü ' || md5((g * 7)::text))
       FROM generate_series(1, ${size.docs}) g;
     CREATE INDEX docs_doc_idx ON docs USING gin (doc jsonb_path_ops);
     CREATE INDEX docs_created_idx ON docs (created_at);`,
    [],
    database,
  );
  await cluster.query('VACUUM ANALYZE', [], database);
  const mb = await sizeMb(cluster, database);
  made.set(database, mb);
  return mb;
}

/** `schemas` tenant schemas × `perSchema` tables, each with a primary key, a secondary index and 100 rows. */
export async function tenantDatabase(
  cluster: TestCluster,
  database: string,
  schemas: number,
  perSchema: number,
): Promise<number> {
  const known = made.get(database);
  if (known !== undefined) return known;
  await cluster.createDatabase(database);
  await cluster.query(
    `DO $$
     BEGIN
       FOR s IN 1..${schemas} LOOP
         EXECUTE format('CREATE SCHEMA tenant_%s', s);
         FOR t IN 1..${perSchema} LOOP
           EXECUTE format('CREATE TABLE tenant_%s.t%s (id int PRIMARY KEY, ref int NOT NULL, note text, at timestamptz NOT NULL DEFAULT now())', s, t);
           EXECUTE format('CREATE INDEX ON tenant_%s.t%s (ref)', s, t);
           EXECUTE format('INSERT INTO tenant_%s.t%s SELECT g, g %% 7, md5(g::text) FROM generate_series(1, 100) g', s, t);
         END LOOP;
       END LOOP;
     END $$;`,
    [],
    database,
  );
  await cluster.query('VACUUM ANALYZE', [], database);
  const mb = await sizeMb(cluster, database);
  made.set(database, mb);
  return mb;
}

/** `count` small application databases (app_01 …) for `check`. */
export async function checkDatabases(cluster: TestCluster, count: number): Promise<string[]> {
  const names = Array.from({ length: count }, (_, i) => `app_${String(i + 1).padStart(2, '0')}`);
  for (const name of names) {
    if (made.has(name)) continue;
    await cluster.createDatabase(name);
    await cluster.query(
      `CREATE TABLE public.customers (id int PRIMARY KEY, name text);
       CREATE TABLE public.orders (id bigint PRIMARY KEY, customer_id int REFERENCES public.customers (id), total numeric);
       CREATE INDEX ON public.orders (customer_id);
       CREATE VIEW public.big_orders AS SELECT * FROM public.orders WHERE total > 100;
       INSERT INTO public.customers SELECT g, 'c' || g FROM generate_series(1, 100) g;
       INSERT INTO public.orders SELECT g, 1 + g % 100, g FROM generate_series(1, 1000) g;`,
      [],
      name,
    );
    made.set(name, 0);
  }
  return names;
}
