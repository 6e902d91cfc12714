/**
 * Reads the JSON log lines of the task child (and of in-process handlers, whose Powertools loggers write JSON
 * lines too) back into log records and progress events. Parsed defensively: anything that is not a JSON object
 * is plain text.
 *
 * Progress formats understood, in order of preference:
 * 1. `{"message":"progress","event":<ProgressEvent>}` — the event as it is (any level).
 * 2. The event's fields spread into the record (`logger.info('phase', { ...event })`): `{"kind":"phase",…}`.
 * 3. `lambdas/shared/logger.ts` `progressToLogger`: `{"message":"phase <p>","phase":"<p>","database":…}` and
 *    `{"message":"table <t> copied" | "table <t> progress","database":…,"table":…,"rows":…,"bytes":…,"totalBytes":…}`.
 */
import type { ProgressEvent } from '../../core/logger.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type ParsedLine =
  | { readonly kind: 'progress'; readonly event: ProgressEvent }
  | {
      readonly kind: 'log';
      readonly level: LogLevel;
      readonly message: string;
      readonly fields: Readonly<Record<string, unknown>>;
    }
  | { readonly kind: 'text'; readonly text: string };

function levelOf(value: unknown): LogLevel {
  const text = typeof value === 'string' ? value.toLowerCase() : '';
  if (text === 'debug' || text === 'trace') return 'debug';
  if (text === 'warn' || text === 'warning') return 'warn';
  if (text === 'error' || text === 'critical' || text === 'fatal') return 'error';
  return 'info';
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** A ProgressEvent from an untrusted object, or undefined. */
export function toProgressEvent(value: unknown): ProgressEvent | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (v.kind === 'phase' && str(v.phase) !== undefined) {
    return {
      kind: 'phase',
      phase: str(v.phase)!,
      ...(str(v.database) !== undefined ? { database: str(v.database)! } : {}),
      ...(str(v.detail) !== undefined ? { detail: str(v.detail)! } : {}),
    };
  }
  if (v.kind === 'table' && str(v.database) !== undefined && str(v.table) !== undefined) {
    return {
      kind: 'table',
      database: str(v.database)!,
      table: str(v.table)!,
      rows: num(v.rows) ?? 0,
      bytes: num(v.bytes) ?? 0,
      ...(num(v.totalBytes) !== undefined ? { totalBytes: num(v.totalBytes)! } : {}),
      done: v.done === true,
    };
  }
  if (v.kind === 'tables' && str(v.database) !== undefined && num(v.done) !== undefined && num(v.total) !== undefined) {
    return { kind: 'tables', database: str(v.database)!, done: num(v.done)!, total: num(v.total)! };
  }
  if (v.kind === 'replication' && str(v.database) !== undefined && typeof v.applyRunning === 'boolean') {
    return {
      kind: 'replication',
      database: str(v.database)!,
      applyRunning: v.applyRunning,
      tables: num(v.tables) ?? 0,
      ready: num(v.ready) ?? 0,
      ...(num(v.lagBytes) !== undefined ? { lagBytes: num(v.lagBytes)! } : {}),
    };
  }
  return undefined;
}

/** Parses one line. */
export function parseLogLine(line: string): ParsedLine {
  const trimmed = line.trim();
  if (!trimmed.startsWith('{')) return { kind: 'text', text: line };
  let record: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(trimmed);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { kind: 'text', text: line };
    record = parsed as Record<string, unknown>;
  } catch {
    return { kind: 'text', text: line };
  }
  const message = str(record.message) ?? str(record.msg) ?? '';
  const event = toProgressEvent(record.event) ?? toProgressEvent(record);
  if (event) return { kind: 'progress', event };
  if (message.startsWith('phase ') && str(record.phase) !== undefined) {
    const phase = toProgressEvent({ ...record, kind: 'phase' });
    if (phase) return { kind: 'progress', event: phase };
  }
  if (/^table .* (copied|progress)$/.test(message) && str(record.table) !== undefined) {
    const table = toProgressEvent({ ...record, kind: 'table', done: message.endsWith(' copied') });
    if (table) return { kind: 'progress', event: table };
  }
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) {
    if (!['level', 'message', 'msg', 'timestamp', 'service', 'sampling_rate', 'xray_trace_id', 'time'].includes(key))
      fields[key] = value;
  }
  return { kind: 'log', level: levelOf(record.level), message, fields };
}
