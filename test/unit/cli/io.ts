/** An in-memory {@link Io} for CLI tests. */
import type { Io } from '../../../cli/commands/io.js';

export function memoryIo(
  env: Record<string, string | undefined> = {},
): Io & { stdout: () => string; stderr: () => string } {
  let out = '';
  let err = '';
  return {
    out: (t) => void (out += t),
    err: (t) => void (err += t),
    exit: (code) => {
      throw new Error(`exit ${code}`);
    },
    stdoutIsTTY: false,
    env,
    size: {},
    stdout: () => out,
    stderr: () => err,
  };
}
