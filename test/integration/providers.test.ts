/**
 * The provider profiles of the test harness (test/support/providers.ts) are what they claim: a non-superuser admin
 * with the provider's roles and limits, an admin database it cannot enter, and the extension allow-list where the
 * machine has pgextwlist (CI installs it; the assertions follow the machine either way).
 */
import { describe, expect, it } from 'vitest';
import { hasAllowList, type ProviderServer, providerExtensionsInstalled, useProvider } from '../support/providers.js';

const aiven = useProvider('aiven');
const rds16 = useProvider('rds', { version: 16 });
const cloudsql = useProvider('cloudsql');
const azure = useProvider('azure');

async function attributes(server: ProviderServer) {
  const [row] = await server.cluster.query<{
    super: boolean;
    createdb: boolean;
    createrole: boolean;
    replication: boolean;
    member_of: string[] | null;
  }>(
    `SELECT r.rolsuper AS super, r.rolcreatedb AS createdb, r.rolcreaterole AS createrole, r.rolreplication AS replication,
            (SELECT array_agg(g.rolname::text ORDER BY g.rolname) FROM pg_roles g
              WHERE g.oid <> r.oid AND pg_has_role(r.oid, g.oid, 'MEMBER')) AS member_of
       FROM pg_roles r WHERE r.rolname = $1`,
    [server.admin],
  );
  return row!;
}

async function connectError(server: ProviderServer, database: string): Promise<string> {
  try {
    const client = await server.client(database);
    await client.end();
    return 'connected';
  } catch (err) {
    return (err as Error).message;
  }
}

describe('provider profiles', () => {
  it('gives aiven an avnadmin that is not superuser, with its own defaultdb and the allow-list where installed', async () => {
    const server = aiven();
    expect(await attributes(server)).toMatchObject({
      super: false,
      createdb: true,
      createrole: true,
      replication: true,
    });
    expect(await connectError(server, '_aiven')).toMatch(/permission denied for database "_aiven"/);
    const [owner] = await server.cluster.query<{ owner: string }>(
      "SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = 'defaultdb'",
    );
    expect(owner?.owner).toBe('avnadmin');
    const extras = await server.cluster.query(
      'SELECT 1 FROM pg_extension WHERE extname = $1',
      ['aiven_extras'],
      'defaultdb',
    );
    expect(extras).toHaveLength(providerExtensionsInstalled() ? 1 : 0);
    const denied = await server.asAdmin('defaultdb', 'CREATE EXTENSION pg_freespacemap').then(
      () => 'created',
      (err: Error) => err.message,
    );
    // dblink is on the allow-list and not trusted: only the allow-list lets a non-superuser create it.
    const allowed = await server.asAdmin('defaultdb', 'CREATE EXTENSION dblink').then(
      () => 'created',
      (err: Error) => err.message,
    );
    expect(denied).toMatch(/permission denied to create extension "pg_freespacemap"/);
    if (hasAllowList(server.version)) expect(allowed).toBe('created');
    else expect(allowed).toMatch(/permission denied to create extension "dblink"/);
  });

  it('gives rds on 16 a master user in rds_superuser that may create subscriptions through pg_create_subscription', async () => {
    const server = rds16();
    const attrs = await attributes(server);
    expect(attrs).toMatchObject({ super: false, createdb: true, createrole: true });
    expect(attrs.member_of).toEqual(
      expect.arrayContaining(['pg_create_subscription', 'rds_replication', 'rds_superuser']),
    );
    expect(await connectError(server, 'rdsadmin')).toMatch(/permission denied for database "rdsadmin"/);
    const [row] = await server.cluster.query<{ create: boolean }>(
      "SELECT has_database_privilege($1, 'postgres', 'CREATE') AS create",
      [server.admin],
    );
    expect(row?.create).toBe(false);
  });

  it('gives cloudsql and azure an admin in the provider role, not superuser, outside the admin database', async () => {
    for (const [server, role, adminDb] of [
      [cloudsql(), 'cloudsqlsuperuser', 'cloudsqladmin'],
      [azure(), 'azure_pg_admin', 'azure_maintenance'],
    ] as const) {
      const attrs = await attributes(server);
      expect(attrs.super).toBe(false);
      expect(attrs.member_of).toContain(role);
      expect(attrs.member_of).not.toContain('pg_create_subscription');
      expect(await connectError(server, adminDb)).toMatch(/permission denied/);
    }
  });
});
