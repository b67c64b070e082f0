/**
 * A topology: who owns each slot (a primary and R-1 replicas) at an epoch that
 * only grows. Derived from a member set by the slot map; pure, no I/O.
 */
import { createHash } from 'node:crypto';
import { assignSlots, SLOT_COUNT } from './slot-map.js';

export interface NodeAddress {
  host: string;
  port: number;
  /** Relative capacity for the slot map (default 1). */
  weight?: number;
}

export interface ClusterNode extends NodeAddress {
  /** host:port, the identity the slot map hashes. */
  readonly key: string;
  /** A 40-hex-digit id, as Redis Cluster node ids, derived from host:port. */
  readonly id: string;
}

export interface SlotRange {
  start: number;
  end: number;
  /** Primary first, then replicas. */
  nodes: ClusterNode[];
}

export { keySlot } from './key-slot.js';

export function nodeKey(a: NodeAddress): string {
  return `${a.host}:${a.port}`;
}

export function nodeId(a: NodeAddress): string {
  return createHash('sha1').update(nodeKey(a)).digest('hex');
}

export class Topology {
  readonly nodes: readonly ClusterNode[];
  /** slot -> index into nodes of its primary. */
  private readonly owners: Uint16Array;
  private readonly rangeList: SlotRange[];
  /** Each primary's ranges (host:port -> ranges), for CLUSTER SHARDS/NODES/INFO and summaries. */
  readonly rangesByPrimary: ReadonlyMap<string, readonly SlotRange[]>;

  constructor(
    readonly epoch: number,
    members: readonly NodeAddress[],
    readonly replicationFactor = 1,
  ) {
    if (!Number.isInteger(replicationFactor) || replicationFactor < 1) throw new Error('the replication factor must be at least 1');
    const byKey = new Map(members.map((m) => [nodeKey(m), m]));
    const { members: sorted, owners } = assignSlots(members.map((m) => ({ id: nodeKey(m), weight: m.weight ?? 1 })));
    this.nodes = sorted.map((m) => {
      const a = byKey.get(m.id)!;
      return { host: a.host, port: a.port, weight: a.weight ?? 1, key: m.id, id: nodeId(a) };
    });
    this.owners = owners;
    this.rangeList = this.buildRanges();
    const byPrimary = new Map<string, SlotRange[]>();
    for (const r of this.rangeList) {
      const list = byPrimary.get(r.nodes[0]!.key);
      if (list) list.push(r);
      else byPrimary.set(r.nodes[0]!.key, [r]);
    }
    this.rangesByPrimary = byPrimary;
  }

  primaryOf(slot: number): ClusterNode {
    return this.nodes[this.owners[slot]!]!;
  }

  /** Primary and replicas of a slot: the primary, then the next R-1 distinct nodes in ring order. */
  ownersOf(slot: number): ClusterNode[] {
    const n = this.nodes.length;
    const first = this.owners[slot]!;
    const out: ClusterNode[] = [];
    for (let k = 0; k < Math.min(this.replicationFactor, n); k++) out.push(this.nodes[(first + k) % n]!);
    return out;
  }

  /** Maximal runs of consecutive slots with the same owners, in slot order. */
  ranges(): readonly SlotRange[] {
    return this.rangeList;
  }

  private buildRanges(): SlotRange[] {
    const out: SlotRange[] = [];
    let start = 0;
    for (let s = 1; s <= SLOT_COUNT; s++) {
      if (s === SLOT_COUNT || this.owners[s] !== this.owners[start]) {
        out.push({ start, end: s - 1, nodes: this.ownersOf(start) });
        start = s;
      }
    }
    return out;
  }

  byKey(key: string): ClusterNode | undefined {
    return this.nodes.find((n) => n.key === key);
  }
}
