/**
 * The embedded coordinator of a scenario's dynamic cluster, as its own
 * process: the in-memory store with etcd's semantics (MemoryKv) served over
 * loopback (KvServer) and the controller, exactly what `ringcache dev` hosts.
 * `ringcache dev` runs them in its own process; the scenario runner does not,
 * because it also drives the load: a runner busy with its clients (or a
 * machine short of CPU) would delay the lease renewals it processes and
 * expire the leases of healthy nodes, which is a fault of the test program,
 * not of the system. In a process of its own the coordinator keeps time as
 * etcd would.
 *
 * Usage (the runner starts it): node coordinator-process.js <cluster> <host>
 * [--replicas N --consistency async|sync]. The replication settings are the
 * cluster's, kept in the coordinator's store: the node that creates the
 * cluster (the first to start; the runner gives every node the same flags)
 * writes them there, so this process only says on its output what the nodes
 * were given.
 * Prints `coordinator ready on <host>:<port>` once it serves; exits on SIGTERM
 * or SIGINT (and the runner's reaper kills it with the nodes if the runner
 * dies).
 */
import { pino } from 'pino';
import { Controller } from '../membership/controller.js';
import { KvServer } from '../membership/kv-server.js';
import { MemoryKv } from '../membership/memory-kv.js';

/** The controller's own lease (as `ringcache dev`). */
const CONTROLLER_TTL_MS = 5000;

async function main(): Promise<void> {
  const [cluster, host, ...rest] = process.argv.slice(2);
  if (cluster === undefined || host === undefined) throw new Error('usage: coordinator-process.js <cluster> <host> [--replicas N --consistency async|sync]');
  const replicas = rest.indexOf('--replicas') >= 0 ? Number(rest[rest.indexOf('--replicas') + 1]) : 0;
  if (!Number.isInteger(replicas) || replicas < 0) throw new Error(`--replicas must be a whole number, got ${String(rest[rest.indexOf('--replicas') + 1])}`);
  if (replicas > 0) process.stdout.write(`coordinator: --replicas ${replicas} ${rest.slice(rest.indexOf('--consistency')).slice(0, 2).join(' ')}: given to every node (the first to start stores them as the cluster's settings)\n`);
  const store = new MemoryKv();
  const server = new KvServer(store);
  const port = await server.listen(0, host);
  const lease = await store.grantLease(CONTROLLER_TTL_MS);
  const keepAlive = setInterval(() => void store.keepAlive(lease.id).catch(() => {}), CONTROLLER_TTL_MS / 4);
  const controller = new Controller({ kv: store, cluster, lease: lease.id, name: 'scenario', log: pino({ level: 'silent' }) });
  await controller.start();
  let closing = false;
  const close = () => {
    if (closing) return;
    closing = true;
    clearInterval(keepAlive);
    void controller.stop()
      .then(() => server.close())
      .then(() => store.close())
      .finally(() => process.exit(0));
  };
  process.on('SIGTERM', close);
  process.on('SIGINT', close);
  process.stdout.write(`coordinator ready on ${host}:${port}\n`);
}

main().catch((err: Error) => {
  process.stderr.write(`coordinator: ${err.message}\n`);
  process.exit(2);
});
