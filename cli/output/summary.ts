/**
 * The summary at the end of a run, from the report: checks with status icons (one line per check id, the findings
 * that need attention below it with their remedy), roles, databases (method, status, rows, bytes, duration, lag),
 * the per-table verification when asked, and a one-line verdict. Pure: report in, lines out. Scrubbed.
 */
import { scrub } from '../../core/errors.js';
import type { Plan } from '../../core/plan.js';
import type { CheckResult, CheckStatus, Report, Warning } from '../../core/report.js';
import { unacceptedWarnings } from '../../core/report-builder.js';
import { type Outcome, stoppedBeforeWriting } from '../outcome.js';
import { type Colors, colors, formatBytes, formatCount, formatDuration, table } from './format.js';

export interface SummaryOptions {
  readonly color?: boolean;
  /** Show every check finding (passes too) and every verified table. @default false */
  readonly verbose?: boolean;
  /** Show the per-table verification of each database. @default false (mismatches are always shown) */
  readonly verification?: boolean;
  /** The run's plan (from its Plan state): shown for `check`, whose report lists no databases. */
  readonly plan?: Pick<Plan, 'databases'>;
}

const RANK: Record<CheckStatus, number> = { fail: 3, warn: 2, pass: 1, skip: 0 };

function icon(status: CheckStatus | 'ok' | 'bad', c: Colors): string {
  switch (status) {
    case 'pass':
    case 'ok':
      return c.green('✔');
    case 'warn':
      return c.yellow('⚠');
    case 'fail':
    case 'bad':
      return c.red('✖');
    case 'skip':
      return c.dim('·');
  }
}

function checkLines(checks: readonly CheckResult[], c: Colors, verbose: boolean): string[] {
  const byId = new Map<string, CheckResult[]>();
  for (const check of checks) byId.set(check.id, [...(byId.get(check.id) ?? []), check]);
  const rows: string[][] = [];
  const details: Map<number, string[]> = new Map();
  for (const [id, results] of byId) {
    const worst = results.reduce((a, b) => (RANK[b.status] > RANK[a.status] ? b : a));
    const attention = results.filter((r) => r.status === 'fail' || r.status === 'warn');
    const headline =
      attention.length > 1
        ? `${attention.length} findings`
        : (attention[0] ?? worst).message +
          (results.length > 1 && attention.length === 0 ? ` (${results.length} databases)` : '');
    rows.push([icon(worst.status, c), id, scrub(headline)]);
    const shown = verbose ? results : attention.length > 1 ? attention : attention.filter((r) => r.remedy !== '');
    const lines: string[] = [];
    for (const r of shown) {
      if (attention.length > 1 || verbose)
        lines.push(
          `      ${icon(r.status, c)} ${r.database !== undefined ? `${c.bold(r.database)}: ` : ''}${scrub(r.message)}`,
        );
      if (r.remedy) lines.push(c.dim(`        → ${scrub(r.remedy)}`));
    }
    details.set(rows.length - 1, lines);
  }
  const laid = table(rows);
  return laid.flatMap((line, i) => [line, ...(details.get(i) ?? [])]);
}

