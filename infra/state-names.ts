/**
 * The state names of the pg-migrate state machine. They are part of the contract: the CLI overrides Task states
 * by name when it runs the ASL artefact locally, and operators find them in the console. Never rename one
 * without updating docs/ARCHITECTURE.md and the CLI.
 */
export const STATE_NAMES = {
  /**
   * Pass, the first state: the working document `{ run, request: <the execution input>, checks: [], plan: <empty>,
   * roles: [], databases: [], replication: <none yet>, errors: {} }`.
   */
  initialize: 'Initialize',
  /** Lambda `lambdas/resolve.ts`: `$.request` (the raw input) → `$.request` (parsed, defaults filled). */
  resolveRequest: 'ResolveRequest',
  /** Choice on `$.request.action`. */
  routeAction: 'RouteAction',
  /**
   * Lambda `lambdas/precheck.ts` `{ phase: 'server' }`: server-level facts on one session per server, the checks'
   * server parts, the databases to visit → `$.serverChecks` (`ServerChecksOutput`, core/checks/index.ts).
   */
  serverChecks: 'ServerChecks',
  /** Map over `$.serverChecks.databases`, `$.serverChecks.concurrency` at a time → `$.serverChecks.databaseResults`. */
  databaseChecks: 'DatabaseChecks',
  /** Lambda `lambdas/precheck.ts` `{ phase: 'database' }` (inside DatabaseChecks): one database's results. */
  databaseCheck: 'DatabaseCheck',
  /** Lambda `lambdas/plan.ts`: both phases' results merged → `$.plan` (its `checks` are what the report shows). */
  plan: 'Plan',
  /** Pass: `$.serverChecks` emptied once the plan holds the merged results (the facts leave the state). */
  forgetCheckFacts: 'ForgetCheckFacts',
  /** Choice: blocked or `check` → Report; otherwise migrate. */
  routePlan: 'RoutePlan',
  /** Choice: `$.request.roles == false` skips Roles. */
  routeRoles: 'RouteRoles',
  /** Lambda `lambdas/roles.ts` → `$.roles`. */
  roles: 'Roles',
  /** Map over `$.plan.databases` → `$.databases`. */
  migrateDatabases: 'MigrateDatabases',
  /** ECS RunTask `.waitForTaskToken`, `TASK_INPUT.mode = 'migrate'` (inside MigrateDatabases). */
  migrateDatabase: 'MigrateDatabase',
  /** Lambda `lambdas/cleanup.ts` (Catch of MigrateDatabase / CutoverDatabase) → a failed DatabaseResult. */
  cleanupDatabase: 'CleanupDatabase',
  /** Pass (Catch of CleanupDatabase): a failed DatabaseResult built from the caught error. */
  cleanupFailed: 'CleanupFailed',
  /** Pass: `$.databases` as compact JSON → `$.summary.databasesJson` (RouteReplicating matches it). */
  summarizeDatabases: 'SummarizeDatabases',
  /** Choice: any database replicating → the status loop; otherwise RouteCutover. */
  routeReplicating: 'RouteReplicating',
  /** Lambda `lambdas/status.ts` → `$.replication` (`{ databases, allInSync }`). */
  replicationStatus: 'ReplicationStatus',
  /** Pass: `$.replication.databases` → `$.databases`. */
  applyReplicationStatus: 'ApplyReplicationStatus',
  /** Choice: `status` → Report; in sync → RouteCutover; the sync wait expired → SyncTimedOut; otherwise WaitForSync. */
  routeSync: 'RouteSync',
  /** Pass: the sync wait expired (`request.syncTimeoutSeconds`); records why in `$.errors` → Report. */
  syncTimedOut: 'SyncTimedOut',
  /** Wait between two ReplicationStatus calls. */
  waitForSync: 'WaitForSync',
  /** Choice: `$.request.cutover == true` → CutoverDatabases; otherwise Report. */
  routeCutover: 'RouteCutover',
  /** Map over `$.databases` → `$.databases`. */
  cutoverDatabases: 'CutoverDatabases',
  /** Choice inside CutoverDatabases: only replication databases (not failed) are cut over. */
  routeCutoverDatabase: 'RouteCutoverDatabase',
  /** ECS RunTask `.waitForTaskToken`, `TASK_INPUT.mode = 'cutover'` (inside CutoverDatabases). */
  cutoverDatabase: 'CutoverDatabase',
  /** Pass (Catch of CutoverDatabase): a failed DatabaseResult; a failed cutover never undoes the replication. */
  cutoverFailed: 'CutoverFailed',
  /** Pass inside CutoverDatabases: a database that is not cut over is reported as it is. */
  keepDatabase: 'KeepDatabase',
  /** Lambda `lambdas/discover.ts` (status, cutover) → `$.discovered` (`{ databases: PlannedDatabase[] }`). */
  discover: 'Discover',
  /** Choice after Discover on the action. */
  routeDiscovered: 'RouteDiscovered',
  /** Pass: `$.discovered.databases` → `$.databases`. */
  useDiscovered: 'UseDiscovered',
  /** Lambda `lambdas/abort.ts` → `$.databases`. */
  abort: 'Abort',
  /**
   * Lambda `lambdas/report.ts` → `$.result` (`{ report, cause }`). Every state outside the Maps that can fail
   * catches into it (the error under `$.errors.<state>`), so every run ends with a report.
   */
  report: 'Report',
  /** Choice on `$.result.report`: ok → Succeeded; a failed state → RunErrored; otherwise RunFailed. */
  routeReport: 'RouteReport',
  /** Succeed; the execution output is the report. */
  succeeded: 'Succeeded',
  /** Fail, error `PgMigrate.RunFailed`, cause the report as JSON (`$.result.cause`). */
  runFailed: 'RunFailed',
  /** Fail for a run a state failed: error = that state's error name (the contract), cause the report as JSON. */
  runErrored: 'RunErrored',
  /** Choice (Catch of Report): whether the request resolved, for the fallback report's action. */
  routeReportFailure: 'RouteReportFailure',
  /** Pass: the fallback report, built without the Report function, when the request resolved. */
  reportFailure: 'ReportFailure',
  /** Pass: the fallback report when the request did not resolve either. */
  reportFailureUnresolved: 'ReportFailureUnresolved',
  /** Pass: the fallback report as JSON, for the cause. */
  serializeReportFailure: 'SerializeReportFailure',
  /** Fail (the Report function failed): error = its error name, cause = the fallback report as JSON. */
  reportFailed: 'ReportFailed',
  /** Fail for an action the state machine does not know (ResolveRequest should have rejected it). */
  unknownAction: 'UnknownAction',
} as const;

