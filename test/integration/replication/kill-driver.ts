/**
 * Child process of kill.test.ts: runs replication set-up for one database and is killed with SIGKILL mid-way.
 * Env: DRIVER_SOURCE / DRIVER_TARGET as `port:password`, DRIVER_DB.
 */
import { TestCluster } from '../../support/cluster.js';
import { migrateByReplication } from '../../../core/steps/replication/index.js';
import { planned, replicationRequest, runContext } from './support.js';

function cluster(text: string | undefined): TestCluster {
  const [port, password] = (text ?? '').split(/:(.*)/s);
  return new TestCluster(15, Number(port), password ?? '', '/nonexistent', '/nonexistent');
}

const source = cluster(process.env.DRIVER_SOURCE);
const target = cluster(process.env.DRIVER_TARGET);
const database = process.env.DRIVER_DB ?? 'big';
await migrateByReplication(runContext(source, target), replicationRequest(source, target), planned(database));
process.stdout.write('set-up finished\n');
