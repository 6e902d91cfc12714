/**
 * Statements that carry a secret — a password verifier in `CREATE` / `ALTER ROLE … PASSWORD`, a password in a
 * subscription's `CONNECTION` — kept out of the server's log as far as the session's user may:
 *
 * 1. {@link quietSession} turns off, for the session only, every setting that would log the statement:
 *    `log_statement`, `log_min_duration_statement`, `log_min_duration_sample`, `log_transaction_sample_rate`,
 *    `log_min_error_statement`, `log_parameter_max_length(_on_error)`, pgaudit's `pgaudit.log` /
 *    `pgaudit.log_parameter` when pgaudit is loaded, and `pg_stat_statements.track_utility` when pg_stat_statements
 *    is (it would keep the statement's text). A superuser may set them all; another user those it was
 *    granted (`GRANT SET ON PARAMETER …`, PostgreSQL 15+).
 * 2. {@link runWithSecret} never puts the secret into statement text: it binds it as a parameter of a session-local
 *    PL/pgSQL function (`pg_temp`) that runs the statement with `EXECUTE format(…, secret)`. Statement logging
 *    (`log_statement = ddl / mod`, an error's `STATEMENT:` line) sees `SELECT pg_temp.…($1, $2)` only, and the
 *    function re-raises an error without the statement as its context. Where the function cannot be made (no TEMP
 *    privilege, no PL/pgSQL) the statement runs as a literal, and only step 1 protects it.
 * 3. What can still log the secret, given the settings the session ended with, is {@link logExposures} (pure): the
 *    `credential-exposure` check reports it before anything runs.
 *
 * @example
 * ```ts
 * await quietSession(client);
 * await runWithSecret(client, (password) => `ALTER ROLE ${quoteIdent(role)} PASSWORD ${password}`, verifier);
 * ```
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { quoteLiteral } from './connection.js';
import { registerSecret } from './errors.js';

/** Settings that make the server log statement text, with the value that turns each off. */
export const QUIET_SETTINGS: ReadonlyArray<readonly [name: string, off: string]> = [
  ['log_statement', 'none'],
  ['log_min_duration_statement', '-1'],
  ['log_min_duration_sample', '-1'],
  ['log_transaction_sample_rate', '0'],
  ['log_min_error_statement', 'panic'],
  ['log_parameter_max_length', '0'],
  ['log_parameter_max_length_on_error', '0'],
  ['pgaudit.log', 'none'],
  ['pgaudit.log_parameter', 'off'],
  // Not a log, but the same leak: with track_utility on, pg_stat_statements keeps utility statements' text as sent
  // (PostgreSQL 15 measured: CREATE ROLE … PASSWORD and CREATE / ALTER SUBSCRIPTION … CONNECTION verbatim, and with
  // track = all also the statement the pg_temp function runs).
  ['pg_stat_statements.track_utility', 'off'],
];

/** The statement-logging settings a session sees (null: the server does not have the setting). */
export interface LogSettings {
  readonly logStatement: string;
  readonly logMinDurationStatement: number;
  readonly logMinDurationSample: number | null;
  readonly logStatementSampleRate: number | null;
  readonly logTransactionSampleRate: number | null;
  readonly logMinErrorStatement: string;
  /** -1: bind parameters logged whole (also before 13, which has no setting: null). */
  readonly logParameterMaxLength: number | null;
  /** pgaudit, when it is loaded. */
  readonly pgaudit?: { readonly log: string; readonly logParameter: boolean };
  /** pg_stat_statements, when it is loaded: what it tracks (`top`, `all`, `none`) and whether utility statements. */
  readonly pgStatStatements?: { readonly track: string; readonly trackUtility: boolean };
}

/** Which statement carries the secret: pgaudit redacts role passwords itself, not a subscription's conninfo. */
export type SecretKind = 'role-password' | 'subscription';

/** How the secret reaches the server: bound as a parameter (the pg_temp function), or as a literal. */
export type SecretPath = 'parameter' | 'literal';

const SEVERITIES = [
  'debug5',
  'debug4',
  'debug3',
  'debug2',
  'debug1',
  'info',
  'notice',
  'warning',
  'error',
  'log',
  'fatal',
  'panic',
];

const PGAUDIT_CLASSES = ['read', 'write', 'function', 'role', 'ddl', 'misc', 'misc_set'];

