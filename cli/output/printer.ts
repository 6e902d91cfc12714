/**
 * The human printer: core's {@link Logger} and {@link ProgressListener}, and the observer of a local run.
 * On a TTY a live view of the phases and per-table progress (bars with rows, bytes, throughput) is redrawn in
 * place; otherwise it prints plain lines. Every line is scrubbed before it is written.
 */
import { scrub } from '../../core/errors.js';
import { parentStateName, STATE_NAMES as S } from '../../infra/state-names.js';
import type { Logger, ProgressEvent } from '../../core/logger.js';
import type { RunObserver, StateEvent } from '../local/runner.js';
import type { Outcome } from '../outcome.js';
import {
  bar,
  type Colors,
  colors,
  formatBytes,
  formatCount,
  formatDuration,
  formatRate,
  truncate,
  visibleLength,
} from './format.js';
import { renderReport, type SummaryOptions, verdict } from './summary.js';

/** Top-level states worth naming to people, and how. Others (Pass, Choice) stay silent. */
const PHASE_LABELS: Readonly<Record<string, string>> = {
  [S.resolveRequest]: 'request',
  [S.serverChecks]: 'pre-checks (servers)',
  [S.databaseChecks]: 'pre-checks (databases)',
  [S.plan]: 'plan',
  [S.roles]: 'roles',
  [S.migrateDatabases]: 'migrate databases',
  [S.replicationStatus]: 'replication status',
  [S.waitForSync]: 'waiting for sync',
  [S.cutoverDatabases]: 'cutover',
  [S.discover]: 'discover',
  [S.abort]: 'abort',
  [S.report]: 'report',
};

/** States that run once per item of a Parallel / Map, counted under their parent phase. */
const parentPhase = parentStateName;

interface Phase {
  readonly name: string;
  readonly started: number;
  ended?: number;
  failed?: boolean;
  items: number;
  itemsDone: number;
}

interface TableProgress {
  rows: number;
  bytes: number;
  totalBytes?: number;
  done: boolean;
  readonly started: number;
  updated: number;
  lastPrinted: number;
}

interface DatabaseProgress {
  phase: string;
  detail?: string;
  readonly tables: Map<string, TableProgress>;
}

export interface PrinterOptions {
  /** Writes to stdout (the original writer while output is captured). */
  readonly out: (text: string) => void;
  /** Writes to stderr. */
  readonly err: (text: string) => void;
  /** Live view (redrawn in place) instead of plain lines. */
  readonly tty: boolean;
  readonly color: boolean;
  /** Show info / debug log records and every check finding. */
  readonly verbose?: boolean;
  readonly columns?: () => number;
  readonly rows?: () => number;
  readonly now?: () => number;
}

const REDRAW_MS = 100;
const PLAIN_TABLE_EVERY_MS = 15_000;

export class Printer implements RunObserver {
  readonly logger: Logger;
  readonly progress: (event: ProgressEvent) => void;
  private readonly c: Colors;
  private readonly now: () => number;
  private readonly start: number;
  private readonly phases: Phase[] = [];
  private readonly databases = new Map<string, DatabaseProgress>();
  private liveLines = 0;
  private timer: NodeJS.Timeout | undefined;
  private tick = 0;
  private title = '';

  constructor(private readonly options: PrinterOptions) {
    this.c = colors(options.color);
    this.now = options.now ?? Date.now;
    this.start = this.now();
    const log = (level: 'debug' | 'info' | 'warn' | 'error') => (message: string, fields?: Record<string, unknown>) =>
      this.log(level, message, fields);
    this.logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
    this.progress = (event) => this.onProgress(event);
  }

  /** Starts the live view (TTY) with a title line. */
  begin(title: string): void {
    this.title = title;
    if (this.options.tty) {
      this.timer = setInterval(() => {
        this.tick++;
        this.render();
      }, REDRAW_MS);
      this.timer.unref();
      this.render();
    } else {
      this.plain(title);
    }
  }

