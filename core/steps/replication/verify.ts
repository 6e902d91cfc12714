/**
 * The workflow's Verify state: row counts for databases that are `done` (must match), and for those still
 * `replicating` as information only (writes continue, so counts may differ). Other results pass through.
 */
import type { RunContext } from '../../context.js';
import { classify, describeError } from '../../errors.js';
import type { PlannedDatabase } from '../../plan.js';
import type { DatabaseResult } from '../../report.js';
import type { Request } from '../../request.js';
import { type ReplicationSteps, resolveSteps } from './steps.js';

function planned(result: DatabaseResult): PlannedDatabase {
  return { name: result.name, method: result.method, reasons: [], replicaIdentityFull: [], targetExists: true };
}

/** Verifies each database result as its status allows; never throws for one database's failure. */
export async function verifyDatabases(
  ctx: RunContext,
  request: Request,
  databases: readonly DatabaseResult[],
  options: { readonly steps?: Partial<ReplicationSteps> } = {},
): Promise<DatabaseResult[]> {
  const steps = resolveSteps(options.steps);
  const out: DatabaseResult[] = [];
  for (const database of databases) {
    if (database.status !== 'done' && database.status !== 'replicating') {
      out.push(database);
      continue;
    }
    try {
      const verification = await steps.verifyTables(ctx, request, planned(database));
      const bad = verification.filter((t) => !t.ok);
      if (database.status === 'replicating') {
        out.push({
          ...database,
          verification,
          message: `${database.message}; row counts (information only, writes continue): ${verification.length - bad.length}/${verification.length} tables equal`,
        });
      } else {
        out.push({
          ...database,
          verification,
          ...(bad.length > 0
            ? {
                status: 'failed' as const,
                error: 'PgMigrate.VerifyMismatch',
                message: `${database.message}; verification: ${bad.length} table(s) differ: ${bad.map((t) => t.name).join(', ')}`,
              }
            : {}),
        });
      }
    } catch (err) {
      const error = classify(err, `verification of ${JSON.stringify(database.name)}`);
      out.push(
        database.status === 'replicating'
          ? { ...database, message: `${database.message}; verification skipped: ${describeError(error)}` }
          : { ...database, status: 'failed', error: error.name, message: describeError(error) },
      );
    }
  }
  return out;
}
