/**
 * The report: what every action returns (CLI `--json FILE`, the state machine's output).
 * It never holds a credential: servers are described by host, port and version only.
 */
import type { Warning } from './warnings.js';

export type { Warning, WarningKind } from './warnings.js';

export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';

/** One finding of a pre-check. A failed check is data, not an exception. */
export interface CheckResult {
  /** The check id, part of the report contract (see core/checks/ids.ts). */
  readonly id: string;
  readonly status: CheckStatus;
  /** The database the finding is about, when it is about one. */
  readonly database?: string;
  readonly message: string;
  /** What the user can do about it; empty when nothing is needed. */
  readonly remedy: string;
  /** Machine-readable facts behind the finding (sizes, versions, names), for the plan and for people. */
  readonly details?: Readonly<Record<string, unknown>>;
}

export type Method = 'dump' | 'replication';

export type RoleStatus = 'created' | 'exists' | 'skipped' | 'failed';

export interface RoleResult {
  readonly name: string;
  readonly status: RoleStatus;
  readonly message: string;
  /** What was degraded for this role (an attribute not granted, a placeholder password, …). */
  readonly warnings?: readonly Warning[];
}

export type DatabaseStatus = 'done' | 'replicating' | 'failed' | 'skipped';

export interface TableResult {
  /** Qualified, quoted-as-needed name, e.g. `public.orders`. */
  readonly name: string;
  readonly sourceRows: number;
  readonly targetRows: number;
  readonly bytes: number;
  readonly durationMs: number;
  readonly sourceChecksum?: string;
  readonly targetChecksum?: string;
  readonly ok: boolean;
}

export interface DatabaseResult {
  readonly name: string;
  readonly method: Method;
  readonly status: DatabaseStatus;
  readonly tables: number;
  readonly rows: number;
  readonly bytes: number;
  readonly durationMs: number;
  /** Replication lag in bytes (replication method), 0 otherwise. */
  readonly lagBytes: number;
  readonly message: string;
  /**
   * Per-table verification, when the step verified. In the workflow's state (and an AWS execution's output) only
   * the mismatching tables, with `verifiedTables` counting all; the full list is in the report store.
   */
  readonly verification?: readonly TableResult[];
  /** How many tables were verified (when `verification` holds only the mismatches). */
  readonly verifiedTables?: number;
  /** Where the full result is (a report store key), when the state carries a compact one. */
  readonly detail?: string;
  /** Error name (see core/errors.ts) when status is `failed`. */
  readonly error?: string;
  /** What was degraded in this database (owners, grants, locale, settings); see core/warnings.ts. */
  readonly warnings?: readonly Warning[];
  /** The pg_dump / pg_restore the step ran, version and directory (core/pgtools-locate.ts chooses the target's major). */
  readonly pgTools?: string;
}

export interface ServerInfo {
  readonly host: string;
  readonly port: number;
  readonly version: string;
}

export type Action = 'check' | 'migrate' | 'status' | 'cutover' | 'abort';

/**
 * A step of the run that failed outside the per-database steps (a workflow state such as `Plan`, or the sync wait),
 * after which the run went straight to its report. `name` is the error name (core/errors.ts, or a `States.*` name).
 */
export interface RunError {
  /** The workflow state that failed, e.g. `ResolveRequest`, `PreChecks`, `WaitForSync`. */
  readonly state: string;
  readonly name: string;
  readonly message: string;
}

export interface Report {
  readonly ok: boolean;
  readonly action: Action;
  readonly durationMs: number;
  readonly source?: ServerInfo;
  readonly target?: ServerInfo;
  readonly checks: readonly CheckResult[];
  readonly roles: readonly RoleResult[];
  readonly databases: readonly DatabaseResult[];
  /** Run-level warnings, not about one database (the roles step's), each naming its role. */
  readonly warnings: readonly RunWarning[];
  /** Why the run stopped early, when a step outside the databases failed (`ok` is then false). */
  readonly error?: RunError;
  /** Where the full report is (every check, every table): `s3://bucket/key` on AWS, `file://…` locally. */
  readonly reportUri?: string;
}

/** A warning of the run (not of one database). */
export interface RunWarning extends Warning {
  /** The role it is about, when it is about one. */
  readonly role?: string;
}
