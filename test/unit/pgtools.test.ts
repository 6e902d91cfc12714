import { mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConnectionString } from '../../core/connection.js';
import { PermanentError } from '../../core/errors.js';
import { choosePgTools, findPgTools, pgToolsSearchPath } from '../../core/pgtools-locate.js';
import {
  dbnameConninfo,
  pgDumpArgs,
  pgRestoreArgs,
  pgRestoreListArgs,
  remedyFor,
  runPgTool,
  toolErrorSummary,
} from '../../core/pgtools.js';

describe('pg_dump argv', () => {
  it('builds a custom-format pre-data dump to a file, without replication objects', () => {
    expect(pgDumpArgs({ database: 'shop', section: 'pre-data', file: '/tmp/x/pre.dump' })).toEqual([
      '--format=custom',
      '--compress=0',
      '--section=pre-data',
      '--file=/tmp/x/pre.dump',
      '--no-subscriptions',
      '--no-publications',
      "--dbname=dbname='shop'",
    ]);
  });

  it('dumps several sections with one pg_dump: the schema without data, large object metadata included', () => {
    expect(pgDumpArgs({ database: 'shop', section: ['pre-data', 'post-data'], file: '/tmp/x/schema.dump' })).toEqual([
      '--format=custom',
      '--compress=0',
      '--section=pre-data',
      '--section=post-data',
      '--file=/tmp/x/schema.dump',
      '--no-subscriptions',
      '--no-publications',
      "--dbname=dbname='shop'",
    ]);
  });

  it('adds the snapshot, ownership and privilege switches when asked', () => {
    expect(
      pgDumpArgs({
        database: 'a',
        section: 'post-data',
        snapshot: '00000003-00000002-1',
        noOwner: true,
        noPrivileges: true,
        noBlobs: true,
        noReplicationObjects: false,
        compress: 6,
      }),
    ).toEqual([
      '--format=custom',
      '--compress=6',
      '--section=post-data',
      '--snapshot=00000003-00000002-1',
      '--no-owner',
      '--no-privileges',
      '--no-blobs',
      "--dbname=dbname='a'",
    ]);
  });

  it('never puts a password in argv, whatever the connection holds', () => {
    const spec = parseConnectionString('postgres://u:hunter2-secret@h/db');
    const args = pgDumpArgs({ database: spec.database, section: 'pre-data' });
    expect(args.join(' ')).not.toContain('hunter2');
  });

  it('quotes any database name as a conninfo so that it is never read as a connection string', () => {
    expect(dbnameConninfo(`it's "x" host=evil`)).toBe(`dbname='it\\'s "x" host=evil'`);
    expect(dbnameConninfo('back\\slash')).toBe(`dbname='back\\\\slash'`);
    expect(dbnameConninfo('Ünïcødé db-name')).toBe(`dbname='Ünïcødé db-name'`);
  });
});

describe('pg_restore argv', () => {
  it('builds a parallel restore of an archive that stops at the first error', () => {
    expect(pgRestoreArgs({ database: 'shop', file: '/tmp/x/post.dump', jobs: 4 })).toEqual([
      '--exit-on-error',
      '--jobs=4',
      "--dbname=dbname='shop'",
      '/tmp/x/post.dump',
    ]);
  });

  it('builds a single-transaction restore with owners and grants left out and a TOC list', () => {
    expect(
      pgRestoreArgs({
        database: 'd',
        file: '/f',
        singleTransaction: true,
        noOwner: true,
        noPrivileges: true,
        useList: '/l',
        section: 'pre-data',
      }),
    ).toEqual([
      '--exit-on-error',
      '--section=pre-data',
      '--single-transaction',
      '--no-owner',
      '--no-privileges',
      '--use-list=/l',
      "--dbname=dbname='d'",
      '/f',
    ]);
  });

  it('omits --jobs for one job', () => {
    expect(pgRestoreArgs({ database: 'd', file: '/f', jobs: 1 })).toEqual([
      '--exit-on-error',
      "--dbname=dbname='d'",
      '/f',
    ]);
  });

  it('fails when parallel jobs are asked for without an archive file or inside one transaction', () => {
    expect(() => pgRestoreArgs({ database: 'd', jobs: 2 })).toThrow(PermanentError);
    expect(() => pgRestoreArgs({ database: 'd', file: '/f', jobs: 2, singleTransaction: true })).toThrow(
      /single transaction/,
    );
  });

  it('lists an archive', () => {
    expect(pgRestoreListArgs('/f')).toEqual(['--list', '/f']);
  });
});

