import { describe, expect, it } from 'vitest';
import { evaluateVersion, type VersionFacts } from '../../../core/checks/version.js';
import { taskToolsMajors } from '../../../core/checks/collect.js';
import { parsePgDumpVersion } from '../../../core/pgtools-locate.js';

const v = (num: number) => ({ versionNum: num, version: `${Math.floor(num / 10000)}.${num % 100}` });
const tools = (major: number) => ({ dir: `/usr/lib/postgresql/${major}/bin`, version: `${major}.2`, major });

describe('evaluateVersion', () => {
  it.each<[string, VersionFacts, string[]]>([
    ['14 → 16 with pg_dump 16', { source: v(140011), target: v(160002), tools: tools(16), searched: 'x' }, ['pass']],
    ['15 → 15 with pg_dump 15', { source: v(150008), target: v(150008), tools: tools(15), searched: 'x' }, ['pass']],
    ['16 → 15', { source: v(160002), target: v(150008), tools: tools(16), searched: 'x' }, ['fail']],
    ['16 → 16 without pg_dump 16', { source: v(160002), target: v(160002), searched: 'x' }, ['fail']],
    ['16 → 14 without pg_dump', { source: v(160002), target: v(140011), searched: 'x' }, ['fail', 'fail']],
  ])('%s', (_name, facts, expected) => {
    expect(evaluateVersion(facts).map((r) => r.status)).toEqual(expected);
  });

  it('names the binaries and their version', () => {
    const [r] = evaluateVersion({ source: v(140011), target: v(160002), tools: tools(16), searched: 'x' });
    expect(r?.details).toMatchObject({
      pgDump: '/usr/lib/postgresql/16/bin/pg_dump',
      pgRestore: '/usr/lib/postgresql/16/bin/pg_restore',
      toolsVersion: '16.2',
    });
    expect(r?.message).toMatch(/16\.2 from \/usr\/lib\/postgresql\/16\/bin/);
  });
});

describe('evaluateVersion with the task image tools', () => {
  it('names the task image instead of a directory', () => {
    const [r] = evaluateVersion({
      source: v(140011),
      target: v(160002),
      tools: { dir: 'task image', version: '17', major: 17, inTaskImage: true },
      searched: 'PG_MIGRATE_TASK_PG_MAJOR=17 (the Fargate task image)',
    });
    expect(r?.status).toBe('pass');
    expect(r?.message).toMatch(/pg_restore 17 in the Fargate task image/);
    expect(r?.details).toMatchObject({ toolsVersion: '17', toolsIn: 'task image' });
  });

  it('fails when the task image is too old, with a rebuild remedy', () => {
    const results = evaluateVersion({
      source: v(170002),
      target: v(170002),
      searched: 'PG_MIGRATE_TASK_PG_MAJOR=16 (the Fargate task image)',
    });
    expect(results.map((r) => r.status)).toEqual(['fail']);
    expect(results[0]?.remedy).toMatch(/rebuild the task image/);
  });
});

describe('taskToolsMajors (PG_MIGRATE_TASK_PG_MAJOR)', () => {
  it.each([
    ['14,15,16,17,18', [14, 15, 16, 17, 18]],
    ['17', [17]],
    [' 16.2 , 17 ', [16, 17]],
    ['', undefined],
    [undefined, undefined],
    ['abc,9', undefined],
  ])('reads %j as %j', (text, majors) => {
    expect(taskToolsMajors(text)).toEqual(majors);
  });
});

describe('parsePgDumpVersion', () => {
  it.each([
    ['pg_dump (PostgreSQL) 15.8 (Debian 15.8-1.pgdg120+1)', { version: '15.8', major: 15 }],
    ['pg_dump (PostgreSQL) 16.4', { version: '16.4', major: 16 }],
    ['pg_dump (PostgreSQL) 17beta1', { version: '17', major: 17 }],
    ['pg_dump (PostgreSQL) 9.6.24', { version: '9.6.24', major: 9.6 }],
    ['something else', undefined],
  ])('%s', (text, expected) => expect(parsePgDumpVersion(text)).toEqual(expected));
});
