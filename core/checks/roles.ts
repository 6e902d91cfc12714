/**
 * `roles`: the source's roles that the run would create on the target (the roles step, core/steps/roles.ts, does
 * the work; this check predicts what it will do): by default only those the selected databases need
 * (core/role-scope.ts, the same module the step asks), every role with `--roles all`. Fails when roles are missing
 * on the target and the target user cannot create roles at all. Warns about server / provider roles (`pg_*`,
 * `rds*`, `cloudsql*`, `azure_*`, `aiven*`, `alloydb*`, …: skipped, see `isSystemRole`), about SUPERUSER /
 * REPLICATION / BYPASSRLS left off without consent (`--role-attributes`, `details.withoutConsent`) or because the
 * target user is not a superuser (`details.withoutAttributes`), and about password hashes a non-superuser source
 * user cannot read (placeholder passwords). Skipped when the request says `roles: false`.
 */
import type { CheckResult } from '../report.js';
import type { Request } from '../request.js';
import { isSystemRole } from '../steps/roles.js';
import { defineCheck, need, result } from './check.js';
import type { SourceRole } from './collect.js';
import { listNames, type ServerFacts } from './facts.js';

export type { SourceRole } from './collect.js';

export interface RolesFacts {
  readonly sourceRoles: readonly SourceRole[];
  readonly sourceUser: ServerFacts;
  readonly targetRoles: readonly string[];
  readonly targetUser: ServerFacts;
  /** The roles the selected databases need (`--roles needed`); undefined: every role. */
  readonly needed?: readonly string[];
}

/**
 * Pure: the privileged attributes of `role` the run will leave off. The roles step (core/steps/roles.ts) grants
 * SUPERUSER, REPLICATION and BYPASSRLS only when the target user is a superuser (PostgreSQL 16 would let a
 * CREATEROLE user holding REPLICATION / BYPASSRLS pass them on, but the step does not rely on that).
 */
export function attributesNotGrantable(role: SourceRole, target: Pick<ServerFacts, 'superuser'>): string[] {
  if (target.superuser) return [];
  const out: string[] = [];
  if (role.superuser) out.push('SUPERUSER');
  if (role.replication) out.push('REPLICATION');
  if (role.bypassRls) out.push('BYPASSRLS');
  return out;
}

/** Pure: the privileged attributes of `role` left off because the request does not consent to them. */
export function attributesWithoutConsent(role: SourceRole, consent: Request['roleAttributes']): string[] {
  const out: string[] = [];
  if (role.superuser && !consent.includes('superuser')) out.push('SUPERUSER');
  if (role.replication && !consent.includes('replication')) out.push('REPLICATION');
  if (role.bypassRls && !consent.includes('bypassrls')) out.push('BYPASSRLS');
  return out;
}

export function evaluateRoles(
  facts: RolesFacts | undefined,
  request: { readonly roles: boolean; readonly roleAttributes?: Request['roleAttributes'] },
): CheckResult[] {
  if (!request.roles || !facts) {
    return [
      result('roles', 'skip', 'roles are not migrated (--no-roles)', {
        remedy: 'create the roles the objects need on the target yourself',
      }),
    ];
  }
  const existing = new Set(facts.targetRoles);
  const needed = facts.needed ? new Set(facts.needed) : undefined;
  const inScope = facts.sourceRoles.filter((r) => !needed || needed.has(r.name));
  // Server and provider roles are never created: only the others count as left out.
  const notNeeded = facts.sourceRoles.filter((r) => !isSystemRole(r.name) && !inScope.includes(r)).length;
  const reserved = inScope.filter((r) => isSystemRole(r.name) && !existing.has(r.name)).map((r) => r.name);
  const toCreate = inScope.filter((r) => !isSystemRole(r.name) && !existing.has(r.name));
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
  const consent = request.roleAttributes ?? [];
  const withoutConsent: Record<string, string[]> = {};
  const withoutAttributes: Record<string, string[]> = {};
  for (const role of toCreate) {
    const unconsented = attributesWithoutConsent(role, consent);
    if (unconsented.length > 0) withoutConsent[role.name] = unconsented;
    const lost = attributesNotGrantable(role, target).filter((a) => !unconsented.includes(a));
    if (lost.length > 0) withoutAttributes[role.name] = lost;
  }
  const unconsentedNames = Object.keys(withoutConsent);
  if (unconsentedNames.length > 0) {
    const wanted = [...new Set(Object.values(withoutConsent).flat())].map((a) => a.toLowerCase());
    out.push(
      result(
        'roles',
        'warn',
        `privileged attributes are not recreated without consent: ${unconsentedNames.map((n) => `${n} (${withoutConsent[n]!.join(', ')})`).join('; ')} will be created without them`,
        {
          remedy: `pass --role-attributes ${wanted.join(',')} to recreate them (with a superuser on the target), or grant them afterwards where they are really needed`,
          details: { withoutConsent },
        },
      ),
    );
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
        `the source user "${facts.sourceUser.user}" is not superuser and cannot read password hashes: login roles get a random placeholder password`,
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
      `${toCreate.length} role(s) to create on the target${toCreate.length > 0 ? ` (${listNames(toCreate.map((r) => r.name))})` : ''}, ${inScope.filter((r) => !isSystemRole(r.name) && existing.has(r.name)).length} exist already${needed ? `; ${notNeeded} role(s) of the source are not needed by the selected databases and are left out (--roles all takes every role)` : ''}`,
      {
        details: { create: toCreate.map((r) => r.name), ...(needed ? { notNeeded } : {}) },
      },
    ),
  );
  return out;
}

export const rolesCheck = defineCheck<RolesFacts | undefined>({
  id: 'roles',
  server: {
    // Read on the server phase's sessions (core/checks/collect.ts), the role scope included (core/role-scope.ts).
    select: (facts, request) => {
      if (!request.roles || !facts.source.roles || !facts.target.roles) return undefined;
      return {
        sourceRoles: need(facts.source.roles, 'the source'),
        sourceUser: need(facts.source.server, 'the source'),
        targetRoles: need(facts.target.roles, 'the target'),
        targetUser: need(facts.target.server, 'the target'),
        ...(facts.source.roleScope ? { needed: need(facts.source.roleScope, 'the source') } : {}),
      };
    },
    evaluate: evaluateRoles,
  },
});