  /** Stops the live view, leaving its last frame on screen. */
  end(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.options.tty) {
      this.render();
      this.liveLines = 0;
    }
  }

  /** A line for people (above the live view on a TTY). */
  say(text: string): void {
    this.above(scrub(text), 'out');
  }

  /** Prints the summary of a run's outcome. */
  summary(outcome: Outcome, options: SummaryOptions = {}): void {
    const opts = { color: this.options.color, verbose: this.options.verbose ?? false, ...options };
    const lines = outcome.kind === 'report' ? renderReport(outcome.report, opts) : ['', verdict(outcome, this.c)];
    this.options.out(`\n${lines.map(scrub).join('\n')}\n`);
  }

  state(event: StateEvent): void {
    const parent = parentPhase(event.state);
    if (parent !== undefined) {
      const phase = this.phases.findLast((p) => p.name === parent);
      if (phase) {
        if (event.type === 'entered') phase.items++;
        if (event.type === 'exited') phase.itemsDone++;
      }
      if (event.type === 'failed' || event.type === 'caught') {
        const what = event.state === S.databaseCheck ? 'database checks' : event.state;
        this.log('warn', `${what} failed: ${event.error ?? ''}${event.cause ? ` — ${event.cause}` : ''}`);
      }
      return;
    }
    const label = PHASE_LABELS[event.state];
    if (label === undefined || event.index !== undefined) return;
    const t = this.now();
    if (event.type === 'entered') {
      this.phases.push({ name: event.state, started: t, items: 0, itemsDone: 0 });
      if (!this.options.tty && event.state !== S.waitForSync) this.plain(`${label} …`);
    } else if (event.type === 'exited' || event.type === 'failed' || event.type === 'caught') {
      const phase = this.phases.findLast((p) => p.name === event.state && p.ended === undefined);
      if (phase) {
        phase.ended = t;
        phase.failed = event.type !== 'exited';
        if (!this.options.tty && event.state !== S.waitForSync) {
          const items = phase.items > 0 ? ` (${phase.itemsDone}/${phase.items})` : '';
          this.plain(`${label} ${phase.failed ? 'failed' : 'done'}${items} in ${formatDuration(t - phase.started)}`);
        }
      }
      if (event.type !== 'exited' && event.error)
        this.log('warn', `${label}: ${event.error}${event.cause ? ` — ${event.cause}` : ''}`);
    } else if (event.type === 'retried') {
      this.log('warn', `${label}: retrying`);
    }
  }

  line(line: string, source: string): void {
    if (this.options.verbose) this.above(this.c.dim(`${source}: ${scrub(line)}`), 'err');
  }

  private database(name: string): DatabaseProgress {
    let db = this.databases.get(name);
    if (!db) {
      db = { phase: 'starting', tables: new Map() };
      this.databases.set(name, db);
    }
    return db;
  }

  private onProgress(event: ProgressEvent): void {
    const t = this.now();
    if (event.kind === 'phase') {
      if (event.database === undefined) {
        if (!this.options.tty) this.plain(`${event.phase}${event.detail ? `: ${event.detail}` : ''}`);
        return;
      }
      const db = this.database(event.database);
      db.phase = event.phase;
      if (event.detail !== undefined) db.detail = event.detail;
      else delete db.detail;
      if (!this.options.tty) this.plain(`${event.database}: ${event.phase}${event.detail ? ` (${event.detail})` : ''}`);
      return;
    }
    // The start of a copy and replication readings feed the metrics; the live view counts tables itself.
    if (event.kind !== 'table') return;
    const db = this.database(event.database);
    let table = db.tables.get(event.table);
    if (!table) {
      table = { rows: 0, bytes: 0, done: false, started: t, updated: t, lastPrinted: t };
      db.tables.set(event.table, table);
    }
    const wasDone = table.done;
    table.rows = event.rows;
    table.bytes = event.bytes;
    if (event.totalBytes !== undefined) table.totalBytes = event.totalBytes;
    table.done = event.done;
    table.updated = t;
    if (!this.options.tty) {
      if (event.done && !wasDone) {
        // Only a table seen before it finished has a measured duration.
        const timed =
          t > table.started
            ? ` in ${formatDuration(t - table.started)}${rateSuffix(event.bytes, t - table.started)}`
            : '';
        this.plain(
          `${event.database}: ${event.table} ${formatCount(event.rows)} rows, ${formatBytes(event.bytes)}${timed}`,
        );
      } else if (!event.done && t - table.lastPrinted >= PLAIN_TABLE_EVERY_MS) {
        table.lastPrinted = t;
        this.plain(
          `${event.database}: ${event.table} ${formatCount(event.rows)} rows, ${formatBytes(event.bytes)}${event.totalBytes ? ` of ${formatBytes(event.totalBytes)}` : ''}`,
        );
      }
    }
  }

  private log(level: 'debug' | 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>): void {
    if ((level === 'debug' || level === 'info') && !this.options.verbose) return;
    const where = fields && typeof fields.database === 'string' ? `${fields.database}: ` : '';
    const text = scrub(`${where}${message}`);
    const styled =
      level === 'error'
        ? this.c.red(`error: ${text}`)
        : level === 'warn'
          ? this.c.yellow(`warning: ${text}`)
          : this.c.dim(text);
    this.above(
      this.options.tty ? styled : `${this.stamp()} ${styled}`,
      level === 'warn' || level === 'error' ? 'err' : 'out',
    );
  }

  private stamp(): string {
    return `[${formatDuration(this.now() - this.start).padStart(7)}]`;
  }

  private plain(text: string): void {
    this.options.out(`${this.stamp()} ${scrub(text)}\n`);
  }

  /** Writes a line above the live region (clears it, writes, redraws). */
  private above(text: string, stream: 'out' | 'err'): void {
    if (this.options.tty && this.liveLines > 0) {
      this.options.out(`\x1b[${this.liveLines}F\x1b[J`);
      this.liveLines = 0;
    }
    (stream === 'err' ? this.options.err : this.options.out)(`${text}\n`);
    if (this.options.tty && this.timer) this.render();
  }

  /** The live view's lines (exposed for tests). */
  frame(): string[] {
    const c = this.c;
    const t = this.now();
    const spinner = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'][this.tick % 10]!;
    const lines: string[] = [];
    if (this.title) lines.push(c.bold(this.title));
    const phaseParts = this.phases
      .filter((p, i, all) => p.name !== S.waitForSync || (p.ended === undefined && i === all.length - 1))
      .map((p) => {
        const mark = p.ended === undefined ? c.cyan(spinner) : p.failed ? c.red('✖') : c.green('✔');
        const items = p.items > 0 ? ` ${p.itemsDone}/${p.items}` : '';
        return `${mark} ${PHASE_LABELS[p.name] ?? p.name}${items} ${c.dim(formatDuration((p.ended ?? t) - p.started))}`;
      });
    // Collapse repeated status polls into one entry.
    const collapsed: string[] = [];
    for (const part of phaseParts) if (collapsed.at(-1) !== part) collapsed.push(part);
    // The phases, wrapped to the terminal's width.
    const width = this.options.columns?.() ?? 100;
    let current = '';
    for (const part of collapsed.slice(-12)) {
      const next = current === '' ? part : `${current}${c.dim(' · ')}${part}`;
      if (current !== '' && visibleLength(next) > width) {
        lines.push(current);
        current = part;
      } else current = next;
    }
    if (current !== '') lines.push(current);
    const maxRows = Math.max(6, (this.options.rows?.() ?? 24) - 4);
    for (const [name, db] of this.databases) {
      if (lines.length >= maxRows) break;
      const tables = [...db.tables.entries()];
      const done = tables.filter(([, tp]) => tp.done);
      const active = tables.filter(([, tp]) => !tp.done);
      const totals = tables.reduce((a, [, tp]) => ({ rows: a.rows + tp.rows, bytes: a.bytes + tp.bytes }), {
        rows: 0,
        bytes: 0,
      });
      lines.push(
        `  ${c.bold(name)} ${c.cyan(db.phase)}${db.detail ? c.dim(` ${db.detail}`) : ''}${
          tables.length > 0
            ? c.dim(
                `  ${done.length}/${tables.length} tables · ${formatCount(totals.rows)} rows · ${formatBytes(totals.bytes)}`,
              )
            : ''
        }`,
      );
      const nameWidth = Math.min(32, Math.max(...active.map(([n]) => n.length), 8));
      for (const [tableName, tp] of active.slice(0, Math.max(0, maxRows - lines.length))) {
        const fraction = tp.totalBytes ? Math.min(1, tp.bytes / tp.totalBytes) : undefined;
        const pct = fraction !== undefined ? `${String(Math.round(fraction * 100)).padStart(3)}%` : '    ';
        lines.push(
          `    ${tableName.padEnd(nameWidth)} ${bar(fraction, 20, this.tick)} ${pct} ${(tp.rows > 0 ? `${formatCount(tp.rows)} rows` : '').padStart(16)} ${formatBytes(tp.bytes).padStart(8)} ${c.dim(formatRate(tp.bytes, tp.updated - tp.started))}`,
        );
      }
    }
    const columns = this.options.columns?.() ?? 100;
    return lines.map((l) => truncate(scrub(l), columns));
  }

  private render(): void {
    // Redrawn on every tick: spinners and indeterminate bars move even when nothing else changed.
    if (!this.options.tty) return;
    const frame = this.frame();
    const clear = this.liveLines > 0 ? `\x1b[${this.liveLines}F\x1b[J` : '';
    this.options.out(`${clear}${frame.join('\n')}\n`);
    this.liveLines = frame.length;
  }
}

function rateSuffix(bytes: number, ms: number): string {
  const rate = formatRate(bytes, ms);
  return rate ? ` (${rate})` : '';
}
