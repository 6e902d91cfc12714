/**
 * `disk-space`: the target needs 130% of the selected source databases' size (sum of pg_database_size).
 * Free space on the target, first found wins:
 * 1. `request.targetFreeBytes` (the user's figure);
 * 2. `ctx.targetFreeBytes()` (RDS / Aurora: CloudWatch FreeStorageSpace, read by the Lambda);
 * 3. the tool runs on the target's own machine (a self-managed server, e.g. the local CLI): the data directory
 *    (readable by superusers and pg_read_all_settings) is found locally, proven to belong to that very server by its
 *    `postmaster.pid` (same directory, port and start time), and measured with statfs. Nothing runs on the server
 *    (no `COPY … TO PROGRAM`): read-only and safe.
 * Otherwise it warns with the figures.
 */
import { readFile, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import type { CheckResult } from '../report.js';
import { defineCheck, result } from './check.js';
import { attempt, type Outcome, selectedDatabases, withCheckSession } from './facts.js';

/** Space needed on the target relative to the source size. */
export const DISK_SPACE_FACTOR = 1.3;

export type FreeSpace =
  | { readonly known: true; readonly bytes: number; readonly from: 'request' | 'cloudwatch' | 'statfs' }
  | { readonly known: false; readonly reason: string };

export interface DiskSpaceFacts {
  readonly sizes: ReadonlyArray<{ readonly database: string; readonly bytes: Outcome<number> }>;
  readonly free: FreeSpace;
}

/** `1.5 GiB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

export function evaluateDiskSpace(facts: DiskSpaceFacts): CheckResult[] {
  const known = facts.sizes.flatMap((s) => (s.bytes.ok ? [s.bytes.value] : []));
  const unknownDbs = facts.sizes.filter((s) => !s.bytes.ok).map((s) => s.database);
  const sourceBytes = known.reduce((a, b) => a + b, 0);
  const required = Math.ceil(sourceBytes * DISK_SPACE_FACTOR);
  const details: Record<string, unknown> = {
    sourceBytes,
    requiredBytes: required,
    ...(facts.free.known ? { freeBytes: facts.free.bytes, freeFrom: facts.free.from } : {}),
    ...(unknownDbs.length > 0 ? { unknownSizes: unknownDbs } : {}),
  };
  const need = `${formatBytes(required)} (130% of the selected databases' ${formatBytes(sourceBytes)}${unknownDbs.length > 0 ? `, size unknown for ${unknownDbs.join(', ')}` : ''})`;
  if (!facts.free.known) {
    return [
      result(
        'disk-space',
        'warn',
        `the migration needs about ${need}; the target's free space is unknown (${facts.free.reason})`,
        {
          remedy:
            'check the target has that much free storage; pass targetFreeBytes (the figure you know) or targetRdsInstanceId (RDS / Aurora) to have it checked',
          details,
        },
      ),
    ];
  }
  const from = {
    request: 'as given in the request',
    cloudwatch: 'CloudWatch FreeStorageSpace',
    statfs: "the data directory's file system",
  }[facts.free.from];
  if (facts.free.bytes < required) {
    return [
      result(
        'disk-space',
        'fail',
        `the target has ${formatBytes(facts.free.bytes)} free (${from}) but the migration needs about ${need}`,
        {
          remedy: 'grow the target storage or free space, or migrate fewer databases at a time (--dbs / --exclude-dbs)',
          details,
        },
      ),
    ];
  }
  if (unknownDbs.length > 0) {
    return [
      result(
        'disk-space',
        'warn',
        `the target has ${formatBytes(facts.free.bytes)} free (${from}); known sizes need about ${need}`,
        {
          remedy:
            'GRANT CONNECT on those databases (or pg_read_all_stats) to the source user so their size can be read',
          details,
        },
      ),
    ];
  }
  return [
    result(
      'disk-space',
      'pass',
      `the target has ${formatBytes(facts.free.bytes)} free (${from}); the migration needs about ${need}`,
      { details },
    ),
  ];
}

/** Free bytes of the target's data directory when it lives on this machine; see the module comment. */
async function localFreeSpace(dir: string, port: number, startEpoch: number): Promise<FreeSpace> {
  let pidFile: string;
  try {
    pidFile = await readFile(join(dir, 'postmaster.pid'), 'utf8');
  } catch {
    return { known: false, reason: 'the target is not on the machine the tool runs on' };
  }
  const [, fileDir, fileStart, filePort] = pidFile.split('\n');
  if (fileDir !== dir || Number(filePort) !== port || Math.abs(Number(fileStart) - startEpoch) > 1) {
    return { known: false, reason: 'a data directory of that path here belongs to another server' };
  }
  const fs = await statfs(dir);
  return { known: true, bytes: fs.bavail * fs.bsize, from: 'statfs' };
}

export const diskSpaceCheck = defineCheck<DiskSpaceFacts>({
  id: 'disk-space',
  async collect(ctx, request) {
    const databases = await selectedDatabases(ctx, request);
    const sizes = await withCheckSession(ctx.source, ctx.source.database, request, async (client) => {
      const out: { database: string; bytes: Outcome<number> }[] = [];
      for (const database of databases) {
        out.push({
          database,
          bytes: await attempt(async () => {
            const { rows } = await client.query<{ b: string }>(
              'SELECT pg_catalog.pg_database_size($1::text)::text AS b',
              [database],
            );
            return Number(rows[0]!.b);
          }),
        });
      }
      return out;
    });
    let free: FreeSpace;
    const fromProvider = request.targetFreeBytes === undefined ? await ctx.targetFreeBytes?.() : undefined;
    if (request.targetFreeBytes !== undefined) free = { known: true, bytes: request.targetFreeBytes, from: 'request' };
    else if (fromProvider !== undefined) free = { known: true, bytes: fromProvider, from: 'cloudwatch' };
    else {
      free = await withCheckSession(ctx.target, ctx.target.database, request, async (client) => {
        const { rows } = await client.query<{ dir: string | null; port: string; start: string }>(
          `SELECT (SELECT setting FROM pg_catalog.pg_settings WHERE name = 'data_directory') AS dir,
                  current_setting('port') AS port,
                  floor(extract(epoch FROM pg_catalog.pg_postmaster_start_time()))::bigint::text AS start`,
        );
        const row = rows[0]!;
        if (row.dir === null) {
          return {
            known: false as const,
            reason:
              'the target user may not read data_directory (superuser or pg_read_all_settings needed) and no figure was given',
          };
        }
        return localFreeSpace(row.dir, Number(row.port), Number(row.start));
      });
    }
    return { sizes, free };
  },
  evaluate: evaluateDiskSpace,
});
