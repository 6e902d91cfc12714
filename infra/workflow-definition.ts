/**
 * The state machine definition of the pg-migrate workflow, and nothing else: given what each Task state calls (the
 * Lambda functions, the Fargate task), it builds the state graph. It creates no AWS resource, so the construct
 * (`pg-migration-workflow.ts`) and the ASL artefact the CLI runs (`scripts/build-asl.ts`) share it.
 *
 * Written so that aws-local-stepfunctions 3 runs it unchanged: JSONPath only, no JSONPath filter (an empty result is
 * an error there), no `IsPresent: false` (never matches there; `Not(IsPresent)` instead), no intrinsic in
 * `CausePath`, no explicit `ResultPath: "$"` (written to a key named `$` there).
 *
 * @example
 * ```ts
 * const definition = buildWorkflowDefinition(this, { functions, task }, resolveDefinitionOptions(props));
 * new sfn.StateMachine(this, 'StateMachine', { definitionBody: sfn.DefinitionBody.fromChainable(definition) });
 * ```
 */
import { Duration, Stack } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { ERROR_NAMES } from '../core/errors.js';
import { type FunctionName, RUN_FAILED_ERROR, STATE_NAMES } from './state-names.js';

/** Where the ECS RunTask states run the Fargate task. */
export interface TaskTarget {
  /** The cluster's ARN. */
  readonly clusterArn: string;
  /** The task definition's ARN (with its revision). */
  readonly taskDefinitionArn: string;
  /** The container the overrides address. */
  readonly containerName: string;
  readonly subnetIds: readonly string[];
  readonly securityGroupIds: readonly string[];
}

/** What the Task states call. */
export interface WorkflowTargets {
  readonly functions: Readonly<Record<FunctionName, lambda.IFunction>>;
  readonly task: TaskTarget;
}

/** The timing and concurrency settings the definition carries. */
export interface WorkflowDefinitionOptions {
  /** The functions' timeout; each Lambda state times out 30 s later. */
  readonly functionTimeout: Duration;
  /** The task's heartbeat interval (`HeartbeatSeconds`). */
  readonly heartbeat: Duration;
  /** The longest one database's task may take (`TimeoutSeconds`). */
  readonly taskTimeout: Duration;
  /** The wait between two replication status polls. */
  readonly replicationPollInterval: Duration;
  /** A fixed Map concurrency; without it, the request's `maxConcurrency` applies. */
  readonly databaseConcurrency?: number;
}

/** Errors retried on every Task state: only what can succeed later (core/errors.ts). */
const TRANSIENT_ERRORS = [ERROR_NAMES.transient];

/**
 * What Lambda itself reports when an invocation could not run or return: throttling (a new account's concurrency
 * is small, and the pre-checks' database Map starts many at once) and service errors. Retried with backoff and full jitter.
 */
export const LAMBDA_SERVICE_ERRORS = [
  'Lambda.TooManyRequestsException',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.ClientExecutionTimeoutException',
];

/** The ECS RunTask integration that waits for the task's SendTaskSuccess / SendTaskFailure. */
const RUN_TASK_RESOURCE = 'arn:<partition>:states:::ecs:runTask.waitForTaskToken';

/** The plan before the Plan state ran (blocked: false, nothing to migrate). */
const EMPTY_PLAN = { blocked: false, blockers: [], databases: [], checks: [] };

/** The replication status before the first poll. */
const NO_REPLICATION = { databases: [], allInSync: false, expired: false, waitingSince: '', reason: '' };

/** Where a state outside the Maps puts its caught error: `$.errors.<state>` (the Report names the state). */
export function errorPath(stateName: string): string {
  return `$.errors.${stateName}`;
}

/** Builds the graph in `scope`. Call once per scope: state ids are the state names. */
export function buildWorkflowDefinition(
  scope: Construct,
  targets: WorkflowTargets,
  options: WorkflowDefinitionOptions,
): sfn.IChainable {
  return new DefinitionBuilder(scope, targets, options).build();
}

