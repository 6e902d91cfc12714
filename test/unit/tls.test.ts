import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { clientConfig, libpqEnv, parseConnectionString } from '../../core/connection.js';
import { subscriptionTls } from '../../core/steps/replication/subscriber.js';
import {
  describeTlsFailure,
  mayFallBack,
  nodeTlsOptions,
  RDS_CA_BUNDLE_ENV,
  tlsAttempts,
  tlsEnv,
  tlsProblems,
} from '../../core/tls.js';

const home = mkdtempSync(join(tmpdir(), 'pgm-tls-unit-'));
const env = { HOME: home } as NodeJS.ProcessEnv;
const caFile = join(home, 'ca.pem');
writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');

describe('TLS settings as libpq takes them', () => {
  it.each([
    ['disable', [false]],
    ['allow', [false, true]],
    ['prefer', [true, false]],
    ['require', [true]],
    ['verify-ca', [true]],
    ['verify-full', [true]],
  ] as const)('tries %s as %j (TLS first for prefer, clear first for allow)', (sslmode, expected) => {
    expect(tlsAttempts({ sslmode }).map((a) => a.tls)).toEqual(expected);
  });

  it.each([
    ['prefer', true, new Error('The server does not support SSL connections'), true],
    ['prefer', true, Object.assign(new Error('no pg_hba.conf entry … SSL encryption'), { code: '28000' }), true],
    ['prefer', true, Object.assign(new Error('self-signed'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' }), true],
    ['prefer', true, Object.assign(new Error('password authentication failed'), { code: '28P01' }), false],
    ['prefer', true, Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }), false],
    ['allow', false, Object.assign(new Error('no pg_hba.conf entry … no encryption'), { code: '28000' }), true],
    ['allow', false, Object.assign(new Error('password authentication failed'), { code: '28P01' }), false],
    ['require', true, new Error('The server does not support SSL connections'), false],
  ] as const)('with %s after a %s attempt, falls back on %s: %s', (sslmode, tls, err, expected) => {
    expect(mayFallBack(sslmode, { tls }, err)).toBe(expected);
  });

  it.each([
    [{ sslmode: 'require', sslrootcert: 'system' }, /sslrootcert=system needs sslmode=verify-full/],
    [{ sslmode: 'disable', channelBinding: 'require' }, /channel_binding=require needs TLS/],
    [{ sslmode: 'require', sslkey: '/k' }, /sslkey is given without sslcert/],
  ] as const)('fails when the settings are %j', (settings, message) => {
    expect(tlsProblems(settings, 'source').join('\n')).toMatch(message);
  });

  it('makes verify-full the default for sslrootcert=system, as libpq 16 does', () => {
    expect(parseConnectionString('postgres://u@h/db?sslrootcert=system').sslmode).toBe('verify-full');
    expect(() => parseConnectionString('postgres://u@h/db?sslrootcert=system&sslmode=require', 'source')).toThrow(
      /verify-full/,
    );
  });

  it('parses sslcert, sslkey and channel_binding, and refuses an unknown channel_binding', () => {
    expect(
      parseConnectionString(
        'host=h user=u sslmode=verify-ca sslrootcert=/ca sslcert=/c sslkey=/k channel_binding=require',
      ),
    ).toMatchObject({
      sslmode: 'verify-ca',
      sslrootcert: '/ca',
      sslcert: '/c',
      sslkey: '/k',
      channelBinding: 'require',
    });
    expect(() => parseConnectionString('host=h user=u channel_binding=maybe', 'target')).toThrow(/channel_binding/);
  });
});

describe('node-postgres TLS options', () => {
  it('encrypts without checking in require when no root certificate is at hand', () => {
    expect(nodeTlsOptions({ sslmode: 'require' }, 'source', env)).toEqual({ rejectUnauthorized: false });
  });

  it('checks the chain, not the name, in require and verify-ca when a root certificate is given', () => {
    for (const sslmode of ['require', 'verify-ca'] as const) {
      const options = nodeTlsOptions({ sslmode, sslrootcert: caFile }, 'source', env);
      expect(options.rejectUnauthorized).toBe(true);
      expect(options.ca).toContain('BEGIN CERTIFICATE');
      expect(options.checkServerIdentity?.('h', {} as never)).toBeUndefined();
    }
  });

  it('checks chain and name in verify-full', () => {
    const options = nodeTlsOptions({ sslmode: 'verify-full', sslrootcert: caFile }, 'source', env);
    expect(options).toMatchObject({ rejectUnauthorized: true });
    expect(options.checkServerIdentity).toBeUndefined();
  });

  it('uses ~/.postgresql/root.crt when no sslrootcert is given, as libpq does', () => {
    const other = mkdtempSync(join(tmpdir(), 'pgm-tls-home-'));
    mkdirSync(join(other, '.postgresql'));
    writeFileSync(join(other, '.postgresql', 'root.crt'), 'PEM');
    const options = nodeTlsOptions({ sslmode: 'require' }, 'source', { HOME: other });
    expect(options).toMatchObject({ rejectUnauthorized: true, ca: 'PEM' });
  });

  it('fails when verify-full has no root certificate, naming the ways to give one', () => {
    expect(() => nodeTlsOptions({ sslmode: 'verify-full' }, 'source', env)).toThrow(
      /sslrootcert=FILE.*sslrootcert=system/,
    );
  });

  it('reads the shipped RDS CA bundle for sslrootcert=rds, or the file PG_MIGRATE_RDS_CA_BUNDLE names', () => {
    const shipped = nodeTlsOptions({ sslmode: 'verify-full', sslrootcert: 'rds' }, 'source', env);
    expect(shipped.ca).toContain('BEGIN CERTIFICATE');
    expect(tlsEnv({ sslmode: 'verify-full', sslrootcert: 'rds' }, 'source', env).PGSSLROOTCERT).toMatch(/\.pem$/);
    const named = nodeTlsOptions({ sslmode: 'verify-full', sslrootcert: 'rds' }, 'source', {
      ...env,
      [RDS_CA_BUNDLE_ENV]: caFile,
    });
    expect(named.ca).toBe(readFileSync(caFile, 'utf8'));
    expect(tlsEnv({ sslmode: 'verify-full', sslrootcert: 'rds' }, 'source', { [RDS_CA_BUNDLE_ENV]: caFile })).toEqual({
      PGSSLMODE: 'verify-full',
      PGSSLROOTCERT: caFile,
    });
  });

  it('fails when the client key may be read by others', () => {
    const key = join(home, 'client.key');
    writeFileSync(key, 'KEY');
    chmodSync(key, 0o644);
    expect(() => nodeTlsOptions({ sslmode: 'require', sslcert: caFile, sslkey: key }, 'source', env)).toThrow(
      /chmod 0600/,
    );
    chmodSync(key, 0o600);
    expect(nodeTlsOptions({ sslmode: 'require', sslcert: caFile, sslkey: key }, 'source', env)).toMatchObject({
      key: 'KEY',
    });
  });

  it('fails with the file named when sslrootcert does not exist', () => {
    expect(() => nodeTlsOptions({ sslmode: 'verify-ca', sslrootcert: '/nonexistent/ca.pem' }, 'source', env)).toThrow(
      /cannot read sslrootcert "\/nonexistent\/ca.pem" \(ENOENT\)/,
    );
  });

  it('asks for channel binding on TLS sessions unless disabled', () => {
    const spec = parseConnectionString('postgres://u:p@h/db?sslmode=require');
    expect(clientConfig(spec, 'db')).toMatchObject({ enableChannelBinding: true });
    expect(clientConfig({ ...spec, channelBinding: 'disable' }, 'db')).toMatchObject({ enableChannelBinding: false });
    expect(clientConfig(spec, 'db', {}, { tls: false })).toMatchObject({ ssl: false, enableChannelBinding: false });
  });
});

describe('libpq child processes', () => {
  it('get the same TLS settings through the environment', () => {
    const spec = parseConnectionString(
      `host=h user=u password=p sslmode=verify-full sslrootcert=${caFile} sslcert=/c sslkey=/k channel_binding=require`,
    );
    expect(libpqEnv(spec)).toMatchObject({
      PGSSLMODE: 'verify-full',
      PGSSLROOTCERT: caFile,
      PGSSLCERT: '/c',
      PGSSLKEY: '/k',
      PGCHANNELBINDING: 'require',
      PGPASSWORD: 'p',
    });
  });

  it('hand over sslrootcert=system as the system bundle file when there is one', () => {
    const bundle = join(home, 'bundle.pem');
    writeFileSync(bundle, 'PEM');
    expect(tlsEnv({ sslmode: 'verify-full', sslrootcert: 'system' }, 'source', { SSL_CERT_FILE: bundle })).toEqual({
      PGSSLMODE: 'verify-full',
      PGSSLROOTCERT: bundle,
    });
  });
});

describe('explaining a TLS failure', () => {
  const settings = { sslmode: 'verify-full' as const, sslrootcert: '/ca.pem' };

  it.each([
    [
      Object.assign(new Error("Hostname/IP does not match certificate's altnames"), {
        code: 'ERR_TLS_CERT_ALTNAME_INVALID',
      }),
      /does not name "db.example.com" \(sslmode=verify-full\).*verify-ca/,
    ],
    [
      Object.assign(new Error('unable to verify the first certificate'), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }),
      /cannot be verified.*sslrootcert \(now \/ca.pem\)/,
    ],
    [new Error('The server does not support SSL connections'), /does not accept TLS connections/],
  ])('says what went wrong and what to do: %s', (err, message) => {
    expect(describeTlsFailure(err, settings, { host: 'db.example.com' })).toMatch(message);
  });

  it('leaves other errors alone', () => {
    expect(describeTlsFailure(new Error('password authentication failed'), settings, { host: 'h' })).toBeUndefined();
  });
});

