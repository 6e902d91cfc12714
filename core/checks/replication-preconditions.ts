/**
 * `replication-preconditions`: per database that would use logical replication, what the replication set-up
 * (core/steps/replication/setup.ts) will need, predicted from the privileges the users really hold:
 *
 * - the source runs PostgreSQL 10+ with `wal_level = logical`;
 * - the source user may create the slot: superuser, the REPLICATION attribute, or (recognised RDS) rds_replication;
 * - it may create the publication in that database: CREATE on it (also through aiven_extras, which hands the
 *   publication to the caller), and publish every table — as superuser, through aiven_extras (installed there with
 *   USAGE on its schema and EXECUTE on its functions, or installable through the allow-list, whose script grants
 *   them to the database owner), or by holding the privileges of every table's owner; and set REPLICA IDENTITY FULL
 *   (consented) only on tables it owns;
 * - the target user may create the subscription in that database: superuser; `pg_create_subscription` (16+) with
 *   CREATE on the database; aiven_extras usable there (or installable, as above); or a recognised provider's admin
 *   role (rds_superuser, cloudsqlsuperuser, azure_pg_admin: their servers are patched to allow it). A database
 *   pg-migrate creates is predicted: owned by the target user until the subscription exists (core/steps/schema.ts).
 *
 * The `postgres` database owned by someone else is the common case where these differ per database. Failures are
 * replication-only: `--method auto` uses dump for that database and names the reason; a forced `--method
 * replication` blocks. When the check cannot run at all it blocks (a safety check, core/checks/check.ts).
 */
import {
  type DatabaseAccess,
  filterTables,
  plainTableName,
  publishableTables,
  tablesWithoutIdentity,
} from '../catalog.js';
import type { CheckResult } from '../report.js';
import { type Request, tableFiltersFor } from '../request.js';
import { defineCheck, need, result } from './check.js';
import type { DatabaseFacts, ExtensionSupport, SharedFacts } from './collect.js';
import { providerAdminRole } from './collect.js';
import { listNames, majorOf, type PerDatabase, replicationCandidates, type ServerFacts } from './facts.js';

/** The source side of one database. */
export interface PublishingFacts {
  readonly access: Pick<
    DatabaseAccess,
    'create' | 'owner' | 'ownerPrivileges' | 'aivenExtrasInstalled' | 'aivenExtrasUsable'
  >;
  /** Tables the publication lists (filters applied) whose owner's privileges the source user lacks. */
  readonly notOwned: readonly string[];
  /** Tables that would get REPLICA IDENTITY FULL (consented) whose owner's privileges the source user lacks. */
  readonly identityFullNotOwned: readonly string[];
}

/** The target side of one database: read when it exists, predicted when pg-migrate creates it. */
export interface SubscribingFacts {
  readonly exists: boolean;
  readonly access: Pick<
    DatabaseAccess,
    'create' | 'owner' | 'ownerPrivileges' | 'aivenExtrasInstalled' | 'aivenExtrasUsable'
  >;
}

export interface ReplicationPreconditionsFacts {
  readonly candidates: readonly string[];
  readonly source: {
    readonly user: ServerFacts;
    readonly walLevel: string;
    readonly support: Pick<ExtensionSupport, 'extwlist' | 'aivenExtrasAvailable' | 'provider'>;
  };
  readonly target: {
    readonly user: ServerFacts;
    readonly support: Pick<ExtensionSupport, 'extwlist' | 'aivenExtrasAvailable' | 'provider'>;
  };
  readonly databases: PerDatabase<{ readonly source: PublishingFacts; readonly target: SubscribingFacts }>;
}

interface Problem {
  readonly message: string;
  readonly remedy: string;
}

/** Pure: aiven_extras can serve the user in this database (usable now, or installable with the grant it needs). */
export function aivenExtrasRoute(
  access: SubscribingFacts['access'],
  support: Pick<ExtensionSupport, 'extwlist' | 'aivenExtrasAvailable'>,
): boolean {
  if (access.aivenExtrasUsable) return true;
  return (
    !access.aivenExtrasInstalled &&
    support.aivenExtrasAvailable &&
    support.extwlist.includes('aiven_extras') &&
    access.ownerPrivileges
  );
}

