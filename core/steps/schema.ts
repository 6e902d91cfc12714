/**
 * Schema steps of the dump method: the target database itself ({@link ensureTargetDatabase}), pre-data
 * ({@link restorePreData}: types, tables, functions, views — before the data) and post-data
 * ({@link restorePostData}: indexes, constraints, triggers, policies, materialized view data — after it).
 *
 * Each dumps its section from the source with pg_dump (custom format, to a 0600 file in a private 0700 directory)
 * and restores it with pg_restore `--exit-on-error`: a restore error fails the step with pg_restore's message.
 * Owners and grants are preserved unless the target cannot take them (then `--no-owner` / `--no-privileges`,
 * said in the log).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type pg from 'pg';
import { quoteIdent, quoteLiteral, serverMajor, withClient } from '../connection.js';
import type { RunContext } from '../context.js';
import { classify, PermanentError } from '../errors.js';
import { type PgTools, pgDumpArgs, pgRestoreArgs, pgRestoreListArgs, runPgTool } from '../pgtools.js';
import { setClause } from './settings.js';
import { withPrivateDir } from './tempdir.js';

export interface SchemaOptions {
  /** pg_restore -j for post-data. */
  readonly jobs: number;
  readonly tools: PgTools;
  /** Dump under this exported snapshot (the data's snapshot). */
  readonly snapshot?: string;
  /** Force `--no-owner` (otherwise decided by {@link ownershipMode}). */
  readonly noOwner?: boolean;
  /** Force `--no-privileges` (otherwise decided by {@link ownershipMode}). */
  readonly noPrivileges?: boolean;
}

/**
 * SQL: the privilege that lets the current user make a role own something (CREATE DATABASE … OWNER, ALTER … OWNER
 * TO): SET on 16+, where a CREATEROLE creator holds only ADMIN on the roles it creates (`createrole_self_grant`);
 * membership before. The target-databases check predicts the owner the same way (core/checks/target-databases.ts).
 */
const SET_ROLE_PRIVILEGE = `CASE WHEN current_setting('server_version_num')::int >= 160000 THEN 'SET' ELSE 'MEMBER' END`;

async function isSuperuser(client: pg.Client): Promise<boolean> {
  const { rows } = await client.query<{ s: boolean }>(
    'SELECT rolsuper AS s FROM pg_catalog.pg_roles WHERE rolname = current_user',
  );
  return rows[0]?.s === true;
}

/**
 * Whether the target can take the source's owners and grants for `database`: owners need every owning role to
 * exist on the target with the target user a member of it (or a superuser); grants need every grantee to exist.
 */
export async function ownershipMode(
  ctx: RunContext,
  database: string,
): Promise<{ noOwner: boolean; noPrivileges: boolean; reasons: string[] }> {
  const { owners, grantees } = await withClient(ctx.source, database, async (client) => {
    const { rows } = await client.query<{ owners: string[]; grantees: string[] }>(`
      WITH objs AS (
        SELECT c.relowner AS owner, c.relacl AS acl FROM pg_catalog.pg_class c
          JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'
        UNION ALL SELECT n.nspowner, n.nspacl FROM pg_catalog.pg_namespace n
         WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
        UNION ALL SELECT p.proowner, p.proacl FROM pg_catalog.pg_proc p
          JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
         WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
        UNION ALL SELECT t.typowner, t.typacl FROM pg_catalog.pg_type t
          JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
         WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
      )
      SELECT coalesce(array_agg(DISTINCT pg_catalog.pg_get_userbyid(owner)::text), '{}') AS owners,
             coalesce((SELECT array_agg(DISTINCT pg_catalog.pg_get_userbyid(a.grantee)::text)
                         FROM objs, pg_catalog.aclexplode(objs.acl) a WHERE a.grantee <> 0), '{}') AS grantees
        FROM objs`);
    return rows[0] ?? { owners: [], grantees: [] };
  });
  return withClient(ctx.target, ctx.target.database, async (client) => {
    const reasons: string[] = [];
    const superuser = await isSuperuser(client);
    const { rows } = await client.query<{ name: string; present: boolean; member: boolean }>(
      `SELECT u.name, r.oid IS NOT NULL AS present,
              r.oid IS NOT NULL AND pg_catalog.pg_has_role(current_user, r.oid, ${SET_ROLE_PRIVILEGE}) AS member
         FROM unnest($1::text[]) AS u(name) LEFT JOIN pg_catalog.pg_roles r ON r.rolname = u.name`,
      [[...owners, ...grantees]],
    );
    const byName = new Map(rows.map((r) => [r.name, r]));
    const missingOwners = owners.filter((o) => !byName.get(o)?.present);
    const foreignOwners = owners.filter((o) => byName.get(o)?.present && !byName.get(o)?.member);
    let noOwner = false;
    if (missingOwners.length > 0) {
      noOwner = true;
      reasons.push(`owner role(s) missing on the target: ${missingOwners.join(', ')}`);
    } else if (!superuser && foreignOwners.length > 0) {
      noOwner = true;
      reasons.push(`the target user is not a member of owner role(s): ${foreignOwners.join(', ')}`);
    }
    const missingGrantees = grantees.filter((g) => !byName.get(g)?.present);
    const noPrivileges = missingGrantees.length > 0;
    if (noPrivileges) reasons.push(`grantee role(s) missing on the target: ${missingGrantees.join(', ')}`);
    return { noOwner, noPrivileges, reasons };
  });
}

