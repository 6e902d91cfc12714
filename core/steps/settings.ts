/**
 * Role and database settings (`pg_db_role_setting.setconfig` entries, `name=value`) turned back into
 * `ALTER … SET` statements, with list-valued settings (search_path, …) quoted element by element as pg_dumpall does.
 */
import { quoteIdent, quoteLiteral } from '../connection.js';

const LIST_SETTINGS = new Set([
  'search_path',
  'temp_tablespaces',
  'session_preload_libraries',
  'shared_preload_libraries',
  'local_preload_libraries',
]);

/** Splits a list setting's stored text (`a, "b c"`) into its elements. */
export function splitListSetting(value: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < value.length) {
    while (value[i] === ' ' || value[i] === ',') i++;
    if (i >= value.length) break;
    if (value[i] === '"') {
      let item = '';
      i++;
      while (i < value.length) {
        if (value[i] === '"' && value[i + 1] === '"') {
          item += '"';
          i += 2;
        } else if (value[i] === '"') {
          i++;
          break;
        } else item += value[i++];
      }
      out.push(item);
    } else {
      let item = '';
      while (i < value.length && value[i] !== ',') item += value[i++];
      out.push(item.trim());
    }
  }
  return out;
}

/**
 * `SET name TO …` for one `name=value` entry.
 *
 * @example
 * ```ts
 * setClause('search_path=app, "my schema"'); // SET "search_path" TO 'app', 'my schema'
 * ```
 */
export function setClause(entry: string): string {
  const eq = entry.indexOf('=');
  const name = entry.slice(0, eq);
  const value = entry.slice(eq + 1);
  const values = LIST_SETTINGS.has(name.toLowerCase()) ? splitListSetting(value) : [value];
  const rendered = values.length > 0 ? values.map(quoteLiteral).join(', ') : "''";
  return `SET ${quoteIdent(name)} TO ${rendered}`;
}
