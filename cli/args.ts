/**
 * Command-line options → {@link RequestInput}. Parsed once, strictly (`node:util` parseArgs): an unknown option, a
 * missing value or a malformed number is bad input (exit code 2), and every problem is reported at once.
 *
 * @example
 * ```ts
 * const { request, json } = parseLocalArgs('migrate', ['--dbs', 'shop,crm', '--jobs', '8']);
 * ```
 */
import { parseArgs } from 'node:util';
import { InputError, scrub } from '../core/errors.js';
import type { ConnectionRef, RequestInput } from '../core/request.js';
import { isWarningKind, WARNING_KINDS } from '../core/warnings.js';

export const LOCAL_COMMANDS = ['check', 'migrate', 'status', 'cutover', 'abort'] as const;
export type LocalCommand = (typeof LOCAL_COMMANDS)[number];

type OptionSpec = { type: 'string' | 'boolean'; multiple?: boolean; short?: string };

/** Every request option, with the commands that accept it and its help line. */
const REQUEST_OPTIONS: Record<string, OptionSpec & { commands: readonly LocalCommand[]; help: string }> = {
  dbs: {
    type: 'string',
    multiple: true,
    commands: LOCAL_COMMANDS,
    help: 'only these source databases (comma-separated, repeatable)',
  },
  'exclude-dbs': {
    type: 'string',
    multiple: true,
    commands: LOCAL_COMMANDS,
    help: 'every source database except these (comma-separated, repeatable)',
  },
  'with-table': {
    type: 'string',
    multiple: true,
    commands: ['check', 'migrate'],
    help: "only this table's data: [db.]schema.table (repeatable)",
  },
  'skip-table': {
    type: 'string',
    multiple: true,
    commands: ['check', 'migrate'],
    help: "not this table's data: [db.]schema.table (repeatable)",
  },
  method: { type: 'string', commands: ['check', 'migrate'], help: 'auto | dump | replication (default auto)' },
  jobs: { type: 'string', commands: ['migrate', 'cutover'], help: 'parallel COPY streams per database (default 4)' },
  'max-concurrency': {
    type: 'string',
    commands: ['migrate', 'cutover'],
    help: 'databases migrated at the same time (default 2)',
  },
  'session-budget': {
    type: 'string',
    commands: ['check', 'migrate'],
    help: 'sessions open at once on each server, pre-checks and migration (default 10)',
  },
  'no-roles': { type: 'boolean', commands: ['check', 'migrate'], help: "do not create the source's roles" },
  roles: {
    type: 'string',
    commands: ['check', 'migrate'],
    help: 'needed (default: the roles the selected databases need) | all (every role of the source)',
  },
  'role-attributes': {
    type: 'string',
    multiple: true,
    commands: ['check', 'migrate'],
    help: 'consent to recreate these attributes: superuser,bypassrls,replication (default none)',
  },
  'subscription-sslmode': {
    type: 'string',
    commands: ['check', 'migrate'],
    help: "sslmode of the subscription's connection to the source (default: the source's, at most require)",
  },
  'subscription-sslrootcert': {
    type: 'string',
    commands: ['check', 'migrate'],
    help: "CA for the subscription's connection: a path on the target server, or system",
  },
  'replica-identity-full': {
    type: 'boolean',
    commands: ['check', 'migrate'],
    help: 'consent to REPLICA IDENTITY FULL on source tables without a primary key',
  },
  accept: {
    type: 'string',
    multiple: true,
    commands: ['migrate', 'cutover'],
    help: `consent to these warning kinds (exit 0 despite them): ${WARNING_KINDS.join(', ')} (comma-separated, repeatable)`,
  },
  cutover: { type: 'boolean', commands: ['migrate'], help: 'go straight on into cutover once replication is in sync' },
  'max-lag-bytes': {
    type: 'string',
    commands: ['migrate', 'status', 'cutover'],
    help: 'lag at or under which a database counts as in sync (default 1048576)',
  },
  'sync-timeout': {
    type: 'string',
    commands: ['migrate'],
    help: 'seconds migrate waits for replication to get in sync before it reports which database is not and why (default 86400)',
  },
  timeout: {
    type: 'string',
    commands: ['migrate', 'cutover'],
    help: 'seconds cutover waits for the lag to drop (default 600)',
  },
  checksums: { type: 'boolean', commands: ['migrate', 'cutover'], help: 'verify with per-table checksums (slower)' },
  'target-free-bytes': {
    type: 'string',
    commands: ['check', 'migrate'],
    help: "free bytes on the target's disk, when the tool cannot measure it",
  },
};