describe('tool error summaries', () => {
  it('keeps the error lines, scrubbed, and counts what it leaves out', () => {
    const stderr = [
      'pg_restore: connecting to database for restore',
      'pg_restore: error: could not execute query: ERROR:  relation "t" already exists',
      'Command was: CREATE TABLE public.t (id integer);',
      ...Array.from({ length: 25 }, (_, i) => `pg_restore: error: failure ${i} postgres://u:pw-abc@h/db`),
    ].join('\n');
    const summary = toolErrorSummary(stderr);
    expect(summary).toContain('relation "t" already exists');
    expect(summary).not.toContain('pw-abc');
    expect(summary).toMatch(/… 6 more line\(s\)$/);
  });
});

describe('remedies', () => {
  it('suggests raising max_locks_per_transaction when a single-transaction restore runs out of locks', () => {
    expect(
      remedyFor(
        'pg_restore: error: ERROR:  out of shared memory\nHINT:  You might need to increase max_locks_per_transaction.',
      ),
    ).toMatch(/raise max_locks_per_transaction/);
  });

  it('suggests newer client tools on a server version mismatch, and nothing for other errors', () => {
    expect(remedyFor('pg_dump: error: aborting because of server version mismatch')).toMatch(/PG_MIGRATE_PG_BIN/);
    expect(remedyFor('pg_restore: error: relation "t" already exists')).toBe('');
  });
});

describe('running a tool', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  /** A fake tool that prints its argv and PGPASSWORD's presence, then exits with the code given in argv. */
  function fakeTools(): { dir: string; version: string; major: number } {
    dir = mkdtempSync(join(tmpdir(), 'pgm-fake-'));
    const script = `#!/bin/sh
echo "args:$*"
[ -n "$PGPASSWORD" ] && echo "password in env"
echo "search_path:$PGOPTIONS"
if [ "$1" = "fail" ]; then echo "pg_restore: error: could not execute query: ERROR:  boom for postgres://u:s3cret-x@h/d" >&2; exit 1; fi
exit 0
`;
    for (const name of ['pg_dump', 'pg_restore']) {
      writeFileSync(join(dir, name), script);
      chmodSync(join(dir, name), 0o755);
    }
    return { dir, version: '17.2', major: 17 };
  }

  const server = parseConnectionString('postgres://u:s3cret-x@127.0.0.1:1/x');

  it('passes the password through the environment and pins search_path', async () => {
    const { stdout } = await runPgTool(fakeTools(), 'pg_dump', ['--format=custom'], {
      server,
      database: 'x',
      what: 'test dump',
    });
    expect(stdout).toContain('args:--format=custom');
    expect(stdout).toContain('password in env');
    expect(stdout).toContain('search_path:-c search_path=pg_catalog,pg_temp');
    expect(stdout).not.toContain('s3cret-x');
  });

  it('fails when the tool exits non-zero, with its scrubbed error message', async () => {
    const run = runPgTool(fakeTools(), 'pg_restore', ['fail'], { server, database: 'x', what: 'pre-data restore' });
    await expect(run).rejects.toThrow(PermanentError);
    await expect(run).rejects.toThrow(/pre-data restore failed \(pg_restore exit 1\): .*boom/);
    await expect(run).rejects.not.toThrow(/s3cret-x/);
  });
});

