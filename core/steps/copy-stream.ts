/**
 * One COPY from server to server with nothing in the middle but a byte forwarder: `COPY … TO STDOUT` on the source,
 * `COPY … FROM STDIN` on the target, and the source's CopyData messages written to the target's socket exactly as
 * they arrive. A backend's CopyData message ('d', int32 length, payload) is byte for byte the message a frontend
 * sends, so the forwarder only walks the message headers to find where the COPY ends: it never copies, re-frames or
 * parses a row, and it writes one socket chunk (up to 64 KiB) per write. The source socket is paused while the
 * target's is full (backpressure end to end); memory is bounded by the two sockets' buffers.
 *
 * Both row counts come back from the servers themselves (`COPY n` of each side), exact: the rows the source read
 * under its snapshot and the rows the target stored.
 */
import type pg from 'pg';

/** The statements of one COPY: `out` runs on the source, `in` on the target. */
export interface CopyStatements {
  readonly out: string;
  readonly in: string;
}

export interface CopyStreamOptions {
  readonly signal?: AbortSignal;
  /** Called for every forwarded socket chunk: its bytes and the CopyData messages (rows) that began in it. */
  readonly onData?: (bytes: number, messages: number) => void;
}

export interface CopyStreamResult {
  /** Rows the source's COPY TO sent (its `COPY n`). */
  readonly rowsOut: number;
  /** Rows the target's COPY FROM stored (its `COPY n`). */
  readonly rowsIn: number;
  /** CopyData bytes forwarded, headers included. */
  readonly bytes: number;
  /** Socket reads from the source, writes to the target, and pauses for backpressure (bytes per syscall). */
  readonly reads: number;
  readonly writes: number;
  readonly pauses: number;
}

/** What node-postgres hands a submittable: its connection, of which we use the socket and two senders. */
interface PgConnection {
  readonly stream: NodeJS.ReadWriteStream & {
    write(chunk: Uint8Array): boolean;
    pause(): void;
    resume(): void;
    destroy(): void;
  };
  query(text: string): void;
  sendCopyFail(message: string): void;
}

const COPY_DATA = 0x64; // 'd'
const COPY_DONE = 0x63; // 'c'
const ERROR_RESPONSE = 0x45; // 'E'
const COPY_DONE_MESSAGE = Buffer.from([COPY_DONE, 0, 0, 0, 4]);

function commandCount(message: { text?: string } | undefined): number {
  const match = /^COPY (\d+)/.exec(message?.text ?? '');
  return match ? Number(match[1]) : 0;
}

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (err: Error) => void } {
  let resolve!: (value: T) => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {}); // observed by whoever awaits it; never an unhandled rejection
  return { promise, resolve, reject };
}

/** `COPY … FROM STDIN` on the target: ready when the server asks for data, done at its ReadyForQuery. */
class CopyIn {
  readonly ready = deferred<PgConnection>();
  readonly done = deferred<number>();
  private rows = 0;
  constructor(private readonly text: string) {}
  submit(connection: PgConnection): void {
    connection.query(this.text);
  }
  handleCopyInResponse(connection: PgConnection): void {
    this.ready.resolve(connection);
  }
  handleCommandComplete(message: { text?: string }): void {
    this.rows = commandCount(message);
  }
  handleReadyForQuery(): void {
    this.done.resolve(this.rows);
  }
  handleError(err: Error): void {
    this.ready.reject(err);
    this.done.reject(err);
  }
}

/**
 * `COPY … TO STDOUT` on the source. On submit it takes the socket from node-postgres' parser, forwards the CopyData
 * messages to `sink`, and gives the socket back at CopyDone (or at an ErrorResponse, which the parser then reports).
 */
class CopyOut {
  readonly done = deferred<number>();
  private connection: PgConnection | undefined;
  private parserListener: ((chunk: Buffer) => void) | undefined;
  private rows = 0;
  // Message walker: the current message's code, its length bytes still to read, its body bytes still to read.
  private code = -1;
  private lengthBytes = 0;
  private length = 0;
  private remaining = 0;
  private settled = false;
  private forwarding = false;
  bytes = 0;
  reads = 0;
  writes = 0;
  pauses = 0;

  constructor(
    private readonly text: string,
    private readonly sink: PgConnection,
    private readonly onData: CopyStreamOptions['onData'],
  ) {}

  submit(connection: PgConnection): void {
    this.connection = connection;
    const stream = connection.stream;
    const listeners = stream.listeners('data') as ((chunk: Buffer) => void)[];
    if (listeners.length !== 1) throw new Error(`internal: expected one socket reader, found ${listeners.length}`);
    this.parserListener = listeners[0];
    stream.removeListener('data', this.parserListener!);
    stream.on('data', this.onChunk);
    this.sink.stream.on('drain', this.onDrain);
    this.forwarding = true;
    connection.query(this.text);
  }

  private readonly onDrain = () => this.connection?.stream.resume();

