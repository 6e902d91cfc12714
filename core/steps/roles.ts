/**
 * Roles, once per run: the source's roles missing on the target — those the selected databases need unless the
 * request says `roleScope: 'all'` (core/role-scope.ts) — are created with their attributes (SUPERUSER, REPLICATION
 * and BYPASSRLS only with consent, `roleAttributes`, and as far as the target user may grant them), settings,
 * memberships (each reported in the member's result, naming groups that were on the target before the run) and
 * per-database settings. Passwords: the SCRAM / MD5
 * verifier is copied when the source user can read it (superuser); otherwise a LOGIN role gets a random placeholder
 * password, of which only a SCRAM verifier computed here (core/scram.ts) reaches the target; the password is
 * returned in `placeholders` — never logged, never in the report, whose role message says a placeholder was set.
 * The password is never part of `CREATE ROLE`: it is set afterwards by `ALTER ROLE … PASSWORD`, with statement
 * logging off where the target user may, and the verifier bound as a parameter (core/secret-statements.ts).
 * Existing roles are left alone (`exists`); one failing role does not stop the others.
 */
import type pg from 'pg';
import { quoteIdent, quoteLiteral, withClient } from '../connection.js';
import type { RunContext } from '../context.js';
import { classify, describeError, registerSecret } from '../errors.js';
import type { RoleResult } from '../report.js';
import type { Request } from '../request.js';
import { collectRoleScope, rolesInScope } from '../role-scope.js';
import { randomPassword, scramVerifier } from '../scram.js';
import { quietSession, runWithSecret } from '../secret-statements.js';
import type { Warning, WarningKind } from '../warnings.js';
import { setClause } from './settings.js';

/** Roles that belong to the server or its provider, never migrated. */
const PROVIDER_ROLES = /^(pg_|rds|cloudsql|azure_|aiven|_aiven|alloydb|gcp_|supabase_admin$)/;

/** Whether a role name is the server's or the provider's own (skipped). */
export function isSystemRole(name: string): boolean {
  return PROVIDER_ROLES.test(name);
}

export interface SourceRole {
  readonly name: string;
  readonly superuser: boolean;
  readonly inherit: boolean;
  readonly createrole: boolean;
  readonly createdb: boolean;
  readonly login: boolean;
  readonly replication: boolean;
  readonly bypassrls: boolean;
  readonly connlimit: number;
  readonly validUntil: string | null;
  readonly comment: string | null;
  readonly settings: readonly string[];
  /** The SCRAM / MD5 verifier, when readable; undefined when unreadable, null when the role has none. */
  readonly verifier?: string | null;
}

/** The attributes recreated only with consent (`request.roleAttributes`) and a target user that may grant them. */
export type PrivilegedAttribute = 'SUPERUSER' | 'REPLICATION' | 'BYPASSRLS';

/** Pure: the privileged attributes of `role`. */
export function privilegedAttributes(role: Pick<SourceRole, 'superuser' | 'replication' | 'bypassrls'>) {
  const out: PrivilegedAttribute[] = [];
  if (role.superuser) out.push('SUPERUSER');
  if (role.replication) out.push('REPLICATION');
  if (role.bypassrls) out.push('BYPASSRLS');
  return out;
}

/**
 * Pure: the privileged attributes the run may recreate: those consented to (`request.roleAttributes`), when the
 * target user is a superuser (PostgreSQL 16 would let a CREATEROLE user holding REPLICATION / BYPASSRLS pass them
 * on, but the step does not rely on that).
 */
export function grantableAttributes(
  consent: Request['roleAttributes'],
  targetSuperuser: boolean,
): ReadonlySet<PrivilegedAttribute> {
  if (!targetSuperuser) return new Set();
  return new Set(consent.map((a) => a.toUpperCase() as PrivilegedAttribute));
}

/**
 * The CREATE ROLE statement for a role, without its password (set afterwards, see the module comment). Privileged
 * attributes not in `grantable` are left off and listed in `dropped`. Pure; exported for tests.
 */
