/**
 * The Fargate task's logic, testable without a container: read `TASK_TOKEN` and `TASK_INPUT`, run the step,
 * heartbeat every `heartbeatMs`, and report to Step Functions with `SendTaskSuccess` (the DatabaseResult) or
 * `SendTaskFailure` (the classified error name, a scrubbed message). Returns the process exit code.
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
import type { TaskInput } from '../core/steps/task.js';

export interface TaskProcessOptions {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly sfn: SFNClient;
  readonly logger: Logger;
  /** Runs the parsed input (main.ts: createRunContext + runTask). */
  readonly run: (input: TaskInput, signal: AbortSignal) => Promise<DatabaseResult>;
  /** Heartbeat interval, ms. @default 30000 (env `PG_MIGRATE_HEARTBEAT_MS` overrides) */
  readonly heartbeatMs?: number;
  /** Aborted on SIGTERM / SIGINT. */
  readonly signal?: AbortSignal;
}

/** Step Functions limits: output 256 KiB, error 256 chars, cause 32 KiB. */
const MAX_OUTPUT = 250_000;

/** Parses TASK_INPUT (JSON) into a {@link TaskInput}; the request is validated again at this edge. */
export function parseTaskInput(text: string | undefined): TaskInput {
  if (!text) throw new InputError('TASK_INPUT is not set');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new InputError('TASK_INPUT is not valid JSON');
  }
  const value = raw as Partial<TaskInput> | null;
  if (!value || (value.mode !== 'migrate' && value.mode !== 'cutover')) {
    throw new InputError('TASK_INPUT.mode must be "migrate" or "cutover"');
  }
  const database = value.database;
  if (
    !database ||
    typeof database.name !== 'string' ||
    (database.method !== 'dump' && database.method !== 'replication')
  ) {
    throw new InputError('TASK_INPUT.database must be a planned database ({ name, method, … })');
  }
  return { mode: value.mode, request: parseRequest(value.request), database };
}

/** The task output, kept under the Step Functions limit (per-table verification trimmed to mismatches if needed). */
export function taskOutput(result: DatabaseResult): string {
  const full = JSON.stringify(result);
  if (full.length <= MAX_OUTPUT) return full;
  const mismatches = (result.verification ?? []).filter((t) => !t.ok).slice(0, 500);
  return JSON.stringify({
    ...result,
    verification: mismatches,
    message: `${result.message} (per-table verification trimmed to the mismatching tables to fit the output limit)`,
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
    const input = parseTaskInput(env.TASK_INPUT);
    logger.info('task started', { mode: input.mode, database: input.database.name, method: input.database.method });
    const result = await options.run(input, controller.signal);
    if (controller.signal.aborted) throw new AbortedError();
    clearInterval(heartbeat);
    await sfn.send(new SendTaskSuccessCommand({ taskToken, output: taskOutput(result) }));
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