class DefinitionBuilder {
  constructor(
    private readonly scope: Construct,
    private readonly targets: WorkflowTargets,
    private readonly options: WorkflowDefinitionOptions,
  ) {}

  private lambdaState(
    stateName: string,
    fn: FunctionName,
    payload: Record<string, unknown>,
    resultPath: string,
  ): tasks.LambdaInvoke {
    const state = new tasks.LambdaInvoke(this.scope, stateName, {
      stateName,
      lambdaFunction: this.targets.functions[fn],
      payload: sfn.TaskInput.fromObject(payload),
      payloadResponseOnly: true,
      // Lambda's own errors get the retry below (throttling included), not CDK's default.
      retryOnServiceExceptions: false,
      // `$` is the default: left out, because the local interpreter writes a `ResultPath: "$"` to a key named "$".
      ...(resultPath !== '$' ? { resultPath } : {}),
      taskTimeout: sfn.Timeout.duration(this.options.functionTimeout.plus(Duration.seconds(30))),
    });
    state.addRetry({
      errors: LAMBDA_SERVICE_ERRORS,
      interval: Duration.seconds(2),
      maxAttempts: 8,
      backoffRate: 2,
      maxDelay: Duration.minutes(1),
      jitterStrategy: sfn.JitterType.FULL,
    });
    state.addRetry({
      errors: TRANSIENT_ERRORS,
      interval: Duration.seconds(5),
      maxAttempts: 3,
      backoffRate: 2,
      jitterStrategy: sfn.JitterType.FULL,
    });
    return state;
  }

  /** Catches every error of a state outside the Maps into `$.errors.<state>`, then the Report. */
  private reportOnError<T extends tasks.LambdaInvoke | sfn.Parallel | sfn.Map>(state: T, report: sfn.IChainable): T {
    // Every state here is named by its construct id.
    state.addCatch(report, { errors: ['States.ALL'], resultPath: errorPath(state.node.id) });
    return state;
  }

  /**
   * One database's Fargate task (`mode` migrate or cutover), waiting for the task token. A custom state rather than
   * `EcsRunTask`: it needs only ARNs, so the artefact can be built without a task definition; the construct grants
   * what it calls.
   */
  private ecsState(stateName: string): sfn.CustomState {
    const { task } = this.targets;
    const state = new sfn.CustomState(this.scope, stateName, {
      stateJson: {
        Type: 'Task',
        Resource: RUN_TASK_RESOURCE.replace('<partition>', Stack.of(this.scope).partition),
        TimeoutSeconds: this.options.taskTimeout.toSeconds(),
        HeartbeatSeconds: this.options.heartbeat.toSeconds(),
        Parameters: {
          Cluster: task.clusterArn,
          TaskDefinition: task.taskDefinitionArn,
          LaunchType: 'FARGATE',
          PlatformVersion: 'LATEST',
          NetworkConfiguration: {
            AwsvpcConfiguration: {
              Subnets: [...task.subnetIds],
              SecurityGroups: [...task.securityGroupIds],
              AssignPublicIp: 'DISABLED',
            },
          },
          PropagateTags: 'TASK_DEFINITION',
          Overrides: {
            ContainerOverrides: [
              {
                Name: task.containerName,
                Environment: [
                  { Name: 'TASK_TOKEN', 'Value.$': '$$.Task.Token' },
                  // { mode, run, database: { name, method } }: see mapOverDatabases.
                  { Name: 'TASK_INPUT', 'Value.$': 'States.JsonToString($.task)' },
                ],
              },
            ],
          },
        },
      },
    });
    state.addRetry({
      errors: TRANSIENT_ERRORS,
      interval: Duration.seconds(30),
      maxAttempts: 3,
      backoffRate: 2,
      maxDelay: Duration.minutes(5),
      jitterStrategy: sfn.JitterType.FULL,
    });
    return state;
  }

