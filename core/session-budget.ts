/**
 * The session budget on the task's side: a run may hold at most `sessionBudget` sessions open at once on each server
 * (the request's, default 10). Up to `maxConcurrency` databases migrate at the same time, one task each, so each task
 * gets an equal share, and splits it between its concurrent parts so that together they never exceed it:
 *
 * - source: the session holding the exported snapshot (held from pre-data to verification), plus the copy's readers,
 *   or pg_dump (one session), or the verification's readers;
 * - target: the copy's writers plus the sessions building indexes as tables finish, or `pg_restore -j` (its workers;
 *   the leader's own session is counted too), or ANALYZE, or the verification's sessions; one session is kept for
 *   the bookkeeping the steps do beside them (progress records, ownership).
 *
 * Pure: unit-tested with tables of cases; test/e2e/cli-session-budget.test.ts samples pg_stat_activity on
 * both servers during a migration to prove it.
 */
import { InputError } from './errors.js';
import type { Request } from './request.js';

/**
 * Set on the task by a deployment whose Map concurrency is fixed (the construct's `databaseConcurrency`), which then
 * replaces the request's `maxConcurrency` in the share.
 */
export const DATABASE_CONCURRENCY_ENV = 'PG_MIGRATE_DATABASE_CONCURRENCY';

/** Sessions per server one task needs at the least: the snapshot and one reader (source), one writer and the bookkeeping (target). */
export const MIN_TASK_SESSIONS = 2;

export interface TaskSessions {
  /** Databases migrated at the same time. */
  readonly concurrency: number;
  /** This task's sessions per server: ⌊sessionBudget / concurrency⌋. */
  readonly share: number;
  /** COPY reader/writer pairs (source: + the snapshot; target: + index builders + bookkeeping). */
  readonly copyJobs: number;
  /** Target sessions building indexes and keys while other tables copy (0: post-data builds them all). */
  readonly indexJobs: number;
  /** `pg_restore -j` of post-data. */
  readonly restoreJobs: number;
  /** Target sessions running ANALYZE. */
  readonly analyzeJobs: number;
  /** Reader/target pairs of the verification (source: + the snapshot). */
  readonly verifyJobs: number;
}

/** The concurrency the task shares the budget with: the deployment's fixed one, else the request's. */
export function databaseConcurrency(
  request: Pick<Request, 'maxConcurrency'>,
  env: NodeJS.ProcessEnv = process.env,
): number {
  const fixed = Number(env[DATABASE_CONCURRENCY_ENV]);
  return Number.isInteger(fixed) && fixed >= 1 ? fixed : request.maxConcurrency;
}

/** Why a budget cannot serve `concurrency` tasks, or undefined when it can (for the request's validation). */
export function budgetProblem(sessionBudget: number, concurrency: number): string | undefined {
  if (sessionBudget >= MIN_TASK_SESSIONS * concurrency) return undefined;
  return `sessionBudget ${sessionBudget} is too small for ${concurrency} database(s) migrated at once: each needs at least ${MIN_TASK_SESSIONS} sessions per server; raise sessionBudget (--session-budget) to ${MIN_TASK_SESSIONS * concurrency} or lower maxConcurrency (--max-concurrency) to ${Math.max(1, Math.floor(sessionBudget / MIN_TASK_SESSIONS))}`;
}

/**
 * How a task spends its share of the budget. `jobs` is an upper bound: the share may lower it.
 *
 * @example
 * ```ts
 * taskSessions({ sessionBudget: 10, maxConcurrency: 2, jobs: 8 });
 * // { concurrency: 2, share: 5, copyJobs: 2, indexJobs: 2, restoreJobs: 4, analyzeJobs: 4, verifyJobs: 4 }
 * ```
 */
export function taskSessions(
  request: Pick<Request, 'sessionBudget' | 'maxConcurrency' | 'jobs'>,
  concurrency: number = request.maxConcurrency,
): TaskSessions {
  const problem = budgetProblem(request.sessionBudget, concurrency);
  if (problem !== undefined) throw new InputError([problem]);
  const share = Math.floor(request.sessionBudget / concurrency);
  const jobs = Math.max(1, request.jobs);
  // One session on each server is never a job's: the snapshot on the source, the bookkeeping on the target.
  const free = share - 1;
  // The copy's writers and the index builders share the target's free sessions, the copy taking the larger half.
  const indexJobs = Math.min(jobs, Math.floor(free / 2));
  const copyJobs = Math.min(jobs, free - indexJobs);
  return {
    concurrency,
    share,
    copyJobs,
    indexJobs,
    restoreJobs: Math.min(jobs, free),
    analyzeJobs: Math.min(jobs, free),
    verifyJobs: Math.min(jobs, free),
  };
}
