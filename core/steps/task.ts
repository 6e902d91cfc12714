/**
 * What the Fargate task runs: one database, in one mode. `tasks/main.ts` parses `TASK_INPUT` into a
 * {@link TaskInput} and calls {@link runTask}.
 */
import type { RunContext } from '../context.js';
import { PermanentError } from '../errors.js';
import type { PlannedDatabase } from '../plan.js';
import type { DatabaseResult } from '../report.js';
import type { Request } from '../request.js';
import { migrateByDump } from './dump.js';
import { cutoverDatabase, migrateByReplication } from './replication/index.js';

/** The task's input (`TASK_INPUT`, JSON). */
export type TaskInput = { mode: 'migrate' | 'cutover'; request: Request; database: PlannedDatabase };

/** Dispatches a task input to its step. */
export async function runTask(ctx: RunContext, input: TaskInput): Promise<DatabaseResult> {
  if (input.mode === 'migrate' && input.database.method === 'dump')
    return migrateByDump(ctx, input.request, input.database);
  if (input.mode === 'migrate' && input.database.method === 'replication')
    return migrateByReplication(ctx, input.request, input.database);
  if (input.mode === 'cutover') return cutoverDatabase(ctx, input.request, input.database);
  throw new PermanentError(`unknown task input: mode ${String(input.mode)}, method ${String(input.database.method)}`);
}
