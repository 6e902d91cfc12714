/**
 * Writes the runnable ASL of the workflow to infra/state-machine.asl.json: the artefact the CLI loads to run the
 * workflow locally. Builds the definition with the same module the construct uses (infra/workflow-definition.ts),
 * its Task states pointed at placeholder ARNs, with the construct's default settings; no stack is synthesized, so
 * this works offline in a second. Validates the result with asl-validator.
 *
 * The helpers that turn a synthesized template's DefinitionString back into ASL (evaluating Fn::Join, Ref,
 * Fn::GetAtt, Fn::Select, Fn::Split and simple Fn::Sub with placeholder values chosen by the referenced resource's
 * type) live here too: the infra tests compare the deployed definition with the artefact through them.
 *
 * Run: `npx tsx scripts/build-asl.ts` (writes the file) or `npx tsx scripts/build-asl.ts --check` (fails when the
 * committed artefact differs from a fresh build).
 */
import { createHash } from 'node:crypto';
import { readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { App, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { FUNCTION_NAMES, type FunctionName } from '../infra/state-names.js';
import { buildWorkflowDefinition } from '../infra/workflow-definition.js';
import { definitionOptions } from '../infra/workflow-props.js';
import { TASK_CONTAINER_NAME } from '../infra/workflow-resources.js';

/** Where the artefact lives. */
export const ASL_ARTEFACT_PATH = join(dirname(fileURLToPath(import.meta.url)), '..', 'infra', 'state-machine.asl.json');

/** Placeholder account, region and partition of the artefact. */
export const PLACEHOLDER = { partition: 'aws', region: 'us-east-1', account: '123456789012' } as const;

/** The placeholder ARN of a function in the artefact. */
export function placeholderFunctionArn(name: FunctionName): string {
  return `arn:${PLACEHOLDER.partition}:lambda:${PLACEHOLDER.region}:${PLACEHOLDER.account}:function:pg-migrate-${name}`;
}

/** The placeholder task target of the artefact. */
export const PLACEHOLDER_TASK = {
  clusterArn: `arn:${PLACEHOLDER.partition}:ecs:${PLACEHOLDER.region}:${PLACEHOLDER.account}:cluster/pg-migrate`,
  taskDefinitionArn: `arn:${PLACEHOLDER.partition}:ecs:${PLACEHOLDER.region}:${PLACEHOLDER.account}:task-definition/pg-migrate:1`,
  containerName: TASK_CONTAINER_NAME,
  subnetIds: ['subnet-00000000000000001', 'subnet-00000000000000002'],
  securityGroupIds: ['sg-00000000000000001'],
} as const;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, Json>;
}

export interface CfnTemplate {
  readonly Resources: Record<string, CfnResource>;
}

/** The ASL document (only what the build looks at is typed). */
export interface AslDefinition {
  readonly StartAt: string;
  readonly States: Record<string, Record<string, unknown>>;
  readonly [key: string]: unknown;
}

function hex(logicalId: string, length: number): string {
  return createHash('sha256').update(logicalId).digest('hex').slice(0, length);
}

const { partition, region, account } = PLACEHOLDER;

function refValue(logicalId: string, template: CfnTemplate): string {
  switch (logicalId) {
    case 'AWS::Partition':
      return partition;
    case 'AWS::Region':
      return region;
    case 'AWS::AccountId':
      return account;
    case 'AWS::URLSuffix':
      return 'amazonaws.com';
    default:
      break;
  }
  const resource = template.Resources[logicalId];
  if (!resource) throw new Error(`Ref to unknown resource ${logicalId}`);
  switch (resource.Type) {
    case 'AWS::EC2::Subnet':
      return `subnet-${hex(logicalId, 17)}`;
    case 'AWS::EC2::SecurityGroup':
      return `sg-${hex(logicalId, 17)}`;
    case 'AWS::ECS::TaskDefinition':
      return `arn:${partition}:ecs:${region}:${account}:task-definition/${logicalId}:1`;
    default:
      // Lambda functions, clusters, log groups: Ref is the name.
      return logicalId;
  }
}

function getAttValue(logicalId: string, attribute: string, template: CfnTemplate): string {
  const resource = template.Resources[logicalId];
  if (!resource) throw new Error(`Fn::GetAtt of unknown resource ${logicalId}`);
  const key = `${resource.Type}.${attribute}`;
  switch (key) {
    case 'AWS::Lambda::Function.Arn':
      return `arn:${partition}:lambda:${region}:${account}:function:${logicalId}`;
    case 'AWS::ECS::Cluster.Arn':
      return `arn:${partition}:ecs:${region}:${account}:cluster/${logicalId}`;
    case 'AWS::ECS::TaskDefinition.TaskDefinitionArn':
      return `arn:${partition}:ecs:${region}:${account}:task-definition/${logicalId}:1`;
    case 'AWS::EC2::SecurityGroup.GroupId':
      return `sg-${hex(logicalId, 17)}`;
    case 'AWS::IAM::Role.Arn':
      return `arn:${partition}:iam::${account}:role/${logicalId}`;
    case 'AWS::Logs::LogGroup.Arn':
      return `arn:${partition}:logs:${region}:${account}:log-group:${logicalId}:*`;
    default:
      throw new Error(`no placeholder for Fn::GetAtt ${key}`);
  }
}

function evaluateString(value: Json, template: CfnTemplate): string {
  const out = evaluateIntrinsics(value, template);
  if (typeof out !== 'string') throw new Error(`expected a string, got ${JSON.stringify(out)}`);
  return out;
}

/** Evaluates the intrinsics CloudFormation would resolve, with placeholder values. */
export function evaluateIntrinsics(value: Json, template: CfnTemplate): Json {
  if (Array.isArray(value)) return value.map((v) => evaluateIntrinsics(v, template));
  if (value === null || typeof value !== 'object') return value;
  const keys = Object.keys(value);
  const only = keys.length === 1 ? keys[0] : undefined;
  const arg = only !== undefined ? value[only] : undefined;
  switch (only) {
    case 'Ref':
      if (typeof arg !== 'string') throw new Error('Ref takes a logical id');
      return refValue(arg, template);
    case 'Fn::GetAtt': {
      const [id, attribute] = Array.isArray(arg) ? arg : typeof arg === 'string' ? arg.split('.') : [];
      if (typeof id !== 'string' || typeof attribute !== 'string') throw new Error('Fn::GetAtt takes [id, attribute]');
      return getAttValue(id, attribute, template);
    }
    case 'Fn::Join': {
      if (!Array.isArray(arg) || arg.length !== 2 || typeof arg[0] !== 'string') throw new Error('bad Fn::Join');
      const list = evaluateIntrinsics(arg[1] as Json, template);
      if (!Array.isArray(list)) throw new Error('Fn::Join takes a list');
      return list.map((part) => evaluateString(part, template)).join(arg[0]);
    }
    case 'Fn::Select': {
      if (!Array.isArray(arg) || arg.length !== 2) throw new Error('bad Fn::Select');
      const index = Number(evaluateIntrinsics(arg[0] as Json, template));
      const list = evaluateIntrinsics(arg[1] as Json, template);
      if (!Array.isArray(list) || list[index] === undefined) throw new Error('Fn::Select out of range');
      return list[index];
    }
    case 'Fn::Split': {
      if (!Array.isArray(arg) || arg.length !== 2 || typeof arg[0] !== 'string') throw new Error('bad Fn::Split');
      return evaluateString(arg[1] as Json, template).split(arg[0]);
    }
    case 'Fn::Sub': {
      const text = typeof arg === 'string' ? arg : Array.isArray(arg) ? arg[0] : undefined;
      const given = Array.isArray(arg) ? arg[1] : {};
      if (typeof text !== 'string' || given === null || typeof given !== 'object' || Array.isArray(given))
        throw new Error('bad Fn::Sub');
      const vars: Record<string, Json> = given ?? {};
      return text.replace(/\$\{([^}!]+)\}/g, (_match, name: string) => {
        const bound = Object.hasOwn(vars, name) ? vars[name] : undefined;
        if (bound !== undefined) return evaluateString(bound, template);
        const [id = '', attribute] = name.split('.');
        return attribute !== undefined ? getAttValue(id, attribute, template) : refValue(id, template);
      });
    }
    default: {
      if (only?.startsWith('Fn::')) throw new Error(`unsupported intrinsic ${only}`);
      const out: Record<string, Json> = {};
      for (const [k, v] of Object.entries(value)) out[k] = evaluateIntrinsics(v, template);
      return out;
    }
  }
}

