/**
 * TLS as libpq does it, for every node-postgres session and for the libpq child processes (pg_dump, pg_restore).
 *
 * - `sslmode`: `disable` (clear), `allow` (clear first, TLS when the server refuses clear), `prefer` (the default:
 *   TLS first, clear when the server offers no TLS or refuses the TLS session), `require` (TLS; the certificate is
 *   checked against a root certificate only when one is given or `~/.postgresql/root.crt` exists, as in libpq),
 *   `verify-ca` (the chain must lead to `sslrootcert`), `verify-full` (and the server's name must be in the
 *   certificate).
 * - `sslrootcert`: a PEM file; `system` (the operating system's trusted roots: only with `verify-full`, as libpq
 *   16+ demands); or `rds` (the Amazon RDS CA bundle pg-migrate ships, core/rds-ca.ts, or the file the
 *   environment variable `PG_MIGRATE_RDS_CA_BUNDLE` names). Unset: `~/.postgresql/root.crt` when it exists.
 * - `sslcert` / `sslkey`: a client certificate and its key (default `~/.postgresql/postgresql.crt` / `.key` when
 *   they exist). The key must not be readable by group or others, as libpq requires.
 * - `channel_binding`: `prefer` (the default: SCRAM-SHA-256-PLUS when the session is TLS and the server offers
 *   it), `require` (the session fails unless the server authenticates with SCRAM-SHA-256-PLUS, so a server that
 *   merely holds a stolen certificate's name cannot complete the login), `disable`.
 *
 * @example
 * ```ts
 * const attempts = tlsAttempts({ sslmode: 'prefer' }); // [{ tls: true }, { tls: false }]
 * ```
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ConnectionOptions, rootCertificates } from 'node:tls';
import { InputError } from './errors.js';
import { rdsCaBundleFile } from './rds-ca.js';

export type SslMode = 'disable' | 'allow' | 'prefer' | 'require' | 'verify-ca' | 'verify-full';
export type ChannelBinding = 'disable' | 'prefer' | 'require';

export const SSL_MODES: readonly SslMode[] = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'];
export const CHANNEL_BINDINGS: readonly ChannelBinding[] = ['disable', 'prefer', 'require'];

/** The TLS part of a connection spec. */
export interface TlsSettings {
  readonly sslmode: SslMode;
  /** A PEM file, `system`, or `rds` (see the module comment). */
  readonly sslrootcert?: string;
  /** Client certificate (PEM file). */
  readonly sslcert?: string;
  /** Client certificate's private key (PEM file, mode 0600). */
  readonly sslkey?: string;
  /** @default 'prefer' */
  readonly channelBinding?: ChannelBinding;
}

export { RDS_CA_BUNDLE_ENV } from './rds-ca.js';

/**
 * Environment variable of a deployment: the `sslrootcert` of verifying connections (verify-ca, verify-full) whose
 * secret or string names none (the construct sets `rds`; lambdas/shared/secrets.ts applies it).
 */
export const DEFAULT_SSLROOTCERT_ENV = 'PG_MIGRATE_SSLROOTCERT';

/** Where operating systems keep their trusted roots as one PEM file (OpenSSL's default file first). */
const SYSTEM_BUNDLES = [
  '/etc/ssl/certs/ca-certificates.crt', // Debian, Ubuntu, Alpine
  '/etc/pki/tls/certs/ca-bundle.crt', // Amazon Linux, RHEL, Fedora
  '/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem',
  '/etc/ssl/ca-bundle.pem', // SUSE
  '/etc/ssl/cert.pem', // macOS, BSD
];

/** Pure: the problems of a TLS configuration that libpq would refuse (each prefixed with `label`). */
export function tlsProblems(settings: TlsSettings, label: string): string[] {
  const problems: string[] = [];
  if (settings.sslrootcert === 'system' && settings.sslmode !== 'verify-full')
    problems.push(
      `${label}: sslrootcert=system needs sslmode=verify-full (a public CA vouches for names its customers own, so only the name check makes it safe)`,
    );
  if (settings.channelBinding === 'require' && settings.sslmode === 'disable')
    problems.push(`${label}: channel_binding=require needs TLS, but sslmode=disable`);
  if (settings.sslkey !== undefined && settings.sslcert === undefined)
    problems.push(`${label}: sslkey is given without sslcert`);
  if (settings.sslrootcert === '') problems.push(`${label}: sslrootcert is empty`);
  return problems;
}

