/**
 * RDS → Aiven: the source's master user `dbadmin` (rds_superuser, replication granted) publishes; the target's
 * avnadmin subscribes through aiven_extras, which pg-migrate creates in the new target database through the
 * allow-list. `postgres` (owned by the provider's superuser on both sides) goes by dump. Without the extensions on
 * the machine every database goes by dump.
 */
import { describe, it } from 'vitest';
import { providerExtensionsInstalled, useProvider } from '../support/providers.js';
import { APP_FIXTURE, lifecycle } from './providers.js';

const source = useProvider('rds');
const target = useProvider('aiven');

describe('rds → aiven', () => {
  it('checks, migrates (auto), reports status, cuts over, and ends with equal data and nothing left behind', async () => {
    const s = source();
    await s.createDatabase('shop');
    await s.asAdmin(
      'shop',
      `CREATE ROLE app_owner NOLOGIN; GRANT app_owner TO dbadmin; GRANT CREATE ON SCHEMA public TO app_owner;
      ${APP_FIXTURE}
      ALTER TABLE public.orders OWNER TO app_owner;`,
    );
    await lifecycle(s, target(), {
      dbs: ['postgres', 'shop'],
      methods: { postgres: 'dump', shop: providerExtensionsInstalled() ? 'replication' : 'dump' },
      // The emulated RDS cannot turn rds_replication into replication: the subscription logs in as dbadmin.
      accept: ['owner', 'placeholder-password', 'role-attribute', 'subscription-login'],
    });
  });
});