  /** A failed DatabaseResult built from the caught error, for when no Lambda can (or should) build one. */
  private failedResult(stateName: string): sfn.Pass {
    return new sfn.Pass(this.scope, stateName, {
      stateName,
      parameters: {
        name: sfn.JsonPath.stringAt('$.database.name'),
        method: sfn.JsonPath.stringAt('$.database.method'),
        status: 'failed',
        tables: 0,
        rows: 0,
        bytes: 0,
        durationMs: 0,
        lagBytes: 0,
        message: sfn.JsonPath.jsonToString(sfn.JsonPath.objectAt('$.error')),
        error: sfn.JsonPath.stringAt('$.error.Error'),
      },
    });
  }

  private mapOverDatabases(stateName: string, mode: 'migrate' | 'cutover', itemsPath: string): sfn.Map {
    const concurrency = this.options.databaseConcurrency;
    return new sfn.Map(this.scope, stateName, {
      stateName,
      itemsPath,
      itemSelector: {
        mode,
        request: sfn.JsonPath.objectAt('$.request'),
        database: sfn.JsonPath.objectAt('$$.Map.Item.Value'),
        // TASK_INPUT: references only (ECS allows 8 KiB per container override). The task reads the request from
        // the report store under the run and recomputes its lists.
        task: {
          mode,
          run: sfn.JsonPath.stringAt('$.run.id'),
          database: {
            name: sfn.JsonPath.stringAt('$$.Map.Item.Value.name'),
            method: sfn.JsonPath.stringAt('$$.Map.Item.Value.method'),
          },
        },
      },
      ...(concurrency !== undefined
        ? { maxConcurrency: concurrency }
        : { maxConcurrencyPath: '$.request.maxConcurrency' }),
      resultPath: '$.databases',
    });
  }

