import { describe, expect, it } from 'vitest';
import { InputError } from '../../core/errors.js';
import { parseRequest } from '../../core/request.js';
import {
  budgetProblem,
  DATABASE_CONCURRENCY_ENV,
  databaseConcurrency,
  taskSessions,
} from '../../core/session-budget.js';

describe("a task's share of the session budget", () => {
  it.each([
    // budget, concurrency, jobs → share, copy, index, restore, analyze, verify
    [10, 2, 4, 5, 2, 2, 4, 4, 4],
    [10, 2, 2, 5, 2, 2, 2, 2, 2],
    [10, 1, 4, 10, 4, 4, 4, 4, 4],
    [10, 1, 16, 10, 5, 4, 9, 9, 9],
    [6, 2, 8, 3, 1, 1, 2, 2, 2],
    [4, 2, 8, 2, 1, 0, 1, 1, 1],
    [7, 2, 1, 3, 1, 1, 1, 1, 1],
    [20, 2, 4, 10, 4, 4, 4, 4, 4],
  ])(
    'budget %i, %i databases at once, jobs %i: share %i, copy %i, index %i, restore %i, analyze %i, verify %i',
    (sessionBudget, maxConcurrency, jobs, share, copyJobs, indexJobs, restoreJobs, analyzeJobs, verifyJobs) => {
      expect(taskSessions({ sessionBudget, maxConcurrency, jobs })).toEqual({
        concurrency: maxConcurrency,
        share,
        copyJobs,
        indexJobs,
        restoreJobs,
        analyzeJobs,
        verifyJobs,
      });
    },
  );

  it('never lets the parts that run together exceed the share on either server', () => {
    for (let sessionBudget = 2; sessionBudget <= 40; sessionBudget++) {
      for (let maxConcurrency = 1; maxConcurrency * 2 <= sessionBudget; maxConcurrency++) {
        for (let jobs = 1; jobs <= 24; jobs++) {
          const s = taskSessions({ sessionBudget, maxConcurrency, jobs });
          expect(s.share * maxConcurrency).toBeLessThanOrEqual(sessionBudget);
          // Source: the snapshot plus the copy's or the verification's readers.
          expect(1 + s.copyJobs).toBeLessThanOrEqual(s.share);
          expect(1 + s.verifyJobs).toBeLessThanOrEqual(s.share);
          // Target: writers, index builders and the bookkeeping session; pg_restore's workers and its leader.
          expect(s.copyJobs + s.indexJobs + 1).toBeLessThanOrEqual(s.share);
          expect(s.restoreJobs + 1).toBeLessThanOrEqual(s.share);
          expect(s.analyzeJobs).toBeLessThanOrEqual(s.share);
          expect(Math.min(s.copyJobs, s.restoreJobs, s.verifyJobs, s.analyzeJobs)).toBeGreaterThanOrEqual(1);
          expect(Math.max(s.copyJobs, s.restoreJobs, s.verifyJobs, s.analyzeJobs, s.indexJobs)).toBeLessThanOrEqual(
            jobs,
          );
        }
      }
    }
  });

  it('takes the deployment’s fixed concurrency over the request’s', () => {
    expect(databaseConcurrency({ maxConcurrency: 2 }, { [DATABASE_CONCURRENCY_ENV]: '5' })).toBe(5);
    expect(databaseConcurrency({ maxConcurrency: 2 }, {})).toBe(2);
    expect(databaseConcurrency({ maxConcurrency: 2 }, { [DATABASE_CONCURRENCY_ENV]: 'x' })).toBe(2);
  });

  it('fails when the budget cannot give each database migrated at once 2 sessions per server', () => {
    expect(budgetProblem(4, 2)).toBeUndefined();
    expect(budgetProblem(3, 2)).toMatch(/raise sessionBudget \(--session-budget\) to 4 or lower maxConcurrency/);
    expect(() => taskSessions({ sessionBudget: 9, maxConcurrency: 2, jobs: 4 }, 5)).toThrow(InputError);
  });

  it('fails when a migrate request has too small a budget for its concurrency (bad input), not a check request', () => {
    const base = { source: { env: 'PG_MIGRATE_SOURCE' }, target: { env: 'PG_MIGRATE_TARGET' } };
    expect(() => parseRequest({ ...base, action: 'migrate', sessionBudget: 3, maxConcurrency: 2 })).toThrow(
      /sessionBudget 3 is too small for 2 database\(s\) migrated at once/,
    );
    expect(parseRequest({ ...base, action: 'check', sessionBudget: 3 }).sessionBudget).toBe(3);
    expect(parseRequest({ ...base, action: 'migrate', sessionBudget: 3, maxConcurrency: 1 }).sessionBudget).toBe(3);
  });
});
