import { describe, expect, it } from 'vitest';
import { evaluateLanguages } from '../../../core/checks/languages.js';
import { failed, ok, statuses } from './helpers.js';

describe('evaluateLanguages', () => {
  it.each([
    ['all available', [{ database: 'a', facts: ok(['plpgsql', 'plperl']) }], ['plpgsql', 'plperl'], ['pass:a']],
    ['none used', [{ database: 'a', facts: ok([]) }], ['plpgsql'], ['pass:a']],
    ['one missing', [{ database: 'a', facts: ok(['plpgsql', 'pltcl']) }], ['plpgsql'], ['fail:a']],
    [
      'per database',
      [
        { database: 'a', facts: ok(['pltcl']) },
        { database: 'b', facts: ok(['plpgsql']) },
      ],
      ['plpgsql'],
      ['fail:a', 'pass:b'],
    ],
    [
      'cannot list',
      [{ database: 'a', facts: failed('permission denied for database "a"', '42501') }],
      ['plpgsql'],
      ['warn:a'],
    ],
  ] as const)('%s', (_name, source, targetAvailable, expected) => {
    expect(statuses(evaluateLanguages({ source, targetAvailable }))).toEqual(expected);
  });

  it('names the missing language and the package', () => {
    const [r] = evaluateLanguages({ source: [{ database: 'a', facts: ok(['pltclu']) }], targetAvailable: [] });
    expect(r?.details?.missing).toEqual(['pltclu']);
    expect(r?.remedy).toMatch(/postgresql-pltcl-<major>/);
  });
});
