import { describe, expect, it } from 'vitest';
import type { Report } from '../../core/report.js';
import { reportCause } from '../../core/report-builder.js';

function report(checks: number, detailBytes: number): Report {
  return {
    ok: false,
    action: 'migrate',
    durationMs: 5,
    checks: Array.from({ length: checks }, (_, i) => ({
      id: 'extensions',
      status: i === 0 ? ('fail' as const) : ('pass' as const),
      database: `db "${i}" \\ x`,
      message: 'm',
      remedy: '',
      details: { blob: 'x'.repeat(detailBytes) },
    })),
    roles: [],
    warnings: [],
    databases: [
      {
        name: 'a',
        method: 'dump',
        status: 'failed',
        tables: 1,
        rows: 1,
        bytes: 1,
        durationMs: 1,
        lagBytes: 0,
        message: 'e',
      },
    ],
  };
}

describe('reportCause', () => {
  it('is the whole report as JSON when it fits', () => {
    const r = report(3, 10);
    expect(JSON.parse(reportCause(r))).toEqual(r);
  });

  it('drops check details first when the report is too long, keeping valid JSON', () => {
    const r = report(20, 5_000);
    const cause = reportCause(r, 32_000);
    expect(cause.length).toBeLessThanOrEqual(32_000);
    const parsed = JSON.parse(cause) as Report;
    expect(parsed.checks).toHaveLength(20);
    expect(parsed.checks.every((c) => c.details === undefined)).toBe(true);
    expect(parsed.databases).toEqual(r.databases);
  });

  it('keeps only failing checks when even that is too long', () => {
    const r = report(2_000, 0);
    const parsed = JSON.parse(reportCause(r, 32_000)) as Report;
    expect(parsed.checks.map((c) => c.status)).toEqual(['fail']);
  });
});
