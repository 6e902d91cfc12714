/**
 * The payload budget through the bin: 2,000 tables across 3 databases migrated by the local workflow, which enforces
 * AWS's limits (256 KiB per state, 8 KiB of container overrides, 32 KiB of Fail cause). The run succeeds, every
 * state stayed under the limits (the runner fails the run otherwise), and `--json` holds the complete report, every
 * table of every database: far more than one state could carry.
 */
import { describe, expect, it } from 'vitest';
import { useCluster } from '../support/vitest.js';
import { jsonPath, readJson, runCli } from './cli.js';

const source = useCluster({ version: 15 });
const target = useCluster({ version: 15 });

/** Databases and their table counts: 2,000 in all. */
const DATABASES = { ledger_a: 700, ledger_b: 700, ledger_c: 600 } as const;

/** `count` tables with a key, a long-ish name and two rows each, in one statement. */
function tablesSql(count: number): string {
  return `DO $$ BEGIN
    FOR i IN 1..${count} LOOP
      EXECUTE format('CREATE TABLE public.%I (id int PRIMARY KEY, note text NOT NULL)',
                     'account_movement_history_archive_by_region_' || lpad(i::text, 5, '0'));
      EXECUTE format('INSERT INTO public.%I VALUES (1, ''a''), (2, ''b'')',
                     'account_movement_history_archive_by_region_' || lpad(i::text, 5, '0'));
    END LOOP;
  END $$;`;
}

interface TableResult {
  readonly name: string;
  readonly sourceRows: number;
  readonly targetRows: number;
  readonly ok: boolean;
}

describe('a migration of 2,000 tables under AWS payload limits', () => {
  it('succeeds through the local workflow and writes the complete report', async () => {
    for (const [name, count] of Object.entries(DATABASES)) {
      await source().createDatabase(name);
      await source().loadFixture(name, tablesSql(count));
    }
    const report = jsonPath();
    const result = await runCli(
      ['migrate', '--dbs', Object.keys(DATABASES).join(','), '--method', 'dump', '--json', report],
      { PG_MIGRATE_SOURCE: source().uri('postgres'), PG_MIGRATE_TARGET: target().uri('postgres') },
      600_000,
    );
    const output = `${result.stdout}\n${result.stderr}`;
    expect(result.code, output).toBe(0);
    expect(output).not.toMatch(/DataLimitExceeded|InvalidParameterException/);
    const json = readJson(report) as {
      ok: boolean;
      reportUri?: string;
      databases: Array<{ name: string; status: string; tables: number; verification?: TableResult[] }>;
    };
    expect(json.ok).toBe(true);
    // The complete report: every table of every database, each verified equal.
    for (const [name, count] of Object.entries(DATABASES)) {
      const db = json.databases.find((d) => d.name === name);
      expect(db?.status, name).toBe('done');
      expect(db?.tables, name).toBe(count);
      expect(db?.verification, name).toHaveLength(count);
      expect(
        db?.verification?.every((t) => t.ok && t.sourceRows === 2 && t.targetRows === 2),
        name,
      ).toBe(true);
    }
    // Far more than a state may carry: had the per-table results ridden in the state, the run would have failed.
    expect(Buffer.byteLength(JSON.stringify(json), 'utf8')).toBeGreaterThan(256 * 1024);
    // The local run's store is private and gone: the file report names no store.
    expect(json.reportUri).toBeUndefined();
    const [copied] = await target().query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_catalog.pg_tables WHERE schemaname = 'public'`,
      [],
      'ledger_b',
    );
    expect(copied?.n).toBe(DATABASES.ledger_b);
  });
});
