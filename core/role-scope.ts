/**
 * Which roles a run migrates: by default the roles the selected databases need, so that a migration of one
 * database does not copy every role of the cluster (superusers and their password hashes included). The roles
 * check (core/checks/roles.ts) and the roles step (core/steps/roles.ts) both ask this module, so they cannot
 * disagree.
 *
 * A role is needed by a database when it owns the database or an object in it, holds a privilege on either, is
 * named in a policy or in default privileges, or has settings there (`ALTER ROLE … IN DATABASE`). The roles those
 * roles are members of are needed too, up the chain (their privileges reach the needed roles through membership).
 * Members of a needed role are not (a login role that reaches a database only through a group is not needed by
 * its objects): `--roles all` takes every role.
 *
 * The facts come from `pg_shdepend` (the shared dependency catalog: owners, ACL grantees, policy roles of every
 * object, in every database, readable by anyone) in one session, plus one short session per selected database for
 * the bootstrap superuser, whose ownership the catalog does not record (a pinned role).
 *
 * @example
 * ```ts
 * const facts = await collectRoleScope(ctx.source, ['shop']);
 * const scope = rolesInScope(facts, 'needed'); // Map { 'app_owner' => ['owner in shop'], … }
 * ```
 */
import type pg from 'pg';
import { type ConnectionSpec, type SessionOptions, withClient } from './connection.js';

/** Why a role is needed (shown in the check's details and the role results). */
export type NeedReason = 'owner' | 'grantee' | 'policy' | 'default privileges' | 'settings' | 'member of a needed role';

export interface RoleNeed {
  readonly role: string;
  readonly database: string;
  readonly reason: NeedReason;
}

export interface RoleScopeFacts {
  /** Every role of the source. */
  readonly roles: readonly string[];
  /** The source's role memberships. */
  readonly memberships: ReadonlyArray<{ readonly role: string; readonly member: string }>;
  /** What the selected databases need, before following memberships. */
  readonly needs: readonly RoleNeed[];
}

/** Pure: the roles to migrate, each with why (empty reasons for `all`'s roles that nothing needs). */
export function rolesInScope(facts: RoleScopeFacts, scope: 'needed' | 'all'): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (role: string, why: string) => {
    const reasons = out.get(role) ?? [];
    if (!reasons.includes(why)) reasons.push(why);
    out.set(role, reasons);
  };
  for (const need of facts.needs) add(need.role, `${need.reason} in ${need.database}`);
  // Up the chain: the groups of needed roles, and theirs.
  const queue = [...out.keys()];
  while (queue.length > 0) {
    const member = queue.shift()!;
    for (const m of facts.memberships) {
      if (m.member !== member) continue;
      const known = out.has(m.role);
      add(m.role, `${member} is a member`);
      if (!known) queue.push(m.role);
    }
  }
  if (scope === 'all') for (const role of facts.roles) if (!out.has(role)) out.set(role, []);
  return out;
}

/** The bootstrap superuser's oid: its ownership is pinned, not recorded in pg_shdepend. */
const BOOTSTRAP_SUPERUSER = 10;

/** Needs recorded in the shared catalogs, for the databases named in $1 (one session, any database). */
const SHARED_NEEDS_SQL = `
  WITH dbs AS (SELECT oid, datname::text AS name FROM pg_catalog.pg_database WHERE datname = ANY($1::text[]))
  SELECT DISTINCT pg_catalog.pg_get_userbyid(s.refobjid)::text AS role, dbs.name AS database,
         CASE WHEN s.classid = 'pg_catalog.pg_default_acl'::pg_catalog.regclass THEN 'default privileges'
              WHEN s.deptype = 'o' THEN 'owner'
              WHEN s.deptype = 'r' THEN 'policy'
              ELSE 'grantee' END AS reason
    FROM pg_catalog.pg_shdepend s
    JOIN dbs ON s.dbid = dbs.oid
              OR (s.dbid = 0 AND s.classid = 'pg_catalog.pg_database'::pg_catalog.regclass AND s.objid = dbs.oid)
   WHERE s.refclassid = 'pg_catalog.pg_authid'::pg_catalog.regclass AND s.deptype <> 'p'
  UNION
  SELECT pg_catalog.pg_get_userbyid(d.datdba)::text, dbs.name, 'owner'
    FROM pg_catalog.pg_database d JOIN dbs ON dbs.oid = d.oid
  UNION
  SELECT pg_catalog.pg_get_userbyid(rs.setrole)::text, dbs.name, 'settings'
    FROM pg_catalog.pg_db_role_setting rs JOIN dbs ON rs.setdatabase = dbs.oid
   WHERE rs.setrole <> 0`;

