/**
 * `pg-migrate aws start | watch | stop`: drive a deployed state machine. The request carries Secrets Manager ARNs,
 * never a connection string. Credentials and region come from the usual AWS SDK chain (or `--region`).
 */
import { checkPrivateFilePath } from '../private-file.js';
import { ECSClient } from '@aws-sdk/client-ecs';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { describeError, InputError } from '../../core/errors.js';
import type { Report } from '../../core/report.js';
import { getJson } from '../../core/report-store.js';
import { S3ReportStore } from '../../lambdas/shared/report-store.js';
import { ACTIONS, parseRequest } from '../../core/request.js';
import {
  LOCAL_COMMANDS,
  type LocalCommand,
  parseArgsStrict,
  parseInteger,
  requestOptionHelp,
  requestOptions,
  requestOptionSpecs,
} from '../args.js';
import { startExecution, stopExecution, watchExecution } from '../aws/execution.js';
import { Printer } from '../output/printer.js';
import { EXIT, exitCodeFor, type Outcome } from '../outcome.js';
import { type Io, interactiveOutput, onInterrupt } from './io.js';
import { writeReport } from './local.js';

const HELP = {
  start: [
    'pg-migrate aws start — start an execution of a deployed pg-migrate state machine',
    '',
    'usage: pg-migrate aws start --state-machine-arn ARN --source-secret-arn ARN --target-secret-arn ARN [options]',
    '',
    '  --action A                     check | migrate | status | cutover | abort (default migrate)',
    '  --name NAME                    execution name (default: generated)',
    '  --watch                        follow the execution until it ends (exit code as for local runs)',
    '  --json FILE                    with --watch: write the report to FILE',
    '  --region R                     AWS region (default: the SDK chain)',
    ...LOCAL_COMMANDS.flatMap((c) => requestOptionHelp(c)).filter((line, i, all) => all.indexOf(line) === i),
  ],
  watch: [
    'pg-migrate aws watch — follow an execution: states, tasks, the final report',
    '',
    'usage: pg-migrate aws watch --execution-arn ARN [--json FILE] [--interval SECONDS] [--region R]',
  ],
  stop: [
    'pg-migrate aws stop — stop an execution and the Fargate tasks it started',
    '',
    'usage: pg-migrate aws stop --execution-arn ARN [--region R]',
  ],
} as const;

function allRequestOptionSpecs() {
  return Object.assign({}, ...LOCAL_COMMANDS.map((c) => requestOptionSpecs(c))) as ReturnType<
    typeof requestOptionSpecs
  >;
}

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

/** Clients, injectable for tests. */
export interface AwsClients {
  readonly sfn: SFNClient;
  readonly ecs: ECSClient;
  /** Reads the full report the execution's output names. @default a client for the same region */
  readonly s3?: S3Client;
}

function defaultClients(region: string | undefined): AwsClients {
  const config = region !== undefined ? { region } : {};
  return { sfn: new SFNClient(config), ecs: new ECSClient(config), s3: new S3Client(config) };
}

/**
 * The full report (every check, every table) when the execution's report names one in the report bucket
 * (`reportUri`); the execution's compact report, with a warning, when it cannot be read.
 */
export async function withFullReport(outcome: Outcome, s3: S3Client, warn: (text: string) => void): Promise<Outcome> {
  if (outcome.kind !== 'report') return outcome;
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(outcome.report.reportUri ?? '');
  if (!match) return outcome;
  const [, bucket, key] = match as unknown as [string, string, string];
  try {
    const full = await getJson<Report>(new S3ReportStore(bucket, s3), key);
    if (full && typeof full.ok === 'boolean' && Array.isArray(full.databases))
      return { kind: 'report', report: { ...full, reportUri: outcome.report.reportUri } };
    warn(`the full report ${outcome.report.reportUri} is missing: showing the execution's compact report`);
  } catch (err) {
    warn(`cannot read the full report (${describeError(err)}): showing the execution's compact report`);
  }
  return outcome;
}

