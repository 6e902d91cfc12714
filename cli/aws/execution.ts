/**
 * A deployed state machine, driven through the AWS SDK: start an execution with a request (secret ARNs, never a
 * URI), follow it through its execution history (incrementally), stop it together with its Fargate tasks.
 */
import { DescribeTasksCommand, type ECSClient, StopTaskCommand } from '@aws-sdk/client-ecs';
import {
  GetExecutionHistoryCommand,
  type HistoryEvent,
  type SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { scrub } from '../../core/errors.js';
import type { ProgressEvent } from '../../core/logger.js';
import type { RequestInput } from '../../core/request.js';
import type { RunObserver, StateEvent } from '../local/runner.js';
import { type Outcome, outcomeFromFailure, outcomeFromOutput } from '../outcome.js';

/** Starts an execution; resolves with its ARN. */
export async function startExecution(
  sfn: SFNClient,
  options: { readonly stateMachineArn: string; readonly request: RequestInput; readonly name?: string },
): Promise<string> {
  const out = await sfn.send(
    new StartExecutionCommand({
      stateMachineArn: options.stateMachineArn,
      input: JSON.stringify(options.request),
      ...(options.name !== undefined ? { name: options.name } : {}),
    }),
  );
  if (!out.executionArn) throw new Error('StartExecution returned no executionArn');
  return out.executionArn;
}

/**
 * Reads an execution's history incrementally: each {@link poll} returns only the events not seen before, oldest
 * first (pages newest-first until it reaches an event already seen, so a long history is not read again).
 */
export class HistoryReader {
  private lastId = 0;

  constructor(
    private readonly sfn: SFNClient,
    private readonly executionArn: string,
  ) {}

  async poll(): Promise<HistoryEvent[]> {
    const fresh: HistoryEvent[] = [];
    let nextToken: string | undefined;
    let reachedSeen = false;
    do {
      const page = await this.sfn.send(
        new GetExecutionHistoryCommand({
          executionArn: this.executionArn,
          reverseOrder: true,
          maxResults: 500,
          includeExecutionData: true,
          ...(nextToken !== undefined ? { nextToken } : {}),
        }),
      );
      for (const event of page.events ?? []) {
        if ((event.id ?? 0) <= this.lastId) {
          reachedSeen = true;
          break;
        }
        fresh.push(event);
      }
      nextToken = page.nextToken;
    } while (!reachedSeen && nextToken !== undefined);
    fresh.reverse();
    for (const event of fresh) this.lastId = Math.max(this.lastId, event.id ?? 0);
    return fresh;
  }
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** The `TASK_INPUT` of an ECS RunTask's parameters (a TaskScheduled event), if any. */
function taskInputOf(parameters: unknown): { mode?: unknown; database?: { name?: unknown } } | undefined {
  const overrides = (parameters as { Overrides?: { ContainerOverrides?: unknown } } | undefined)?.Overrides
    ?.ContainerOverrides;
  if (!Array.isArray(overrides)) return undefined;
  for (const container of overrides as Array<{ Environment?: Array<{ Name?: string; Value?: string }> }>) {
    const value = container.Environment?.find((e) => e.Name === 'TASK_INPUT')?.Value;
    const parsed = parseJson(value) as { mode?: unknown; database?: { name?: unknown } } | undefined;
    if (parsed && typeof parsed === 'object') return parsed;
  }
  return undefined;
}

/** What one history event means for people and for the outcome. */
export interface Interpreted {
  readonly state?: StateEvent;
  readonly progress?: ProgressEvent;
  readonly warning?: string;
  /** Set on the execution's last event. */
  readonly outcome?: Outcome;
}

/** Interprets one history event. Pure. */
export function interpretEvent(event: HistoryEvent): Interpreted {
  const type = event.type ?? '';
  const entered = /^(\w+)StateEntered$/.exec(type);
  if (entered && event.stateEnteredEventDetails?.name) {
    return { state: { type: 'entered', state: event.stateEnteredEventDetails.name, stateType: entered[1]! } };
  }
  const exited = /^(\w+)StateExited$/.exec(type);
  if (exited && event.stateExitedEventDetails?.name) {
    return { state: { type: 'exited', state: event.stateExitedEventDetails.name, stateType: exited[1]! } };
  }
  switch (type) {
    case 'TaskScheduled': {
      const details = event.taskScheduledEventDetails;
      if (details?.resourceType !== 'ecs') return {};
      const input = taskInputOf(parseJson(details.parameters));
      const name = input?.database?.name;
      const mode = typeof input?.mode === 'string' ? input.mode : 'task';
      return typeof name === 'string'
        ? { progress: { kind: 'phase', database: name, phase: `${mode} (Fargate task scheduled)` } }
        : {};
    }
    case 'TaskSucceeded': {
      const details = event.taskSucceededEventDetails;
      if (details?.resourceType !== 'ecs') return {};
      const result = parseJson(details.output) as
        | { name?: unknown; status?: unknown; rows?: unknown; bytes?: unknown; tables?: unknown }
        | undefined;
      if (!result || typeof result.name !== 'string') return {};
      const count = (v: unknown) => (typeof v === 'number' ? String(v) : '?');
      const detail = `${count(result.tables)} tables, ${count(result.rows)} rows`;
      const status = typeof result.status === 'string' ? result.status : 'done';
      return { progress: { kind: 'phase', database: result.name, phase: status, detail } };
    }
    case 'TaskFailed':
    case 'TaskTimedOut': {
      const details = event.taskFailedEventDetails ?? event.taskTimedOutEventDetails;
      return {
        warning: scrub(`task ${details?.resourceType ?? ''} failed: ${details?.error ?? ''} ${details?.cause ?? ''}`),
      };
    }
    case 'LambdaFunctionFailed':
    case 'LambdaFunctionTimedOut': {
      const details = event.lambdaFunctionFailedEventDetails ?? event.lambdaFunctionTimedOutEventDetails;
      return { warning: scrub(`Lambda failed: ${details?.error ?? ''} ${details?.cause ?? ''}`) };
    }
    case 'ExecutionSucceeded': {
      return { outcome: outcomeFromOutput(parseJson(event.executionSucceededEventDetails?.output)) };
    }
    case 'ExecutionFailed': {
      const details = event.executionFailedEventDetails;
      return { outcome: outcomeFromFailure(details?.error ?? 'States.Runtime', details?.cause ?? '') };
    }
    case 'ExecutionAborted':
      return { outcome: { kind: 'interrupted' } };
    case 'ExecutionTimedOut':
      return { outcome: { kind: 'error', error: 'States.Timeout', cause: 'the execution timed out' } };
    default:
      return {};
  }
}

/** Follows an execution until it ends; resolves with its outcome. */
export async function watchExecution(
  sfn: SFNClient,
  executionArn: string,
  observer: RunObserver,
  options: { readonly intervalMs?: number; readonly signal?: AbortSignal } = {},
): Promise<Outcome> {
  const reader = new HistoryReader(sfn, executionArn);
  for (;;) {
    for (const event of await reader.poll()) {
      const meaning = interpretEvent(event);
      if (meaning.state) observer.state(meaning.state);
      if (meaning.progress) observer.progress(meaning.progress);
      if (meaning.warning) observer.logger.warn(meaning.warning);
      if (meaning.outcome) return meaning.outcome;
    }
    if (options.signal?.aborted) return { kind: 'interrupted' };
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, options.intervalMs ?? 5000);
      options.signal?.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          resolve();
        },
        { once: true },
      );
    });
  }
}

