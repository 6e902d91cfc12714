/** `connection-target`: the target is reachable and the user authenticates. */
import { defineCheck } from './check.js';
import { collectConnection, type ConnectionFacts, evaluateConnection } from './connectivity.js';

export const connectionTargetCheck = defineCheck<ConnectionFacts>({
  id: 'connection-target',
  collect: (ctx, request) => collectConnection('target', ctx.target, request),
  evaluate: (facts) => evaluateConnection('connection-target', facts),
});
