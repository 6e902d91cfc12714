import { describe, expect, it } from 'vitest';
import { isReplicationName, replicationNames } from '../../../core/steps/replication/names.js';

const byteLength = (s: string) => Buffer.byteLength(s, 'utf8');

describe('replicationNames', () => {
  it('derives one readable, prefixed name for publication, slot and subscription', () => {
    const names = replicationNames('shop');
    expect(names.slot).toMatch(/^pg_migrate_shop_[0-9a-f]{10}$/);
    expect(names.publication).toBe(names.slot);
    expect(names.subscription).toBe(names.slot);
  });

  it('is deterministic', () => {
    expect(replicationNames('Ledger "EU"')).toEqual(replicationNames('Ledger "EU"'));
  });

  it.each([
    ['quotes and spaces', 'shop "x"; drop table y'],
    ['unicode', 'Bücher-Ünïcode-数据库'],
    ['only symbols', '"""  ;;'],
    ['63 bytes', 'a'.repeat(63)],
    ['63 bytes of multibyte characters', 'é'.repeat(31)],
    ['a leading digit', '2024_sales'],
  ])('gives a valid slot name (<= 63 bytes, [a-z0-9_]) for %s', (_label, database) => {
    const { slot } = replicationNames(database);
    expect(byteLength(slot)).toBeLessThanOrEqual(63);
    expect(slot).toMatch(/^pg_migrate_[a-z0-9_]+$/);
    expect(isReplicationName(slot)).toBe(true);
  });

  it('keeps names apart that differ only in case, punctuation or after the truncation point', () => {
    const databases = ['Shop', 'shop', 'sh op', 'sh-op', `${'x'.repeat(60)}1`, `${'x'.repeat(60)}2`, 'é', 'è'];
    const slots = new Set(databases.map((d) => replicationNames(d).slot));
    expect(slots.size).toBe(databases.length);
  });

  it('recognises only names it could have produced', () => {
    expect(isReplicationName(replicationNames('shop').slot)).toBe(true);
    expect(isReplicationName('pg_migrate_shop')).toBe(false);
    expect(isReplicationName('pg_migrate_notes_for_me')).toBe(false);
    expect(isReplicationName('other_shop_0123456789')).toBe(false);
  });
});
