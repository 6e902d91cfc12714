import { describe, expect, it } from 'vitest';
import type { Report } from '../../../core/report.js';
import { jsonPath, readJson, runCli } from '../../e2e/cli.js';
import { useCluster } from '../../support/vitest.js';
import { fingerprint, LEDGER_DATA, LEDGER_SCHEMA, leftovers, SHOP_DATA, SHOP_SCHEMA, Writer } from './support.js';

// Quotes and a backslash travel through TASK_INPUT (States.JsonToString): the whole path must keep them.
const LEDGER_DB = 'Ledger "EU" \\ ü';

const source = useCluster({ version: 15 });
const target = useCluster({ version: 15 });

describe('pg-migrate migrate --method replication, status, cutover through the CLI and the local state machine', () => {
  it('replicates while the source changes, reports lag, cuts over to an equal target and leaves nothing behind', async () => {
    await source().createDatabase('shop');
    await source().loadFixture('shop', SHOP_SCHEMA + SHOP_DATA);
    await source().createDatabase(LEDGER_DB);
    await source().loadFixture(LEDGER_DB, LEDGER_SCHEMA + LEDGER_DATA);
    const env = { PG_MIGRATE_SOURCE: source().uri(), PG_MIGRATE_TARGET: target().uri() };
    const dbs = ['--dbs', `shop,${LEDGER_DB}`];

    const writer = new Writer(source(), 'shop').start();
    await writer.advance(30);
    const migrateJson = jsonPath();
    const migrate = await runCli(
      ['migrate', ...dbs, '--method', 'replication', '--replica-identity-full', '--json', migrateJson],
      env,
    );
    expect(migrate.code, migrate.stderr + migrate.stdout).toBe(0);
    const migrated = readJson(migrateJson) as Report;
    expect(migrated.databases.map((d) => [d.name, d.method, d.status]).sort()).toEqual(
      [
        [LEDGER_DB, 'replication', 'replicating'],
        ['shop', 'replication', 'replicating'],
      ].sort(),
    );

    await writer.advance(200);
    const statusJson = jsonPath();
    const status = await runCli(['status', '--json', statusJson], env);
    expect(status.code, status.stderr).toBe(0);
    const state = readJson(statusJson) as Report;
    expect(state.databases.every((d) => d.status === 'replicating' && typeof d.lagBytes === 'number')).toBe(true);
    await writer.stop();
    expect(writer.errors).toEqual([]);

    const cutoverJson = jsonPath();
    const cutover = await runCli(['cutover', '--timeout', '120', '--json', cutoverJson], env);
    expect(cutover.code, cutover.stderr + cutover.stdout).toBe(0);
    expect((readJson(cutoverJson) as Report).databases.map((d) => d.status)).toEqual(['done', 'done']);
    expect(await fingerprint(target(), 'shop')).toEqual(await fingerprint(source(), 'shop'));
    expect(await fingerprint(target(), LEDGER_DB)).toEqual(await fingerprint(source(), LEDGER_DB));
    expect(await leftovers(source(), target(), ['shop', LEDGER_DB])).toEqual([]);
    const output = migrate.stdout + migrate.stderr + status.stdout + cutover.stdout + cutover.stderr;
    expect(output).not.toContain(source().password);
  });
});
