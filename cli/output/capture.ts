/**
 * In-process handlers log through their own Powertools loggers, which write JSON lines straight to
 * process.stdout / process.stderr. While a local run is on, those writes are captured line by line and handed to
 * the printer (which keeps the original writers), so the live view stays intact and every line is parsed and
 * scrubbed before anything reaches the terminal.
 */
type Write = typeof process.stdout.write;

export interface Captured {
  /** The original writers, for the printer. */
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Puts the original writers back (flushing a last partial line). */
  restore(): void;
}

/** Starts capturing; `onLine` gets every complete line written by anyone but the printer. */
export function captureOutput(onLine: (line: string, stream: 'stdout' | 'stderr') => void): Captured {
  const saved = {
    stdout: Object.getOwnPropertyDescriptor(process.stdout, 'write'),
    stderr: Object.getOwnPropertyDescriptor(process.stderr, 'write'),
  };
  const originalOut = process.stdout.write.bind(process.stdout);
  const originalErr = process.stderr.write.bind(process.stderr);
  const buffers = { stdout: '', stderr: '' };
  const make =
    (stream: 'stdout' | 'stderr'): Write =>
    (chunk: unknown, encodingOrCb?: unknown, cb?: unknown): boolean => {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
      buffers[stream] += text;
      let index = buffers[stream].indexOf('\n');
      while (index >= 0) {
        const line = buffers[stream].slice(0, index);
        buffers[stream] = buffers[stream].slice(index + 1);
        onLine(line, stream);
        index = buffers[stream].indexOf('\n');
      }
      const callback = typeof encodingOrCb === 'function' ? encodingOrCb : cb;
      if (typeof callback === 'function') queueMicrotask(() => (callback as () => void)());
      return true;
    };
  process.stdout.write = make('stdout');
  process.stderr.write = make('stderr');
  return {
    stdout: (text) => void originalOut(text),
    stderr: (text) => void originalErr(text),
    restore() {
      for (const stream of ['stdout', 'stderr'] as const) {
        const descriptor = saved[stream];
        if (descriptor) Object.defineProperty(process[stream], 'write', descriptor);
        else delete (process[stream] as { write?: unknown }).write;
      }
      for (const stream of ['stdout', 'stderr'] as const) {
        if (buffers[stream] !== '') onLine(buffers[stream], stream);
        buffers[stream] = '';
      }
    },
  };
}