export type StateName = (typeof STATE_NAMES)[keyof typeof STATE_NAMES];

/** The error name of the Fail state a run with `report.ok == false` ends in. */
export const RUN_FAILED_ERROR = 'PgMigrate.RunFailed';

/**
 * The Lambda functions of the workflow, each named after its handler module (`lambdas/<name>.ts`): the construct
 * bundles them from there and the CLI runs the same module in process.
 */
export const FUNCTION_NAMES = [
  'resolve',
  'precheck',
  'plan',
  'roles',
  'cleanup',
  'status',
  'discover',
  'abort',
  'report',
] as const;

export type FunctionName = (typeof FUNCTION_NAMES)[number];

/** The function each Lambda Task state invokes. */
export const LAMBDA_STATE_FUNCTIONS: Readonly<Record<string, FunctionName>> = {
  [STATE_NAMES.resolveRequest]: 'resolve',
  [STATE_NAMES.serverChecks]: 'precheck',
  [STATE_NAMES.databaseCheck]: 'precheck',
  [STATE_NAMES.plan]: 'plan',
  [STATE_NAMES.roles]: 'roles',
  [STATE_NAMES.cleanupDatabase]: 'cleanup',
  [STATE_NAMES.replicationStatus]: 'status',
  [STATE_NAMES.discover]: 'discover',
  [STATE_NAMES.abort]: 'abort',
  [STATE_NAMES.report]: 'report',
};

/** The ECS RunTask `.waitForTaskToken` states (each runs the Fargate task, `tasks/main.ts`). */
export const TASK_STATE_NAMES: readonly string[] = [STATE_NAMES.migrateDatabase, STATE_NAMES.cutoverDatabase];

/** The states that run once per item of a Parallel or Map, by the name of that Parallel or Map. */
export function parentStateName(name: string): string | undefined {
  if (name === STATE_NAMES.databaseCheck) return STATE_NAMES.databaseChecks;
  if (name === STATE_NAMES.migrateDatabase) return STATE_NAMES.migrateDatabases;
  if (name === STATE_NAMES.cutoverDatabase) return STATE_NAMES.cutoverDatabases;
  return undefined;
}
