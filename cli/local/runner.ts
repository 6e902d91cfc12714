/**
 * Runs the state machine locally with aws-local-stepfunctions: Lambda Task states call the `lambdas/` handlers in
 * process, ECS Task states run the task's entry point as a child process that calls back a loopback Step
 * Functions endpoint. Every Task state of the ASL must have a local implementation, or the run does not start.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scrub } from '../../core/errors.js';
import type { Logger, ProgressListener } from '../../core/logger.js';
import { getJson, REPORT_DIR_ENV, reportKey } from '../../core/report-store.js';
import type { RequestInput } from '../../core/request.js';
import { DirectoryReportStore } from '../../lambdas/shared/report-store.js';
import { parseLogLine } from '../output/log-lines.js';
import { type Outcome, outcomeFromFailure, outcomeFromOutput, RUN_FAILED_ERROR } from '../outcome.js';
import type { Report } from '../../core/report.js';
import { type AslMachine, allStates, localImplementations } from './asl.js';
import { LocalTaskRunner, type TaskCommand } from './ecs-task.js';
import { importHandler } from './handlers.js';
import {
  AWS_LIMITS,
  causeViolation,
  containerOverridesViolation,
  type LimitExceeded,
  stateDataViolation,
} from './limits.js';
import { installPolyfills } from './polyfill.js';
import { LocalSfnEndpoint } from './sfn-endpoint.js';

/** A Lambda handler as the `lambdas/` modules export it. */
export type Handler = (event: unknown) => Promise<unknown>;

/** A state machine event, as the printer sees it. */
export interface StateEvent {
  readonly type: 'entered' | 'exited' | 'failed' | 'retried' | 'caught';
  readonly state: string;
  readonly stateType: string;
  /** Map iteration index, for states inside a Map. */
  readonly index?: number;
  readonly error?: string;
  readonly cause?: string;
}

/** Who watches a run: the printer in the CLI, a collector in tests. */
export interface RunObserver {
  readonly logger: Logger;
  readonly progress: ProgressListener;
  state(event: StateEvent): void;
  /** A line a task child or an in-process handler wrote that is neither a log record nor progress. */
  line(line: string, source: string): void;
}

export interface LocalRunOptions {
  readonly asl: AslMachine;
  readonly input: RequestInput;
  readonly observer: RunObserver;
  /** Loads a `lambdas/<module>` handler. @default {@link importHandler} */
  readonly loadHandler?: (module: string) => Promise<Handler>;
  /** @default `node --import tsx tasks/main.ts` (or `dist/task.mjs`) */
  readonly taskCommand?: TaskCommand;
  /** Milliseconds every Wait state waits locally. @default 2000 */
  readonly waitMs?: number;
  /** Milliseconds between retries locally. @default 1000 */
  readonly retryMs?: number;
  /** Aborts the execution and stops the task children. */
  readonly signal?: AbortSignal;
  /**
   * The run's report store (the functions and the task keep full results there, the state carries compact ones).
   * @default a new private directory under the OS temp directory, removed when the run ends
   */
  readonly reportDir?: string;
  /** AWS's payload limits, enforced as AWS would. @default {@link AWS_LIMITS} */
  readonly limits?: typeof AWS_LIMITS;
}

/** What a local run leaves behind for the caller (Ctrl-C clean-up, the report). */
export interface LocalRunResult {
  readonly outcome: Outcome;
  /** The parsed request (`ResolveRequest`'s output), once it ran. */
  readonly request?: Record<string, unknown>;
  /** The plan (`Plan`'s output), once it ran. */
  readonly plan?: Record<string, unknown>;
  /** Databases for which a task ran in a mode that creates replication objects. */
  readonly replicationStarted: readonly string[];
}

/**
 * Routes one line written by a task child or an in-process handler: progress events to the progress listener, JSON
 * log records to the logger (at their level, with their fields), anything else to `observer.line`.
 */
export function routeLine(line: string, observer: RunObserver, source: string): void {
  if (line.trim() === '') return;
  const parsed = parseLogLine(line);
  if (parsed.kind === 'progress') observer.progress(parsed.event);
  else if (parsed.kind === 'log') observer.logger[parsed.level](parsed.message, parsed.fields);
  else observer.line(parsed.text, source);
}

/**
 * An error as Step Functions reports a failed Lambda: `Error` is the error's name, `Cause` the JSON
 * `{ errorType, errorMessage }` — so Retry / Catch and the Catch handlers see what they would see on AWS.
 */
export function lambdaError(err: unknown): Error {
  const name = err instanceof Error && err.name ? err.name : 'Error';
  const message = err instanceof Error ? err.message : String(err);
  const out = new Error(JSON.stringify({ errorType: name, errorMessage: scrub(message) }));
  out.name = name;
  return out;
}

