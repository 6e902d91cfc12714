import { describe, expect, it } from 'vitest';
import {
  type AvailableExtensionVersion,
  compareExtensionVersions,
  type ExtensionsFacts,
  evaluateExtensions,
  installRoute,
} from '../../../core/checks/extensions.js';
import { ok, server, statuses } from './helpers.js';

describe('compareExtensionVersions', () => {
  it.each([
    ['1.10', '1.9', 1],
    ['1.9', '1.10', -1],
    ['2.0', '2.0', 0],
    ['2.0.1', '2.0', 1],
    ['2.0', '2.0.0', 0],
    ['1.0beta', '1.0alpha', 1],
  ])('%s vs %s', (a, b, sign) => expect(Math.sign(compareExtensionVersions(a, b))).toBe(sign));
});

const ext = (name: string, version: string, superuser: boolean, trusted: boolean): AvailableExtensionVersion => ({
  name,
  version,
  superuser,
  trusted,
});

const none = { extwlist: [] as string[] };
describe('installRoute', () => {
  it.each<
    [
      string,
      AvailableExtensionVersion,
      ReturnType<typeof server>,
      Parameters<typeof installRoute>[2],
      string | undefined,
    ]
  >([
    ['superuser', ext('x', '1', true, false), server(), none, 'as superuser'],
    [
      'rds_superuser on a recognised RDS, the extension on its list',
      ext('x', '1', true, false),
      server({ superuser: false, memberOf: ['rds_superuser'] }),
      { extwlist: [], provider: 'rds', providerAllowList: ['x'] },
      'through rds_superuser',
    ],
    [
      'fails when rds_superuser is only a role name (no RDS settings): available is not installable',
      ext('x', '1', true, false),
      server({ superuser: false, memberOf: ['rds_superuser'] }),
      none,
      undefined,
    ],
    [
      "fails when the extension is not on the provider's allow-list",
      ext('x', '1', true, false),
      server({ superuser: false, memberOf: ['azure_pg_admin'] }),
      { extwlist: [], provider: 'azure', providerAllowList: ['y'] },
      undefined,
    ],
    [
      'cloudsqlsuperuser on a recognised Cloud SQL',
      ext('x', '1', true, false),
      server({ superuser: false, memberOf: ['cloudsqlsuperuser'] }),
      { extwlist: [], provider: 'cloudsql' },
      'through cloudsqlsuperuser',
    ],
    [
      'extwlist',
      ext('x', '1', true, false),
      server({ superuser: false }),
      { extwlist: ['x'] },
      'through the pgextwlist allow-list',
    ],
    ['no superuser needed', ext('x', '1', false, false), server({ superuser: false }), none, 'without superuser'],
    [
      'trusted on 13+',
      ext('x', '1', true, true),
      server({ superuser: false, versionNum: 130000 }),
      none,
      'as a trusted extension',
    ],
    [
      'trusted flag ignored before 13',
      ext('x', '1', true, true),
      server({ superuser: false, versionNum: 120000 }),
      none,
      undefined,
    ],
    ['no route', ext('x', '1', true, false), server({ superuser: false }), { extwlist: ['y'] }, undefined],
  ])('%s', (_name, e, user, support, expected) => {
    expect(installRoute(e, user, support)).toBe(expected);
  });
});

const base: ExtensionsFacts = {
  source: [{ database: 'a', facts: ok([{ name: 'hstore', version: '1.8' }]) }],
  targetInstalled: [],
  targetAvailable: [
    ext('hstore', '1.7', false, true),
    ext('hstore', '1.8', false, true),
    ext('pg_stat_statements', '1.10', true, false),
  ],
  targetUser: server({ superuser: false }),
  support: { extwlist: [] },
};

describe('evaluateExtensions', () => {
  it.each<[string, Partial<ExtensionsFacts>, string[], RegExp?]>([
    ['available and installable', {}, ['pass:a'], /hstore 1\.8 \(installable without superuser\)/],
    [
      'installed at the same version',
      { targetInstalled: [{ database: 'a', facts: ok([{ name: 'hstore', version: '1.8' }]) }] },
      ['pass:a'],
      /installed 1\.8/,
    ],
    [
      'installed older, newer available',
      { targetInstalled: [{ database: 'a', facts: ok([{ name: 'hstore', version: '1.7' }]) }] },
      ['warn:a'],
      /older extension version\(s\) installed: hstore 1\.7 \(source 1\.8\)/,
    ],
    [
      'missing on the target',
      { source: [{ database: 'a', facts: ok([{ name: 'postgis', version: '3.4.0' }]) }] },
      ['fail:a'],
      /postgis 3\.4\.0 of "a" is not available/,
    ],
    [
      'only older on the target',
      { source: [{ database: 'a', facts: ok([{ name: 'hstore', version: '1.9' }]) }] },
      ['fail:a'],
      /offers at most 1\.8/,
    ],
    [
      'needs superuser',
      { source: [{ database: 'a', facts: ok([{ name: 'pg_stat_statements', version: '1.10' }]) }] },
      ['fail:a'],
      /needs superuser/,
    ],
    [
      'needs superuser, allowed by extwlist',
      {
        source: [{ database: 'a', facts: ok([{ name: 'pg_stat_statements', version: '1.10' }]) }],
        support: { extwlist: ['pg_stat_statements'] },
      },
      ['pass:a'],
    ],
    [
      'plpgsql is built into every new database, even for a plain user on 12',
      {
        source: [{ database: 'a', facts: ok([{ name: 'plpgsql', version: '1.0' }]) }],
        targetUser: server({ superuser: false, versionNum: 120000 }),
      },
      ['pass:a'],
      /plpgsql 1\.0 \(built in\)/,
    ],
    [
      'one failure per extension',
      {
        source: [
          {
            database: 'a',
            facts: ok([
              { name: 'x1', version: '1' },
              { name: 'x2', version: '1' },
            ]),
          },
        ],
      },
      ['fail:a', 'fail:a'],
    ],
  ])('%s', (_name, overrides, expected, message) => {
    const results = evaluateExtensions({ ...base, ...overrides });
    expect(statuses(results)).toEqual(expected);
    if (message) expect(results[0]?.message).toMatch(message);
  });

  it('tells how to update an outdated extension on the target', () => {
    const [r] = evaluateExtensions({
      ...base,
      targetInstalled: [{ database: 'a', facts: ok([{ name: 'hstore', version: '1.7' }]) }],
    });
    expect(r?.remedy).toMatch(/ALTER EXTENSION hstore UPDATE in "a"/);
  });

  it('names extension and database in a failure', () => {
    const [r] = evaluateExtensions({
      ...base,
      source: [{ database: 'shop', facts: ok([{ name: 'postgis', version: '3.4.0' }]) }],
    });
    expect(r).toMatchObject({ database: 'shop', details: { extension: 'postgis', version: '3.4.0' } });
  });
});
