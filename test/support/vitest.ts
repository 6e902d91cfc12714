/** Vitest wiring for the PostgreSQL harness: one cluster per test file, shared by its tests. */
import { afterAll, beforeAll } from 'vitest';
import { type ClusterOptions, startCluster, type TestCluster } from './cluster.js';

/**
 * Starts a cluster before the file's tests and stops it after them.
 *
 * @example
 * ```ts
 * const source = useCluster({ version: 14 });
 * it('reads', async () => { expect(await source().query('select 1 as x')).toEqual([{ x: 1 }]); });
 * ```
 */
export function useCluster(options: ClusterOptions = {}): () => TestCluster {
  let cluster: TestCluster | undefined;
  beforeAll(async () => {
    cluster = await startCluster(options);
  }, 120_000);
  afterAll(() => cluster?.stop());
  return () => {
    if (!cluster) throw new Error('cluster not started: call useCluster() at the top level of the test file');
    return cluster;
  };
}
