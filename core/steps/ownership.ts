/**
 * Owners and grants after a restore that could not keep them all (`pg_restore --no-owner` / `--no-privileges`,
 * see {@link decideOwnership} in schema.ts): every owned object of the source is compared with its namesake on the
 * target, by `pg_identify_object` (type + identity, the same text on both servers). An object whose owner the target
 * user may set gets it back (`ALTER … OWNER TO`); with `--no-privileges`, grants to roles present on the target are
 * applied and grants the target has but the source does not (a default EXECUTE to PUBLIC the source revoked) are
 * revoked. What cannot be done becomes a warning that names the roles and the objects.
 *
 * Idempotent: a second run finds nothing to change.
 */
import type pg from 'pg';
import { quoteIdent, withClient } from '../connection.js';
import type { RunContext } from '../context.js';
import { describeError } from '../errors.js';
import { listSome, type WarningList } from '../warnings.js';
import type { OwnershipMode } from './schema.js';

/** One privilege of an ACL: grantee (null = PUBLIC), privilege (`SELECT`, …), with grant option. */
export type AclItem = readonly [grantee: string | null, privilege: string, grantable: boolean];

/** An object that has an owner, as `pg_identify_object` names it. */
export interface OwnedObject {
  /** `table`, `view`, `function`, `schema`, `large object`, … (pg_identify_object's type). */
  readonly type: string;
  /** Quoted, schema-qualified, with argument types for routines: usable in DDL as it is. */
  readonly identity: string;
  readonly owner: string;
  /** `DOMAIN` for domains (pg_identify_object calls them `type`). */
  readonly keyword: string | null;
  /** The effective ACL (the default one when the catalog has none); null for kinds without privileges. */
  readonly acl: readonly AclItem[] | null;
  /** For column privileges: the column name (`identity` is then the table's). */
  readonly column?: string;
  /**
   * The `public` schema with its default owner: never given another owner, and its grants only added to (its
   * default privileges changed in PostgreSQL 15; pg_dump leaves the default ones alone).
   */
  readonly defaultPublic?: boolean;
}

/**
 * Every owned object of the connected database that pg_dump restores: relations (not indexes, not sequences owned by
 * a column), schemas, routines, types, collations, conversions, operators and their classes and families, text
 * search configurations and dictionaries, extended statistics, event triggers, foreign-data wrappers and servers,
 * procedural languages, large objects. Extension members and system schemas are left out; `public` with its
 * default owner is marked `default_public`. Works on PostgreSQL 10 and newer.
 */
