/**
 * Schema steps of the dump method: the target database itself ({@link ensureTargetDatabase}), pre-data
 * ({@link restorePreData}: types, tables, functions, views — before the data) and post-data
 * ({@link restorePostData}: indexes, constraints, triggers, policies, materialized view data — after it).
 *
 * Each dumps its section from the source with pg_dump (custom format, to a 0600 file in a private 0700 directory)
 * and restores it with pg_restore `--exit-on-error`: a restore error fails the step with pg_restore's message.
 * Owners and grants are preserved where the target user can set them. When one owner cannot be set (missing on
 * the target, or a role the target user may not SET ROLE to), the restore runs with `--no-owner` and
 * {@link reconcileOwnership} then gives every object whose owner can be set its source owner back; when a grantee is
 * missing, `--no-privileges`, and the grants to existing roles are applied afterwards. What remains is a warning.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type pg from 'pg';
import { quoteIdent, quoteLiteral, serverMajor, withClient } from '../connection.js';
import type { RunContext } from '../context.js';
import { classify, describeError, PermanentError } from '../errors.js';
import { type PgTools, pgDumpArgs, pgRestoreArgs, pgRestoreListArgs, runPgTool } from '../pgtools.js';
import { listSome, type WarningList } from '../warnings.js';
import { reconcileOwnership } from './ownership.js';
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
  /**
   * A custom-format archive of both schema sections ({@link dumpSchema}, under the same snapshot): the restore takes
   * its section from it instead of running pg_dump again. @default pg_dump of the one section
   */
  readonly archive?: string;
}

/**
 * Dumps pre-data and post-data with one pg_dump (custom format, to `file`): the restores take their section from
 * it (`pg_restore --section`), the same entries, in the same order, as two pg_dump runs give — one catalog read of
 * the source instead of two, which is most of pg_dump's time on a database of thousands of tables.
 */
export async function dumpSchema(
  ctx: RunContext,
  database: string,
  options: { readonly tools: PgTools; readonly snapshot?: string },
  file: string,
): Promise<void> {
  await runPgTool(
    options.tools,
    'pg_dump',
    pgDumpArgs({
      database,
      section: ['pre-data', 'post-data'],
      file,
      ...(options.snapshot ? { snapshot: options.snapshot } : {}),
    }),
    { server: ctx.source, database, what: `schema dump of ${JSON.stringify(database)}`, ...signalOf(ctx) },
  );
}

async function isSuperuser(client: pg.Client): Promise<boolean> {
  const { rows } = await client.query<{ s: boolean }>(
    'SELECT rolsuper AS s FROM pg_catalog.pg_roles WHERE rolname = current_user',
  );
  return rows[0]?.s === true;
}

/** What the target knows about the roles a database's owners and grantees name. Pure input of {@link decideOwnership}. */
export interface OwnershipFacts {
  readonly owners: readonly string[];
  readonly grantees: readonly string[];
  /** Roles present on the target. */
  readonly present: readonly string[];
  /** Roles the target user may make owner of an object (superuser, or SET ROLE on 16+ / membership before). */
  readonly settable: readonly string[];
}

/** How the restore treats owners and grants, and why. */
export interface OwnershipMode {
  readonly noOwner: boolean;
  readonly noPrivileges: boolean;
  /** Owners of the source that the target cannot take (missing, or not settable by the target user). */
  readonly unsettableOwners: readonly string[];
  /** Grantees of the source missing on the target. */
  readonly missingGrantees: readonly string[];
  readonly reasons: readonly string[];
}

