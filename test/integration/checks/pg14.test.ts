/**
 * A PostgreSQL 14 source (with PL/Tcl, which the Debian 15 server here lacks) against 14, 15 and 16 targets, and a
 * 16 source against the 14 target for the version check.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { CHECK_IDS, runCheck, runChecks } from '../../../core/checks/index.js';
import { buildPlan } from '../../../core/plan.js';
import { useCluster } from '../../support/vitest.js';
import { contextFor, requestFor, statuses } from './support.js';

const source14 = useCluster({ version: 14 });
const target14 = useCluster({ version: 14 });
const target15 = useCluster({ version: 15 });
const target16 = useCluster({ version: 16 });

beforeAll(async () => {
  const s = source14();
  await s.createDatabase('app');
  await s.loadFixture(
    'app',
    `create extension hstore; create extension citext; create extension pltcl;
     create table people (id int primary key, email citext, attrs hstore);
     insert into people select g, 'p' || g || '@example.com', hstore('n', g::text) from generate_series(1, 200) g;
     create function shout(t text) returns text language pltcl as $$ return [string toupper $1] $$;`,
  );
}, 60_000);

describe('checks with a PostgreSQL 14 source', () => {
  it.each([
    ['14', () => target14()],
    ['16', () => target16()],
  ])('passes every check against a %s target and plans replication', async (_label, target) => {
    const request = requestFor({ dbs: ['app'] });
    const results = await runChecks(request, contextFor(source14().uri(), target().uri()));
    results.forEach((list, i) => {
      expect(
        list.every((r) => r.status === 'pass'),
        `${CHECK_IDS[i]}: ${JSON.stringify(list)}`,
      ).toBe(true);
    });
    const plan = buildPlan(request, results);
    expect(plan.blocked).toBe(false);
    expect(plan.databases.map((d) => [d.name, d.method])).toEqual([['app', 'replication']]);
  });

  it('finds a pg_dump new enough for the 14 source', async () => {
    const [version] = await runCheck('version', requestFor(), contextFor(source14().uri(), target16().uri()));
    expect(version?.status).toBe('pass');
    expect(version?.message).toMatch(/source PostgreSQL 14\.\d+, target 16\.\d+; pg_dump \/ pg_restore 1[5-9]/);
  });

  it('fails languages and extensions when the target lacks PL/Tcl', async () => {
    const ctx = contextFor(source14().uri(), target15().uri());
    const request = requestFor({ dbs: ['app'] });
    const languages = await runCheck('languages', request, ctx);
    expect(statuses(languages)).toEqual(['fail:app']);
    expect(languages[0]?.details?.missing).toEqual(['pltcl']);
    const extensions = await runCheck('extensions', request, ctx);
    expect(statuses(extensions)).toEqual(['fail:app']);
    expect(extensions[0]?.message).toMatch(/extension pltcl .* "app" is not available on the target/);
    expect(buildPlan(request, [languages, extensions, await runCheck('source-databases', request, ctx)]).blocked).toBe(
      true,
    );
  });

  it('fails the version check when the target is older and no pg_dump can dump the source', async () => {
    const results = await runCheck('version', requestFor(), contextFor(target16().uri(), target14().uri()));
    expect(statuses(results)).toEqual(['fail', 'fail']);
    expect(results[0]?.message).toMatch(/older than the source/);
    expect(results[1]?.message).toMatch(/no pg_dump \/ pg_restore of version 16 or newer/);
    expect(results[1]?.remedy).toMatch(/PG_MIGRATE_PG_BIN/);
  });

  it('passes the same check when PG_MIGRATE_PG_BIN names a suitable directory', async () => {
    process.env.PG_MIGRATE_PG_BIN = '/usr/lib/postgresql/15/bin';
    try {
      const [version] = await runCheck('version', requestFor(), contextFor(source14().uri(), target14().uri()));
      expect(version?.details).toMatchObject({ pgDump: '/usr/lib/postgresql/15/bin/pg_dump' });
    } finally {
      delete process.env.PG_MIGRATE_PG_BIN;
    }
  });

  it('uses the task image tools named by PG_MIGRATE_TASK_PG_MAJOR (the check runs in a Lambda without pg_dump)', async () => {
    process.env.PG_MIGRATE_TASK_PG_MAJOR = '17';
    try {
      const ctx = contextFor(target16().uri(), target16().uri('template1'));
      expect(statuses(await runCheck('version', requestFor(), ctx))).toEqual(['pass']);
      // The image's several majors: the target's (16) is the one the task will use.
      process.env.PG_MIGRATE_TASK_PG_MAJOR = '14,15,16,17,18';
      const [chosen] = await runCheck('version', requestFor(), ctx);
      expect(chosen?.status).toBe('pass');
      expect(chosen?.details).toMatchObject({ toolsVersion: '16', toolsIn: 'task image' });
      process.env.PG_MIGRATE_TASK_PG_MAJOR = '15';
      const [tooOld] = await runCheck('version', requestFor(), ctx);
      expect(tooOld?.status).toBe('fail');
      expect(tooOld?.message).toMatch(/PG_MIGRATE_TASK_PG_MAJOR=15/);
    } finally {
      delete process.env.PG_MIGRATE_TASK_PG_MAJOR;
    }
  });
});
