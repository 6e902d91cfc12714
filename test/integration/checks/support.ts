/** Shared by the checks' integration tests: a RunContext and a Request for two test clusters. */
import { parseConnectionString } from '../../../core/connection.js';
import type { RunContext } from '../../../core/context.js';
import { noProgress, silentLogger } from '../../../core/logger.js';
import type { CheckResult } from '../../../core/report.js';
import { parseRequest, type Request, type RequestInput } from '../../../core/request.js';

/** A RunContext for two connection strings. */
export function contextFor(sourceUri: string, targetUri: string, extra: Partial<RunContext> = {}): RunContext {
  return {
    source: parseConnectionString(sourceUri, 'source'),
    target: parseConnectionString(targetUri, 'target'),
    logger: silentLogger,
    progress: noProgress,
    ...extra,
  };
}

/** A parsed `check` request with short timeouts; `overrides` as the user would pass them. */
export function requestFor(overrides: Partial<RequestInput> = {}): Request {
  return parseRequest({
    action: 'check',
    source: { env: 'PG_MIGRATE_TEST_SOURCE' },
    target: { env: 'PG_MIGRATE_TEST_TARGET' },
    connectTimeoutSeconds: 5,
    checkStatementTimeoutMs: 10_000,
    ...overrides,
  });
}

/** The results of one id, optionally of one database. */
export function only(
  results: readonly CheckResult[],
  status?: CheckResult['status'],
  database?: string,
): CheckResult[] {
  return results.filter(
    (r) => (status === undefined || r.status === status) && (database === undefined || r.database === database),
  );
}

/** The statuses, for compact assertions. */
export function statuses(results: readonly CheckResult[]): string[] {
  return results.map((r) => `${r.status}${r.database !== undefined ? `:${r.database}` : ''}`);
}