/** The restore mode for a database's owners and grants. Pure; exported for tests. */
export function decideOwnership(facts: OwnershipFacts): OwnershipMode {
  const present = new Set(facts.present);
  const settable = new Set(facts.settable);
  const missingOwners = facts.owners.filter((o) => !present.has(o));
  const foreignOwners = facts.owners.filter((o) => present.has(o) && !settable.has(o));
  const missingGrantees = facts.grantees.filter((g) => !present.has(g));
  const reasons: string[] = [];
  if (missingOwners.length > 0) reasons.push(`owner role(s) missing on the target: ${listSome(missingOwners)}`);
  if (foreignOwners.length > 0)
    reasons.push(`the target user may not SET ROLE to owner role(s): ${listSome(foreignOwners)}`);
  if (missingGrantees.length > 0) reasons.push(`grantee role(s) missing on the target: ${listSome(missingGrantees)}`);
  return {
    noOwner: missingOwners.length + foreignOwners.length > 0,
    noPrivileges: missingGrantees.length > 0,
    unsettableOwners: [...missingOwners, ...foreignOwners],
    missingGrantees,
    reasons,
  };
}

/** The roles of `names` present on the target, and those the target user may make owners (see {@link OwnershipFacts}). */
export async function settableRoles(
  client: pg.Client,
  names: readonly string[],
): Promise<{ present: string[]; settable: string[] }> {
  const superuser = await isSuperuser(client);
  const major = await serverMajor(client);
  // 16+: ALTER … OWNER / CREATE DATABASE … OWNER need SET ROLE on the new owner; before 16, membership.
  const { rows } = await client.query<{ name: string; settable: boolean }>(
    `SELECT r.rolname::text AS name,
            $2::boolean OR pg_catalog.pg_has_role(current_user, r.oid, $3::text) AS settable
       FROM pg_catalog.pg_roles r WHERE r.rolname = ANY ($1::text[])`,
    [[...new Set(names)], superuser, major >= 16 ? 'SET' : 'MEMBER'],
  );
  return { present: rows.map((r) => r.name), settable: rows.filter((r) => r.settable).map((r) => r.name) };
}

/**
 * Whether the target can take the source's owners and grants for `database`: owners need every owning role to
 * exist on the target and be settable by the target user (or a superuser); grants need every grantee to exist.
 */
