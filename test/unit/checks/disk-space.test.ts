import { describe, expect, it } from 'vitest';
import { type DiskSpaceFacts, evaluateDiskSpace, formatBytes } from '../../../core/checks/disk-space.js';
import { failed, ok } from './helpers.js';

const GiB = 1024 ** 3;
const sizes = (...bytes: number[]) => bytes.map((b, i) => ({ database: `db${i}`, bytes: ok(b) }));

describe('evaluateDiskSpace', () => {
  it.each<[string, DiskSpaceFacts, string]>([
    ['enough free space', { sizes: sizes(GiB, GiB), free: { known: true, bytes: 3 * GiB, from: 'statfs' } }, 'pass'],
    ['exactly 130%', { sizes: sizes(10 * GiB), free: { known: true, bytes: 13 * GiB, from: 'request' } }, 'pass'],
    ['less than 130%', { sizes: sizes(10 * GiB), free: { known: true, bytes: 12 * GiB, from: 'cloudwatch' } }, 'fail'],
    ['free space unknown', { sizes: sizes(GiB), free: { known: false, reason: 'remote' } }, 'warn'],
    [
      'a size unknown',
      {
        sizes: [...sizes(GiB), { database: 'x', bytes: failed('permission denied', '42501') }],
        free: { known: true, bytes: 10 * GiB, from: 'statfs' },
      },
      'warn',
    ],
    [
      'a size unknown but already too big',
      {
        sizes: [...sizes(10 * GiB), { database: 'x', bytes: failed('permission denied', '42501') }],
        free: { known: true, bytes: GiB, from: 'statfs' },
      },
      'fail',
    ],
  ])('%s → %s', (_name, facts, status) => {
    const [r] = evaluateDiskSpace(facts);
    expect(r?.status).toBe(status);
    expect(r?.details?.requiredBytes).toBe(Math.ceil(Number(r?.details?.sourceBytes) * 1.3));
  });

  it('states the figures when it cannot decide', () => {
    const [r] = evaluateDiskSpace({ sizes: sizes(GiB), free: { known: false, reason: 'remote' } });
    expect(r?.message).toMatch(/1\.3 GiB \(130% of the selected databases' 1\.0 GiB\).*unknown \(remote\)/);
    expect(r?.remedy).toMatch(/targetFreeBytes.*targetRdsInstanceId/);
  });

  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1536, '1.5 KiB'],
    [5 * GiB, '5.0 GiB'],
  ])('formats %i bytes as %s', (bytes, text) => expect(formatBytes(bytes)).toBe(text));
});