const CONNECTION_OPTIONS = {
  source: { type: 'string', help: 'source server: URI or key=value (or env PG_MIGRATE_SOURCE)' },
  target: { type: 'string', help: 'target server: URI or key=value (or env PG_MIGRATE_TARGET)' },
  json: { type: 'string', help: 'write the report to FILE' },
  verbose: { type: 'boolean', short: 'v', help: 'show log records and every check finding' },
  help: { type: 'boolean', short: 'h', help: 'show this help' },
} as const satisfies Record<string, OptionSpec & { help: string }>;

const SUMMARIES: Record<LocalCommand, string> = {
  check: 'run every pre-check and show the plan; writes nothing',
  migrate: 'copy roles, schema and data (dump) or set up logical replication',
  status: 'replication state and lag per database',
  cutover: 'wait for lag, copy sequences, drop replication objects, verify',
  abort: 'drop every replication object pg-migrate created, on both sides (data stays)',
};

/** What a local command was asked to do. */
export interface LocalArgs {
  readonly help: boolean;
  /** The connection strings as given (not yet validated), from the options or the environment. */
  readonly source?: string;
  readonly target?: string;
  /** `--json FILE`. */
  readonly json?: string;
  readonly verbose: boolean;
  /** The request, with `source` / `target` as env refs (the credentials stay out of the execution input). */
  readonly request: RequestInput;
}

/** Env variables the CLI reads the connection strings from, and passes them on through. */
export const SOURCE_ENV = 'PG_MIGRATE_SOURCE';
export const TARGET_ENV = 'PG_MIGRATE_TARGET';

function optionsFor(command: LocalCommand): Record<string, OptionSpec> {
  const out: Record<string, OptionSpec> = {};
  for (const [name, spec] of Object.entries(CONNECTION_OPTIONS)) {
    out[name] = { type: spec.type, ...('short' in spec ? { short: spec.short } : {}) };
  }
  for (const [name, spec] of Object.entries(REQUEST_OPTIONS)) {
    if (spec.commands.includes(command)) out[name] = { type: spec.type, ...(spec.multiple ? { multiple: true } : {}) };
  }
  return out;
}

/** Help text of a local command. */
export function localHelp(command: LocalCommand): string {
  const lines = [`pg-migrate ${command} — ${SUMMARIES[command]}`, '', `usage: pg-migrate ${command} [options]`, ''];
  const row = (flag: string, help: string) => `  ${flag.padEnd(30)} ${help}`;
  for (const [name, spec] of Object.entries(CONNECTION_OPTIONS)) {
    const value = spec.type === 'string' ? { json: ' FILE', source: ' S', target: ' T' }[name] : '';
    lines.push(row(`${'short' in spec ? `-${spec.short}, ` : ''}--${name}${value}`, spec.help));
  }
  for (const [name, spec] of Object.entries(REQUEST_OPTIONS)) {
    if (spec.commands.includes(command)) lines.push(row(`--${name}${spec.type === 'string' ? ' …' : ''}`, spec.help));
  }
  lines.push(
    '',
    'Exit codes: 0 success; 1 at least one database failed, or a warning whose kind --accept does not name;',
    '2 stopped before writing anything; 130 interrupted.',
  );
  return lines.join('\n');
}

/** Summaries of the local commands, for the top-level help. */
export function commandSummaries(): Record<LocalCommand, string> {
  return SUMMARIES;
}

/**
 * Turns parseArgs' exceptions into an {@link InputError}. Their messages name options, never values, but are
 * scrubbed all the same.
 */
export function parseArgsStrict(
  args: readonly string[],
  options: Record<string, OptionSpec>,
): Record<string, string | boolean | string[] | undefined> {
  try {
    return parseArgs({ args: [...args], options, strict: true, allowPositionals: false }).values as Record<
      string,
      string | boolean | string[] | undefined
    >;
  } catch (err) {
    throw new InputError(scrub((err as Error).message));
  }
}

/** `a,b` `c` → `['a', 'b', 'c']` (names are exact: no trimming inside a name, empty entries dropped). */
export function splitList(values: readonly string[] | undefined): string[] | undefined {
  if (values === undefined) return undefined;
  return values.flatMap((v) => v.split(',')).filter((v) => v !== '');
}

/** A non-negative integer option, or a problem. */
export function parseInteger(name: string, text: string | undefined, problems: string[]): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text.trim())) {
    problems.push(`--${name}: expected a whole number, got ${JSON.stringify(scrub(text))}`);
    return undefined;
  }
  return Number(text.trim());
}

