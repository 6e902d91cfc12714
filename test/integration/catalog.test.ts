/**
 * core/catalog.ts against a real server: the one definition of user tables (partition leaves included), table
 * filters, target emptiness (extension members and their schemas left out) and extension membership, and the steps
 * and checks that read through it agreeing with each other.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  dataTables,
  filterTables,
  publishableTables,
  readInstalledExtensions,
  readTargetContent,
  readUserTables,
  tablesWithoutIdentity,
} from '../../core/catalog.js';
import { runCheck } from '../../core/checks/index.js';
import { listTables } from '../../core/steps/copy.js';
import { publicationTables, selectedTables } from '../../core/steps/replication/catalog.js';
import { migrateByReplication } from '../../core/steps/replication/index.js';
import { parseRequest, tableFiltersFor } from '../../core/request.js';
import { useCluster } from '../support/vitest.js';
import { contextFor, requestFor, statuses } from './checks/support.js';
import { planned, replicationRequest, runContext } from './replication/support.js';

const server = useCluster({ version: 15 });
const other = useCluster({ version: 15 });
const PW = 'catalog-pw-1';

beforeAll(async () => {
  const s = server();
  await s.createRole('app_owner', { login: false });
  await s.createRole('reader', { password: PW });
  await s.createDatabase('shop');
  await s.loadFixture(
    'shop',
    `create extension hstore;
     create table items (id int primary key, tags hstore);
     create table log (at timestamptz, line text);
     create unlogged table cache (k text primary key);
     create table moves (id int, at date, primary key (id, at)) partition by range (at);
     create table moves_2025 partition of moves for values from ('2025-01-01') to ('2026-01-01')
       partition by range (id);
     create table moves_2025_a partition of moves_2025 for values from (0) to (1000);
     create table events (id int, at date) partition by range (at);
     create table events_2025 partition of events for values from ('2025-01-01') to ('2026-01-01');
     create table owned_elsewhere (id int primary key);
     alter table owned_elsewhere owner to app_owner;
     grant select on items to reader;`,
  );
}, 60_000);

describe('user tables', () => {
  it('lists ordinary tables, partitioned roots and every partition with its top-level root, never extension tables', async () => {
    const client = await server().client('shop');
    try {
      const tables = await readUserTables(client);
      expect(tables.map((t) => `${t.schema}.${t.name}:${t.kind}:${t.root ? t.root.name : '-'}`)).toEqual([
        'public.cache:table:-',
        'public.events:partitioned:-',
        'public.events_2025:partition:events',
        'public.items:table:-',
        'public.log:table:-',
        'public.moves:partitioned:-',
        'public.moves_2025:partition:moves',
        'public.moves_2025_a:partition:moves',
        'public.owned_elsewhere:table:-',
      ]);
      expect(dataTables(tables).map((t) => t.name)).not.toContain('moves');
      expect(publishableTables(tables).map((t) => t.name)).toEqual([
        'events',
        'items',
        'log',
        'moves',
        'owned_elsewhere',
      ]);
      // Leaves count on their own: events_2025 has no key, while the keyed moves leaves inherit theirs.
      expect(tablesWithoutIdentity(tables).map((t) => t.name)).toEqual(['events_2025', 'log']);
      expect(tables.find((t) => t.name === 'owned_elsewhere')?.owner).toBe('app_owner');
    } finally {
      await client.end();
    }
  });

  it('tells which tables a non-superuser owns and may read', async () => {
    const client = await server().client('shop', 'reader', PW);
    try {
      const tables = await readUserTables(client);
      expect(tables.filter((t) => t.readable).map((t) => t.name)).toEqual(['items']);
      expect(tables.filter((t) => t.owned)).toEqual([]);
    } finally {
      await client.end();
    }
  });

  it('applies a filter naming a partitioned root to all its partitions, in the copy, the publication and the check alike', async () => {
    const request = parseRequest({
      action: 'migrate',
      source: { env: 'S' },
      target: { env: 'T' },
      skipTables: ['shop.public.moves', 'public.log'],
      replicaIdentityFull: true,
    });
    const filters = tableFiltersFor(request, 'shop');
    const ctx = runContext(server(), other());
    const copied = (await listTables(ctx, 'shop', filters)).map((t) => t.name).sort();
    expect(copied).toEqual(['cache', 'events_2025', 'items', 'owned_elsewhere']);
    const client = await server().client('shop');
    try {
      expect(filterTables(await readUserTables(client), filters).map((t) => t.name)).toEqual([
        'cache',
        'events',
        'events_2025',
        'items',
        'owned_elsewhere',
      ]);
      // The replication step selects the same tables, partitions with their root; its publication lists the root
      // (15: a root publishes its partitions) and leaves the unlogged table out.
      const selected = await selectedTables(client, request, 'shop');
      expect(selected.map((t) => t.name)).toEqual(['cache', 'events', 'events_2025', 'items', 'owned_elsewhere']);
      expect(publicationTables(selected, 150000).map((t) => t.name)).toEqual(['events', 'items', 'owned_elsewhere']);
    } finally {
      await client.end();
    }
    const check = await runCheck(
      'primary-keys',
      requestFor({ dbs: ['shop'], skipTables: ['shop.public.moves', 'public.log'], replicaIdentityFull: true }),
      contextFor(server().uri(), other().uri()),
    );
    expect(check[0]?.details?.tables).toEqual(['public.events_2025']);
  });
});

describe('target emptiness', () => {
  it('leaves extension members, the schemas extensions were installed in, and pg-migrate’s own schema out', async () => {
    await server().createDatabase('extensions_only');
    await server().loadFixture(
      'extensions_only',
      `create extension hstore; create schema ext; create extension pg_trgm schema ext;
       create schema _pg_migrate; create table _pg_migrate.steps (step text primary key);`,
    );
    const client = await server().client('extensions_only');
    try {
      const content = await readTargetContent(client);
      expect(content).toEqual({ objects: 0, tables: 0, sample: [], marked: true, subscriptions: false });
      expect((await readInstalledExtensions(client)).map((e) => `${e.name}@${e.schema}`)).toEqual([
        'hstore@public',
        'pg_trgm@ext',
        'plpgsql@pg_catalog',
      ]);
    } finally {
      await client.end();
    }
  });

  it('counts user relations, functions, types and schemas, once each', async () => {
    await server().createDatabase('used');
    await server().loadFixture(
      'used',
      `create schema app; create type mood as enum ('ok'); create type pair as (a int, b int);
       create function f() returns int language sql as 'select 1'; create table app.t (id int);`,
    );
    const client = await server().client('used');
    try {
      const content = await readTargetContent(client);
      expect(content.objects).toBe(5);
      expect(content.tables).toBe(1);
      expect([...content.sample].sort()).toEqual(['app', 'app.t', 'public.f', 'public.mood', 'public.pair']);
      expect(content.marked).toBe(false);
    } finally {
      await client.end();
    }
  });

  it('lets the target-databases check pass a database holding only extensions the user created beforehand', async () => {
    await other().createDatabase('shop');
    await other().loadFixture('shop', 'create extension hstore;');
    const results = await runCheck(
      'target-databases',
      requestFor({ dbs: ['shop'] }),
      contextFor(server().uri(), other().uri()),
    );
    expect(statuses(results)).toEqual(['pass:shop']);
    await other().dropDatabase('shop');
  });
});

describe('replication and databases pg-migrate did not create', () => {
  it('fails when the target database holds user data pg-migrate did not mark, and truncates nothing', async () => {
    await server().createDatabase('keep');
    await server().loadFixture('keep', 'create table t (id int primary key); insert into t values (1), (2);');
    await other().createDatabase('keep');
    await other().loadFixture('keep', 'create table t (id int primary key); insert into t values (42);');
    const ctx = runContext(server(), other());
    const run = migrateByReplication(ctx, replicationRequest(server(), other()), planned('keep'));
    await expect(run).rejects.toMatchObject({ name: 'PgMigrate.Blocked' });
    await expect(run).rejects.toThrow(/did not create/);
    expect(await other().query('select id from t', [], 'keep')).toEqual([{ id: 42 }]);
    expect(await server().query('select slot_name from pg_replication_slots')).toEqual([]);
  });
});
