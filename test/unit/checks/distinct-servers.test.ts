import { describe, expect, it } from 'vitest';
import { evaluateDistinctServers, type ServerIdentity } from '../../../core/checks/distinct-servers.js';

const a: ServerIdentity = { systemIdentifier: '1', dataDirectory: '/data/a', port: 5432, startTime: 't1' };
const b: ServerIdentity = { systemIdentifier: '2', dataDirectory: '/data/b', port: 5432, startTime: 't2' };

describe('evaluateDistinctServers', () => {
  it.each([
    ['different identifiers', a, b, false, 'pass'],
    ['the probe session seen on the target', a, b, true, 'fail'],
    ['same identifier, port, start time and directory', a, { ...a }, false, 'fail'],
    ['same identifier and instance, directory unreadable', a, { ...a, dataDirectory: undefined }, false, 'fail'],
    ['same identifier, other start time (a physical copy)', a, { ...a, startTime: 't9' }, false, 'warn'],
    [
      'identifiers unreadable, probe not seen',
      { port: 5432, startTime: 't1' },
      { port: 5432, startTime: 't1' },
      false,
      'pass',
    ],
  ] as const)('%s → %s', (_name, source, target, seen, status) => {
    const [r] = evaluateDistinctServers({
      source,
      target,
      probeSeenOnTarget: seen,
    });
    expect(r?.status).toBe(status);
  });
});