function jsonSafe(value: unknown): unknown {
  return value === undefined ? null : (JSON.parse(JSON.stringify(value)) as unknown);
}

function databaseName(taskInput: unknown): string | undefined {
  const db = (taskInput as { database?: unknown } | null)?.database;
  if (typeof db === 'string') return db;
  const name = (db as { name?: unknown } | null)?.name;
  return typeof name === 'string' ? name : undefined;
}

function taskMethod(taskInput: unknown): string | undefined {
  const method = (taskInput as { database?: { method?: unknown } } | null)?.database?.method;
  return typeof method === 'string' ? method : undefined;
}

/** Runs one execution locally. Never throws for a failed execution: the outcome says how it ended. */
export async function runLocal(options: LocalRunOptions): Promise<LocalRunResult> {
  installPolyfills();
  const { StateMachine, ExecutionAbortedError, ExecutionError, ExecutionTimeoutError } = await import(
    'aws-local-stepfunctions'
  );
  const { observer } = options;
  const { tasks, missing } = localImplementations(options.asl);
  if (missing.length > 0) throw new Error(`no local implementation for Task state(s): ${missing.join(', ')}`);

  // Handlers load on first use: a `check` never pays for the migration steps' modules.
  const loadHandler = options.loadHandler ?? importHandler;
  const handlers = new Map<string, Promise<Handler>>();
  const handlerFor = (module: string): Promise<Handler> => {
    let handler = handlers.get(module);
    if (!handler) {
      handler = loadHandler(module);
      handlers.set(module, handler);
    }
    return handler;
  };

  const endpoint = await LocalSfnEndpoint.start();
  const replicationStarted = new Set<string>();
  const runner = new LocalTaskRunner({
    endpoint,
    ...(options.taskCommand ? { command: options.taskCommand } : {}),
    onLine: (line, stream, taskInput) => routeLine(line, observer, `task ${databaseName(taskInput) ?? '?'} ${stream}`),
    onStart: (taskInput) => {
      const name = databaseName(taskInput);
      const mode = (taskInput as { mode?: unknown } | null)?.mode;
      if (name !== undefined && mode === 'migrate' && taskMethod(taskInput) === 'replication')
        replicationStarted.add(name);
      if (name !== undefined)
        observer.progress({
          kind: 'phase',
          database: name,
          phase: `${typeof mode === 'string' ? mode : ''} task started`.trim(),
        });
    },
  });

  // AWS's limits: a state whose input or output is too large fails the execution (States.DataLimitExceeded, which
  // no Catch catches): the event log reports it, the execution is aborted, and no Task starts after it.
  const limits = options.limits ?? AWS_LIMITS;
  let violation: LimitExceeded | undefined;
  const violated = async (): Promise<void> => {
    // The event log is consumed on microtasks: let it catch up with the state entered before this Task runs.
    await new Promise((resolve) => setImmediate(resolve));
    if (violation) throw violation;
  };

  const localHandlers: Record<string, (input: unknown) => Promise<unknown>> = {};
  for (const [name, { state, implementation }] of tasks) {
    if (implementation.kind === 'ecs') {
      localHandlers[name] = async (input) => {
        await violated();
        const rejected = containerOverridesViolation(input, limits.containerOverrideChars);
        if (rejected) throw rejected;
        return jsonSafe(await runner.run(input, state));
      };
      continue;
    }
    localHandlers[name] = async (input) => {
      await violated();
      const event = implementation.wrapped ? (input as { Payload?: unknown } | null)?.Payload : input;
      const handler = await handlerFor(implementation.module);
      let result: unknown;
      try {
        result = jsonSafe(await handler(jsonSafe(event)));
      } catch (err) {
        throw lambdaError(err);
      }
      return implementation.wrapped ? { ExecutedVersion: '$LATEST', Payload: result, StatusCode: 200 } : result;
    };
  }
  const waitTimeOverrides: Record<string, number> = {};
  const retryIntervalOverrides: Record<string, number> = {};
  for (const { name, state } of allStates(options.asl)) {
    if (state.Type === 'Wait') waitTimeOverrides[name] = options.waitMs ?? 2000;
    if (Array.isArray(state.Retry)) retryIntervalOverrides[name] = options.retryMs ?? 1000;
  }

  // The execution name is the run id: it keys the report store (core/report-store.ts).
  const runId = `local-${randomUUID()}`;
  const reportDir = options.reportDir ?? mkdtempSync(join(tmpdir(), 'pg-migrate-run-'));
  const store = new DirectoryReportStore(reportDir);
  // In-process handlers and task children find the store through the environment, as on AWS.
  const previousReportDir = process.env[REPORT_DIR_ENV];
  process.env[REPORT_DIR_ENV] = store.root;

  let outcome: Outcome = { kind: 'interrupted' };
  let request: Record<string, unknown> | undefined;
  let plan: Record<string, unknown> | undefined;
  try {
    const machine = new StateMachine(options.asl as never, { validationOptions: { noValidate: true } });
    const execution = machine.run(options.input, {
      overrides: {
        taskResourceLocalHandlers: localHandlers as never,
        waitTimeOverrides,
        retryIntervalOverrides,
      },
      context: {
        Task: {
          get Token() {
            return `local-${randomUUID()}`;
          },
        },
        Execution: { Id: `local:${runId}`, Name: runId, StartTime: new Date().toISOString() },
      },
    });

    let report: Report | undefined;
    const onAbort = () => {
      execution.abort();
      void runner.stopAll();
    };
    const consume = (async () => {
      for await (const event of execution.eventLogs) {
        if (!('state' in event) || !event.state) continue;
        if (!violation && (event.type === 'StateEntered' || event.type === 'StateExited')) {
          const found =
            event.type === 'StateEntered'
              ? stateDataViolation(event.state.name, 'input', event.state.input, limits.stateBytes)
              : stateDataViolation(event.state.name, 'output', event.state.output, limits.stateBytes);
          if (found) {
            violation = found;
            onAbort();
          }
        }
        const output = (event.type === 'StateExited' ? event.state.output : undefined) as
          | Record<string, unknown>
          | null
          | undefined;
        if (output && typeof output === 'object' && event.index === undefined) {
          if (typeof output.request === 'object' && output.request !== null)
            request = output.request as Record<string, unknown>;
          if (typeof output.plan === 'object' && output.plan !== null) plan = output.plan as Record<string, unknown>;
          // The Report state's result: `$.report`, or `$.result.report` (with the Fail cause beside it).
          const candidate = output.report ?? (output.result as { report?: unknown } | null | undefined)?.report;
          if (typeof candidate === 'object' && candidate !== null) report = candidate as Report;
        }
        const type = (
          {
            StateEntered: 'entered',
            StateExited: 'exited',
            StateFailed: 'failed',
            StateRetried: 'retried',
            StateCaught: 'caught',
          } as const
        )[event.type as 'StateEntered'];
        if (!type) continue;
        observer.state({
          type,
          state: event.state.name,
          stateType: event.state.type,
          ...(event.index !== undefined ? { index: event.index } : {}),
          ...('Error' in event ? { error: String(event.Error) } : {}),
          ...('Cause' in event ? { cause: scrub(String(event.Cause)) } : {}),
        });
      }
    })();

    if (options.signal?.aborted) onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });

    try {
      outcome = outcomeFromOutput(await execution.result);
    } catch (err) {
      if (err instanceof ExecutionAbortedError) outcome = { kind: 'interrupted' };
      else if (err instanceof ExecutionTimeoutError)
        outcome = { kind: 'error', error: 'States.Timeout', cause: 'the execution timed out' };
      else if (err instanceof ExecutionError) {
        const cause = err.cause instanceof Error ? err.cause : undefined;
        const text = cause?.message ?? err.message;
        // A Fail state's cause longer than Step Functions takes.
        const tooLong = causeViolation(text, limits.causeChars);
        outcome = tooLong
          ? { kind: 'error', error: tooLong.name, cause: tooLong.message }
          : outcomeFromFailure(cause?.name ?? 'States.Runtime', text);
      } else outcome = { kind: 'error', error: 'States.Runtime', cause: scrub(String(err)) };
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
    await runner.stopAll();
    await endpoint.close();
    // The event log ends with the execution; the bound only guards against a logger that never closes.
    await Promise.race([consume, new Promise((resolve) => setTimeout(resolve, 30_000))]);
    if (violation) outcome = { kind: 'error', error: violation.name, cause: violation.message };
    // The report the state carried is the compact one; the full one (every check, every table) is in the store.
    const full = report ? await fullReport(store, runId, report) : undefined;
    // A failed run's cause is the report as JSON, trimmed to the Step Functions cause limit when large: locally the
    // whole report is at hand, so it is taken from there.
    if (full && (outcome.kind === 'report' || (outcome.kind === 'error' && outcome.error === RUN_FAILED_ERROR)))
      outcome = { kind: 'report', report: full };
  } finally {
    if (previousReportDir === undefined) delete process.env[REPORT_DIR_ENV];
    else process.env[REPORT_DIR_ENV] = previousReportDir;
    if (options.reportDir === undefined) rmSync(reportDir, { recursive: true, force: true });
  }
  return {
    outcome,
    ...(request ? { request } : {}),
    ...(plan ? { plan } : {}),
    replicationStarted: [...replicationStarted],
  };
}

/** The full report the Report state stored, or the state's one when it stored none. */
async function fullReport(store: DirectoryReportStore, runId: string, report: Report): Promise<Report> {
  if (report.reportUri === undefined) return report;
  return (await getJson<Report>(store, reportKey(runId))) ?? report;
}
