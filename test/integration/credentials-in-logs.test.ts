/**
 * Statements that carry a password — the roles step's `ALTER ROLE … PASSWORD` with a copied verifier or a
 * placeholder's, the subscription's `CREATE SUBSCRIPTION … CONNECTION` with the source password — against targets
 * that log every statement: nothing secret reaches the target's server log.
 */
import { describe, expect, it } from 'vitest';
import { runCheck } from '../../core/checks/index.js';
import { parseConnectionString } from '../../core/connection.js';
import { abortReplication, migrateByReplication } from '../../core/steps/replication/index.js';
import { migrateRoles } from '../../core/steps/roles.js';
import { useCluster } from '../support/vitest.js';
import { leftovers, planned, replicationRequest, runContext } from './replication/support.js';

const LOG_EVERYTHING = { log_statement: 'all', log_min_duration_statement: 0, log_min_error_statement: 'error' };
const source = useCluster({ version: 15 });
/** The target logs every statement, with its duration and its parameters. */
const target = useCluster({ version: 15, settings: LOG_EVERYTHING });
/** Logs DDL only; its migration user is no superuser, so may not turn that off. */
const ddlTarget = useCluster({ version: 15, settings: { log_statement: 'ddl', log_min_error_statement: 'error' } });

async function verifierOf(role: string): Promise<string> {
  const [row] = await source().query<{ v: string }>('SELECT rolpassword AS v FROM pg_authid WHERE rolname = $1', [
    role,
  ]);
  return row!.v;
}

/** The parts of a SCRAM verifier that would let someone attack the password offline. */
function secretParts(verifier: string): string[] {
  const [, rest] = verifier.split('$', 2);
  const keys = verifier.split('$')[2]!.split(':');
  return [verifier, rest!, ...keys];
}

describe('credentials kept out of the target server log', () => {
  it('logs no role verifier and no source password with log_statement = all when the target user is a superuser', async () => {
    await source().query(
      "CREATE ROLE log_app LOGIN PASSWORD 'app-secret-in-logs'; CREATE ROLE log_owner NOLOGIN; GRANT log_owner TO log_app",
    );
    await source().createDatabase('logshop', { owner: 'log_owner' });
    await source().loadFixture(
      'logshop',
      'CREATE TABLE items (id int PRIMARY KEY, name text); INSERT INTO items SELECT g, g::text FROM generate_series(1, 100) g; GRANT SELECT ON items TO log_app;',
    );
    const ctx = runContext(source(), target());
    const request = replicationRequest(source(), target());
    const { results } = await migrateRoles(ctx, request, ['logshop']);
    const app = results.find((r) => r.name === 'log_app');
    expect(app?.status).toBe('created');
    expect(app?.message).toMatch(/password verifier copied/);
    const login = await target().client('postgres', 'log_app', 'app-secret-in-logs');
    await login.end();

    const db = await migrateByReplication(ctx, request, planned('logshop'));
    expect(db.status, db.message).toBe('replicating');
    const aborted = await abortReplication(ctx, { ...request, action: 'abort' });
    expect(aborted.map((d) => d.status)).toEqual(['done']);
    expect(await leftovers(source(), target(), ['logshop'])).toEqual([]);

    // The log does record statements: the control, a password sent as a literal by a plain session, is there.
    await target().query("ALTER ROLE log_owner PASSWORD 'control-literal-pw'");
    const log = target().log();
    expect(log).toContain('control-literal-pw');
    expect(log).toMatch(/statement: .*CREATE PUBLICATION|statement: SELECT/);
    for (const part of secretParts(await verifierOf('log_app'))) expect(log).not.toContain(part);
    expect(log).not.toContain(source().password);
    expect(log).not.toContain('app-secret-in-logs');
  });

  it('logs no placeholder verifier with log_statement = ddl when the target user may not turn logging off', async () => {
    await source().query("CREATE ROLE ddl_app LOGIN PASSWORD 'ddl-secret'");
    await ddlTarget().query("CREATE ROLE ddl_migrator LOGIN CREATEROLE PASSWORD 'ddl-migrator-pw'");
    await source().query("CREATE ROLE no_verifiers LOGIN PASSWORD 'reader-pw'");
    const ctx = {
      ...runContext(source(), ddlTarget()),
      source: parseConnectionString(source().uri('postgres', 'no_verifiers', 'reader-pw'), 'source'),
      target: parseConnectionString(ddlTarget().uri('postgres', 'ddl_migrator', 'ddl-migrator-pw'), 'target'),
    };
    const { results, placeholders } = await migrateRoles(
      ctx,
      replicationRequest(source(), ddlTarget(), { roleScope: 'all' }),
      ['logshop'],
    );
    expect(results.find((r) => r.name === 'ddl_app')?.message).toMatch(/placeholder password was set/);
    const placeholder = placeholders.find((p) => p.role === 'ddl_app')!.password;
    // Only a SCRAM verifier of the placeholder reached the target, and it works.
    const [stored] = await ddlTarget().query<{ v: string }>(
      "SELECT rolpassword AS v FROM pg_authid WHERE rolname = 'ddl_app'",
    );
    expect(stored!.v).toMatch(/^SCRAM-SHA-256\$4096:/);
    const login = await ddlTarget().client('postgres', 'ddl_app', placeholder);
    await login.end();

    const log = ddlTarget().log();
    expect(log).toMatch(/statement: CREATE ROLE "ddl_app"/);
    for (const part of secretParts(stored!.v)) expect(log).not.toContain(part);
    expect(log).not.toContain(placeholder);
  });

  it('warns before the run, naming the setting and the remedy, where the target user may not turn statement logging off', async () => {
    await target().query("CREATE ROLE plain_migrator LOGIN CREATEROLE PASSWORD 'plain-migrator-pw'");
    const request = replicationRequest(source(), target());
    const asSuperuser = await runCheck('credential-exposure', request, runContext(source(), target()));
    expect(asSuperuser.map((r) => r.status)).toEqual(['pass']);
    const plain = {
      ...runContext(source(), target()),
      target: parseConnectionString(target().uri('postgres', 'plain_migrator', 'plain-migrator-pw'), 'target'),
    };
    const [warning, ...rest] = await runCheck('credential-exposure', request, plain);
    expect(rest).toEqual([]);
    expect(warning?.status).toBe('warn');
    expect(warning?.message).toMatch(/"plain_migrator" may not turn that off/);
    expect(warning?.message).toMatch(/log_statement = all logs the statement with its parameters/);
    expect(warning?.message).toMatch(/log_min_duration_statement = 0 ms/);
    expect(warning?.remedy).toMatch(/GRANT SET ON PARAMETER log_statement, .*TO "plain_migrator"/);
    // With logging limited to DDL the password travels as a bound parameter: nothing to warn about.
    const ddl = {
      ...runContext(source(), ddlTarget()),
      target: parseConnectionString(ddlTarget().uri('postgres', 'ddl_migrator', 'ddl-migrator-pw'), 'target'),
    };
    expect((await runCheck('credential-exposure', request, ddl)).map((r) => r.status)).toEqual(['pass']);
  });
});
