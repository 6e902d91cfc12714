/**
 * Runs one dump migration in its own process, for the kill-and-resume test.
 * Env: DRIVER_SOURCE, DRIVER_TARGET (URIs), DRIVER_DB; prints the DatabaseResult as JSON.
 * With DRIVER_PAUSE_AT_COPY=1 the process stops dead when the copy phase begins (pre-data restored, no COPY
 * started): it prints `paused at copy` and blocks its whole event loop until a line arrives on stdin, so the test
 * can set up what the copy will meet before any of it runs.
 */
import { readSync, writeSync } from 'node:fs';
import { parseConnectionString } from '../../../core/connection.js';
import { type ProgressEvent, silentLogger } from '../../../core/logger.js';
import { migrateByDump } from '../../../core/steps/dump.js';
import { planned, requestFor } from './support.js';

function pauseAtCopy(event: ProgressEvent): void {
  if (process.env.DRIVER_PAUSE_AT_COPY !== '1' || event.kind !== 'phase' || event.phase !== 'copy') return;
  writeSync(1, 'paused at copy\n');
  const byte = Buffer.alloc(1);
  const nap = new Int32Array(new SharedArrayBuffer(4));
  // Synchronous reads: nothing else in this process runs until the test writes a line to stdin.
  for (;;) {
    try {
      if (readSync(0, byte, 0, 1, null) === 0 || byte[0] === 10) return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      Atomics.wait(nap, 0, 0, 10);
    }
  }
}

const result = await migrateByDump(
  {
    source: parseConnectionString(process.env.DRIVER_SOURCE ?? '', 'source'),
    target: parseConnectionString(process.env.DRIVER_TARGET ?? '', 'target'),
    logger: silentLogger,
    progress: pauseAtCopy,
  },
  requestFor({ checksums: false }),
  planned(process.env.DRIVER_DB ?? ''),
);
process.stdout.write(`${JSON.stringify(result)}\n`);
