/**
 * The COPY forwarder (core/steps/copy-stream.ts) between two real servers: the data arrives byte-exact in both
 * formats, both servers' counts come back, and every failure — on the source, on the target, or a stop request —
 * rejects without committing anything on the target.
 */
import type pg from 'pg';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { pipeCopy } from '../../../core/steps/copy-stream.js';
import { useCluster } from '../../support/vitest.js';

const source = useCluster({ version: 15 });
const target = useCluster({ version: 15 });
const DB = 'forward';
const ROWS = 60_000;
const TABLE = `CREATE TABLE public.t (id int PRIMARY KEY, v text NOT NULL, j jsonb, b bytea, n numeric, at timestamptz)`;

const sessions: pg.Client[] = [];
async function open(cluster: typeof source): Promise<pg.Client> {
  const client = await cluster().client(DB);
  sessions.push(client);
  return client;
}
afterEach(async () => {
  await Promise.all(sessions.splice(0).map((c) => c.end().catch(() => {})));
  await target().query('TRUNCATE public.t', [], DB);
});

const checksum = async (cluster: typeof source) => {
  const [row] = await cluster().query<{ n: string; sum: string }>(
    `SELECT count(*)::text AS n, coalesce(sum(('x' || substr(md5(t::text), 1, 16))::bit(64)::bigint::numeric), 0)::text AS sum
       FROM public.t AS t`,
    [],
    DB,
  );
  return row;
};

describe('pipeCopy', () => {
  beforeAll(async () => {
    await source().createDatabase(DB);
    await target().createDatabase(DB);
    // Rows of very different widths (some far above a socket read), escapes, unicode, NULLs and bytes.
    await source().loadFixture(
      DB,
      `${TABLE};
       INSERT INTO public.t
       SELECT g, repeat(E'ü\\t\\\\x' || g, 1 + (g % 7) * (CASE WHEN g % 1000 = 0 THEN 20000 ELSE 3 END)),
              CASE WHEN g % 5 = 0 THEN NULL ELSE jsonb_build_object('g', g, 's', md5(g::text)) END,
              decode(md5(g::text), 'hex'), g / 7.0, timestamptz '2024-01-01' + g * interval '1 minute'
         FROM generate_series(1, ${ROWS}) g;`,
    );
    await target().loadFixture(DB, TABLE);
  });

  for (const format of ['binary', 'text'] as const) {
    it(`copies every row byte-exact in ${format} format and returns both servers' counts`, async () => {
      const [s, t] = [await open(source), await open(target)];
      let forwarded = 0;
      let messages = 0;
      const result = await pipeCopy(
        s,
        t,
        { out: `COPY public.t TO STDOUT (FORMAT ${format})`, in: `COPY public.t FROM STDIN (FORMAT ${format})` },
        {
          onData: (bytes, count) => {
            forwarded = bytes;
            messages += count;
          },
        },
      );
      expect(result.rowsOut).toBe(ROWS);
      expect(result.rowsIn).toBe(ROWS);
      expect(result.bytes).toBe(forwarded);
      // One CopyData message per row (binary: the trailer is one more).
      expect(messages).toBe(format === 'binary' ? ROWS + 1 : ROWS);
      expect(result.writes).toBeLessThanOrEqual(result.reads);
      expect(await checksum(target)).toEqual(await checksum(source));
      // Both sessions are usable afterwards.
      expect((await s.query('SELECT 1 AS x')).rows).toEqual([{ x: 1 }]);
      expect((await t.query('SELECT 1 AS x')).rows).toEqual([{ x: 1 }]);
    });
  }

  it('fails when the source errors in the middle of the stream, and the target keeps nothing', async () => {
    const [s, t] = [await open(source), await open(target)];
    await t.query('BEGIN');
    await expect(
      pipeCopy(s, t, {
        // Fails on row 50000, after many socket chunks went through.
        out: 'COPY (SELECT id, v, j, b, 1 / (50000 - id) + n AS n, at FROM public.t ORDER BY id) TO STDOUT (FORMAT binary)',
        in: 'COPY public.t FROM STDIN (FORMAT binary)',
      }),
    ).rejects.toThrow(/division by zero/);
    await t.query('ROLLBACK');
    expect(await checksum(target)).toEqual({ n: '0', sum: '0' });
    // The source session reports its error and stays usable.
    expect((await s.query('SELECT 2 AS x')).rows).toEqual([{ x: 2 }]);
  });

  it('fails when the target rejects a row, and nothing of the COPY commits there', async () => {
    const [s, t] = [await open(source), await open(target)];
    await t.query("INSERT INTO public.t (id, v) VALUES (40000, 'already here')");
    await expect(
      pipeCopy(s, t, {
        out: 'COPY public.t TO STDOUT (FORMAT binary)',
        in: 'COPY public.t FROM STDIN (FORMAT binary)',
      }),
    ).rejects.toThrow(/duplicate key/);
    expect(await target().query('SELECT id FROM public.t', [], DB)).toEqual([{ id: 40000 }]);
  });

  it('fails when the target statement is wrong, before the source sends anything', async () => {
    const [s, t] = [await open(source), await open(target)];
    await expect(
      pipeCopy(s, t, { out: 'COPY public.t TO STDOUT', in: 'COPY public.missing FROM STDIN' }),
    ).rejects.toThrow(/does not exist/);
    expect((await s.query('SELECT 3 AS x')).rows).toEqual([{ x: 3 }]);
  });

  it('fails with the stop reason when stopped mid-stream, and the target keeps nothing', async () => {
    const [s, t] = [await open(source), await open(target)];
    const stop = new AbortController();
    await t.query('SET synchronous_commit = off');
    await expect(
      pipeCopy(
        s,
        t,
        { out: 'COPY public.t TO STDOUT (FORMAT text)', in: 'COPY public.t FROM STDIN (FORMAT text)' },
        {
          signal: stop.signal,
          onData: (bytes) => {
            if (bytes > 1024 * 1024) stop.abort(new Error('stopped by the test'));
          },
        },
      ),
    ).rejects.toThrow(/stopped by the test/);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await checksum(target)).toEqual({ n: '0', sum: '0' });
  });
});
