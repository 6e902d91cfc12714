import { describe, expect, it } from 'vitest';
import { abortEvent, removeReplicationObjects } from '../../../cli/commands/interrupt.js';
import type { LocalRunResult } from '../../../cli/local/runner.js';
import { parseRequest } from '../../../core/request.js';

const fallback = parseRequest({
  action: 'migrate',
  source: { env: 'PG_MIGRATE_SOURCE' },
  target: { env: 'PG_MIGRATE_TARGET' },
});

describe('clean-up after Ctrl-C', () => {
  it('asks the Abort handler for exactly the databases this run set up for replication', () => {
    const result: LocalRunResult = {
      outcome: { kind: 'interrupted' },
      request: { ...fallback, dbs: ['shop', 'crm', 'hr'], jobs: 8 },
      replicationStarted: ['crm'],
    };
    const event = abortEvent(result, fallback);
    expect(event.request).toMatchObject({
      action: 'abort',
      dbs: ['crm'],
      jobs: 8,
      source: { env: 'PG_MIGRATE_SOURCE' },
    });
    expect(parseRequest(event.request).dbs).toEqual(['crm']);
  });

  it('calls the handler once with that event, and not at all when no replication was set up', async () => {
    const calls: unknown[] = [];
    const load = (module: string) => {
      expect(module).toBe('abort');
      return Promise.resolve((event: unknown) => {
        calls.push(event);
        return Promise.resolve([]);
      });
    };
    await removeReplicationObjects({ outcome: { kind: 'interrupted' }, replicationStarted: [] }, fallback, load);
    expect(calls).toEqual([]);
    await removeReplicationObjects({ outcome: { kind: 'interrupted' }, replicationStarted: ['a'] }, fallback, load);
    expect(calls).toEqual([{ request: { ...fallback, action: 'abort', dbs: ['a'] } }]);
  });
});
