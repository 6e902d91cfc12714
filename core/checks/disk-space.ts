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
import type { CheckResult } from '../report.js';
import { defineCheck, need, result } from './check.js';
import type { FreeSpace } from './collect.js';
import type { Outcome } from './facts.js';

export type { FreeSpace } from './collect.js';

/** Space needed on the target relative to the source size. */
export const DISK_SPACE_FACTOR = 1.3;

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

export const diskSpaceCheck = defineCheck<DiskSpaceFacts>({
  id: 'disk-space',
  server: {
    select: (facts) => {
      const selected = need(facts.selection).selected;
      const sizes = need(facts.source.sizes, 'the source');
      return {
        sizes: selected.map((database) => {
          const bytes = sizes[database];
          return {
            database,
            bytes:
              typeof bytes === 'number'
                ? ({ ok: true, value: bytes } as const)
                : ({
                    ok: false,
                    error: `permission denied to read the size of "${database}" (CONNECT or pg_read_all_stats needed)`,
                    code: '42501',
                    permission: true,
                  } satisfies Outcome<number>),
          };
        }),
        free: need(facts.target.freeSpace, 'the target'),
      };
    },
    evaluate: evaluateDiskSpace,
  },
});
