import { describe, expect, it } from 'vitest';
import { localHelp, parseLocalArgs } from '../../../cli/args.js';
import { prepareServers } from '../../../cli/connections.js';
import { InputError } from '../../../core/errors.js';
import { parseRequest } from '../../../core/request.js';

const S = 'postgres://admin:s3cr3t-pw@old.example:5432/postgres';
const T = 'host=new.example user=admin password=t0p-s3cret dbname=postgres';

function problems(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof InputError) return err.problems;
    throw err;
  }
  throw new Error('expected an InputError');
}

describe('parseLocalArgs', () => {
  it('turns every migrate option into the request, with env refs instead of the connection strings', () => {
    const args = parseLocalArgs(
      'migrate',
      [
        '--source',
        S,
        '--target',
        T,
        '--dbs',
        'shop,crm',
        '--dbs',
        'hr',
        '--exclude-dbs',
        'tmp',
        '--with-table',
        'shop.public.orders',
        '--skip-table',
        'public.audit',
        '--method',
        'dump',
        '--jobs',
        '8',
        '--max-concurrency',
        '3',
        '--session-budget',
        '6',
        '--no-roles',
        '--replica-identity-full',
        '--cutover',
        '--max-lag-bytes',
        '4096',
        '--timeout',
        '120',
        '--sync-timeout',
        '3600',
        '--checksums',
        '--target-free-bytes',
        '1000000',
        '--json',
        'out.json',
      ],
      {},
    );
    expect(args.source).toBe(S);
    expect(args.target).toBe(T);
    expect(args.json).toBe('out.json');
    expect(args.request).toEqual({
      action: 'migrate',
      source: { env: 'PG_MIGRATE_SOURCE' },
      target: { env: 'PG_MIGRATE_TARGET' },
      dbs: ['shop', 'crm', 'hr'],
      excludeDbs: ['tmp'],
      withTables: ['shop.public.orders'],
      skipTables: ['public.audit'],
      method: 'dump',
      jobs: 8,
      maxConcurrency: 3,
      sessionBudget: 6,
      roles: false,
      replicaIdentityFull: true,
      cutover: true,
      maxLagBytes: 4096,
      timeoutSeconds: 120,
      syncTimeoutSeconds: 3600,
      checksums: true,
      targetFreeBytes: 1_000_000,
    });
    expect(JSON.stringify(args.request)).not.toContain('s3cr3t');
    expect(parseRequest(args.request).jobs).toBe(8);
  });

  it('reads the servers from PG_MIGRATE_SOURCE / PG_MIGRATE_TARGET when the options are absent', () => {
    const args = parseLocalArgs('check', [], { PG_MIGRATE_SOURCE: S, PG_MIGRATE_TARGET: T });
    expect([args.source, args.target]).toEqual([S, T]);
  });

  it('fails when the servers are missing or a number is malformed, listing every problem', () => {
    expect(problems(() => parseLocalArgs('migrate', ['--jobs', 'many', '--timeout', '1.5'], {}))).toEqual([
      '--source is required (or set PG_MIGRATE_SOURCE)',
      '--target is required (or set PG_MIGRATE_TARGET)',
      '--jobs: expected a whole number, got "many"',
      '--timeout: expected a whole number, got "1.5"',
    ]);
  });

  it('fails when an option does not belong to the command', () => {
    expect(problems(() => parseLocalArgs('check', ['--cutover'], {}))[0]).toMatch(/Unknown option '--cutover'/);
    expect(problems(() => parseLocalArgs('status', ['extra'], {}))[0]).toMatch(/Unexpected argument 'extra'/);
  });

  it('documents the options of each command in its help', () => {
    expect(localHelp('migrate')).toContain('--replica-identity-full');
    expect(localHelp('check')).not.toContain('--cutover');
    expect(localHelp('cutover')).toContain('--max-lag-bytes');
  });
});

describe('prepareServers', () => {
  it('validates both connection strings and exports them to the environment', () => {
    const env: Record<string, string | undefined> = {};
    const servers = prepareServers({ source: S, target: T }, env);
    expect(servers.source).toMatchObject({ host: 'old.example', port: 5432, user: 'admin', database: 'postgres' });
    expect(servers.target.host).toBe('new.example');
    expect(env).toEqual({ PG_MIGRATE_SOURCE: S, PG_MIGRATE_TARGET: T });
  });

  it('fails when a connection string is garbage, naming which one, without its password, and exports nothing', () => {
    const env: Record<string, string | undefined> = {};
    const list = problems(() =>
      prepareServers({ source: 'postgres://u:hunter2-pw@[bad', target: 'nonsense here' }, env),
    );
    expect(list).toHaveLength(2);
    expect(list[0]).toMatch(/^source: cannot parse connection string/);
    expect(list[1]).toMatch(/^target: cannot parse connection string/);
    expect(list.join('\n')).not.toContain('hunter2');
    expect(env).toEqual({});
  });
});
