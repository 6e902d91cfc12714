/**
 * pg_stat_statements keeps utility statements' text as sent when `track_utility` is on (measured on PostgreSQL 15:
 * `CREATE ROLE … PASSWORD` and `CREATE / ALTER SUBSCRIPTION … CONNECTION` verbatim, and with `track = all` also the
 * statement the pg_temp function of core/secret-statements.ts runs). pg-migrate's quiet sessions turn
 * `track_utility` off where the user may, and the credential-exposure check warns where it may not.
 */
import { describe, expect, it } from 'vitest';
import { runCheck } from '../../core/checks/index.js';
import { parseConnectionString } from '../../core/connection.js';
import { abortReplication, migrateByReplication, replicationNames } from '../../core/steps/replication/index.js';
import { migrateRoles } from '../../core/steps/roles.js';
import { useCluster } from '../support/vitest.js';
import { leftovers, planned, replicationRequest, runContext } from './replication/support.js';

const TRACK_EVERYTHING = {
  shared_preload_libraries: 'pg_stat_statements',
  'pg_stat_statements.track': 'all',
  'pg_stat_statements.track_utility': 'on',
};
const source = useCluster({ version: 15 });
const target = useCluster({ version: 15, settings: TRACK_EVERYTHING });

async function trackedStatements(): Promise<string> {
  const rows = await target().query<{ q: string }>('SELECT query AS q FROM pg_stat_statements');
  return rows.map((r) => r.q).join('\n');
}

describe('credentials kept out of pg_stat_statements', () => {
  it('records no role verifier, no subscription password and no source password with track = all and track_utility on', async () => {
    await target().query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    await source().query("CREATE ROLE stats_app LOGIN PASSWORD 'stats-app-secret'");
    await source().createDatabase('statshop');
    await source().loadFixture(
      'statshop',
      'CREATE TABLE items (id int PRIMARY KEY, name text); INSERT INTO items SELECT g, g::text FROM generate_series(1, 50) g; GRANT SELECT ON items TO stats_app;',
    );
    const ctx = runContext(source(), target());
    const request = replicationRequest(source(), target());
    const { results } = await migrateRoles(ctx, request, ['statshop']);
    expect(results.find((r) => r.name === 'stats_app')?.status).toBe('created');
    const db = await migrateByReplication(ctx, request, planned('statshop'));
    expect(db.status, db.message).toBe('replicating');
    const [sub] = await target().query<{ c: string }>(
      'SELECT subconninfo AS c FROM pg_subscription WHERE subname = $1',
      [replicationNames('statshop').subscription],
    );
    const subscriptionPassword = /password='([^']+)'/.exec(sub!.c)?.[1];
    expect(subscriptionPassword).toBeDefined();
    const [verifier] = await target().query<{ v: string }>(
      "SELECT rolpassword AS v FROM pg_authid WHERE rolname = 'stats_app'",
    );
    await abortReplication(ctx, { ...request, action: 'abort' });
    expect(await leftovers(source(), target(), ['statshop'])).toEqual([]);

    // The control: a statement sent as a literal by a plain session is recorded whole.
    await target().query("ALTER ROLE stats_app PASSWORD 'control-literal-in-stats'");
    const tracked = await trackedStatements();
    expect(tracked).toContain('control-literal-in-stats');
    expect(tracked).toContain('pg_migrate_run_with_secret');
    expect(tracked).not.toContain(subscriptionPassword);
    expect(tracked).not.toContain(verifier!.v.split('$')[2]!.split(':')[0]);
    expect(tracked).not.toContain(source().password);
    expect(tracked).not.toMatch(/CONNECTION '/);
  });

  it('warns before the run, naming pg_stat_statements, where the target user may not turn track_utility off', async () => {
    await target().query("CREATE ROLE stats_migrator LOGIN CREATEROLE PASSWORD 'stats-migrator-pw'");
    const request = replicationRequest(source(), target());
    const superuser = await runCheck('credential-exposure', request, runContext(source(), target()));
    expect(superuser.map((r) => r.status)).toEqual(['pass']);
    const plain = {
      ...runContext(source(), target()),
      target: parseConnectionString(target().uri('postgres', 'stats_migrator', 'stats-migrator-pw'), 'target'),
    };
    const [warning] = await runCheck('credential-exposure', request, plain);
    expect(warning?.status).toBe('warn');
    expect(warning?.message).toMatch(
      /pg_stat_statements.track_utility = on \(track = all\) keeps the statement's text in pg_stat_statements/,
    );
    expect(warning?.remedy).toMatch(/pg_stat_statements.track_utility = off/);
    expect(warning?.remedy).toMatch(/GRANT SET ON PARAMETER .*pg_stat_statements.track_utility/);
  });
});
