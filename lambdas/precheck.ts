/**
 * `PreChecks` branch: `{ check, request, run }` → that check's `CheckResult[]`. One invocation per check id; a server
 * problem is a result, not an error. For RDS targets (`targetRdsInstanceId`) free storage comes from CloudWatch.
 * The full results go to the report store, the state gets them compact (lists cut: the payload budget).
 */
import { type CheckId, runCheck } from '../core/checks/index.js';
import type { CheckResult } from '../core/report.js';
import { parseRequest } from '../core/request.js';
import { rdsFreeStorage } from './shared/cloudwatch.js';
import { createRunContext } from './shared/context.js';
import { powertoolsLogger } from './shared/logger.js';
import { keepCheckResults } from './shared/payload.js';

const logger = powertoolsLogger();

export interface PrecheckEvent {
  readonly check: CheckId;
  readonly request: unknown;
  /** The run (its id keys the report store). */
  readonly run?: { readonly id?: string };
}

export async function handler(event: PrecheckEvent): Promise<CheckResult[]> {
  const request = parseRequest(event.request);
  const ctx = await createRunContext(request, logger, {
    ...(request.targetRdsInstanceId ? { targetFreeBytes: rdsFreeStorage(request.targetRdsInstanceId, logger) } : {}),
  });
  const results = await runCheck(event.check, request, ctx);
  logger.info('check finished', { check: event.check, statuses: results.map((r) => r.status) });
  return keepCheckResults(results, event.run?.id);
}
