/**
 * A superuser source (PostgreSQL 15) → an RDS target on 16, as its master user `dbadmin`: it subscribes natively
 * through pg_create_subscription (held by rds_superuser) in the database pg-migrate creates — and owns, since on 16
 * it cannot SET ROLE to the roles it creates (createrole_self_grant): the check warns, the migration reports the owner
 * warning (consented with --accept owner). `postgres` on the target belongs to the
 * provider's superuser: no CREATE there, so it goes by dump, as the check says.
 */
import { describe, expect, it } from 'vitest';
import { useProvider } from '../support/providers.js';
import { useCluster } from '../support/vitest.js';
import { APP_FIXTURE, lifecycle } from './providers.js';

const source = useCluster({ version: 15 });
const target = useProvider('rds', { version: 16 });

describe('superuser 15 → rds 16', () => {
  it('checks, migrates (auto), reports status, cuts over, and ends with equal data and nothing left behind', async () => {
    await source().createRole('app_owner', { login: false });
    await source().createDatabase('shop');
    await source().loadFixture('shop', `${APP_FIXTURE} ALTER TABLE public.orders OWNER TO app_owner;`);
    // As in the issue: the database belongs to the application role, which the roles step creates on the target.
    await source().query('ALTER DATABASE shop OWNER TO app_owner');
    const { check, migrate } = await lifecycle(source(), target(), {
      dbs: ['postgres', 'shop'],
      methods: { postgres: 'dump', shop: 'replication' },
      accept: ['owner'],
    });
    // dbadmin creates app_owner on 16 and so holds ADMIN on it but not SET: the database cannot be created OWNER
    // app_owner nor handed to it. The pre-check says so before anything is written; the migration does not fail at
    // the step but creates it as dbadmin's and reports the owner warning (consented here).
    expect(check.report.checks.find((c) => c.id === 'target-databases' && c.database === 'shop')).toMatchObject({
      status: 'warn',
      details: { targetExists: false, owner: 'dbadmin', sourceOwner: 'app_owner' },
    });
    const shop = migrate.report.databases.find((d) => d.name === 'shop');
    expect(shop?.warnings?.filter((w) => w.kind === 'owner').map((w) => w.message)).toContainEqual(
      expect.stringMatching(/database shop: owned by app_owner on the source, by dbadmin on the target/),
    );
  });
});
