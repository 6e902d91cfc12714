/** The logical replication method: set-up, status, cutover, abort, clean-up, discovery, verification. */
export { abortReplication, type CaughtError, cleanupDatabase, discoverDatabases } from './abort.js';
export { type CutoverOptions, cutoverDatabase } from './cutover.js';
export { isReplicationName, REPLICATION_PREFIX, type ReplicationNames, replicationNames } from './names.js';
export { migrateByReplication, type ReplicationOptions, type StartMode } from './setup.js';
export { type DatabaseRef, isInSync, replicationStatus, type SyncState } from './status.js';
export { type CopySummary, defaultSteps, type ReplicationSteps } from './steps.js';
export { verifyDatabases } from './verify.js';
export { parseCaughtError, parseDatabaseRefs, parseDatabaseResults, parsePlannedDatabase } from './input.js';
