/**
 * ClusterUnderTest on the node manager: members join and leave at run time
 * through a coordination store, and a controller re-plans the slots.
 *
 * - Embedded (default): what `ringcache dev` hosts, the in-memory store
 *   (MemoryKv) served on a free loopback port (KvServer) and the controller,
 *   but in a child process of its own (coordinator-process.ts), so the load
 *   this runner drives cannot delay the leases it keeps; the runner reads and
 *   watches it as the nodes do (RemoteKv). Nodes are real `ringcache server
 *   --coordinator host:port --cluster NAME` processes (the compiled CLI) on
 *   free loopback ports.
 * - etcd (`--etcd [host:port]`): the nodes join through etcd with `--etcd` and
 *   elect the controller among themselves; with no endpoint given, a
 *   single-member etcd is started on free ports with a temporary data dir
 *   (etcd-process.ts) and stopped with the cluster.
 *
 * A handle's id is the node's host:port, stable across restarts (as for the
 * static backend); a restarted process is a new member (a new 40-hex member
 * id) on the same address. removeNode is a graceful leave: SIGTERM, or
 * `ringcache cluster remove <member id>` (removeWith). Optionally every node
 * reaches its coordinator through its own FaultProxy (coordinatorProxies), so
 * one node can be cut off from the coordinator alone (the partition scenario).
 *
 * With replicas (`replicas` > 0, the failover scenario), every node process
 * and the embedded coordinator are given `--replicas N --consistency MODE`
 * (the cluster's setting, kept by the coordinator), a node may own no slots
 * (a replica), and a restarted node counts as joined once it is listed in the
 * map and has applied it, whatever its role; which node replicates which is
 * the scenario's to check (topology.ts, from CLUSTER NODES). A build whose
 * nodes do not know these flags fails to start with commander's "unknown
 * option" error, which the scenario reports as such.
 *
 * The runner watches the map from the store and keeps every version it sees
 * (mapHistory()) and each change of owners (slotChanges()), which the
 * verdicts use to tell a lost write that no owner change explains from one
 * whose slot was handed over after it (copied by warm migration, dropped by a
 * cold handover) or reassigned from a dead node (lost without replicas).
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ClusterMap, SLOT_COUNT } from '../cluster/cluster-map.js';
import type { MemberRecord } from '../cluster/reconcile.js';
import { EtcdKv, parseEtcdEndpoints } from '../membership/etcd-kv.js';
import type { KvStore, KvWatch } from '../membership/kv.js';
import { clusterKeys } from '../membership/layout.js';
import { RemoteKv } from '../membership/remote-kv.js';
import { NotSupportedError, refId, type ClusterCapabilities, type ClusterUnderTest, type MapVersion, type NodeHandle, type NodeRef, type NodeState } from './cluster-under-test.js';
import { startEtcd, type EtcdProcess } from './etcd-process.js';
import { FaultProxy, type ProxyMode } from './fault-proxy.js';
import { freePorts, runCommand, startProcess, type ManagedProcess } from './processes.js';
import { call, replyText } from './resp-call.js';

const CLI = fileURLToPath(new URL('../../bin/ringcache.js', import.meta.url));
/** The coordinator's program: compiled next to this module, or its source through tsx (tests that import src/). */
const COORDINATOR = ((): { args: string[] } => {
  const js = fileURLToPath(new URL('./coordinator-process.js', import.meta.url));
  return existsSync(js) ? { args: [js] } : { args: ['--import', 'tsx', fileURLToPath(new URL('./coordinator-process.ts', import.meta.url))] };
})();
const READY_TIMEOUT_MS = 20_000;
/** How long a join (node ready to owning its share, no move in flight) may take. */
const JOIN_TIMEOUT_MS = 20_000;
/** A graceful leave takes at most 10 s in the node; a little more here, then SIGKILL. */
const LEAVE_TIMEOUT_MS = 15_000;
const START_ATTEMPTS = 3;

export interface DynamicClusterOptions {
  nodes: number;
  host?: string;
  /** undefined: the embedded coordinator; '': start an etcd; otherwise etcd endpoints host:port[,...]. */
  etcd?: string;
  /** --lease-ttl of every node (ms; the server's default is 2000). */
  leaseTtlMs?: number;
  /** How removeNode takes a member out: SIGTERM (a graceful leave) or `ringcache cluster remove <id>`. */
  removeWith?: 'sigterm' | 'cluster-remove';
  /** Every node reaches the coordinator through its own fault proxy (for cutting one node off). */
  coordinatorProxies?: boolean;
  cluster?: string;
  nodeArgs?: string[];
  /** Replicas per primary, the cluster's setting (0: none, and no flag is passed). */
  replicas?: number;
  /** The write consistency mode, passed with --replicas. */
  consistency?: 'async' | 'sync';
}

