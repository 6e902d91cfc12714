/** `connection-source`: the source is reachable and the user authenticates. */
import { defineCheck } from './check.js';
import { collectConnection, type ConnectionFacts, evaluateConnection } from './connectivity.js';

export const connectionSourceCheck = defineCheck<ConnectionFacts>({
  id: 'connection-source',
  collect: (ctx, request) => collectConnection('source', ctx.source, request),
  evaluate: (facts) => evaluateConnection('connection-source', facts),
});
