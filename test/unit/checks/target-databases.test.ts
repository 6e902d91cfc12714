import { describe, expect, it } from 'vitest';
import type { SharedFacts } from '../../../core/checks/collect.js';
import {
  evaluateTargetDatabases,
  missingWriteRights,
  predictOwner,
  type TargetWriteAccess,
} from '../../../core/checks/target-databases.js';
import { failed, ok, server, statuses } from './helpers.js';

describe('evaluateTargetDatabases', () => {
  it.each([
    ['absent, the user can create databases', server(), [], [], ['pass:a'], false],
    [
      'absent, the user cannot create databases',
      server({ superuser: false, createDb: false }),
      [],
      [],
      ['fail:a'],
      false,
    ],
    [
      'present and empty',
      server(),
      ['a'],
      [{ database: 'a', facts: ok({ userObjects: 0, sample: [], ours: false }) }],
      ['pass:a'],
      true,
    ],
    [
      'present with user data',
      server(),
      ['a'],
      [{ database: 'a', facts: ok({ userObjects: 3, sample: ['public.t'], ours: false }) }],
      ['fail:a'],
      true,
    ],
    [
      'present with data of an interrupted run',
      server(),
      ['a'],
      [{ database: 'a', facts: ok({ userObjects: 3, sample: ['public.t'], ours: true }) }],
      ['warn:a'],
      true,
    ],
    [
      'present but not inspectable',
      server(),
      ['a'],
      [{ database: 'a', facts: failed('permission denied for database "a"', '42501') }],
      ['fail:a'],
      true,
    ],
  ] as const)('%s', (_name, targetUser, existing, content, expected, targetExists) => {
    const results = evaluateTargetDatabases({ selected: ['a'], targetUser, existing, content });
    expect(statuses(results)).toEqual(expected);
    expect(results[0]?.details?.targetExists).toBe(targetExists);
  });

  it('names some of the relations that block', () => {
    const [r] = evaluateTargetDatabases({
      selected: ['a'],
      targetUser: server(),
      existing: ['a'],
      content: [{ database: 'a', facts: ok({ userObjects: 2, sample: ['public.x', 'app.y'], ours: false }) }],
    });
    expect(r?.message).toMatch(/2 object\(s\), e\.g\. public\.x, app\.y/);
  });
});

describe('the target user may restore the database', () => {
  const access = (over: Partial<TargetWriteAccess> = {}): TargetWriteAccess => ({
    predicted: false,
    owner: 'postgres',
    ownerPrivileges: false,
    create: false,
    publicCreate: false,
    sourceSchemas: ['public', 'app'],
    ...over,
  });
  const plain = server({ superuser: false, user: 'avnadmin' });

  it.each<[string, TargetWriteAccess, string[]]>([
    [
      'fails without CREATE on a database owned by someone else',
      access(),
      ['CREATE on the database', 'CREATE on schema public'],
    ],
    ['passes as the owner', access({ ownerPrivileges: true }), []],
    ['passes with the grants', access({ create: true, publicCreate: true }), []],
    [
      'needs only CREATE on the database without objects in public',
      access({ sourceSchemas: ['app'] }),
      ['CREATE on the database'],
    ],
    ['needs nothing for an empty source database (nothing is written)', access({ sourceSchemas: [] }), []],
    [
      'needs CREATE on the database for large objects alone (the progress record)',
      access({ sourceSchemas: [], sourceLargeObjects: true }),
      ['CREATE on the database'],
    ],
  ])('%s', (_name, a, missing) => {
    expect(missingWriteRights(a, false)).toEqual(missing);
    expect(missingWriteRights(a, true)).toEqual([]);
  });

  it('fails an existing empty postgres database the target user may not write, naming the owner and the grants', () => {
    const [r] = evaluateTargetDatabases({
      selected: ['postgres'],
      targetUser: plain,
      existing: ['postgres'],
      content: [{ database: 'postgres', facts: ok({ userObjects: 0, sample: [], ours: false }) }],
      write: [{ database: 'postgres', access: access() }],
    });
    expect(r).toMatchObject({ status: 'fail', database: 'postgres', details: { owner: 'postgres' } });
    expect(r?.remedy).toMatch(/GRANT CREATE ON DATABASE "postgres" TO avnadmin/);
  });
  it('warns, before anything is written, that a database it creates keeps the target user as owner when the hand-over cannot happen', () => {
    const created = access({
      predicted: true,
      owner: 'dbadmin',
      ownerPrivileges: true,
      create: true,
      publicCreate: true,
      handOver: { sourceOwner: 'app_owner', owner: 'dbadmin' },
    });
    const [r] = evaluateTargetDatabases({
      selected: ['app'],
      targetUser: server({ superuser: false, user: 'dbadmin' }),
      existing: [],
      content: [],
      write: [{ database: 'app', access: created }],
    });
    expect(r).toMatchObject({
      status: 'warn',
      database: 'app',
      details: { targetExists: false, owner: 'dbadmin', sourceOwner: 'app_owner' },
    });
    expect(r?.message).toMatch(/owned by "dbadmin" and not by "app_owner"/);
    expect(r?.remedy).toMatch(/--accept owner/);
    const [handedOver] = evaluateTargetDatabases({
      selected: ['app'],
      targetUser: server({ superuser: false, user: 'dbadmin' }),
      existing: [],
      content: [],
      write: [{ database: 'app', access: { ...created, handOver: { sourceOwner: 'app_owner', owner: 'app_owner' } } }],
    });
    expect(handedOver?.status).toBe('pass');
  });
});

describe('predictOwner', () => {
  const shared = (
    roles: Record<string, { exists: boolean; set: boolean; usage: boolean }>,
    grant = '',
  ): Pick<SharedFacts, 'target'> =>
    ({
      target: { ownerRoles: ok(roles), createroleSelfGrant: ok(grant) },
    }) as unknown as Pick<SharedFacts, 'target'>;
  const admin16 = server({ superuser: false, user: 'dbadmin', versionNum: 160004 });
  const admin15 = server({ superuser: false, user: 'dbadmin', versionNum: 150008 });

  it.each<[string, ReturnType<typeof server>, Pick<SharedFacts, 'target'>, { name: string; privileges: boolean }]>([
    [
      'a superuser keeps the source owner',
      server(),
      shared({ app: { exists: true, set: true, usage: true } }),
      { name: 'app', privileges: true },
    ],
    [
      'an owner the user may SET ROLE to and inherits',
      admin16,
      shared({ app: { exists: true, set: true, usage: true } }),
      { name: 'app', privileges: true },
    ],
    [
      'an owner the user only administers (16: ADMIN without SET): the user owns it',
      admin16,
      shared({ app: { exists: true, set: false, usage: false } }),
      { name: 'dbadmin', privileges: true },
    ],
    [
      'an owner the roles step creates on 16 with createrole_self_grant = set, inherit',
      admin16,
      shared({ app: { exists: false, set: false, usage: false } }, 'set, inherit'),
      { name: 'app', privileges: true },
    ],
    [
      'an owner the roles step creates on 16 with createrole_self_grant = set only: not writable',
      admin16,
      shared({ app: { exists: false, set: false, usage: false } }, 'set'),
      { name: 'app', privileges: false },
    ],
    [
      'an owner the roles step creates before 16: the user owns it',
      admin15,
      shared({ app: { exists: false, set: false, usage: false } }, 'set, inherit'),
      { name: 'dbadmin', privileges: true },
    ],
  ])('%s', (_name, user, s, expected) => {
    expect(predictOwner('app', user, s)).toEqual(expected);
  });
});
