/**
 * Builds the {@link Report} every action returns, from whatever the run has produced so far.
 *
 * @example
 * ```ts
 * const report = buildReport({ action: 'check', startedAt: '2026-01-01T00:00:00Z', checks, plan });
 * ```
 */
import { causeMessage } from './errors.js';
import type { Plan } from './plan.js';
import type {
  Action,
  CheckResult,
  DatabaseResult,
  Report,
  RoleResult,
  RunError,
  RunWarning,
  ServerInfo,
} from './report.js';
import { ACTIONS } from './request.js';
import { isWarningKind, type Warning, withConsent } from './warnings.js';

export interface ReportInput {
  readonly action: Action;
  /** ISO timestamp of the run's start. */
  readonly startedAt: string;
  readonly checks?: readonly (readonly CheckResult[])[] | readonly CheckResult[];
  readonly plan?: Plan;
  readonly roles?: readonly RoleResult[];
  readonly databases?: readonly DatabaseResult[];
  readonly source?: ServerInfo;
  readonly target?: ServerInfo;
  /** The warning kinds the user consented to (`request.accept`): those do not make `ok` false. @default [] */
  readonly accept?: readonly string[];
  /** A step outside the databases that failed: the run is not ok. */
  readonly error?: RunError;
  /** For tests: the current time. @default Date.now() */
  readonly now?: number;
}

function flatten(checks: ReportInput['checks']): CheckResult[] {
  if (!checks) return [];
  return (checks as readonly (CheckResult | readonly CheckResult[])[]).flatMap((c) =>
    Array.isArray(c) ? (c as readonly CheckResult[]) : [c as CheckResult],
  );
}

/** Host, port and version from a connection check's `details` (never credentials). */
export function serverInfoFrom(
  checks: readonly CheckResult[],
  id: 'connection-source' | 'connection-target',
): ServerInfo | undefined {
  const d = checks.find((c) => c.id === id && c.status === 'pass')?.details;
  if (!d || typeof d.host !== 'string' || typeof d.port !== 'number' || typeof d.version !== 'string') return undefined;
  return { host: d.host, port: d.port, version: d.version };
}

/** The consented warning kinds of a request as the workflow passes it (untrusted: unknown entries are ignored). */
export function acceptedKinds(request: unknown): string[] {
  const accept = (request as { accept?: unknown } | null | undefined)?.accept;
  return Array.isArray(accept) ? accept.filter(isWarningKind) : [];
}

/** Every warning of a report (run-level and per database) that the user did not consent to. */
export function unacceptedWarnings(report: Pick<Report, 'warnings' | 'databases'>): Warning[] {
  return [...report.warnings, ...report.databases.flatMap((d) => d.warnings ?? [])].filter((w) => w.accepted !== true);
}

/**
 * `ok` is true when no check blocks (a `fail` not marked `details.replicationOnly`, or the plan is blocked) and,
 * for actions that migrate, no database failed, no step of the run failed (`error`) and (`migrate`, `cutover`)
 * every warning is of a kind the user consented to (`accept`).
 */
export function buildReport(input: ReportInput): Report {
  const flat = flatten(input.checks);
  const checks = flat.length > 0 ? flat : [...(input.plan?.checks ?? [])];
  const blocked = input.plan
    ? input.plan.blocked
    : checks.some((c) => c.status === 'fail' && c.details?.replicationOnly !== true);
  const accept = input.accept ?? [];
  const databases = (input.databases ?? []).map((d) =>
    d.warnings && d.warnings.length > 0 ? { ...d, warnings: withConsent(d.warnings, accept) } : d,
  );
  const roles = [...(input.roles ?? [])];
  const warnings: RunWarning[] = roles.flatMap((r) =>
    withConsent(r.warnings, accept).map((w) => ({ ...w, role: r.name })),
  );
  // Warnings count against `migrate` and `cutover`, the actions that write.
  const degraded =
    (input.action === 'migrate' || input.action === 'cutover') &&
    unacceptedWarnings({ warnings, databases }).length > 0;
  const ok =
    input.error === undefined &&
    (input.action === 'check' ? !blocked : !blocked && databases.every((d) => d.status !== 'failed') && !degraded);
  const started = Date.parse(input.startedAt);
  const durationMs = Number.isNaN(started) ? 0 : Math.max(0, (input.now ?? Date.now()) - started);
  const source = input.source ?? serverInfoFrom(checks, 'connection-source');
  const target = input.target ?? serverInfoFrom(checks, 'connection-target');
  return {
    ok,
    action: input.action,
    durationMs,
    ...(source ? { source } : {}),
    ...(target ? { target } : {}),
    checks,
    roles,
    databases,
    warnings,
    ...(input.error ? { error: input.error } : {}),
  };
}

/** Errors as Step Functions catches them (`{ Error, Cause }`), by the state that failed. */
export type CaughtErrors = Readonly<Record<string, { readonly Error?: unknown; readonly Cause?: unknown } | undefined>>;

/** The first caught error as the report's {@link RunError}; undefined when nothing failed. */
export function runErrorFrom(errors: CaughtErrors | undefined): RunError | undefined {
  for (const [state, caught] of Object.entries(errors ?? {})) {
    if (!caught) continue;
    const name = typeof caught.Error === 'string' && caught.Error !== '' ? caught.Error : 'States.TaskFailed';
    const cause = typeof caught.Cause === 'string' ? caught.Cause : undefined;
    return { state, name, message: causeMessage(cause).slice(0, 4000) };
  }
  return undefined;
}

/** The action a request names, also when it did not parse (then `check`, the action that writes nothing). */
export function actionOf(request: unknown): Action {
  const action = (request as { action?: unknown } | null)?.action;
  return typeof action === 'string' && (ACTIONS as readonly string[]).includes(action) ? (action as Action) : 'check';
}

/** Step Functions caps a Fail state's cause at 32,768 characters. */
export const MAX_CAUSE_CHARS = 32_000;

/**
 * The report as the JSON cause of the Fail state a failed run ends in. Built in the Report Lambda (not with
 * `States.JsonToString`, which the local interpreter mis-escapes), and kept under `limit` characters: when the
 * whole report is too long, check details go first, then passing checks, then per-table verification; the
 * result is always valid JSON of a {@link Report}.
 */
export function reportCause(report: Report, limit = MAX_CAUSE_CHARS): string {
  const full = JSON.stringify(report);
  if (full.length <= limit) return full;
  const withoutDetails: Report = { ...report, checks: report.checks.map(({ details: _details, ...c }) => c) };
  const candidates: Report[] = [
    withoutDetails,
    { ...withoutDetails, checks: withoutDetails.checks.filter((c) => c.status !== 'pass') },
    {
      ...withoutDetails,
      checks: withoutDetails.checks.filter((c) => c.status === 'fail'),
      databases: report.databases.map(({ verification: _verification, ...d }) => d),
    },
  ];
  for (const candidate of candidates) {
    const text = JSON.stringify(candidate);
    if (text.length <= limit) return text;
  }
  return JSON.stringify({
    ok: report.ok,
    action: report.action,
    durationMs: report.durationMs,
    checks: [],
    roles: [],
    databases: report.databases.map((d) => ({
      name: d.name,
      method: d.method,
      status: d.status,
      error: d.error,
      warnings: d.warnings,
    })),
    warnings: report.warnings,
    ...(report.error ? { error: { ...report.error, message: report.error.message.slice(0, 2000) } } : {}),
    truncated:
      'the full report exceeds the Step Functions cause limit; see the Report state output in the execution history',
  }).slice(0, limit);
}
