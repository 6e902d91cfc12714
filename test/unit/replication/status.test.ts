import { describe, expect, it } from 'vitest';
import type { SlotState, SubscriptionState } from '../../../core/steps/replication/catalog.js';
import { describeSyncState, isInSync } from '../../../core/steps/replication/status.js';

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
