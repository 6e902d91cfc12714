/**
 * `languages`: every procedural language installed in a selected source database (pg_language, `lanispl`) is
 * available on the target (pg_available_extensions or pg_language of the target).
 */
import type { CheckResult } from '../report.js';
import { defineCheck, need, result } from './check.js';
import { listNames, type PerDatabase } from './facts.js';

export interface LanguagesFacts {
  /** Per source database, the procedural languages installed there. */
  readonly source: PerDatabase<readonly string[]>;
  /** Languages the target can provide. */
  readonly targetAvailable: readonly string[];
}

export function evaluateLanguages(facts: LanguagesFacts): CheckResult[] {
  const available = new Set(facts.targetAvailable);
  return facts.source.map(({ database, facts: langs }) => {
    if (!langs.ok) {
      return result('languages', 'warn', `cannot list the procedural languages of "${database}": ${langs.error}`, {
        database,
        remedy: 'GRANT CONNECT on the database to the source user so the check can run',
      });
    }
    const missing = langs.value.filter((l) => !available.has(l));
    if (missing.length > 0) {
      return result(
        'languages',
        'fail',
        `procedural language(s) used in "${database}" not available on the target: ${listNames(missing)}`,
        {
          database,
          remedy: `install the language on the target server (self-managed Debian: postgresql-${(missing[0] ?? 'pl').replace(/u$/, '')}-<major>; on a managed service, ask for it or choose an instance type that has it), or drop the functions and the language(s) on the source`,
          details: { missing, languages: langs.value },
        },
      );
    }
    return result(
      'languages',
      'pass',
      langs.value.length > 0
        ? `"${database}" uses ${listNames(langs.value)}, all available on the target`
        : `"${database}" uses no procedural language`,
      {
        database,
        details: { languages: langs.value },
      },
    );
  });
}

export const languagesCheck = defineCheck<never, LanguagesFacts>({
  id: 'languages',
  database: {
    select: (db, shared) => ({
      source: [{ database: db.item.name, facts: db.source.languages }],
      targetAvailable: need(shared.target.languages, 'the target'),
    }),
    evaluate: evaluateLanguages,
  },
});
