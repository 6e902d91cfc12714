/**
 * `extensions`: per selected database, every extension of the source is installed on the target at its version or
 * newer, or available there at such a version and *installable* by the target user. Available is not installable:
 * installable means as superuser, without superuser (the extension does not need it), as a trusted extension
 * (PostgreSQL 13+), through an allow-list — pgextwlist's `extwlist.extensions` (Aiven) or a recognised provider's own
 * (`rds.allowed_extensions` / `rds.extensions` with rds_superuser, `azure.extensions` with azure_pg_admin, Cloud SQL's
 * supported list with cloudsqlsuperuser). A provider is recognised by its settings, never by role names.
 */
import type { CheckResult } from '../report.js';
import { defineCheck, need, result } from './check.js';
import {
  type AvailableExtensionVersion,
  compareExtensionVersions,
  type ExtensionSupport,
  providerAdminRole,
} from './collect.js';
import { majorOf, type PerDatabase, type ServerFacts } from './facts.js';

export type { AvailableExtensionVersion } from './collect.js';

export interface ExtensionVersion {
  readonly name: string;
  readonly version: string;
}

export interface ExtensionsFacts {
  readonly source: PerDatabase<readonly ExtensionVersion[]>;
  /** Extensions installed in the target databases that exist already (absent: database not on the target). */
  readonly targetInstalled: PerDatabase<readonly ExtensionVersion[]>;
  readonly targetAvailable: readonly AvailableExtensionVersion[];
  readonly targetUser: ServerFacts;
  /** How the target lets a non-superuser install extensions. */
  readonly support: Pick<ExtensionSupport, 'extwlist' | 'provider' | 'providerAllowList'>;
}

/** Compares extension versions (one definition, beside the collector that picks the highest). */
export { compareExtensionVersions };

/** Pure: how the target user could install `ext` (a phrase), or undefined when it cannot. */
export function installRoute(
  ext: AvailableExtensionVersion,
  user: Pick<ServerFacts, 'superuser' | 'memberOf' | 'versionNum'>,
  support: Pick<ExtensionSupport, 'extwlist' | 'provider' | 'providerAllowList'>,
): string | undefined {
  if (user.superuser) return 'as superuser';
  if (support.provider) {
    const admin = providerAdminRole(support.provider);
    const allowed = support.providerAllowList === undefined || support.providerAllowList.includes(ext.name);
    if (user.memberOf.includes(admin) && allowed) return `through ${admin}`;
  }
  if (support.extwlist.includes(ext.name)) return 'through the pgextwlist allow-list';
  if (!ext.superuser) return 'without superuser';
  if (ext.trusted && majorOf(user.versionNum) >= 13) return 'as a trusted extension';
  return undefined;
}

