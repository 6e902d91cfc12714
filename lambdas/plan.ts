/**
 * `Plan`: the pre-checks' results → the {@link Plan} (per database the method; the blockers). Pure. Takes the two
 * phases' results (`serverChecks` from ServerChecks, `databaseChecks` from the DatabaseChecks Map), merged here
 * (core/checks/index.ts `mergeCheckResults`), or results already grouped per check (`checks`).
 */
import { mergeCheckResults } from '../core/checks/index.js';
import { buildPlan, type Plan } from '../core/plan.js';
import type { CheckResult } from '../core/report.js';
import { parseRequest } from '../core/request.js';
import { powertoolsLogger } from './shared/logger.js';

const logger = powertoolsLogger();

export interface PlanEvent {
  readonly request: unknown;
  readonly serverChecks?: readonly CheckResult[];
  readonly databaseChecks?: readonly (readonly CheckResult[])[];
  readonly checks?: readonly (readonly CheckResult[])[];
}

export function handler(event: PlanEvent): Promise<Plan> {
  return Promise.resolve().then(() => {
    const request = parseRequest(event.request);
    const checks = event.checks ?? mergeCheckResults([event.serverChecks ?? [], ...(event.databaseChecks ?? [])]);
    const plan = buildPlan(request, checks);
    logger.info('plan built', {
      blocked: plan.blocked,
      blockers: plan.blockers.map((b) => b.id),
      databases: plan.databases.map((d) => ({ name: d.name, method: d.method })),
    });
    return plan;
  });
}