/** Builds the request options shared by the local and the `aws start` commands. */
export function requestOptions(
  action: LocalCommand,
  values: Record<string, string | boolean | string[] | undefined>,
  refs: { source: ConnectionRef; target: ConnectionRef },
  problems: string[],
): RequestInput {
  const str = (name: string) => {
    const value = values[name];
    return typeof value === 'string' ? value : undefined;
  };
  const list = (name: string) => {
    const value = values[name];
    return splitList(Array.isArray(value) ? value : undefined);
  };
  const int = (name: string) => parseInteger(name, str(name), problems);
  const request: Record<string, unknown> = { action, source: refs.source, target: refs.target };
  const set = (key: string, value: unknown) => {
    if (value !== undefined) request[key] = value;
  };
  set('dbs', list('dbs'));
  set('excludeDbs', list('exclude-dbs'));
  set('withTables', list('with-table'));
  set('skipTables', list('skip-table'));
  set('method', str('method'));
  set('jobs', int('jobs'));
  set('maxConcurrency', int('max-concurrency'));
  set('sessionBudget', int('session-budget'));
  if (values['no-roles'] === true) request.roles = false;
  set('roleScope', str('roles'));
  set('roleAttributes', list('role-attributes'));
  set('subscriptionSslmode', str('subscription-sslmode'));
  set('subscriptionSslrootcert', str('subscription-sslrootcert'));
  if (values['replica-identity-full'] === true) request.replicaIdentityFull = true;
  if (values.cutover === true) request.cutover = true;
  if (values.checksums === true) request.checksums = true;
  set('maxLagBytes', int('max-lag-bytes'));
  set('timeoutSeconds', int('timeout'));
  set('syncTimeoutSeconds', int('sync-timeout'));
  set('targetFreeBytes', int('target-free-bytes'));
  const accept = list('accept');
  if (accept !== undefined) {
    const unknown = accept.filter((kind) => !isWarningKind(kind));
    if (unknown.length > 0)
      problems.push(
        `--accept: unknown warning kind${unknown.length === 1 ? '' : 's'} ${unknown.map((k) => JSON.stringify(scrub(k))).join(', ')}; expected ${WARNING_KINDS.join(', ')}`,
      );
    else if (accept.length === 0)
      problems.push(`--accept: name at least one warning kind (${WARNING_KINDS.join(', ')})`);
    else request.accept = [...new Set(accept)];
  }
  return request as RequestInput;
}

/**
 * Parses a local command's arguments. Throws {@link InputError} listing every problem. Connection strings come
 * from `--source` / `--target` or, when absent, from `env` (`PG_MIGRATE_SOURCE` / `PG_MIGRATE_TARGET`).
 */
export function parseLocalArgs(
  command: LocalCommand,
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>> = process.env,
): LocalArgs {
  const values = parseArgsStrict(args, optionsFor(command));
  const help = values.help === true;
  const problems: string[] = [];
  const source = typeof values.source === 'string' ? values.source : env[SOURCE_ENV];
  const target = typeof values.target === 'string' ? values.target : env[TARGET_ENV];
  if (!help) {
    if (source === undefined || source.trim() === '') problems.push(`--source is required (or set ${SOURCE_ENV})`);
    if (target === undefined || target.trim() === '') problems.push(`--target is required (or set ${TARGET_ENV})`);
  }
  const request = requestOptions(
    command,
    values,
    { source: { env: SOURCE_ENV }, target: { env: TARGET_ENV } },
    problems,
  );
  if (problems.length > 0 && !help) throw new InputError(problems);
  return {
    help,
    ...(source !== undefined ? { source } : {}),
    ...(target !== undefined ? { target } : {}),
    ...(typeof values.json === 'string' ? { json: values.json } : {}),
    verbose: values.verbose === true,
    request,
  };
}

/** The help lines of the request options accepted by `command` (for `aws start`). */
export function requestOptionHelp(command: LocalCommand): string[] {
  return Object.entries(REQUEST_OPTIONS)
    .filter(([, spec]) => spec.commands.includes(command))
    .map(([name, spec]) => `  ${`--${name}${spec.type === 'string' ? ' …' : ''}`.padEnd(30)} ${spec.help}`);
}

/** parseArgs option specs of the request options accepted by `command` (for `aws start`). */
export function requestOptionSpecs(command: LocalCommand): Record<string, OptionSpec> {
  const out: Record<string, OptionSpec> = {};
  for (const [name, spec] of Object.entries(REQUEST_OPTIONS)) {
    if (spec.commands.includes(command)) out[name] = { type: spec.type, ...(spec.multiple ? { multiple: true } : {}) };
  }
  return out;
}
