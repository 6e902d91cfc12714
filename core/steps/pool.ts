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
