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
  const name = derivedName(REPLICATION_PREFIX, database);
  return { publication: name, slot: name, subscription: name };
}

/**
 * Every per-run subscription role on the source starts with this prefix (not `pg_migrate_`: role names starting
 * with `pg_` are reserved).
 */
export const SUBSCRIPTION_ROLE_PREFIX = 'pgmigrate_sub_';

/**
 * The login role the subscription of `database` uses on the source (core/steps/replication/login.ts): derived like
 * {@link replicationNames}, with its own prefix, so set-up, a re-run, cutover and abort all find the same role from
 * the database name alone. Always <= 63 bytes.
 *
 * @example
 * ```ts
 * subscriptionRoleName('shop'); // 'pgmigrate_sub_shop_' + 10 hex characters
 * ```
 */
export function subscriptionRoleName(database: string): string {
  return derivedName(SUBSCRIPTION_ROLE_PREFIX, database);
}

function derivedName(prefix: string, database: string): string {
  const hash = createHash('sha256').update(database, 'utf8').digest('hex').slice(0, HASH_CHARS);
  const room = MAX_IDENTIFIER_BYTES - prefix.length - 1 - HASH_CHARS;
  const readable = database
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, room)
    .replace(/_+$/, '');
  return `${prefix}${readable === '' ? '' : `${readable}_`}${hash}`;
}

/** True when `name` is what {@link replicationNames} gives for some database (the prefix and a hash suffix). */
export function isReplicationName(name: string): boolean {
  return new RegExp(`^${REPLICATION_PREFIX}([a-z0-9_]*_)?[0-9a-f]{${HASH_CHARS}}$`).test(name);
}