function publishProblems(
  user: ServerFacts,
  support: ReplicationPreconditionsFacts['source']['support'],
  database: string,
  facts: PublishingFacts,
): string[] {
  if (user.superuser) return [];
  const reasons: string[] = [];
  const rdsReplication = support.provider === 'rds' && user.memberOf.includes('rds_replication');
  if (!user.replication && !rdsReplication) {
    reasons.push(
      'it may not create a replication slot (neither superuser nor REPLICATION, nor rds_replication on RDS)',
    );
  }
  if (!facts.access.create) {
    reasons.push(
      `it lacks CREATE on the database, which the publication needs ("permission denied for database ${database}"; owner "${facts.access.owner}")`,
    );
  }
  const aiven = aivenExtrasRoute(facts.access, support);
  if (!aiven && facts.notOwned.length > 0) {
    reasons.push(
      facts.access.aivenExtrasInstalled
        ? `aiven_extras is installed but the user lacks USAGE on schema aiven_extras or EXECUTE on its functions, and ${facts.notOwned.length} table(s) belong to roles whose privileges it lacks: ${listNames(facts.notOwned, 5)}`
        : `${facts.notOwned.length} table(s) belong to roles whose privileges it lacks, and aiven_extras is not usable there: ${listNames(facts.notOwned, 5)}`,
    );
  }
  if (facts.identityFullNotOwned.length > 0) {
    reasons.push(
      `REPLICA IDENTITY FULL (consented) needs the owner's privileges on ${listNames(facts.identityFullNotOwned, 5)}`,
    );
  }
  return reasons;
}

function subscribeProblem(
  user: ServerFacts,
  support: ReplicationPreconditionsFacts['target']['support'],
  database: string,
  facts: SubscribingFacts,
): Problem | undefined {
  if (user.superuser) return undefined;
  const major = majorOf(user.versionNum);
  const native = major >= 16 && user.memberOf.includes('pg_create_subscription');
  if (native && facts.access.create) return undefined;
  if (support.provider && user.memberOf.includes(providerAdminRole(support.provider))) return undefined;
  if (aivenExtrasRoute(facts.access, support)) return undefined;
  const where = facts.exists ? `"${database}" on the target` : `"${database}" once pg-migrate creates it on the target`;
  if (native) {
    return {
      message: `the target user "${user.user}" holds pg_create_subscription but lacks CREATE on ${where} (owner "${facts.access.owner}")`,
      remedy: `GRANT CREATE ON DATABASE "${database}" TO ${user.user} on the target (as its owner), or use --method dump for it`,
    };
  }
  if (facts.access.aivenExtrasInstalled && !facts.access.aivenExtrasUsable) {
    return {
      message: `the target user "${user.user}" may not create subscriptions in ${where}: aiven_extras is installed but it lacks USAGE on schema aiven_extras or EXECUTE on its functions`,
      remedy: `GRANT USAGE ON SCHEMA aiven_extras TO ${user.user} in "${database}" on the target (as its owner "${facts.access.owner}"), or use --method dump for it`,
    };
  }
  return {
    message: `the target user "${user.user}" may not create subscriptions in ${where}: it is neither superuser${major >= 16 ? ' nor a member of pg_create_subscription' : ''}, and aiven_extras is not usable there`,
    remedy:
      major >= 16
        ? 'GRANT pg_create_subscription to the target user (and CREATE on the database), connect as a superuser, or use --method dump'
        : "connect to the target as a superuser (or the provider's admin role where the provider allows subscriptions), or use --method dump",
  };
}

