/**
 * The cluster a scenario drives, as one interface, so the same scenario runs on
 * every backend: today's ringcache nodes with static membership
 * (static-cluster.ts), a Redis Cluster of the same shape for `--against
 * redis-cluster` (redis-cluster.ts), and the dynamic cluster of the node
 * manager (dynamic-cluster.ts), which adds addNode/removeNode and the map's
 * history.
 *
 * A backend starts its processes on free loopback ports, reports its nodes,
 * injects process faults on them and stops everything it started. Faults take
 * a node (handle or id) and resolve once the fault is in effect: kill9 once the
 * process has exited, restart once the node is ready again on its address.
 */

export type NodeState = 'running' | 'paused' | 'stopped' | 'killed' | 'removed';

export interface NodeHandle {
  /** Stable for the node's whole life, restarts included (host:port for the static and Redis backends). */
  readonly id: string;
  readonly host: string;
  readonly port: number;
  /** The current process, null while it is not running. */
  readonly pid: number | null;
  readonly state: NodeState;
}

export interface ClusterCapabilities {
  /** How members are known: the promise a scenario's verdicts are held to depends on it. */
  membership: 'static' | 'dynamic' | 'redis-cluster' | 'standalone';
  /** Copies of each key beyond the primary (0: a dead node's keys are gone). */
  replicas: number;
  /** addNode/removeNode work. */
  addRemove: boolean;
  /** Clients must speak the cluster protocol (MOVED, CLUSTER SLOTS); false for a standalone node. */
  clustered: boolean;
}

export interface ClusterUnderTest {
  /** 'ringcache' or 'redis-cluster': the column of the report. */
  readonly system: 'ringcache' | 'redis-cluster';
  /** One line, e.g. "ringcache, 3 nodes, static membership, no replicas". */
  readonly description: string;
  readonly capabilities: ClusterCapabilities;
  /** Starts every node and resolves once the cluster serves every slot. */
  start(): Promise<void>;
  /**
   * Resolves once every running node serves its slots again (after faults: a
   * Redis Cluster clears its fail state, a dynamic cluster converges on its
   * map); rejects after timeoutMs. Before a final read, so it checks the data,
   * not a recovery still in progress.
   */
  waitUntilServing(timeoutMs: number): Promise<void>;
  /** Snapshots of the nodes, removed ones included (state 'removed'). */
  nodes(): NodeHandle[];
  /** host:port addresses a client may start from (the running nodes). */
  seeds(): string[];
  /** SIGKILL; resolves once the process has exited. */
  kill9(node: NodeRef): Promise<void>;
  /** SIGSTOP: the process stays, its sockets stop answering. */
  pause(node: NodeRef): Promise<void>;
  /** SIGCONT. */
  resume(node: NodeRef): Promise<void>;
  /** SIGTERM (a graceful stop); resolves once the process has exited. */
  terminate(node: NodeRef): Promise<void>;
  /** Starts a killed or stopped node again on its address; resolves once it is ready. */
  restart(node: NodeRef): Promise<void>;
  /** A new member; rejects with NotSupportedError where membership is static. */
  addNode(): Promise<NodeHandle>;
  /** Takes a member out of the cluster; rejects with NotSupportedError where membership is static. */
  removeNode(node: NodeRef): Promise<void>;
  /** Stops every process this cluster started (idempotent). */
  stop(): Promise<void>;
  /** Node manager: cuts the node's link to the coordinator (the node itself stays up and reachable by clients). */
  isolate?(node: NodeRef): Promise<void>;
  /** Undoes isolate: the link back; a node that lost its lease meanwhile exits, and is started again (resolves once it owns its share). */
  heal?(node: NodeRef): Promise<void>;
  /** Backends with a versioned slot map (the node manager): every version seen. */
  mapHistory?(): MapVersion[];
  /** Per slot, an index into SLOT_FATES: what happened to its keys since the cluster first served. */
  slotFates?(): Uint8Array;
  /** Each change of owners since the cluster first served: when it was seen (performance.now()) and, per slot, an index into SLOT_FATES (0: unchanged). */
  slotChanges?(): Array<{ at: number; fates: Uint8Array }>;
  /** The slot's owner (host:port) in the last version seen by `at` (performance.now()); undefined before the first. */
  ownerAt?(slot: number, at: number): string | undefined;
  /** Things the backend saw that nobody asked for (a node exiting by itself), one line each. */
  notes?(): string[];
  /** What a handover does with a slot's keys, as the nodes say (INFO cluster's cluster_migration; absent: cold). */
  migrationMode?(): Promise<'warm' | 'cold'>;
}

/** One version of a cluster map as the runner saw it. */
export interface MapVersion {
  /** When it was seen: performance.now() from the backend, ms on the run clock in a RunResult. */
  at: number;
  epoch: number;
  nodes: Array<{ address: string; member: string; state: string; slots: number }>;
  moves: Array<{ from: string; to: string; slots: number }>;
}

/** What happened to a slot's keys over a run: never moved, handed over by a live owner, or given away from a dead one. */
export type SlotFate = 'kept' | 'handed-over' | 'reassigned';
export const SLOT_FATES: readonly SlotFate[] = ['kept', 'handed-over', 'reassigned'];

export type NodeRef = NodeHandle | string;

/** An operation this backend cannot do (scenarios report it, they do not crash). */
export class NotSupportedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotSupportedError';
  }
}

export const refId = (node: NodeRef): string => (typeof node === 'string' ? node : node.id);
