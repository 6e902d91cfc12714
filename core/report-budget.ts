/**
 * The payload budget: what the workflow's state carries of a result, so that every state stays far below Step
 * Functions' 256 KiB limit whatever the number of tables. Per-table and per-object lists go to the report store;
 * the state keeps counts, mismatches (a few) and warnings. Pure.
 *
 * @example
 * ```ts
 * return compactDatabaseResult(result, databaseKey(run, result.name, 'migrate'));
 * ```
 */
import type { CheckResult, DatabaseResult, Report } from './report.js';

/** Items of a list kept in the state (check details, mismatching tables). */
export const MAX_LIST_ITEMS = 20;
/** Characters of a message kept in the state. */
export const MAX_MESSAGE_CHARS = 2_000;

function cap(text: string, max = MAX_MESSAGE_CHARS): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * A check result with its details' lists cut to {@link MAX_LIST_ITEMS} (the full list is in the report store);
 * `details.truncated` gives each cut list's full length.
 */
export function compactCheckResult(result: CheckResult): CheckResult {
  const compact: CheckResult = { ...result, message: cap(result.message), remedy: cap(result.remedy) };
  if (!result.details) return compact;
  const details: Record<string, unknown> = {};
  const truncated: Record<string, number> = {};
  for (const [key, value] of Object.entries(result.details)) {
    if (Array.isArray(value) && value.length > MAX_LIST_ITEMS) {
      details[key] = value.slice(0, MAX_LIST_ITEMS);
      truncated[key] = value.length;
    } else details[key] = value;
  }
  if (Object.keys(truncated).length > 0) details.truncated = truncated;
  return { ...compact, details };
}

/**
 * A database result as the state carries it: the per-table verification cut to the mismatching tables (at most
 * {@link MAX_LIST_ITEMS}), with `verifiedTables` counting them all; `detail` names where the full result is.
 * Warnings stay: they are few, and they decide the exit code.
 */
export function compactDatabaseResult(result: DatabaseResult, detail?: string): DatabaseResult {
  const verification = result.verification;
  const mismatches = verification?.filter((t) => !t.ok).slice(0, MAX_LIST_ITEMS);
  const { verification: _verification, ...rest } = result;
  return {
    ...rest,
    message: cap(result.message),
    ...(verification ? { verification: mismatches ?? [], verifiedTables: verification.length } : {}),
    ...(detail !== undefined ? { detail } : {}),
  };
}

/** A report as the execution's output carries it (`reportUri` names the full one). */
export function compactReport(report: Report, reportUri?: string): Report {
  return {
    ...report,
    checks: report.checks.map(compactCheckResult),
    databases: report.databases.map((d) => compactDatabaseResult(d, d.detail)),
    ...(reportUri !== undefined ? { reportUri } : {}),
  };
}