describe('the subscription connection TLS', () => {
  it.each([
    [{ sslmode: 'prefer' }, {}, { sslmode: 'prefer' }],
    [{ sslmode: 'require' }, {}, { sslmode: 'require' }],
    [
      { sslmode: 'verify-full', sslrootcert: '/local/ca.pem' },
      { subscriptionSslrootcert: '/etc/postgresql/source-ca.pem' },
      { sslmode: 'verify-full', sslrootcert: '/etc/postgresql/source-ca.pem' },
    ],
    [
      { sslmode: 'require', channelBinding: 'require' },
      { subscriptionSslmode: 'verify-full', subscriptionSslrootcert: 'system' },
      { sslmode: 'verify-full', sslrootcert: 'system', channelBinding: 'require' },
    ],
  ] as const)('from a source with %j and %j, is %j', (source, request, expected) => {
    expect(subscriptionTls(source, request)).toEqual(expected);
  });

  it('never carries a local file, and says so when that weakens the check of the source', () => {
    const tls = subscriptionTls({ sslmode: 'verify-full', sslrootcert: '/local/ca.pem' }, {});
    expect(tls).toMatchObject({ sslmode: 'require' });
    expect(tls).not.toHaveProperty('sslrootcert');
    expect(tls.weakened).toMatch(/only encrypts/);
  });
});
