import { describe, expect, it } from 'vitest';
import { attributesNotGrantable, evaluateRoles, type RolesFacts, type SourceRole } from '../../../core/checks/roles.js';
import { server, statuses } from './helpers.js';

const role = (name: string, attrs: Partial<SourceRole> = {}): SourceRole => ({
  name,
  superuser: false,
  replication: false,
  bypassRls: false,
  ...attrs,
});
const facts: RolesFacts = {
  sourceRoles: [
    role('postgres', { superuser: true }),
    role('app'),
    role('pg_monitor'),
    role('rdsadmin', { superuser: true }),
  ],
  sourceUser: server(),
  targetRoles: ['postgres', 'pg_monitor'],
  targetUser: server(),
};

describe('attributesNotGrantable', () => {
  it.each([
    ['superuser target grants all', role('r', { superuser: true, replication: true, bypassRls: true }), server(), []],
    [
      'a plain target user leaves REPLICATION / BYPASSRLS off',
      role('r', { replication: true, bypassRls: true }),
      server({ superuser: false }),
      ['REPLICATION', 'BYPASSRLS'],
    ],
    [
      'SUPERUSER needs superuser',
      role('r', { superuser: true }),
      server({ superuser: false, versionNum: 160000 }),
      ['SUPERUSER'],
    ],
    ['an ordinary role loses nothing', role('r'), server({ superuser: false }), []],
  ] as const)('%s', (_name, r, target, expected) => {
    expect(attributesNotGrantable(r, target)).toEqual(expected);
  });
});

describe('evaluateRoles', () => {
  it.each<[string, RolesFacts | undefined, { roles: boolean }, string[]]>([
    ['superusers: app to create, rdsadmin reserved', facts, { roles: true }, ['pass', 'warn']],
    ['--no-roles', undefined, { roles: false }, ['skip']],
    [
      'target cannot create roles',
      { ...facts, targetUser: server({ superuser: false, createRole: false }) },
      { roles: true },
      ['fail'],
    ],
    [
      'nothing to create, target cannot create roles',
      {
        ...facts,
        targetRoles: ['postgres', 'pg_monitor', 'app'],
        targetUser: server({ superuser: false, createRole: false }),
      },
      { roles: true },
      ['pass', 'warn'],
    ],
    [
      'attributes lost',
      {
        ...facts,
        sourceRoles: [role('bot', { replication: true })],
        targetUser: server({ superuser: false, versionNum: 150000 }),
      },
      { roles: true },
      ['pass', 'warn'],
    ],
    [
      'passwords unreadable',
      { ...facts, sourceRoles: [role('app')], sourceUser: server({ superuser: false }) },
      { roles: true },
      ['pass', 'warn'],
    ],
  ])('%s', (_name, f, request, expected) => {
    expect(statuses(evaluateRoles(f, request))).toEqual(expected);
  });

  it('lists the roles to create, the reserved ones and the lost attributes', () => {
    const results = evaluateRoles(
      {
        ...facts,
        sourceRoles: [...facts.sourceRoles, role('bot', { bypassRls: true })],
        targetUser: server({ superuser: false, versionNum: 150000 }),
      },
      { roles: true, roleAttributes: ['bypassrls'] },
    );
    expect(results[0]?.details).toEqual({ create: ['app', 'bot'] });
    expect(results.find((r) => r.details?.withoutAttributes)?.details?.withoutAttributes).toEqual({
      bot: ['BYPASSRLS'],
    });
    expect(results.find((r) => r.details?.reserved)?.details?.reserved).toEqual(['rdsadmin']);
  });

  it('warns about privileged attributes without consent and names the option', () => {
    const results = evaluateRoles(
      {
        ...facts,
        sourceRoles: [...facts.sourceRoles, role('dba', { superuser: true }), role('bot', { bypassRls: true })],
      },
      { roles: true, roleAttributes: ['bypassrls'] },
    );
    const warning = results.find((r) => r.details?.withoutConsent);
    expect(warning?.status).toBe('warn');
    expect(warning?.details?.withoutConsent).toEqual({ dba: ['SUPERUSER'] });
    expect(warning?.remedy).toMatch(/--role-attributes superuser/);
  });

  it('creates only the roles the selected databases need, and counts the others', () => {
    const results = evaluateRoles(
      { ...facts, sourceRoles: [...facts.sourceRoles, role('hr')], needed: ['app'] },
      {
        roles: true,
      },
    );
    expect(statuses(results)).toEqual(['pass']);
    // postgres and hr; pg_monitor and rdsadmin are never created and do not count.
    expect(results[0]?.details).toEqual({ create: ['app'], notNeeded: 2 });
    expect(results[0]?.message).toMatch(/2 role\(s\) of the source are not needed by the selected databases/);
  });
});