/** The runnable ASL of the template's one state machine. */
export function definitionFromTemplate(template: CfnTemplate): AslDefinition {
  const machines = Object.values(template.Resources).filter((r) => r.Type === 'AWS::StepFunctions::StateMachine');
  if (machines.length !== 1) throw new Error(`expected one state machine, found ${machines.length}`);
  const definition = machines[0]?.Properties?.DefinitionString;
  if (definition === undefined) throw new Error('the state machine has no DefinitionString');
  return JSON.parse(evaluateString(definition, template)) as AslDefinition;
}

interface AslValidatorResult {
  readonly isValid: boolean;
  errorsText(separator?: string): string;
}
type AslValidator = (definition: unknown, options?: { checkPaths?: boolean; checkArn?: boolean }) => AslValidatorResult;

/** Validates with asl-validator (paths and ARNs checked); throws with every error. */
export function validateAsl(definition: AslDefinition): void {
  // asl-validator is CommonJS without types, and it annotates the object it checks: give it a copy.
  const validator = createRequire(import.meta.url)('asl-validator') as AslValidator;
  const result = validator(structuredClone(definition), { checkPaths: true, checkArn: true });
  if (!result.isValid) throw new Error(`invalid ASL:\n${result.errorsText('\n')}`);
}

/** The artefact's text: pretty, stable, with a trailing newline. */
export function formatAsl(definition: AslDefinition): string {
  return `${JSON.stringify(definition, null, 2)}\n`;
}

