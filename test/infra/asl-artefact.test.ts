/**
 * The ASL artefact the CLI loads: it must be exactly what the definition module builds, valid, and made of the
 * kinds of Task the workflow contract names. (test/infra/pg-migration-stack.test.ts checks that the deployed
 * definition is the same graph.)
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { STATE_NAMES } from '../../infra/state-names.js';
import { ASL_ARTEFACT_PATH, type AslDefinition, buildAsl, formatAsl, validateAsl } from '../../scripts/build-asl.js';

type State = Record<string, unknown>;

/** Every state, nested ones (Parallel branches, Map processors) included, by name. */
function allStates(definition: { readonly States: Record<string, State> }): Map<string, State> {
  const out = new Map<string, State>();
  const visit = (states: Record<string, State>) => {
    for (const [name, state] of Object.entries(states)) {
      out.set(name, state);
      for (const branch of (state.Branches as AslDefinition[] | undefined) ?? []) visit(branch.States);
      const processor = (state.ItemProcessor ?? state.Iterator) as AslDefinition | undefined;
      if (processor) visit(processor.States);
    }
  };
  visit(definition.States);
  return out;
}

let fresh: AslDefinition;
let committed: AslDefinition;
let committedText: string;

beforeAll(() => {
  fresh = buildAsl();
  committedText = readFileSync(ASL_ARTEFACT_PATH, 'utf8');
  committed = JSON.parse(committedText) as AslDefinition;
}, 120_000);

describe('infra/state-machine.asl.json', () => {
  it('equals a fresh build of the definition (run npm run build:asl after changing infra/)', () => {
    expect(committed).toEqual(fresh);
    expect(committedText).toBe(formatAsl(fresh));
  });

  it('is valid ASL for asl-validator', () => {
    expect(() => validateAsl(committed)).not.toThrow();
  });

  it('fails validation when a transition points nowhere', () => {
    const broken = structuredClone(committed) as { States: Record<string, State> };
    const initialize = broken.States[STATE_NAMES.initialize];
    if (initialize) initialize.Next = 'NoSuchState';
    expect(() => validateAsl(broken as AslDefinition)).toThrow(/NoSuchState|MISSING_TRANSITION_TARGET/);
  });

  it('uses only Lambda functions and the ECS RunTask waitForTaskToken integration as Task resources', () => {
    const tasks = [...allStates(committed)].filter(([, s]) => s.Type === 'Task');
    expect(tasks.length).toBeGreaterThan(10);
    for (const [name, state] of tasks) {
      expect(state.Resource, name).toMatch(
        /^(arn:aws:lambda:us-east-1:123456789012:function:pg-migrate-[a-z]+|arn:aws:states:::ecs:runTask\.waitForTaskToken)$/,
      );
      expect(state.TimeoutSeconds, `${name} has an explicit TimeoutSeconds`).toEqual(expect.any(Number));
    }
    const ecs = tasks.filter(([, s]) => String(s.Resource).includes(':ecs:')).map(([name]) => name);
    expect(ecs.sort()).toEqual([STATE_NAMES.cutoverDatabase, STATE_NAMES.migrateDatabase].sort());
  });

  it('names every state with an exported constant, so the CLI can override Task states by name', () => {
    const known = new Set<string>(Object.values(STATE_NAMES));
    const names = [...allStates(committed).keys()];
    expect(names.filter((name) => !known.has(name))).toEqual([]);
    expect([...known].filter((name) => !names.includes(name))).toEqual([]);
  });

  it('uses JSONPath only (no JSONata, which the local interpreter ignores)', () => {
    expect(committedText).not.toMatch(/"QueryLanguage"\s*:\s*"JSONata"|\{%/);
  });
});
