/**
 * TLS as libpq does it, against servers with TLS on and a CA made here with openssl: every sslmode, verify-full
 * by name, client certificates, channel binding, and the libpq child processes (pg_dump) with the same settings.
 */
import { join } from 'node:path';
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { type ConnectionSpec, connect, parseConnectionString } from '../../core/connection.js';
import { findPgTools } from '../../core/pgtools-locate.js';
import { runPgTool } from '../../core/pgtools.js';
import { issueCertificate, makeTestCa } from '../support/tls.js';
import { useCluster } from '../support/vitest.js';

const ca = makeTestCa();
const tls = useCluster({ version: 15, tls: { ca } });
/** Same CA, but a certificate that names another host only. */
const misnamed = useCluster({ version: 15, tls: { ca, names: ['DNS:db.example.test'] } });
const plain = useCluster({ version: 15 });

function spec(uri: string, params: string): ConnectionSpec {
  return parseConnectionString(`${uri}?${params}`, 'source');
}

async function sslOf(client: pg.Client): Promise<boolean> {
  try {
    const { rows } = await client.query<{ ssl: boolean }>(
      'SELECT ssl FROM pg_catalog.pg_stat_ssl WHERE pid = pg_catalog.pg_backend_pid()',
    );
    return rows[0]?.ssl === true;
  } finally {
    await client.end();
  }
}

describe('TLS sessions', () => {
  it('encrypts a prefer session when the server offers TLS, and falls back to clear when it does not', async () => {
    expect(await sslOf(await connect(spec(tls().uri(), 'sslmode=prefer')))).toBe(true);
    expect(await sslOf(await connect(spec(plain().uri(), 'sslmode=prefer')))).toBe(false);
    // The second prefer session to the server without TLS goes straight to clear (remembered), and still works.
    expect(await sslOf(await connect(spec(plain().uri(), 'sslmode=prefer')))).toBe(false);
  });

  it('tries clear first with allow, and TLS when the server accepts only TLS for the user', async () => {
    await tls().query("CREATE ROLE tls_only LOGIN PASSWORD 'tls-only-pw'");
    await tls().prependHba([
      'hostnossl all tls_only 127.0.0.1/32 reject',
      'hostssl all tls_only 127.0.0.1/32 scram-sha-256',
    ]);
    const uri = tls().uri('postgres', 'tls_only', 'tls-only-pw');
    expect(await sslOf(await connect(spec(tls().uri(), 'sslmode=allow')))).toBe(false);
    expect(await sslOf(await connect(spec(uri, 'sslmode=allow')))).toBe(true);
    await expect(connect(spec(uri, 'sslmode=disable'))).rejects.toThrow(/pg_hba\.conf rejects connection/);
  });

  it('passes verify-full and verify-ca with the CA that signed the certificate', async () => {
    for (const mode of ['verify-full', 'verify-ca']) {
      expect(await sslOf(await connect(spec(tls().uri(), `sslmode=${mode}&sslrootcert=${ca.certFile}`)))).toBe(true);
    }
  });

  it('fails when verify-full meets a certificate that does not name the host, and says so', async () => {
    await expect(connect(spec(misnamed().uri(), `sslmode=verify-full&sslrootcert=${ca.certFile}`))).rejects.toThrow(
      /TLS: the server's certificate does not name "127\.0\.0\.1" \(sslmode=verify-full\)/,
    );
    // verify-ca checks the chain only: the same server passes.
    expect(await sslOf(await connect(spec(misnamed().uri(), `sslmode=verify-ca&sslrootcert=${ca.certFile}`)))).toBe(
      true,
    );
  });

  it('fails when the certificate is signed by another CA than sslrootcert', async () => {
    const other = makeTestCa(undefined, 'another CA');
    await expect(connect(spec(tls().uri(), `sslmode=verify-ca&sslrootcert=${other.certFile}`))).rejects.toThrow(
      /TLS: the server's certificate cannot be verified/,
    );
  });

  it('fails when require meets a server without TLS', async () => {
    await expect(connect(spec(plain().uri(), 'sslmode=require'))).rejects.toThrow(
      /does not accept TLS connections, and sslmode=require demands TLS/,
    );
  });

  it('logs in with a client certificate (sslcert / sslkey) where the server asks for one', async () => {
    await tls().query('CREATE ROLE cert_user LOGIN');
    await tls().prependHba(['hostssl all cert_user 127.0.0.1/32 cert']);
    const client = issueCertificate(ca, join(ca.dir, 'client-cert_user'), 'cert_user');
    const uri = `postgresql://cert_user@${tls().host}:${tls().port}/postgres`;
    const params = `sslmode=verify-full&sslrootcert=${ca.certFile}&sslcert=${client.certFile}&sslkey=${client.keyFile}`;
    expect(await sslOf(await connect(spec(uri, params)))).toBe(true);
    await expect(connect(spec(uri, `sslmode=verify-full&sslrootcert=${ca.certFile}`))).rejects.toThrow(
      /certificate|connection requires a valid client certificate/i,
    );
  });

  it('logs in with channel_binding=require over SCRAM, and refuses a server that asks for a clear-text password', async () => {
    expect(await sslOf(await connect(spec(tls().uri(), 'sslmode=require&channel_binding=require')))).toBe(true);
    await tls().query("CREATE ROLE clear_pw LOGIN PASSWORD 'clear-pw-secret'");
    await tls().prependHba(['hostssl all clear_pw 127.0.0.1/32 password']);
    const uri = tls().uri('postgres', 'clear_pw', 'clear-pw-secret');
    expect(await sslOf(await connect(spec(uri, 'sslmode=require')))).toBe(true);
    await expect(connect(spec(uri, 'sslmode=require&channel_binding=require'))).rejects.toThrow(
      /channel_binding=require, but the server asked for a clear-text password/,
    );
  });

  it('runs pg_dump with the same settings through the environment (verify-full with the CA)', async () => {
    const tools = await findPgTools(15);
    expect(tools).toBeDefined();
    const server = spec(tls().uri(), `sslmode=verify-full&sslrootcert=${ca.certFile}`);
    const out = await runPgTool(tools!, 'pg_dump', ['--schema-only', '--format=plain'], {
      server,
      database: 'postgres',
      what: 'dump over verify-full',
    });
    expect(out.stdout).toContain('PostgreSQL database dump');
    const wrong = spec(misnamed().uri(), `sslmode=verify-full&sslrootcert=${ca.certFile}`);
    await expect(
      runPgTool(tools!, 'pg_dump', ['--schema-only', '--format=plain'], {
        server: wrong,
        database: 'postgres',
        what: 'dump of a misnamed server',
      }),
    ).rejects.toThrow(/does not match host name|certificate/);
  });
});