  build(): sfn.IChainable {
    const S = STATE_NAMES;
    const scope = this.scope;
    const request = sfn.JsonPath.objectAt('$.request');
    const databases = sfn.JsonPath.listAt('$.databases');
    const action = (name: string) => sfn.Condition.stringEquals('$.request.action', name);

    // The report, and the ways a run ends.
    const report = this.lambdaState(
      S.report,
      'report',
      {
        // Parsed, or the raw execution input when ResolveRequest failed (then `errors` says so).
        request,
        run: sfn.JsonPath.objectAt('$.run'),
        checks: sfn.JsonPath.listAt('$.checks'),
        plan: sfn.JsonPath.objectAt('$.plan'),
        roles: sfn.JsonPath.listAt('$.roles'),
        databases,
        errors: sfn.JsonPath.objectAt('$.errors'),
      },
      '$.result',
    );
    const succeeded = new sfn.Succeed(scope, S.succeeded, { stateName: S.succeeded, outputPath: '$.result.report' });
    const runFailed = new sfn.Fail(scope, S.runFailed, {
      stateName: S.runFailed,
      error: RUN_FAILED_ERROR,
      // The Report Lambda serializes the cause: States.JsonToString is mis-escaped by the local interpreter.
      causePath: '$.result.cause',
    });
    const runErrored = new sfn.Fail(scope, S.runErrored, {
      stateName: S.runErrored,
      // The failed state's own error name stays the execution's error (PgMigrate.BadInput, States.Timeout, …).
      errorPath: '$.result.report.error.name',
      causePath: '$.result.cause',
    });
    report.next(
      new sfn.Choice(scope, S.routeReport, { stateName: S.routeReport })
        .when(sfn.Condition.booleanEquals('$.result.report.ok', true), succeeded)
        .when(sfn.Condition.isPresent('$.result.report.error'), runErrored)
        .otherwise(runFailed),
    );
    report.addCatch(this.reportFailure(), { errors: ['States.ALL'], resultPath: errorPath(S.report) });

    const initialize = new sfn.Pass(scope, S.initialize, {
      stateName: S.initialize,
      parameters: {
        run: {
          id: sfn.JsonPath.stringAt('$$.Execution.Name'),
          startedAt: sfn.JsonPath.stringAt('$$.Execution.StartTime'),
        },
        // The raw input until ResolveRequest replaces it with the parsed request.
        request: sfn.JsonPath.objectAt('$$.Execution.Input'),
        checks: [],
        plan: EMPTY_PLAN,
        roles: [],
        databases: [],
        replication: NO_REPLICATION,
        errors: {},
      },
    });
    const resolve = this.reportOnError(
      this.lambdaState(
        S.resolveRequest,
        'resolve',
        { input: request, run: sfn.JsonPath.objectAt('$.run') },
        '$.request',
      ),
      report,
    );

    // check / migrate: the pre-checks spend sessions by plan (docs/CHECKS.md "How the checks run"): server-level
    // facts once, on one session per server; then each selected database on one source and one target session, at
    // most the request's session budget at a time; then the plan merges both. The facts travel under
    // `$.serverChecks` and leave the state once the plan holds the merged results.
    const serverChecks = this.reportOnError(
      this.lambdaState(S.serverChecks, 'precheck', { phase: 'server', request }, '$.serverChecks'),
      report,
    );
    const databaseChecks = this.reportOnError(
      new sfn.Map(scope, S.databaseChecks, {
        stateName: S.databaseChecks,
        itemsPath: '$.serverChecks.databases',
        itemSelector: {
          phase: 'database',
          request,
          database: sfn.JsonPath.objectAt('$$.Map.Item.Value'),
          shared: sfn.JsonPath.objectAt('$.serverChecks.shared'),
        },
        maxConcurrencyPath: '$.serverChecks.concurrency',
        resultPath: '$.serverChecks.databaseResults',
      }),
      report,
    );
    databaseChecks.itemProcessor(
      this.lambdaState(
        S.databaseCheck,
        'precheck',
        {
          phase: 'database',
          request,
          database: sfn.JsonPath.objectAt('$.database'),
          shared: sfn.JsonPath.objectAt('$.shared'),
        },
        '$',
      ),
    );
    const plan = this.reportOnError(
      this.lambdaState(
        S.plan,
        'plan',
        {
          request,
          run: sfn.JsonPath.objectAt('$.run'),
          serverChecks: sfn.JsonPath.listAt('$.serverChecks.results'),
          databaseChecks: sfn.JsonPath.listAt('$.serverChecks.databaseResults'),
        },
        '$.plan',
      ),
      report,
    );
    // The merged results are the plan's `checks` now (the report reads them there): the facts go.
    const forgetCheckFacts = new sfn.Pass(scope, S.forgetCheckFacts, {
      stateName: S.forgetCheckFacts,
      result: sfn.Result.fromObject({}),
      resultPath: '$.serverChecks',
    });
    const roles = this.reportOnError(
      this.lambdaState(S.roles, 'roles', { request, plan: sfn.JsonPath.objectAt('$.plan') }, '$.roles'),
      report,
    );

    const migrateDatabases = this.reportOnError(
      this.mapOverDatabases(S.migrateDatabases, 'migrate', '$.plan.databases'),
      report,
    );
    const cleanup = this.lambdaState(
      S.cleanupDatabase,
      'cleanup',
      {
        request,
        database: sfn.JsonPath.objectAt('$.database'),
        error: sfn.JsonPath.objectAt('$.error'),
      },
      '$',
    );
    // If even the cleanup fails, the database is still reported as failed and the other databases go on.
    cleanup.addCatch(this.failedResult(S.cleanupFailed), { errors: ['States.ALL'], resultPath: '$.cleanupError' });
    const migrateDatabase = this.ecsState(S.migrateDatabase);
    migrateDatabase.addCatch(cleanup, { errors: ['States.ALL'], resultPath: '$.error' });
    migrateDatabases.itemProcessor(migrateDatabase);

    // "Any database replicating?" without a JSONPath filter: an empty filter result is an error in the local
    // interpreter, and Choice rules cannot filter. The compact JSON of the results is matched instead.
    const summarizeDatabases = new sfn.Pass(scope, S.summarizeDatabases, {
      stateName: S.summarizeDatabases,
      parameters: { databasesJson: sfn.JsonPath.jsonToString(sfn.JsonPath.listAt('$.databases')) },
      resultPath: '$.summary',
    });
    const replicationStatus = this.reportOnError(
      this.lambdaState(
        S.replicationStatus,
        'status',
        { request, databases, waitingSince: sfn.JsonPath.stringAt('$.replication.waitingSince') },
        '$.replication',
      ),
      report,
    );
    const applyReplicationStatus = new sfn.Pass(scope, S.applyReplicationStatus, {
      stateName: S.applyReplicationStatus,
      inputPath: '$.replication.databases',
      resultPath: '$.databases',
    });
    const waitForSync = new sfn.Wait(scope, S.waitForSync, {
      stateName: S.waitForSync,
      time: sfn.WaitTime.duration(this.options.replicationPollInterval),
    });
    // The sync wait is bounded (request.syncTimeoutSeconds): the report says which databases are not in sync and
    // why; their replication keeps running (status, cutover and abort work on it later).
    const syncTimedOut = new sfn.Pass(scope, S.syncTimedOut, {
      stateName: S.syncTimedOut,
      parameters: { Error: ERROR_NAMES.timeout, Cause: sfn.JsonPath.stringAt('$.replication.reason') },
      resultPath: errorPath(S.waitForSync),
    });
    syncTimedOut.next(report);

    const cutoverDatabases = this.reportOnError(
      this.mapOverDatabases(S.cutoverDatabases, 'cutover', '$.databases'),
      report,
    );
    const cutoverDatabase = this.ecsState(S.cutoverDatabase);
    // A failed cutover must not undo the replication: the database is reported failed, the cutover can be re-run.
    cutoverDatabase.addCatch(this.failedResult(S.cutoverFailed), { errors: ['States.ALL'], resultPath: '$.error' });
    const keepDatabase = new sfn.Pass(scope, S.keepDatabase, { stateName: S.keepDatabase, outputPath: '$.database' });
    cutoverDatabases.itemProcessor(
      new sfn.Choice(scope, S.routeCutoverDatabase, { stateName: S.routeCutoverDatabase })
        .when(
          sfn.Condition.and(
            sfn.Condition.stringEquals('$.database.method', 'replication'),
            sfn.Condition.or(
              // Not(IsPresent) rather than IsPresent: false, which the local interpreter never matches.
              sfn.Condition.not(sfn.Condition.isPresent('$.database.status')),
              sfn.Condition.stringEquals('$.database.status', 'replicating'),
            ),
          ),
          cutoverDatabase,
        )
        .otherwise(keepDatabase),
    );
    cutoverDatabases.next(report);

    const discover = this.reportOnError(this.lambdaState(S.discover, 'discover', { request }, '$.discovered'), report);
    const useDiscovered = new sfn.Pass(scope, S.useDiscovered, {
      stateName: S.useDiscovered,
      inputPath: '$.discovered.databases',
      resultPath: '$.databases',
    });
    const abort = this.reportOnError(this.lambdaState(S.abort, 'abort', { request }, '$.databases'), report);
    abort.next(report);

    const unknownAction = new sfn.Fail(scope, S.unknownAction, {
      stateName: S.unknownAction,
      error: ERROR_NAMES.badInput,
      cause: 'unknown action (expected check, migrate, status, cutover or abort)',
    });

    // Verification is the task's (a dump database under its snapshot, a replication database at cutover): after
    // the databases comes the report.
    const routeCutover = new sfn.Choice(scope, S.routeCutover, { stateName: S.routeCutover })
      .when(sfn.Condition.booleanEquals('$.request.cutover', true), cutoverDatabases)
      .otherwise(report);

    replicationStatus
      .next(applyReplicationStatus)
      .next(
        new sfn.Choice(scope, S.routeSync, { stateName: S.routeSync })
          .when(action('status'), report)
          .when(sfn.Condition.booleanEquals('$.replication.allInSync', true), routeCutover)
          .when(sfn.Condition.booleanEquals('$.replication.expired', true), syncTimedOut)
          .otherwise(waitForSync.next(replicationStatus)),
      );
    migrateDatabases
      .next(summarizeDatabases)
      .next(
        new sfn.Choice(scope, S.routeReplicating, { stateName: S.routeReplicating })
          .when(sfn.Condition.stringMatches('$.summary.databasesJson', '*"status":"replicating"*'), replicationStatus)
          .otherwise(routeCutover),
      );
    roles.next(migrateDatabases);
    serverChecks
      .next(databaseChecks)
      .next(plan)
      .next(forgetCheckFacts)
      .next(
        new sfn.Choice(scope, S.routePlan, { stateName: S.routePlan })
          .when(sfn.Condition.or(sfn.Condition.booleanEquals('$.plan.blocked', true), action('check')), report)
          .otherwise(
            new sfn.Choice(scope, S.routeRoles, { stateName: S.routeRoles })
              .when(sfn.Condition.booleanEquals('$.request.roles', false), migrateDatabases)
              .otherwise(roles),
          ),
      );
    discover
      .next(useDiscovered)
      .next(
        new sfn.Choice(scope, S.routeDiscovered, { stateName: S.routeDiscovered })
          .when(action('status'), replicationStatus)
          .otherwise(cutoverDatabases),
      );

    return initialize.next(resolve).next(
      new sfn.Choice(scope, S.routeAction, { stateName: S.routeAction })
        .when(sfn.Condition.or(action('check'), action('migrate')), serverChecks)
        .when(sfn.Condition.or(action('status'), action('cutover')), discover)
        .when(action('abort'), abort)
        .otherwise(unknownAction),
    );
  }