/** The flags that carry the replication settings to `ringcache server` and the embedded coordinator (none without replicas). */
export function replicationArgs(replicas: number, consistency: 'async' | 'sync'): string[] {
  return replicas > 0 ? ['--replicas', String(replicas), '--consistency', consistency] : [];
}

interface Member {
  id: string;
  host: string;
  port: number;
  proc: ManagedProcess | null;
  state: NodeState;
  /** The current process's member id (40 hex), '' until known. */
  memberId: string;
  coordinatorProxy: FaultProxy | null;
}

interface Coordination {
  /** What the runner reads and watches. */
  store: KvStore;
  joinFlag: '--coordinator' | '--etcd';
  /** host:port the nodes join (etcd: the first endpoint; proxies front that one). */
  host: string;
  port: number;
  endpoints: string;
  close(): Promise<void>;
}

interface SeenVersion {
  at: number;
  map: ClusterMap;
}

export class DynamicCluster implements ClusterUnderTest {
  readonly system = 'ringcache' as const;
  readonly description: string;
  readonly capabilities: ClusterCapabilities;
  readonly clusterName: string;
  private readonly host: string;
  private readonly leaseTtlMs: number;
  private members: Member[] = [];
  private coord: Coordination | undefined;
  private watch: KvWatch | undefined;
  private poll: NodeJS.Timeout | undefined;
  private readonly seen: SeenVersion[] = [];
  private readonly events: string[] = [];
  private stopped = false;
  private readonly starting = new Set<string>();
  /** performance.now() when start() found every slot served. */
  private servingSince = Infinity;

  constructor(private readonly opts: DynamicClusterOptions) {
    if (!Number.isInteger(opts.nodes) || opts.nodes < 1) throw new Error('a cluster needs at least one node');
    this.host = opts.host ?? '127.0.0.1';
    this.leaseTtlMs = opts.leaseTtlMs ?? 2000;
    // Its own name per run: an etcd given with --etcd may hold other clusters, and earlier runs' maps.
    this.clusterName = opts.cluster ?? `scenario-${randomBytes(4).toString('hex')}`;
    const engine = opts.etcd === undefined ? 'embedded coordinator' : opts.etcd === '' ? 'etcd (started by the runner)' : `etcd ${opts.etcd}`;
    const replicas = opts.replicas ?? 0;
    this.capabilities = { membership: 'dynamic', replicas, addRemove: true, clustered: true };
    this.description = `ringcache, ${opts.nodes} nodes, node manager (${engine}, lease ${this.leaseTtlMs / 1000} s), ${replicas === 0 ? 'no replicas' : `--replicas ${replicas}, --consistency ${opts.consistency ?? 'async'}`}`;
  }

  private get replicationFlags(): string[] {
    return replicationArgs(this.opts.replicas ?? 0, this.opts.consistency ?? 'async');
  }

  /** The lease TTL the nodes were given (what a dead node's slots wait for). */
  get leaseTtl(): number {
    return this.leaseTtlMs;
  }

  // ---- start and stop -------------------------------------------------------

  async start(): Promise<void> {
    this.coord = await this.coordinate();
    await this.startWatching();
    for (let attempt = 1; ; attempt++) {
      const ports = await freePorts(this.opts.nodes, this.host);
      this.members = ports.map((port) => this.newMember(port));
      const started = await Promise.allSettled(this.members.map((m) => this.launch(m)));
      const failure = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (failure === undefined) break;
      await Promise.all(this.members.map((m) => this.discard(m)));
      if (!/EADDRINUSE/.test(String((failure.reason as Error).message)) || attempt >= START_ATTEMPTS) throw failure.reason;
    }
    await this.waitUntilServing(JOIN_TIMEOUT_MS);
    this.servingSince = performance.now();
  }

  private newMember(port: number): Member {
    return { id: `${this.host}:${port}`, host: this.host, port, proc: null, state: 'stopped', memberId: '', coordinatorProxy: null };
  }

