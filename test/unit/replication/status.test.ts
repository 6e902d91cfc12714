import { describe, expect, it } from 'vitest';
import type { SlotState, SubscriptionState } from '../../../core/steps/replication/catalog.js';
import { describeSyncState, isInSync, syncWait } from '../../../core/steps/replication/status.js';
import type { DatabaseResult } from '../../../core/report.js';

const subscription: SubscriptionState = { oid: 1, enabled: true, slot: 's', tables: 4, ready: 4, applyRunning: true };
const slot: SlotState = { name: 's', database: 'shop', active: true, confirmedFlushLsn: '0/1', lagBytes: 100 };

describe('isInSync', () => {
  it('is true when every table is ready, the apply worker runs and the lag is within bounds', () => {
    expect(isInSync({ subscription, slot }, 1024)).toBe(true);
    expect(describeSyncState({ subscription, slot })).toBe('4/4 tables ready, apply worker running, lag 100 B');
  });

  it.each([
    ['a table is still in its initial copy', { subscription: { ...subscription, ready: 3 }, slot }],
    ['the apply worker is not running', { subscription: { ...subscription, applyRunning: false }, slot }],
    ['the subscription is disabled', { subscription: { ...subscription, enabled: false }, slot }],
    ['the lag is above the maximum', { subscription, slot: { ...slot, lagBytes: 2048 } }],
    ['the lag is unknown (no confirmation yet)', { subscription, slot: { ...slot, lagBytes: undefined } }],
    ['the slot is gone', { subscription }],
    ['there is no subscription', { slot }],
  ])('fails when %s', (_label, state) => {
    expect(isInSync(state, 1024)).toBe(false);
  });

  it('describes what is missing', () => {
    expect(describeSyncState({})).toBe('no subscription on the target');
    expect(describeSyncState({ subscription })).toMatch(/slot on the source is gone/);
    expect(describeSyncState({ subscription: { ...subscription, ready: 1, applyRunning: false }, slot })).toBe(
      '1/4 tables ready, apply worker not running, lag 100 B',
    );
  });
});

describe('syncWait', () => {
  const replicating = (name: string, message: string): DatabaseResult => ({
    name,
    method: 'replication',
    status: 'replicating',
    tables: 4,
    rows: 0,
    bytes: 0,
    durationMs: 0,
    lagBytes: 0,
    message,
  });
  const now = new Date('2026-06-01T12:00:00.000Z');

  it('starts the wait at the first poll and is not over while within the timeout', () => {
    const first = syncWait({ waitingSince: '', now, timeoutSeconds: 60, allInSync: false, databases: [] });
    expect(first).toEqual({ waitingSince: now.toISOString(), expired: false, reason: '' });
    const later = syncWait({
      waitingSince: first.waitingSince,
      now: new Date(now.getTime() + 59_000),
      timeoutSeconds: 60,
      allInSync: false,
      databases: [],
    });
    expect(later).toEqual(first);
  });

  it('is never over once everything is in sync', () => {
    const wait = syncWait({
      waitingSince: '2026-01-01T00:00:00.000Z',
      now,
      timeoutSeconds: 60,
      allInSync: true,
      databases: [],
    });
    expect(wait.expired).toBe(false);
  });

  it('ends after the timeout, naming each database not in sync and its state', () => {
    const wait = syncWait({
      waitingSince: new Date(now.getTime() - 3_600_000).toISOString(),
      now,
      timeoutSeconds: 600,
      allInSync: false,
      databases: [
        replicating('shop', 'not in sync: 4/4 tables ready, apply worker not running, lag 12 B'),
        replicating('crm', 'in sync: 2/2 tables ready, apply worker running, lag 0 B'),
      ],
    });
    expect(wait.expired).toBe(true);
    expect(wait.reason).toMatch(/^not in sync after 3600 s \(syncTimeoutSeconds 600\)/);
    expect(wait.reason).toContain('shop: not in sync: 4/4 tables ready, apply worker not running');
    expect(wait.reason).not.toContain('crm');
  });
});