/** Runs `aws <sub> …`; resolves with the exit code. */
export async function awsCommand(
  args: readonly string[],
  io: Io,
  clients: (region: string | undefined) => AwsClients = defaultClients,
): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'start' && sub !== 'watch' && sub !== 'stop') {
    if (sub === undefined || sub === '--help' || sub === '-h') {
      io.out(`${[HELP.start[0], HELP.watch[0], HELP.stop[0]].join('\n')}\n`);
      return sub === undefined ? EXIT.stoppedBeforeWriting : EXIT.ok;
    }
    throw new InputError(`unknown aws command ${JSON.stringify(sub)}: use start, watch or stop`);
  }
  const common = { region: { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const;
  if (sub === 'start') {
    const values = parseArgsStrict(rest, {
      ...common,
      'state-machine-arn': { type: 'string' },
      'source-secret-arn': { type: 'string' },
      'target-secret-arn': { type: 'string' },
      action: { type: 'string' },
      name: { type: 'string' },
      watch: { type: 'boolean' },
      json: { type: 'string' },
      ...allRequestOptionSpecs(),
    });
    if (values.help === true) {
      io.out(`${HELP.start.join('\n')}\n`);
      return EXIT.ok;
    }
    const problems: string[] = [];
    const arn = str(values['state-machine-arn']);
    if (arn === undefined) problems.push('--state-machine-arn is required');
    else if (!/^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:/.test(arn))
      problems.push('--state-machine-arn: must be a Step Functions state machine ARN');
    const sourceArn = str(values['source-secret-arn']);
    const targetArn = str(values['target-secret-arn']);
    for (const [flag, value] of [
      ['--source-secret-arn', sourceArn],
      ['--target-secret-arn', targetArn],
    ] as const) {
      if (value === undefined) problems.push(`${flag} is required`);
      else if (!/^arn:aws[a-z-]*:secretsmanager:/.test(value)) problems.push(`${flag}: must be a Secrets Manager ARN`);
    }
    const action = (str(values.action) ?? 'migrate') as LocalCommand;
    if (!(ACTIONS as readonly string[]).includes(action))
      problems.push(`--action: must be one of ${ACTIONS.join(', ')}`);
    const request = requestOptions(
      action,
      values,
      { source: { secretArn: sourceArn ?? '' }, target: { secretArn: targetArn ?? '' } },
      problems,
    );
    if (problems.length === 0) {
      try {
        parseRequest(request); // checked here too, so that a bad request never starts an execution
      } catch (err) {
        if (err instanceof InputError) problems.push(...err.problems);
        else throw err;
      }
    }
    if (problems.length > 0) throw new InputError(problems);
    const aws = clients(str(values.region));
    const name = str(values.name);
    const executionArn = await startExecution(aws.sfn, {
      stateMachineArn: arn!,
      request,
      ...(name !== undefined ? { name } : {}),
    });
    io.out(`Started ${executionArn}\n`);
    if (values.watch !== true) {
      io.out(`Follow it with: pg-migrate aws watch --execution-arn ${executionArn}\n`);
      return EXIT.ok;
    }
    return watch(aws, executionArn, io, action, str(values.json), 5000);
  }
  const values = parseArgsStrict(rest, {
    ...common,
    'execution-arn': { type: 'string' },
    ...(sub === 'watch' ? { json: { type: 'string' }, interval: { type: 'string' } } : {}),
  });
  if (values.help === true) {
    io.out(`${HELP[sub].join('\n')}\n`);
    return EXIT.ok;
  }
  const executionArn = str(values['execution-arn']);
  const problems: string[] = [];
  if (executionArn === undefined) problems.push('--execution-arn is required');
  else if (!/^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:/.test(executionArn))
    problems.push('--execution-arn: must be a Step Functions execution ARN');
  const interval = parseInteger('interval', str(values.interval), problems);
  if (problems.length > 0) throw new InputError(problems);
  const aws = clients(str(values.region));
  const { sfn, ecs } = aws;
  if (sub === 'stop') {
    const stopped = await stopExecution(sfn, ecs, executionArn!);
    io.out(
      `Stopped ${executionArn}${stopped.length > 0 ? ` and ${stopped.length} Fargate task(s):\n  ${stopped.join('\n  ')}` : ''}\n`,
    );
    return EXIT.ok;
  }
  return watch(aws, executionArn!, io, 'migrate', str(values.json), (interval ?? 5) * 1000);
}

async function watch(
  aws: AwsClients,
  executionArn: string,
  io: Io,
  action: LocalCommand,
  json: string | undefined,
  intervalMs: number,
): Promise<number> {
  if (json !== undefined) checkPrivateFilePath(json);
  const { tty, color } = interactiveOutput(io);
  const printer = new Printer({ out: io.out, err: io.err, tty, color, ...io.size });
  const controller = new AbortController();
  const stop = onInterrupt(
    () => controller.abort(),
    () => io.exit(EXIT.interrupted),
  );
  const started = Date.now();
  printer.begin(`pg-migrate aws watch · ${executionArn}`);
  let outcome;
  try {
    outcome = await watchExecution(aws.sfn, executionArn, printer, { intervalMs, signal: controller.signal });
  } finally {
    printer.end();
    stop();
  }
  if (controller.signal.aborted) {
    io.out('Stopped watching; the execution goes on (pg-migrate aws stop stops it).\n');
    return EXIT.interrupted;
  }
  outcome = await withFullReport(outcome, aws.s3 ?? new S3Client({ region: await aws.sfn.config.region() }), (t) =>
    printer.logger.warn(t),
  );
  printer.summary(outcome);
  if (json !== undefined) writeReport(json, outcome, { action }, Date.now() - started);
  return exitCodeFor(outcome);
}
