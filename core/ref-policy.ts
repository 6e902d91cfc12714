/**
 * What a deployment lets a request name (pure; the environment variables are the contract between the construct
 * and the functions), checked by `ResolveRequest` before anything is logged or passed on: a
 * plain `{ uri }` (credentials in the execution input) only where the deployment allows plain URIs, and a
 * `{ secretArn }` only when it is one of the stack's secrets or matches its `allowedSecretArns` (the construct
 * passes them in {@link ALLOWED_SECRET_ARNS_ENV}). Any other secret would fail later anyway (the roles may not read
 * it); failing here says why, once, and keeps a mistaken request from travelling through every state.
 *
 * @example
 * ```ts
 * const problems = requestRefProblems(event, process.env); // [] or the reasons
 * ```
 */

/** Comma-separated ARN patterns (IAM style: `*` any characters, `?` one) a request may name. */
export const ALLOWED_SECRET_ARNS_ENV = 'PG_MIGRATE_ALLOWED_SECRET_ARNS';
/** `true` where the deployment accepts `{ uri }` references (the construct's `allowPlainUris`). */
export const ALLOW_PLAIN_URIS_ENV = 'PG_MIGRATE_ALLOW_PLAIN_URIS';

/** Pure: whether `arn` matches an IAM-style pattern (`*` any run of characters, `?` exactly one). */
export function arnMatches(pattern: string, arn: string): boolean {
  const source = pattern
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\/]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`).test(arn);
}

/** Pure: the allowed patterns from the environment; undefined when the deployment sets none (local runs). */
export function allowedSecretArns(env: Readonly<Record<string, string | undefined>>): string[] | undefined {
  const text = env[ALLOWED_SECRET_ARNS_ENV];
  if (text === undefined) return undefined;
  return text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
}

function refOf(event: unknown, side: 'source' | 'target'): Record<string, unknown> | undefined {
  if (typeof event !== 'object' || event === null) return undefined;
  const ref = (event as Record<string, unknown>)[side];
  return typeof ref === 'object' && ref !== null ? (ref as Record<string, unknown>) : undefined;
}

/**
 * Pure: why the raw request's connection references are not acceptable here (every problem, none naming a value
 * but the ARN). Looks at the raw event, so a request that is wrong in other ways is still refused for its URI.
 */
export function requestRefProblems(event: unknown, env: Readonly<Record<string, string | undefined>>): string[] {
  const problems: string[] = [];
  const allowed = allowedSecretArns(env);
  for (const side of ['source', 'target'] as const) {
    const ref = refOf(event, side);
    if (!ref) continue;
    if ('uri' in ref && env[ALLOW_PLAIN_URIS_ENV] !== 'true')
      problems.push(
        `${side}: plain URIs are not allowed in this deployment (the password would be in the execution history and logs); store the connection in Secrets Manager and pass { "secretArn": "arn:aws:secretsmanager:…" }`,
      );
    const arn = ref.secretArn;
    if (typeof arn === 'string' && allowed !== undefined && !allowed.some((p) => arnMatches(p, arn)))
      problems.push(
        `${side}: secret ${arn} is not one this deployment may read; use ${allowed.length > 0 ? `one matching ${allowed.slice(0, 5).join(', ')}${allowed.length > 5 ? ' …' : ''}` : 'the stack’s source or target secret'}, or add it to the stack's allowedSecretArns`,
      );
  }
  return problems;
}
