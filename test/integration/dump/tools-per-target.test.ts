/**
 * The dump method runs the client tools of the TARGET's major when they are installed (core/pgtools-locate.ts
 * `choosePgTools`): pg_restore writes SQL of its own major, and a newer one can emit what an older target rejects
 * (pg_restore 17's `SET transaction_timeout` into 14–16, with --exit-on-error). The machine has real client tools of
 * one major only (Debian 15): a second install "of major 18" is a wrapper that answers `--version` with 18, records
 * each run, and runs the real 15 tools. So these tests prove which directory is chosen and used, and that pg_restore
 * 15 restores into an older target (14); what pg_restore 17 emits is not reproducible here.
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunContext } from '../../../core/context.js';
import { migrateByDump } from '../../../core/steps/dump.js';
import type { TestCluster } from '../../support/cluster.js';
import { useCluster } from '../../support/vitest.js';
import { contextFor, planned, requestFor } from './support.js';

const DEBIAN_15 = '/usr/lib/postgresql/15/bin';

const source = useCluster({ version: 14 });
const target15 = useCluster({ version: 15 });
const target14 = useCluster({ version: 14 });
const target18 = useCluster({ version: 18 });

let fake18: string;
let runsLog: string;
let previousBin: string | undefined;

beforeAll(async () => {
  previousBin = process.env.PG_MIGRATE_PG_BIN;
  delete process.env.PG_MIGRATE_PG_BIN;
  fake18 = mkdtempSync(join(tmpdir(), 'pgm-tools-18-'));
  runsLog = join(fake18, 'runs.log');
  for (const tool of ['pg_dump', 'pg_restore']) {
    const path = join(fake18, tool);
    writeFileSync(
      path,
      `#!/bin/sh\nif [ "$1" = "--version" ]; then echo "${tool} (PostgreSQL) 18.0"; exit 0; fi\necho "${tool}" >> '${runsLog}'\nexec ${DEBIAN_15}/${tool} "$@"\n`,
    );
    chmodSync(path, 0o755);
  }
  await source().createDatabase('shop');
  await source().loadFixture(
    'shop',
    `CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL);
     CREATE INDEX items_name ON items (name);
     INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 500) g;`,
  );
}, 120_000);

afterAll(() => {
  if (previousBin !== undefined) process.env.PG_MIGRATE_PG_BIN = previousBin;
  rmSync(fake18, { recursive: true, force: true });
});

/** The run's context with the two installs as the distributions' directories, newest first (as on a task image). */
function ctxFor(target: TestCluster): RunContext {
  return { ...contextFor(source(), target), pgToolDirs: [fake18, DEBIAN_15] };
}

function runsOfFake18(): string[] {
  return existsSync(runsLog) ? readFileSync(runsLog, 'utf8').split('\n').filter(Boolean) : [];
}

async function items(target: TestCluster): Promise<number> {
  const client = await target.client('shop');
  try {
    const { rows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM items');
    return Number(rows[0]?.n);
  } finally {
    await client.end();
  }
}

describe('client tools per target major', () => {
  it("uses the target's major (15) for a 14 -> 15 dump though newer tools (18) are installed, and names them", async () => {
    const result = await migrateByDump(ctxFor(target15()), requestFor({ jobs: 2 }), planned('shop'));
    expect(result.status).toBe('done');
    expect(result.pgTools).toMatch(new RegExp(`^15\\.\\d+ \\(${DEBIAN_15}\\)$`));
    expect(runsOfFake18()).toEqual([]);
    expect(await items(target15())).toBe(500);
  });

  it('uses the nearest newer tools (15, not 18) for a 14 -> 14 dump: pg_restore 15 restores into 14', async () => {
    const result = await migrateByDump(ctxFor(target14()), requestFor({ jobs: 2 }), planned('shop'));
    expect(result.status).toBe('done');
    expect(result.pgTools).toMatch(new RegExp(`^15\\.\\d+ \\(${DEBIAN_15}\\)$`));
    expect(runsOfFake18()).toEqual([]);
    expect(await items(target14())).toBe(500);
  });

  it("uses the 18 install for a 14 -> 18 dump: the target's major, run for pre-data and post-data", async () => {
    const result = await migrateByDump(ctxFor(target18()), requestFor({ jobs: 2 }), planned('shop'));
    expect(result.status).toBe('done');
    expect(result.pgTools).toBe(`18.0 (${fake18})`);
    expect(runsOfFake18()).toEqual(expect.arrayContaining(['pg_dump', 'pg_restore']));
    expect(await items(target18())).toBe(500);
  });
});