export function evaluateExtensions(facts: ExtensionsFacts): CheckResult[] {
  const installed = new Map(facts.targetInstalled.map((t) => [t.database, t.facts]));
  const out: CheckResult[] = [];
  for (const { database, facts: source } of facts.source) {
    if (!source.ok) {
      out.push(
        result('extensions', 'warn', `cannot list the extensions of "${database}": ${source.error}`, {
          database,
          remedy: 'GRANT CONNECT on the database to the source user so the check can run',
        }),
      );
      continue;
    }
    const onTarget = installed.get(database);
    if (onTarget && !onTarget.ok) {
      out.push(
        result('extensions', 'warn', `cannot list the extensions of "${database}" on the target: ${onTarget.error}`, {
          database,
          remedy: 'GRANT CONNECT on that database to the target user',
        }),
      );
    }
    const targetHas = new Map((onTarget?.ok ? onTarget.value : []).map((e) => [e.name, e.version]));
    const notes: string[] = [];
    const outdated: { name: string; have: string; want: string }[] = [];
    let failed = false;
    for (const ext of source.value) {
      if (ext.name === 'plpgsql' && !targetHas.has(ext.name)) {
        // Every new database has PL/pgSQL (from template1): no privilege needed.
        notes.push(`${ext.name} ${ext.version} (built in)`);
        continue;
      }
      const have = targetHas.get(ext.name);
      if (have !== undefined && compareExtensionVersions(have, ext.version) >= 0) {
        notes.push(`${ext.name} ${ext.version} (installed ${have})`);
        continue;
      }
      const candidates = facts.targetAvailable.filter((a) => a.name === ext.name);
      const fitting = candidates.filter((a) => compareExtensionVersions(a.version, ext.version) >= 0);
      if (candidates.length === 0) {
        failed = true;
        out.push(
          result(
            'extensions',
            'fail',
            `extension ${ext.name} ${ext.version} of "${database}" is not available on the target`,
            {
              database,
              remedy: `install ${ext.name} on the target server (its package, or allow it in the provider's parameter group), or drop it from the source database if unused`,
              details: { extension: ext.name, version: ext.version },
            },
          ),
        );
        continue;
      }
      if (fitting.length === 0) {
        const best =
          candidates
            .map((c) => c.version)
            .sort(compareExtensionVersions)
            .at(-1) ?? '';
        failed = true;
        out.push(
          result(
            'extensions',
            'fail',
            `extension ${ext.name} is ${ext.version} in "${database}" but the target offers at most ${best}`,
            {
              database,
              remedy: `install ${ext.name} ${ext.version} or newer on the target server`,
              details: { extension: ext.name, version: ext.version, targetVersion: best },
            },
          ),
        );
        continue;
      }
      const routes = fitting
        .map((f) => installRoute(f, facts.targetUser, facts.support))
        .filter((r) => r !== undefined);
      if (routes.length === 0) {
        failed = true;
        out.push(
          result(
            'extensions',
            'fail',
            `extension ${ext.name} (${ext.version}) of "${database}" needs superuser to install and the target user "${facts.targetUser.user}" cannot install it`,
            {
              database,
              remedy: `have a superuser run CREATE EXTENSION ${ext.name} in "${database}" on the target beforehand, add it to the provider's extension allow-list (extwlist.extensions, rds.allowed_extensions, azure.extensions), or connect as a user with that right`,
              details: { extension: ext.name, version: ext.version },
            },
          ),
        );
        continue;
      }
      if (have !== undefined) {
        outdated.push({ name: ext.name, have, want: ext.version });
        continue;
      }
      notes.push(`${ext.name} ${ext.version} (installable ${routes[0]})`);
    }
    if (!failed && outdated.length > 0) {
      out.push(
        result(
          'extensions',
          'warn',
          `"${database}" on the target has older extension version(s) installed: ${outdated.map((o) => `${o.name} ${o.have} (source ${o.want})`).join(', ')}`,
          {
            database,
            remedy: `run ${outdated.map((o) => `ALTER EXTENSION ${o.name} UPDATE`).join('; ')} in "${database}" on the target before migrating (the newer version is available there)`,
            details: { extensions: source.value, outdated },
          },
        ),
      );
    } else if (!failed) {
      out.push(
        result(
          'extensions',
          'pass',
          notes.length > 0 ? `"${database}": ${notes.join(', ')}` : `"${database}" uses no extension`,
          {
            database,
            details: { extensions: source.value },
          },
        ),
      );
    }
  }
  return out;
}

export const extensionsCheck = defineCheck<never, ExtensionsFacts>({
  id: 'extensions',
  database: {
    select: (db, shared) => {
      const support = need(shared.target.extensionSupport, 'the target');
      const strip = (o: typeof db.source.extensions): PerDatabase<readonly ExtensionVersion[]>[number]['facts'] =>
        o.ok ? { ok: true, value: o.value.map((e) => ({ name: e.name, version: e.version })) } : o;
      return {
        source: [{ database: db.item.name, facts: strip(db.source.extensions) }],
        targetInstalled: db.target ? [{ database: db.item.name, facts: strip(db.target.extensions) }] : [],
        targetAvailable: need(shared.target.available, 'the target'),
        targetUser: need(shared.target.server, 'the target'),
        support: {
          extwlist: support.extwlist,
          ...(support.provider ? { provider: support.provider } : {}),
          ...(support.providerAllowList ? { providerAllowList: support.providerAllowList } : {}),
        },
      };
    },
    evaluate: evaluateExtensions,
  },
});