interface SourceDatabase {
  readonly oid: number;
  readonly encoding: string;
  readonly collate: string;
  readonly ctype: string;
  readonly owner: string;
  readonly connlimit: number;
  readonly comment: string | null;
  /** `c` libc, `i` ICU (15+), `b` builtin (17+); from `to_jsonb(pg_database)` so any version reads. */
  readonly provider: string | null;
  /** daticulocale (15–16) or datlocale (17+). */
  readonly providerLocale: string | null;
}

/**
 * The locale clause of CREATE DATABASE for the source's settings on a target of `targetMajor`: ICU (15+) and
 * builtin (17+) providers are kept where the target has them; libc otherwise. Pure; exported for tests.
 */
export function localeClause(
  db: Pick<SourceDatabase, 'collate' | 'ctype' | 'provider' | 'providerLocale'>,
  targetMajor: number,
): string {
  const libc = `LC_COLLATE ${quoteLiteral(db.collate)} LC_CTYPE ${quoteLiteral(db.ctype)}`;
  if (db.provider === 'i' && db.providerLocale && targetMajor >= 15) {
    return `LOCALE_PROVIDER icu ICU_LOCALE ${quoteLiteral(db.providerLocale)} ${libc}`;
  }
  if (db.provider === 'b' && db.providerLocale && targetMajor >= 17) {
    return `LOCALE_PROVIDER builtin BUILTIN_LOCALE ${quoteLiteral(db.providerLocale)} ${libc}`;
  }
  return libc;
}

/**
 * Creates the target database when it does not exist, with the source's encoding, locale and owner when the
 * target allows it, then its settings (`ALTER DATABASE … SET`), per-database role settings, grants and comment.
 * An existing database is left alone.
 */
