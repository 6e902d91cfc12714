/**
 * AWS's payload limits, which the local interpreter does not enforce by itself: the local runner checks them so that
 * a run that would break them on AWS breaks locally too, the same way. Pure.
 *
 * - Step Functions: 256 KiB (UTF-8 bytes) of input and of output for every state, Map iterations included; a state
 *   over it fails the execution with `States.DataLimitExceeded`, which no Catch can catch.
 * - ECS RunTask: 8,192 characters of container overrides (JSON formatting included): RunTask is rejected with
 *   `InvalidParameterException`, which the state sees as `ECS.InvalidParameterException` (a Catch can catch it).
 * - Step Functions: 32,768 characters of an execution's failure cause (a Fail state's `Cause` / `CausePath`).
 *
 * @example
 * ```ts
 * const violation = stateDataViolation('Report', 'input', input);
 * if (violation) throw new LimitExceeded(violation);
 * ```
 */

export const AWS_LIMITS = {
  /** Bytes of a state's input or output. */
  stateBytes: 256 * 1024,
  /** Characters of one RunTask call's container overrides. */
  containerOverrideChars: 8192,
  /** Characters of an execution's failure cause. */
  causeChars: 32_768,
} as const;

/** The error Step Functions fails an execution with when a state's data is too large (not catchable). */
export const DATA_LIMIT_EXCEEDED = 'States.DataLimitExceeded';
/** The error a RunTask state gets when ECS rejects its parameters. */
export const ECS_INVALID_PARAMETER = 'ECS.InvalidParameterException';

/** A limit broken: `name` is the error Step Functions would report, the message its cause. */
export class LimitExceeded extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/** UTF-8 bytes of a value as JSON (what Step Functions measures). */
export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? 'null', 'utf8');
}

/** The violation of the state data limit by a state's input or output, or undefined. */
export function stateDataViolation(
  state: string,
  kind: 'input' | 'output',
  value: unknown,
  limit = AWS_LIMITS.stateBytes,
): LimitExceeded | undefined {
  const bytes = jsonBytes(value);
  if (bytes <= limit) return undefined;
  return new LimitExceeded(
    DATA_LIMIT_EXCEEDED,
    `the ${kind} of state ${state} is ${bytes} bytes, over the ${limit}-byte limit of Step Functions`,
  );
}

/** The violation of ECS's container override limit by a RunTask state's resolved Parameters, or undefined. */
export function containerOverridesViolation(
  parameters: unknown,
  limit = AWS_LIMITS.containerOverrideChars,
): LimitExceeded | undefined {
  const overrides = (parameters as { Overrides?: { ContainerOverrides?: unknown } } | null)?.Overrides
    ?.ContainerOverrides;
  if (overrides === undefined) return undefined;
  const chars = JSON.stringify(overrides).length;
  if (chars <= limit) return undefined;
  return new LimitExceeded(
    ECS_INVALID_PARAMETER,
    `Container Overrides length must be at most ${limit} (it is ${chars})`,
  );
}

/** The violation of the failure cause limit, or undefined. */
export function causeViolation(cause: string, limit = AWS_LIMITS.causeChars): LimitExceeded | undefined {
  if (cause.length <= limit) return undefined;
  return new LimitExceeded(
    DATA_LIMIT_EXCEEDED,
    `the execution's failure cause is ${cause.length} characters, over the ${limit}-character limit of Step Functions`,
  );
}