  private async coordinate(): Promise<Coordination> {
    if (this.opts.etcd === undefined) {
      const proc = await startProcess({ name: 'the embedded coordinator', command: process.execPath, args: [...COORDINATOR.args, this.clusterName, this.host, ...this.replicationFlags], ready: /coordinator ready on /, readyTimeoutMs: READY_TIMEOUT_MS });
      const port = Number(/coordinator ready on \S+:(\d+)/.exec(proc.output())?.[1]);
      const store = new RemoteKv({ host: this.host, port });
      return {
        store, joinFlag: '--coordinator', host: this.host, port, endpoints: `${this.host}:${port}`,
        close: async () => {
          await store.close().catch(() => {});
          await proc.stop();
        },
      };
    }
    let etcd: EtcdProcess | undefined;
    let endpoints: string[];
    if (this.opts.etcd === '') {
      etcd = await startEtcd(this.host);
      endpoints = [etcd.endpoint];
    } else {
      endpoints = parseEtcdEndpoints(this.opts.etcd);
    }
    const store = new EtcdKv({ endpoints });
    try {
      await store.range('/ringcache/');
    } catch (err) {
      await store.close().catch(() => {});
      await etcd?.stop();
      throw new Error(`cannot reach etcd at ${endpoints.join(',')}: ${(err as Error).message}`);
    }
    const [h, p] = splitAddress(endpoints[0]!);
    const root = clusterKeys(this.clusterName).root;
    return {
      store, joinFlag: '--etcd', host: h, port: p, endpoints: endpoints.join(','),
      close: async () => {
        // An etcd of the user's outlives the run: take this run's cluster out of it (map, removals, what leases left).
        if (etcd === undefined) {
          await store.range(root)
            .then(({ entries }) => entries.length > 0 ? store.txn([], entries.map((e) => ({ delete: e.key }))) : undefined)
            .catch(() => {});
        }
        await store.close().catch(() => {});
        await etcd?.stop();
      },
    };
  }

  /** Kills every node (the cluster is thrown away: no graceful leaves), then the coordinator. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.poll);
    await Promise.all(this.members.map((m) => this.discard(m)));
    await this.watch?.cancel().catch(() => {});
    await this.coord?.close();
  }

  private async discard(m: Member): Promise<void> {
    if (m.proc !== null) await m.proc.kill();
    await m.coordinatorProxy?.stop();
    m.coordinatorProxy = null;
  }

  // ---- node processes -------------------------------------------------------

  /** Starts a node process on m's port and learns its member id. */
  private async launch(m: Member): Promise<void> {
    const coord = this.coord!;
    let join = coord.endpoints;
    if (this.opts.coordinatorProxies === true) {
      if (m.coordinatorProxy === null) {
        m.coordinatorProxy = new FaultProxy({ host: coord.host, port: coord.port }, this.host);
        await m.coordinatorProxy.listen();
      }
      m.coordinatorProxy.setMode({ kind: 'pass' });
      join = m.coordinatorProxy.address;
    }
    const args = [
      CLI, 'server', '--port', String(m.port), '--bind', m.host,
      coord.joinFlag, join, '--cluster', this.clusterName, '--lease-ttl', String(this.leaseTtlMs),
      ...this.replicationFlags,
      ...(this.opts.nodeArgs ?? []),
    ];
    this.starting.add(m.id);
    try {
      // A restarted node whose previous member's lease has not expired yet is refused (same address): retry until it has.
      const deadline = Date.now() + this.leaseTtlMs + 3000;
      for (;;) {
        try {
          m.proc = await startProcess({ name: `ringcache node ${m.id}`, command: process.execPath, args, ready: / ready on /, readyTimeoutMs: READY_TIMEOUT_MS });
          break;
        } catch (err) {
          const message = (err as Error).message;
          // A loaded machine can keep a just-started coordinator from answering the node's first call in time (the
          // node then exits 2 at once, by design): that is the test's set-up, not what it measures, so start it
          // again (noted) within the same deadline.
          const slow = /no answer within|cannot reach the coordinator/.test(message);
          if (!(slow || /already has the address/.test(message)) || Date.now() > deadline) throw err;
          if (slow) this.events.push(`${m.id} did not start (${message.slice(message.indexOf('ringcache:')).trim().slice(0, 160)}): started again`);
          await sleep(200);
        }
      }
      m.state = 'running';
      const proc = m.proc;
      void proc.exited.then(({ code, signal }) => {
        if (m.proc !== proc) return;
        m.proc = null;
        // A node that exits on its own (lease lost, crash) is noted with its last words.
        if (m.state === 'running' || m.state === 'paused') {
          const last = proc.output().trim().split('\n').slice(-3).join(' | ');
          this.events.push(`${m.id} (member ${m.memberId.slice(0, 8)}) exited by itself (${code ?? signal}) at ${new Date().toISOString().slice(11, 23)} UTC: ${last.slice(-400)}`);
        }
        if (m.state !== 'removed') m.state = signal === 'SIGKILL' ? 'killed' : 'stopped';
      });
      m.memberId = replyText(await call(m.host, m.port, ['CLUSTER', 'MYID'], 2000));
    } finally {
      this.starting.delete(m.id);
    }
  }

