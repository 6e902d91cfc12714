/** The logical replication method: set-up, status, cutover, abort, clean-up, discovery. */
export { abortReplication, type CaughtError, cleanupDatabase, discoverDatabases } from './abort.js';
export { type CutoverOptions, cutoverDatabase } from './cutover.js';
export {
  isReplicationName,
  REPLICATION_PREFIX,
  type ReplicationNames,
  replicationNames,
  SUBSCRIPTION_ROLE_PREFIX,
  subscriptionRoleName,
} from './names.js';
export { migrateByReplication, type ReplicationOptions, type StartMode } from './setup.js';
export { type DatabaseRef, isInSync, replicationStatus, type SyncState, type SyncWait, syncWait } from './status.js';
export { type CopySummary, defaultSteps, type ReplicationSteps } from './steps.js';
export { parseCaughtError, parseDatabaseRefs, parseDatabaseResults, parsePlannedDatabase } from './input.js';