/** The summary lines of a report. */
export function renderReport(report: Report, options: SummaryOptions = {}): string[] {
  const c = colors(options.color ?? false);
  const out: string[] = [];
  const servers =
    report.source && report.target
      ? ` · ${report.source.host}:${report.source.port} (${report.source.version}) → ${report.target.host}:${report.target.port} (${report.target.version})`
      : '';
  out.push(c.bold(`pg-migrate ${report.action}`) + c.dim(`${servers} · ${formatDuration(report.durationMs)}`));
  if (report.checks.length > 0) {
    out.push('', c.bold('Checks'), ...checkLines(report.checks, c, options.verbose ?? false));
  }
  const planned = options.plan?.databases ?? [];
  if (report.databases.length === 0 && planned.length > 0) {
    out.push('', c.bold('Plan'));
    const rows = planned.map((d) => [
      scrub(d.name),
      d.method,
      d.targetExists ? 'target database exists' : 'target database created',
      scrub(d.reasons.join('; ')),
    ]);
    out.push(...table(rows));
  }
  if (report.roles.length > 0) {
    out.push('', c.bold('Roles'));
    const byStatus = new Map<string, string[]>();
    for (const role of report.roles) byStatus.set(role.status, [...(byStatus.get(role.status) ?? []), role.name]);
    for (const [status, names] of byStatus) {
      const mark = status === 'failed' ? icon('bad', c) : status === 'skipped' ? icon('skip', c) : icon('ok', c);
      // Roles that exist already are mostly the built-in ones: a count, not a list.
      const shown =
        (status === 'exists' || status === 'skipped') && names.length > 6
          ? `${names.length} roles (${names
              .filter((n) => !n.startsWith('pg_'))
              .slice(0, 4)
              .map(scrub)
              .join(', ')}, …)`
          : names.map(scrub).join(', ');
      out.push(`  ${mark} ${status}: ${shown}`);
    }
    for (const role of report.roles.filter((r) => r.status === 'failed'))
      out.push(c.dim(`      ${scrub(role.name)}: ${scrub(role.message)}`));
  }
  if (report.databases.length > 0) {
    out.push('', c.bold('Databases'));
    const rows = [
      ['', 'database', 'method', 'status', 'tables', 'rows', 'bytes', 'duration', 'lag'].map((h) => c.dim(h)),
      ...report.databases.map((d) => [
        d.status === 'failed' ? icon('bad', c) : d.status === 'skipped' ? icon('skip', c) : icon('ok', c),
        scrub(d.name),
        d.method,
        d.status === 'failed' ? c.red(d.status) : d.status === 'replicating' ? c.cyan(d.status) : d.status,
        formatCount(d.tables),
        formatCount(d.rows),
        formatBytes(d.bytes),
        formatDuration(d.durationMs),
        d.method === 'replication' ? formatBytes(d.lagBytes) : '-',
      ]),
    ];
    out.push(...table(rows, [4, 5, 6, 7, 8]));
    for (const d of report.databases) {
      if (d.status === 'failed' || (d.message && d.status !== 'done'))
        out.push(c.dim(`      ${scrub(d.name)}: ${d.error ? `${d.error}: ` : ''}${scrub(d.message)}`));
    }
  }
  out.push(...warningLines(report, c));
  const verified = report.databases.filter((d) => d.verification && d.verification.length > 0);
  if (verified.length > 0) {
    const mismatches = verified.flatMap((d) => (d.verification ?? []).filter((t) => !t.ok).map((t) => ({ d, t })));
    if (options.verification || options.verbose || mismatches.length > 0) {
      out.push('', c.bold('Verification'));
      for (const d of verified) {
        const tables = (d.verification ?? []).filter((t) => options.verification || options.verbose || !t.ok);
        if (tables.length === 0) continue;
        const checksums = tables.some((t) => t.sourceChecksum !== undefined);
        const rows = [
          ['', `${scrub(d.name)}`, 'source rows', 'target rows', ...(checksums ? ['checksum'] : [])].map((h) =>
            c.dim(h),
          ),
          ...tables.map((t) => [
            icon(t.ok ? 'ok' : 'bad', c),
            scrub(t.name),
            formatCount(t.sourceRows),
            formatCount(t.targetRows),
            ...(checksums ? [t.sourceChecksum === t.targetChecksum ? 'same' : c.red('differs')] : []),
          ]),
        ];
        out.push(...table(rows, [2, 3]));
      }
      const total = verified.reduce((n, d) => n + (d.verification?.length ?? 0), 0);
      out.push(
        `  ${mismatches.length === 0 ? icon('ok', c) : icon('bad', c)} ${total - mismatches.length}/${total} tables match`,
      );
    }
  }
  out.push('', verdict({ kind: 'report', report }, c));
  return out;
}

