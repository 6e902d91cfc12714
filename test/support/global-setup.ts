/**
 * Vitest global setup: sweeps clusters left by interrupted runs, tags this run, and on teardown (also after
 * failures and on SIGINT / SIGTERM) removes every cluster this run started.
 */
import { sweepClusters } from './sweep.js';

export default function setup(): () => void {
  sweepClusters();
  const run = `r${process.pid}`;
  process.env.PG_MIGRATE_TEST_RUN = run;
  const onSignal = (signal: NodeJS.Signals) => {
    sweepClusters(run);
    process.kill(process.pid, signal);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('exit', () => sweepClusters(run));
  return () => {
    sweepClusters(run);
  };
}
