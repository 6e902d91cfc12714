/**
 * aws-local-stepfunctions calls `Promise.withResolvers` (Node >= 22). On Node 20 the TypeError would be swallowed
 * by a `States.ALL` Catch and a run would "fail" quietly: install a spec-conforming polyfill before it runs.
 */
export function installPolyfills(): void {
  const P = Promise as unknown as { withResolvers?: unknown };
  if (typeof P.withResolvers === 'function') return;
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value<T>() {
      let resolve!: (value: T | PromiseLike<T>) => void;
      let reject!: (reason?: unknown) => void;
      const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}