export function evaluateReplicationPreconditions(facts: ReplicationPreconditionsFacts): CheckResult[] {
  if (facts.candidates.length === 0) {
    return [
      result('replication-preconditions', 'skip', 'not needed: no database is planned for replication', {
        replicationOnly: false,
      }),
    ];
  }
  const { source, target } = facts;
  const sourceMajor = majorOf(source.user.versionNum);
  const out: CheckResult[] = [];
  for (const { database, facts: found } of facts.databases) {
    if (!found.ok) {
      out.push(
        result('replication-preconditions', 'fail', `could not run for "${database}": ${found.error}`, {
          database,
          remedy: 'GRANT CONNECT on the database to both users so the check can run, or use --method dump',
          replicationOnly: false,
          details: { couldNotRun: true },
        }),
      );
      continue;
    }
    const problems: Problem[] = [];
    if (sourceMajor < 10) {
      problems.push({
        message: `the source runs PostgreSQL ${source.user.version}: logical replication needs 10 or newer`,
        remedy: 'use --method dump, or upgrade the source first',
      });
    }
    if (source.walLevel !== 'logical') {
      problems.push({
        message: `wal_level is ${source.walLevel} on the source, not logical`,
        remedy:
          'set wal_level = logical on the source and restart it (RDS / Aurora: rds.logical_replication = 1 in the parameter group; Cloud SQL: the cloudsql.logical_decoding flag; Azure: wal_level in the server parameters), or use --method dump',
      });
    }
    const publish = publishProblems(source.user, source.support, database, found.value.source);
    if (publish.length > 0) {
      problems.push({
        message: `the source user "${source.user.user}" may not publish "${database}": ${publish.join('; ')}`,
        remedy:
          "connect to the source as a superuser, or grant the source user REPLICATION (RDS: rds_replication), CREATE on the database and the table owners' roles (or make aiven_extras usable there); or use --method dump",
      });
    }
    const subscribe = subscribeProblem(target.user, target.support, database, found.value.target);
    if (subscribe) problems.push(subscribe);
    if (problems.length === 0) {
      out.push(result('replication-preconditions', 'pass', `"${database}" can use logical replication`, { database }));
    }
    for (const p of problems) {
      out.push(
        result('replication-preconditions', 'fail', `"${database}": ${p.message}`, { database, remedy: p.remedy }),
      );
    }
  }
  return out;
}

/** Pure: the source side of one database from its facts. */
export function publishingFacts(db: DatabaseFacts, request: Request): PublishingFacts {
  const access = need(db.source.access, `"${db.item.name}" on the source`);
  const tables = filterTables(
    need(db.source.tables, `"${db.item.name}" on the source`),
    tableFiltersFor(request, db.item.name),
  );
  return {
    access,
    notOwned: publishableTables(tables)
      .filter((t) => !t.owned)
      .map(plainTableName),
    identityFullNotOwned: request.replicaIdentityFull
      ? tablesWithoutIdentity(tables)
          .filter((t) => !t.owned)
          .map(plainTableName)
      : [],
  };
}

/** Pure: the target side of one database: read when it exists, predicted when pg-migrate creates it. */
export function subscribingFacts(db: DatabaseFacts, shared: SharedFacts): SubscribingFacts {
  if (db.target) return { exists: true, access: need(db.target.access, `"${db.item.name}" on the target`) };
  const user = need(shared.target.server, 'the target');
  // pg-migrate creates it owned by the target user, and hands it over only after the subscription exists.
  return {
    exists: false,
    access: {
      create: true,
      owner: user.user,
      ownerPrivileges: true,
      aivenExtrasInstalled: false,
      aivenExtrasUsable: false,
    },
  };
}

export const replicationPreconditionsCheck = defineCheck<ReplicationPreconditionsFacts, ReplicationPreconditionsFacts>({
  id: 'replication-preconditions',
  // Said once: no database is planned for replication.
  server: {
    select: (facts, request) => ({
      candidates: replicationCandidates(request, need(facts.selection).selected),
      source: { user: need(facts.source.server, 'the source'), walLevel: '', support: NO_SUPPORT },
      target: { user: need(facts.target.server, 'the target'), support: NO_SUPPORT },
      databases: [],
    }),
    evaluate: (facts) => (facts.candidates.length === 0 ? evaluateReplicationPreconditions(facts) : []),
  },
  database: {
    select: (db, shared, request) => {
      if (!db.item.candidate) return undefined;
      const name = db.item.name;
      let sides: ReplicationPreconditionsFacts['databases'][number]['facts'];
      try {
        sides = { ok: true, value: { source: publishingFacts(db, request), target: subscribingFacts(db, shared) } };
      } catch (err) {
        sides = { ok: false, error: (err as Error).message, permission: false };
      }
      return {
        candidates: [name],
        source: {
          user: need(shared.source.server, 'the source'),
          walLevel: need(shared.source.walLevel, 'the source'),
          support: need(shared.source.extensionSupport, 'the source'),
        },
        target: {
          user: need(shared.target.server, 'the target'),
          support: need(shared.target.extensionSupport, 'the target'),
        },
        databases: [{ database: name, facts: sides }],
      };
    },
    evaluate: evaluateReplicationPreconditions,
  },
});

const NO_SUPPORT: ExtensionSupport = { extwlist: [], aivenExtrasAvailable: false };
