/**
 * The pre-checks. {@link runCheck} runs one (one Lambda invocation per check id in the state machine's Parallel
 * state); {@link runChecks} runs several concurrently (tests, local tools). Neither throws for a server problem:
 * a failed or impossible check is a `fail` / `skip` result.
 */
import type { RunContext } from '../context.js';
import { InputError } from '../errors.js';
import type { CheckResult } from '../report.js';
import type { Request } from '../request.js';
import type { RunnableCheck } from './check.js';
import { connectionSourceCheck } from './connection-source.js';
import { connectionTargetCheck } from './connection-target.js';
import { credentialExposureCheck } from './credential-exposure.js';
import { diskSpaceCheck } from './disk-space.js';
import { distinctServersCheck } from './distinct-servers.js';
import { extensionsCheck } from './extensions.js';
import { CHECK_IDS, type CheckId } from './ids.js';
import { languagesCheck } from './languages.js';
import { largeObjectsCheck } from './large-objects.js';
import { materializedViewsCheck } from './materialized-views.js';
import { primaryKeysCheck } from './primary-keys.js';
import { replicationPreconditionsCheck } from './replication-preconditions.js';
import { replicationSlotsCheck } from './replication-slots.js';
import { rolesCheck } from './roles.js';
import { sourceActivityCheck } from './source-activity.js';
import { sourceDatabasesCheck } from './source-databases.js';
import { targetDatabasesCheck } from './target-databases.js';
import { unloggedTablesCheck } from './unlogged-tables.js';
import { versionCheck } from './version.js';

export { CHECK_IDS, type CheckId } from './ids.js';

/** Every check by id. */
export const CHECKS: { readonly [K in CheckId]: Pick<RunnableCheck, 'id' | 'run'> } = {
  'connection-source': connectionSourceCheck,
  'connection-target': connectionTargetCheck,
  'distinct-servers': distinctServersCheck,
  'source-databases': sourceDatabasesCheck,
  'target-databases': targetDatabasesCheck,
  'disk-space': diskSpaceCheck,
  version: versionCheck,
  'replication-slots': replicationSlotsCheck,
  languages: languagesCheck,
  extensions: extensionsCheck,
  'replication-preconditions': replicationPreconditionsCheck,
  'primary-keys': primaryKeysCheck,
  roles: rolesCheck,
  'credential-exposure': credentialExposureCheck,
  'large-objects': largeObjectsCheck,
  'unlogged-tables': unloggedTablesCheck,
  'materialized-views': materializedViewsCheck,
  'source-activity': sourceActivityCheck,
};

/** Whether `id` names a check. */
export function isCheckId(id: unknown): id is CheckId {
  return typeof id === 'string' && (CHECK_IDS as readonly string[]).includes(id);
}

/**
 * Runs one check. Never throws for a server problem; throws {@link InputError} for an unknown id.
 *
 * @example
 * ```ts
 * const results = await runCheck('version', request, ctx); // [{ id: 'version', status: 'pass', … }]
 * ```
 */
export async function runCheck(id: CheckId, request: Request, ctx: RunContext): Promise<CheckResult[]> {
  if (!isCheckId(id)) throw new InputError(`unknown check id ${JSON.stringify(id)}; known: ${CHECK_IDS.join(', ')}`);
  const started = Date.now();
  const results = await CHECKS[id].run(ctx, request);
  ctx.logger.debug('check done', { check: id, ms: Date.now() - started, statuses: results.map((r) => r.status) });
  return results;
}

/** Runs several checks concurrently; one result array per id, in the order of `ids`. */
export function runChecks(
  request: Request,
  ctx: RunContext,
  ids: readonly CheckId[] = CHECK_IDS,
): Promise<CheckResult[][]> {
  return Promise.all(ids.map((id) => runCheck(id, request, ctx)));
}