export const OWNED_OBJECTS_SQL = `
  WITH objs(classid, objid, owner, acl, acltype, keyword, default_public) AS (
    SELECT 'pg_catalog.pg_class'::pg_catalog.regclass, c.oid, c.relowner, c.relacl,
           CASE WHEN c.relkind = 'S' THEN 's' WHEN c.relkind = 'c' THEN NULL ELSE 'r' END, NULL::text, false
      FROM pg_catalog.pg_class c
     WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'c')
       AND NOT (c.relkind = 'S' AND EXISTS (
             SELECT 1 FROM pg_catalog.pg_depend d
              WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = c.oid
                AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.deptype IN ('a', 'i')))
    UNION ALL
    SELECT 'pg_catalog.pg_namespace'::pg_catalog.regclass, n.oid, n.nspowner, n.nspacl, 'n', NULL,
           n.nspname = 'public' AND (n.nspowner = 10 OR pg_catalog.pg_get_userbyid(n.nspowner) = 'pg_database_owner')
      FROM pg_catalog.pg_namespace n
    UNION ALL
    SELECT 'pg_catalog.pg_proc'::pg_catalog.regclass, p.oid, p.proowner, p.proacl, 'f', NULL, false FROM pg_catalog.pg_proc p
    UNION ALL
    SELECT 'pg_catalog.pg_type'::pg_catalog.regclass, t.oid, t.typowner, t.typacl, 'T',
           CASE WHEN t.typtype = 'd' THEN 'DOMAIN' END, false
      FROM pg_catalog.pg_type t
     WHERE t.typrelid = 0 AND t.typtype <> 'm'
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_type e WHERE e.typarray = t.oid)
    UNION ALL SELECT 'pg_catalog.pg_collation'::pg_catalog.regclass, oid, collowner, NULL, NULL, NULL, false FROM pg_catalog.pg_collation
    UNION ALL SELECT 'pg_catalog.pg_conversion'::pg_catalog.regclass, oid, conowner, NULL, NULL, NULL, false FROM pg_catalog.pg_conversion
    UNION ALL SELECT 'pg_catalog.pg_operator'::pg_catalog.regclass, oid, oprowner, NULL, NULL, NULL, false FROM pg_catalog.pg_operator
    UNION ALL SELECT 'pg_catalog.pg_opclass'::pg_catalog.regclass, oid, opcowner, NULL, NULL, NULL, false FROM pg_catalog.pg_opclass
    UNION ALL SELECT 'pg_catalog.pg_opfamily'::pg_catalog.regclass, oid, opfowner, NULL, NULL, NULL, false FROM pg_catalog.pg_opfamily
    UNION ALL SELECT 'pg_catalog.pg_ts_config'::pg_catalog.regclass, oid, cfgowner, NULL, NULL, NULL, false FROM pg_catalog.pg_ts_config
    UNION ALL SELECT 'pg_catalog.pg_ts_dict'::pg_catalog.regclass, oid, dictowner, NULL, NULL, NULL, false FROM pg_catalog.pg_ts_dict
    UNION ALL SELECT 'pg_catalog.pg_statistic_ext'::pg_catalog.regclass, oid, stxowner, NULL, NULL, NULL, false FROM pg_catalog.pg_statistic_ext
    UNION ALL SELECT 'pg_catalog.pg_event_trigger'::pg_catalog.regclass, oid, evtowner, NULL, NULL, NULL, false FROM pg_catalog.pg_event_trigger
    UNION ALL SELECT 'pg_catalog.pg_foreign_data_wrapper'::pg_catalog.regclass, oid, fdwowner, fdwacl, 'F', NULL, false FROM pg_catalog.pg_foreign_data_wrapper
    UNION ALL SELECT 'pg_catalog.pg_foreign_server'::pg_catalog.regclass, oid, srvowner, srvacl, 'S', NULL, false FROM pg_catalog.pg_foreign_server
    UNION ALL SELECT 'pg_catalog.pg_language'::pg_catalog.regclass, oid, lanowner, lanacl, 'l', NULL, false FROM pg_catalog.pg_language WHERE lanispl
    UNION ALL SELECT 'pg_catalog.pg_largeobject'::pg_catalog.regclass, oid, lomowner, lomacl, 'L', NULL, false FROM pg_catalog.pg_largeobject_metadata
  )
  SELECT o.type, o.identity, pg_catalog.pg_get_userbyid(objs.owner)::text AS owner, objs.keyword,
         objs.default_public AS "defaultPublic",
         CASE WHEN objs.acltype IS NULL THEN NULL ELSE (
           SELECT coalesce(pg_catalog.json_agg(pg_catalog.json_build_array(
                    CASE WHEN a.grantee = 0 THEN NULL ELSE pg_catalog.pg_get_userbyid(a.grantee)::text END,
                    a.privilege_type, a.is_grantable)), '[]')
             FROM pg_catalog.aclexplode(coalesce(objs.acl, pg_catalog.acldefault(objs.acltype::"char", objs.owner))) a)
         END AS acl
    FROM objs, LATERAL pg_catalog.pg_identify_object(objs.classid, objs.objid, 0) o
   WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                      WHERE d.classid = objs.classid AND d.objid = objs.objid AND d.deptype = 'e')
     AND coalesce(o.schema, CASE WHEN objs.classid = 'pg_catalog.pg_namespace'::pg_catalog.regclass THEN o.name END, '')
         NOT IN ('pg_catalog', 'information_schema', 'pg_toast', '_pg_migrate')
     AND coalesce(o.schema, CASE WHEN objs.classid = 'pg_catalog.pg_namespace'::pg_catalog.regclass THEN o.name END, '')
         NOT LIKE 'pg\\_temp\\_%'
     AND coalesce(o.schema, CASE WHEN objs.classid = 'pg_catalog.pg_namespace'::pg_catalog.regclass THEN o.name END, '')
         NOT LIKE 'pg\\_toast\\_temp\\_%'
   ORDER BY 1, 2`;

