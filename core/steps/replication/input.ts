/**
 * Parsing the JSON the workflow hands to the replication handlers (databases, results, a Catch's error): untrusted
 * until parsed, once, at the edge. Unknown fields of results pass through untouched.
 */
import { z } from 'zod';
import { InputError } from '../../errors.js';
import type { PlannedDatabase } from '../../plan.js';
import type { DatabaseResult } from '../../report.js';
import type { CaughtError } from './abort.js';
import type { DatabaseRef } from './status.js';

const method = z.enum(['dump', 'replication']);
const status = z.enum(['done', 'replicating', 'failed', 'skipped']);

const PlannedDatabaseSchema = z.looseObject({
  name: z.string().min(1).max(63),
  method,
  reasons: z.array(z.string()).default([]),
  replicaIdentityFull: z.array(z.string()).default([]),
  targetExists: z.boolean().default(true),
});

const DatabaseRefSchema = z.looseObject({ name: z.string().min(1).max(63), method, status: status.optional() });

const DatabaseResultSchema = z.looseObject({
  name: z.string().min(1).max(63),
  method,
  status,
  tables: z.number(),
  rows: z.number(),
  bytes: z.number(),
  durationMs: z.number(),
  lagBytes: z.number(),
  message: z.string(),
});

const CaughtErrorSchema = z.looseObject({ Error: z.string().optional(), Cause: z.string().optional() });

function parse<T>(schema: z.ZodType<T>, value: unknown, label: string): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new InputError(result.error.issues.map((i) => `${[label, ...i.path].join('.')}: ${i.message}`));
  }
  return result.data;
}

export function parsePlannedDatabase(value: unknown, label = 'database'): PlannedDatabase {
  return parse(PlannedDatabaseSchema, value, label);
}

export function parseDatabaseRefs(value: unknown, label = 'databases'): DatabaseRef[] {
  return parse(z.array(DatabaseRefSchema), value, label);
}

export function parseDatabaseResults(value: unknown, label = 'databases'): DatabaseResult[] {
  return parse(z.array(DatabaseResultSchema), value, label);
}

export function parseCaughtError(value: unknown, label = 'error'): CaughtError {
  return parse(CaughtErrorSchema, value ?? {}, label);
}