describe('finding the client tools', () => {
  it('prefers PG_MIGRATE_PG_BIN and reports its major', async () => {
    const previous = process.env.PG_MIGRATE_PG_BIN;
    process.env.PG_MIGRATE_PG_BIN = '/usr/lib/postgresql/15/bin';
    try {
      expect(await findPgTools(14)).toMatchObject({ dir: '/usr/lib/postgresql/15/bin', major: 15 });
      expect(await findPgTools(18)).toBeUndefined();
    } finally {
      if (previous === undefined) delete process.env.PG_MIGRATE_PG_BIN;
      else process.env.PG_MIGRATE_PG_BIN = previous;
    }
  });
});

describe('finding the client tools safely', () => {
  /** A directory with a fake pg_dump / pg_restore reporting `major`. */
  function fakeBin(major: number, mode = 0o755): string {
    const dir = mkdtempSync(join(tmpdir(), `pgm-fakebin-${major}-`));
    for (const tool of ['pg_dump', 'pg_restore']) {
      const path = join(dir, tool);
      writeFileSync(path, `#!/bin/sh\necho "${tool} (PostgreSQL) ${major}.1"\n`);
      chmodSync(path, 0o755);
    }
    chmodSync(dir, mode);
    return dir;
  }

  it('never runs a pg_dump from a world-writable PATH directory, and says it skipped it', async () => {
    const open = fakeBin(17, 0o777);
    const env = { PATH: open };
    expect(await findPgTools(14, { env, distribution: [] })).toBeUndefined();
    expect(pgToolsSearchPath(env, []).skipped).toEqual([`${open} (writable by anyone)`]);
    chmodSync(open, 0o755);
    expect(await findPgTools(14, { env, distribution: [] })).toMatchObject({ dir: open, major: 17 });
  });

  it('never runs a world-writable pg_dump, nor one from a relative PATH entry', async () => {
    const dir = fakeBin(17);
    chmodSync(join(dir, 'pg_dump'), 0o777);
    expect(await findPgTools(14, { env: { PATH: dir }, distribution: [] })).toBeUndefined();
    expect(pgToolsSearchPath({ PATH: `.:bin:${dir}` }, []).skipped).toEqual([
      '. (a relative directory)',
      'bin (a relative directory)',
    ]);
  });

  it('prefers the distribution directories to a newer pg_dump on PATH', async () => {
    const onPath = fakeBin(18);
    const found = await findPgTools(14, { env: { PATH: onPath }, distribution: ['/usr/lib/postgresql/15/bin'] });
    expect(found).toMatchObject({ dir: '/usr/lib/postgresql/15/bin', major: 15 });
    // PATH is searched when no distribution directory qualifies.
    expect(
      await findPgTools(16, { env: { PATH: onPath }, distribution: ['/usr/lib/postgresql/15/bin'] }),
    ).toMatchObject({
      dir: onPath,
      major: 18,
    });
  });

  it('prefers PG_MIGRATE_PG_BIN to everything, unless anyone may write to it', async () => {
    const explicit = fakeBin(16);
    const env = { PATH: '', PG_MIGRATE_PG_BIN: explicit };
    expect(await findPgTools(14, { env, distribution: ['/usr/lib/postgresql/15/bin'] })).toMatchObject({
      dir: explicit,
    });
    chmodSync(explicit, 0o777);
    expect(await findPgTools(14, { env, distribution: ['/usr/lib/postgresql/15/bin'] })).toMatchObject({
      dir: '/usr/lib/postgresql/15/bin',
    });
  });
});

