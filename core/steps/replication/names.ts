/**
 * Names of the replication objects pg-migrate creates for one database: pure and deterministic, so every action
 * (migrate, status, cutover, abort, cleanup) finds the same objects from the database name alone.
 */
import { createHash } from 'node:crypto';

/** Every replication object pg-migrate creates starts with this prefix (abort drops `pg_migrate_%` only). */
export const REPLICATION_PREFIX = 'pg_migrate_';

/** The publication (source), slot (source) and subscription (target) of one database. */
export interface ReplicationNames {
  readonly publication: string;
  readonly slot: string;
  readonly subscription: string;
}

const MAX_IDENTIFIER_BYTES = 63;
const HASH_CHARS = 10;

/**
 * Derives the object names for a database. The readable part keeps `[a-z0-9_]` of the name (lower-cased, runs of
 * other characters become `_`); a hash of the exact name (UTF-8) always follows, so names differing only in case,
 * punctuation or beyond the truncation point never collide. Slot names allow `[a-z0-9_]` only, so one name that
 * fits every rule serves all three objects. Always <= 63 bytes.
 *
 * @example
 * ```ts
 * replicationNames('Shop "EU"').slot; // 'pg_migrate_shop_eu_' + 10 hex characters
 * ```
 */
export function replicationNames(database: string): ReplicationNames {
  const hash = createHash('sha256').update(database, 'utf8').digest('hex').slice(0, HASH_CHARS);
  const room = MAX_IDENTIFIER_BYTES - REPLICATION_PREFIX.length - 1 - HASH_CHARS;
  const readable = database
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, room)
    .replace(/_+$/, '');
  const name = `${REPLICATION_PREFIX}${readable === '' ? '' : `${readable}_`}${hash}`;
  return { publication: name, slot: name, subscription: name };
}

/** True when `name` is what {@link replicationNames} gives for some database (the prefix and a hash suffix). */
export function isReplicationName(name: string): boolean {
  return new RegExp(`^${REPLICATION_PREFIX}([a-z0-9_]*_)?[0-9a-f]{${HASH_CHARS}}$`).test(name);
}
