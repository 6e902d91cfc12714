import { describe, expect, it } from 'vitest';
import { parseRequest } from '../../../core/request.js';
import { identityFullAllowed } from '../../../core/steps/replication/catalog.js';

const request = (replicaIdentityFull: boolean) =>
  parseRequest({ action: 'migrate', source: { env: 'S' }, target: { env: 'T' }, replicaIdentityFull });
const database = (replicaIdentityFull: string[]) => ({
  name: 'shop',
  method: 'replication' as const,
  reasons: [],
  replicaIdentityFull,
  targetExists: false,
});
const events = { schema: 'public', name: 'events' };

describe('identityFullAllowed', () => {
  it('allows REPLICA IDENTITY FULL on a table the plan lists', () => {
    expect(identityFullAllowed(request(false), database(['public.events']), events)).toBe(true);
  });

  it('allows it on any table when the request consents', () => {
    expect(identityFullAllowed(request(true), database([]), events)).toBe(true);
  });

  it('fails when neither the plan nor the request consents', () => {
    expect(identityFullAllowed(request(false), database(['public.other']), events)).toBe(false);
  });
});
