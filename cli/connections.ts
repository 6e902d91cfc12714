/**
 * The local CLI's servers: validated up front with {@link parseConnectionString} (a garbage URI is bad input,
 * exit code 2, and its password is registered for scrubbing before anything is printed), then handed on through
 * the environment (`PG_MIGRATE_SOURCE` / `PG_MIGRATE_TARGET`) so that no credential enters the execution input.
 */
import { type ConnectionSpec, parseConnectionString } from '../core/connection.js';
import { InputError } from '../core/errors.js';
import { SOURCE_ENV, TARGET_ENV } from './args.js';

export interface Servers {
  readonly source: ConnectionSpec;
  readonly target: ConnectionSpec;
}

/**
 * Validates both connection strings (every problem at once) and exports them to `env` for the in-process
 * handlers and the task child processes.
 */
export function prepareServers(
  strings: { readonly source?: string; readonly target?: string },
  env: Record<string, string | undefined> = process.env,
): Servers {
  const problems: string[] = [];
  const parse = (text: string | undefined, label: 'source' | 'target'): ConnectionSpec | undefined => {
    if (text === undefined) {
      problems.push(`${label}: no connection string given`);
      return undefined;
    }
    try {
      return parseConnectionString(text, label);
    } catch (err) {
      if (err instanceof InputError) problems.push(...err.problems);
      else throw err;
      return undefined;
    }
  };
  const source = parse(strings.source, 'source');
  const target = parse(strings.target, 'target');
  if (!source || !target || problems.length > 0) throw new InputError(problems);
  env[SOURCE_ENV] = strings.source;
  env[TARGET_ENV] = strings.target;
  return { source, target };
}
