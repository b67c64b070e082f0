/**
 * The cluster's slot map as the client sees it: which node serves each of the
 * 16384 slots. Parsing CLUSTER SHARDS / CLUSTER SLOTS replies is pure; where the
 * map comes from is a one-method seam (TopologySource), so it can later be read
 * from etcd instead of from the nodes.
 */
import { ClusterDownError, ReplyError } from './errors.js';
import type { Reply } from './resp.js';

export const SLOTS = 16384;
/** In a slot table: no node serves this slot. */
export const UNASSIGNED = 0xffff;

/** A node's address. `id` is the node id when the source knows it. */
export interface NodeAddress {
  host: string;
  port: number;
  id?: string;
}

/** A primary and its replicas (ringcache advertises no replicas yet). */
export interface Shard {
  primary: NodeAddress;
  replicas: NodeAddress[];
}

/** A complete slot map: slots[s] is the index in `shards` of the shard that serves slot s, or UNASSIGNED. */
export interface TopologySnapshot {
  /** Every shard, primary first. */
  shards: Shard[];
  /** 16384 entries: the index in `shards` of the slot's shard, or UNASSIGNED. */
  slots: Uint16Array;
}

/** Where the slot map comes from. The client calls fetch() at start, on MOVED and after connection errors. */
export interface TopologySource {
  /** The current slot map; rejects if it cannot be learned now. */
  fetch(): Promise<TopologySnapshot>;
}

/** `host:port`, the key the client uses for a node. */
export const addressKey = (n: NodeAddress): string => `${n.host}:${n.port}`;

/** Parses `host:port` (IPv6 hosts may be bracketed: `[::1]:7000`). */
export function parseAddress(text: string): NodeAddress {
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(text.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || m[1] === '' || !Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`invalid node address "${text}" (expected host:port)`);
  return { host: m[1]!, port };
}

/** A topology in which one node serves every slot: a standalone (non-cluster) node. */
export function standaloneTopology(node: NodeAddress): TopologySnapshot {
  return { shards: [{ primary: { host: node.host, port: node.port }, replicas: [] }], slots: new Uint16Array(SLOTS) };
}

const str = (r: Reply | undefined): string => (Buffer.isBuffer(r) ? r.toString() : String(r ?? ''));

/** Collects shards by primary address while a reply is parsed. */
class Builder {
  readonly slots = new Uint16Array(SLOTS).fill(UNASSIGNED);
  readonly shards: Shard[] = [];
  private readonly index = new Map<string, number>();

  shardOf(primary: NodeAddress, replicas: NodeAddress[]): number {
    const key = addressKey(primary);
    let i = this.index.get(key);
    if (i === undefined) {
      i = this.shards.length;
      if (i >= UNASSIGNED) throw new Error('too many shards');
      this.shards.push({ primary, replicas });
      this.index.set(key, i);
    }
    return i;
  }

  assign(start: number, end: number, shard: number): void {
    if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && start <= end && end < SLOTS)) throw new Error(`invalid slot range ${start}-${end}`);
    this.slots.fill(shard, start, end + 1);
  }

  done(): TopologySnapshot {
    if (this.shards.length === 0) throw new Error('the topology lists no nodes');
    return { shards: this.shards, slots: this.slots };
  }
}

/**
 * CLUSTER SLOTS: `[[start, end, [host, port, id, ...], ...replicas], ...]`.
 * A node with an empty host is the one that answered (Redis's convention), so
 * `self` is its address.
 */
export function parseClusterSlots(reply: Reply, self: NodeAddress): TopologySnapshot {
  if (!Array.isArray(reply)) throw new Error('CLUSTER SLOTS did not return an array');
  const b = new Builder();
  const node = (r: Reply | undefined): NodeAddress => {
    if (!Array.isArray(r) || r.length < 2) throw new Error('malformed CLUSTER SLOTS node');
    const host = str(r[0]);
    return { host: host === '' || host === '?' ? self.host : host, port: Number(r[1]), id: r.length > 2 ? str(r[2]) : '' };
  };
  for (const entry of reply) {
    if (!Array.isArray(entry) || entry.length < 3) throw new Error('malformed CLUSTER SLOTS entry');
    const primary = node(entry[2]);
    const shard = b.shardOf(primary, entry.slice(3).map(node));
    b.assign(Number(entry[0]), Number(entry[1]), shard);
  }
  return b.done();
}

