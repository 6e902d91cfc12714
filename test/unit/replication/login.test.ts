import { describe, expect, it } from 'vitest';
import {
  type LoginPowers,
  loginFingerprint,
  planSubscriptionLogin,
  sameLogin,
  subscriptionRoleGrants,
  subscriptionRoleSql,
} from '../../../core/steps/replication/login.js';
import { replicationNames, subscriptionRoleName } from '../../../core/steps/replication/names.js';

const base: LoginPowers = {
  versionNum: 150000,
  superuser: false,
  replicationAttribute: false,
  createrole: false,
  rdsReplication: false,
};

describe('planSubscriptionLogin', () => {
  it.each<[string, Partial<LoginPowers>, ReturnType<typeof planSubscriptionLogin>]>([
    ['a superuser, on any major', { superuser: true, versionNum: 100000 }, { kind: 'role', replication: 'attribute' }],
    [
      'a 16 user with CREATEROLE and REPLICATION (aiven, the rds emulation)',
      { versionNum: 160000, createrole: true, replicationAttribute: true },
      { kind: 'role', replication: 'attribute' },
    ],
    [
      'an RDS master user that may grant rds_replication',
      { versionNum: 150000, createrole: true, rdsReplication: true },
      { kind: 'role', replication: 'rds_replication' },
    ],
    [
      'a 15 user with CREATEROLE and REPLICATION (aiven on 15)',
      { createrole: true, replicationAttribute: true },
      {
        kind: 'source-user',
        reason: 'the source (PostgreSQL 15) lets only superusers create a role with REPLICATION',
      },
    ],
    [
      'a user without CREATEROLE',
      { versionNum: 170000, replicationAttribute: true },
      { kind: 'source-user', reason: 'the source user lacks CREATEROLE' },
    ],
    [
      'a 16 user with CREATEROLE but no REPLICATION',
      { versionNum: 160000, createrole: true },
      { kind: 'source-user', reason: 'the source user lacks REPLICATION, which it needs to give it' },
    ],
  ])('decides for %s', (_label, powers, plan) => {
    expect(planSubscriptionLogin({ ...base, ...powers })).toEqual(plan);
  });
});

describe('the subscription role statements', () => {
  it('creates a login role with REPLICATION and nothing else, the verifier in place of the marker', () => {
    expect(subscriptionRoleSql('pgmigrate_sub_shop_0123456789', false, 'attribute', '<v>')).toBe(
      'CREATE ROLE "pgmigrate_sub_shop_0123456789" LOGIN REPLICATION NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD <v>',
    );
  });

  it('updates the role of an earlier attempt, and leaves REPLICATION to rds_replication on RDS', () => {
    expect(subscriptionRoleSql('r', true, 'rds_replication', '<v>')).toBe(
      'ALTER ROLE "r" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD <v>',
    );
  });

  it('grants rds_replication, CONNECT, and for a tablesync USAGE on each schema once and SELECT on the tables', () => {
    expect(
      subscriptionRoleGrants('r', 'My "db"', {
        rdsReplication: true,
        connect: true,
        copyTables: [
          { schema: 'public', name: 'items' },
          { schema: 'Sales', name: 'orders' },
          { schema: 'public', name: 'notes' },
        ],
      }),
    ).toEqual([
      'GRANT rds_replication TO "r"',
      'GRANT CONNECT ON DATABASE "My ""db""" TO "r"',
      'GRANT USAGE ON SCHEMA "Sales" TO "r"',
      'GRANT USAGE ON SCHEMA "public" TO "r"',
      'GRANT SELECT ON TABLE "public"."items", "Sales"."orders", "public"."notes" TO "r"',
    ]);
  });

  it('grants nothing for a fast start where PUBLIC may connect', () => {
    expect(subscriptionRoleGrants('r', 'shop', { rdsReplication: false, connect: false, copyTables: [] })).toEqual([]);
  });
});

describe('subscriptionRoleName', () => {
  it('derives a role name outside the reserved pg_ prefix, distinct from the objects, within 63 bytes', () => {
    expect(subscriptionRoleName('shop')).toMatch(/^pgmigrate_sub_shop_[0-9a-f]{10}$/);
    expect(subscriptionRoleName('shop')).not.toBe(replicationNames('shop').slot);
    for (const name of ['a'.repeat(63), 'é'.repeat(31), '"""']) {
      expect(Buffer.byteLength(subscriptionRoleName(name), 'utf8')).toBeLessThanOrEqual(63);
    }
    expect(subscriptionRoleName('Shop')).not.toBe(subscriptionRoleName('shop'));
  });
});

describe('the fallback login fingerprint', () => {
  it('recognises the same user and password, and neither another password nor another user', () => {
    const fingerprint = loginFingerprint('avnadmin', 'old-secret');
    expect(fingerprint).toMatch(/^pbkdf2-sha256\$4096\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(fingerprint).not.toContain('old-secret');
    expect(sameLogin(fingerprint, 'avnadmin', 'old-secret')).toBe(true);
    expect(sameLogin(fingerprint, 'avnadmin', 'new-secret')).toBe(false);
    expect(sameLogin(fingerprint, 'avnadmin2', 'old-secret')).toBe(false);
  });

  it('salts every fingerprint, and treats an unreadable one as changed', () => {
    expect(loginFingerprint('u', 'p')).not.toBe(loginFingerprint('u', 'p'));
    const salt = Buffer.alloc(16, 7);
    expect(loginFingerprint('u', 'p', salt)).toBe(loginFingerprint('u', 'p', salt));
    expect(sameLogin('garbage', 'u', 'p')).toBe(false);
    expect(sameLogin('pbkdf2-sha256$99999999$AAAA$AAAA', 'u', 'p')).toBe(false);
  });
});