export function createRoleSql(
  role: SourceRole,
  grantable: ReadonlySet<PrivilegedAttribute>,
): { sql: string; dropped: PrivilegedAttribute[] } {
  const dropped: PrivilegedAttribute[] = [];
  const attr = (on: boolean, yes: string, no: string) => (on ? yes : no);
  const privileged = (on: boolean, yes: PrivilegedAttribute, no: string) => {
    if (on && !grantable.has(yes)) {
      dropped.push(yes);
      return no;
    }
    return on ? yes : no;
  };
  const parts = [
    privileged(role.superuser, 'SUPERUSER', 'NOSUPERUSER'),
    attr(role.inherit, 'INHERIT', 'NOINHERIT'),
    attr(role.createrole, 'CREATEROLE', 'NOCREATEROLE'),
    attr(role.createdb, 'CREATEDB', 'NOCREATEDB'),
    attr(role.login, 'LOGIN', 'NOLOGIN'),
    privileged(role.replication, 'REPLICATION', 'NOREPLICATION'),
    privileged(role.bypassrls, 'BYPASSRLS', 'NOBYPASSRLS'),
    `CONNECTION LIMIT ${Number(role.connlimit)}`,
  ];
  if (role.validUntil !== null) parts.push(`VALID UNTIL ${quoteLiteral(role.validUntil)}`);
  return { sql: `CREATE ROLE ${quoteIdent(role.name)} ${parts.join(' ')}`, dropped };
}

/** Pure: the role's note for privileged attributes left off, by why. */
export function droppedAttributesNote(
  dropped: readonly PrivilegedAttribute[],
  consent: Request['roleAttributes'],
): string[] {
  const consented = new Set(consent.map((a) => a.toUpperCase()));
  const withoutConsent = dropped.filter((a) => !consented.has(a));
  const notAllowed = dropped.filter((a) => consented.has(a));
  const out: string[] = [];
  if (withoutConsent.length > 0)
    out.push(
      `created without ${withoutConsent.join(', ')} (not consented: --role-attributes ${withoutConsent.map((a) => a.toLowerCase()).join(',')} recreates it)`,
    );
  if (notAllowed.length > 0) out.push(`not granted (the target user may not grant it): ${notAllowed.join(', ')}`);
  return out;
}

async function readSourceRoles(
  client: pg.Client,
): Promise<{ roles: SourceRole[]; members: Membership[]; dbSettings: DbRoleSetting[] }> {
  const { rows: su } = await client.query<{ s: boolean }>(
    'SELECT rolsuper AS s FROM pg_catalog.pg_roles WHERE rolname = current_user',
  );
  const canReadVerifiers = su[0]?.s === true;
  const { rows } = await client.query<Omit<SourceRole, 'verifier' | 'settings'> & { settings: string[] | null }>(`
    SELECT r.rolname AS name, r.rolsuper AS superuser, r.rolinherit AS inherit, r.rolcreaterole AS createrole,
           r.rolcreatedb AS createdb, r.rolcanlogin AS login, r.rolreplication AS replication,
           r.rolbypassrls AS bypassrls, r.rolconnlimit AS connlimit,
           CASE WHEN r.rolvaliduntil IS NULL THEN NULL ELSE pg_catalog.to_char(r.rolvaliduntil AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') END AS "validUntil",
           pg_catalog.shobj_description(r.oid, 'pg_authid') AS comment,
           (SELECT s.setconfig FROM pg_catalog.pg_db_role_setting s WHERE s.setrole = r.oid AND s.setdatabase = 0) AS settings
      FROM pg_catalog.pg_roles r ORDER BY r.rolname`);
  const verifiers = new Map<string, string | null>();
  if (canReadVerifiers) {
    const { rows: pw } = await client.query<{ name: string; password: string | null }>(
      'SELECT rolname AS name, rolpassword AS password FROM pg_catalog.pg_authid',
    );
    for (const r of pw) {
      registerSecret(r.password ?? undefined);
      verifiers.set(r.name, r.password);
    }
  }
  const roles = rows.map((r) => ({
    ...r,
    settings: r.settings ?? [],
    ...(canReadVerifiers ? { verifier: verifiers.get(r.name) ?? null } : {}),
  }));
  const { rows: members } = await client.query<Membership>(`
    SELECT pg_catalog.pg_get_userbyid(m.roleid)::text AS role, pg_catalog.pg_get_userbyid(m.member)::text AS member,
           m.admin_option AS admin
      FROM pg_catalog.pg_auth_members m ORDER BY 1, 2`);
  const { rows: dbSettings } = await client.query<DbRoleSetting>(`
    SELECT pg_catalog.pg_get_userbyid(s.setrole)::text AS role, d.datname::text AS database, s.setconfig
      FROM pg_catalog.pg_db_role_setting s JOIN pg_catalog.pg_database d ON d.oid = s.setdatabase
     WHERE s.setrole <> 0`);
  return { roles, members, dbSettings };
}

