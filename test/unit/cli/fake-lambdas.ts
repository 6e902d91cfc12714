/**
 * Stand-ins for the lambdas/ handlers, for the runner's unit tests over the hand-written fixture machine: they keep
 * the workflow contract's shapes (request, CheckResult[], Plan, DatabaseResult, Report) without a server.
 */
import { InputError } from '../../../core/errors.js';
import type { Plan } from '../../../core/plan.js';
import type { CheckResult, DatabaseResult, Report } from '../../../core/report.js';
import { parseRequest, type Request } from '../../../core/request.js';
import type { Handler } from '../../../cli/local/runner.js';

export const fakeHandlers: Record<string, Handler> = {
  resolve: async (event) => {
    await Promise.resolve();
    const request = parseRequest(event);
    if (request.dbs?.includes('invalid')) throw new InputError(['dbs: "invalid" is not allowed here']);
    return request;
  },
  precheck: async (event) => {
    await Promise.resolve();
    const { check, request } = event as { check: string; request: Request };
    const blocked = request.dbs?.includes('blocked') && check === 'alpha';
    const result: CheckResult = {
      id: check,
      status: blocked ? 'fail' : 'pass',
      message: blocked ? 'blocked on "purpose" \\ really' : 'fine',
      remedy: blocked ? 'remove it' : '',
    };
    return [result];
  },
  plan: async (event) => {
    await Promise.resolve();
    const { request, checks } = event as { request: Request; checks: CheckResult[][] };
    const flat = checks.flat();
    const blockers = flat.filter((c) => c.status === 'fail');
    const plan: Plan = {
      blocked: blockers.length > 0,
      blockers,
      checks: flat,
      databases:
        blockers.length > 0
          ? []
          : (request.dbs ?? ['app']).map((name) => ({
              name,
              method: name.startsWith('repl') ? ('replication' as const) : ('dump' as const),
              reasons: [],
              replicaIdentityFull: [],
              targetExists: false,
            })),
    };
    return plan;
  },
  cleanup: async (event) => {
    await Promise.resolve();
    const { database, error } = event as {
      database: { name: string; method: 'dump' };
      error: { Error: string; Cause: string };
    };
    const result: DatabaseResult = {
      name: database.name,
      method: database.method,
      status: 'failed',
      tables: 0,
      rows: 0,
      bytes: 0,
      durationMs: 0,
      lagBytes: 0,
      message: error.Cause,
      error: error.Error,
    };
    return result;
  },
  report: async (event) => {
    await Promise.resolve();
    const { request, checks, databases } = event as {
      request: Request;
      checks: CheckResult[][];
      databases: DatabaseResult[];
    };
    const flat = checks.flat();
    const report: Report = {
      ok: !flat.some((c) => c.status === 'fail') && databases.every((d) => d.status !== 'failed'),
      action: request.action,
      durationMs: 1,
      checks: flat,
      roles: [],
      warnings: [],
      databases,
    };
    return report;
  },
};
