/**
 * `target-databases`: for every selected database, whether it exists on the target; an existing one must be
 * reachable and hold no user data, unless the data comes from an interrupted pg-migrate run: the dump path's
 * progress record (table `_pg_migrate.steps`, dropped when a database completes) or a subscription whose name starts
 * with `pg_migrate` (replication path). Each result carries `details.targetExists` for the plan.
 */
import { type DatabaseAccess, OWN_SCHEMA } from '../catalog.js';
import type { CheckResult } from '../report.js';
import { defineCheck, need, result } from './check.js';
import type { DatabaseFacts, SharedFacts } from './collect.js';
import { listNames, type PerDatabase, type ServerFacts } from './facts.js';

/** The schema where pg-migrate records its progress in a target database (see core/steps/progress.ts). */
export const PROGRESS_SCHEMA = OWN_SCHEMA;

export interface TargetDatabaseContent {
  /** User objects (relations, functions, types, schemas) outside extensions: core/catalog.ts `readTargetContent`. */
  readonly userObjects: number;
  /** Some of their names, `schema.name`. */
  readonly sample: readonly string[];
  /** Left by an interrupted pg-migrate run. */
  readonly ours: boolean;
}

export interface TargetDatabasesFacts {
  readonly selected: readonly string[];
  readonly targetUser: ServerFacts;
  /** Selected databases that exist on the target. */
  readonly existing: readonly string[];
  readonly content: PerDatabase<TargetDatabaseContent>;
  /** Per database: whether the target user may write what the source database holds (absent: not checked). */
  readonly write?: ReadonlyArray<{ readonly database: string; readonly access: TargetWriteAccess }>;
}

/**
 * What the target user may do in a target database: read there when it exists; predicted when pg-migrate creates it
 * (owned by the target user while it is migrated, then handed to the source database's owner when the target user
 * may SET ROLE to it: core/steps/schema.ts `ensureTargetDatabase` / `handOverDatabase`).
 */
export interface TargetWriteAccess {
  readonly predicted: boolean;
  readonly owner: string;
  /** A database pg-migrate creates: the source database's owner, and whether the hand-over to it will happen. */
  readonly handOver?: { readonly sourceOwner: string; readonly owner: string };
  /** The target user has the owner's privileges (superuser, the owner, or an inheriting member). */
  readonly ownerPrivileges: boolean;
  /** CREATE on the database. */
  readonly create: boolean;
  /** CREATE on schema public. */
  readonly publicCreate: boolean;
  /** Schemas of the source database that hold user objects (the restore creates them, or writes into them). */
  readonly sourceSchemas: readonly string[];
  /** The source database holds large objects (copied without any schema). */
  readonly sourceLargeObjects?: boolean;
}

/**
 * Pure: what the target user lacks to restore the source database's objects (empty: nothing). A source database
 * with anything in it needs CREATE on the target database: for its schemas, and for pg-migrate's own progress record
 * and mark (`_pg_migrate`); an empty one is migrated without writing (core/steps/dump.ts).
 */
export function missingWriteRights(access: TargetWriteAccess, superuser: boolean): string[] {
  if (superuser || access.ownerPrivileges) return [];
  const missing: string[] = [];
  const hasData = access.sourceSchemas.length > 0 || access.sourceLargeObjects === true;
  if (hasData && !access.create) missing.push('CREATE on the database');
  if (access.sourceSchemas.includes('public') && !access.publicCreate) missing.push('CREATE on schema public');
  return missing;
}

