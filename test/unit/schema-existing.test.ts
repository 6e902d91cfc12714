import { describe, expect, it } from 'vitest';
import { commentOutExistingSchemas } from '../../core/steps/schema.js';

const toc = [
  ';',
  '; Archive created at 2026-12-01',
  '8; 2615 16387 SCHEMA - aiven_extras postgres',
  '3487; 0 0 ACL - SCHEMA aiven_extras postgres',
  '2; 3079 16388 EXTENSION - aiven_extras ',
  '9; 2615 16390 SCHEMA - Acc ounts app_owner',
  '220; 1259 16589 TABLE public t avnadmin',
  '6; 2615 2200 SCHEMA - public postgres',
].join('\n');

describe('commentOutExistingSchemas', () => {
  it('comments out the SCHEMA entries of schemas the target has already, and nothing else', () => {
    const out = commentOutExistingSchemas(toc, new Set(['aiven_extras', 'public'])).split('\n');
    expect(out[2]).toBe(';8; 2615 16387 SCHEMA - aiven_extras postgres');
    expect(out.filter((l) => l.startsWith(';8') || l.startsWith(';9'))).toHaveLength(1);
    expect(out[4]).toBe('2; 3079 16388 EXTENSION - aiven_extras ');
  });

  it('keeps the public schema, whose entry only gives it the source owner (pg_dump never creates it)', () => {
    const out = commentOutExistingSchemas(toc, new Set(['public'])).split('\n');
    expect(out[7]).toBe('6; 2615 2200 SCHEMA - public postgres');
  });

  it('handles schema names with spaces', () => {
    const out = commentOutExistingSchemas(toc, new Set(['Acc ounts'])).split('\n');
    expect(out[5]).toBe(';9; 2615 16390 SCHEMA - Acc ounts app_owner');
  });

  it('leaves the list as it is when the target has none of them', () => {
    expect(commentOutExistingSchemas(toc, new Set())).toBe(toc);
  });
});
