/**
 * `ringcache dev`: a local cluster in one command. The dev process hosts the
 * embedded coordinator (an in-memory store with etcd's semantics, served to the
 * nodes over loopback) and runs the controller itself; it starts N node
 * processes that join through it, exactly as nodes join through etcd. While it
 * runs, lines typed in its terminal change the cluster (`add`, `kill <port>`,
 * `stop <port>`, `status`); `ringcache cluster status` works against it too.
 * With `--etcd host:port` the nodes join through that etcd instead (the
 * production path, with the controller elected among the nodes); `--etcd`
 * alone starts a local etcd for it (local-etcd.ts), stopped and deleted on exit.
 * Ctrl-C stops everything. A node that dies is reported, never restarted.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { pino, type Logger } from 'pino';
import { ClusterMap, moveId, type SlotMove } from '../cluster/cluster-map.js';
import type { MemberRecord } from '../cluster/reconcile.js';
import { Controller } from '../membership/controller.js';
import { KvServer } from '../membership/kv-server.js';
import { clusterKeys } from '../membership/layout.js';
import { MemoryKv } from '../membership/memory-kv.js';
import { EtcdKv, parseEtcdEndpoints } from '../membership/etcd-kv.js';
import type { KvStore } from '../membership/kv.js';
import { readStatus } from './cluster.js';
import { startLocalEtcd } from './local-etcd.js';

export interface DevOptions {
  nodes: number;
  basePort: number;
  /** Port of the embedded coordinator (default basePort - 1). */
  coordinatorPort: number;
  bind: string;
  proxy: boolean;
  cluster: string;
  /** Use this etcd instead of the embedded coordinator: nodes join through it and elect the controller among themselves. */
  etcd?: string;
  /** Start a local etcd (the `etcd` binary on PATH) and use it as `etcd`; it is stopped and its data dir removed on exit. */
  localEtcd?: boolean;
  /** Flags passed through to every node (--maxmemory ...). */
  nodeArgs: string[];
  /** The embedded controller's failover delay. */
  failoverAfterMs?: number;
}

const CLI = fileURLToPath(new URL('../../bin/ringcache.js', import.meta.url));
const READY_TIMEOUT_MS = 15_000;
/** The controller's own lease in the embedded store (the dev process is its only candidate). */
const CONTROLLER_TTL_MS = 5000;

