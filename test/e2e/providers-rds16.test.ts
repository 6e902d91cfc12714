/**
 * A superuser source (PostgreSQL 15) → an RDS target on 16, as its master user `dbadmin`: it subscribes natively
 * through pg_create_subscription (held by rds_superuser) in the database pg-migrate creates — and owns, since on 16
 * it cannot SET ROLE to the roles it creates (createrole_self_grant). `postgres` on the target belongs to the
 * provider's superuser: no CREATE there, so it goes by dump, as the check says.
 */
import { describe, it } from 'vitest';
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
    await lifecycle(source(), target(), {
      dbs: ['postgres', 'shop'],
      methods: { postgres: 'dump', shop: 'replication' },
    });
  });
});
