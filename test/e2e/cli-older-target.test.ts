/** An older target major version stops the run before anything is written (exit code 2). */
import { describe, expect, it } from 'vitest';
import { useCluster } from '../support/vitest.js';
import { leakForms, runCli, serverState } from './cli.js';

const source = useCluster({ version: 15 });
const target = useCluster({ version: 14 });

describe('pg-migrate migrate to an older server', () => {
  it('fails when the target runs an older major version than the source, writing nothing', async () => {
    await source().createDatabase('app');
    await source().loadFixture(
      'app',
      'CREATE TABLE public.t (id int PRIMARY KEY); INSERT INTO public.t VALUES (1), (2);',
    );
    const before = await serverState(target());
    const result = await runCli([
      'migrate',
      '--source',
      source().uri('postgres'),
      '--target',
      target().uri('postgres'),
    ]);
    const output = `${result.stdout}\n${result.stderr}`;
    expect(result.code, output).toBe(2);
    expect(output).toMatch(/older than the source/);
    expect(output).toMatch(/nothing was written to the target/);
    for (const secret of leakForms([source().password, target().password])) expect(output).not.toContain(secret);
    expect(await serverState(target())).toEqual(before);
  });
});
