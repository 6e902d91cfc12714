/** `connection-target`: the target is reachable and the user authenticates (the server phase's target session). */
import { defineCheck } from './check.js';
import { type ConnectionFacts, connectionFacts, evaluateConnection } from './connectivity.js';

export const connectionTargetCheck = defineCheck<ConnectionFacts>({
  id: 'connection-target',
  server: {
    select: (facts) => connectionFacts('target', facts.target.endpoint, facts.target.server),
    evaluate: (facts) => evaluateConnection('connection-target', facts),
  },
});