/** The fields of a RESP2 flat [k, v, k, v] array (how the client decodes maps too). */
function fields(r: Reply | undefined): Map<string, Reply> {
  const out = new Map<string, Reply>();
  if (!Array.isArray(r)) return out;
  for (let i = 0; i + 1 < r.length; i += 2) out.set(str(r[i]), r[i + 1]!);
  return out;
}

/**
 * CLUSTER SHARDS: one entry per shard, `slots` as a flat [start, end, ...] list
 * and `nodes` with role, ip/endpoint and port. Smaller than CLUSTER SLOTS for
 * ringcache, whose nodes own thousands of short ranges (each node is listed
 * once per shard instead of once per range).
 */
export function parseClusterShards(reply: Reply, self: NodeAddress): TopologySnapshot {
  if (!Array.isArray(reply)) throw new Error('CLUSTER SHARDS did not return an array');
  const b = new Builder();
  for (const entry of reply) {
    const f = fields(entry);
    const ranges = f.get('slots');
    const nodes = f.get('nodes');
    if (!Array.isArray(ranges) || !Array.isArray(nodes)) throw new Error('malformed CLUSTER SHARDS entry');
    let primary: NodeAddress | undefined;
    const replicas: NodeAddress[] = [];
    for (const n of nodes) {
      const nf = fields(n);
      if (str(nf.get('health') ?? 'online') === 'fail') continue;
      const endpoint = str(nf.get('endpoint') ?? nf.get('ip'));
      const host = endpoint === '' || endpoint === '?' ? str(nf.get('ip')) || self.host : endpoint;
      const addr: NodeAddress = { host, port: Number(nf.get('port') ?? nf.get('tls-port')), id: str(nf.get('id')) };
      if (str(nf.get('role')) === 'master' && primary === undefined) primary = addr;
      else replicas.push(addr);
    }
    if (primary === undefined) {
      if (ranges.length > 0) throw new Error('a CLUSTER SHARDS entry with slots has no primary');
      continue;
    }
    const shard = b.shardOf(primary, replicas);
    for (let i = 0; i + 1 < ranges.length; i += 2) b.assign(Number(ranges[i]), Number(ranges[i + 1]), shard);
  }
  return b.done();
}

/** Whether two snapshots route every slot to the same primary. */
export function sameRouting(a: TopologySnapshot, b: TopologySnapshot): boolean {
  for (let s = 0; s < SLOTS; s++) {
    const x = a.slots[s]!;
    const y = b.slots[s]!;
    if ((x === UNASSIGNED) !== (y === UNASSIGNED)) return false;
    if (x !== UNASSIGNED && addressKey(a.shards[x]!.primary) !== addressKey(b.shards[y]!.primary)) return false;
  }
  return true;
}

/** Sends one command to a node and resolves with its reply (the client's connection pool provides it). */
export type NodeQuery = (node: NodeAddress, args: string[]) => Promise<Reply>;

const CLUSTER_DISABLED = /cluster support disabled/i;

/**
 * Learns the topology from the nodes themselves: CLUSTER SHARDS, or CLUSTER
 * SLOTS where SHARDS is unknown. Asks the nodes of the current map first, then
 * the seeds, and takes the first answer. A node with cluster support disabled
 * is a standalone node that serves every slot.
 */
export class ClusterTopologySource implements TopologySource {
  /** seeds: always asked last; query: sends one command to a node; known: the nodes of the current map, asked first. */
  constructor(
    private readonly seeds: readonly NodeAddress[],
    private readonly query: NodeQuery,
    private readonly known: () => readonly NodeAddress[] = () => [],
  ) {}

  /** Asks each candidate in turn; ClusterDownError if none answers. */
  async fetch(): Promise<TopologySnapshot> {
    const candidates = new Map<string, NodeAddress>();
    for (const n of [...this.known(), ...this.seeds]) candidates.set(addressKey(n), n);
    let last: unknown;
    for (const node of candidates.values()) {
      try {
        return await this.fetchFrom(node);
      } catch (err) {
        last = err;
      }
    }
    throw new ClusterDownError(`could not learn the cluster topology from any of ${[...candidates.keys()].join(', ')}: ${(last as Error)?.message}`, { cause: last });
  }

  private async fetchFrom(node: NodeAddress): Promise<TopologySnapshot> {
    const shards = await this.query(node, ['CLUSTER', 'SHARDS']);
    if (!(shards instanceof ReplyError)) return parseClusterShards(shards, node);
    if (CLUSTER_DISABLED.test(shards.message)) return standaloneTopology(node);
    const slots = await this.query(node, ['CLUSTER', 'SLOTS']);
    if (slots instanceof ReplyError) throw slots;
    return parseClusterSlots(slots, node);
  }
}
