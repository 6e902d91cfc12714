import { describe, expect, it } from 'vitest';
import { endOfWrittenWal, formatLsn, parseLsn } from '../../../core/steps/replication/cutover.js';

describe('LSN arithmetic for the cutover position', () => {
  it('parses and formats LSNs as PostgreSQL writes them', () => {
    expect(parseLsn('0/16B3748')).toBe(0x16b3748n);
    expect(parseLsn('1/0')).toBe(1n << 32n);
    expect(formatLsn(parseLsn('2A/FF00A018'))).toBe('2A/FF00A018');
  });

  it('keeps an insert position inside a page', () => {
    expect(endOfWrittenWal(parseLsn('0/3000100'), 8192, 16 * 1024 * 1024)).toBe(parseLsn('0/3000100'));
  });

  it('steps back over a short page header at a page boundary', () => {
    expect(formatLsn(endOfWrittenWal(parseLsn('0/3002018'), 8192, 16 * 1024 * 1024))).toBe('0/3002000');
  });

  it('steps back over the long page header at a segment boundary', () => {
    expect(formatLsn(endOfWrittenWal(parseLsn('0/4000028'), 8192, 16 * 1024 * 1024))).toBe('0/4000000');
  });
});
