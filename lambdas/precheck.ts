/**
 * The pre-check Lambda, in the shape of the session plan (core/checks/index.ts):
 * - `{ phase: 'server', request }` → {@link ServerChecksOutput}: server-level facts on one session per server, the
 *   server parts of the checks, the databases to visit and the facts they need;
 * - `{ phase: 'database', request, database, shared }` → that database's `CheckResult[]` on one session per server;
 * - `{ check, request }` → one check's results (both phases in this invocation).
 * A server problem is a result, not an error. For RDS targets (`targetRdsInstanceId`, or the target ref's
 * `dbInstanceIdentifier`) free storage comes from CloudWatch.
 * The phases return their results whole (the Plan merges them and keeps them in the report store); a single check's
 * results go to the store and come back compact.
 */
import {
  type CheckId,
  type DatabaseItem,
  runCheck,
  runDatabaseChecks,
  runServerChecks,
  type ServerChecksOutput,
  type SharedFacts,
} from '../core/checks/index.js';
import type { CheckResult } from '../core/report.js';
import { parseRequest } from '../core/request.js';
import { rdsFreeStorage } from './shared/cloudwatch.js';
import { createRunContext } from './shared/context.js';
import { powertoolsLogger } from './shared/logger.js';
import { targetRdsInstance } from './shared/rds.js';
import { keepCheckResults } from './shared/payload.js';

const logger = powertoolsLogger();

export interface ServerPhaseEvent {
  readonly phase: 'server';
  readonly request: unknown;
}
export interface DatabasePhaseEvent {
  readonly phase: 'database';
  readonly request: unknown;
  readonly database: DatabaseItem;
  readonly shared: SharedFacts;
}
export interface SingleCheckEvent {
  readonly check: CheckId;
  readonly request: unknown;
  /** The run (its id keys the report store). */
  readonly run?: { readonly id?: string };
}
export type PrecheckEvent = ServerPhaseEvent | DatabasePhaseEvent | SingleCheckEvent;

export function handler(event: ServerPhaseEvent): Promise<ServerChecksOutput>;
export function handler(event: DatabasePhaseEvent | SingleCheckEvent): Promise<CheckResult[]>;
export async function handler(event: PrecheckEvent): Promise<ServerChecksOutput | CheckResult[]> {
  const request = parseRequest(event.request);
  const instance = targetRdsInstance(request);
  const ctx = await createRunContext(request, logger, {
    ...(instance !== undefined ? { targetFreeBytes: rdsFreeStorage(instance, logger) } : {}),
  });
  if ('check' in event) {
    const results = await runCheck(event.check, request, ctx);
    logger.info('check finished', { check: event.check, statuses: results.map((r) => r.status) });
    return keepCheckResults(results, event.run?.id);
  }
  if (event.phase === 'server') {
    const out = await runServerChecks(request, ctx);
    logger.info('server checks finished', {
      databases: out.databases.length,
      failed: out.results.filter((r) => r.status === 'fail').length,
    });
    return out;
  }
  const results = await runDatabaseChecks(request, ctx, event.database, event.shared);
  logger.info('database checks finished', { database: event.database.name, statuses: results.map((r) => r.status) });
  return results;
}
