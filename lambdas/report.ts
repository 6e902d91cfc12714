/**
 * `Report`: everything the run produced → the {@link Report} (the execution's output), plus the report as the JSON
 * cause a failed run's Fail state carries. Every state outside the Maps catches into this one, its error under
 * `errors.<state>`: the report then names it (`report.error`) and is not ok.
 */
import type { Plan } from '../core/plan.js';
import type { CheckResult, DatabaseResult, Report, RoleResult } from '../core/report.js';
import {
  acceptedKinds,
  actionOf,
  buildReport,
  type CaughtErrors,
  reportCause,
  runErrorFrom,
} from '../core/report-builder.js';
import { powertoolsLogger } from './shared/logger.js';

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

export function handler(event: ReportEvent): Promise<ReportResult> {
  return Promise.resolve().then(() => {
    const error = runErrorFrom(event.errors);
    const report = buildReport({
      action: actionOf(event.request),
      startedAt: event.run?.startedAt ?? '',
      accept: acceptedKinds(event.request),
      ...(event.checks ? { checks: event.checks } : {}),
      ...(event.plan ? { plan: event.plan } : {}),
      ...(event.roles ? { roles: event.roles } : {}),
      ...(event.databases ? { databases: event.databases } : {}),
      ...(error ? { error } : {}),
    });
    logger.info('report built', {
      ok: report.ok,
      action: report.action,
      durationMs: report.durationMs,
      ...(error ? { failedState: error.state, error: error.name } : {}),
    });
    return { report, cause: reportCause(report) };
  });
}
