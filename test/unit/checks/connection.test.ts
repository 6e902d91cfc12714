import { describe, expect, it } from 'vitest';
import { connectionRemedy, evaluateConnection } from '../../../core/checks/connectivity.js';
import { failed, ok, server } from './helpers.js';

const where = { host: 'db.example.com', port: 5432, user: 'app', database: 'shop', sslmode: 'prefer' };

describe('connectionRemedy', () => {
  it.each([
    ['28P01', 'password authentication failed for user "app"', /password of user "app"/],
    [
      '28000',
      'no pg_hba.conf entry for host "10.0.0.1", user "app", database "shop", no encryption',
      /pg_hba\.conf.*sslmode/,
    ],
    ['28000', 'role "app" does not exist', /create the role "app"/],
    ['3D000', 'database "shop" does not exist', /database "shop" does not exist/],
    ['53300', 'sorry, too many clients already', /max_connections/],
    [undefined, 'The server does not support SSL connections', /sslmode/],
    ['ENOTFOUND', 'getaddrinfo ENOTFOUND db.example.com', /does not resolve/],
    ['ECONNREFUSED', 'connect ECONNREFUSED 10.0.0.1:5432', /listen_addresses/],
    ['ETIMEDOUT', 'connect ETIMEDOUT', /security group/],
    [undefined, 'Connection terminated due to connection timeout', /security group/],
    [undefined, 'something else', /pg_hba\.conf.*security group.*sslmode/],
  ])('%s %s', (code, message, remedy) => {
    expect(connectionRemedy(code, message, where)).toMatch(remedy);
  });
});

describe('evaluateConnection', () => {
  it('passes with host, port and version for the report', () => {
    const [r] = evaluateConnection('connection-source', {
      side: 'source',
      ...where,
      server: ok(server({ superuser: false })),
    });
    expect(r).toMatchObject({
      status: 'pass',
      details: { host: 'db.example.com', port: 5432, version: '15.8', superuser: false },
    });
  });

  it('fails with the error and a remedy', () => {
    const [r] = evaluateConnection('connection-target', {
      side: 'target',
      ...where,
      server: failed('password authentication failed for user "app"', '28P01'),
    });
    expect(r).toMatchObject({ id: 'connection-target', status: 'fail', details: { code: '28P01' } });
    expect(r?.message).toMatch(/cannot connect to the target db\.example\.com:5432 as "app"/);
    expect(r?.remedy).toMatch(/password/);
  });
});