export async function ownershipMode(ctx: RunContext, database: string): Promise<OwnershipMode> {
  const { owners, grantees } = await withClient(ctx.source, database, async (client) => {
    const { rows } = await client.query<{ owners: string[]; grantees: string[] }>(`
      WITH objs AS (
        SELECT c.relowner AS owner, c.relacl AS acl FROM pg_catalog.pg_class c
          JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'
        UNION ALL SELECT n.nspowner, n.nspacl FROM pg_catalog.pg_namespace n
         WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
           AND NOT (n.nspname = 'public' AND (n.nspowner = 10 OR pg_catalog.pg_get_userbyid(n.nspowner) = 'pg_database_owner'))
        UNION ALL SELECT p.proowner, p.proacl FROM pg_catalog.pg_proc p
          JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
         WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
        UNION ALL SELECT t.typowner, t.typacl FROM pg_catalog.pg_type t
          JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
         WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
        UNION ALL SELECT d.defaclrole, d.defaclacl FROM pg_catalog.pg_default_acl d
      )
      SELECT coalesce(array_agg(DISTINCT pg_catalog.pg_get_userbyid(owner)::text), '{}') AS owners,
             coalesce((SELECT array_agg(DISTINCT pg_catalog.pg_get_userbyid(a.grantee)::text)
                         FROM objs, pg_catalog.aclexplode(objs.acl) a WHERE a.grantee <> 0), '{}') AS grantees
        FROM objs`);
    return rows[0] ?? { owners: [], grantees: [] };
  });
  return withClient(ctx.target, ctx.target.database, async (client) => {
    const { present, settable } = await settableRoles(client, [...owners, ...grantees]);
    return decideOwnership({ owners, grantees, present, settable });
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
 * Creates the target database when it does not exist, with the source's encoding and locale, then its settings
 * (`ALTER DATABASE … SET`), per-database role settings, grants and comment. It belongs to the target user until
 * {@link handOverDatabase} gives it the source's owner. What the target does not take (locale, a setting, a grant,
 * the comment) becomes a warning in `warnings`. An existing database is left alone.
 */
export async function ensureTargetDatabase(
  ctx: RunContext,
  database: string,
  warnings: WarningList,
): Promise<{ created: boolean }> {
  try {
    const exists = await withClient(ctx.target, ctx.target.database, async (client) => {
      const { rows } = await client.query('SELECT 1 FROM pg_catalog.pg_database WHERE datname = $1', [database]);
      return rows.length > 0;
    });
    if (exists) return { created: false };
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
    const q = quoteIdent(database);
    await withClient(ctx.target, ctx.target.database, async (client) => {
      // Owned by the target user while it is migrated (so that the restore, the subscription and the settings may
      // do their work whatever that user may do as the owner); handOverDatabase gives it its owner at the end.
      const base = `CREATE DATABASE ${q} TEMPLATE template0 ENCODING ${quoteLiteral(source.db.encoding)}`;
      const targetMajor = await serverMajor(client);
      const locale = localeClause(source.db, targetMajor);
      if (source.db.provider && source.db.provider !== 'c' && !locale.startsWith('LOCALE_PROVIDER')) {
        warnings.add(
          'locale',
          `database ${database}: the source's locale provider (${source.db.provider === 'i' ? 'icu' : source.db.provider === 'b' ? 'builtin' : source.db.provider}) is unavailable on the target: libc ${source.db.collate} used`,
        );
      }
      try {
        await client.query(`${base} ${locale}`);
      } catch (err) {
        // A locale the target's OS lacks: create with the target's default locale and say so.
        if ((err as { code?: string }).code === '42P04') throw err;
        warnings.add(
          'locale',
          `database ${database}: locale ${source.db.collate} unavailable on the target (${describeError(err)}); the target's default locale used`,
        );
        await client.query(base);
      }
      if (source.db.connlimit >= 0) {
        try {
          await client.query(`ALTER DATABASE ${q} CONNECTION LIMIT ${Number(source.db.connlimit)}`);
        } catch (err) {
          warnings.add('setting', `database ${database}: CONNECTION LIMIT not applied: ${describeError(err)}`);
        }
      }
      if (source.db.comment !== null) {
        try {
          await client.query(`COMMENT ON DATABASE ${q} IS ${quoteLiteral(source.db.comment)}`);
        } catch (err) {
          warnings.add('setting', `database ${database}: comment not applied: ${describeError(err)}`);
        }
      }
      for (const s of source.settings) {
        for (const entry of s.setconfig) {
          const sql =
            s.role === null
              ? `ALTER DATABASE ${q} ${setClause(entry)}`
              : `ALTER ROLE ${quoteIdent(s.role)} IN DATABASE ${q} ${setClause(entry)}`;
          try {
            await client.query(sql);
          } catch (err) {
            warnings.add(
              'setting',
              `database ${database}: setting ${entry.split('=')[0]}${s.role ? ` for role ${s.role}` : ''} not applied: ${describeError(err)}`,
            );
          }
        }
      }
      if (source.hasAcl) {
        try {
          await client.query(`REVOKE ALL ON DATABASE ${q} FROM PUBLIC`);
        } catch (err) {
          warnings.add('grant', `database ${database}: REVOKE ALL FROM PUBLIC not applied: ${describeError(err)}`);
        }
        for (const a of source.acl) {
          const grantee = a.grantee === null ? 'PUBLIC' : quoteIdent(a.grantee);
          try {
            await client.query(
              `GRANT ${a.privilege} ON DATABASE ${q} TO ${grantee}${a.grantable ? ' WITH GRANT OPTION' : ''}`,
            );
          } catch (err) {
            warnings.add(
              'grant',
              `database ${database}: ${a.privilege} to ${a.grantee ?? 'PUBLIC'} not granted: ${describeError(err)}`,
            );
          }
        }
      }
    });
    ctx.logger.info('target database created', { database });
    return { created: true };
  } catch (err) {
    throw classify(err, `creating target database ${JSON.stringify(database)}`);
  }
}

function forcedMode(options: SchemaOptions): OwnershipMode | undefined {
  if (options.noOwner === undefined || options.noPrivileges === undefined) return undefined;
  return {
    noOwner: options.noOwner,
    noPrivileges: options.noPrivileges,
    unsettableOwners: [],
    missingGrantees: [],
    reasons: [],
  };
}

async function dumpAndRestore(
  ctx: RunContext,
  database: string,
  section: 'pre-data' | 'post-data',
  options: SchemaOptions & { filter?: (toc: string) => Promise<string> },
  warnings: WarningList,
): Promise<OwnershipMode> {
  const mode = forcedMode(options) ?? (await ownershipMode(ctx, database));
  for (const reason of mode.reasons) ctx.logger.info(`${section}: ${reason}`, { database });
  // ALTER DEFAULT PRIVILEGES FOR ROLE r needs the right to act as r: --no-owner does not leave these out.
  const defaultAcls =
    section === 'post-data' && !mode.noPrivileges && mode.unsettableOwners.length > 0 ? mode.unsettableOwners : [];
  await withPrivateDir(async (dir) => {
    const file = options.archive ?? join(dir, `${section}.dump`);
    if (options.archive === undefined) {
      await runPgTool(
        options.tools,
        'pg_dump',
        pgDumpArgs({ database, section, file, ...(options.snapshot ? { snapshot: options.snapshot } : {}) }),
        { server: ctx.source, database, what: `${section} dump of ${JSON.stringify(database)}`, ...signalOf(ctx) },
      );
    }
    let useList: string | undefined;
    if (options.filter || defaultAcls.length > 0) {
      const { stdout } = await runPgTool(options.tools, 'pg_restore', pgRestoreListArgs(file), {
        server: ctx.target,
        database,
        what: `${section} list of ${JSON.stringify(database)}`,
      });
      const filtered = options.filter ? await options.filter(stdout) : stdout;
      const { toc, skipped } = commentOutDefaultAcls(filtered, defaultAcls);
      if (skipped.length > 0)
        warnings.add(
          'grant',
          `${skipped.length} default privilege setting(s) not restored (ALTER DEFAULT PRIVILEGES FOR ROLE needs a role the target user may not act as): ${listSome(skipped)}`,
        );
      useList = join(dir, `${section}.list`);
      await writeFile(useList, toc, { mode: 0o600 });
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
        ...(options.archive !== undefined ? { section } : {}),
        ...(useList ? { useList } : {}),
      }),
      { server: ctx.target, database, what: `${section} restore of ${JSON.stringify(database)}`, ...signalOf(ctx) },
    );
  });
  return mode;
}

