/**
 * The Fargate task's logic, testable without a container: read `TASK_TOKEN` and `TASK_INPUT`, run the step,
 * heartbeat every `heartbeatMs`, and report to Step Functions with `SendTaskSuccess` (the DatabaseResult) or
 * `SendTaskFailure` (the classified error name, a scrubbed message). Returns the process exit code.
 *
 * TASK_INPUT carries references only (ECS allows 8 KiB per container override): `{ mode, run, database: { name,
 * method } }`. The request is read from the report store under the run; the task recomputes its lists (the tables,
 * which of them get REPLICA IDENTITY FULL) from the servers. Its full result goes to the store, Step Functions gets
 * the compact one (core/report-budget.ts).
 */
import {
  type SFNClient,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
} from '@aws-sdk/client-sfn';
import { AbortedError, classify, describeError, InputError, type MigrationError, scrub } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { DatabaseResult } from '../core/report.js';
import { parseRequest } from '../core/request.js';
import type { PlannedDatabase } from '../core/plan.js';
import { type ReportStore, requestKey } from '../core/report-store.js';
import type { TaskInput } from '../core/steps/task.js';
import { compactDatabaseResult } from '../core/report-budget.js';
import { keepDatabaseResult } from '../lambdas/shared/payload.js';

export interface TaskProcessOptions {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly sfn: SFNClient;
  readonly logger: Logger;
  /** Where the request is read from and the full result written to. @default none: TASK_INPUT holds the request */
  readonly store?: ReportStore;
  /** Runs the parsed input (main.ts: createRunContext + runTask). */
  readonly run: (input: TaskInput, signal: AbortSignal) => Promise<DatabaseResult>;
  /** Heartbeat interval, ms. @default 30000 (env `PG_MIGRATE_HEARTBEAT_MS` overrides) */
  readonly heartbeatMs?: number;
  /** Aborted on SIGTERM / SIGINT. */
  readonly signal?: AbortSignal;
}

/** Step Functions limits: output 256 KiB (UTF-8 bytes), error 256 chars, cause 32 KiB. A margin for the state. */
const MAX_OUTPUT_BYTES = 200_000;

/** TASK_INPUT as parsed: the request is there, or a reference to it (`run`). */
export interface TaskInputRef {
  readonly mode: TaskInput['mode'];
  /** The run id: the report store keys of its request and of the task's full result. */
  readonly run?: string;
  readonly request?: TaskInput['request'];
  readonly database: TaskInput['database'];
}

/** Parses TASK_INPUT (JSON); a request in it is validated again at this edge. */
export function parseTaskInput(text: string | undefined): TaskInputRef {
  if (!text) throw new InputError('TASK_INPUT is not set');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new InputError('TASK_INPUT is not valid JSON');
  }
  const value = raw as { mode?: unknown; run?: unknown; request?: unknown; database?: Partial<PlannedDatabase> } | null;
  if (!value || (value.mode !== 'migrate' && value.mode !== 'cutover')) {
    throw new InputError('TASK_INPUT.mode must be "migrate" or "cutover"');
  }
  const database = value.database;
  if (
    !database ||
    typeof database.name !== 'string' ||
    (database.method !== 'dump' && database.method !== 'replication')
  ) {
    throw new InputError('TASK_INPUT.database must be a database ({ name, method })');
  }
  if (value.run !== undefined && typeof value.run !== 'string') throw new InputError('TASK_INPUT.run must be a string');
  if (value.request === undefined && value.run === undefined)
    throw new InputError('TASK_INPUT must carry the request or the run that stored it');
  return {
    mode: value.mode,
    ...(typeof value.run === 'string' ? { run: value.run } : {}),
    ...(value.request !== undefined ? { request: parseRequest(value.request) } : {}),
    // The lists are recomputed from the servers: only the name and the method travel.
    database: {
      name: database.name,
      method: database.method,
      reasons: [],
      replicaIdentityFull: [],
      targetExists: database.targetExists ?? true,
    },
  };
}

