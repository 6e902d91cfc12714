/**
 * Where a run keeps what is too large for the workflow's state: the request, every check result, every table of
 * every database, and the full report. On AWS an S3 bucket of the stack, locally a directory (implementations in
 * `lambdas/shared/report-store.ts`). The state carries counts and mismatches, and the keys below.
 *
 * Keys are under `runs/<run id>/`, the run id being the execution name.
 *
 * @example
 * ```ts
 * const location = await store.put(checksKey(run, 'extensions'), JSON.stringify(results));
 * ```
 */
import { createHash } from 'node:crypto';
import type { CheckResult, DatabaseResult } from './report.js';

/** The environment variable naming the stack's report bucket (functions and task on AWS). */
export const REPORT_BUCKET_ENV = 'PG_MIGRATE_REPORT_BUCKET';
/** The environment variable naming a local run's report directory (the CLI sets it). */
export const REPORT_DIR_ENV = 'PG_MIGRATE_REPORT_DIR';

export interface ReportStore {
  /** Writes `body` (JSON text) under `key`; resolves with the object's location (`s3://…`, `file://…`). */
  put(key: string, body: string): Promise<string>;
  /** Reads `key`; undefined when there is no such object. */
  get(key: string): Promise<string | undefined>;
}

/** A run id as Step Functions allows execution names: 1–80 of letters, digits, `-` and `_`. */
const RUN_ID = /^[A-Za-z0-9_-]{1,80}$/;

function prefix(run: string): string {
  // Execution names are restricted by Step Functions; anything else never becomes part of a key or a path.
  if (!RUN_ID.test(run)) throw new Error(`not a run id: ${JSON.stringify(run)}`);
  return `runs/${run}`;
}

/** The parsed request of a run (the task reads it: TASK_INPUT carries only references). */
export function requestKey(run: string): string {
  return `${prefix(run)}/request.json`;
}

/** One check's full results. */
export function checksKey(run: string, check: string): string {
  if (!/^[a-z0-9-]{1,64}$/.test(check)) throw new Error(`not a check id: ${JSON.stringify(check)}`);
  return `${prefix(run)}/checks/${check}.json`;
}

/** One database's full result (every table). Database names may hold any character: the key holds their hash. */
export function databaseKey(run: string, database: string, mode: string): string {
  const hash = createHash('sha256').update(database).digest('hex').slice(0, 32);
  return `${prefix(run)}/databases/${mode === 'cutover' ? 'cutover' : 'migrate'}-${hash}.json`;
}

/** The full report. */
export function reportKey(run: string): string {
  return `${prefix(run)}/report.json`;
}

/**
 * The full parts of a run's report, from the compact ones the state carried: each check id's results and each
 * database's result (`detail`) as stored; what is not stored stays as it is.
 */
export async function fullParts(
  store: ReportStore,
  run: string,
  checks: readonly CheckResult[],
  databases: readonly DatabaseResult[],
): Promise<{ readonly checks: CheckResult[]; readonly databases: DatabaseResult[] }> {
  const ids = [...new Set(checks.map((c) => c.id))];
  const stored = new Map<string, CheckResult[] | undefined>(
    await Promise.all(ids.map(async (id) => [id, await getJson<CheckResult[]>(store, checksKey(run, id))] as const)),
  );
  const fullChecks: CheckResult[] = [];
  const done = new Set<string>();
  for (const check of checks) {
    const full = stored.get(check.id);
    if (!Array.isArray(full)) fullChecks.push(check);
    else if (!done.has(check.id)) {
      done.add(check.id);
      fullChecks.push(...full);
    }
  }
  const fullDatabases = await Promise.all(
    databases.map(async (d) => {
      if (d.detail === undefined) return d;
      const { detail, ...compact } = d;
      const full = await getJson<DatabaseResult>(store, detail);
      if (!full || full.name !== d.name) return d;
      // A later state may have changed the result (status: the lag): the tables, and the message when the state's
      // is the stored one cut short, come from the stored result.
      const cut = compact.message.endsWith('…') && full.message.startsWith(compact.message.slice(0, -1));
      return {
        ...compact,
        ...(cut ? { message: full.message } : {}),
        ...(full.verification ? { verification: full.verification } : {}),
      };
    }),
  );
  return { checks: fullChecks, databases: fullDatabases };
}

/** Reads and parses a JSON object; undefined when absent or not JSON. */
export async function getJson<T>(store: ReportStore, key: string): Promise<T | undefined> {
  const text = await store.get(key);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}
