/** Small formatting helpers for people: sizes, durations, counts, bars, table layout. Pure. */

/** `1536` → `1.5 KB` (powers of 1024, one decimal below 10). */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '-';
  const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  if (unit === 0) return `${bytes} B`;
  return `${value < 10 ? value.toFixed(1) : Math.round(value).toString()} ${units[unit]}`;
}

/** `65_432` → `1m 05s`; `1234` → `1.2s`; `45` → `45ms`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '-';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const totalSeconds = Math.round(ms / 1000);
  const h = Math.floor(totalSeconds / 3600);
  const m = Math.floor((totalSeconds % 3600) / 60);
  const s = totalSeconds % 60;
  return h > 0 ? `${h}h ${String(m).padStart(2, '0')}m` : `${m}m ${String(s).padStart(2, '0')}s`;
}

/** `1234567` → `1,234,567`. */
export function formatCount(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-';
}

/** A throughput: bytes per second. */
export function formatRate(bytes: number, ms: number): string {
  if (ms <= 0 || bytes <= 0) return '';
  return `${formatBytes((bytes * 1000) / ms)}/s`;
}

/** A progress bar of `width` cells; `fraction` undefined gives an indeterminate bar that moves with `tick`. */
export function bar(fraction: number | undefined, width: number, tick = 0, unicode = true): string {
  const full = unicode ? '█' : '#';
  const empty = unicode ? '░' : '.';
  if (fraction === undefined) {
    const pos = tick % width;
    return Array.from({ length: width }, (_, i) => (Math.abs(i - pos) <= 1 ? full : empty)).join('');
  }
  const filled = Math.max(0, Math.min(width, Math.round(fraction * width)));
  return full.repeat(filled) + empty.repeat(width - filled);
}

/** Display width of a string without ANSI escapes (one column per code point; good enough for names). */
export function visibleLength(text: string): number {
  // eslint-disable-next-line no-control-regex -- matching ANSI escape sequences needs the ESC character
  return [...text.replace(/\x1b\[[0-9;]*m/g, '')].length;
}

/** Cuts a line (with ANSI colours) to `columns` visible characters. */
export function truncate(text: string, columns: number): string {
  if (visibleLength(text) <= columns) return text;
  let out = '';
  let visible = 0;
  for (let i = 0; i < text.length; ) {
    // eslint-disable-next-line no-control-regex -- matching ANSI escape sequences needs the ESC character
    const esc = /^\x1b\[[0-9;]*m/.exec(text.slice(i));
    if (esc) {
      out += esc[0];
      i += esc[0].length;
      continue;
    }
    const ch = String.fromCodePoint(text.codePointAt(i)!);
    if (visible >= columns - 1) {
      out += '…';
      break;
    }
    out += ch;
    visible++;
    i += ch.length;
  }
  return `${out}\x1b[0m`;
}

/** Lays out rows as aligned columns; `right` lists the column indexes aligned right. */
export function table(rows: readonly (readonly string[])[], right: readonly number[] = [], indent = '  '): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, visibleLength(cell))));
  return rows.map(
    (row) =>
      indent +
      row
        .map((cell, i) => {
          const pad = ' '.repeat((widths[i] ?? 0) - visibleLength(cell));
          if (i === row.length - 1 && !right.includes(i)) return cell;
          return right.includes(i) ? pad + cell : cell + pad;
        })
        .join('  '),
  );
}

/** ANSI colours, or none. */
export interface Colors {
  readonly green: (s: string) => string;
  readonly yellow: (s: string) => string;
  readonly red: (s: string) => string;
  readonly dim: (s: string) => string;
  readonly bold: (s: string) => string;
  readonly cyan: (s: string) => string;
}

export function colors(enabled: boolean): Colors {
  const wrap = (open: number, close: number) => (s: string) => (enabled ? `\x1b[${open}m${s}\x1b[${close}m` : s);
  return {
    green: wrap(32, 39),
    yellow: wrap(33, 39),
    red: wrap(31, 39),
    dim: wrap(2, 22),
    bold: wrap(1, 22),
    cyan: wrap(36, 39),
  };
}
