/**
 * Writing a file only its owner may read (`--json FILE`: the report names servers, roles and databases) without
 * following a symbolic link: an existing file keeps its place but ends with mode 0600, its old content gone; a link
 * or anything that is not a regular file is refused.
 *
 * @example
 * ```ts
 * checkPrivateFilePath('report.json'); // before the run: bad input (exit code 2) for a link
 * writePrivateFile('report.json', '{}\n');
 * ```
 */
import { closeSync, constants, fchmodSync, fstatSync, ftruncateSync, lstatSync, openSync, writeSync } from 'node:fs';
import { InputError } from '../core/errors.js';

function refusal(option: string, path: string, what: string): InputError {
  return new InputError(
    `${option} ${JSON.stringify(path)}: ${what}; name a regular file (pg-migrate never writes through a link)`,
  );
}

/** Bad input when `path` exists and is a symbolic link or not a regular file (checked before a run starts). */
export function checkPrivateFilePath(path: string, option = '--json'): void {
  let stat;
  try {
    stat = lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new InputError(`${option} ${JSON.stringify(path)}: ${(err as Error).message}`);
  }
  if (stat.isSymbolicLink()) throw refusal(option, path, 'is a symbolic link');
  if (!stat.isFile()) throw refusal(option, path, 'is not a regular file');
}

/**
 * Writes `text` to `path` with mode 0600: opened with O_NOFOLLOW (a link at `path` fails the open) and O_NONBLOCK
 * (a FIFO without a reader fails instead of hanging), made 0600 before the old content is truncated and the new
 * written.
 */
export function writePrivateFile(path: string, text: string, option = '--json'): void {
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK, 0o600);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw refusal(option, path, 'is a symbolic link');
    throw new InputError(`${option} ${JSON.stringify(path)}: cannot write (${code ?? (err as Error).message})`);
  }
  try {
    if (!fstatSync(fd).isFile()) throw refusal(option, path, 'is not a regular file');
    fchmodSync(fd, 0o600);
    ftruncateSync(fd, 0);
    const buffer = Buffer.from(text, 'utf8');
    let written = 0;
    while (written < buffer.length) written += writeSync(fd, buffer, written, buffer.length - written, written);
  } finally {
    closeSync(fd);
  }
}