/** Column privileges (`attacl`) of user tables: the table's identity, the column, the ACL. */
export const COLUMN_PRIVILEGES_SQL = `
  SELECT o.identity, a.attname::text AS "column", pg_catalog.pg_get_userbyid(c.relowner)::text AS owner,
         (SELECT coalesce(pg_catalog.json_agg(pg_catalog.json_build_array(
                   CASE WHEN x.grantee = 0 THEN NULL ELSE pg_catalog.pg_get_userbyid(x.grantee)::text END,
                   x.privilege_type, x.is_grantable)), '[]')
            FROM pg_catalog.aclexplode(a.attacl) x) AS acl
    FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace,
         LATERAL pg_catalog.pg_identify_object('pg_catalog.pg_class'::pg_catalog.regclass, c.oid, 0) o
   WHERE a.attacl IS NOT NULL AND a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
     AND n.nspname NOT IN ('pg_catalog', 'information_schema', '_pg_migrate') AND n.nspname NOT LIKE 'pg\\_%'
   ORDER BY 1, 2`;

/** Reads {@link OWNED_OBJECTS_SQL} and, with `columns`, the column privileges. */
export async function readOwnedObjects(client: pg.Client, columns = false): Promise<OwnedObject[]> {
  const { rows } = await client.query<{
    type: string;
    identity: string;
    owner: string;
    keyword: string | null;
    acl: AclItem[] | null;
    defaultPublic: boolean;
  }>(OWNED_OBJECTS_SQL);
  const objects: OwnedObject[] = rows.map(({ defaultPublic, ...r }) => ({
    ...r,
    ...(defaultPublic ? { defaultPublic } : {}),
  }));
  if (columns) {
    const { rows: cols } = await client.query<{ identity: string; column: string; owner: string; acl: AclItem[] }>(
      COLUMN_PRIVILEGES_SQL,
    );
    for (const c of cols)
      objects.push({
        type: 'table column',
        identity: c.identity,
        column: c.column,
        owner: c.owner,
        keyword: null,
        acl: c.acl,
      });
  }
  return objects;
}

const ALTER_KEYWORDS: Readonly<Record<string, string>> = {
  'composite type': 'TYPE',
  'foreign-data wrapper': 'FOREIGN DATA WRAPPER',
  'statistics object': 'STATISTICS',
};

/** `ALTER <kind> <identity> OWNER TO <role>`. Pure; exported for tests. */
export function alterOwnerSql(object: Pick<OwnedObject, 'type' | 'identity' | 'keyword'>, owner: string): string {
  const keyword = object.keyword ?? ALTER_KEYWORDS[object.type] ?? object.type.toUpperCase();
  return `ALTER ${keyword} ${object.identity} OWNER TO ${quoteIdent(owner)}`;
}

const GRANT_KEYWORDS: Readonly<Record<string, string>> = {
  table: 'TABLE',
  view: 'TABLE',
  'materialized view': 'TABLE',
  'foreign table': 'TABLE',
  'table column': 'TABLE',
  sequence: 'SEQUENCE',
  function: 'FUNCTION',
  aggregate: 'FUNCTION',
  procedure: 'PROCEDURE',
  schema: 'SCHEMA',
  type: 'TYPE',
  'large object': 'LARGE OBJECT',
  'foreign-data wrapper': 'FOREIGN DATA WRAPPER',
  server: 'FOREIGN SERVER',
  language: 'LANGUAGE',
};

/** `GRANT` / `REVOKE` of one privilege on an object (a column when `object.column` is set). Pure; exported for tests. */
export function privilegeSql(
  action: 'GRANT' | 'REVOKE',
  object: Pick<OwnedObject, 'type' | 'identity' | 'keyword' | 'column'>,
  item: AclItem,
): string {
  const keyword = object.keyword ?? GRANT_KEYWORDS[object.type];
  if (!keyword) throw new Error(`no privileges on a ${object.type}`);
  const [grantee, privilege, grantable] = item;
  const what = object.column !== undefined ? `${privilege} (${quoteIdent(object.column)})` : privilege;
  const who = grantee === null ? 'PUBLIC' : quoteIdent(grantee);
  return action === 'GRANT'
    ? `GRANT ${what} ON ${keyword} ${object.identity} TO ${who}${grantable ? ' WITH GRANT OPTION' : ''}`
    : `REVOKE ${what} ON ${keyword} ${object.identity} FROM ${who}`;
}

