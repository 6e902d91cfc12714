/**
 * `Report`: everything the run produced → the {@link Report}. Every state outside the Maps catches into this one,
 * its error under `errors.<state>`: the report then names it (`report.error`) and is not ok. With a report store,
 * the full report (every check, every table, from the parts the functions and the task stored) is written there
 * and the state gets the compact one naming it (`reportUri`), plus the report as the JSON cause a failed run's Fail
 * state carries.
 */
import { describeError } from '../core/errors.js';
import type { Plan } from '../core/plan.js';
import type { CheckResult, DatabaseResult, Report, RoleResult } from '../core/report.js';
import { compactReport } from '../core/report-budget.js';
import {
  acceptedKinds,
  actionOf,
  buildReport,
  type CaughtErrors,
  reportCause,
  runErrorFrom,
} from '../core/report-builder.js';
import { fullParts, reportKey } from '../core/report-store.js';
import { powertoolsLogger } from './shared/logger.js';
import { reportStoreFromEnv } from './shared/report-store.js';

const logger = powertoolsLogger();

export interface ReportEvent {
  /**
   * The parsed request, or the raw execution input when ResolveRequest failed. Its `accept` (consented warning
   * kinds) decides whether warnings make `ok` false.
   */
  readonly request?: unknown;
  /** The execution: name and start time. */
  readonly run?: { readonly id?: string; readonly startedAt?: string };
  readonly checks?: readonly (readonly CheckResult[])[] | readonly CheckResult[];
  readonly plan?: Plan;
  readonly roles?: readonly RoleResult[];
  readonly databases?: readonly DatabaseResult[];
  /** The errors caught outside the Maps, by state name. */
  readonly errors?: CaughtErrors;
}

export interface ReportResult {
  readonly report: Report;
  /** The report as JSON, within the Fail cause limit. */
  readonly cause: string;
}

export async function handler(event: ReportEvent): Promise<ReportResult> {
  const error = runErrorFrom(event.errors);
  let report = buildReport({
    action: actionOf(event.request),
    startedAt: event.run?.startedAt ?? '',
    accept: acceptedKinds(event.request),
    ...(event.checks ? { checks: event.checks } : {}),
    ...(event.plan ? { plan: event.plan } : {}),
    ...(event.roles ? { roles: event.roles } : {}),
    ...(event.databases ? { databases: event.databases } : {}),
    ...(error ? { error } : {}),
  });
  const store = reportStoreFromEnv();
  const run = event.run?.id;
  if (store && run !== undefined) {
    // The report comes first: a store that fails costs the full report, never the report.
    try {
      const full = { ...report, ...(await fullParts(store, run, report.checks, report.databases)) };
      report = compactReport(full, await store.put(reportKey(run), JSON.stringify(full)));
    } catch (err) {
      logger.warn('the full report could not be stored; the report carries what the state held', {
        error: describeError(err),
      });
    }
  }
  logger.info('report built', {
    ok: report.ok,
    action: report.action,
    durationMs: report.durationMs,
    ...(report.reportUri ? { reportUri: report.reportUri } : {}),
    ...(error ? { failedState: error.state, error: error.name } : {}),
  });
  return { report, cause: reportCause(report) };
}
