import { describe, expect, it } from 'vitest';
import { evaluateTargetDatabases } from '../../../core/checks/target-databases.js';
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
