/**
 * What every AWS SDK client of the functions and the task is built with: short connect and request timeouts, so a
 * missing route (no NAT gateway, no VPC endpoint) fails in seconds with a clear message instead of hanging until the
 * function or the state times out.
 *
 * @example
 * ```ts
 * const client = new SecretsManagerClient(AWS_CLIENT_CONFIG);
 * ```
 */

/** Milliseconds to establish a connection to an AWS endpoint. */
export const AWS_CONNECT_TIMEOUT_MS = 3_000;
/** Milliseconds to wait for an AWS API's answer once connected. */
export const AWS_REQUEST_TIMEOUT_MS = 20_000;

/** Client configuration shared by every SDK client (spread it into the constructor's options). */
export const AWS_CLIENT_CONFIG = {
  requestHandler: { connectionTimeout: AWS_CONNECT_TIMEOUT_MS, requestTimeout: AWS_REQUEST_TIMEOUT_MS },
  maxAttempts: 3,
} as const;

/** SDK error names that mean the endpoint could not be reached or did not answer in time. */
const UNREACHABLE = new Set(['TimeoutError', 'RequestTimeout', 'ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT']);

/** True when an SDK error means the service's endpoint was not reachable from here. */
export function isUnreachable(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const { name, code } = err as { name?: unknown; code?: unknown };
  return (typeof name === 'string' && UNREACHABLE.has(name)) || (typeof code === 'string' && UNREACHABLE.has(code));
}

/** The sentence that says what to fix when `service` (e.g. `secretsmanager`) cannot be reached. */
export function unreachableHint(service: string): string {
  return `${service} did not answer within ${AWS_CONNECT_TIMEOUT_MS / 1000} s to connect / ${AWS_REQUEST_TIMEOUT_MS / 1000} s to respond: the subnets need a route to it (a NAT gateway, or the ${service} VPC endpoint; see docs/OPERATIONS.md)`;
}
