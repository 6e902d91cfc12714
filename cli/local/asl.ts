/**
 * The ASL artefact (`infra/state-machine.asl.json`, committed by infra) and how each of its Task states runs
 * locally: Lambda states call the `lambdas/` handler in process, ECS `runTask.waitForTaskToken` states run the
 * task's entry point as a child process. The CLI never synthesizes CDK at run time.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type FunctionName, LAMBDA_STATE_FUNCTIONS } from '../../infra/state-names.js';
import { projectRoot } from '../paths.js';

/** The parts of an ASL state the CLI looks at. */
export interface AslState {
  readonly Type: string;
  readonly Resource?: string;
  readonly Parameters?: Record<string, unknown>;
  readonly HeartbeatSeconds?: number;
  readonly TimeoutSeconds?: number;
  readonly Retry?: readonly unknown[];
  readonly Branches?: readonly AslMachine[];
  readonly Iterator?: AslMachine;
  readonly ItemProcessor?: AslMachine;
  readonly Seconds?: number;
  readonly [other: string]: unknown;
}

export interface AslMachine {
  readonly StartAt: string;
  readonly States: Readonly<Record<string, AslState>>;
  readonly TimeoutSeconds?: number;
  readonly [other: string]: unknown;
}

/** Where the ASL artefact lives. */
export function aslPath(): string {
  return join(projectRoot(), 'infra', 'state-machine.asl.json');
}

/** Reads the ASL artefact. */
export function loadAsl(path = aslPath()): AslMachine {
  if (!existsSync(path)) {
    throw new Error(`the state machine artefact ${path} is missing: it is built by infra (npm run synth:asl)`);
  }
  return JSON.parse(readFileSync(path, 'utf8')) as AslMachine;
}

/** Every state of the machine, nested ones (Parallel branches, Map iterators) included. */
export function allStates(machine: AslMachine): Array<{ readonly name: string; readonly state: AslState }> {
  const out: Array<{ name: string; state: AslState }> = [];
  const walk = (m: AslMachine) => {
    for (const [name, state] of Object.entries(m.States)) {
      out.push({ name, state });
      for (const branch of state.Branches ?? []) walk(branch);
      if (state.Iterator) walk(state.Iterator);
      if (state.ItemProcessor) walk(state.ItemProcessor);
    }
  };
  walk(machine);
  return out;
}

/** Lambda handler modules (`lambdas/<module>.ts`) by Task state name. */
export const LAMBDA_MODULE_BY_STATE: Readonly<Record<string, FunctionName>> = LAMBDA_STATE_FUNCTIONS;

/** How one Task state runs locally. */
export type LocalImplementation =
  | {
      readonly kind: 'lambda';
      readonly module: string;
      /** `arn:aws:states:::lambda:invoke` wraps the event in `Payload` and the result in `{ Payload }`. */
      readonly wrapped: boolean;
    }
  | { readonly kind: 'ecs' };

const ECS_RUN_TASK = /^arn:aws[a-z-]*:states:::ecs:runTask\.waitForTaskToken$/;
const LAMBDA_INVOKE = /^arn:aws[a-z-]*:states:::lambda:invoke$/;
const LAMBDA_ARN = /^arn:aws[a-z-]*:lambda:/;

/** How a Task state runs locally, or undefined when the CLI has no local implementation for it. */
export function localImplementation(name: string, state: AslState): LocalImplementation | undefined {
  const resource = state.Resource ?? '';
  if (ECS_RUN_TASK.test(resource)) return { kind: 'ecs' };
  const wrapped = LAMBDA_INVOKE.test(resource);
  if (!wrapped && !LAMBDA_ARN.test(resource)) return undefined;
  const module = LAMBDA_MODULE_BY_STATE[name];
  if (module === undefined) return undefined;
  return { kind: 'lambda', module, wrapped };
}

/** Every Task state with its local implementation; `missing` lists the names the CLI cannot run. */
export function localImplementations(machine: AslMachine): {
  readonly tasks: ReadonlyMap<string, { readonly state: AslState; readonly implementation: LocalImplementation }>;
  readonly missing: readonly string[];
} {
  const tasks = new Map<string, { state: AslState; implementation: LocalImplementation }>();
  const missing: string[] = [];
  for (const { name, state } of allStates(machine)) {
    if (state.Type !== 'Task') continue;
    const implementation = localImplementation(name, state);
    if (implementation) tasks.set(name, { state, implementation });
    else missing.push(name);
  }
  return { tasks, missing };
}
