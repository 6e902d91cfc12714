import { describe, expect, it } from 'vitest';
import {
  clientConfig,
  describeServer,
  libpqEnv,
  NO_TRANSACTION_TIMEOUT_SQL,
  parseConnectionString,
  quoteIdent,
  quoteLiteral,
  SESSION_POLICIES,
  sessionStartupOptions,
  toUri,
} from '../../core/connection.js';
import { scrub } from '../../core/errors.js';

describe('parseConnectionString', () => {
  it.each([
    [
      'postgres://app:s%40cret@db.example.com:6432/shop?sslmode=require',
      { host: 'db.example.com', port: 6432, user: 'app', password: 's@cret', database: 'shop', sslmode: 'require' },
    ],
    ['postgresql://app@[::1]/x', { host: '::1', port: 5432, user: 'app', database: 'x', sslmode: 'prefer' }],
    [
      "host=127.0.0.1 port=5433 user=admin password='it\\'s x' dbname=postgres",
      { host: '127.0.0.1', port: 5433, user: 'admin', password: "it's x", database: 'postgres' },
    ],
    ['host=h user=u', { host: 'h', port: 5432, user: 'u', database: 'u' }],
  ])('parses %s', (text, expected) => {
    expect(parseConnectionString(text)).toMatchObject(expected);
  });

  it.each([
    ['', /empty/],
    ['mysql://u@h/db', /unsupported scheme/],
    ['postgres://u@h:99999/db', /cannot parse|invalid port/],
    ['host=h', /no user/],
    ['postgres://u@h/db?sslmode=sometimes', /invalid sslmode/],
    ['postgres://u@h/db?target_session_attrs=any', /unsupported connection parameter/],
    ['this is not a uri', /cannot parse/],
  ])('fails when given %j', (text, message) => {
    expect(() => parseConnectionString(text, 'source')).toThrow(message);
  });

  it('never puts the password into an error message', () => {
    try {
      parseConnectionString('postgres://u:hunter2secret@h:0x/db', 'source');
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).not.toContain('hunter2secret');
    }
  });
});

describe('rendering a spec', () => {
  const spec = parseConnectionString('postgres://us%20er:p%40ss%3Aword@db:5433/my%20db');

  it('round-trips through toUri', () => {
    expect(parseConnectionString(toUri(spec))).toMatchObject({
      user: 'us er',
      password: 'p@ss:word',
      database: 'my db',
      port: 5433,
    });
  });

  it('describes the server without credentials', () => {
    expect(describeServer(spec)).toBe('db:5433');
  });

  it('passes the password to child processes through the environment', () => {
    expect(libpqEnv(spec, 'other')).toMatchObject({ PGPASSWORD: 'p@ss:word', PGDATABASE: 'other', PGUSER: 'us er' });
  });

  it('pins search_path and timeouts at session start', () => {
    expect(clientConfig(spec, 'x', { statementTimeoutMs: 500 }).options).toContain('search_path=pg_catalog,pg_temp');
    expect(clientConfig(spec, 'x', { statementTimeoutMs: 500 }).options).toContain('statement_timeout=500');
  });
});

describe('quoting', () => {
  it.each([
    ['simple', '"simple"'],
    ['x"; drop table t; --', '"x""; drop table t; --"'],
  ])('quotes identifier %j', (name, quoted) => {
    expect(quoteIdent(name)).toBe(quoted);
  });

  it.each([
    ["it's", "'it''s'"],
    ['back\\slash', "E'back\\\\slash'"],
  ])('quotes literal %j', (value, quoted) => {
    expect(quoteLiteral(value)).toBe(quoted);
  });
});

describe('scrub', () => {
  it.each([
    ['connect postgres://u:topsecret@h/db failed', 'connect postgres://u:***@h/db failed'],
    ["host=h password='a b' user=u", 'host=h password=*** user=u'],
    ['PGPASSWORD=abc pg_dump', 'PGPASSWORD=*** pg_dump'],
  ])('removes credentials from %j', (text, expected) => {
    expect(scrub(text)).toBe(expected);
  });
});

describe('session policies', () => {
  it('keeps sessions that hold a snapshot or read under one from the idle-in-transaction timeout', () => {
    expect(sessionStartupOptions({ role: 'snapshot' })).toBe(
      '-c search_path=pg_catalog,pg_temp -c statement_timeout=0 -c lock_timeout=0 -c idle_in_transaction_session_timeout=0',
    );
    expect(sessionStartupOptions({ role: 'reader', lockTimeoutMs: 5 })).toContain(
      '-c lock_timeout=5 -c idle_in_transaction_session_timeout=0',
    );
    expect(SESSION_POLICIES.snapshot.longTransaction && SESSION_POLICIES.reader.longTransaction).toBe(true);
  });

  it('leaves the server default to the other sessions', () => {
    for (const role of ['check', 'writer', 'control'] as const) {
      expect(sessionStartupOptions({ role, statementTimeoutMs: 100 })).toBe(
        '-c search_path=pg_catalog,pg_temp -c statement_timeout=100 -c lock_timeout=0',
      );
    }
    expect(sessionStartupOptions()).toBe('-c search_path=pg_catalog,pg_temp -c statement_timeout=0 -c lock_timeout=0');
  });

  it('turns transaction_timeout off only where the server has it', () => {
    expect(NO_TRANSACTION_TIMEOUT_SQL).toBe(
      "SELECT pg_catalog.set_config('transaction_timeout', '0', false) WHERE pg_catalog.current_setting('transaction_timeout', true) IS NOT NULL",
    );
    expect(clientConfig(parseConnectionString('postgres://u@h/db'), 'db', { role: 'reader' }).options).toBe(
      sessionStartupOptions({ role: 'reader' }),
    );
  });
});
