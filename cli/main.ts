/**
 * `pg-migrate`: runs the state machine locally (`check`, `migrate`, `status`, `cutover`, `abort`), a throwaway
 * `demo`, and drives a deployed state machine (`aws start | watch | stop`).
 *
 * Exit codes: 0 success; 1 at least one database failed, or a warning was not accepted (`--accept`); 2 stopped
 * before writing anything (bad input, a blocking pre-check); 130 interrupted.
 *
 * @example
 * ```sh
 * pg-migrate check --source postgres://admin@old:5432/postgres --target postgres://admin@new:5432/postgres
 * ```
 */
import { describeError, InputError, MigrationError, scrub } from '../core/errors.js';
import { commandSummaries, LOCAL_COMMANDS, type LocalCommand } from './args.js';
import { type Io, processIo } from './commands/io.js';
import { EXIT, exitCodeForError } from './outcome.js';

const USAGE = () => {
  const summaries = commandSummaries();
  const row = (name: string, text: string) => `  ${name.padEnd(10)} ${text}`;
  return [
    'pg-migrate — PostgreSQL-to-PostgreSQL migration: pre-checks, dump/restore, logical replication, cutover',
    '',
    'usage: pg-migrate <command> [options]     (pg-migrate <command> --help for its options)',
    '',
    'Local commands (run the state machine on this machine; servers from --source/--target or',
    'PG_MIGRATE_SOURCE/PG_MIGRATE_TARGET):',
    ...LOCAL_COMMANDS.map((c) => row(c, summaries[c])),
    row('demo', 'two throwaway servers, a sample database, check + migrate, then clean up'),
    '',
    'AWS (a deployed state machine):',
    row('aws', 'start | watch | stop an execution'),
    '',
    'Exit codes: 0 success; 1 a database failed, or a warning was not accepted (--accept);',
    '2 stopped before writing anything; 130 interrupted.',
  ].join('\n');
};

/** Runs the CLI; resolves with the exit code. */
export async function main(argv: readonly string[], io: Io = processIo()): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
      io.out(`${USAGE()}\n`);
      return command === undefined ? EXIT.stoppedBeforeWriting : EXIT.ok;
    }
    if (command === '--version' || command === '-V') {
      const { projectRoot } = await import('./paths.js');
      const fs = await import('node:fs');
      const path = await import('node:path');
      const pkg = JSON.parse(fs.readFileSync(path.join(projectRoot(), 'package.json'), 'utf8')) as { version: string };
      // The bin says whether it runs the bundle or the sources (see bin/pg-migrate.js).
      const entry = process.env.PG_MIGRATE_ENTRY;
      io.out(`${pkg.version}${entry ? ` (${entry})` : ''}\n`);
      return EXIT.ok;
    }
    if ((LOCAL_COMMANDS as readonly string[]).includes(command)) {
      const { localCommand } = await import('./commands/local.js');
      return await localCommand(command as LocalCommand, rest, io);
    }
    if (command === 'demo') {
      const { demoCommand } = await import('./commands/demo.js');
      return await demoCommand(rest, io);
    }
    if (command === 'aws') {
      const { awsCommand } = await import('./commands/aws.js');
      return await awsCommand(rest, io);
    }
    throw new InputError(`unknown command ${JSON.stringify(scrub(command))}; see pg-migrate --help`);
  } catch (err) {
    const code = exitCodeForError(err);
    if (err instanceof InputError) {
      io.err(`error: ${err.problems.length > 1 ? 'bad input:\n  - ' : ''}${err.problems.join('\n  - ')}\n`);
      if (command !== undefined) io.err(`(pg-migrate ${scrub(command)} --help shows the options)\n`);
    } else if (err instanceof MigrationError) {
      io.err(`error: ${err.name}: ${describeError(err)}\n`);
    } else {
      io.err(`error: ${describeError(err)}\n`);
    }
    return code;
  }
}
