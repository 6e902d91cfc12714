/**
 * A throwaway certificate authority for tests, made with openssl: EC P-256 keys, valid for two days. The CA signs
 * server certificates (the harness's `tls` option) and client certificates (sslcert / sslkey tests).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCa {
  readonly dir: string;
  /** The CA certificate (PEM): what a client passes as sslrootcert. */
  readonly certFile: string;
  readonly keyFile: string;
}

export interface IssuedCertificate {
  readonly certFile: string;
  /** Mode 0600. */
  readonly keyFile: string;
}

function openssl(args: readonly string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** `openssl req` arguments for a new unencrypted EC P-256 key. */
const NEW_EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'] as const;

const madeDirs: string[] = [];
let exitHook = false;

/**
 * Makes a CA in `parent` (a new private directory under the system temporary directory when omitted, removed when
 * the process exits).
 */
export function makeTestCa(parent?: string, name = 'pg-migrate test CA'): TestCa {
  const dir = parent ? join(parent, 'tls-ca') : mkdtempSync(join(tmpdir(), 'pgm-ca-'));
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (!parent) {
    madeDirs.push(dir);
    if (!exitHook) {
      exitHook = true;
      process.on('exit', () => {
        for (const d of madeDirs) rmSync(d, { recursive: true, force: true });
      });
    }
  }
  const keyFile = join(dir, 'ca.key');
  const certFile = join(dir, 'ca.crt');
  openssl([
    'req',
    '-x509',
    ...NEW_EC_KEY,
    '-keyout',
    keyFile,
    '-out',
    certFile,
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  chmodSync(keyFile, 0o600);
  return { dir, certFile, keyFile };
}

/**
 * Issues a certificate signed by `ca` into `dir`: common name `commonName`, subjectAltName `names`
 * (e.g. `['IP:127.0.0.1', 'DNS:localhost']`; none for a client certificate, whose CN is the user name).
 */
export function issueCertificate(
  ca: TestCa,
  dir: string,
  commonName: string,
  names: readonly string[] = [],
): IssuedCertificate {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const keyFile = join(dir, 'cert.key');
  const csrFile = join(dir, 'cert.csr');
  const certFile = join(dir, 'cert.crt');
  const extFile = join(dir, 'cert.ext');
  openssl(['req', '-new', ...NEW_EC_KEY, '-keyout', keyFile, '-out', csrFile, '-subj', `/CN=${commonName}`]);
  writeFileSync(
    extFile,
    [
      'basicConstraints=CA:FALSE',
      names.length > 0 ? `subjectAltName=${names.join(',')}` : '',
      `extendedKeyUsage=${names.length > 0 ? 'serverAuth' : 'clientAuth'}`,
    ]
      .filter((l) => l !== '')
      .join('\n'),
  );
  openssl([
    'x509',
    '-req',
    '-in',
    csrFile,
    '-CA',
    ca.certFile,
    '-CAkey',
    ca.keyFile,
    '-CAcreateserial',
    '-out',
    certFile,
    '-days',
    '2',
    '-extfile',
    extFile,
  ]);
  chmodSync(keyFile, 0o600);
  return { certFile, keyFile };
}