/** Pure: pgaudit's `pgaudit.log` list (`all, -misc`) → the classes it audits. */
export function pgauditClasses(value: string): Set<string> {
  const out = new Set<string>();
  for (const raw of value.split(',')) {
    const item = raw.trim().toLowerCase();
    if (item === '' || item === 'none') continue;
    const minus = item.startsWith('-');
    const name = minus ? item.slice(1).trim() : item;
    for (const cls of name === 'all' ? PGAUDIT_CLASSES : [name]) {
      if (minus) out.delete(cls);
      else out.add(cls);
    }
  }
  return out;
}

/**
 * Pure: the settings (each named with its value, and what it logs) under which a statement carrying a secret of
 * `kind`, sent by `path`, would reach the server's log. Empty: it stays out.
 */
export function logExposures(settings: LogSettings, path: SecretPath, kind: SecretKind): string[] {
  const out: string[] = [];
  // Bound parameters are logged with a logged statement unless log_parameter_max_length = 0 (13+).
  const parametersLogged = settings.logParameterMaxLength !== 0;
  const textLogged = path === 'literal' || parametersLogged;
  const params =
    path === 'parameter'
      ? ` with its parameters (log_parameter_max_length = ${settings.logParameterMaxLength ?? -1})`
      : '';
  if (textLogged) {
    const level = settings.logStatement;
    if (level === 'all' || (path === 'literal' && (level === 'ddl' || level === 'mod')))
      out.push(`log_statement = ${level} logs the statement${params}`);
    if (settings.logMinDurationStatement >= 0)
      out.push(
        `log_min_duration_statement = ${settings.logMinDurationStatement} ms logs statements at least that slow${params}`,
      );
    if (
      settings.logMinDurationSample !== null &&
      settings.logMinDurationSample >= 0 &&
      (settings.logStatementSampleRate ?? 0) > 0
    )
      out.push(`log_min_duration_sample = ${settings.logMinDurationSample} ms logs a sample of statements${params}`);
    if ((settings.logTransactionSampleRate ?? 0) > 0)
      out.push(
        `log_transaction_sample_rate = ${settings.logTransactionSampleRate} logs every statement of a sample of transactions${params}`,
      );
  }
  if (path === 'literal') {
    const rank = SEVERITIES.indexOf(settings.logMinErrorStatement.toLowerCase());
    if (rank >= 0 && rank <= SEVERITIES.indexOf('error'))
      out.push(`log_min_error_statement = ${settings.logMinErrorStatement} logs the statement if it fails`);
  }
  const pgss = settings.pgStatStatements;
  // A utility statement is kept with its text; through the pg_temp function it is a nested one (track = all).
  if (pgss?.trackUtility && (pgss.track === 'all' || (path === 'literal' && pgss.track === 'top')))
    out.push(
      `pg_stat_statements.track_utility = on (track = ${pgss.track}) keeps the statement's text in pg_stat_statements`,
    );
  if (settings.pgaudit) {
    const classes = pgauditClasses(settings.pgaudit.log);
    // pgaudit redacts the password of CREATE / ALTER ROLE, not a subscription's CONNECTION.
    if (kind === 'subscription' && classes.has('ddl'))
      out.push(`pgaudit.log = ${settings.pgaudit.log} audits DDL statements with their text`);
    if (path === 'parameter' && settings.pgaudit.logParameter && (classes.has('read') || classes.has('function')))
      out.push(`pgaudit.log = ${settings.pgaudit.log} with pgaudit.log_parameter = on audits the call's parameters`);
  }
  return out;
}

/** Reads the statement-logging settings of the session. */
export async function readLogSettings(client: pg.Client): Promise<LogSettings> {
  const { rows } = await client.query<{ name: string; setting: string }>(
    `SELECT name, setting FROM pg_catalog.pg_settings WHERE name = ANY($1::text[])`,
    [[...QUIET_SETTINGS.map(([name]) => name), 'log_statement_sample_rate', 'pg_stat_statements.track']],
  );
  const get = (name: string) => rows.find((r) => r.name === name)?.setting;
  const num = (name: string) => {
    const value = get(name);
    return value === undefined ? null : Number(value);
  };
  const pgauditLog = get('pgaudit.log');
  const pgssTrack = get('pg_stat_statements.track');
  return {
    logStatement: get('log_statement') ?? 'none',
    logMinDurationStatement: num('log_min_duration_statement') ?? -1,
    logMinDurationSample: num('log_min_duration_sample'),
    logStatementSampleRate: num('log_statement_sample_rate'),
    logTransactionSampleRate: num('log_transaction_sample_rate'),
    logMinErrorStatement: get('log_min_error_statement') ?? 'error',
    logParameterMaxLength: num('log_parameter_max_length'),
    ...(pgauditLog !== undefined
      ? { pgaudit: { log: pgauditLog, logParameter: get('pgaudit.log_parameter') === 'on' } }
      : {}),
    ...(pgssTrack !== undefined
      ? {
          pgStatStatements: {
            track: pgssTrack,
            trackUtility: get('pg_stat_statements.track_utility') === 'on',
          },
        }
      : {}),
  };
}