/** The task input with its request, read from the store when TASK_INPUT carries a reference. */
export async function resolveTaskInput(ref: TaskInputRef, store: ReportStore | undefined): Promise<TaskInput> {
  if (ref.request) return { mode: ref.mode, request: ref.request, database: ref.database };
  if (!store || ref.run === undefined)
    throw new InputError('TASK_INPUT names a run, but no report store is configured (PG_MIGRATE_REPORT_BUCKET)');
  const stored = await store.get(requestKey(ref.run));
  if (stored === undefined) throw new InputError(`the request of run ${ref.run} is not in the report store`);
  return { mode: ref.mode, request: parseRequest(JSON.parse(stored)), database: ref.database };
}

/**
 * The task output, kept under the Step Functions limit: a result the store did not take is cut to the mismatching
 * tables when it would not fit (the message says so).
 */
export function taskOutput(result: DatabaseResult): string {
  const full = JSON.stringify(result);
  if (Buffer.byteLength(full, 'utf8') <= MAX_OUTPUT_BYTES) return full;
  const compact = compactDatabaseResult(result);
  return JSON.stringify({
    ...compact,
    message: `${compact.message} (per-table verification trimmed to the mismatching tables to fit the output limit)`,
  });
}

/** Runs the task; never throws. Exit code: 0 done, 1 failed, 2 no task token. */
export async function runTaskProcess(options: TaskProcessOptions): Promise<number> {
  const { env, sfn, logger } = options;
  const taskToken = env.TASK_TOKEN;
  if (!taskToken) {
    logger.error('TASK_TOKEN is not set: nothing to report to');
    return 2;
  }
  const controller = new AbortController();
  const onAbort = () => controller.abort();
  if (options.signal?.aborted) controller.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const heartbeatMs = options.heartbeatMs ?? (Number(env.PG_MIGRATE_HEARTBEAT_MS) || 30_000);
  const heartbeat = setInterval(() => {
    sfn.send(new SendTaskHeartbeatCommand({ taskToken })).catch((err: unknown) => {
      const name = (err as { name?: string }).name ?? '';
      logger.warn('heartbeat failed', { error: describeError(err), name });
      // The execution gave up on this task (timed out, stopped): stop working.
      if (name === 'TaskTimedOut' || name === 'TaskDoesNotExist' || name === 'InvalidToken') controller.abort();
    });
  }, heartbeatMs);
  try {
    const ref = parseTaskInput(env.TASK_INPUT);
    const input = await resolveTaskInput(ref, options.store);
    logger.info('task started', { mode: input.mode, database: input.database.name, method: input.database.method });
    const result = await options.run(input, controller.signal);
    if (controller.signal.aborted) throw new AbortedError();
    clearInterval(heartbeat);
    const kept = await keepDatabaseResult(result, ref.run, input.mode, options.store);
    await sfn.send(new SendTaskSuccessCommand({ taskToken, output: taskOutput(kept) }));
    logger.info('task finished', { database: result.name, status: result.status, durationMs: result.durationMs });
    return result.status === 'failed' ? 1 : 0;
  } catch (err) {
    clearInterval(heartbeat);
    const error: MigrationError =
      controller.signal.aborted && !(err instanceof InputError)
        ? new AbortedError(`stopped: ${describeError(err)}`)
        : classify(err);
    const cause = scrub(error.message).slice(0, 32_000);
    logger.error('task failed', { error: error.name, cause });
    try {
      await sfn.send(new SendTaskFailureCommand({ taskToken, error: error.name.slice(0, 256), cause }));
    } catch (sendErr) {
      logger.error('could not report the failure to Step Functions', { error: describeError(sendErr) });
    }
    return 1;
  } finally {
    clearInterval(heartbeat);
    options.signal?.removeEventListener('abort', onAbort);
  }
}
