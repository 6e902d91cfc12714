// Placeholder so that NodejsFunction finds its entry; the real handler comes from the domain branch at merge.
export function handler(_event: unknown): Promise<unknown> {
  return Promise.reject(new Error('not implemented yet'));
}
