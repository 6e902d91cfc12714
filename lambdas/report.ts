/**
 * `Report`: everything the run produced → the {@link Report} (the execution's output), plus the report as the JSON
 * cause a failed run's Fail state carries.
 */
import type { Plan } from '../core/plan.js';
import type { Action, CheckResult, DatabaseResult, Report, RoleResult } from '../core/report.js';
import { acceptedKinds, buildReport, reportCause } from '../core/report-builder.js';
import { powertoolsLogger } from './shared/logger.js';

const logger = powertoolsLogger();

export interface ReportEvent {
  readonly action: Action;
  /** The parsed request: its `accept` (consented warning kinds) decides whether warnings make `ok` false. */
  readonly request?: unknown;
  readonly startedAt: string;
  readonly checks?: readonly (readonly CheckResult[])[] | readonly CheckResult[];
  readonly plan?: Plan;
  readonly roles?: readonly RoleResult[];
  readonly databases?: readonly DatabaseResult[];
}

export interface ReportResult {
  readonly report: Report;
  /** The report as JSON, within the Fail cause limit. */
  readonly cause: string;
}

export function handler(event: ReportEvent): Promise<ReportResult> {
  return Promise.resolve().then(() => {
    const report = buildReport({
      action: event.action,
      startedAt: event.startedAt,
      accept: acceptedKinds(event.request),
      ...(event.checks ? { checks: event.checks } : {}),
      ...(event.plan ? { plan: event.plan } : {}),
      ...(event.roles ? { roles: event.roles } : {}),
      ...(event.databases ? { databases: event.databases } : {}),
    });
    logger.info('report built', { ok: report.ok, action: report.action, durationMs: report.durationMs });
    return { report, cause: reportCause(report) };
  });
}
