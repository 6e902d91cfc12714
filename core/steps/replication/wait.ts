/** Bounded polling: every wait of the replication method has a condition and a deadline, never a bare sleep. */
import { setTimeout as delay } from 'node:timers/promises';
import { AbortedError, TimeoutError } from '../../errors.js';

export interface PollOptions {
  readonly timeoutMs: number;
  readonly intervalMs?: number;
  /** The interval grows by half each round up to this. @default 2000 */
  readonly maxIntervalMs?: number;
  readonly signal?: AbortSignal;
  /** Message of the TimeoutError. */
  readonly what?: string;
}

/**
 * Calls `check` until it returns true or the deadline passes (then {@link TimeoutError}); errors thrown by `check`
 * propagate. The interval grows from `intervalMs` up to `maxIntervalMs`.
 */
export async function pollUntil(check: () => Promise<boolean>, options: PollOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let interval = options.intervalMs ?? 250;
  for (;;) {
    if (options.signal?.aborted) throw new AbortedError();
    if (await check()) return;
    const left = deadline - Date.now();
    if (left <= 0) throw new TimeoutError(options.what ?? `gave up after ${Math.round(options.timeoutMs / 1000)} s`);
    await delay(Math.min(interval, left), undefined, options.signal ? { signal: options.signal } : {}).catch(() => {
      throw new AbortedError();
    });
    interval = Math.min(interval * 1.5, options.maxIntervalMs ?? 2000);
  }
}
