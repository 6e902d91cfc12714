/**
 * The Amazon RDS CA bundle pg-migrate ships (core/rds-ca.ts): it resolves without network, holds the RDS roots of
 * every generation in use, and PEM text becomes a private file.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isPemText, parsePemCertificates, pemFile, rdsCaBundleFile, rdsCaBundlePem } from '../../core/rds-ca.js';
import { rootCertFile } from '../../core/tls.js';

function commonNames(pem: string): string[] {
  return (parsePemCertificates(pem) ?? []).map((c) => /CN=([^\n]+)/.exec(c.subject)?.[1] ?? '');
}

describe('the shipped RDS CA bundle', () => {
  it('resolves sslrootcert=rds to a file of the RDS roots, with no environment and no network', () => {
    const file = rootCertFile({ sslmode: 'verify-full', sslrootcert: 'rds' }, 'source', {});
    expect(file).toBe(rdsCaBundleFile({}));
    const names = commonNames(readFileSync(file as string, 'utf8'));
    // The current generation (2024 on) of three regions, each kind of key, and the RDS Proxy's root.
    for (const name of [
      'Amazon RDS us-east-1 Root CA RSA2048 G1',
      'Amazon RDS eu-west-1 Root CA RSA4096 G1',
      'Amazon RDS ap-southeast-2 Root CA ECC384 G1',
      'Amazon Root CA 1',
    ])
      expect(names).toContain(name);
    expect(names.length).toBeGreaterThan(90);
  });

  it('holds root certificates that are CAs and valid for years to come', () => {
    const certs = parsePemCertificates(rdsCaBundlePem()) ?? [];
    const g1 = certs.filter((c) => /Root CA (RSA2048|RSA4096|ECC384) G1/.test(c.subject));
    expect(g1.length).toBeGreaterThan(30);
    const inTenYears = Date.now() + 10 * 365 * 24 * 3600 * 1000;
    for (const cert of g1) {
      expect(cert.ca).toBe(true);
      expect(cert.subject).toBe(cert.issuer);
      expect(new Date(cert.validTo).getTime()).toBeGreaterThan(inTenYears);
    }
  });

  it('writes the bundle once per process into a private directory', () => {
    const file = rdsCaBundleFile({});
    expect(rdsCaBundleFile({})).toBe(file);
    expect(statSync(dirname(file)).mode & 0o777).toBe(0o700);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });
});

describe('PEM text', () => {
  const pem = rdsCaBundlePem().split('-----END CERTIFICATE-----')[0] + '-----END CERTIFICATE-----\n';

  it('becomes a file named by its content', () => {
    const file = pemFile(pem);
    expect(readFileSync(file, 'utf8')).toBe(pem);
    expect(pemFile(pem)).toBe(file);
    expect(new X509Certificate(readFileSync(file)).ca).toBe(true);
  });

  it('is told from a file name and parsed, and fails to parse when a block is broken', () => {
    expect(isPemText(pem)).toBe(true);
    expect(isPemText('/etc/ssl/certs/ca.pem')).toBe(false);
    expect(parsePemCertificates(pem)).toHaveLength(1);
    expect(parsePemCertificates('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----')).toBeUndefined();
    expect(parsePemCertificates('no certificate here')).toBeUndefined();
  });
});
