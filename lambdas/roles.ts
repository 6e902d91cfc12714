/**
 * The `Roles` state: creates the source's missing roles on the target — those the plan's databases need, or every
 * role (`request.roleScope`) — once per run. Returns only the RoleResult[] — placeholder passwords never leave the
 * function (each affected role's message says one was set and must be reset with ALTER ROLE).
 */
import { BlockedError, PermanentError } from '../core/errors.js';
import type { Plan } from '../core/plan.js';
import type { RoleResult } from '../core/report.js';
import { parseRequest } from '../core/request.js';
import { migrateRoles } from '../core/steps/roles.js';
import { createRunContext } from './shared/context.js';
import { powertoolsLogger } from './shared/logger.js';

const logger = powertoolsLogger('pg-migrate-roles');

export async function handler(event: {
  request: unknown;
  plan?: Pick<Plan, 'blocked' | 'databases'>;
}): Promise<RoleResult[]> {
  const request = parseRequest(event.request);
  if (!event.plan) throw new PermanentError('internal: the Roles state needs the plan (its selected databases)');
  if (event.plan.blocked) throw new BlockedError('the plan is blocked: no role is created');
  const ctx = await createRunContext(request, logger);
  const { results } = await migrateRoles(
    ctx,
    request,
    event.plan.databases.map((d) => d.name),
  );
  return results;
}
