/**
 * `target-databases`: for every selected database, whether it exists on the target; an existing one must be
 * reachable and hold no user data, unless the data comes from an interrupted pg-migrate run: the dump path's
 * progress record (table `_pg_migrate.steps`, dropped when a database completes) or a subscription whose name starts
 * with `pg_migrate` (replication path). Each result carries `details.targetExists` for the plan.
 */
import { OWN_SCHEMA, readTargetContent } from '../catalog.js';
import type { CheckResult } from '../report.js';
import { defineCheck, result } from './check.js';
import {
  collectServerFacts,
  listNames,
  type PerDatabase,
  perDatabase,
  queryRows,
  type ServerFacts,
  selectedDatabases,
} from './facts.js';

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
}

export function evaluateTargetDatabases(facts: TargetDatabasesFacts): CheckResult[] {
  const existing = new Set(facts.existing);
  const content = new Map(facts.content.map((c) => [c.database, c.facts]));
  const canCreate = facts.targetUser.superuser || facts.targetUser.createDb;
  return facts.selected.map((database) => {
    if (!existing.has(database)) {
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

export const targetDatabasesCheck = defineCheck<TargetDatabasesFacts>({
  id: 'target-databases',
  async collect(ctx, request) {
    const [selected, targetUser, rows] = await Promise.all([
      selectedDatabases(ctx, request),
      collectServerFacts(ctx.target, request),
      queryRows<{ name: string }>(
        ctx.target,
        ctx.target.database,
        request,
        'SELECT datname AS name FROM pg_catalog.pg_database',
      ),
    ]);
    const onTarget = new Set(rows.map((r) => r.name));
    const existing = selected.filter((d) => onTarget.has(d));
    const content = await perDatabase(ctx.target, existing, request, async (client) => {
      const found = await readTargetContent(client);
      return { userObjects: found.objects, sample: found.sample, ours: found.marked || found.subscriptions };
    });
    return { selected, targetUser, existing, content };
  },
  evaluate: evaluateTargetDatabases,
});
