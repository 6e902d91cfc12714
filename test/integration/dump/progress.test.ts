import { describe, expect, it } from 'vitest';
import type { ProgressEvent } from '../../../core/logger.js';
import { copyTables } from '../../../core/steps/copy.js';
import { useCluster } from '../../support/vitest.js';
import { contextFor } from './support.js';

const source = useCluster({ version: 15 });
const target = useCluster({ version: 15 });

type TableEvent = Extract<ProgressEvent, { kind: 'table' }>;

describe('copy progress', () => {
  it.each(['text', 'binary'] as const)(
    'reports each table when it starts, never more rows than it has, and its exact row count once when done (%s COPY)',
    async (format) => {
      const db = `progress_${format}`;
      const schema = `create table items (id int primary key, note text);`;
      await source().createDatabase(db);
      await source().loadFixture(
        db,
        `${schema} insert into items select g, repeat('n', 200) from generate_series(1, 300000) g; analyze items;`,
      );
      await target().createDatabase(db);
      await target().loadFixture(db, schema);
      const events: TableEvent[] = [];
      const context = {
        ...contextFor(source(), target()),
        progress: (event: ProgressEvent) => {
          if (event.kind === 'table') events.push(event);
        },
      };
      await copyTables(context, { database: db, jobs: 1, format, resume: false });
      const items = events.filter((e) => e.table === 'public.items');
      expect(items[0]).toMatchObject({ done: false, rows: 0, bytes: 0 });
      expect(items.at(-1)).toMatchObject({ done: true, rows: 300_000 });
      expect(items.filter((e) => e.done)).toHaveLength(1);
      for (const e of items) expect(e.rows).toBeLessThanOrEqual(300_000);
      const counted = await target().query<{ n: string }>('select count(*) as n from items', [], db);
      expect(counted[0]?.n).toBe('300000');
    },
  );

  it('announces the tables of a copy, counting those an earlier run finished as done', async () => {
    const db = 'progress_tables';
    const schema = 'create table a (id int primary key); create table b (id int primary key); create table c (id int);';
    await source().createDatabase(db);
    await source().loadFixture(db, `${schema} insert into a values (1); insert into b values (1), (2);`);
    await target().createDatabase(db);
    await target().loadFixture(db, schema);
    const events: ProgressEvent[] = [];
    const context = { ...contextFor(source(), target()), progress: (event: ProgressEvent) => events.push(event) };
    await copyTables(context, { database: db, jobs: 2, resume: true });
    expect(events.filter((e) => e.kind === 'tables')).toEqual([{ kind: 'tables', database: db, done: 0, total: 3 }]);
    expect(events.filter((e) => e.kind === 'table' && e.done)).toHaveLength(3);
    events.length = 0;
    await copyTables(context, { database: db, jobs: 2, resume: true });
    expect(events).toEqual([{ kind: 'tables', database: db, done: 3, total: 3 }]);
  });
});
