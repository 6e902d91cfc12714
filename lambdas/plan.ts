/**
 * `Plan`: `{ request, checks }` → the {@link Plan} (per database the method; the blockers). Pure. The state holds
 * the checks already (`$.checks`): the plan it gets back leaves them out.
 */
import { buildPlan, type Plan } from '../core/plan.js';
import type { CheckResult } from '../core/report.js';
import { parseRequest } from '../core/request.js';
import { powertoolsLogger } from './shared/logger.js';

const logger = powertoolsLogger();

export interface PlanEvent {
  readonly request: unknown;
  readonly checks: readonly (readonly CheckResult[])[];
}

export function handler(event: PlanEvent): Promise<Plan> {
  return Promise.resolve().then(() => {
    const plan = buildPlan(parseRequest(event.request), event.checks);
    logger.info('plan built', {
      blocked: plan.blocked,
      blockers: plan.blockers.map((b) => b.id),
      databases: plan.databases.map((d) => ({ name: d.name, method: d.method })),
    });
    return { ...plan, checks: [] };
  });
}