  private member(node: NodeRef): Member {
    const id = refId(node);
    const m = this.members.find((x) => x.id === id);
    if (m === undefined) throw new Error(`no node ${id} in this cluster`);
    return m;
  }

  private running(node: NodeRef, what: string): Member & { proc: ManagedProcess } {
    const m = this.member(node);
    if (m.proc === null || !m.proc.isRunning()) throw new Error(`cannot ${what} node ${m.id}: it is ${m.state}`);
    return m as Member & { proc: ManagedProcess };
  }

  nodes(): NodeHandle[] {
    return this.members.map((m) => ({ id: m.id, host: m.host, port: m.port, pid: m.proc?.pid ?? null, state: m.state }));
  }

  /** The current member id of a node ('' when not running). */
  memberIdOf(node: NodeRef): string {
    return this.member(node).memberId;
  }

  seeds(): string[] {
    const running = this.members.filter((m) => m.state === 'running');
    return (running.length > 0 ? running : this.members).map((m) => m.id);
  }

  async kill9(node: NodeRef): Promise<void> {
    const m = this.running(node, 'kill');
    m.state = 'killed';
    await m.proc.kill();
  }

  async pause(node: NodeRef): Promise<void> {
    const m = this.running(node, 'pause');
    m.proc.signal('SIGSTOP');
    m.state = 'paused';
  }

  /** SIGCONT. A node paused past its lease TTL learns its lease is gone and exits by itself: restart it then. */
  async resume(node: NodeRef): Promise<void> {
    const m = this.running(node, 'resume');
    m.proc.signal('SIGCONT');
    m.state = 'running';
  }

  /** SIGTERM: a graceful leave (its slots are handed over first); resolves once the process has exited. */
  async terminate(node: NodeRef): Promise<void> {
    const m = this.running(node, 'terminate');
    m.state = 'stopped';
    await m.proc.stop(LEAVE_TIMEOUT_MS);
  }

  /** Starts a stopped, killed or exited node again on its address (a new member); resolves once it owns its share. */
  async restart(node: NodeRef): Promise<void> {
    const m = this.member(node);
    if (m.proc !== null && m.proc.isRunning()) throw new Error(`cannot restart node ${m.id}: it is still running`);
    await this.launch(m);
    await this.waitForJoin(m);
  }

  async addNode(): Promise<NodeHandle> {
    for (let attempt = 1; ; attempt++) {
      const used = new Set(this.members.map((x) => x.port));
      const port = (await freePorts(used.size + 1, this.host)).find((p) => !used.has(p));
      if (port === undefined) throw new Error('no free port for a new node');
      const m = this.newMember(port);
      this.members.push(m);
      try {
        await this.launch(m);
      } catch (err) {
        this.members.splice(this.members.indexOf(m), 1);
        await this.discard(m);
        if (!/EADDRINUSE/.test((err as Error).message) || attempt >= START_ATTEMPTS) throw err;
        continue;
      }
      await this.waitForJoin(m);
      return this.nodes().find((n) => n.id === m.id)!;
    }
  }

