/**
 * `pg-migrate check | migrate | status | cutover | abort`: validate the input, run the ASL artefact locally, show
 * the live view and the summary, write `--json FILE`, and map the outcome to the exit code. Ctrl-C stops the run,
 * its task children, and removes the replication objects this run created.
 */
import { describeServer } from '../../core/connection.js';
import { describeError, scrub } from '../../core/errors.js';
import type { Plan } from '../../core/plan.js';
import { parseRequest, type Request } from '../../core/request.js';
import { type LocalCommand, localHelp, parseLocalArgs } from '../args.js';
import { prepareServers } from '../connections.js';
import { checkPrivateFilePath, writePrivateFile } from '../private-file.js';
import { loadAsl } from '../local/asl.js';
import { type LocalRunResult, routeLine, runLocal } from '../local/runner.js';
import { captureOutput } from '../output/capture.js';
import { Printer } from '../output/printer.js';
import { EXIT, exitCodeFor, type Outcome } from '../outcome.js';
import { removeReplicationObjects } from './interrupt.js';
import { type Io, interactiveOutput, onInterrupt } from './io.js';

/** Runs one local command; resolves with the exit code. */
export async function localCommand(
  command: LocalCommand,
  args: readonly string[],
  io: Io,
  options: { readonly verification?: boolean } = {},
): Promise<number> {
  const parsed = parseLocalArgs(command, args);
  if (parsed.help) {
    io.out(`${localHelp(command)}\n`);
    return EXIT.ok;
  }
  const servers = prepareServers(parsed);
  const request = parseRequest(parsed.request);
  if (parsed.json !== undefined) checkPrivateFilePath(parsed.json);
  const asl = loadAsl();
  const { tty, color } = interactiveOutput(io);
  const sink: { printer?: Printer } = {};
  const captured = captureOutput((line, stream) => {
    if (sink.printer) routeLine(line, sink.printer, `handler ${stream}`);
  });
  const printer = new Printer({
    out: captured.stdout,
    err: captured.stderr,
    tty,
    color,
    verbose: parsed.verbose,
    ...io.size,
  });
  sink.printer = printer;
  const started = Date.now();
  const controller = new AbortController();
  const stopInterrupt = onInterrupt(
    () => {
      printer.say('Stopping: aborting the run and its tasks (Ctrl-C again to quit at once)…');
      controller.abort();
    },
    () => {
      captured.restore();
      io.err('\nInterrupted twice: quitting now; replication objects may be left (run pg-migrate abort).\n');
      io.exit(EXIT.interrupted);
    },
  );
  let result: LocalRunResult | undefined;
  try {
    printer.begin(`pg-migrate ${command} · ${describeServer(servers.source)} → ${describeServer(servers.target)}`);
    result = await runLocal({ asl, input: parsed.request, observer: printer, signal: controller.signal });
    if (result.outcome.kind === 'interrupted' && command === 'migrate' && result.replicationStarted.length > 0) {
      printer.say(`Removing the replication objects this run created (${result.replicationStarted.join(', ')})…`);
      try {
        await removeReplicationObjects(result, request);
        printer.say('Replication objects removed; the data copied so far stays on the target.');
      } catch (err) {
        printer.logger.error(`could not remove the replication objects: ${describeError(err)}; run pg-migrate abort`);
      }
    }
  } finally {
    printer.end();
    captured.restore();
    stopInterrupt();
  }
  const outcome = result.outcome;
  const plan = result.plan as Pick<Plan, 'databases'> | undefined;
  printer.summary(outcome, {
    ...(options.verification ? { verification: true } : {}),
    ...(plan && Array.isArray(plan.databases) ? { plan } : {}),
  });
  if (parsed.json !== undefined) writeReport(parsed.json, outcome, request, Date.now() - started);
  return exitCodeFor(outcome);
}

/** `--json FILE`: the report (or, when the run produced none, a report-shaped record of the error). */
export function writeReport(
  path: string,
  outcome: Outcome,
  request: Pick<Request, 'action'>,
  durationMs: number,
): void {
  const body =
    outcome.kind === 'report'
      ? outcome.report
      : {
          ok: false,
          action: request.action,
          durationMs,
          checks: [],
          roles: [],
          databases: [],
          error:
            outcome.kind === 'error'
              ? { name: outcome.error, message: outcome.cause }
              : { name: 'PgMigrate.Aborted', message: 'interrupted' },
        };
  writePrivateFile(path, `${JSON.stringify(scrubStrings(body), null, 2)}\n`);
}

/** Every string in a JSON value scrubbed (keys too): the file stays valid JSON whatever a password looks like. */
export function scrubStrings(value: unknown): unknown {
  if (typeof value === 'string') return scrub(value);
  if (Array.isArray(value)) return value.map(scrubStrings);
  if (typeof value === 'object' && value !== null)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [scrub(k), scrubStrings(v)]));
  return value;
}
