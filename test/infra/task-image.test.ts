/**
 * The task image's inputs, checked without Docker (the development machine has no engine, so the image itself is not
 * built here): tasks/Dockerfile builds the task bundle from the sources with scripts/build.mjs in a build stage, the
 * context CDK stages for it (tasks/Dockerfile.dockerignore as the exclude list) holds every file that bundle is built
 * from and every file the Dockerfile copies, the bases come from the public ECR gallery pinned to a full version, the
 * final stage runs as a non-root user with a read-only bundle, and the client tools it installs serve every supported
 * pair of source and target majors with tools the target accepts.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { choosePgTools } from '../../core/pgtools-locate.js';
import { dockerignorePatterns, TASK_DOCKERIGNORE } from '../../infra/workflow-assets.js';
import { WORKFLOW_DEFAULTS } from '../../infra/workflow-props.js';
import { createTaskDefinition, TASK_IMAGE_PG_MAJORS } from '../../infra/workflow-resources.js';
import { ROOT } from '../e2e/cli.js';
import {
  contextHas,
  dockerArgDefaults,
  dockerfileContextSources,
  dockerStages,
  dockerInstructions,
} from '../support/dockerfile.js';

const DOCKERFILE = readFileSync(join(ROOT, 'tasks', 'Dockerfile'), 'utf8');
const stages = dockerStages(DOCKERFILE);
const build = stages.find((s) => s.name === 'build');
const final = stages.at(-1);

/** The majors README.md documents as supported, sources and targets alike. */
const SUPPORTED = { min: 10, max: 18 };

