import { StateMachine } from 'aws-local-stepfunctions';
import { beforeAll, describe, expect, it } from 'vitest';
import { installPolyfills } from '../../cli/local/polyfill.js';

beforeAll(installPolyfills);

describe('the local Step Functions interpreter (patched by scripts/patch-deps.mjs)', () => {
  it('keeps the escapes of States.JsonToString, as AWS does', async () => {
    const machine = new StateMachine({
      StartAt: 'Serialize',
      States: {
        Serialize: { Type: 'Pass', Parameters: { 'text.$': 'States.JsonToString($.value)' }, End: true },
      },
    });
    const value = { name: 'Ledger "EU" \\ ü', nested: ['a"b'] };
    const { result } = machine.run({ value });
    const output = (await result) as { text: string };
    expect(JSON.parse(output.text)).toEqual(value);
  });
});
