// Runs after `npm ci` / `npm install` in this repository (package.json "prepare", which, unlike "postinstall", never
// runs where the package is installed as a dependency: that ships bundles and no node_modules of its own). Fixes one
// bug in aws-local-stepfunctions 3.0.0, the local Step Functions interpreter the CLI runs our state machine on: every
// intrinsic function's string result has all its backslashes removed (meant for States.Format's escapes), so
// States.JsonToString turns {"m":"a \"b\""} into invalid JSON. AWS does not do that; we need JsonToString to be exact
// (TASK_INPUT holds the task's input as JSON, and database names may contain quotes). The CLI bundle is built after
// it (same script), so it carries the fix. Idempotent; test/unit/local-sfn-patch.test.ts proves the fix is in place.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = join(root, 'node_modules', 'aws-local-stepfunctions', 'build');
const before = 'if (typeof result === "string") {\n      result = result.replaceAll("\\\\", "");';
const after =
  'if (typeof result === "string" && this.funcDefinition.name !== "States.JsonToString") {\n      result = result.replaceAll("\\\\", "");';

for (const file of ['main.node.esm.js', 'main.node.cjs', 'main.browser.esm.js']) {
  const path = join(dir, file);
  if (!existsSync(path)) continue;
  const text = readFileSync(path, 'utf8');
  if (text.includes(after)) continue;
  if (!text.includes(before)) {
    console.warn(`patch-deps: aws-local-stepfunctions ${file} changed; JsonToString patch not applied`);
    continue;
  }
  writeFileSync(path, text.replace(before, after));
}