interface Membership {
  readonly role: string;
  readonly member: string;
  readonly admin: boolean;
}

interface DbRoleSetting {
  readonly role: string;
  readonly database: string;
  readonly setconfig: string[];
}

/**
 * Creates the source's missing roles on the target. See the module comment. `databases` — the selected databases
 * (the plan's) — decide which roles are needed (`request.roleScope`, core/role-scope.ts).
 *
 * @example
 * ```ts
 * const { results, placeholders } = await migrateRoles(ctx, request, plan.databases.map((d) => d.name));
 * ```
 */
export async function migrateRoles(
  ctx: RunContext,
  request: Request,
  databases: readonly string[],
): Promise<{ results: RoleResult[]; placeholders: { role: string; password: string }[] }> {
  if (!request.roles) return { results: [], placeholders: [] };
  ctx.progress({ kind: 'phase', phase: 'roles' });
  let source: Awaited<ReturnType<typeof readSourceRoles>>;
  let scope: Map<string, string[]>;
  try {
    source = await withClient(ctx.source, ctx.source.database, readSourceRoles);
    scope = rolesInScope(await collectRoleScope(ctx.source, databases), request.roleScope);
  } catch (err) {
    throw classify(err, 'reading the source roles');
  }
  try {
    return await withClient(ctx.target, ctx.target.database, async (client) => {
      await quietSession(client);
      const { rows: me } = await client.query<{ s: boolean }>(
        'SELECT rolsuper AS s FROM pg_catalog.pg_roles WHERE rolname = current_user',
      );
      const grantable = grantableAttributes(request.roleAttributes, me[0]?.s === true);
      const { rows: existingRows } = await client.query<{ name: string }>(
        'SELECT rolname::text AS name FROM pg_catalog.pg_roles',
      );
      const existing = new Set(existingRows.map((r) => r.name));
      const { rows: dbRows } = await client.query<{ name: string }>(
        'SELECT datname::text AS name FROM pg_catalog.pg_database',
      );
      const targetDbs = new Set(dbRows.map((r) => r.name));
      const results: RoleResult[] = [];
      const placeholders: { role: string; password: string }[] = [];
      const created = new Set<string>();
      // A note with a kind is a degradation: it becomes a warning of the role's result as well.
      const notes = new Map<string, { text: string; kind?: WarningKind }[]>();
      const note = (role: string, text: string, kind?: WarningKind) =>
        notes.set(role, [...(notes.get(role) ?? []), { text, ...(kind ? { kind } : {}) }]);

      let notNeeded = 0;
      for (const role of source.roles) {
        if (!scope.has(role.name)) {
          if (!isSystemRole(role.name)) notNeeded++;
          continue;
        }
        if (isSystemRole(role.name)) {
          if (!existing.has(role.name))
            results.push({ name: role.name, status: 'skipped', message: 'a server or provider role' });
          else results.push({ name: role.name, status: 'exists', message: 'already on the target; left alone' });
          continue;
        }
        if (existing.has(role.name)) {
          results.push({ name: role.name, status: 'exists', message: 'already on the target; left alone' });
          continue;
        }
        let password: string | null = null;
        if (role.verifier !== undefined) password = role.verifier;
        else if (role.login) {
          const placeholder = randomPassword();
          registerSecret(placeholder);
          password = scramVerifier(placeholder);
          placeholders.push({ role: role.name, password: placeholder });
          note(
            role.name,
            `a placeholder password was set: reset it with ALTER ROLE ${quoteIdent(role.name)} PASSWORD '…'`,
            'placeholder-password',
          );
        }
        let { sql, dropped } = createRoleSql(role, grantable);
        const notGrantable: string[] = [];
        try {
          try {
            await client.query(sql);
          } catch (err) {
            // Not allowed to hand out CREATEDB / CREATEROLE / privileged attributes (PostgreSQL 16+ CREATEROLE
            // users grant only what they hold): create the role without them and say so.
            const privileged = role.createdb || role.createrole || role.superuser || role.replication || role.bypassrls;
            if ((err as { code?: string }).code !== '42501' || !privileged) throw err;
            ({ sql, dropped } = createRoleSql({ ...role, createdb: false, createrole: false }, new Set()));
            await client.query(sql);
            if (role.createdb) notGrantable.push('CREATEDB');
            if (role.createrole) notGrantable.push('CREATEROLE');
          }
          created.add(role.name);
          if (password !== null) {
            const verifier = password;
            await runWithSecret(
              client,
              (literal) => `ALTER ROLE ${quoteIdent(role.name)} PASSWORD ${literal}`,
              verifier,
            );
          }
          for (const text of droppedAttributesNote(dropped, request.roleAttributes))
            note(role.name, text, 'role-attribute');
          if (notGrantable.length > 0)
            note(
              role.name,
              `not granted (the target user may not grant it): ${notGrantable.join(', ')}`,
              'role-attribute',
            );
          if (role.verifier !== undefined && role.verifier !== null) note(role.name, 'password verifier copied');
        } catch (err) {
          const placeholderIndex = placeholders.findIndex((p) => p.role === role.name);
          if (placeholderIndex >= 0) placeholders.splice(placeholderIndex, 1);
          results.push({
            name: role.name,
            status: 'failed',
            message: describeError(err),
            warnings: [{ kind: 'role', message: `not created: ${describeError(err)}` }],
          });
          ctx.logger.warn('role not created', { role: role.name, error: describeError(err) });
          continue;
        }
        const tryNote = async (what: string, statement: string, kind: WarningKind) => {
          try {
            await client.query(statement);
          } catch (err) {
            note(role.name, `${what} not applied: ${describeError(err)}`, kind);
          }
        };
        for (const entry of role.settings) {
          await tryNote(
            `setting ${entry.split('=')[0]}`,
            `ALTER ROLE ${quoteIdent(role.name)} ${setClause(entry)}`,
            'setting',
          );
        }
        if (role.comment !== null)
          await tryNote(
            'comment',
            `COMMENT ON ROLE ${quoteIdent(role.name)} IS ${quoteLiteral(role.comment)}`,
            'setting',
          );
        results.push({ name: role.name, status: 'created', message: '' });
      }
      for (const m of source.members) {
        if (!created.has(m.member) || (isSystemRole(m.role) && !existing.has(m.role))) continue;
        try {
          await client.query(
            `GRANT ${quoteIdent(m.role)} TO ${quoteIdent(m.member)}${m.admin ? ' WITH ADMIN OPTION' : ''}`,
          );
          // A group that was on the target before the run merely shares the source group's name: say so.
          note(
            m.member,
            `member of ${quoteIdent(m.role)}${m.admin ? ' with admin option' : ''}${created.has(m.role) ? '' : ' (a role that was on the target already)'}`,
          );
        } catch (err) {
          note(m.member, `membership in ${m.role} not granted: ${describeError(err)}`, 'membership');
        }
      }
      for (const s of source.dbSettings) {
        if (!created.has(s.role) || !targetDbs.has(s.database)) continue; // others: when the database is created
        for (const entry of s.setconfig) {
          try {
            await client.query(
              `ALTER ROLE ${quoteIdent(s.role)} IN DATABASE ${quoteIdent(s.database)} ${setClause(entry)}`,
            );
          } catch (err) {
            note(
              s.role,
              `setting ${entry.split('=')[0]} in database ${s.database} not applied: ${describeError(err)}`,
              'setting',
            );
          }
        }
      }
      const final = results.map((r) => {
        const extra = notes.get(r.name);
        if (!extra || r.status !== 'created') return r;
        const warnings: Warning[] = extra.flatMap((n) => (n.kind ? [{ kind: n.kind, message: n.text }] : []));
        return { ...r, message: extra.map((n) => n.text).join('; '), ...(warnings.length > 0 ? { warnings } : {}) };
      });
      ctx.logger.info('roles migrated', {
        scope: request.roleScope,
        notNeeded,
        created: final.filter((r) => r.status === 'created').length,
        exists: final.filter((r) => r.status === 'exists').length,
        failed: final.filter((r) => r.status === 'failed').length,
      });
      return { results: final, placeholders };
    });
  } catch (err) {
    throw classify(err, 'creating roles on the target');
  }
}
