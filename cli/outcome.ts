/**
 * How a run ended, and the exit code that says so: 0 success; 1 at least one database failed, or a warning the
 * user did not accept (`--accept`); 2 stopped before writing anything (bad input, a blocking pre-check); 130
 * interrupted (Ctrl-C).
 */
import { causeMessage, ERROR_NAMES, MigrationError } from '../core/errors.js';
import type { Report } from '../core/report.js';

/** The error of the Fail state a run with `report.ok == false` ends in; its cause is the report JSON. */
export const RUN_FAILED_ERROR = 'PgMigrate.RunFailed';

export type Outcome =
  /** The run produced a report (execution succeeded, or failed with `PgMigrate.RunFailed`). */
  | { readonly kind: 'report'; readonly report: Report }
  /** The execution failed without a report (`error` is what Catch would match; `cause` is for people). */
  | { readonly kind: 'error'; readonly error: string; readonly cause: string }
  /** Ctrl-C / StopExecution. */
  | { readonly kind: 'interrupted' };

export const EXIT = { ok: 0, failed: 1, stoppedBeforeWriting: 2, interrupted: 130 } as const;

/**
 * True when the report says nothing was written: a blocked plan (a failing check, no database attempted), or a
 * request that was rejected (a step failed with PgMigrate.BadInput / PgMigrate.Blocked).
 */
export function stoppedBeforeWriting(report: Report): boolean {
  if (report.ok) return false;
  if (report.error) return report.error.name === ERROR_NAMES.badInput || report.error.name === ERROR_NAMES.blocked;
  if (report.action === 'check') return true;
  const blockedByCheck = report.checks.some((c) => c.status === 'fail');
  const nothingAttempted = report.databases.every((d) => d.status === 'skipped');
  return blockedByCheck && nothingAttempted;
}

/** The exit code for an outcome. */
export function exitCodeFor(outcome: Outcome): number {
  switch (outcome.kind) {
    case 'interrupted':
      return EXIT.interrupted;
    case 'report':
      if (outcome.report.ok) return EXIT.ok;
      return stoppedBeforeWriting(outcome.report) ? EXIT.stoppedBeforeWriting : EXIT.failed;
    case 'error':
      return outcome.error === ERROR_NAMES.badInput || outcome.error === ERROR_NAMES.blocked
        ? EXIT.stoppedBeforeWriting
        : EXIT.failed;
  }
}

/** The exit code for an exception thrown before or around a run (bad input → 2). */
export function exitCodeForError(err: unknown): number {
  if (err instanceof MigrationError && (err.code === 'BAD_INPUT' || err.code === 'BLOCKED'))
    return EXIT.stoppedBeforeWriting;
  if (err instanceof MigrationError && err.code === 'ABORTED') return EXIT.interrupted;
  return EXIT.failed;
}

function isReport(value: unknown): value is Report {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.ok === 'boolean' &&
    typeof v.action === 'string' &&
    Array.isArray(v.checks) &&
    Array.isArray(v.roles) &&
    Array.isArray(v.databases)
  );
}

/** The outcome of an execution that succeeded with `output`. */
export function outcomeFromOutput(output: unknown): Outcome {
  if (isReport(output)) return { kind: 'report', report: output };
  // Some machines end with the report under `report` (ResultPath) — accept that shape too.
  const nested = (output as { report?: unknown } | null)?.report;
  if (isReport(nested)) return { kind: 'report', report: nested };
  return { kind: 'error', error: 'PgMigrate.NoReport', cause: 'the execution succeeded but returned no report' };
}

/**
 * The outcome of an execution that failed with `error` / `cause`. Every run the workflow ends on purpose carries its
 * report as the cause (RunFailed, RunErrored, ReportFailed); other failures (States.DataLimitExceeded, an abort)
 * have none.
 */
export function outcomeFromFailure(error: string, cause: string): Outcome {
  if (cause.trimStart().startsWith('{')) {
    try {
      const report: unknown = JSON.parse(cause);
      if (isReport(report)) return { kind: 'report', report };
    } catch {
      // fall through: not a report
    }
  }
  return { kind: 'error', error, cause: causeMessage(cause) };
}

/** One line for people about an outcome that is not a report. */
export function describeOutcomeError(outcome: Extract<Outcome, { kind: 'error' }>): string {
  return `${outcome.error}: ${outcome.cause}`;
}
