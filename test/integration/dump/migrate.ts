/**
 * The dump-method migration suite, run for one source major (15 → 15, 14 → 15): roles, then every fixture
 * database, proven equal by `pg_dump --schema-only` (nothing normalised but the version and \\restrict lines), per-table checksums, sequences and large objects.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConnectionString } from '../../../core/connection.js';
import { migrateRoles } from '../../../core/steps/roles.js';
import { migrateByDump } from '../../../core/steps/dump.js';
import type { PgVersion } from '../../support/cluster.js';
import { useCluster } from '../../support/vitest.js';
import {
  contextFor,
  loadFixture,
  planned,
  requestFor,
  roleFacts,
  schemaDump,
  sequencesAndLargeObjects,
  tableChecksums,
  WEIRD_DB,
} from './support.js';

export function describeMigration(sourceVersion: PgVersion): void {
  const source = useCluster({ version: sourceVersion });
  const target = useCluster({ version: 15 });

  describe(`dump migration from PostgreSQL ${sourceVersion} to 15`, () => {
    beforeAll(() => loadFixture(source()), 120_000);

    it('creates the missing roles with attributes, settings, memberships and password verifiers', async () => {
      const { results, placeholders } = await migrateRoles(
        contextFor(source(), target()),
        requestFor({ roleScope: 'all' }),
        ['shop'],
      );
      const byName = Object.fromEntries(results.map((r) => [r.name, r.status]));
      expect(byName).toMatchObject({
        app_owner: 'created',
        app_rw: 'created',
        analyst: 'created',
        'Report "Bot" ü': 'created',
        postgres: 'exists',
      });
      expect(placeholders).toEqual([]);
      expect(await roleFacts(target())).toEqual(await roleFacts(source()));
      const client = await target().client('postgres', 'app_rw', 'app-rw-secret');
      await client.end();
      const again = await migrateRoles(contextFor(source(), target()), requestFor({ roleScope: 'all' }), ['shop']);
      expect(again.results.find((r) => r.name === 'app_rw')?.status).toBe('exists');
    });

    it('sets a placeholder password, returned but never logged, when the source user cannot read verifiers', async () => {
      await source().query(
        "CREATE ROLE reader_only LOGIN PASSWORD 'reader-pw'; CREATE ROLE placeholder_me LOGIN PASSWORD 'unreadable-pw'; CREATE ROLE no_login_me NOLOGIN;",
      );
      const logged: string[] = [];
      const log = (message: string, fields?: Record<string, unknown>) =>
        logged.push(`${message} ${JSON.stringify(fields)}`);
      const ctx = {
        ...contextFor(source(), target()),
        source: parseConnectionString(source().uri('postgres', 'reader_only', 'reader-pw'), 'source'),
        logger: { debug: log, info: log, warn: log, error: log },
      };
      const { results, placeholders } = await migrateRoles(ctx, requestFor({ roleScope: 'all' }), ['shop']);
      expect(placeholders.map((p) => p.role).sort()).toEqual(['placeholder_me', 'reader_only']);
      const placeholder = placeholders.find((p) => p.role === 'placeholder_me')!.password;
      expect(results.find((r) => r.name === 'placeholder_me')?.message).toMatch(
        /placeholder password was set: reset it with ALTER ROLE "placeholder_me"/,
      );
      expect(results.find((r) => r.name === 'no_login_me')).toMatchObject({ status: 'created', message: '' });
      expect(JSON.stringify(results)).not.toContain(placeholder);
      expect(logged.join('\n')).not.toContain(placeholder);
      const client = await target().client('postgres', 'placeholder_me', placeholder);
      await client.end();
    });

    it('creates roles as far as a non-superuser target user may grant, and says what it left out', async () => {
      await source().query("CREATE ROLE repl_bot LOGIN REPLICATION BYPASSRLS PASSWORD 'repl-pw' IN ROLE app_reader");
      await target().query("CREATE ROLE migrator LOGIN CREATEROLE PASSWORD 'migrator-pw'");
      const ctx = {
        ...contextFor(source(), target()),
        target: parseConnectionString(target().uri('postgres', 'migrator', 'migrator-pw'), 'target'),
      };
      const consent = requestFor({ roleScope: 'all', roleAttributes: ['replication', 'bypassrls'] });
      const { results } = await migrateRoles(ctx, consent, ['shop']);
      const repl = results.find((r) => r.name === 'repl_bot');
      expect(repl?.status).toBe('created');
      expect(repl?.message).toMatch(/not granted \(the target user may not grant it\): REPLICATION, BYPASSRLS/);
      const [row] = await target().query<{ rolreplication: boolean; rolbypassrls: boolean; rolcanlogin: boolean }>(
        "SELECT rolreplication, rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = 'repl_bot'",
      );
      expect(row).toEqual({ rolreplication: false, rolbypassrls: false, rolcanlogin: true });
      const client = await target().client('postgres', 'repl_bot', 'repl-pw');
      await client.end();
    });

    for (const database of ['shop', 'analytics', WEIRD_DB]) {
      it(`migrates ${JSON.stringify(database)} with equal schema, data, sequences and large objects`, async () => {
        const logged: { message: string; fields?: Record<string, unknown> }[] = [];
        const log = (message: string, fields?: Record<string, unknown>) => logged.push({ message, fields });
        const ctx = { ...contextFor(source(), target()), logger: { debug: log, info: log, warn: log, error: log } };
        const result = await migrateByDump(ctx, requestFor(), planned(database));
        // Keys and indexes of finished tables were built during the copy, none of them failed.
        const early = logged.find((l) => l.message === 'indexes built during the copy')?.fields;
        expect(early?.built).toBeGreaterThan(0);
        expect(early?.failed).toBe(0);
        expect(result.status, result.message).toBe('done');
        expect(result.verification?.length).toBeGreaterThan(0);
        expect(result.verification?.every((t) => t.ok && t.sourceChecksum === t.targetChecksum)).toBe(true);
        expect(schemaDump(target(), database)).toEqual(schemaDump(source(), database));
        expect(await tableChecksums(target(), database)).toEqual(await tableChecksums(source(), database));
        expect(await sequencesAndLargeObjects(target(), database)).toEqual(
          await sequencesAndLargeObjects(source(), database),
        );
        const unanalyzed = await target().query(
          `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'm') AND c.reltuples < 0 AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')`,
          [],
          database,
        );
        expect(unanalyzed).toEqual([]);
        const progress = await target().query("SELECT 1 FROM pg_namespace WHERE nspname = '_pg_migrate'", [], database);
        expect(progress).toEqual([]);
      });
    }

    it('copies per-database role settings', async () => {
      const settings = (cluster: typeof source) =>
        cluster().query(
          `SELECT pg_get_userbyid(s.setrole) AS role, d.datname, s.setconfig FROM pg_db_role_setting s
             JOIN pg_database d ON d.oid = s.setdatabase WHERE s.setrole <> 0 ORDER BY 1, 2`,
        );
      const expected = await settings(source);
      expect(expected).toHaveLength(2);
      expect(await settings(target)).toEqual(expected);
    });

    if (sourceVersion >= 15) {
      it('keeps an ICU database locale', async () => {
        await source().query(
          "CREATE DATABASE icu_db LOCALE_PROVIDER icu ICU_LOCALE 'de-DE' LOCALE 'C' TEMPLATE template0 ENCODING 'UTF8'",
        );
        await source().loadFixture(
          'icu_db',
          "CREATE TABLE public.words (w text); INSERT INTO public.words VALUES ('Äpfel'), ('Zebra');",
        );
        const result = await migrateByDump(contextFor(source(), target()), requestFor(), planned('icu_db'));
        expect(result.status, result.message).toBe('done');
        const locale = (cluster: typeof source) =>
          cluster().query("SELECT datlocprovider, daticulocale, datcollate FROM pg_database WHERE datname = 'icu_db'");
        expect(await locale(target)).toEqual(await locale(source));
        expect(await locale(target)).toEqual([{ datlocprovider: 'i', daticulocale: 'de-DE', datcollate: 'C' }]);
      });
    }

    it('copies the database settings and keeps the owner', async () => {
      const [row] = await target().query<{ owner: string; settings: string[] }>(
        `SELECT pg_get_userbyid(datdba) AS owner,
                (SELECT setconfig FROM pg_db_role_setting s WHERE s.setdatabase = d.oid AND s.setrole = 0) AS settings
           FROM pg_database d WHERE datname = 'analytics'`,
      );
      expect(row?.settings).toEqual(['work_mem=8MB']);
      const [shop] = await target().query<{ owner: string }>(
        "SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = 'shop'",
      );
      expect(shop?.owner).toBe('app_owner');
    });

    it('fails when pg_restore reports an error, with its message', async () => {
      await source().createDatabase('clash');
      await source().loadFixture('clash', 'CREATE TABLE public.t (id int); INSERT INTO public.t VALUES (1);');
      await target().createDatabase('clash');
      await target().loadFixture(
        'clash',
        'CREATE SCHEMA _pg_migrate; CREATE TABLE _pg_migrate.steps (step text PRIMARY KEY, done_at timestamptz NOT NULL DEFAULT now()); CREATE TABLE public.t (other text);',
      );
      await expect(migrateByDump(contextFor(source(), target()), requestFor(), planned('clash'))).rejects.toThrow(
        /pre-data restore of "clash" failed .*relation "t" already exists/s,
      );
    });
  });
}