/** One connection attempt: with TLS or in clear. */
export interface TlsAttempt {
  readonly tls: boolean;
}

/** Pure: the attempts libpq makes for an sslmode, in order (`prefer`: TLS then clear; `allow`: the reverse). */
export function tlsAttempts(settings: Pick<TlsSettings, 'sslmode'>): TlsAttempt[] {
  switch (settings.sslmode) {
    case 'disable':
      return [{ tls: false }];
    case 'allow':
      return [{ tls: false }, { tls: true }];
    case 'prefer':
      return [{ tls: true }, { tls: false }];
    default:
      return [{ tls: true }];
  }
}

/**
 * Pure: whether a failed attempt may be followed by the next one, as libpq does: `prefer` falls back to clear when
 * the server offers no TLS, the handshake fails, or the server refuses the TLS session (pg_hba `hostnossl`);
 * `allow` moves on to TLS when the server refuses the clear session (SQLSTATE class 28, pg_hba `hostssl`).
 */
export function mayFallBack(sslmode: SslMode, attempt: TlsAttempt, err: unknown): boolean {
  const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : '';
  const message = err instanceof Error ? err.message : String(err);
  if (sslmode === 'prefer' && attempt.tls) {
    if (/does not support SSL|error establishing an SSL connection/i.test(message)) return true;
    if (code.startsWith('28') && code !== '28P01') return true;
    return isTlsHandshakeError(err);
  }
  if (sslmode === 'allow' && !attempt.tls) return code.startsWith('28') && code !== '28P01';
  return false;
}

/** Node's TLS errors: certificate verification (`ERR_TLS_*`, OpenSSL's reasons) and protocol failures. */
export function isTlsHandshakeError(err: unknown): boolean {
  const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : '';
  return (
    code.startsWith('ERR_TLS_') ||
    code.startsWith('ERR_SSL_') ||
    CERTIFICATE_ERRORS.has(code) ||
    /^(EPROTO|ECONNRESET)$/.test(code)
  );
}

const CERTIFICATE_ERRORS = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'INVALID_CA',
  'HOSTNAME_MISMATCH',
]);

/** A TLS set-up problem on this machine (a missing or unreadable file): bad input, nothing was tried. */
function tlsFileError(label: string, what: string, path: string, err: unknown): InputError {
  const reason = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : String(err);
  return new InputError(`${label}: cannot read ${what} ${JSON.stringify(path)} (${reason})`);
}

function readPem(label: string, what: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw tlsFileError(label, what, path, err);
  }
}

/** The operating system's root bundle file, when one exists (`SSL_CERT_FILE` first, as OpenSSL reads it). */
export function systemRootFile(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const candidates = [env.SSL_CERT_FILE, ...SYSTEM_BUNDLES].filter((p): p is string => p !== undefined && p !== '');
  return candidates.find((p) => existsSync(p));
}

function postgresqlDir(env: NodeJS.ProcessEnv): string {
  return join(env.HOME ?? homedir(), '.postgresql');
}

/**
 * The root certificate file libpq would use: the named file, the system or RDS bundle's file, or
 * `~/.postgresql/root.crt` when it exists. `system` without a bundle file on disk gives `system` (Node's own roots
 * for node-postgres; libpq 16+ resolves the word itself). undefined: none.
 */
export function rootCertFile(settings: TlsSettings, label: string, env: NodeJS.ProcessEnv = process.env) {
  const value = settings.sslrootcert;
  if (value === undefined) {
    const fallback = join(postgresqlDir(env), 'root.crt');
    return existsSync(fallback) ? fallback : undefined;
  }
  if (value === 'system') return systemRootFile(env) ?? 'system';
  if (value === 'rds') {
    try {
      return rdsCaBundleFile(env);
    } catch (err) {
      throw tlsFileError(label, 'the RDS CA bundle in', tmpdir(), err);
    }
  }
  return value;
}

function clientCertFiles(
  settings: TlsSettings,
  env: NodeJS.ProcessEnv,
): { readonly cert: string; readonly key: string } | undefined {
  if (settings.sslcert !== undefined)
    return { cert: settings.sslcert, key: settings.sslkey ?? join(postgresqlDir(env), 'postgresql.key') };
  const cert = join(postgresqlDir(env), 'postgresql.crt');
  const key = join(postgresqlDir(env), 'postgresql.key');
  return existsSync(cert) && existsSync(key) ? { cert, key } : undefined;
}