const keyOf = (o: Pick<OwnedObject, 'type' | 'identity' | 'column'>) =>
  JSON.stringify([o.type, o.identity, o.column ?? null]);
const itemKey = (i: AclItem) => JSON.stringify(i);
const describe = (o: Pick<OwnedObject, 'type' | 'identity' | 'column'>) =>
  `${o.type} ${o.identity}${o.column !== undefined ? `.${quoteIdent(o.column)}` : ''}`;

/** An owner change to make, or one that cannot be made. */
export interface OwnerDrift {
  readonly object: OwnedObject;
  readonly sourceOwner: string;
  readonly targetOwner: string;
}

/** Objects present on both sides whose owner differs. Pure; exported for tests. */
export function ownerDrift(source: readonly OwnedObject[], target: readonly OwnedObject[]): OwnerDrift[] {
  const onTarget = new Map(target.filter((o) => o.column === undefined).map((o) => [keyOf(o), o]));
  const out: OwnerDrift[] = [];
  for (const s of source) {
    if (s.column !== undefined || s.defaultPublic) continue;
    const t = onTarget.get(keyOf(s));
    if (t && t.owner !== s.owner) out.push({ object: t, sourceOwner: s.owner, targetOwner: t.owner });
  }
  return out;
}

/** A privilege difference: what to grant and revoke on an object of the target. */
export interface PrivilegeDrift {
  readonly object: OwnedObject;
  readonly grant: readonly AclItem[];
  readonly revoke: readonly AclItem[];
}

/**
 * Privilege differences between the source's objects and their namesakes on the target. The source owner's own
 * entries are compared with the target owner's (they may differ when an owner could not be kept). Grant options
 * count; grantors do not (every grant on the target is made by its owner). Pure; exported for tests.
 */
export function privilegeDrift(source: readonly OwnedObject[], target: readonly OwnedObject[]): PrivilegeDrift[] {
  const onTarget = new Map(target.map((o) => [keyOf(o), o]));
  const out: PrivilegeDrift[] = [];
  for (const s of source) {
    const t = onTarget.get(keyOf(s));
    if (!t && s.column === undefined) continue;
    const tableOwner = t?.owner ?? onTarget.get(keyOf({ type: 'table', identity: s.identity }))?.owner ?? s.owner;
    const mapOwner = (i: AclItem): AclItem => (i[0] === s.owner ? [tableOwner, i[1], i[2]] : i);
    const want = new Map((s.acl ?? []).map((i) => [itemKey(mapOwner(i)), mapOwner(i)]));
    const have = new Map((t?.acl ?? []).map((i) => [itemKey(i), i]));
    if (s.acl === null || (t && t.acl === null)) continue;
    const grant = [...want]
      .filter(([k, i]) => !have.has(k) && (!s.defaultPublic || (i[0] !== null && i[0] !== tableOwner)))
      .map(([, i]) => i);
    const revoke = s.defaultPublic ? [] : [...have].filter(([k]) => !want.has(k)).map(([, i]) => i);
    if (grant.length > 0 || revoke.length > 0)
      out.push({ object: t ?? { ...s, owner: tableOwner, acl: [] }, grant, revoke });
  }
  return out;
}

/** The source's `ALTER DEFAULT PRIVILEGES` settings, described: `FOR ROLE app IN SCHEMA s ON TABLES`. */
async function readDefaultPrivileges(client: pg.Client): Promise<string[]> {
  const { rows } = await client.query<{ text: string }>(
    `SELECT 'FOR ROLE ' || pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(d.defaclrole)) ||
            coalesce(' IN SCHEMA ' || pg_catalog.quote_ident(n.nspname), '') || ' ON ' ||
            CASE d.defaclobjtype WHEN 'r' THEN 'TABLES' WHEN 'S' THEN 'SEQUENCES' WHEN 'f' THEN 'FUNCTIONS'
                                 WHEN 'T' THEN 'TYPES' WHEN 'n' THEN 'SCHEMAS' ELSE d.defaclobjtype::text END AS text
       FROM pg_catalog.pg_default_acl d LEFT JOIN pg_catalog.pg_namespace n ON n.oid = d.defaclnamespace
      ORDER BY 1`,
  );
  return rows.map((r) => r.text);
}

