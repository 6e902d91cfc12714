/**
 * The engine alone: one database migrated by `migrateByDump` or `migrateByReplication` (until in sync) in this
 * process, without the CLI, the state machine or the pre-checks. `npm run bench` bundles this file first, so no
 * TypeScript is compiled while it is timed. Prints one JSON line: status, counts, `seconds` (the engine call) and
 * `maxRssBytes`; phase timings go to stderr.
 * Env: BENCH_SOURCE, BENCH_TARGET (URIs), BENCH_DB, BENCH_JOBS, BENCH_METHOD (dump | replication).
 */
import { parseConnectionString } from '../core/connection.js';
import { type ProgressEvent, silentLogger } from '../core/logger.js';
import { parseRequest } from '../core/request.js';
import { migrateByDump } from '../core/steps/dump.js';
import { migrateByReplication } from '../core/steps/replication/index.js';

const started = process.hrtime.bigint();
const elapsed = () => Number(process.hrtime.bigint() - started) / 1e9;
const database = process.env.BENCH_DB ?? 'bench';
const method = process.env.BENCH_METHOD === 'replication' ? 'replication' : 'dump';
const ctx = {
  source: parseConnectionString(process.env.BENCH_SOURCE ?? '', 'source'),
  target: parseConnectionString(process.env.BENCH_TARGET ?? '', 'target'),
  logger: silentLogger,
  progress: (event: ProgressEvent) => {
    if (event.kind === 'phase') console.error(`${elapsed().toFixed(2)}s ${event.phase}`);
  },
};
const request = parseRequest({
  action: 'migrate',
  source: { env: 'BENCH_SOURCE' },
  target: { env: 'BENCH_TARGET' },
  method,
  jobs: Number(process.env.BENCH_JOBS ?? 2),
  checksums: false,
  replicaIdentityFull: true,
  timeoutSeconds: 3600,
});
const planned = { name: database, method, reasons: [], replicaIdentityFull: [], targetExists: false } as const;
const result =
  method === 'dump' ? await migrateByDump(ctx, request, planned) : await migrateByReplication(ctx, request, planned);
console.log(
  JSON.stringify({
    status: result.status,
    tables: result.tables,
    rows: result.rows,
    seconds: elapsed(),
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    message: result.message,
  }),
);
process.exit(0);
