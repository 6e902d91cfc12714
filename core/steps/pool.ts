/** Runs async work over a list with at most `limit` in flight; the first error stops new work and is thrown. */
export async function forEachLimit<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T, worker: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: Error | undefined;
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async (_, worker) => {
      while (failure === undefined && next < items.length) {
        const item = items[next++] as T;
        try {
          await fn(item, worker);
        } catch (err) {
          failure ??= err instanceof Error ? err : new Error(String(err));
        }
      }
    }),
  );
  if (failure !== undefined) throw failure;
}

/**
 * Like `Promise.all` over thunks, with at most `limit` running at once (each typically holding one session: the
 * session budget, core/session-budget.ts). Results keep the thunks' order and types.
 */
export async function allLimited<T extends readonly (() => Promise<unknown>)[]>(
  limit: number,
  thunks: T,
): Promise<{ -readonly [K in keyof T]: Awaited<ReturnType<T[K]>> }> {
  const results: unknown[] = new Array(thunks.length);
  await forEachLimit(
    thunks.map((thunk, index) => ({ thunk, index })),
    limit,
    async ({ thunk, index }) => {
      results[index] = await thunk();
    },
  );
  return results as { -readonly [K in keyof T]: Awaited<ReturnType<T[K]>> };
}
