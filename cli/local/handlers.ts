/**
 * The `lambdas/` handlers the local runner calls in process, by module name (see LAMBDA_STATE_FUNCTIONS in
 * asl.ts). Static imports, so that the CLI bundle carries them; each is loaded only when a run needs it.
 */
import type { FunctionName } from '../../infra/state-names.js';
import type { Handler } from './runner.js';

type Loader = () => Promise<{ readonly handler: unknown }>;

const LOADERS: Readonly<Record<FunctionName, Loader>> = {
  resolve: () => import('../../lambdas/resolve.js'),
  precheck: () => import('../../lambdas/precheck.js'),
  plan: () => import('../../lambdas/plan.js'),
  roles: () => import('../../lambdas/roles.js'),
  cleanup: () => import('../../lambdas/cleanup.js'),
  status: () => import('../../lambdas/status.js'),
  discover: () => import('../../lambdas/discover.js'),
  abort: () => import('../../lambdas/abort.js'),
  report: () => import('../../lambdas/report.js'),
};

/** The module names the CLI can run in process. */
export const LAMBDA_MODULES: readonly string[] = Object.keys(LOADERS);

/** Loads `lambdas/<module>.ts` and returns its `handler`. */
export async function importHandler(module: string): Promise<Handler> {
  const load = Object.hasOwn(LOADERS, module) ? LOADERS[module as FunctionName] : undefined;
  if (!load) throw new Error(`no Lambda handler module named ${JSON.stringify(module)}`);
  const { handler } = await load();
  if (typeof handler !== 'function') throw new Error(`lambdas/${module}.ts exports no handler`);
  return handler as Handler;
}
