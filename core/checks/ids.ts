/** The pre-check ids: part of the report contract. The state machine has one Parallel branch per id, in this order. */
export const CHECK_IDS = [
  'connection-source',
  'connection-target',
  'distinct-servers',
  'source-databases',
  'target-databases',
  'disk-space',
  'version',
  'replication-slots',
  'languages',
  'extensions',
  'replication-preconditions',
  'primary-keys',
  'roles',
  'credential-exposure',
  'large-objects',
  'unlogged-tables',
  'materialized-views',
  'source-activity',
] as const;
export type CheckId = (typeof CHECK_IDS)[number];
