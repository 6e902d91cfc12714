/** `connection-source`: the source is reachable and the user authenticates (the server phase's source session). */
import { defineCheck } from './check.js';
import { type ConnectionFacts, connectionFacts, evaluateConnection } from './connectivity.js';

export const connectionSourceCheck = defineCheck<ConnectionFacts>({
  id: 'connection-source',
  server: {
    select: (facts) => connectionFacts('source', facts.source.endpoint, facts.source.server),
    evaluate: (facts) => evaluateConnection('connection-source', facts),
  },
});