export async function ensureTargetDatabase(
  ctx: RunContext,
  database: string,
): Promise<{ created: boolean; notes: string[] }> {
  try {
    const exists = await withClient(ctx.target, ctx.target.database, async (client) => {
      const { rows } = await client.query('SELECT 1 FROM pg_catalog.pg_database WHERE datname = $1', [database]);
      return rows.length > 0;
    });
    if (exists) return { created: false, notes: [] };
    const source = await withClient(ctx.source, ctx.source.database, async (client) => {
      const { rows } = await client.query<SourceDatabase>(
        `SELECT d.oid::int AS oid, pg_catalog.pg_encoding_to_char(d.encoding) AS encoding, d.datcollate AS collate,
                d.datctype AS ctype, pg_catalog.pg_get_userbyid(d.datdba) AS owner, d.datconnlimit AS connlimit,
                pg_catalog.shobj_description(d.oid, 'pg_database') AS comment,
                pg_catalog.to_jsonb(d) ->> 'datlocprovider' AS provider,
                coalesce(pg_catalog.to_jsonb(d) ->> 'datlocale', pg_catalog.to_jsonb(d) ->> 'daticulocale') AS "providerLocale"
           FROM pg_catalog.pg_database d WHERE d.datname = $1`,
        [database],
      );
      const db = rows[0];
      if (!db) throw new PermanentError(`source database ${JSON.stringify(database)} does not exist`);
      const settings = await client.query<{ role: string | null; setconfig: string[] }>(
        `SELECT CASE WHEN s.setrole = 0 THEN NULL ELSE pg_catalog.pg_get_userbyid(s.setrole) END AS role, s.setconfig
           FROM pg_catalog.pg_db_role_setting s WHERE s.setdatabase = $1`,
        [db.oid],
      );
      const acl = await client.query<{ grantee: string | null; privilege: string; grantable: boolean }>(
        `SELECT CASE WHEN a.grantee = 0 THEN NULL ELSE pg_catalog.pg_get_userbyid(a.grantee) END AS grantee,
                a.privilege_type AS privilege, a.is_grantable AS grantable
           FROM pg_catalog.pg_database d, pg_catalog.aclexplode(d.datacl) a
          WHERE d.oid = $1 AND a.grantee <> d.datdba`,
        [db.oid],
      );
      const hasAcl = await client.query<{ has: boolean }>(
        'SELECT datacl IS NOT NULL AS has FROM pg_catalog.pg_database WHERE oid = $1',
        [db.oid],
      );
      return { db, settings: settings.rows, acl: acl.rows, hasAcl: hasAcl.rows[0]?.has === true };
    });
    const notes: string[] = [];
    const q = quoteIdent(database);
    await withClient(ctx.target, ctx.target.database, async (client) => {
      const { rows } = await client.query<{ present: boolean; member: boolean }>(
        `SELECT true AS present, pg_catalog.pg_has_role(current_user, oid, ${SET_ROLE_PRIVILEGE}) AS member
           FROM pg_catalog.pg_roles WHERE rolname = $1`,
        [source.db.owner],
      );
      const ownerOk = rows[0]?.present === true && ((await isSuperuser(client)) || rows[0]?.member === true);
      if (!ownerOk) notes.push(`owner ${source.db.owner} cannot be set on the target; the target user owns it`);
      const owner = ownerOk ? ` OWNER ${quoteIdent(source.db.owner)}` : '';
      const base = `CREATE DATABASE ${q}${owner} TEMPLATE template0 ENCODING ${quoteLiteral(source.db.encoding)}`;
      const targetMajor = await serverMajor(client);
      const locale = localeClause(source.db, targetMajor);
      if (source.db.provider && source.db.provider !== 'c' && !locale.startsWith('LOCALE_PROVIDER')) {
        notes.push(`locale provider of the source (${source.db.provider}) unavailable on the target: libc used`);
      }
      try {
        await client.query(`${base} ${locale}`);
      } catch (err) {
        // A locale the target's OS lacks: create with the target's default locale and say so.
        if ((err as { code?: string }).code === '42P04') throw err;
        notes.push(`locale ${source.db.collate} unavailable on the target (${(err as Error).message}); default used`);
        await client.query(base);
      }
      if (source.db.connlimit >= 0)
        await client.query(`ALTER DATABASE ${q} CONNECTION LIMIT ${Number(source.db.connlimit)}`);
      if (source.db.comment !== null)
        await client.query(`COMMENT ON DATABASE ${q} IS ${quoteLiteral(source.db.comment)}`);
      for (const s of source.settings) {
        for (const entry of s.setconfig) {
          const sql =
            s.role === null
              ? `ALTER DATABASE ${q} ${setClause(entry)}`
              : `ALTER ROLE ${quoteIdent(s.role)} IN DATABASE ${q} ${setClause(entry)}`;
          try {
            await client.query(sql);
          } catch (err) {
            notes.push(
              `setting ${entry.split('=')[0]}${s.role ? ` for role ${s.role}` : ''} not applied: ${(err as Error).message}`,
            );
          }
        }
      }
      if (source.hasAcl) {
        try {
          await client.query(`REVOKE ALL ON DATABASE ${q} FROM PUBLIC`);
          for (const a of source.acl) {
            await client.query(
              `GRANT ${a.privilege} ON DATABASE ${q} TO ${a.grantee === null ? 'PUBLIC' : quoteIdent(a.grantee)}${a.grantable ? ' WITH GRANT OPTION' : ''}`,
            );
          }
        } catch (err) {
          notes.push(`database grants not fully applied: ${(err as Error).message}`);
        }
      }
    });
    for (const note of notes) ctx.logger.warn(note, { database });
    ctx.logger.info('target database created', { database });
    return { created: true, notes };
  } catch (err) {
    throw classify(err, `creating target database ${JSON.stringify(database)}`);
  }
}