/** libpq refuses a private key that group or others may read (root-owned 0640 keys excepted). */
function checkKeyMode(label: string, path: string): void {
  let mode: number;
  let uid: number;
  try {
    ({ mode, uid } = statSync(path));
  } catch (err) {
    throw tlsFileError(label, 'sslkey', path, err);
  }
  const loose = uid === 0 ? (mode & 0o037) !== 0 : (mode & 0o077) !== 0;
  if (loose)
    throw new InputError(
      `${label}: the private key ${JSON.stringify(path)} may be read by group or others (mode ${(mode & 0o777).toString(8)}); chmod 0600 it`,
    );
}

/**
 * node-postgres TLS options for a TLS attempt (reads the files; throws {@link InputError} for a missing one).
 * The chain is verified in verify-ca / verify-full, and in weaker modes when a root certificate is at hand (as
 * libpq does); the server's name only in verify-full.
 */
export function nodeTlsOptions(
  settings: TlsSettings,
  label: string,
  env: NodeJS.ProcessEnv = process.env,
): ConnectionOptions {
  const rootFile = rootCertFile(settings, label, env);
  const verifying = settings.sslmode === 'verify-ca' || settings.sslmode === 'verify-full';
  if (verifying && rootFile === undefined)
    throw new InputError(
      `${label}: sslmode=${settings.sslmode} needs a root certificate to check the server against: add sslrootcert=FILE (or sslrootcert=system for a publicly signed server), or create ~/.postgresql/root.crt`,
    );
  const options: ConnectionOptions = {};
  if (rootFile !== undefined) {
    options.rejectUnauthorized = true;
    options.ca = rootFile === 'system' ? [...rootCertificates] : readPem(label, 'sslrootcert', rootFile);
    // The name is checked in verify-full only; verify-ca and the weaker modes check the chain.
    if (settings.sslmode !== 'verify-full') options.checkServerIdentity = () => undefined;
  } else {
    options.rejectUnauthorized = false;
  }
  const client = clientCertFiles(settings, env);
  if (client) {
    options.cert = readPem(label, 'sslcert', client.cert);
    checkKeyMode(label, client.key);
    options.key = readPem(label, 'sslkey', client.key);
  }
  return options;
}

/**
 * The libpq environment for the TLS settings of a child process: the same mode, files and channel binding the
 * node-postgres sessions use. `system` is handed over as the system bundle's file where one exists, so libpq
 * before 16 (which does not know the word) checks against the same roots.
 */
export function tlsEnv(
  settings: TlsSettings,
  label = 'connection',
  env: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const out: Record<string, string> = { PGSSLMODE: settings.sslmode };
  const root = settings.sslrootcert !== undefined ? rootCertFile(settings, label, env) : undefined;
  if (root !== undefined) out.PGSSLROOTCERT = root;
  if (settings.sslcert !== undefined) out.PGSSLCERT = settings.sslcert;
  if (settings.sslkey !== undefined) out.PGSSLKEY = settings.sslkey;
  if (settings.channelBinding !== undefined) out.PGCHANNELBINDING = settings.channelBinding;
  return out;
}

/**
 * A clear, scrubbed message for a failed TLS session, with what to do: the certificate does not name the host,
 * is not signed by the given CA, or the server offers no TLS when the mode demands it. undefined: not a TLS error.
 */
export function describeTlsFailure(
  err: unknown,
  settings: TlsSettings,
  where: { readonly host: string },
): string | undefined {
  const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : '';
  const message = err instanceof Error ? err.message : String(err);
  const mode = `sslmode=${settings.sslmode}`;
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID' || code === 'HOSTNAME_MISMATCH')
    return `TLS: the server's certificate does not name "${where.host}" (${mode}): ${message}. Connect by a name the certificate lists, or use sslmode=verify-ca to check the chain only`;
  if (CERTIFICATE_ERRORS.has(code))
    return `TLS: the server's certificate cannot be verified (${mode}, ${code}): ${message}. Give the CA that signed it in sslrootcert${settings.sslrootcert ? ` (now ${settings.sslrootcert})` : ''}`;
  if (/does not support SSL/i.test(message))
    return `TLS: the server does not accept TLS connections, and ${mode} demands TLS. Turn on ssl on the server, or use sslmode=prefer / disable`;
  if (/channel binding/i.test(message)) return message;
  return undefined;
}