/** The workflow's definition with placeholder targets and the construct's defaults, as ASL. */
export function artefactDefinition(): AslDefinition {
  const stack = new Stack(new App(), 'Artefact', {
    env: { account: PLACEHOLDER.account, region: PLACEHOLDER.region },
  });
  const functions = Object.fromEntries(
    FUNCTION_NAMES.map((name) => [
      name,
      lambda.Function.fromFunctionArn(stack, `Function-${name}`, placeholderFunctionArn(name)),
    ]),
  ) as Record<FunctionName, lambda.IFunction>;
  const chain = buildWorkflowDefinition(stack, { functions, task: PLACEHOLDER_TASK }, definitionOptions({}));
  const graph = new sfn.StateGraph(chain.startState, 'pg-migrate');
  // Only pseudo parameters (the partition) are left to evaluate.
  return evaluateIntrinsics(stack.resolve(graph.toGraphJson()) as Json, { Resources: {} }) as unknown as AslDefinition;
}

/** Builds and validates: the artefact as it should be committed. */
export function buildAsl(): AslDefinition {
  const definition = artefactDefinition();
  validateAsl(definition);
  return definition;
}

function main(args: readonly string[]): number {
  const text = formatAsl(buildAsl());
  if (args.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(ASL_ARTEFACT_PATH, 'utf8');
    } catch {
      // missing: differs
    }
    if (current !== text) {
      console.error(`${ASL_ARTEFACT_PATH} is out of date: run npx tsx scripts/build-asl.ts`);
      return 1;
    }
    console.log(`${ASL_ARTEFACT_PATH} is up to date`);
    return 0;
  }
  writeFileSync(ASL_ARTEFACT_PATH, text);
  console.log(`wrote ${ASL_ARTEFACT_PATH}`);
  return 0;
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(realpathSync(entry)).href) {
  process.exitCode = main(process.argv.slice(2));
}
