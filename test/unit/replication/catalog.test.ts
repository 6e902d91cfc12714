import { describe, expect, it } from 'vitest';
import { parseRequest } from '../../../core/request.js';
import {
  identityFullAllowed,
  identityTables,
  publicationTables,
  type SourceTable,
} from '../../../core/steps/replication/catalog.js';

const request = (replicaIdentityFull: boolean) =>
  parseRequest({ action: 'migrate', source: { env: 'S' }, target: { env: 'T' }, replicaIdentityFull });
const database = (replicaIdentityFull: string[]) => ({
  name: 'shop',
  method: 'replication' as const,
  reasons: [],
  replicaIdentityFull,
  targetExists: false,
});
const events = { schema: 'public', name: 'events' };

describe('identityFullAllowed', () => {
  it('allows REPLICA IDENTITY FULL on a table the plan lists', () => {
    expect(identityFullAllowed(request(false), database(['public.events']), events)).toBe(true);
  });

  it('allows it on any table when the request consents', () => {
    expect(identityFullAllowed(request(true), database([]), events)).toBe(true);
  });

  it('fails when neither the plan nor the request consents', () => {
    expect(identityFullAllowed(request(false), database(['public.other']), events)).toBe(false);
  });
});

describe('partitions', () => {
  const root = { schema: 'public', name: 'moves' };
  const tables: SourceTable[] = [
    { ...events, kind: 'table', unlogged: false, identityOk: false, owned: true },
    { ...root, kind: 'partitioned', unlogged: false, identityOk: false, owned: true },
    { schema: 'public', name: 'moves_2025', kind: 'partition', root, unlogged: false, identityOk: true, owned: true },
    { schema: 'public', name: 'moves_2026', kind: 'partition', root, unlogged: false, identityOk: false, owned: true },
    { schema: 'public', name: 'cache', kind: 'table', unlogged: true, identityOk: true, owned: true },
  ];
  const names = (list: readonly SourceTable[]) => list.map((t) => t.name);

  it('publishes partitioned roots from PostgreSQL 13 on, and their partitions before', () => {
    expect(names(publicationTables(tables, 130000))).toEqual(['events', 'moves']);
    expect(names(publicationTables(tables, 120022))).toEqual(['events', 'moves_2025', 'moves_2026']);
  });

  it('looks at the replica identity of the tables that hold the rows: plain tables and partitions', () => {
    expect(names(identityTables(tables))).toEqual(['events', 'moves_2025', 'moves_2026']);
  });

  it('allows REPLICA IDENTITY FULL on a partition when the plan lists it or its root', () => {
    const leaf = { schema: 'public', name: 'moves_2026', root };
    expect(identityFullAllowed(request(false), database(['public.moves']), leaf)).toBe(true);
    expect(identityFullAllowed(request(false), database(['public.moves_2026']), leaf)).toBe(true);
    expect(identityFullAllowed(request(false), database(['public.moves_2025']), leaf)).toBe(false);
  });
});