async function dumpAndRestore(
  ctx: RunContext,
  database: string,
  section: 'pre-data' | 'post-data',
  options: SchemaOptions & { filter?: (toc: string) => Promise<string> },
): Promise<void> {
  const mode =
    options.noOwner !== undefined && options.noPrivileges !== undefined
      ? { noOwner: options.noOwner, noPrivileges: options.noPrivileges, reasons: [] }
      : await ownershipMode(ctx, database);
  for (const reason of mode.reasons) ctx.logger.warn(`${section}: ${reason}`, { database });
  await withPrivateDir(async (dir) => {
    const file = join(dir, `${section}.dump`);
    await runPgTool(
      options.tools,
      'pg_dump',
      pgDumpArgs({ database, section, file, ...(options.snapshot ? { snapshot: options.snapshot } : {}) }),
      { server: ctx.source, database, what: `${section} dump of ${JSON.stringify(database)}`, ...signalOf(ctx) },
    );
    let useList: string | undefined;
    if (options.filter) {
      const { stdout } = await runPgTool(options.tools, 'pg_restore', pgRestoreListArgs(file), {
        server: ctx.target,
        database,
        what: `${section} list of ${JSON.stringify(database)}`,
      });
      useList = join(dir, `${section}.list`);
      await writeFile(useList, await options.filter(stdout), { mode: 0o600 });
    }
    await runPgTool(
      options.tools,
      'pg_restore',
      pgRestoreArgs({
        database,
        file,
        noOwner: mode.noOwner,
        noPrivileges: mode.noPrivileges,
        ...(section === 'pre-data' ? { singleTransaction: true } : { jobs: options.jobs }),
        ...(useList ? { useList } : {}),
      }),
      { server: ctx.target, database, what: `${section} restore of ${JSON.stringify(database)}`, ...signalOf(ctx) },
    );
  });
}

function signalOf(ctx: RunContext): { signal?: AbortSignal } {
  return ctx.signal ? { signal: ctx.signal } : {};
}

/**
 * Restores the source's pre-data section (schemas, types, tables, functions, views, large object metadata) into
 * the target database, in one transaction: it is there completely or not at all.
 */
export async function restorePreData(ctx: RunContext, database: string, options: SchemaOptions): Promise<void> {
  ctx.progress({ kind: 'phase', database, phase: 'pre-data' });
  await dumpAndRestore(ctx, database, 'pre-data', {
    ...options,
    filter: (toc: string) => filterExistingSchemas(ctx, database, toc),
  });
}

/**
 * Comments out of a pre-data TOC list the SCHEMA entries of schemas the target database has already: those an
 * extension was installed in beforehand (e.g. `aiven_extras`, which the provider or the user creates, and which
 * core/catalog.ts does not count against emptiness) — their `CREATE EXTENSION IF NOT EXISTS` entry stays.
 */
export async function filterExistingSchemas(ctx: RunContext, database: string, toc: string): Promise<string> {
  const existing = await withClient(ctx.target, database, async (client) => {
    const { rows } = await client.query<{ name: string }>('SELECT nspname AS name FROM pg_catalog.pg_namespace');
    return new Set(rows.map((r) => r.name));
  });
  return commentOutExistingSchemas(toc, existing);
}