let work: string;
/** Files of the context CDK stages for the image (relative paths). */
let staged: string[];
/** Files of the repository the task bundle is built from (esbuild's inputs outside node_modules). */
let bundleInputs: string[];

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'pgm-task-image-'));
  const app = new App({ outdir: join(work, 'cdk.out') });
  const stack = new Stack(app, 'TaskImage');
  createTaskDefinition(stack, {
    cpu: WORKFLOW_DEFAULTS.taskCpu,
    memoryMiB: WORKFLOW_DEFAULTS.taskMemoryMiB,
    environment: {},
    retention: WORKFLOW_DEFAULTS.logRetention,
  });
  app.synth();
  const manifest = JSON.parse(readFileSync(join(work, 'cdk.out', 'TaskImage.assets.json'), 'utf8')) as {
    dockerImages: Record<string, { source: { directory: string; dockerFile: string } }>;
  };
  const images = Object.values(manifest.dockerImages);
  expect(images).toHaveLength(1);
  expect(images[0]?.source.dockerFile).toBe('tasks/Dockerfile');
  const dir = join(work, 'cdk.out', images[0]?.source.directory ?? '');
  staged = readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
  // The very script the build stage runs, into a scratch directory: its metafile lists the bundle's inputs.
  const out = join(work, 'bundle');
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs'), out], { cwd: ROOT, stdio: 'pipe' });
  const meta = JSON.parse(readFileSync(join(out, 'task.meta.json'), 'utf8')) as { inputs: Record<string, unknown> };
  bundleInputs = Object.keys(meta.inputs).filter((f) => !f.startsWith('node_modules/'));
}, 120_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the task image (tasks/Dockerfile, checked statically: no Docker engine here)', () => {
  it('builds the bundle in a build stage with scripts/build.mjs after npm ci, and copies no dist/ from the context', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(build, 'a stage named "build"').toBeDefined();
    const runs = (build?.instructions ?? []).filter((i) => i.op === 'RUN').map((i) => i.args);
    const ci = runs.findIndex((r) => /\bnpm ci\b/.test(r));
    const bundle = runs.findIndex((r) => /\bnode scripts\/build\.mjs\b/.test(r));
    expect(ci).toBeGreaterThanOrEqual(0);
    expect(bundle).toBeGreaterThan(ci);
    const sources = dockerfileContextSources(DOCKERFILE);
    expect(sources.filter((s) => s.replace(/^\.\//, '').startsWith('dist'))).toEqual([]);
    expect(sources).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', 'scripts/build.mjs']));
    // The final stage takes the bundle from the build stage.
    const copies = (final?.instructions ?? []).filter((i) => i.op === 'COPY').map((i) => i.args);
    expect(copies.filter((c) => /--from=build\b.*\/src\/dist\/task\.mjs/.test(c))).toHaveLength(1);
  });

  it('stages every file the Dockerfile copies from the context, and nothing the dockerignore leaves out', () => {
    for (const source of dockerfileContextSources(DOCKERFILE)) {
      expect(contextHas(staged, source), `COPY ${source}`).toBe(true);
    }
    // An allow-list: no dependency, build output, test or local file reaches the image.
    expect(staged.filter((f) => /^(node_modules|dist|cdk\.out|test|\.git)\//.test(f))).toEqual([]);
    expect(dockerignorePatterns(readFileSync(join(ROOT, TASK_DOCKERIGNORE), 'utf8'))[0]).toBe('*');
  });

  it('stages every source file the task bundle is built from, so the build stage bundles the code of this commit', () => {
    expect(bundleInputs).toContain('tasks/main.ts');
    expect(bundleInputs.length).toBeGreaterThan(10);
    expect(bundleInputs.filter((f) => !staged.includes(f))).toEqual([]);
    // ... and the Dockerfile copies each of them into the build stage.
    const copied = dockerfileContextSources(DOCKERFILE);
    expect(bundleInputs.filter((f) => !copied.some((source) => contextHas([f], source)))).toEqual([]);
  });

  it('starts every stage from the public ECR gallery, pinned to a full version', () => {
    for (const stage of stages) {
      if (stages.some((s) => s.name === stage.from)) continue; // FROM an earlier stage
      expect(stage.from).toMatch(/^public\.ecr\.aws\/[^:@\s]+(:[^:@\s]+)?(@sha256:[0-9a-f]{64})?$/);
      // A full version (22.12.0) or a digest: never a floating tag such as `22` or `latest`.
      expect(stage.from).toMatch(/(:\D*\d+\.\d+\.\d+[^:@\s]*|@sha256:[0-9a-f]{64})/);
    }
  });

  it('runs the final stage as a non-root user, with the bundle owned by root and read-only', () => {
    const users = (final?.instructions ?? []).filter((i) => i.op === 'USER');
    expect(users.length).toBeGreaterThan(0);
    const user = users.at(-1)?.args.split(':')[0] ?? '';
    expect(user).not.toMatch(/^(root|0)$/);
    expect(user).toMatch(/^\d+$/);
    expect(Number(user)).toBeGreaterThan(0);
    const bundle = (final?.instructions ?? []).find((i) => i.op === 'COPY' && /task\.mjs/.test(i.args));
    expect(bundle?.args).toMatch(/--chown=root:root/);
    expect(bundle?.args).toMatch(/--chmod=0?444\b/);
    expect(final?.instructions.find((i) => i.op === 'CMD')?.args).toBe('["node", "/app/task.mjs"]');
  });

  it('installs the client tools of the majors the construct declares, each checked by running it', () => {
    const majors = (dockerArgDefaults(DOCKERFILE).PG_MAJORS ?? '').split(/\s+/).filter(Boolean).map(Number);
    expect(majors).toEqual([...TASK_IMAGE_PG_MAJORS]);
    const install = (final?.instructions ?? []).find((i) => i.op === 'RUN' && /postgresql-client-/.test(i.args));
    expect(install?.args).toMatch(/postgresql-client-\$\{major\}/);
    expect(install?.args).toMatch(/for major in \$\{PG_MAJORS\}/);
    expect(install?.args).toMatch(/pg_restore --version/);
    // No PG_MIGRATE_PG_BIN pinning one major: the task chooses per target.
    expect(dockerInstructions(DOCKERFILE).filter((i) => /PG_MIGRATE_PG_BIN/.test(i.args))).toEqual([]);
  });

  it("serves every supported source and target pair with tools that dump the source, of the target's major from 14 on", () => {
    const tools = TASK_IMAGE_PG_MAJORS.map((major) => ({ major }));
    for (let source = SUPPORTED.min; source <= SUPPORTED.max; source++) {
      for (let target = source; target <= SUPPORTED.max; target++) {
        const chosen = choosePgTools(tools, source, target);
        expect(chosen?.major, `${source} -> ${target}`).toBeGreaterThanOrEqual(source);
        if (target >= Math.min(...TASK_IMAGE_PG_MAJORS)) expect(chosen?.major, `${source} -> ${target}`).toBe(target);
        // Never tools newer than needed for an old target: the oldest installed serves 10–13.
        else expect(chosen?.major, `${source} -> ${target}`).toBe(Math.min(...TASK_IMAGE_PG_MAJORS));
      }
    }
  });
});
