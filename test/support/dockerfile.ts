/**
 * Reading a Dockerfile without Docker (there is no engine on the development machine): its stages, their
 * instructions with line continuations joined and build arguments resolved, and the context files its COPY / ADD
 * instructions take. Used by the infra tests that guard tasks/Dockerfile's inputs.
 */

export interface DockerStage {
  /** The base image, build arguments resolved. */
  readonly from: string;
  /** `AS name`, if any. */
  readonly name?: string;
  /** The stage's instructions after FROM, e.g. `{ op: 'RUN', args: 'node scripts/build.mjs' }`. */
  readonly instructions: readonly { readonly op: string; readonly args: string }[];
}

/** The instructions of a Dockerfile: continuations joined, comments and blank lines left out. */
export function dockerInstructions(dockerfile: string): { op: string; args: string }[] {
  return dockerfile
    .split(/\r?\n/)
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\r?\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) => {
      const [op = '', ...rest] = line.split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(' ') };
    });
}

/** The default of each `ARG name=value` (global and per stage; later ones win). */
export function dockerArgDefaults(dockerfile: string): Record<string, string> {
  const args: Record<string, string> = {};
  for (const { op, args: text } of dockerInstructions(dockerfile)) {
    if (op !== 'ARG') continue;
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(text);
    if (match) args[match[1]!] = match[2]!.replace(/^"(.*)"$/, '$1');
  }
  return args;
}

/** The stages of a Dockerfile, in order. */
export function dockerStages(dockerfile: string): DockerStage[] {
  const defaults = dockerArgDefaults(dockerfile);
  const stages: { from: string; name?: string; instructions: { op: string; args: string }[] }[] = [];
  for (const instruction of dockerInstructions(dockerfile)) {
    if (instruction.op === 'FROM') {
      const [image = '', as, name] = instruction.args.replace(/--platform=\S+\s+/, '').split(/\s+/);
      const from = image.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a?: string, b?: string) => defaults[a ?? b ?? ''] ?? '');
      stages.push({ from, ...(as?.toUpperCase() === 'AS' && name ? { name } : {}), instructions: [] });
    } else stages.at(-1)?.instructions.push(instruction);
  }
  return stages;
}

/** The sources of every COPY / ADD of a Dockerfile that copies from the build context (not `--from=`). */
export function dockerfileContextSources(dockerfile: string): string[] {
  const instructions = dockerfile
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => /^(COPY|ADD)\s/i.test(line));
  const sources: string[] = [];
  for (const line of instructions) {
    const words = line.replace(/^(COPY|ADD)\s+/i, '');
    const flags = words.match(/^(--\S+\s+)*/)?.[0] ?? '';
    if (/--from=/.test(flags)) continue;
    const rest = words.slice(flags.length).trim();
    const parts = rest.startsWith('[') ? (JSON.parse(rest) as string[]) : rest.split(/\s+/);
    sources.push(...parts.slice(0, -1));
  }
  return sources;
}

/** Whether `source` (a file, a directory, or a glob) names something among `files` (paths relative to the context). */
export function contextHas(files: readonly string[], source: string): boolean {
  const path = source.replace(/^\.\//, '').replace(/\/$/, '');
  if (path === '.' || path === '') return files.length > 0;
  if (/[*?[]/.test(path)) {
    const pattern = new RegExp(
      `^${path
        .replace(/[.+^${}()|\\]/g, '\\$&')
        .replace(/\*/g, '[^/]*')
        .replace(/\?/g, '[^/]')}(/.*)?$`,
    );
    return files.some((f) => pattern.test(f));
  }
  return files.some((f) => f === path || f.startsWith(`${path}/`));
}
