/**
 * Errors are part of the contract: Step Functions matches `ErrorEquals` on `name`, the CLI maps them to exit
 * codes, and Retry fires only on {@link TransientError}. Messages never carry credentials: build them with
 * {@link scrub}.
 */

export type ErrorCode = 'BAD_INPUT' | 'BLOCKED' | 'TRANSIENT' | 'PERMANENT' | 'VERIFY_MISMATCH' | 'TIMEOUT' | 'ABORTED';

/** Root of every error pg-migrate raises on purpose. */
export class MigrationError extends Error {
  override readonly name: string = 'PgMigrate.Error';
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(scrub(message), options);
    this.code = code;
  }
}

/** Bad input: wrong URI, unknown option, a filter naming nothing. Exit code 2, nothing written. */
export class InputError extends MigrationError {
  override readonly name = 'PgMigrate.BadInput';
  readonly problems: readonly string[];
  constructor(problems: readonly string[] | string, options?: { cause?: unknown }) {
    const list = typeof problems === 'string' ? [problems] : problems;
    super('BAD_INPUT', list.join('\n'), options);
    this.problems = list.map(scrub);
  }
}

/** A blocking pre-check: exit code 2, nothing written. */
export class BlockedError extends MigrationError {
  override readonly name = 'PgMigrate.Blocked';
  constructor(message: string, options?: { cause?: unknown }) {
    super('BLOCKED', message, options);
  }
}

/** Can succeed later (connection lost, server restarting, serialization failure): Retry fires on this name only. */
export class TransientError extends MigrationError {
  override readonly name = 'PgMigrate.Transient';
  constructor(message: string, options?: { cause?: unknown }) {
    super('TRANSIENT', message, options);
  }
}

/** Will fail again the same way (permission denied, restore error, missing object). */
export class PermanentError extends MigrationError {
  override readonly name = 'PgMigrate.Permanent';
  constructor(message: string, options?: { cause?: unknown }) {
    super('PERMANENT', message, options);
  }
}

/** Source and target differ after the copy. */
export class VerificationError extends MigrationError {
  override readonly name = 'PgMigrate.VerifyMismatch';
  constructor(message: string, options?: { cause?: unknown }) {
    super('VERIFY_MISMATCH', message, options);
  }
}

/** A wait ran out of time (cutover lag, slot creation). Nothing was dropped. */
export class TimeoutError extends MigrationError {
  override readonly name = 'PgMigrate.Timeout';
  constructor(message: string, options?: { cause?: unknown }) {
    super('TIMEOUT', message, options);
  }
}

/** The run was stopped (Ctrl-C, StopExecution, SIGTERM). */
export class AbortedError extends MigrationError {
  override readonly name = 'PgMigrate.Aborted';
  constructor(message = 'stopped on request', options?: { cause?: unknown }) {
    super('ABORTED', message, options);
  }
}

/** Error names as Step Functions sees them (ErrorEquals). */
export const ERROR_NAMES = {
  badInput: 'PgMigrate.BadInput',
  blocked: 'PgMigrate.Blocked',
  transient: 'PgMigrate.Transient',
  permanent: 'PgMigrate.Permanent',
  verifyMismatch: 'PgMigrate.VerifyMismatch',
  timeout: 'PgMigrate.Timeout',
  aborted: 'PgMigrate.Aborted',
} as const;

/** SQLSTATEs (and classes) that can succeed when tried again later. */
const TRANSIENT_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300', '40001', '40P01', '55P03', '55006']);
const TRANSIENT_SYSCALL_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

function errorCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = err.code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

/** True when the error (a pg error with a SQLSTATE, or a socket error) may succeed if retried later. */
export function isTransient(err: unknown): boolean {
  if (err instanceof TransientError) return true;
  if (err instanceof MigrationError) return false;
  const code = errorCode(err);
  if (code === undefined) {
    const message = err instanceof Error ? err.message : String(err);
    return /Connection terminated|connection timeout|timeout expired/i.test(message);
  }
  if (TRANSIENT_SYSCALL_CODES.has(code)) return true;
  if (/^[0-9A-Z]{5}$/.test(code)) return code.startsWith('08') || TRANSIENT_SQLSTATES.has(code);
  return false;
}

/**
 * Wraps any error into a {@link MigrationError} with a classified name and a scrubbed message, keeping the
 * original as `cause`. MigrationErrors pass through unchanged.
 */
export function classify(err: unknown, context?: string): MigrationError {
  if (err instanceof MigrationError) return err;
  const base = err instanceof Error ? err.message : String(err);
  const code = errorCode(err);
  const message = `${context ? `${context}: ` : ''}${base}${code && /^[0-9A-Z]{5}$/.test(code) ? ` (SQLSTATE ${code})` : ''}`;
  return isTransient(err) ? new TransientError(message, { cause: err }) : new PermanentError(message, { cause: err });
}

const secrets = new Set<string>();

/** Registers a secret (a password) so that {@link scrub} removes it from any text. */
export function registerSecret(secret: string | undefined): void {
  if (secret && secret.length >= 3) secrets.add(secret);
}

/** Removes credentials from a text: URI passwords, `password=…` pairs, and every registered secret. */
export function scrub(text: string): string {
  let out = text
    .replace(/(postgres(?:ql)?:\/\/[^:/?#@\s]*:)[^@\s]*@/gi, '$1***@')
    .replace(/(password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s]+)/gi, '$1***')
    .replace(/(PGPASSWORD\s*=\s*)\S+/g, '$1***');
  for (const secret of secrets) {
    if (out.includes(secret)) out = out.split(secret).join('***');
    const encoded = encodeURIComponent(secret);
    if (encoded !== secret && out.includes(encoded)) out = out.split(encoded).join('***');
  }
  return out;
}

/** A short, scrubbed, one-line description of any thrown value. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return scrub(err.message);
  return scrub(String(err));
}

/**
 * The human part of a Step Functions error cause: a Lambda error's cause is the JSON
 * `{"errorType","errorMessage","trace"}`, a task's SendTaskFailure cause is plain text. Scrubbed.
 */
export function causeMessage(cause: string | undefined): string {
  if (!cause) return 'unknown error';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown; message?: unknown } | null;
    if (typeof parsed?.errorMessage === 'string') return scrub(parsed.errorMessage);
    if (typeof parsed?.message === 'string') return scrub(parsed.message);
  } catch {
    // not JSON: the cause is the message
  }
  return scrub(cause);
}