/** The Fargate tasks an execution started (from its TaskSubmitted events' RunTask output). */
export function submittedTasks(events: readonly HistoryEvent[]): Array<{ taskArn: string; cluster: string }> {
  const out = new Map<string, { taskArn: string; cluster: string }>();
  for (const event of events) {
    if (event.type !== 'TaskSubmitted' || event.taskSubmittedEventDetails?.resourceType !== 'ecs') continue;
    const output = parseJson(event.taskSubmittedEventDetails.output) as
      | { Tasks?: unknown; tasks?: unknown }
      | undefined;
    const tasks = (output?.Tasks ?? output?.tasks) as
      | Array<{ TaskArn?: unknown; ClusterArn?: unknown; taskArn?: unknown; clusterArn?: unknown }>
      | undefined;
    if (!Array.isArray(tasks)) continue;
    for (const task of tasks) {
      const taskArn = task.TaskArn ?? task.taskArn;
      const cluster = task.ClusterArn ?? task.clusterArn;
      if (typeof taskArn === 'string' && typeof cluster === 'string') out.set(taskArn, { taskArn, cluster });
    }
  }
  return [...out.values()];
}

/**
 * Stops an execution and the Fargate tasks it started that are still running. Resolves with the ARNs of the tasks
 * it stopped.
 */
export async function stopExecution(
  sfn: SFNClient,
  ecs: ECSClient,
  executionArn: string,
  cause = 'stopped with pg-migrate aws stop',
): Promise<string[]> {
  await sfn.send(new StopExecutionCommand({ executionArn, error: 'PgMigrate.Aborted', cause }));
  const events = await new HistoryReader(sfn, executionArn).poll();
  const byCluster = new Map<string, string[]>();
  for (const { taskArn, cluster } of submittedTasks(events))
    byCluster.set(cluster, [...(byCluster.get(cluster) ?? []), taskArn]);
  const stopped: string[] = [];
  for (const [cluster, arns] of byCluster) {
    for (let i = 0; i < arns.length; i += 100) {
      const described = await ecs.send(new DescribeTasksCommand({ cluster, tasks: arns.slice(i, i + 100) }));
      for (const task of described.tasks ?? []) {
        if (!task.taskArn || task.lastStatus === 'STOPPED') continue;
        await ecs.send(new StopTaskCommand({ cluster, task: task.taskArn, reason: cause.slice(0, 255) }));
        stopped.push(task.taskArn);
      }
    }
  }
  return stopped;
}