  /** A graceful leave (SIGTERM, or `ringcache cluster remove`); resolves once the process has exited and the map no longer lists it. */
  async removeNode(node: NodeRef): Promise<void> {
    const m = this.running(node, 'remove');
    const memberId = m.memberId;
    if (this.opts.removeWith === 'cluster-remove') {
      const coord = this.coord!;
      const r = await runCommand(process.execPath, [CLI, 'cluster', 'remove', memberId, coord.joinFlag, coord.endpoints, '--cluster', this.clusterName], 10_000);
      if (r.code !== 0) throw new Error(`ringcache cluster remove ${memberId.slice(0, 8)} failed (${r.code}): ${r.output.trim().slice(-300)}`);
      m.state = 'removed';
      const timer = setTimeout(() => m.proc?.signal('SIGKILL'), LEAVE_TIMEOUT_MS);
      await m.proc.exited;
      clearTimeout(timer);
    } else {
      m.state = 'removed';
      await m.proc.stop(LEAVE_TIMEOUT_MS);
    }
    await m.coordinatorProxy?.stop();
    m.coordinatorProxy = null;
    await this.until(JOIN_TIMEOUT_MS, `${m.id} to leave the map`, async () => {
      const map = await this.readMap();
      return map !== undefined && map.node(memberId) === undefined ? true : `still in the map (epoch ${map?.epoch ?? 0})`;
    });
  }

  /** Puts the node's link to the coordinator into a mode (coordinatorProxies only): blackhole cuts it off. */
  cutCoordinator(node: NodeRef, mode: ProxyMode): void {
    const m = this.member(node);
    if (m.coordinatorProxy === null) throw new NotSupportedError('this cluster was started without coordinator proxies');
    m.coordinatorProxy.setMode(mode);
  }

  async isolate(node: NodeRef): Promise<void> {
    this.running(node, 'cut off');
    this.cutCoordinator(node, { kind: 'blackhole' });
  }

  /**
   * The link back. A node cut off for less than its lease carries on as a
   * member; one cut off longer learns at its next renewal that its lease is
   * gone and exits, and is then started again (a new member) on its address.
   */
  async heal(node: NodeRef): Promise<void> {
    const m = this.member(node);
    this.cutCoordinator(node, { kind: 'pass' });
    const proc = m.proc;
    if (proc === null) return this.restart(m.id);
    const listed = async () => (await this.readMap())?.node(m.memberId) !== undefined;
    const deadline = Date.now() + this.leaseTtlMs + 8000;
    while (proc.isRunning() && Date.now() < deadline) {
      if (await listed().catch(() => false)) {
        const problem = await this.mapProblem().catch((err: Error) => err.message);
        if (problem === undefined) return; // still a member, and the map is settled: nothing to restart
      }
      await sleep(100);
    }
    if (proc.isRunning()) {
      // Neither a member nor gone: not what the node manager promises. Say so, and start it afresh.
      this.events.push(`${m.id} was still running ${(this.leaseTtlMs + 8000) / 1000} s after its link to the coordinator came back, without being in the map: killed and restarted`);
      await proc.kill();
    }
    await proc.exited;
    await this.restart(m.id);
  }

  // ---- convergence ----------------------------------------------------------

  private async readMap(): Promise<ClusterMap | undefined> {
    const entry = await this.coord!.store.get(clusterKeys(this.clusterName).map);
    if (entry === undefined) return undefined;
    const map = ClusterMap.parse(entry.value);
    this.record(map);
    return map;
  }

