/**
 * Warnings: what a run degraded (an owner replaced, a grant not applied, a locale fallback, …). A degradation is
 * never only logged: it becomes a {@link Warning} on the database's result (or on the role's, for run-level ones),
 * and `migrate` ends with `ok: false` (exit code 1) unless the user consented to its kind up front
 * (`request.accept`, CLI `--accept owner,grant`).
 *
 * @example
 * ```ts
 * const warnings = new WarningList(ctx.logger, { database: 'shop' });
 * warnings.add('owner', 'public.orders: owner app_owner cannot be set on the target; the target user owns it');
 * return { ...result, warnings: warnings.list() };
 * ```
 */
import type { Logger } from './logger.js';

/**
 * The kinds of degradation, part of the report and request contract (`accept` takes these names):
 * - `owner`: an object (or the database) is owned by another role on the target than on the source;
 * - `grant`: a privilege of the source is not on the target (a grantee is missing, a GRANT failed);
 * - `locale`: the database was created with another locale or locale provider than the source's;
 * - `setting`: a database or role setting (`ALTER … SET`, connection limit, comment) was not applied;
 * - `role-attribute`: a role was created without an attribute it has on the source (CREATEDB, REPLICATION, …);
 * - `placeholder-password`: a login role got a random password instead of the source's (must be reset);
 * - `membership`: a role membership of the source was not granted on the target;
 * - `role`: a role of the source could not be created on the target;
 * - `subscription-login`: the subscription logs in to the source with the source user's own credentials (no
 *   per-run role: core/steps/replication/login.ts).
 */
export const WARNING_KINDS = [
  'owner',
  'grant',
  'locale',
  'setting',
  'role-attribute',
  'placeholder-password',
  'membership',
  'role',
  'subscription-login',
] as const;

export type WarningKind = (typeof WARNING_KINDS)[number];

/** One degradation. `accepted` is filled by the report: true when the request consented to its kind. */
export interface Warning {
  readonly kind: WarningKind;
  readonly message: string;
  readonly accepted?: boolean;
}

/** Whether a value names a warning kind. */
export function isWarningKind(value: unknown): value is WarningKind {
  return typeof value === 'string' && (WARNING_KINDS as readonly string[]).includes(value);
}

/** Collects the warnings of one database (or of the roles step), logging each as it is added. */
export class WarningList {
  private readonly items: Warning[] = [];

  constructor(
    private readonly logger?: Logger,
    private readonly fields: Record<string, unknown> = {},
  ) {}

  add(kind: WarningKind, message: string): void {
    if (this.items.some((w) => w.kind === kind && w.message === message)) return;
    this.items.push({ kind, message });
    this.logger?.warn(message, { ...this.fields, warning: kind });
  }

  /** Adds warnings from elsewhere (an earlier run, the workflow's state): entries that are not warnings are ignored. */
  addAll(warnings: readonly unknown[] | undefined): void {
    for (const w of warnings ?? []) {
      const { kind, message } = (w ?? {}) as { kind?: unknown; message?: unknown };
      if (isWarningKind(kind) && typeof message === 'string') this.add(kind, message);
    }
  }

  list(): Warning[] {
    return [...this.items];
  }
}

/** The warnings with `accepted` set from the consented kinds. */
export function withConsent(warnings: readonly Warning[] | undefined, accept: readonly string[]): Warning[] {
  return (warnings ?? []).map((w) => ({ kind: w.kind, message: w.message, accepted: accept.includes(w.kind) }));
}

/** Names and lists a few items for a warning message: `a, b, c and 7 more`. */
export function listSome(items: readonly string[], max = 10): string {
  if (items.length <= max) return items.join(', ');
  return `${items.slice(0, max).join(', ')} and ${items.length - max} more`;
}
