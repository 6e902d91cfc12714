import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { STATE_NAMES } from '../../../infra/state-names.js';
import { allStates, localImplementations, loadAsl } from '../../../cli/local/asl.js';
import { LAMBDA_MODULES } from '../../../cli/local/handlers.js';
import { projectRoot } from '../../../cli/paths.js';

const asl = loadAsl();

describe('the ASL artefact run locally', () => {
  it('has a local implementation for every Task state', () => {
    const { tasks, missing } = localImplementations(asl);
    expect(missing).toEqual([]);
    const taskStates = allStates(asl).filter((s) => s.state.Type === 'Task');
    expect(tasks.size).toBe(taskStates.length);
    expect(tasks.size).toBeGreaterThan(10);
  });

  it('runs the ECS states as the task child and every Lambda state with a handler module that exists', () => {
    const { tasks } = localImplementations(asl);
    expect(tasks.get(STATE_NAMES.migrateDatabase)?.implementation).toEqual({ kind: 'ecs' });
    expect(tasks.get(STATE_NAMES.cutoverDatabase)?.implementation).toEqual({ kind: 'ecs' });
    for (const [name, { implementation }] of tasks) {
      if (implementation.kind !== 'lambda') continue;
      expect(LAMBDA_MODULES, name).toContain(implementation.module);
      expect(existsSync(join(projectRoot(), 'lambdas', `${implementation.module}.ts`)), name).toBe(true);
    }
  });

  it('maps the Lambda states of the workflow contract to their handlers by state name', () => {
    const { tasks } = localImplementations(asl);
    const module = (name: string) => {
      const impl = tasks.get(name)?.implementation;
      return impl?.kind === 'lambda' ? impl.module : undefined;
    };
    expect(module(STATE_NAMES.resolveRequest)).toBe('resolve');
    expect(module(STATE_NAMES.serverChecks)).toBe('precheck');
    expect(module(STATE_NAMES.databaseCheck)).toBe('precheck');
    expect(module(STATE_NAMES.plan)).toBe('plan');
    expect(module(STATE_NAMES.report)).toBe('report');
    expect(module(STATE_NAMES.cleanupDatabase)).toBe('cleanup');
    expect(module(STATE_NAMES.abort)).toBe('abort');
  });
});