/** Pure: comments out (`;`) the `SCHEMA - <name> <owner>` lines of a TOC list whose schema is in `existing`. */
export function commentOutExistingSchemas(toc: string, existing: ReadonlySet<string>): string {
  return toc
    .split('\n')
    .map((line) => {
      const m = /^\d+; \d+ \d+ SCHEMA - (.*) \S+$/.exec(line);
      return m && existing.has(m[1]!) ? `;${line}` : line;
    })
    .join('\n');
}

/**
 * Restores the post-data section (indexes, constraints, triggers, rules, policies, materialized view data) with
 * `pg_restore -j jobs`. With `resume`, entries whose object already exists on the target (built early while the
 * data was copied, or by an earlier, interrupted post-data restore) are left out of the restore list.
 */
export async function restorePostData(
  ctx: RunContext,
  database: string,
  options: SchemaOptions & { resume?: boolean },
): Promise<void> {
  ctx.progress({ kind: 'phase', database, phase: 'post-data' });
  await dumpAndRestore(ctx, database, 'post-data', {
    ...options,
    ...(options.resume ? { filter: (toc: string) => filterExistingPostData(ctx, database, toc) } : {}),
  });
}

/**
 * Comments out of a pg_restore TOC list the post-data entries (INDEX, CONSTRAINT, FK CONSTRAINT, TRIGGER, RULE,
 * POLICY) whose object already exists in the target database: built early ({@link IndexBuilder}) or by an
 * interrupted post-data restore.
 */
export async function filterExistingPostData(ctx: RunContext, database: string, toc: string): Promise<string> {
  const existing = await withClient(ctx.target, database, async (client) => {
    const { rows } = await client.query<{ key: string }>(`
      SELECT 'INDEX ' || n.nspname || ' ' || c.relname AS key FROM pg_catalog.pg_class c
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('i', 'I')
      UNION ALL SELECT 'CONSTRAINT ' || n.nspname || ' ' || t.relname || ' ' || co.conname
        FROM pg_catalog.pg_constraint co JOIN pg_catalog.pg_class t ON t.oid = co.conrelid
        JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace
      UNION ALL SELECT 'TRIGGER ' || n.nspname || ' ' || t.relname || ' ' || tg.tgname
        FROM pg_catalog.pg_trigger tg JOIN pg_catalog.pg_class t ON t.oid = tg.tgrelid
        JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace WHERE NOT tg.tgisinternal
      UNION ALL SELECT 'RULE ' || n.nspname || ' ' || t.relname || ' ' || r.rulename
        FROM pg_catalog.pg_rewrite r JOIN pg_catalog.pg_class t ON t.oid = r.ev_class
        JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace WHERE r.rulename <> '_RETURN'
      UNION ALL SELECT 'POLICY ' || n.nspname || ' ' || t.relname || ' ' || p.polname
        FROM pg_catalog.pg_policy p JOIN pg_catalog.pg_class t ON t.oid = p.polrelid
        JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace`);
    return new Set(rows.map((r) => r.key));
  });
  return commentOutExisting(toc, existing);
}

/**
 * Comments out (`;`) the INDEX / CONSTRAINT / FK CONSTRAINT / TRIGGER / RULE / POLICY lines of a TOC list whose
 * object is in `existing` (keys `KIND schema [table] name`). Pure; exported for tests.
 *
 * TOC line: `<id>; <tableoid> <oid> <TYPE> <schema> <tag…> <owner>`. Names may hold spaces, so every split point
 * of the text after the type is tried (longest first).
 */
export function commentOutExisting(toc: string, existing: ReadonlySet<string>): string {
  return toc
    .split('\n')
    .map((line) => {
      const m = /^\d+; \d+ \d+ (INDEX|CONSTRAINT|FK CONSTRAINT|TRIGGER|RULE|POLICY) (.*)$/.exec(line);
      if (!m) return line;
      const kind = m[1] === 'FK CONSTRAINT' ? 'CONSTRAINT' : m[1]!;
      const rest = m[2]!;
      for (let i = rest.lastIndexOf(' '); i > 0; i = rest.lastIndexOf(' ', i - 1)) {
        if (existing.has(`${kind} ${rest.slice(0, i)}`)) return `;${line}`;
      }
      return line;
    })
    .join('\n');
}
