import { describe, expect, it } from 'vitest';
import {
  evaluateReplicationPreconditions,
  type PublishingFacts,
  type ReplicationPreconditionsFacts,
  type SubscribingFacts,
} from '../../../core/checks/replication-preconditions.js';
import { failed, ok, server, statuses } from './helpers.js';

const plain = server({ superuser: false, replication: false, user: 'plain' });
const admin = server({ superuser: false, replication: true, user: 'avnadmin' });
const admin16 = server({ superuser: false, replication: true, user: 'dbadmin', versionNum: 160004 });
const owned: PublishingFacts['access'] = {
  create: true,
  owner: 'avnadmin',
  ownerPrivileges: true,
  aivenExtrasInstalled: false,
  aivenExtrasUsable: false,
};
const publishing = (over: Partial<PublishingFacts> = {}): PublishingFacts => ({
  access: owned,
  notOwned: [],
  identityFullNotOwned: [],
  ...over,
});
const subscribing = (over: Partial<SubscribingFacts['access']> = {}, exists = true): SubscribingFacts => ({
  exists,
  access: { ...owned, ...over },
});
const noSupport = { extwlist: [] as string[], aivenExtrasAvailable: false };
const aivenSupport = { extwlist: ['aiven_extras', 'dblink'], aivenExtrasAvailable: true };

const good: ReplicationPreconditionsFacts = {
  candidates: ['a'],
  source: { user: server(), walLevel: 'logical', support: noSupport },
  target: { user: server(), support: noSupport },
  databases: [{ database: 'a', facts: ok({ source: publishing(), target: subscribing() }) }],
};

function withSides(
  base: ReplicationPreconditionsFacts,
  source: PublishingFacts,
  target: SubscribingFacts,
): ReplicationPreconditionsFacts {
  return { ...base, databases: [{ database: 'a', facts: ok({ source, target }) }] };
}

const aivenPair: ReplicationPreconditionsFacts = {
  ...good,
  source: { user: admin, walLevel: 'logical', support: aivenSupport },
  target: { user: admin, support: aivenSupport },
};