/**
 * Gives the target's objects their source owners where the target user may, and (with `mode.noPrivileges`) their
 * source grants; adds a warning for each owner and grantee that could not be kept.
 */
export async function reconcileOwnership(
  ctx: RunContext,
  database: string,
  mode: Pick<OwnershipMode, 'noOwner' | 'noPrivileges'>,
  warnings: WarningList,
  settable: (client: pg.Client, roles: readonly string[]) => Promise<{ present: string[]; settable: string[] }>,
): Promise<void> {
  if (!mode.noOwner && !mode.noPrivileges) return;
  const { source, defaults } = await withClient(ctx.source, database, async (client) => ({
    source: await readOwnedObjects(client, mode.noPrivileges),
    defaults: mode.noPrivileges ? await readDefaultPrivileges(client) : [],
  }));
  if (defaults.length > 0)
    warnings.add(
      'grant',
      `${defaults.length} default privilege setting(s) not restored (a grantee is missing on the target, so the restore left out every ALTER DEFAULT PRIVILEGES): ${listSome(defaults)}`,
    );
  await withClient(ctx.target, database, async (client) => {
    const roles = [...new Set(source.flatMap((o) => [o.owner, ...(o.acl ?? []).flatMap((i) => (i[0] ? [i[0]] : []))]))];
    const known = await settable(client, roles);
    const present = new Set(known.present);
    const canSet = new Set(known.settable);
    // Grants first, made by the target user as the owner of what it restored.
    if (mode.noPrivileges) {
      const missing = new Map<string, string[]>();
      const failed: string[] = [];
      for (const drift of privilegeDrift(source, await readOwnedObjects(client, true))) {
        for (const item of drift.grant) {
          if (item[0] !== null && !present.has(item[0])) {
            missing.set(item[0], [...(missing.get(item[0]) ?? []), `${item[1]} on ${describe(drift.object)}`]);
            continue;
          }
          try {
            await client.query(privilegeSql('GRANT', drift.object, item));
          } catch (err) {
            failed.push(`${item[1]} on ${describe(drift.object)} to ${item[0] ?? 'PUBLIC'}: ${describeError(err)}`);
          }
        }
        for (const item of drift.revoke) {
          try {
            await client.query(privilegeSql('REVOKE', drift.object, item));
          } catch (err) {
            failed.push(
              `revoking ${item[1]} on ${describe(drift.object)} from ${item[0] ?? 'PUBLIC'}: ${describeError(err)}`,
            );
          }
        }
      }
      for (const [grantee, grants] of missing)
        warnings.add(
          'grant',
          `${grants.length} privilege(s) of ${grantee} not granted (the role is missing on the target): ${listSome(grants)}`,
        );
      if (failed.length > 0)
        warnings.add('grant', `${failed.length} privilege change(s) failed on the target: ${listSome(failed, 5)}`);
    }
    // Owners last: ALTER … OWNER carries the ACL (grants made by the target user as owner) over to the new owner.
    const kept = new Map<string, { targetOwner: string; objects: string[]; errors: string[] }>();
    const keep = (drift: OwnerDrift, error?: string) => {
      const entry = kept.get(drift.sourceOwner) ?? { targetOwner: drift.targetOwner, objects: [], errors: [] };
      entry.objects.push(describe(drift.object));
      if (error) entry.errors.push(error);
      kept.set(drift.sourceOwner, entry);
    };
    for (const drift of ownerDrift(source, await readOwnedObjects(client))) {
      if (!canSet.has(drift.sourceOwner)) {
        keep(drift);
        continue;
      }
      try {
        await client.query(alterOwnerSql(drift.object, drift.sourceOwner));
      } catch (err) {
        keep(drift, describeError(err));
      }
    }
    for (const [owner, entry] of kept) {
      const why = !present.has(owner)
        ? 'the role is missing on the target'
        : !canSet.has(owner)
          ? 'the target user may not SET ROLE to it'
          : `ALTER … OWNER failed: ${listSome([...new Set(entry.errors)], 2)}`;
      warnings.add(
        'owner',
        `${entry.objects.length} object(s) owned by ${owner} on the source are owned by ${entry.targetOwner} on the target (${why}): ${listSome(entry.objects)}`,
      );
    }
  });
}