function writeFailure(database: string, user: string, access: TargetWriteAccess, missing: string[]): CheckResult {
  const grants = [
    ...(missing.includes('CREATE on the database') ? [`GRANT CREATE ON DATABASE "${database}" TO ${user}`] : []),
    ...(missing.includes('CREATE on schema public')
      ? [`GRANT CREATE ON SCHEMA public TO ${user} (in "${database}")`]
      : []),
  ];
  return result(
    'target-databases',
    'fail',
    `the target user "${user}" may not restore "${database}"${access.predicted ? ' once pg-migrate has created it' : ''}: it lacks ${missing.join(' and ')} (the database ${access.predicted ? 'would be' : 'is'} owned by "${access.owner}")`,
    {
      database,
      remedy: `as "${access.owner}" or a superuser: ${grants.join('; ')}, or ALTER DATABASE … OWNER TO ${user}; or leave it out with --exclude-dbs`,
      details: { targetExists: !access.predicted, owner: access.owner, missing },
    },
  );
}

export function evaluateTargetDatabases(facts: TargetDatabasesFacts): CheckResult[] {
  const existing = new Set(facts.existing);
  const content = new Map(facts.content.map((c) => [c.database, c.facts]));
  const write = new Map((facts.write ?? []).map((w) => [w.database, w.access]));
  const canCreate = facts.targetUser.superuser || facts.targetUser.createDb;
  return facts.selected.map((database) => {
    const access = write.get(database);
    const missing = access ? missingWriteRights(access, facts.targetUser.superuser) : [];
    if (!existing.has(database)) {
      if (canCreate && access && missing.length > 0)
        return writeFailure(database, facts.targetUser.user, access, missing);
      const handOver = access?.handOver;
      if (canCreate && handOver && handOver.sourceOwner !== '' && handOver.owner !== handOver.sourceOwner) {
        // handOverDatabase will not be able to give it its owner: an `owner` warning of the migration, said now.
        return result(
          'target-databases',
          'warn',
          `"${database}" does not exist on the target: it will be created, owned by "${handOver.owner}" and not by "${handOver.sourceOwner}" as on the source (the target user may not SET ROLE to "${handOver.sourceOwner}" there, or the role is missing)`,
          {
            database,
            remedy: `on the target, as a role that may: GRANT "${handOver.sourceOwner}" TO ${facts.targetUser.user} WITH SET TRUE (16+; membership before) after the roles exist; or accept the owner change (migrate --accept owner)`,
            details: { targetExists: false, owner: handOver.owner, sourceOwner: handOver.sourceOwner },
          },
        );
      }
      return canCreate
        ? result('target-databases', 'pass', `"${database}" does not exist on the target: it will be created`, {
            database,
            details: { targetExists: false },
          })
        : result(
            'target-databases',
            'fail',
            `"${database}" does not exist on the target and the target user "${facts.targetUser.user}" cannot create databases`,
            {
              database,
              remedy: `ALTER ROLE ${facts.targetUser.user} CREATEDB on the target, or create the empty database there beforehand`,
              details: { targetExists: false },
            },
          );
    }
    const found = content.get(database);
    if (!found || !found.ok) {
      return result(
        'target-databases',
        'fail',
        `"${database}" exists on the target but cannot be inspected: ${found && !found.ok ? found.error : 'no answer'}`,
        {
          database,
          remedy: 'GRANT CONNECT on it to the target user and check pg_hba.conf, or drop it on the target',
          details: { targetExists: true },
        },
      );
    }
    const { userObjects, sample, ours } = found.value;
    if (access && missing.length > 0) return writeFailure(database, facts.targetUser.user, access, missing);
    if (userObjects === 0) {
      return result('target-databases', 'pass', `"${database}" exists on the target and holds no user data`, {
        database,
        details: { targetExists: true },
      });
    }
    if (ours) {
      return result(
        'target-databases',
        'warn',
        `"${database}" on the target holds ${userObjects} object(s) from an interrupted pg-migrate run: the run continues it`,
        {
          database,
          remedy: 'nothing, unless you want a fresh start: then drop the database on the target (or run abort first)',
          details: { targetExists: true, resumed: true },
        },
      );
    }
    return result(
      'target-databases',
      'fail',
      `"${database}" on the target already holds user data: ${userObjects} object(s), e.g. ${listNames(sample, 5)}`,
      {
        database,
        remedy: 'drop or rename that database on the target, or leave it out with --exclude-dbs',
        details: { targetExists: true, userObjects, sample },
      },
    );
  });
}