/**
 * Whether the bootstrap superuser owns a user object of the connected database (not an extension's member, not a
 * system schema, not `public`, whose owner pg_dump does not restore).
 */
const BOOTSTRAP_OWNS_SQL = `
  SELECT EXISTS (
    SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relowner = ${BOOTSTRAP_SUPERUSER} AND n.nspname NOT IN ('pg_catalog', 'information_schema')
       AND n.nspname !~ '^pg_(toast|temp)'
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                                                            AND d.objid = c.oid AND d.deptype = 'e')
    UNION ALL
    SELECT 1 FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
     WHERE p.proowner = ${BOOTSTRAP_SUPERUSER} AND n.nspname NOT IN ('pg_catalog', 'information_schema')
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
                                                            AND d.objid = p.oid AND d.deptype = 'e')
    UNION ALL
    SELECT 1 FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
     WHERE t.typowner = ${BOOTSTRAP_SUPERUSER} AND n.nspname NOT IN ('pg_catalog', 'information_schema')
       AND n.nspname !~ '^pg_(toast|temp)'
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_type'::pg_catalog.regclass
                                                            AND d.objid = t.oid AND d.deptype = 'e')
    UNION ALL
    SELECT 1 FROM pg_catalog.pg_namespace n
     WHERE n.nspowner = ${BOOTSTRAP_SUPERUSER} AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'public')
       AND n.nspname !~ '^pg_'
  ) AS owns`;

/** Reads the shared facts on an open session (any database of the source). */
export async function readRoleScopeFacts(
  client: pg.Client,
  databases: readonly string[],
): Promise<RoleScopeFacts & { readonly bootstrap: string }> {
  const { rows: roles } = await client.query<{ name: string; bootstrap: boolean }>(
    `SELECT rolname::text AS name, oid = ${BOOTSTRAP_SUPERUSER} AS bootstrap FROM pg_catalog.pg_roles ORDER BY 1`,
  );
  const { rows: memberships } = await client.query<{ role: string; member: string }>(
    `SELECT pg_catalog.pg_get_userbyid(roleid)::text AS role, pg_catalog.pg_get_userbyid(member)::text AS member
       FROM pg_catalog.pg_auth_members ORDER BY 1, 2`,
  );
  const { rows: needs } = await client.query<RoleNeed>(SHARED_NEEDS_SQL, [[...databases]]);
  return {
    roles: roles.map((r) => r.name),
    memberships,
    needs,
    bootstrap: roles.find((r) => r.bootstrap)?.name ?? '',
  };
}

/**
 * Collects {@link RoleScopeFacts} for the selected databases of the source: one session for the shared catalogs,
 * and one per database for what the bootstrap superuser owns there.
 */
export async function collectRoleScope(
  source: ConnectionSpec,
  databases: readonly string[],
  options: SessionOptions = {},
): Promise<RoleScopeFacts> {
  const shared = await withClient(source, source.database, (client) => readRoleScopeFacts(client, databases), options);
  const needs = [...shared.needs];
  for (const database of databases) {
    if (needs.some((n) => n.role === shared.bootstrap && n.database === database && n.reason === 'owner')) continue;
    const owns = await withClient(
      source,
      database,
      async (client) => (await client.query<{ owns: boolean }>(BOOTSTRAP_OWNS_SQL)).rows[0]?.owns === true,
      options,
    );
    if (owns) needs.push({ role: shared.bootstrap, database, reason: 'owner' });
  }
  return { roles: shared.roles, memberships: shared.memberships, needs };
}