/**
 * Comments out of a TOC list the `DEFAULT ACL` entries of `roles` (the entry's owner, the line's last word).
 * Pure; exported for tests.
 */
export function commentOutDefaultAcls(
  toc: string,
  roles: readonly string[],
): { readonly toc: string; readonly skipped: string[] } {
  const skipped: string[] = [];
  if (roles.length === 0) return { toc, skipped };
  const lines = toc.split('\n').map((line) => {
    const m = /^\d+; \d+ \d+ DEFAULT ACL (.*)$/.exec(line);
    if (!m) return line;
    const role = roles.find((r) => m[1]!.endsWith(` ${r}`));
    if (role === undefined) return line;
    skipped.push(m[1]!);
    return `;${line}`;
  });
  return { toc: lines.join('\n'), skipped };
}

function signalOf(ctx: RunContext): { signal?: AbortSignal } {
  return ctx.signal ? { signal: ctx.signal } : {};
}

/**
 * Restores the source's pre-data section (schemas, types, tables, functions, views, large object metadata) into
 * the target database, in one transaction: it is there completely or not at all.
 */
export async function restorePreData(
  ctx: RunContext,
  database: string,
  options: SchemaOptions,
  warnings: WarningList,
): Promise<void> {
  ctx.progress({ kind: 'phase', database, phase: 'pre-data' });
  await dumpAndRestore(
    ctx,
    database,
    'pre-data',
    { ...options, filter: (toc: string) => filterExistingSchemas(ctx, database, toc) },
    warnings,
  );
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

/**
 * Pure: comments out (`;`) the `SCHEMA - <name> <owner>` lines of a TOC list whose schema is in `existing`. `public`
 * always stays: pg_dump never creates it (initdb does), its entry only sets the source's owner, e.g. `postgres` from a
 * 14 source where a 15+ target has `pg_database_owner`.
 */
export function commentOutExistingSchemas(toc: string, existing: ReadonlySet<string>): string {
  return toc
    .split('\n')
    .map((line) => {
      const m = /^\d+; \d+ \d+ SCHEMA - (.*) \S+$/.exec(line);
      return m && m[1] !== 'public' && existing.has(m[1]!) ? `;${line}` : line;
    })
    .join('\n');
}

/**
 * Restores the post-data section (indexes, constraints, triggers, rules, policies, materialized view data) with
 * `pg_restore -j jobs`, then gives objects their owners and grants back as far as the target allows
 * ({@link reconcileOwners}). With `resume`, entries whose object already exists on the target (built early while
 * the data was copied, or by an earlier, interrupted post-data restore) are left out of the restore list.
 */
export async function restorePostData(
  ctx: RunContext,
  database: string,
  options: SchemaOptions & { resume?: boolean },
  warnings: WarningList,
): Promise<void> {
  ctx.progress({ kind: 'phase', database, phase: 'post-data' });
  const mode = await dumpAndRestore(
    ctx,
    database,
    'post-data',
    {
      ...options,
      ...(options.resume ? { filter: (toc: string) => filterExistingPostData(ctx, database, toc) } : {}),
    },
    warnings,
  );
  await reconcileOwnership(ctx, database, mode, warnings, settableRoles);
}

/**
 * Gives a target database that the target user owns (pg-migrate created it) the source database's owner, when the
 * target user may (superuser, or SET ROLE on 16+ / membership before); otherwise a warning. Run last: the
 * migration's own work needs the target user to own it.
 */
export async function handOverDatabase(ctx: RunContext, database: string, warnings: WarningList): Promise<void> {
  const owner = await withClient(ctx.source, ctx.source.database, async (client) => {
    const { rows } = await client.query<{ owner: string }>(
      'SELECT pg_catalog.pg_get_userbyid(datdba)::text AS owner FROM pg_catalog.pg_database WHERE datname = $1',
      [database],
    );
    return rows[0]?.owner;
  });
  if (owner === undefined) return;
  await withClient(ctx.target, ctx.target.database, async (client) => {
    const { rows } = await client.query<{ owner: string; mine: boolean }>(
      `SELECT pg_catalog.pg_get_userbyid(datdba)::text AS owner, datdba = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = current_user) AS mine
         FROM pg_catalog.pg_database WHERE datname = $1`,
      [database],
    );
    const target = rows[0];
    if (!target || target.owner === owner || !target.mine) return;
    const { present, settable } = await settableRoles(client, [owner]);
    if (settable.includes(owner)) {
      try {
        await client.query(`ALTER DATABASE ${quoteIdent(database)} OWNER TO ${quoteIdent(owner)}`);
        return;
      } catch (err) {
        warnings.add(
          'owner',
          `database ${database}: owner ${owner} not set (${describeError(err)}); ${target.owner} owns it`,
        );
        return;
      }
    }
    warnings.add(
      'owner',
      `database ${database}: owned by ${owner} on the source, by ${target.owner} on the target (${present.includes(owner) ? 'the target user may not SET ROLE to it' : 'the role is missing on the target'})`,
    );
  });
}

/**
 * Owners and grants of the target database brought as close to the source's as the target user may (see
 * core/steps/ownership.ts), for a database whose post-data was restored by an earlier, interrupted run.
 */
export async function reconcileOwners(ctx: RunContext, database: string, warnings: WarningList): Promise<void> {
  await reconcileOwnership(ctx, database, await ownershipMode(ctx, database), warnings, settableRoles);
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