export async function runDev(opts: DevOptions): Promise<void> {
  const last = opts.basePort + opts.nodes - 1;
  if (last > 65535) throw new Error(`ports ${opts.basePort}-${last} do not fit below 65536`);
  const log = pino({ level: process.env.RINGCACHE_LOG_LEVEL ?? 'warn' }, pino.destination(2));
  const { store, coordinator, joinFlag, close, what } = opts.localEtcd === true ? await localEtcd() : opts.etcd !== undefined ? await useEtcd(opts.etcd) : await embedded(opts, log);

  const children = new Map<number, ChildProcess>();
  let stopping = false;
  const stopAll = async (code: number) => {
    stopping = true;
    const exits = [...children.values()].map((c) => new Promise<void>((resolve) => {
      if (c.exitCode !== null || c.signalCode !== null) return resolve();
      const timer = setTimeout(() => c.kill('SIGKILL'), 12_000);
      c.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      c.kill('SIGTERM');
    }));
    await Promise.all(exits);
    await close();
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));
  // Started by npx / npm exec, this process does not get the SIGTERM sent to npm (npm signals its
  // `sh -c`, which dies without passing it on): it was left running, orphaned, with every node
  // (issue 20, finding 11). So when npm started it, its parent going away stops it as SIGTERM does.
  if (process.env.npm_command !== undefined) {
    const parent = process.ppid;
    setInterval(() => {
      if (process.ppid !== parent && !stopping) void stopAll(0);
    }, 250).unref();
  }

  const startNode = (port: number) => new Promise<void>((resolve, reject) => {
    const args = [CLI, 'server', '--port', String(port), '--bind', opts.bind, joinFlag, coordinator, '--cluster', opts.cluster, ...(opts.proxy ? ['--proxy'] : []), ...opts.nodeArgs];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    children.set(port, child);
    const timer = setTimeout(() => reject(new Error(`node ${port} was not ready within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
    let seenReady = false;
    const relay = (stream: NodeJS.WritableStream) => (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) {
        // Each node's own banner (how to connect, how to stop) is replaced by dev's summary.
        if (line.trim() === '' || /^\s+(connect|stop):/.test(line)) continue;
        if (!seenReady && / ready on /.test(line)) {
          seenReady = true;
          clearTimeout(timer);
          resolve();
          continue;
        }
        stream.write(`[node ${port}] ${line}\n`);
      }
    };
    child.stdout!.on('data', relay(process.stdout));
    child.stderr!.on('data', relay(process.stderr));
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (!seenReady) reject(new Error(`node ${port} exited before it was ready (code ${code ?? signal})`));
      else if (!stopping) process.stderr.write(`ringcache dev: node ${port} exited (code ${code ?? signal}); it is not restarted\n`);
      children.delete(port);
    });
  });

  try {
    await Promise.all(Array.from({ length: opts.nodes }, (_, i) => startNode(opts.basePort + i)));
    await settled(store, opts.cluster, opts.nodes);
  } catch (err) {
    process.stderr.write(`ringcache: ${(err as Error).message}\n`);
    await stopAll(2);
  }

  const status = await readStatus(store, opts.cluster);
  const lines = [
    `ringcache dev: ${opts.nodes} nodes ready${opts.proxy ? ' (proxy mode)' : ''}, ${what} on ${coordinator}, epoch ${status.epoch}`,
    ...status.nodes.map((n) => `  ${n.address}  id ${n.id.slice(0, 8)}  ${n.replicaOf !== undefined ? `replica of ${n.replicaOf}` : `${n.slots} slots`}`),
    `  cluster-aware clients: redis-cli -c -p ${opts.basePort}   (ioredis: new Redis.Cluster([{ host: '${opts.bind}', port: ${opts.basePort} }]))`,
    opts.proxy ? `  any client, any node:  redis-cli -p ${opts.basePort}` : `  plain clients: start with --proxy to let any node forward commands to the owner`,
    `  change it: type add | kill <port> | stop <port> | status   (or: ringcache cluster status ${joinFlag} ${coordinator})`,
    '  stop: Ctrl-C',
  ];
  process.stdout.write(lines.join('\n') + '\n');
  await reportMoves(store, opts.cluster).catch((err: Error) => process.stderr.write(`ringcache dev: cannot follow moves (${err.message})\n`));

  if (process.stdin.isTTY || process.env.RINGCACHE_DEV_COMMANDS === '1') {
    let nextPort = last + 1;
    const rl = createInterface({ input: process.stdin });
    rl.on('line', (line) => {
      const [cmd, arg] = line.trim().split(/\s+/);
      const child = arg === undefined ? undefined : children.get(Number(arg));
      if (cmd === 'add') {
        const port = nextPort++;
        startNode(port).then(() => process.stdout.write(`ringcache dev: node ${port} joined\n`), (err: Error) => process.stderr.write(`ringcache dev: ${err.message}\n`));
      } else if ((cmd === 'kill' || cmd === 'stop') && child !== undefined) {
        child.kill(cmd === 'kill' ? 'SIGKILL' : 'SIGTERM');
      } else if (cmd === 'status') {
        void readStatus(store, opts.cluster).then((s) => process.stdout.write(s.nodes.map((n) => `  ${n.address}  ${n.id.slice(0, 8)}  ${n.state}  ${n.replicaOf !== undefined ? `replica of ${n.replicaOf}` : `${n.slots} slots`}`).join('\n') + `\n  epoch ${s.epoch}, ${s.moves.length} moves in progress\n`));
      } else if (cmd !== undefined && cmd !== '') {
        process.stderr.write(`ringcache dev: unknown '${line.trim()}' (add | kill <port> | stop <port> | status; ports: ${[...children.keys()].join(', ')})\n`);
      }
    });
  }
}

/** Prints each slot move as it starts and as it ends (committed: the keys moved with it; cancelled: the new owner went away). */
async function reportMoves(store: KvStore, cluster: string): Promise<void> {
  const keys = clusterKeys(cluster);
  let last: ClusterMap | undefined;
  const name = (map: ClusterMap, id: string) => {
    const n = map.node(id) ?? last?.node(id);
    return n === undefined ? id.slice(0, 8) : `${n.port}`;
  };
  const slots = (m: SlotMove) => m.ranges.reduce((n, [a, b]) => n + b - a + 1, 0);
  const onMap = (json: string) => {
    const map = ClusterMap.parse(json);
    if (last !== undefined && map.epoch <= last.epoch) return;
    const before = new Map((last?.moves ?? []).map((m) => [moveId(m), m]));
    const now = new Set(map.moves.map(moveId));
    for (const m of map.moves) {
      if (!before.has(moveId(m))) process.stdout.write(`ringcache dev: moving ${slots(m)} slots ${name(map, m.from)} -> ${name(map, m.to)} (epoch ${map.epoch})\n`);
    }
    for (const [id, m] of before) {
      if (now.has(id)) continue;
      const committed = m.ranges.every(([a]) => map.ownerOf(a)?.id === m.to);
      process.stdout.write(`ringcache dev: ${committed ? 'moved' : 'cancelled move of'} ${slots(m)} slots ${name(map, m.from)} -> ${name(map, m.to)} (epoch ${map.epoch})\n`);
    }
    // A replica now owns what its primary owned: a failover (or a planned handoff).
    for (const p of last?.primaries() ?? []) {
      const first = last!.rangesOf(p.id)[0];
      const heir = first === undefined ? undefined : map.ownerOf(first.start);
      if (heir !== undefined && heir.id !== p.id && last!.node(heir.id)?.primary === p.id) {
        process.stdout.write(`ringcache dev: failover: ${name(map, p.id)} replaced by its replica ${heir.port} (epoch ${map.epoch})\n`);
      }
    }
    last = map;
  };
  const current = await store.get(keys.map);
  const { revision } = await store.range(keys.map);
  if (current !== undefined) onMap(current.value);
  await store.watch(keys.map, Math.max(revision, current?.modRevision ?? 0), {
    onEvents: (events) => {
      for (const e of events) if (e.type === 'put') onMap(e.entry.value);
    },
    onError: () => {}, // progress lines are a convenience; `ringcache cluster status` reads the map itself
  });
}

interface Coordination {
  store: KvStore;
  /** What nodes are given to join: `--coordinator` or `--etcd`, and its address. */
  joinFlag: string;
  coordinator: string;
  /** How the ready line names it. */
  what: string;
  close(): Promise<void>;
}

/** The embedded coordinator: an in-memory store served to the nodes, and the controller in this process. */
async function embedded(opts: DevOptions, log: Logger): Promise<Coordination> {
  const store = new MemoryKv();
  const server = new KvServer(store);
  try {
    await server.listen(opts.coordinatorPort, opts.bind);
  } catch (err) {
    throw new Error(`cannot listen on ${opts.bind}:${opts.coordinatorPort} for the embedded coordinator (${(err as Error).message}); choose another with --coordinator-port`);
  }
  const lease = await store.grantLease(CONTROLLER_TTL_MS);
  const keepAlive = setInterval(() => void store.keepAlive(lease.id), CONTROLLER_TTL_MS / 4);
  const controller = new Controller({ kv: store, cluster: opts.cluster, lease: lease.id, name: 'dev', log, ...(opts.failoverAfterMs !== undefined ? { failoverAfterMs: opts.failoverAfterMs } : {}) });
  await controller.start();
  return {
    store,
    joinFlag: '--coordinator',
    coordinator: `${opts.bind}:${opts.coordinatorPort}`,
    what: 'embedded coordinator',
    close: async () => {
      clearInterval(keepAlive);
      await controller.stop();
      await server.close();
    },
  };
}

/** The production path on one machine: the nodes join through an etcd the user runs, and elect a controller among themselves. */
async function useEtcd(endpoints: string): Promise<Coordination> {
  let list: string[];
  try {
    list = parseEtcdEndpoints(endpoints);
  } catch (err) {
    throw new Error(`invalid --etcd: ${(err as Error).message}`);
  }
  const store = new EtcdKv({ endpoints: list });
  try {
    await store.range('/ringcache/');
  } catch (err) {
    await store.close();
    throw new Error(`cannot reach etcd at ${endpoints}: ${(err as Error).message}`);
  }
  return { store, joinFlag: '--etcd', coordinator: list.join(','), what: 'etcd', close: () => store.close() };
}

/** `--etcd` without an endpoint: a local etcd started here, used as above, stopped and deleted by close(). */
async function localEtcd(): Promise<Coordination> {
  const etcd = await startLocalEtcd();
  let used: Coordination;
  try {
    used = await useEtcd(etcd.endpoint);
  } catch (err) {
    await etcd.stop();
    throw err;
  }
  return {
    ...used,
    what: `local etcd (pid ${etcd.pid}, data ${etcd.dataDir})`,
    close: async () => {
      await used.close().catch(() => {});
      await etcd.stop();
    },
  };
}

/** Waits (bounded) until the map lists n nodes that own slots, with no handover in flight. */
async function settled(store: KvStore, cluster: string, n: number): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  const keys = clusterKeys(cluster);
  let seen = 'no cluster map yet';
  while (Date.now() < deadline) {
    const entry = await store.get(keys.map);
    if (entry !== undefined) {
      const map = ClusterMap.parse(entry.value);
      // Every node placed: a primary owning slots, or a replica whose copy is in sync.
      const owning = map.nodes.filter((node) => map.slotCount(node.id) > 0 || (node.role === 'replica' && node.synced === true)).length;
      // Every node applied this version too, so no node answers from an older one.
      const { entries } = await store.range(keys.members);
      const applied = entries.every((e) => (JSON.parse(e.value) as MemberRecord).appliedEpoch >= map.epoch);
      if (owning >= n && map.moves.length === 0 && map.assignedSlots() === 16384 && applied) return;
      seen = `epoch ${map.epoch}: ${owning} of ${n} nodes placed, ${map.assignedSlots()} slots assigned, ${map.moves.length} moves in flight, ${entries.length} members${applied ? '' : ' (not all applied it)'}`;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the cluster did not settle within ${READY_TIMEOUT_MS} ms (last seen: ${seen})`);
}