/** The Warnings section: every degradation, run-level (roles) first, then per database; accepted ones marked. */
function warningLines(report: Report, c: Colors): string[] {
  const entries: { where: string; warning: Warning }[] = [
    ...(report.warnings ?? []).map((w) => ({ where: w.role !== undefined ? `role ${w.role}` : '', warning: w })),
    ...report.databases.flatMap((d) => (d.warnings ?? []).map((w) => ({ where: d.name, warning: w }))),
  ];
  if (entries.length === 0) return [];
  const lines = ['', c.bold('Warnings')];
  for (const { where, warning } of entries) {
    const mark = warning.accepted ? c.dim('✔') : c.yellow('⚠');
    const accepted = warning.accepted ? c.dim(' (accepted)') : '';
    lines.push(
      `  ${mark} ${where !== '' ? `${c.bold(scrub(where))}: ` : ''}${warning.kind}: ${scrub(warning.message)}${accepted}`,
    );
  }
  return lines;
}

/** The distinct kinds of the warnings the user did not accept, in a stable order. */
function unacceptedKinds(report: Report): string[] {
  return [
    ...new Set(unacceptedWarnings({ warnings: report.warnings ?? [], databases: report.databases }).map((w) => w.kind)),
  ];
}

/** The last line: what happened, in words. */
export function verdict(outcome: Outcome, c: Colors = colors(false)): string {
  if (outcome.kind === 'interrupted') return c.yellow('Interrupted.');
  if (outcome.kind === 'error') return c.red(`Failed: ${outcome.error}: ${scrub(outcome.cause)}`);
  const { report } = outcome;
  if (report.error) {
    const where = `${report.error.name} in ${report.error.state}: ${scrub(report.error.message)}`;
    return c.red(
      stoppedBeforeWriting(report) ? `Stopped — ${where}; nothing was written to the target.` : `FAILED — ${where}.`,
    );
  }
  if (report.ok) {
    const replicating = report.databases.filter((d) => d.status === 'replicating').length;
    const done = report.databases.filter((d) => d.status === 'done').length;
    const parts =
      report.action === 'check'
        ? ['no blocker: ready to migrate']
        : [
            ...(done > 0 ? [`${done} database${done === 1 ? '' : 's'} done`] : []),
            ...(replicating > 0 ? [`${replicating} replicating`] : []),
          ];
    const nonBlocking = report.checks.filter((ch) => ch.status === 'fail').length;
    const note =
      nonBlocking > 0
        ? ` (${nonBlocking} failing finding${nonBlocking === 1 ? '' : 's'} changed the plan but block${nonBlocking === 1 ? 's' : ''} nothing)`
        : '';
    const accepted = [...(report.warnings ?? []), ...report.databases.flatMap((d) => d.warnings ?? [])].length;
    const acceptedNote = accepted > 0 ? ` (${accepted} accepted warning${accepted === 1 ? '' : 's'})` : '';
    return c.green(`OK — ${parts.join(', ') || `${report.action} finished`}${note}${acceptedNote}.`);
  }
  if (stoppedBeforeWriting(report)) {
    const blockers = report.checks.filter((ch) => ch.status === 'fail').length;
    return c.red(
      `Blocked — ${blockers} check finding${blockers === 1 ? '' : 's'} must be fixed first; nothing was written to the target.`,
    );
  }
  const failed = report.databases.filter((d) => d.status === 'failed').length;
  const kinds = unacceptedKinds(report);
  if (failed === 0 && kinds.length > 0) {
    const count = unacceptedWarnings({ warnings: report.warnings ?? [], databases: report.databases }).length;
    return c.yellow(
      `DEGRADED — ${count} warning${count === 1 ? '' : 's'} not accepted (${kinds.join(', ')}): the migration finished, ` +
        `but not everything is as on the source. Review the warnings above; to consent up front, pass --accept ${kinds.join(',')}.`,
    );
  }
  return c.red(
    `FAILED — ${failed} of ${report.databases.length} database${report.databases.length === 1 ? '' : 's'} failed.`,
  );
}
