/**
 * `roles`: the source's roles that the run would create on the target. Fails when roles are missing on the target
 * and the target user cannot create roles at all. Warns about reserved names (`pg_*`, `rds*`, `cloudsql*`,
 * `azure*`, `aiven*`, `alloydb*`: skipped), about attributes the target user may not grant (SUPERUSER;
 * REPLICATION and BYPASSRLS need superuser before 16 and the attribute itself from 16 on: the role is created
 * without them, listed in `details.withoutAttributes`), and about passwords a non-superuser source user cannot read.
 * Skipped when the request says `roles: false`.
 */
import type { CheckResult } from '../report.js';
import { defineCheck, result } from './check.js';
import { collectServerFacts, listNames, majorOf, queryRows, type ServerFacts } from './facts.js';

export interface SourceRole {
  readonly name: string;
  readonly superuser: boolean;
  readonly replication: boolean;
  readonly bypassRls: boolean;
}

export interface RolesFacts {
  readonly sourceRoles: readonly SourceRole[];
  readonly sourceUser: ServerFacts;
  readonly targetRoles: readonly string[];
  readonly targetUser: ServerFacts;
}

/** Role names providers and PostgreSQL reserve: never created by the run. */
export const RESERVED_ROLE_PATTERN = /^(pg_|rds|cloudsql|azure|aiven|alloydb)/;

/** Pure: the attributes of `role` the target user may not grant. */
export function attributesNotGrantable(
  role: SourceRole,
  target: Pick<ServerFacts, 'superuser' | 'replication' | 'bypassRls' | 'versionNum'>,
): string[] {
  if (target.superuser) return [];
  const v16 = majorOf(target.versionNum) >= 16;
  const out: string[] = [];
  if (role.superuser) out.push('SUPERUSER');
  if (role.replication && !(v16 && target.replication)) out.push('REPLICATION');
  if (role.bypassRls && !(v16 && target.bypassRls)) out.push('BYPASSRLS');
  return out;
}

export function evaluateRoles(facts: RolesFacts | undefined, request: { roles: boolean }): CheckResult[] {
  if (!request.roles || !facts) {
    return [
      result('roles', 'skip', 'roles are not migrated (--no-roles)', {
        remedy: 'create the roles the objects need on the target yourself',
      }),
    ];
  }
  const existing = new Set(facts.targetRoles);
  const reserved = facts.sourceRoles
    .filter((r) => RESERVED_ROLE_PATTERN.test(r.name) && !existing.has(r.name))
    .map((r) => r.name);
  const toCreate = facts.sourceRoles.filter((r) => !RESERVED_ROLE_PATTERN.test(r.name) && !existing.has(r.name));
  const out: CheckResult[] = [];
  const target = facts.targetUser;
  if (toCreate.length > 0 && !target.superuser && !target.createRole) {
    out.push(
      result(
        'roles',
        'fail',
        `${toCreate.length} role(s) of the source are missing on the target and the target user "${target.user}" cannot create roles: ${listNames(toCreate.map((r) => r.name))}`,
        {
          remedy: `ALTER ROLE ${target.user} CREATEROLE on the target (or connect as a superuser), create those roles yourself, or pass --no-roles`,
          details: { missing: toCreate.map((r) => r.name) },
        },
      ),
    );
    return out;
  }
  const withoutAttributes: Record<string, string[]> = {};
  for (const role of toCreate) {
    const lost = attributesNotGrantable(role, target);
    if (lost.length > 0) withoutAttributes[role.name] = lost;
  }
  const lostNames = Object.keys(withoutAttributes);
  if (lostNames.length > 0) {
    out.push(
      result(
        'roles',
        'warn',
        `the target user "${target.user}" may not grant every attribute: ${lostNames.map((n) => `${n} (${withoutAttributes[n]!.join(', ')})`).join('; ')} will be created without them`,
        {
          remedy: 'connect to the target as a superuser to keep them, or grant them afterwards',
          details: { withoutAttributes },
        },
      ),
    );
  }
  if (reserved.length > 0) {
    out.push(
      result('roles', 'warn', `reserved role name(s) are not created on the target: ${listNames(reserved)}`, {
        remedy: "nothing to do unless objects depend on them: grant the target provider's equivalent roles afterwards",
        details: { reserved },
      }),
    );
  }
  if (!facts.sourceUser.superuser && toCreate.length > 0) {
    out.push(
      result(
        'roles',
        'warn',
        `the source user "${facts.sourceUser.user}" is not superuser and cannot read password hashes: roles are created without passwords`,
        {
          remedy:
            'set the passwords on the target afterwards (ALTER ROLE … PASSWORD), or run the check as a superuser of the source',
        },
      ),
    );
  }
  out.unshift(
    result(
      'roles',
      'pass',
      `${toCreate.length} role(s) to create on the target${toCreate.length > 0 ? ` (${listNames(toCreate.map((r) => r.name))})` : ''}, ${facts.sourceRoles.filter((r) => !RESERVED_ROLE_PATTERN.test(r.name) && existing.has(r.name)).length} exist already`,
      {
        details: { create: toCreate.map((r) => r.name) },
      },
    ),
  );
  return out;
}

export const rolesCheck = defineCheck<RolesFacts | undefined>({
  id: 'roles',
  async collect(ctx, request) {
    if (!request.roles) return undefined;
    const [sourceRoles, sourceUser, targetRoles, targetUser] = await Promise.all([
      queryRows<SourceRole>(
        ctx.source,
        ctx.source.database,
        request,
        'SELECT rolname AS name, rolsuper AS superuser, rolreplication AS replication, rolbypassrls AS "bypassRls" FROM pg_catalog.pg_roles ORDER BY 1',
      ),
      collectServerFacts(ctx.source, request),
      queryRows<{ name: string }>(
        ctx.target,
        ctx.target.database,
        request,
        'SELECT rolname AS name FROM pg_catalog.pg_roles',
      ),
      collectServerFacts(ctx.target, request),
    ]);
    return { sourceRoles, sourceUser, targetRoles: targetRoles.map((r) => r.name), targetUser };
  },
  evaluate: evaluateRoles,
});
