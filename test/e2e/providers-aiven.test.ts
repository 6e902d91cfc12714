/**
 * Aiven → Aiven as a user runs it: both sides as avnadmin (not a superuser). `shop` and `defaultdb` (where the
 * provider installed aiven_extras) replicate through aiven_extras; `postgres`, owned by the provider's superuser,
 * goes by dump, and the check says why before anything is written. Without aiven_extras and pgextwlist on the
 * machine (CI installs them), the targets cannot subscribe and every database goes by dump: asserted as such.
 */
import { describe, expect, it } from 'vitest';
import { providerExtensionsInstalled, useProvider } from '../support/providers.js';
import { APP_FIXTURE, lifecycle, pgMigrate } from './providers.js';

const source = useProvider('aiven');
const target = useProvider('aiven');
const extensions = providerExtensionsInstalled();

describe('aiven → aiven', () => {
  it('checks, migrates by replication where the preconditions hold and by dump elsewhere, cuts over, equal data', async () => {
    const s = source();
    await s.createDatabase('shop');
    await s.asAdmin(
      'shop',
      `CREATE ROLE app_owner NOLOGIN; GRANT app_owner TO avnadmin; GRANT CREATE ON SCHEMA public TO app_owner;
      ${APP_FIXTURE}
      ALTER TABLE public.orders OWNER TO app_owner;`,
    );

    const check = await pgMigrate(s, target(), ['check', '--dbs', 'postgres']);
    const postgres = check.report.checks.filter((c) => c.id === 'replication-preconditions' && c.status === 'fail');
    expect(postgres.map((c) => c.message).join(' | ')).toMatch(
      /"postgres": the source user "avnadmin" may not publish "postgres": .*lacks CREATE on the database/,
    );

    const method = extensions ? 'replication' : 'dump';
    await lifecycle(s, target(), {
      dbs: ['defaultdb', 'postgres', 'shop'],
      methods: { defaultdb: method, postgres: 'dump', shop: method },
      // aiven on 15 lets only superusers create REPLICATION roles: the subscriptions log in as avnadmin.
      accept: ['owner', 'subscription-login'],
      live: ['shop'],
    });
  });
});