/** Pure: the write access to predict or read for one database (undefined: the facts are missing). */
export function targetWriteAccess(db: DatabaseFacts, shared: SharedFacts): TargetWriteAccess | undefined {
  const source = db.source.access;
  if (!source.ok) return undefined;
  const sourceSchemas = source.value.userSchemas;
  const sourceLargeObjects = db.source.largeObjects.ok ? db.source.largeObjects.value.total > 0 : false;
  if (db.target) {
    const target = db.target.access;
    if (!target.ok) return undefined;
    return { predicted: false, sourceSchemas, sourceLargeObjects, ...pick(target.value) };
  }
  const user = need(shared.target.server, 'the target');
  // Created by the target user, who owns it while it is migrated: every write right holds.
  return {
    predicted: true,
    owner: user.user,
    ownerPrivileges: true,
    create: true,
    publicCreate: true,
    handOver: { sourceOwner: db.item.owner, owner: predictOwner(db.item.owner, user, shared).name },
    sourceSchemas,
    sourceLargeObjects,
  };
}

function pick(a: DatabaseAccess): Omit<TargetWriteAccess, 'predicted' | 'sourceSchemas'> {
  return { owner: a.owner, ownerPrivileges: a.ownerPrivileges, create: a.create, publicCreate: a.publicCreate };
}

/**
 * Pure: who will own a target database pg-migrate creates, and whether the target user will have the owner's
 * privileges. The step (core/steps/schema.ts) sets the source's owner only when the target user may SET ROLE to it
 * (on 16+ a role's creator holds ADMIN but neither SET nor INHERIT unless `createrole_self_grant` says so); otherwise
 * the target user owns it.
 */
export function predictOwner(
  sourceOwner: string,
  user: ServerFacts,
  shared: Pick<SharedFacts, 'target'>,
): { readonly name: string; readonly privileges: boolean } {
  if (user.superuser) return { name: sourceOwner, privileges: true };
  const roles = shared.target.ownerRoles.ok ? shared.target.ownerRoles.value : {};
  const known = roles[sourceOwner];
  let set = known?.set ?? false;
  let usage = known?.usage ?? false;
  if (known && !known.exists) {
    // The roles step creates it: on 16+ the creator gets what createrole_self_grant names; before, nothing.
    const grant = shared.target.createroleSelfGrant.ok ? shared.target.createroleSelfGrant.value : '';
    const options = grant.split(',').map((o) => o.trim().toLowerCase());
    const modern = user.versionNum >= 160000;
    set = modern && options.includes('set');
    usage = modern && options.includes('inherit');
  }
  if (!set || sourceOwner === '') return { name: user.user, privileges: true };
  return { name: sourceOwner, privileges: usage || sourceOwner === user.user };
}

export const targetDatabasesCheck = defineCheck<never, TargetDatabasesFacts>({
  id: 'target-databases',
  database: {
    select: (db, shared) => {
      const { name } = db.item;
      if (shared.target.databasesUnknown !== undefined) {
        need({ ok: false, error: shared.target.databasesUnknown, permission: false }, 'the target');
      }
      const write = targetWriteAccess(db, shared);
      return {
        selected: [name],
        targetUser: need(shared.target.server, 'the target'),
        existing: db.item.targetExists ? [name] : [],
        content: db.target
          ? [
              {
                database: name,
                facts: db.target.content.ok
                  ? {
                      ok: true,
                      value: {
                        userObjects: db.target.content.value.objects,
                        sample: db.target.content.value.sample,
                        ours: db.target.content.value.marked || db.target.content.value.subscriptions,
                      },
                    }
                  : db.target.content,
              },
            ]
          : [],
        ...(write ? { write: [{ database: name, access: write }] } : {}),
      };
    },
    evaluate: evaluateTargetDatabases,
  },
});