  /**
   * When the Report function itself fails: a report built in the state machine from what the state holds (the
   * databases as they are, the Report function's error), serialized, and the run fails with that error.
   */
  private reportFailure(): sfn.IChainable {
    const S = STATE_NAMES;
    const scope = this.scope;
    const fallback = (action: string) => ({
      ok: false,
      action,
      durationMs: 0,
      checks: [],
      roles: sfn.JsonPath.listAt('$.roles'),
      databases: sfn.JsonPath.listAt('$.databases'),
      error: {
        state: S.report,
        name: sfn.JsonPath.stringAt(`${errorPath(S.report)}.Error`),
        message: sfn.JsonPath.stringAt(`${errorPath(S.report)}.Cause`),
      },
    });
    const serialize = new sfn.Pass(scope, S.serializeReportFailure, {
      stateName: S.serializeReportFailure,
      parameters: { cause: sfn.JsonPath.jsonToString(sfn.JsonPath.objectAt('$.fallback')) },
      resultPath: '$.fallbackCause',
    });
    serialize.next(
      new sfn.Fail(scope, S.reportFailed, {
        stateName: S.reportFailed,
        errorPath: `${errorPath(S.report)}.Error`,
        causePath: '$.fallbackCause.cause',
      }),
    );
    const resolved = new sfn.Pass(scope, S.reportFailure, {
      stateName: S.reportFailure,
      parameters: fallback(sfn.JsonPath.stringAt('$.request.action')),
      resultPath: '$.fallback',
    });
    // The request did not resolve either: the report names `check`, which writes nothing.
    const unresolved = new sfn.Pass(scope, S.reportFailureUnresolved, {
      stateName: S.reportFailureUnresolved,
      parameters: fallback('check'),
      resultPath: '$.fallback',
    });
    resolved.next(serialize);
    unresolved.next(serialize);
    return new sfn.Choice(scope, S.routeReportFailure, { stateName: S.routeReportFailure })
      .when(
        sfn.Condition.and(sfn.Condition.isPresent('$.request.action'), sfn.Condition.isString('$.request.action')),
        resolved,
      )
      .otherwise(unresolved);
  }
}
