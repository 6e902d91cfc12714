/**
 * Runs pg-migrate's dump engine for one database in its own process (so that its peak RSS is measured alone) and
 * prints one JSON line: the DatabaseResult summary and `maxRssBytes`.
 * Env: BENCH_SOURCE, BENCH_TARGET (URIs), BENCH_DB, BENCH_JOBS.
 */
import { parseConnectionString } from '../core/connection.js';
import { type ProgressEvent, silentLogger } from '../core/logger.js';
import { parseRequest } from '../core/request.js';
import { migrateByDump } from '../core/steps/dump.js';

const started = Date.now();
const database = process.env.BENCH_DB ?? 'bench';
const ctx = {
  source: parseConnectionString(process.env.BENCH_SOURCE ?? '', 'source'),
  target: parseConnectionString(process.env.BENCH_TARGET ?? '', 'target'),
  logger: silentLogger,
  // Phase timings on stderr (the parent shows them with --verbose).
  progress: (event: ProgressEvent) => {
    if (event.kind === 'phase') console.error(`${((Date.now() - started) / 1000).toFixed(2)}s ${event.phase}`);
  },
};
const request = parseRequest({
  action: 'migrate',
  source: { env: 'BENCH_SOURCE' },
  target: { env: 'BENCH_TARGET' },
  method: 'dump',
  jobs: Number(process.env.BENCH_JOBS ?? 2),
  checksums: false,
});
const result = await migrateByDump(ctx, request, {
  name: database,
  method: 'dump',
  reasons: [],
  replicaIdentityFull: [],
  targetExists: false,
});
console.log(
  JSON.stringify({
    status: result.status,
    tables: result.tables,
    rows: result.rows,
    bytes: result.bytes,
    seconds: (Date.now() - started) / 1000,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    message: result.message,
  }),
);