  private async until(timeoutMs: number, what: string, check: () => Promise<true | string>): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    for (;;) {
      try {
        const r = await check();
        if (r === true) return;
        last = r;
      } catch (err) {
        last = (err as Error).message;
      }
      if (Date.now() > deadline) throw new Error(`waited ${timeoutMs / 1000} s for ${what}: ${last}`);
      await sleep(50);
    }
  }

  /** Until the node's current member owns slots in a map with no move in flight, and every member applied it. */
  private async waitForJoin(m: Member): Promise<void> {
    await this.until(JOIN_TIMEOUT_MS, `${m.id} to join`, async () => {
      const problem = await this.mapProblem();
      if (problem !== undefined) return problem;
      const map = (await this.readMap())!;
      // With replicas a node may join as a replica (no slots): listed and applied (mapProblem) is joined.
      if ((this.opts.replicas ?? 0) > 0) return map.node(m.memberId) !== undefined ? true : `${m.id} is not in the map yet (epoch ${map.epoch})`;
      return map.slotCount(m.memberId) > 0 ? true : `${m.id} owns no slots yet (epoch ${map.epoch})`;
    });
  }

  /** Why the stored map is not settled on the running members, or undefined when it is. */
  private async mapProblem(): Promise<string | undefined> {
    const keys = clusterKeys(this.clusterName);
    const { entries } = await this.coord!.store.range(keys.root);
    const mapEntry = entries.find((e) => e.key === keys.map);
    if (mapEntry === undefined) return 'no map yet';
    const map = ClusterMap.parse(mapEntry.value);
    this.record(map);
    if (map.moves.length > 0) return `epoch ${map.epoch}: ${map.moves.length} move(s) in flight`;
    if (map.assignedSlots() !== SLOT_COUNT) return `epoch ${map.epoch}: ${SLOT_COUNT - map.assignedSlots()} slots unassigned`;
    if (map.failedSlots() > 0) return `epoch ${map.epoch}: ${map.failedSlots()} slots on failed nodes`;
    const running = this.members.filter((m) => m.state === 'running' && m.memberId !== '');
    // Without replicas every running member owns slots; with them, replicas own none.
    const withReplicas = (this.opts.replicas ?? 0) > 0;
    for (const m of running) {
      if (!withReplicas && map.slotCount(m.memberId) === 0) return `epoch ${map.epoch}: ${m.id} owns no slots`;
      if (withReplicas && map.node(m.memberId) === undefined) return `epoch ${map.epoch}: ${m.id} is not in the map`;
    }
    const owners = new Set(map.ranges().map((r) => r.node.id));
    for (const id of owners) if (!running.some((m) => m.memberId === id)) return `epoch ${map.epoch}: slots owned by ${id.slice(0, 8)}, not a running node`;
    const records = entries.filter((e) => e.key.startsWith(keys.members)).map((e) => JSON.parse(e.value) as MemberRecord);
    for (const m of running) {
      const rec = records.find((r) => r.id === m.memberId);
      if (rec === undefined || rec.appliedEpoch < map.epoch) return `${m.id} has not applied epoch ${map.epoch}`;
    }
    return undefined;
  }

  /**
   * Every slot served: the stored map is settled on the running nodes (all
   * 16384 slots owned by running members, no move in flight, every member
   * applied it), and each running node says so itself: cluster_state:ok and
   * CLUSTER SLOTS covering every slot.
   */
  async waitUntilServing(timeoutMs: number): Promise<void> {
    await this.until(timeoutMs, 'every slot to be served', async () => {
      if (this.starting.size > 0) return `${this.starting.size} node(s) starting`;
      const problem = await this.mapProblem();
      if (problem !== undefined) return problem;
      for (const m of this.members.filter((x) => x.state === 'running')) {
        const info = replyText(await call(m.host, m.port, ['CLUSTER', 'INFO'], 1000));
        if (!/cluster_state:ok/.test(info)) return `${m.id}: ${/cluster_state:\w+/.exec(info)?.[0] ?? 'no cluster_state'}`;
        const covered = slotsCovered(await call(m.host, m.port, ['CLUSTER', 'SLOTS'], 1000));
        if (covered !== SLOT_COUNT) return `${m.id}: CLUSTER SLOTS covers ${covered} slots`;
      }
      return true;
    });
  }

  /** `INFO cluster` field cluster_migration of a running node: 'warm', or 'cold' when absent. */
  async migrationMode(): Promise<'warm' | 'cold'> {
    for (const m of this.members.filter((x) => x.state === 'running')) {
      try {
        const info = replyText(await call(m.host, m.port, ['INFO', 'cluster'], 1000));
        return /^cluster_migration:\s*warm\s*$/m.test(info) ? 'warm' : 'cold';
      } catch {
        // try the next node
      }
    }
    return 'cold';
  }

  // ---- the map's history ----------------------------------------------------

  private async startWatching(): Promise<void> {
    const store = this.coord!.store;
    const key = clusterKeys(this.clusterName).map;
    const watchFrom = async (): Promise<void> => {
      const { revision } = await store.range(key);
      await this.readMap();
      this.watch = await store.watch(key, revision, {
        onEvents: (events) => {
          for (const e of events) if (e.type === 'put') this.record(ClusterMap.parse(e.entry.value));
        },
        onError: () => {
          if (!this.stopped) setTimeout(() => void watchFrom().catch(() => {}), 200).unref();
        },
      });
    };
    await watchFrom();
    // A watch can lose events without an error; reading now and then fills gaps (versions are deduplicated by epoch).
    this.poll = setInterval(() => void this.readMap().catch(() => {}), 500);
    this.poll.unref();
  }

  private record(map: ClusterMap): void {
    const last = this.seen.at(-1);
    if (last !== undefined && map.epoch <= last.map.epoch) {
      if (map.epoch < last.map.epoch && !this.seen.some((v) => v.map.epoch === map.epoch)) {
        // An older version seen late (a watch event after a poll): keep it in order.
        this.seen.push({ at: performance.now(), map });
        this.seen.sort((a, b) => a.map.epoch - b.map.epoch);
      }
      return;
    }
    this.seen.push({ at: performance.now(), map });
  }

  private addressOf(map: ClusterMap, memberId: string): string {
    const n = map.node(memberId);
    return n === undefined ? memberId.slice(0, 8) : `${n.host}:${n.port}`;
  }

  ownerAt(slot: number, at: number): string | undefined {
    let map: ClusterMap | undefined;
    for (const v of this.seen) if (v.at <= at && (map === undefined || v.map.epoch > map.epoch)) map = v.map;
    const owner = map?.ownerOf(slot);
    return owner === undefined ? undefined : `${owner.host}:${owner.port} (epoch ${map!.epoch})`;
  }

  /** What happened that nobody asked for (a node exiting by itself), one line each. */
  notes(): string[] {
    return [...this.events];
  }

  /** Every map version seen, in epoch order. */
  mapHistory(): MapVersion[] {
    return this.seen.map(({ at, map }) => ({
      at,
      epoch: map.epoch,
      nodes: map.nodes.map((n) => ({ address: `${n.host}:${n.port}`, member: n.id.slice(0, 8), state: n.state, slots: map.slotCount(n.id) })),
      moves: map.moves.map((mv) => ({ from: this.addressOf(map, mv.from), to: this.addressOf(map, mv.to), slots: mv.ranges.reduce((s, [a, b]) => s + b - a + 1, 0) })),
    }));
  }

  /**
   * Each change of slot owners between two versions seen after `since`
   * (performance.now(); default: when start() found the cluster serving, so
   * the joins of start-up do not count): per slot, 1 when it was handed over
   * (through a recorded move, or across a version gap while the old owner was
   * still listed and not failed), 2 when it was reassigned (the owner died),
   * 0 when it kept its owner.
   */
  slotChanges(since = this.servingSince): Array<{ at: number; fates: Uint8Array }> {
    const out: Array<{ at: number; fates: Uint8Array }> = [];
    for (let i = 1; i < this.seen.length; i++) {
      if (this.seen[i]!.at < since) continue;
      const prev = this.seen[i - 1]!.map;
      const next = this.seen[i]!.map;
      const gap = next.epoch - prev.epoch > 1;
      const fates = new Uint8Array(SLOT_COUNT);
      let changed = false;
      for (let s = 0; s < SLOT_COUNT; s++) {
        const a = prev.ownerOf(s);
        const b = next.ownerOf(s);
        if (a === undefined || b === undefined || a.id === b.id) continue;
        const moved = prev.moves.some((mv) => mv.from === a.id && mv.to === b.id && mv.ranges.some(([lo, hi]) => s >= lo && s <= hi));
        const still = next.node(a.id);
        fates[s] = moved || (gap && still !== undefined && still.state !== 'failed') ? 1 : 2;
        changed = true;
      }
      if (changed) out.push({ at: this.seen[i]!.at, fates });
    }
    return out;
  }

  /** Per slot, the worst of its changes over the run (indexes into SLOT_FATES): reassigned > handed over > kept. */
  slotFates(since = this.servingSince): Uint8Array {
    const fates = new Uint8Array(SLOT_COUNT);
    for (const change of this.slotChanges(since)) for (let s = 0; s < SLOT_COUNT; s++) if (change.fates[s]! > fates[s]!) fates[s] = change.fates[s]!;
    return fates;
  }
}

/** Slots listed by a CLUSTER SLOTS reply ([[start, end, [host, port, id]...]...]). */
function slotsCovered(reply: unknown): number {
  if (!Array.isArray(reply)) return 0;
  let n = 0;
  for (const r of reply) if (Array.isArray(r) && typeof r[0] === 'number' && typeof r[1] === 'number') n += r[1] - r[0] + 1;
  return n;
}

function splitAddress(address: string): [string, number] {
  const i = address.lastIndexOf(':');
  return [address.slice(0, i).replace(/^\[|\]$/g, ''), Number(address.slice(i + 1))];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
