/**
 * `Plan`: the pre-checks' results → the {@link Plan} (per database the method; the blockers). Takes the two
 * phases' results (`serverChecks` from ServerChecks, `databaseChecks` from the DatabaseChecks Map), merged here
 * (core/checks/index.ts `mergeCheckResults`), or results already grouped per check (`checks`). The merged results
 * go to the report store in full (one object per check id, as the Report reads them back) and stay in the plan
 * compact (the payload budget).
 */
import { mergeCheckResults } from '../core/checks/index.js';
import { buildPlan, type Plan } from '../core/plan.js';
import type { CheckResult } from '../core/report.js';
import { parseRequest } from '../core/request.js';
import { powertoolsLogger } from './shared/logger.js';
import { keepCheckResults } from './shared/payload.js';

const logger = powertoolsLogger();

export interface PlanEvent {
  readonly request: unknown;
  /** The run (its id keys the report store). */
  readonly run?: { readonly id?: string };
  readonly serverChecks?: readonly CheckResult[];
  readonly databaseChecks?: readonly (readonly CheckResult[])[];
  readonly checks?: readonly (readonly CheckResult[])[];
}

export function handler(event: PlanEvent): Promise<Plan> {
  return Promise.resolve().then(async () => {
    const request = parseRequest(event.request);
    const checks = event.checks ?? mergeCheckResults([event.serverChecks ?? [], ...(event.databaseChecks ?? [])]);
    const plan = buildPlan(request, checks);
    logger.info('plan built', {
      blocked: plan.blocked,
      blockers: plan.blockers.map((b) => b.id),
      databases: plan.databases.map((d) => ({ name: d.name, method: d.method })),
    });
    return { ...plan, checks: await keepCheckResults(plan.checks, event.run?.id) };
  });
}
