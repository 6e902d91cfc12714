/**
 * `version`: the target's major is at least the source's, and pg_dump / pg_restore that can dump the source are
 * installed (see core/pgtools-locate.ts); the report names the binaries and their version.
 */
import type { PgTools } from '../pgtools-locate.js';
import type { CheckResult } from '../report.js';
import { defineCheck, need, result } from './check.js';
import { TASK_PG_MAJOR_ENV } from './collect.js';
import { majorOf } from './facts.js';

export { TASK_PG_MAJOR_ENV } from './collect.js';

export interface VersionFacts {
  readonly source: { readonly versionNum: number; readonly version: string };
  readonly target: { readonly versionNum: number; readonly version: string };
  /** The tools the dump will use; `inTaskImage` when they live in the Fargate task image, not here. */
  readonly tools?: PgTools & { readonly inTaskImage?: boolean };
  /** Where the tools were looked for (for the message). */
  readonly searched: string;
}

export function evaluateVersion(facts: VersionFacts): CheckResult[] {
  const sourceMajor = majorOf(facts.source.versionNum);
  const targetMajor = majorOf(facts.target.versionNum);
  const details = {
    source: facts.source.version,
    target: facts.target.version,
    ...(facts.tools?.inTaskImage
      ? { toolsVersion: facts.tools.version, toolsIn: 'task image' }
      : facts.tools
        ? {
            pgDump: `${facts.tools.dir}/pg_dump`,
            pgRestore: `${facts.tools.dir}/pg_restore`,
            toolsVersion: facts.tools.version,
          }
        : {}),
  };
  const out: CheckResult[] = [];
  if (targetMajor < sourceMajor) {
    out.push(
      result(
        'version',
        'fail',
        `the target runs PostgreSQL ${facts.target.version}, older than the source's ${facts.source.version}: migrating to an older major is not supported`,
        {
          remedy: `use a target running PostgreSQL ${sourceMajor} or newer`,
          details,
        },
      ),
    );
  }
  if (!facts.tools) {
    out.push(
      result(
        'version',
        'fail',
        `no pg_dump / pg_restore of version ${sourceMajor} or newer found (searched ${facts.searched})`,
        {
          remedy: facts.searched.includes(TASK_PG_MAJOR_ENV)
            ? `rebuild the task image with the client tools of major ${Math.max(sourceMajor, targetMajor)} added (tasks/Dockerfile build argument PG_MAJORS, and TASK_IMAGE_PG_MAJORS in infra/workflow-resources.ts, which sets ${TASK_PG_MAJOR_ENV})`
            : `install the PostgreSQL ${Math.max(sourceMajor, targetMajor)} client tools (e.g. apt-get install postgresql-client-${Math.max(sourceMajor, targetMajor)}) or set PG_MIGRATE_PG_BIN to their directory`,
          details,
        },
      ),
    );
  }
  if (out.length === 0) {
    out.push(
      result(
        'version',
        'pass',
        `source PostgreSQL ${facts.source.version}, target ${facts.target.version}; pg_dump / pg_restore ${facts.tools?.version ?? ''} ${facts.tools?.inTaskImage ? 'in the Fargate task image' : `from ${facts.tools?.dir ?? ''}`}`,
        { details },
      ),
    );
  }
  return out;
}

export const versionCheck = defineCheck<VersionFacts>({
  id: 'version',
  server: {
    select: (facts) => {
      const source = need(facts.source.server, 'the source');
      const target = need(facts.target.server, 'the target');
      const tools = need(facts.tools);
      return {
        source: { versionNum: source.versionNum, version: source.version },
        target: { versionNum: target.versionNum, version: target.version },
        ...(tools.tools ? { tools: tools.tools } : {}),
        searched: tools.searched,
      };
    },
    evaluate: evaluateVersion,
  },
});
