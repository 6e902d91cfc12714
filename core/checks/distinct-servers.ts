/**
 * `distinct-servers`: source and target are not the same server. Host strings prove nothing (`localhost`,
 * `127.0.0.1`, a DNS alias, a proxy), so the check asks the servers: a session opened on the source under a random
 * application_name is looked for in the target's pg_stat_activity (visible to any user), and the system
 * identifier, data directory, port and start time are compared where the user may read them.
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { withClient } from '../connection.js';
import type { CheckResult } from '../report.js';
import { defineCheck, result } from './check.js';
import { sessionOptions, withCheckSession } from './facts.js';

export interface ServerIdentity {
  /** pg_control_system().system_identifier, when readable. */
  readonly systemIdentifier?: string;
  /** data_directory, when readable (superuser, pg_read_all_settings). */
  readonly dataDirectory?: string;
  readonly port: number;
  readonly startTime: string;
}

export interface DistinctServersFacts {
  readonly source: ServerIdentity;
  readonly target: ServerIdentity;
  /** Whether the target saw the source's probe session. */
  readonly probeSeenOnTarget: boolean;
}

async function readIdentity(client: pg.Client): Promise<ServerIdentity> {
  const { rows } = await client.query<{ port: string; start: string; dir: string | null }>(
    `SELECT current_setting('port') AS port, pg_catalog.pg_postmaster_start_time()::text AS start,
            (SELECT setting FROM pg_catalog.pg_settings WHERE name = 'data_directory') AS dir`,
  );
  let systemIdentifier: string | undefined;
  try {
    const sys = await client.query<{ id: string }>(
      'SELECT system_identifier::text AS id FROM pg_catalog.pg_control_system()',
    );
    systemIdentifier = sys.rows[0]?.id;
  } catch {
    // EXECUTE may be revoked (some clouds): the probe session decides alone.
  }
  const row = rows[0]!;
  return {
    ...(systemIdentifier !== undefined ? { systemIdentifier } : {}),
    ...(row.dir !== null ? { dataDirectory: row.dir } : {}),
    port: Number(row.port),
    startTime: row.start,
  };
}

export function evaluateDistinctServers(facts: DistinctServersFacts): CheckResult[] {
  const { source, target } = facts;
  const details = { source, target, probeSeenOnTarget: facts.probeSeenOnTarget };
  const sameId = source.systemIdentifier !== undefined && source.systemIdentifier === target.systemIdentifier;
  const sameInstance =
    sameId &&
    source.port === target.port &&
    source.startTime === target.startTime &&
    (source.dataDirectory === undefined ||
      target.dataDirectory === undefined ||
      source.dataDirectory === target.dataDirectory);
  if (facts.probeSeenOnTarget || sameInstance) {
    return [
      result(
        'distinct-servers',
        'fail',
        'source and target are the same server: a session opened on the source is visible on the target',
        {
          remedy:
            'point --target at a different server (host names such as localhost and 127.0.0.1 can name the same one)',
          details,
        },
      ),
    ];
  }
  if (sameId) {
    return [
      result(
        'distinct-servers',
        'warn',
        `source and target share the system identifier ${source.systemIdentifier ?? ''}: the target is a physical copy or standby of the source`,
        { remedy: 'make sure the target is a writable primary, not a standby of the source', details },
      ),
    ];
  }
  return [result('distinct-servers', 'pass', 'source and target are different servers', { details })];
}

export const distinctServersCheck = defineCheck<DistinctServersFacts>({
  id: 'distinct-servers',
  async collect(ctx, request) {
    const token = `pg-migrate-probe-${randomBytes(8).toString('hex')}`;
    return withClient(
      ctx.source,
      ctx.source.database,
      async (sourceClient) => {
        const source = await readIdentity(sourceClient);
        const pid = (await sourceClient.query<{ pid: number }>('SELECT pg_catalog.pg_backend_pid() AS pid')).rows[0]!
          .pid;
        return withCheckSession(ctx.target, ctx.target.database, request, async (targetClient) => {
          const target = await readIdentity(targetClient);
          const seen = await targetClient.query<{ n: number }>(
            'SELECT count(*)::int AS n FROM pg_catalog.pg_stat_activity WHERE application_name = $1 AND pid = $2',
            [token, pid],
          );
          return { source, target, probeSeenOnTarget: (seen.rows[0]?.n ?? 0) > 0 };
        });
      },
      { ...sessionOptions(request), applicationName: token },
    );
  },
  evaluate: evaluateDistinctServers,
});
