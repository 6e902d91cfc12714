/**
 * The report store (core/report-store.ts) on AWS and locally: an S3 bucket of the stack
 * (`PG_MIGRATE_REPORT_BUCKET`), or a directory (`PG_MIGRATE_REPORT_DIR`, the local CLI's per-run directory).
 * Without either, there is no store and the state carries full results (tests calling a handler directly).
 *
 * @example
 * ```ts
 * const store = reportStoreFromEnv(process.env);
 * ```
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as S3Sdk from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { PermanentError, TransientError } from '../../core/errors.js';
import { REPORT_BUCKET_ENV, REPORT_DIR_ENV, type ReportStore } from '../../core/report-store.js';
import { AWS_CLIENT_CONFIG, isUnreachable, unreachableHint } from './aws-clients.js';

export { REPORT_BUCKET_ENV, REPORT_DIR_ENV } from '../../core/report-store.js';

function storeError(action: string, location: string, err: unknown): Error {
  const name = err instanceof Error ? err.name : 'Error';
  if (isUnreachable(err))
    return new TransientError(`cannot ${action} ${location}: ${unreachableHint('s3')}`, { cause: err });
  const retryable = typeof err === 'object' && err !== null && '$retryable' in err && Boolean(err.$retryable);
  const message = `cannot ${action} ${location} (${name})`;
  return retryable || name === 'SlowDown' || name === 'InternalError'
    ? new TransientError(message, { cause: err })
    : new PermanentError(message, { cause: err });
}

/**
 * The stack's report bucket. The S3 SDK is loaded on first use: the local CLI and task, which keep their reports in a
 * directory, never pay for loading it.
 */
export class S3ReportStore implements ReportStore {
  private client: S3Client | undefined;

  constructor(
    readonly bucket: string,
    client?: S3Client,
  ) {
    this.client = client;
  }

  private async s3(): Promise<{ client: S3Client; sdk: typeof S3Sdk }> {
    const sdk = await import('@aws-sdk/client-s3');
    this.client ??= new sdk.S3Client(AWS_CLIENT_CONFIG);
    return { client: this.client, sdk };
  }

  async put(key: string, body: string): Promise<string> {
    const location = `s3://${this.bucket}/${key}`;
    const { client, sdk } = await this.s3();
    try {
      await client.send(
        new sdk.PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: 'application/json' }),
      );
    } catch (err) {
      throw storeError('write', location, err);
    }
    return location;
  }

  async get(key: string): Promise<string | undefined> {
    const { client, sdk } = await this.s3();
    try {
      const out = await client.send(new sdk.GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return out.Body ? await out.Body.transformToString('utf8') : undefined;
    } catch (err) {
      if (err instanceof sdk.NoSuchKey || (err instanceof Error && err.name === 'NoSuchKey')) return undefined;
      throw storeError('read', `s3://${this.bucket}/${key}`, err);
    }
  }
}

/** A local directory (mode 0700 directories, 0600 files). */
export class DirectoryReportStore implements ReportStore {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  private path(key: string): string {
    const path = resolve(join(this.root, key));
    if (!path.startsWith(this.root + sep)) throw new Error(`report store key outside the store: ${key}`);
    return path;
  }

  async put(key: string, body: string): Promise<string> {
    const path = this.path(key);
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    await writeFile(path, body, { mode: 0o600 });
    return pathToFileURL(path).href;
  }

  async get(key: string): Promise<string | undefined> {
    try {
      return await readFile(this.path(key), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }
}

let shared: { readonly key: string; readonly store: ReportStore } | undefined;

/** The store the environment names (a bucket wins over a directory), or undefined. One instance per setting. */
export function reportStoreFromEnv(env: NodeJS.ProcessEnv = process.env): ReportStore | undefined {
  const bucket = env[REPORT_BUCKET_ENV];
  const dir = env[REPORT_DIR_ENV];
  const key = bucket ? `s3:${bucket}` : dir ? `dir:${dir}` : undefined;
  if (key === undefined) return undefined;
  if (shared?.key !== key)
    shared = { key, store: bucket ? new S3ReportStore(bucket) : new DirectoryReportStore(dir as string) };
  return shared.store;
}
