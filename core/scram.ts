/**
 * SCRAM-SHA-256 password verifiers computed here (RFC 5802 / 7677, PostgreSQL's `rolpassword` format), so that a
 * password pg-migrate makes up never travels to a server in clear: the server stores the verifier as given.
 *
 * @example
 * ```ts
 * const password = randomPassword();
 * const verifier = scramVerifier(password); // 'SCRAM-SHA-256$4096:…$…:…'
 * ```
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';

/** PostgreSQL's default `scram_iterations`. */
export const SCRAM_ITERATIONS = 4096;

/** A random password of 256 bits (URL-safe base64, so SASLprep leaves it as it is). */
export function randomPassword(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * The verifier PostgreSQL stores for `password`: `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`.
 * `salt` is random unless given (tests). The password must be ASCII without control characters (SASLprep would
 * leave it unchanged): the passwords pg-migrate makes up are.
 */
export function scramVerifier(password: string, salt: Buffer = randomBytes(16), iterations = SCRAM_ITERATIONS): string {
  if (!/^[\x21-\x7e]+$/.test(password)) throw new Error('scramVerifier: only printable ASCII passwords are supported');
  const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/** Whether a `rolpassword` value is a SCRAM-SHA-256 or MD5 verifier (not a clear-text password). */
export function isPasswordVerifier(value: string): boolean {
  return (
    /^SCRAM-SHA-256\$\d+:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/.test(value) ||
    /^md5[0-9a-f]{32}$/.test(value)
  );
}
