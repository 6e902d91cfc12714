import { describe, expect, it } from 'vitest';
import { analyzeStatements } from '../../core/steps/analyze.js';
import { commentOutExisting, localeClause } from '../../core/steps/schema.js';
import { copySql, filterTables, groupTasks, planTasks, type TableRef, tableName } from '../../core/steps/copy.js';
import {
  createRoleSql,
  droppedAttributesNote,
  grantableAttributes,
  isSystemRole,
  type SourceRole,
} from '../../core/steps/roles.js';
import { readSequencesSql } from '../../core/steps/sequences.js';
import { setClause, splitListSetting } from '../../core/steps/settings.js';
import { compareTable, verifySql } from '../../core/steps/verify.js';

const table = (name: string, bytes: number, extra: Partial<TableRef> = {}): TableRef => ({
  schema: 'public',
  name,
  bytes,
  rowsEstimate: 0,
  kind: 'regular',
  hasPk: true,
  columns: ['id', 'Val ue'],
  binarySafe: true,
  ...extra,
});

const MiB = 1024 * 1024;

describe('copy planning', () => {
  it('orders work largest first and keeps small tables whole', () => {
    const tasks = planTasks([table('small', 1 * MiB), table('mid', 50 * MiB)], {
      splitBytes: 256 * MiB,
      jobs: 2,
      splittable: true,
    });
    expect(tasks.map((t) => [t.table.name, t.chunks])).toEqual([
      ['mid', 1],
      ['small', 1],
    ]);
  });

  it('splits a large table into contiguous ctid page ranges that cover every page once, the last one open-ended', () => {
    const tasks = planTasks([table('big', 1024 * MiB)], { splitBytes: 256 * MiB, jobs: 2, splittable: true });
    expect(tasks).toHaveLength(8);
    const ranges = tasks.map((t) => t.pages!).sort((a, b) => a[0] - b[0]);
    expect(ranges[0]![0]).toBe(0);
    for (let i = 1; i < ranges.length; i++) expect(ranges[i]![0]).toBe(ranges[i - 1]![1]);
    expect(ranges.at(-1)![1]).toBeUndefined();
    expect(new Set(tasks.map((t) => t.chunk)).size).toBe(8);
  });

  it('does not split for one job or when the source cannot scan ctid ranges', () => {
    expect(planTasks([table('big', 1024 * MiB)], { splitBytes: 256 * MiB, jobs: 1, splittable: true })).toHaveLength(1);
    expect(planTasks([table('big', 1024 * MiB)], { splitBytes: 256 * MiB, jobs: 4, splittable: false })).toHaveLength(
      1,
    );
  });

  it('groups small whole tables in order, up to a table count and a byte budget, and leaves the rest alone', () => {
    const tasks = planTasks(
      [
        table('big', 1024 * MiB),
        table('mid', 5 * MiB),
        ...Array.from({ length: 5 }, (_, i) => table(`s${i}`, 300 * 1024)),
        table('tiny', 0),
      ],
      { splitBytes: 256 * MiB, jobs: 2, splittable: true },
    );
    const units = groupTasks(tasks, { smallBytes: MiB, maxBytes: MiB, maxTables: 3 });
    const shape = units.map((u) => [
      u.group,
      u.tasks.map((t) => `${t.table.name}${t.chunks > 1 ? `#${t.chunk}` : ''}`),
    ]);
    expect(shape.filter(([group]) => !group).map(([, names]) => (names as string[]).length)).toEqual(
      Array.from({ length: 9 }, () => 1),
    );
    expect(shape.filter(([group]) => group)).toEqual([
      [true, ['s0', 's1', 's2']],
      [true, ['s3', 's4', 'tiny']],
    ]);
    // Every task appears exactly once.
    expect(units.flatMap((u) => u.tasks)).toHaveLength(tasks.length);
  });

  it('starts a new group when the next small table would exceed the byte budget', () => {
    const tasks = planTasks([table('a', 600 * 1024), table('b', 500 * 1024), table('c', 100 * 1024)], {
      splitBytes: 256 * MiB,
      jobs: 2,
      splittable: true,
    });
    expect(
      groupTasks(tasks, { smallBytes: MiB, maxBytes: MiB, maxTables: 100 }).map((u) =>
        u.tasks.map((t) => t.table.name),
      ),
    ).toEqual([['a'], ['b', 'c']]);
  });

  it('builds COPY statements with quoted names, the column list, and FREEZE only for whole tables', () => {
    const t = table('Order "Lines"', 10, { schema: 'my schema' });
    expect(copySql({ table: t, chunk: 0, chunks: 1, bytes: 10 }, 'binary', true)).toEqual({
      out: 'COPY "my schema"."Order ""Lines""" ("id", "Val ue") TO STDOUT WITH (FORMAT binary)',
      in: 'COPY "my schema"."Order ""Lines""" ("id", "Val ue") FROM STDIN WITH (FORMAT binary, FREEZE)',
    });
    expect(copySql({ table: t, chunk: 1, chunks: 3, bytes: 10, pages: [10, 20] }, 'text', false)).toEqual({
      out: `COPY (SELECT "id", "Val ue" FROM ONLY "my schema"."Order ""Lines""" WHERE ctid >= '(10,0)'::pg_catalog.tid AND ctid < '(20,0)'::pg_catalog.tid) TO STDOUT WITH (FORMAT text)`,
      in: 'COPY "my schema"."Order ""Lines""" ("id", "Val ue") FROM STDIN WITH (FORMAT text)',
    });
  });

  it('applies withTables and skipTables filters by exact name', () => {
    const tables = [table('a', 1), table('b', 1), table('c', 1, { schema: 'x' })];
    expect(
      filterTables(tables, {
        withTables: [
          { schema: 'public', table: 'a' },
          { schema: 'x', table: 'c' },
        ],
      }).map(tableName),
    ).toEqual(['public.a', 'x.c']);
    expect(filterTables(tables, { skipTables: [{ schema: 'public', table: 'b' }] }).map(tableName)).toEqual([
      'public.a',
      'x.c',
    ]);
  });

  it('names tables for people, quoting only what needs it', () => {
    expect(tableName({ schema: 'public', name: 'orders' })).toBe('public.orders');
    expect(tableName({ schema: 'Shop', name: 'my table' })).toBe('"Shop"."my table"');
  });
});

describe('analyze', () => {
  const rel = (name: string, bytes: number) => ({ schema: 'public', name, bytes });

  it('analyzes large relations one per statement and small ones many to a statement, in order', () => {
    expect(
      analyzeStatements([rel('big', 5 * MiB), rel('a', 10), rel('b', 10), rel('c', 10), rel('Odd Name', 0)], {
        multi: true,
        maxPerStatement: 3,
      }),
    ).toEqual([
      'ANALYZE "public"."big"',
      'ANALYZE "public"."a", "public"."b", "public"."c"',
      'ANALYZE "public"."Odd Name"',
    ]);
  });

  it('analyzes one relation per statement when the target takes no list (before 11)', () => {
    expect(analyzeStatements([rel('a', 10), rel('b', 10)], { multi: false })).toEqual([
      'ANALYZE "public"."a"',
      'ANALYZE "public"."b"',
    ]);
  });

  it('issues no statement for no relation', () => {
    expect(analyzeStatements([], { multi: true })).toEqual([]);
  });
});

describe('sequences', () => {
  it('reads many sequences in one query, each branch numbered by its position, names quoted', () => {
    expect(
      readSequencesSql([
        { schema: 'public', name: 'a_id_seq' },
        { schema: 'Odd', name: 'b"seq' },
      ]),
    ).toBe(
      'SELECT 0 AS i, last_value::text AS last_value, is_called FROM "public"."a_id_seq"\n' +
        'UNION ALL SELECT 1 AS i, last_value::text AS last_value, is_called FROM "Odd"."b""seq"',
    );
  });
});

describe('settings', () => {
  it('splits list settings as PostgreSQL stores them', () => {
    expect(splitListSetting('analytics, public, "$user", "my ""odd"" schema"')).toEqual([
      'analytics',
      'public',
      '$user',
      'my "odd" schema',
    ]);
  });

  it('renders list settings element by element and other settings as one literal', () => {
    expect(setClause('search_path=app, "my schema"')).toBe(`SET "search_path" TO 'app', 'my schema'`);
    expect(setClause('statement_timeout=5min')).toBe(`SET "statement_timeout" TO '5min'`);
    expect(setClause("application_name=it's")).toBe(`SET "application_name" TO 'it''s'`);
  });
});

describe('roles', () => {
  const role: SourceRole = {
    name: 'Ops "Admin"',
    superuser: true,
    inherit: true,
    createrole: true,
    createdb: false,
    login: true,
    replication: true,
    bypassrls: false,
    connlimit: 5,
    validUntil: '2099-01-01T00:00:00.000000Z',
    comment: null,
    settings: [],
  };

  it('creates a role with every consented attribute when the target user is a superuser, never with its password', () => {
    expect(createRoleSql(role, grantableAttributes(['superuser', 'replication'], true))).toEqual({
      sql: `CREATE ROLE "Ops ""Admin""" SUPERUSER INHERIT CREATEROLE NOCREATEDB LOGIN REPLICATION NOBYPASSRLS CONNECTION LIMIT 5 VALID UNTIL '2099-01-01T00:00:00.000000Z'`,
      dropped: [],
    });
  });

  it('leaves out privileged attributes without consent, and says so', () => {
    const { sql, dropped } = createRoleSql(role, grantableAttributes(['replication'], true));
    expect(sql).toContain('NOSUPERUSER');
    expect(sql).toContain(' REPLICATION');
    expect(dropped).toEqual(['SUPERUSER']);
    expect(droppedAttributesNote(dropped, ['replication'])).toEqual([
      'created without SUPERUSER (not consented: --role-attributes superuser recreates it)',
    ]);
  });

  it('leaves out what only a superuser may grant even with consent, and says so', () => {
    const { sql, dropped } = createRoleSql(role, grantableAttributes(['superuser', 'replication'], false));
    expect(sql).toContain('NOSUPERUSER');
    expect(sql).toContain('NOREPLICATION');
    expect(dropped).toEqual(['SUPERUSER', 'REPLICATION']);
    expect(droppedAttributesNote(dropped, ['superuser'])).toEqual([
      'created without REPLICATION (not consented: --role-attributes replication recreates it)',
      'not granted (the target user may not grant it): SUPERUSER',
    ]);
  });

  it('skips server and provider roles', () => {
    expect(['pg_monitor', 'rdsadmin', 'rds_superuser', 'cloudsqlsuperuser', 'azure_pg_admin'].every(isSystemRole)).toBe(
      true,
    );
    expect(['app_rw', 'postgres', 'reporting'].some(isSystemRole)).toBe(false);
  });
});

describe('verification', () => {
  it('counts with ONLY (partitions and inheritance children are verified on their own)', () => {
    expect(verifySql({ schema: 's', name: 't' }, false)).toBe(
      'SELECT count(*)::float8 AS n, NULL::text AS checksum FROM ONLY "s"."t"',
    );
    expect(verifySql({ schema: 's', name: 't' }, true)).toMatch(/md5\(t::text\).*FROM ONLY "s"\."t" AS t$/);
  });

  it('fails a table when the row counts or checksums differ', () => {
    const t = { schema: 'public', name: 'a' };
    const extra = { bytes: 1, durationMs: 1 };
    expect(compareTable(t, { rows: 3, checksum: 'x/3' }, { rows: 3, checksum: 'x/3' }, extra).ok).toBe(true);
    expect(compareTable(t, { rows: 3 }, { rows: 2 }, extra).ok).toBe(false);
    expect(compareTable(t, { rows: 3, checksum: 'x/3' }, { rows: 3, checksum: 'y/3' }, extra)).toMatchObject({
      ok: false,
      sourceChecksum: 'x/3',
      targetChecksum: 'y/3',
    });
  });
});

describe('post-data restore list', () => {
  const toc = [
    ';',
    '; Archive created at 2026-11-24 16:00:00 UTC',
    '3401; 2606 16410 CONSTRAINT shop customers customers_pkey app_owner',
    '3402; 1259 16420 INDEX shop products_search_idx app_owner',
    '3403; 1259 16421 INDEX shop orders_customer_idx app_owner',
    '3404; 2606 16430 FK CONSTRAINT shop order_lines order_lines_product_id_fkey postgres',
    '3405; 2620 16440 TRIGGER shop customers customers_audit postgres',
    '3406; 1259 16450 INDEX my schema my index Report "Bot" ü',
    '3407; 0 16460 MATERIALIZED VIEW DATA shop product_sales app_owner',
  ].join('\n');

  it('comments out exactly the entries whose objects exist, names with spaces included', () => {
    const existing = new Set([
      'CONSTRAINT shop customers customers_pkey',
      'INDEX shop products_search_idx',
      'CONSTRAINT shop order_lines order_lines_product_id_fkey',
      'INDEX my schema my index',
    ]);
    const out = commentOutExisting(toc, existing).split('\n');
    expect(out.filter((l) => l.startsWith(';3')).map((l) => l.split(';')[1])).toEqual(['3401', '3402', '3404', '3406']);
    expect(out).toContain('3403; 1259 16421 INDEX shop orders_customer_idx app_owner');
    expect(out).toContain('3405; 2620 16440 TRIGGER shop customers customers_audit postgres');
    expect(out).toContain('3407; 0 16460 MATERIALIZED VIEW DATA shop product_sales app_owner');
  });

  it('leaves the list alone when nothing exists', () => {
    expect(commentOutExisting(toc, new Set())).toBe(toc);
  });
});

describe('database locale', () => {
  const libc = { collate: 'en_US.UTF-8', ctype: 'en_US.UTF-8', provider: 'c', providerLocale: null };

  it('keeps libc locales as LC_COLLATE / LC_CTYPE', () => {
    expect(localeClause(libc, 15)).toBe("LC_COLLATE 'en_US.UTF-8' LC_CTYPE 'en_US.UTF-8'");
  });

  it('keeps an ICU locale on a 15+ target and falls back to libc on an older one', () => {
    const icu = { ...libc, provider: 'i', providerLocale: 'de-DE' };
    expect(localeClause(icu, 15)).toBe(
      "LOCALE_PROVIDER icu ICU_LOCALE 'de-DE' LC_COLLATE 'en_US.UTF-8' LC_CTYPE 'en_US.UTF-8'",
    );
    expect(localeClause(icu, 14)).toBe("LC_COLLATE 'en_US.UTF-8' LC_CTYPE 'en_US.UTF-8'");
  });

  it('keeps the builtin provider only on a 17+ target', () => {
    const builtin = { ...libc, provider: 'b', providerLocale: 'C.UTF-8' };
    expect(localeClause(builtin, 17)).toMatch(/^LOCALE_PROVIDER builtin BUILTIN_LOCALE 'C.UTF-8'/);
    expect(localeClause(builtin, 16)).not.toMatch(/LOCALE_PROVIDER/);
  });
});
