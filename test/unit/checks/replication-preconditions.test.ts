import { describe, expect, it } from 'vitest';
import {
  evaluateReplicationPreconditions,
  type ReplicationPreconditionsFacts,
} from '../../../core/checks/replication-preconditions.js';
import { ok, server, statuses } from './helpers.js';

const plain = server({ superuser: false, replication: false });
const good: ReplicationPreconditionsFacts = {
  candidates: ['a'],
  source: { user: server(), walLevel: 'logical', aivenExtrasAvailable: false },
  sourceAivenExtras: [{ database: 'a', facts: ok(false) }],
  target: { user: server(), aivenExtrasAvailable: false },
};

describe('evaluateReplicationPreconditions', () => {
  it.each<[string, ReplicationPreconditionsFacts, string[], RegExp?]>([
    ['superusers, logical WAL', good, ['pass:a']],
    ['no candidates', { ...good, candidates: [] }, ['skip']],
    [
      'wal_level replica',
      { ...good, source: { ...good.source, walLevel: 'replica' } },
      ['fail:a'],
      /wal_level is replica/,
    ],
    [
      'source 9.6',
      { ...good, source: { ...good.source, user: server({ versionNum: 90624, version: '9.6.24' }) } },
      ['fail:a'],
      /10 or newer/,
    ],
    ['plain source user', { ...good, source: { ...good.source, user: plain } }, ['fail:a'], /may not publish/],
    [
      'plain source user in rds_replication',
      { ...good, source: { ...good.source, user: server({ superuser: false, memberOf: ['rds_replication'] }) } },
      ['pass:a'],
    ],
    [
      'plain source user, aiven_extras available',
      { ...good, source: { ...good.source, user: plain, aivenExtrasAvailable: true } },
      ['pass:a'],
    ],
    [
      'plain source user, aiven_extras installed',
      { ...good, source: { ...good.source, user: plain }, sourceAivenExtras: [{ database: 'a', facts: ok(true) }] },
      ['pass:a'],
    ],
    [
      'plain target user on 15',
      { ...good, target: { ...good.target, user: plain } },
      ['fail:a'],
      /may not create subscriptions/,
    ],
    [
      'target user with pg_create_subscription on 16',
      {
        ...good,
        target: {
          ...good.target,
          user: server({ superuser: false, versionNum: 160002, memberOf: ['pg_create_subscription'] }),
        },
      },
      ['pass:a'],
    ],
    ['target user with aiven_extras', { ...good, target: { user: plain, aivenExtrasAvailable: true } }, ['pass:a']],
    [
      'everything wrong: one result per reason',
      {
        ...good,
        source: { user: plain, walLevel: 'minimal', aivenExtrasAvailable: false },
        target: { user: plain, aivenExtrasAvailable: false },
      },
      ['fail:a', 'fail:a', 'fail:a'],
    ],
  ])('%s', (_name, facts, expected, message) => {
    const results = evaluateReplicationPreconditions(facts);
    expect(statuses(results)).toEqual(expected);
    if (message) expect(results[0]?.message).toMatch(message);
    for (const r of results.filter((x) => x.status === 'fail')) expect(r.details?.replicationOnly).toBe(true);
  });
});