describe('evaluateReplicationPreconditions', () => {
  it.each<[string, ReplicationPreconditionsFacts, string[], RegExp?]>([
    ['superusers, logical WAL', good, ['pass:a']],
    ['no candidates', { ...good, candidates: [] }, ['skip']],
    [
      'wal_level replica',
      { ...good, source: { ...good.source, walLevel: 'replica' } },
      ['fail:a'],
      /wal_level is replica/,
    ],
    [
      'source 9.6',
      { ...good, source: { ...good.source, user: server({ versionNum: 90624, version: '9.6.24' }) } },
      ['fail:a'],
      /10 or newer/,
    ],
    [
      'a plain source user cannot create the slot',
      { ...good, source: { ...good.source, user: plain } },
      ['fail:a'],
      /may not publish "a": it may not create a replication slot/,
    ],
    [
      'rds_replication counts only on a recognised RDS',
      {
        ...good,
        source: {
          ...good.source,
          user: server({ superuser: false, replication: false, memberOf: ['rds_replication'] }),
          support: { ...noSupport, provider: 'rds' },
        },
      },
      ['pass:a'],
    ],
    [
      'rds_replication as a mere role name does not give replication',
      {
        ...good,
        source: {
          ...good.source,
          user: server({ superuser: false, replication: false, memberOf: ['rds_replication'] }),
        },
      },
      ['fail:a'],
      /replication slot/,
    ],
    [
      'fails when aiven_extras is only available and the user has no REPLICATION (available is not enough)',
      { ...good, source: { ...good.source, user: plain, support: aivenSupport } },
      ['fail:a'],
      /replication slot/,
    ],
    [
      'fails without CREATE on the source database (the postgres database owned by someone else)',
      withSides(
        aivenPair,
        publishing({ access: { ...owned, create: false, owner: 'postgres', ownerPrivileges: false } }),
        subscribing(),
      ),
      ['fail:a'],
      /lacks CREATE on the database.*permission denied for database a.*owner "postgres"/,
    ],
    [
      'tables of other owners are published through aiven_extras where it is usable',
      withSides(
        aivenPair,
        publishing({
          notOwned: ['public.t'],
          access: { ...owned, aivenExtrasInstalled: true, aivenExtrasUsable: true },
        }),
        subscribing(),
      ),
      ['pass:a'],
    ],
    [
      'aiven_extras installable through the allow-list counts when the user will get USAGE (database owner)',
      withSides(aivenPair, publishing({ notOwned: ['public.t'] }), subscribing()),
      ['pass:a'],
    ],
    [
      'fails when aiven_extras is installed but the user lacks USAGE on it',
      withSides(
        aivenPair,
        publishing({
          notOwned: ['public.t'],
          access: { ...owned, aivenExtrasInstalled: true, aivenExtrasUsable: false, ownerPrivileges: false },
        }),
        subscribing(),
      ),
      ['fail:a'],
      /lacks USAGE on schema aiven_extras/,
    ],
    [
      'fails when tables belong to roles the user lacks and aiven_extras is not there',
      withSides(
        { ...good, source: { ...good.source, user: admin } },
        publishing({ notOwned: ['app.orders'] }),
        subscribing(),
      ),
      ['fail:a'],
      /1 table\(s\) belong to roles whose privileges it lacks.*app\.orders/,
    ],
    [
      'fails when REPLICA IDENTITY FULL would touch a table the user does not own',
      withSides(
        { ...good, source: { ...good.source, user: admin } },
        publishing({ identityFullNotOwned: ['app.log'] }),
        subscribing(),
      ),
      ['fail:a'],
      /REPLICA IDENTITY FULL .* app\.log/,
    ],
    [
      'a plain target user on 15',
      { ...good, target: { ...good.target, user: plain } },
      ['fail:a'],
      /may not create subscriptions/,
    ],
    [
      'pg_create_subscription on 16 with CREATE on the target database',
      { ...good, target: { ...good.target, user: { ...admin16, memberOf: ['pg_create_subscription'] } } },
      ['pass:a'],
    ],
    [
      'fails with pg_create_subscription but no CREATE on the target database',
      withSides(
        { ...good, target: { ...good.target, user: { ...admin16, memberOf: ['pg_create_subscription'] } } },
        publishing(),
        subscribing({ create: false, owner: 'postgres', ownerPrivileges: false }),
      ),
      ['fail:a'],
      /holds pg_create_subscription but lacks CREATE on "a" on the target \(owner "postgres"\)/,
    ],
    [
      'fails with pg_create_subscription before 16 (it does not exist there)',
      { ...good, target: { ...good.target, user: { ...admin, memberOf: ['pg_create_subscription'] } } },
      ['fail:a'],
      /may not create subscriptions/,
    ],
    [
      'a recognised provider admin role may subscribe',
      {
        ...good,
        target: {
          user: server({ superuser: false, memberOf: ['rds_superuser'] }),
          support: { ...noSupport, provider: 'rds' },
        },
      },
      ['pass:a'],
    ],
    [
      'fails for a provider role name on a server that is not that provider',
      { ...good, target: { user: server({ superuser: false, memberOf: ['cloudsqlsuperuser'] }), support: noSupport } },
      ['fail:a'],
      /may not create subscriptions/,
    ],
    ['aiven_extras on the target', aivenPair, ['pass:a']],
    [
      'fails when the target database is owned by a role whose privileges the user lacks (no USAGE on aiven_extras)',
      withSides(aivenPair, publishing(), subscribing({ owner: 'postgres', ownerPrivileges: false, create: false })),
      ['fail:a'],
      /may not create subscriptions in "a" on the target/,
    ],
    [
      'everything wrong: one result per reason',
      {
        ...good,
        source: { user: plain, walLevel: 'minimal', support: noSupport },
        target: { user: plain, support: noSupport },
      },
      ['fail:a', 'fail:a', 'fail:a'],
    ],
  ])('%s', (_name, facts, expected, message) => {
    const results = evaluateReplicationPreconditions(facts);
    expect(statuses(results)).toEqual(expected);
    if (message) expect(results.map((r) => r.message).join(' | ')).toMatch(message);
    for (const r of results.filter((x) => x.status === 'fail')) expect(r.details?.replicationOnly).toBe(true);
  });

  it('blocks (not replication-only) when the facts of a database could not be read', () => {
    const [r] = evaluateReplicationPreconditions({
      ...good,
      databases: [{ database: 'a', facts: failed('permission denied for database "a"', '42501') }],
    });
    expect(r).toMatchObject({ status: 'fail', database: 'a', details: { couldNotRun: true } });
    expect(r?.details?.replicationOnly).toBeUndefined();
  });
});
