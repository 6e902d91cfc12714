/** Builders for the checks' unit tests (facts as the collectors would gather them). */
import type { Outcome, ServerFacts } from '../../../core/checks/facts.js';
import type { CheckResult } from '../../../core/report.js';

export function ok<T>(value: T): Outcome<T> {
  return { ok: true, value };
}

export function failed(error: string, code?: string): Outcome<never> {
  return { ok: false, error, ...(code !== undefined ? { code } : {}), permission: code === '42501' };
}

export function server(overrides: Partial<ServerFacts> = {}): ServerFacts {
  return {
    versionNum: 150008,
    version: '15.8',
    user: 'postgres',
    superuser: true,
    createRole: true,
    createDb: true,
    replication: true,
    bypassRls: true,
    memberOf: [],
    ...overrides,
  };
}

/** `status[:database]` per result. */
export function statuses(results: readonly CheckResult[]): string[] {
  return results.map((r) => `${r.status}${r.database !== undefined ? `:${r.database}` : ''}`);
}
