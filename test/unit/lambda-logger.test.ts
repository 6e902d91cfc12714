/**
 * The Powertools adapter and the RunContext the Lambdas and the task hand to core.
 */
import type { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { describe, expect, it } from 'vitest';
import type { Logger } from '../../core/logger.js';
import { createRunContext } from '../../lambdas/shared/context.js';
import { fromPowertools, progressToLogger } from '../../lambdas/shared/logger.js';

type Line = { level: string; message: string; fields: Record<string, unknown> };

function recorder(): { readonly lines: Line[]; readonly logger: Logger } {
  const lines: Line[] = [];
  const at =
    (level: string) =>
    (message: string, fields: Record<string, unknown> = {}) =>
      lines.push({ level, message, fields });
  return { lines, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}

describe('fromPowertools', () => {
  it('scrubs credentials from messages and string fields before Powertools sees them', () => {
    const seen: unknown[][] = [];
    const fake = { info: (...args: unknown[]) => seen.push(args) } as unknown as PowertoolsLogger;
    fromPowertools(fake).info('connect postgres://app:hunter22@db/shop failed', {
      detail: 'password=hunter22 host=db',
      rows: 3,
    });
    expect(seen).toEqual([['connect postgres://app:***@db/shop failed', { detail: 'password=*** host=db', rows: 3 }]]);
  });
});

describe('progressToLogger', () => {
  it('logs phases and finished tables at info, table progress at debug', () => {
    const { lines, logger } = recorder();
    const progress = progressToLogger(logger);
    progress({ kind: 'phase', database: 'shop', phase: 'copy' });
    progress({ kind: 'table', database: 'shop', table: 'public.orders', rows: 10, bytes: 100, done: false });
    progress({ kind: 'table', database: 'shop', table: 'public.orders', rows: 20, bytes: 200, done: true });
    expect(lines.map((l) => [l.level, l.message])).toEqual([
      ['info', 'phase copy'],
      ['debug', 'table public.orders progress'],
      ['info', 'table public.orders copied'],
    ]);
    expect(lines[0]?.fields).toEqual({ phase: 'copy', database: 'shop' });
  });
});

describe('createRunContext', () => {
  it('resolves both servers from the request and wires the logger', async () => {
    const { logger } = recorder();
    const context = await createRunContext({ source: { env: 'SRC' }, target: { env: 'TGT' } }, logger, {
      env: { SRC: 'postgres://a@src/db1', TGT: 'postgres://b@tgt/db2', PGSSLMODE: 'require' },
    });
    expect(context.source).toMatchObject({ host: 'src', user: 'a', database: 'db1', sslmode: 'require' });
    expect(context.target).toMatchObject({ host: 'tgt', user: 'b', database: 'db2' });
    expect(context.logger).toBe(logger);
    expect(context.signal).toBeUndefined();
  });
});
