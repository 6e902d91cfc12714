// The reference for `check` that can run here: the least a pre-migration validator must do, as a plain Node script
// (no TypeScript, no framework). One session per server for the server-level facts (version, settings, databases,
// roles, available extensions), then one session per database per server for that database's facts (installed
// extensions, tables without a primary key, large objects, schema emptiness on the target side), all databases at
// once. aiven-db-migrate --validate does at least this much.
// Usage: node bench/lib/validator.mjs SOURCE_URI TARGET_URI db1 db2 …
import pg from 'pg';

const [sourceUri, targetUri, ...databases] = process.argv.slice(2);

async function session(uri, database) {
  const url = new URL(uri);
  url.pathname = `/${encodeURIComponent(database)}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  return client;
}

async function serverFacts(uri) {
  const client = await session(uri, 'postgres');
  try {
    const [version, settings, dbs, roles, available] = await Promise.all([
      client.query('SELECT current_setting($1)::int AS n', ['server_version_num']),
      client.query(
        "SELECT name, setting FROM pg_settings WHERE name IN ('wal_level', 'max_replication_slots', 'max_wal_senders', 'max_worker_processes', 'max_logical_replication_workers')",
      ),
      client.query('SELECT datname FROM pg_database WHERE datallowconn'),
      client.query('SELECT rolname, rolsuper, rolreplication FROM pg_roles'),
      client.query('SELECT name, default_version FROM pg_available_extensions'),
    ]);
    return {
      version: version.rows[0].n,
      settings: settings.rows,
      dbs: dbs.rows,
      roles: roles.rows,
      available: available.rows,
    };
  } finally {
    await client.end();
  }
}

async function databaseFacts(uri, database, side) {
  const client = await session(uri, side === 'target' ? 'postgres' : database);
  try {
    if (side === 'target') {
      const { rows } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
      return { exists: rows.length > 0 };
    }
    const [extensions, noPk, largeObjects] = await Promise.all([
      client.query('SELECT extname, extversion FROM pg_extension'),
      client.query(
        "SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'p')",
      ),
      client.query('SELECT count(*) AS n FROM pg_largeobject_metadata'),
    ]);
    return { extensions: extensions.rows, noPk: noPk.rows.length, largeObjects: largeObjects.rows[0].n };
  } finally {
    await client.end();
  }
}

const [source, target] = await Promise.all([serverFacts(sourceUri), serverFacts(targetUri)]);
const perDatabase = await Promise.all(
  databases.map(async (db) => ({
    db,
    source: await databaseFacts(sourceUri, db, 'source'),
    target: await databaseFacts(targetUri, db, 'target'),
  })),
);
const available = new Set(target.available.map((e) => e.name));
const problems = perDatabase.flatMap(({ db, source: s, target: t }) => [
  ...s.extensions.filter((e) => !available.has(e.extname)).map((e) => `${db}: extension ${e.extname} not available`),
  ...(t.exists ? [`${db}: exists on the target`] : []),
]);
if (target.version < source.version) problems.push('target older than source');
console.log(JSON.stringify({ databases: perDatabase.length, problems }));
process.exit(problems.length > 0 ? 1 : 0);
