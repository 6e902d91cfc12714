/**
 * The payload budget at the edge of the functions and the task: the full result goes to the report store, the
 * workflow's state gets the compact one (core/report-budget.ts). Without a store (a handler called directly) the
 * full result is returned.
 *
 * @example
 * ```ts
 * return keepCheckResults(results, event.run?.id, event.check);
 * ```
 */
import { compactCheckResult, compactDatabaseResult } from '../../core/report-budget.js';
import { checksKey, databaseKey, type ReportStore } from '../../core/report-store.js';
import type { CheckResult, DatabaseResult } from '../../core/report.js';
import { reportStoreFromEnv } from './report-store.js';

/**
 * Check results: stored in full under the run, one object per check id (`checks/<id>.json`, so any invocation
 * that runs several checks stores each), compact in the state. The Report puts the full ones back.
 */
export async function keepCheckResults(
  results: readonly CheckResult[],
  run: string | undefined,
  store: ReportStore | undefined = reportStoreFromEnv(),
): Promise<CheckResult[]> {
  if (!store || run === undefined) return [...results];
  const byId = new Map<string, CheckResult[]>();
  for (const result of results) byId.set(result.id, [...(byId.get(result.id) ?? []), result]);
  await Promise.all([...byId].map(([id, group]) => store.put(checksKey(run, id), JSON.stringify(group))));
  return results.map(compactCheckResult);
}

/** One database's result: stored in full under the run, compact (with `detail` naming the key) in the state. */
export async function keepDatabaseResult(
  result: DatabaseResult,
  run: string | undefined,
  mode: 'migrate' | 'cutover',
  store: ReportStore | undefined = reportStoreFromEnv(),
): Promise<DatabaseResult> {
  if (!store || run === undefined) return result;
  const key = databaseKey(run, result.name, mode);
  await store.put(key, JSON.stringify(result));
  return compactDatabaseResult(result, key);
}