  private readonly onChunk = (chunk: Buffer): void => {
    const n = chunk.length;
    this.reads++;
    let p = 0;
    let run = -1; // start of the pending run of CopyData bytes to forward
    let messages = 0;
    let full = false;
    const flush = (end: number) => {
      if (run < 0 || end <= run) return;
      this.bytes += end - run;
      this.writes++;
      if (!this.sink.stream.write(chunk.subarray(run, end))) full = true;
      run = -1;
    };
    const finish = (end: number) => {
      flush(end);
      this.onData?.(this.bytes, messages);
      this.giveBack(chunk.subarray(end));
    };
    // A message cut by the previous chunk goes on here (slow path: at most once per chunk).
    if (this.lengthBytes > 0 || this.remaining > 0) {
      if (this.code === COPY_DATA) run = 0;
      while (this.lengthBytes > 0 && p < n) {
        this.length = this.length * 256 + chunk[p++]!;
        if (--this.lengthBytes === 0) this.remaining = this.length - 4;
      }
      const take = Math.min(this.remaining, n - p);
      p += take;
      this.remaining -= take;
      if (this.lengthBytes === 0 && this.remaining === 0 && this.code === COPY_DONE) return finish(p);
    }
    // Whole messages: one header read per message, nothing copied.
    while (p < n) {
      const code = chunk[p]!;
      if (code === COPY_DATA) {
        if (run < 0) run = p;
        messages++;
      } else {
        flush(p);
        // node-postgres' parser reports the error (and what follows) to this query.
        if (code === ERROR_RESPONSE) return this.giveBack(chunk.subarray(p));
      }
      if (p + 5 > n) {
        // The header is cut: keep what there is of the length.
        this.code = code;
        this.lengthBytes = 4;
        this.length = 0;
        for (p++; p < n; p++) {
          this.length = this.length * 256 + chunk[p]!;
          this.lengthBytes--;
        }
        break;
      }
      // (the length read by hand: faster than readUInt32BE on this hot path)
      const end = p + 1 + ((chunk[p + 1]! << 24) >>> 0) + (chunk[p + 2]! << 16) + (chunk[p + 3]! << 8) + chunk[p + 4]!;
      if (end > n) {
        this.code = code;
        this.remaining = end - n;
        p = n;
        break;
      }
      p = end;
      if (code === COPY_DONE) return finish(p);
    }
    flush(n);
    this.onData?.(this.bytes, messages);
    if (full) {
      this.pauses++;
      this.connection!.stream.pause();
    }
  };

  /** Hands the socket, and what is left of `rest`, back to node-postgres' parser. */
  private giveBack(rest: Buffer): void {
    const stream = this.connection!.stream;
    this.forwarding = false;
    stream.removeListener('data', this.onChunk);
    this.sink.stream.removeListener('drain', this.onDrain);
    stream.on('data', this.parserListener!);
    if (rest.length > 0) this.parserListener!(rest);
  }

  handleCommandComplete(message: { text?: string }): void {
    this.rows = commandCount(message);
  }
  handleReadyForQuery(): void {
    this.settled = true;
    this.done.resolve(this.rows);
  }
  handleError(err: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.stop();
    this.done.reject(err);
  }

  /** Stops forwarding (the target failed, or the copy was stopped); the caller ends the session. */
  stop(): void {
    if (!this.connection || !this.forwarding) return;
    this.forwarding = false;
    this.connection.stream.removeListener('data', this.onChunk);
    this.sink.stream.removeListener('drain', this.onDrain);
    this.connection.stream.pause();
  }
}

/**
 * Runs `statements.out` on `source` and `statements.in` on `target`, forwarding the data between them. Resolves
 * when both servers have completed their COPY; rejects with the first server error (the other side's COPY is
 * failed or left for the caller to end: after a rejection both sessions must be ended, not reused).
 *
 * @example
 * ```ts
 * const { rowsOut, rowsIn } = await pipeCopy(source, target, {
 *   out: 'COPY public.t TO STDOUT (FORMAT binary)', in: 'COPY public.t FROM STDIN (FORMAT binary)' });
 * ```
 */
export async function pipeCopy(
  source: pg.Client,
  target: pg.Client,
  statements: CopyStatements,
  options: CopyStreamOptions = {},
): Promise<CopyStreamResult> {
  const copyIn = new CopyIn(statements.in);
  void target.query(copyIn as never);
  const sink = await copyIn.ready.promise;
  const copyOut = new CopyOut(statements.out, sink, options.onData);
  let aborted: (() => void) | undefined;
  const stopped = new Promise<never>((_, reject) => {
    aborted = () =>
      reject(options.signal?.reason instanceof Error ? options.signal.reason : new Error('copy stopped on request'));
    if (options.signal?.aborted) aborted();
    else options.signal?.addEventListener('abort', aborted, { once: true });
  });
  stopped.catch(() => {});
  try {
    void source.query(copyOut as never);
    let rowsOut: number;
    try {
      rowsOut = await Promise.race([
        copyOut.done.promise,
        copyIn.done.promise.then(() => copyOut.done.promise),
        stopped,
      ]);
    } catch (err) {
      copyOut.stop();
      // Fail the target's COPY so that nothing of it commits, then report the first error.
      try {
        sink.sendCopyFail(err instanceof Error ? err.message : String(err));
      } catch {
        // the target's socket is gone: its COPY cannot commit either
      }
      throw err;
    }
    sink.stream.write(COPY_DONE_MESSAGE);
    const rowsIn = await Promise.race([copyIn.done.promise, stopped]);
    const { bytes, reads, writes, pauses } = copyOut;
    return { rowsOut, rowsIn, bytes, reads, writes, pauses };
  } finally {
    if (aborted) options.signal?.removeEventListener('abort', aborted);
  }
}