describe('choosing the client tools for a source and a target major', () => {
  const majors = (...list: number[]) => list.map((major) => ({ major }));

  it.each([
    { installed: [14, 15, 16, 17, 18], source: 14, target: 16, chosen: 16, why: "the target's major" },
    { installed: [14, 15, 16, 17, 18], source: 16, target: 16, chosen: 16, why: "the target's major" },
    { installed: [14, 15, 16, 17, 18], source: 10, target: 12, chosen: 14, why: 'the nearest newer, none older' },
    { installed: [14, 15, 17], source: 14, target: 16, chosen: 15, why: 'the nearest older, still >= the source' },
    { installed: [14, 17], source: 15, target: 16, chosen: 17, why: 'the nearest newer: 14 cannot dump a 15 source' },
    { installed: [17, 18], source: 10, target: 15, chosen: 17, why: 'the nearest newer' },
    { installed: [15], source: 10, target: 18, chosen: 15, why: 'the only qualifying' },
  ])('chooses $chosen from $installed for $source -> $target: $why', ({ installed, source, target, chosen }) => {
    expect(choosePgTools(majors(...installed), source, target)?.major).toBe(chosen);
  });

  it('chooses the newest without a target major, and the first in search order among equal majors', () => {
    expect(choosePgTools(majors(15, 17, 16), 14)?.major).toBe(17);
    const first = { major: 16, dir: 'a' };
    expect(choosePgTools([{ major: 15, dir: 'x' }, first, { major: 16, dir: 'b' }], 14, 16)).toBe(first);
    expect(choosePgTools([{ major: 17, dir: 'x' }, first, { major: 16, dir: 'b' }], 14, 18)).toEqual({
      major: 17,
      dir: 'x',
    });
  });

  it('fails when no installed tools can dump the source (returns nothing)', () => {
    expect(choosePgTools(majors(14, 15), 16, 16)).toBeUndefined();
    expect(choosePgTools([], 10, 10)).toBeUndefined();
  });
});

describe('finding the client tools of the target major among installed majors', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  /** A directory with a fake pg_dump / pg_restore reporting `major` (as a distribution directory would hold). */
  function fakeBin(major: number): string {
    const dir = mkdtempSync(join(tmpdir(), `pgm-majors-${major}-`));
    dirs.push(dir);
    for (const tool of ['pg_dump', 'pg_restore']) {
      writeFileSync(join(dir, tool), `#!/bin/sh\necho "${tool} (PostgreSQL) ${major}.2"\n`);
      chmodSync(join(dir, tool), 0o755);
    }
    return dir;
  }

  it("finds the target's major among side-by-side installs (the task image's layout), not the newest", async () => {
    const installed = [18, 17, 16, 15, 14].map(fakeBin);
    const env = { PATH: '' };
    expect(await findPgTools(14, { env, distribution: installed, targetMajor: 16 })).toMatchObject({
      dir: installed[2],
      major: 16,
      version: '16.2',
    });
    // pg_restore 17 would emit SET transaction_timeout, which a 15 target rejects: the 15 tools are chosen.
    expect(await findPgTools(15, { env, distribution: installed, targetMajor: 15 })).toMatchObject({ major: 15 });
    // Sources and targets older than every install: the oldest install.
    expect(await findPgTools(10, { env, distribution: installed, targetMajor: 12 })).toMatchObject({ major: 14 });
    // Without a target: the newest, as before.
    expect(await findPgTools(14, { env, distribution: installed })).toMatchObject({ major: 18 });
  });

  it('keeps PG_MIGRATE_PG_BIN first whenever it can dump the source, whatever the target', async () => {
    const explicit = fakeBin(18);
    const installed = [fakeBin(16)];
    const env = { PATH: '', PG_MIGRATE_PG_BIN: explicit };
    expect(await findPgTools(14, { env, distribution: installed, targetMajor: 16 })).toMatchObject({
      dir: explicit,
      major: 18,
    });
  });

  it('searches PATH only when no distribution directory can dump the source, and chooses there by target too', async () => {
    const onPath = [fakeBin(17), fakeBin(16)];
    const distribution = [fakeBin(14)];
    const env = { PATH: onPath.join(':') };
    expect(await findPgTools(14, { env, distribution, targetMajor: 16 })).toMatchObject({ dir: distribution[0] });
    expect(await findPgTools(15, { env, distribution, targetMajor: 16 })).toMatchObject({ dir: onPath[1], major: 16 });
  });

  it('never chooses a world-writable directory of the target major', async () => {
    const open = fakeBin(16);
    chmodSync(open, 0o777);
    const safe = fakeBin(17);
    expect(
      await findPgTools(14, { env: { PATH: `${open}:${safe}` }, distribution: [], targetMajor: 16 }),
    ).toMatchObject({ dir: safe, major: 17 });
  });
});
