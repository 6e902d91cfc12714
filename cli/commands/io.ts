/** The CLI's contact with the process: output streams, TTY detection, exit, and Ctrl-C. Injected for tests. */

export interface Io {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly exit: (code: number) => never;
  readonly stdoutIsTTY: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly size: { readonly columns?: () => number; readonly rows?: () => number };
}

/** The real process. */
export function processIo(): Io {
  return {
    out: (text) => void process.stdout.write(text),
    err: (text) => void process.stderr.write(text),
    exit: (code) => process.exit(code),
    stdoutIsTTY: process.stdout.isTTY === true,
    env: process.env,
    size: { columns: () => process.stdout.columns ?? 100, rows: () => process.stdout.rows ?? 24 },
  };
}

/** Live view only on a terminal (and not in CI); colour unless NO_COLOR. */
export function interactiveOutput(io: Io): { readonly tty: boolean; readonly color: boolean } {
  const tty = io.stdoutIsTTY && io.env.CI === undefined && io.env.TERM !== 'dumb';
  const color = tty && io.env.NO_COLOR === undefined;
  return { tty, color };
}

/**
 * Ctrl-C (SIGINT) and SIGTERM: the first calls `first` (stop cleanly), the second `second` (quit at once).
 * Returns a function that removes the handlers.
 */
export function onInterrupt(first: () => void, second: () => void): () => void {
  let count = 0;
  const handler = () => {
    count++;
    if (count === 1) first();
    else second();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}