/** What {@link quietSession} left: the session's settings afterwards, and those it was not allowed to set. */
export interface QuietOutcome {
  readonly settings: LogSettings;
  readonly notAllowed: readonly string[];
}

/**
 * Turns statement logging off for this session, setting by setting, as far as the user may (see the module
 * comment). Only settings the server has are touched (an unknown `pgaudit.*` would become a placeholder).
 */
export async function quietSession(client: pg.Client): Promise<QuietOutcome> {
  const { rows } = await client.query<{ name: string }>(
    'SELECT name FROM pg_catalog.pg_settings WHERE name = ANY($1::text[])',
    [QUIET_SETTINGS.map(([name]) => name)],
  );
  const present = new Set(rows.map((r) => r.name));
  const notAllowed: string[] = [];
  for (const [name, off] of QUIET_SETTINGS) {
    if (!present.has(name)) continue;
    try {
      await client.query('SELECT pg_catalog.set_config($1, $2, false)', [name, off]);
    } catch (err) {
      if ((err as { code?: string }).code !== '42501') throw err;
      notAllowed.push(name);
    }
  }
  return { settings: await readLogSettings(client), notAllowed };
}

/** Whether this session may make the pg_temp function of {@link runWithSecret}: TEMP on the database, PL/pgSQL. */
export async function secretFunctionAvailable(client: pg.Client): Promise<boolean> {
  const { rows } = await client.query<{ ok: boolean }>(
    `SELECT pg_catalog.has_database_privilege(current_user, pg_catalog.current_database(), 'TEMP')
        AND EXISTS (SELECT 1 FROM pg_catalog.pg_language l
                     WHERE l.lanname = 'plpgsql' AND pg_catalog.has_language_privilege(current_user, l.oid, 'USAGE')) AS ok`,
  );
  return rows[0]?.ok === true;
}

const FUNCTION = 'pg_temp.pg_migrate_run_with_secret';

/** The session-local function: runs `format(template, secret)`; an error is re-raised without the statement. */
export const SECRET_FUNCTION_SQL = `CREATE OR REPLACE FUNCTION ${FUNCTION}(template text, secret text) RETURNS void
LANGUAGE plpgsql AS $body$
DECLARE
  state text;
  msg text;
  detail text;
BEGIN
  EXECUTE pg_catalog.format(template, secret);
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL;
  IF detail <> '' THEN
    RAISE EXCEPTION USING ERRCODE = state, MESSAGE = msg, DETAIL = detail;
  END IF;
  RAISE EXCEPTION USING ERRCODE = state, MESSAGE = msg;
END
$body$`;

const ready = new WeakMap<pg.Client, boolean>();

/**
 * Pure: a `format()` template from a statement built around a marker: `%` outside the marker doubled, the marker
 * replaced by `%L` (the secret, quoted as a literal by format()).
 */
export function secretTemplate(statement: string, marker: string): string {
  const parts = statement.split(marker);
  if (parts.length !== 2) throw new Error('a secret statement must contain the secret exactly once');
  return parts.map((p) => p.replace(/%/g, '%%')).join('%L');
}

/**
 * Runs the statement `build(literal)` with `secret` in place of `literal`, keeping the secret out of the statement
 * text where the session may (see the module comment). Returns how the secret was sent.
 */
export async function runWithSecret(
  client: pg.Client,
  build: (literal: string) => string,
  secret: string,
): Promise<SecretPath> {
  registerSecret(secret);
  let available = ready.get(client);
  if (available === undefined) {
    available = await secretFunctionAvailable(client);
    if (available) {
      try {
        await client.query(SECRET_FUNCTION_SQL);
      } catch {
        available = false;
      }
    }
    ready.set(client, available);
  }
  if (!available) {
    await client.query(build(quoteLiteral(secret)));
    return 'literal';
  }
  const marker = `\u0001${randomUUID()}\u0001`;
  await client.query(`SELECT ${FUNCTION}($1, $2)`, [secretTemplate(build(marker), marker), secret]);
  return 'parameter';
}
