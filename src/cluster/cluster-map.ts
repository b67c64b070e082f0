/**
 * The cluster map: one versioned document saying who the nodes are and which
 * node owns each of the 16384 slots. It is what the controller writes to the
 * coordinator, what every node applies in epoch order, and the single source of
 * CLUSTER SLOTS/SHARDS/NODES/INFO, MOVED and proxy forwarding. Pure: no I/O.
 *
 * Slots are stored as ranges of node indexes (`[start, end, node]`), so a map of
 * 64 nodes is a few tens of KB of JSON.
 */
import { z } from 'zod';
import { ownerRanges, SLOT_COUNT, type SlotOwners } from './planner.js';

export { SLOT_COUNT };

export const NODE_STATES = ['joining', 'up', 'leaving', 'failed'] as const;
export type NodeState = (typeof NODE_STATES)[number];

export interface MapNode {
  /** 40 hex digits, generated when the node process starts: a restarted node is a new member. */
  readonly id: string;
  readonly host: string;
  readonly port: number;
  /** A primary owns slots; a replica copies one primary's keys and takes its slots over on failover. */
  readonly role: NodeRole;
  readonly state: NodeState;
  readonly weight: number;
  /** For a replica: its primary's id. */
  readonly primary?: string;
  /**
   * For a replica: it is in its shard's in-sync set (it has everything its
   * primary acknowledged in sync mode; only such a replica is promoted). The
   * primary reports it; a replica leaves the set in a new map version before
   * its primary acknowledges a write it lacks.
   */
  readonly synced?: boolean;
  /** Placement label (`--zone`): replicas go to other zones than their primary when they can. */
  readonly zone?: string;
}

export const NODE_ROLES = ['primary', 'replica'] as const;
export type NodeRole = (typeof NODE_ROLES)[number];

export const CONSISTENCY_MODES = ['async', 'sync'] as const;
export type Consistency = (typeof CONSISTENCY_MODES)[number];

/** Cluster-wide settings, stored in the coordinator and carried in every map version. */
export interface ClusterSettings {
  /** Replicas per primary. */
  readonly replicas: number;
  /** async: a write is acknowledged once applied on its primary; sync: once every in-sync replica has it too. */
  readonly consistency: Consistency;
}

export const DEFAULT_SETTINGS: ClusterSettings = { replicas: 0, consistency: 'async' };

export const settingsSchema = z.object({
  replicas: z.number().int().min(0).max(5),
  consistency: z.enum(CONSISTENCY_MODES),
});

/**
 * A slot move in progress (warm migration, src/migration/): `from` keeps
 * serving the slots while it copies their keys to `to`, then holds writes to
 * them, acknowledges the move under `acks/` in the coordinator, and the next
 * epoch gives the slots to `to`. Meanwhile `to` holds commands for them.
 */
export interface SlotMove {
  readonly from: string;
  readonly to: string;
  /** Inclusive ranges. */
  readonly ranges: ReadonlyArray<readonly [number, number]>;
  /** The epoch that started the move: with from and to, the move's identity (moveId). */
  readonly since: number;
}

/** A move's identity across map versions: what its acknowledgement and progress are filed under. */
export function moveId(move: Pick<SlotMove, 'from' | 'to' | 'since'>): string {
  return `${move.from}-${move.to}-${move.since}`;
}

export interface ClusterMapDoc {
  readonly format: 1;
  readonly cluster: string;
  readonly epoch: number;
  readonly nodes: readonly MapNode[];
  /** Owned ranges `[start, end, index into nodes]`; slots not listed have no owner. */
  readonly slots: ReadonlyArray<readonly [number, number, number]>;
  readonly moves: readonly SlotMove[];
  /** Absent in maps written before replication existed: DEFAULT_SETTINGS. */
  readonly settings?: ClusterSettings;
}

const slotNumber = z.number().int().min(0).max(SLOT_COUNT - 1);
const docSchema = z.object({
  format: z.literal(1),
  cluster: z.string().min(1),
  epoch: z.number().int().min(0),
  nodes: z.array(z.object({
    id: z.string().regex(/^[0-9a-f]{40}$/),
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535),
    role: z.enum(NODE_ROLES),
    state: z.enum(NODE_STATES),
    weight: z.number().positive().finite(),
    primary: z.string().regex(/^[0-9a-f]{40}$/).optional(),
    synced: z.boolean().optional(),
    zone: z.string().min(1).max(64).optional(),
  })),
  slots: z.array(z.tuple([slotNumber, slotNumber, z.number().int().min(0)])),
  moves: z.array(z.object({ from: z.string(), to: z.string(), ranges: z.array(z.tuple([slotNumber, slotNumber])), since: z.number().int().min(0) })),
  settings: settingsSchema.optional(),
});

export interface SlotRange {
  start: number;
  end: number;
  node: MapNode;
}

export class ClusterMap {
  readonly cluster: string;
  readonly epoch: number;
  readonly nodes: readonly MapNode[];
  readonly moves: readonly SlotMove[];
  readonly settings: ClusterSettings;
  /** slot -> index into nodes, -1 when no node owns it. */
  private readonly owners: Int32Array;
  /** slot -> index into nodes of the node it is being handed to, -1 when it is not moving. */
  private readonly incoming: Int32Array;
  private readonly byId: Map<string, number>;
  private rangeCache: SlotRange[] | undefined;

  private constructor(doc: ClusterMapDoc) {
    this.cluster = doc.cluster;
    this.epoch = doc.epoch;
    this.nodes = doc.nodes;
    this.moves = doc.moves;
    this.settings = doc.settings ?? DEFAULT_SETTINGS;
    this.byId = new Map(doc.nodes.map((n, i) => [n.id, i]));
    if (this.byId.size !== doc.nodes.length) throw new Error('the map lists a node id twice');
    for (const n of doc.nodes) {
      if (n.role === 'replica' && (n.primary === undefined || this.byId.get(n.primary) === undefined || doc.nodes[this.byId.get(n.primary)!]!.role !== 'primary')) {
        throw new Error(`replica ${n.id} names no primary of the map`);
      }
    }
    this.owners = new Int32Array(SLOT_COUNT).fill(-1);
    for (const [start, end, node] of doc.slots) {
      if (start > end || node >= doc.nodes.length) throw new Error(`invalid slot range ${start}-${end} -> ${node}`);
      for (let s = start; s <= end; s++) {
        if (this.owners[s] !== -1) throw new Error(`slot ${s} has two owners`);
        if (doc.nodes[node]!.role !== 'primary') throw new Error(`slot ${s} is owned by a replica`);
        this.owners[s] = node;
      }
    }
    this.incoming = new Int32Array(SLOT_COUNT).fill(-1);
    for (const m of doc.moves) {
      const from = this.byId.get(m.from);
      const to = this.byId.get(m.to);
      if (from === undefined || to === undefined) throw new Error(`a move names an unknown node (${m.from} -> ${m.to})`);
      for (const [start, end] of m.ranges) {
        for (let s = start; s <= end; s++) {
          if (this.owners[s] !== from) throw new Error(`slot ${s} moves from a node that does not own it`);
          this.incoming[s] = to;
        }
      }
    }
  }

  /** Validates a document (from the coordinator or a test) into a map; throws with what is wrong. */
  static fromDoc(doc: unknown): ClusterMap {
    const parsed = docSchema.safeParse(doc);
    if (!parsed.success) throw new Error(`invalid cluster map: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    return new ClusterMap(parsed.data);
  }

  static parse(json: string): ClusterMap {
    return ClusterMap.fromDoc(JSON.parse(json));
  }

  /** A map from planned owners (ids as in `owners.ids`, which must all be among nodes). */
  static build(cluster: string, epoch: number, nodes: readonly MapNode[], owners: SlotOwners, moves: readonly SlotMove[] = [], settings: ClusterSettings = DEFAULT_SETTINGS): ClusterMap {
    const index = new Map(nodes.map((n, i) => [n.id, i]));
    const slots: Array<[number, number, number]> = [];
    for (const r of ownerRanges(owners.owners)) {
      if (r.owner < 0) continue;
      const node = index.get(owners.ids[r.owner]!);
      if (node === undefined) throw new Error(`slot owner ${owners.ids[r.owner]} is not among the nodes`);
      slots.push([r.start, r.end, node]);
    }
    return new ClusterMap({ format: 1, cluster, epoch, nodes, slots, moves, settings });
  }

  toDoc(): ClusterMapDoc {
    const slots: Array<[number, number, number]> = [];
    for (const r of ownerRanges(this.owners)) if (r.owner >= 0) slots.push([r.start, r.end, r.owner]);
    return { format: 1, cluster: this.cluster, epoch: this.epoch, nodes: this.nodes, slots, moves: this.moves, settings: this.settings };
  }

  serialize(): string {
    return JSON.stringify(this.toDoc());
  }

  /** Owners as the planner takes them. */
  slotOwners(): SlotOwners {
    return { ids: this.nodes.map((n) => n.id), owners: Int32Array.from(this.owners) };
  }

  node(id: string): MapNode | undefined {
    const i = this.byId.get(id);
    return i === undefined ? undefined : this.nodes[i];
  }

  /** A primary's replicas, in map order. */
  replicasOf(primaryId: string): MapNode[] {
    return this.nodes.filter((n) => n.role === 'replica' && n.primary === primaryId);
  }

  /** The primaries (nodes that own or may own slots). */
  primaries(): MapNode[] {
    return this.nodes.filter((n) => n.role === 'primary');
  }

  ownerOf(slot: number): MapNode | undefined {
    const i = this.owners[slot]!;
    return i < 0 ? undefined : this.nodes[i];
  }

  /** The node a slot is being handed to, if it is moving. */
  incomingOf(slot: number): MapNode | undefined {
    const i = this.incoming[slot]!;
    return i < 0 ? undefined : this.nodes[i];
  }

  /** Maximal runs of consecutive slots with the same owner, in slot order (unowned slots left out). */
  ranges(): readonly SlotRange[] {
    if (this.rangeCache === undefined) {
      this.rangeCache = [];
      for (const r of ownerRanges(this.owners)) if (r.owner >= 0) this.rangeCache.push({ start: r.start, end: r.end, node: this.nodes[r.owner]! });
    }
    return this.rangeCache;
  }

  rangesOf(id: string): SlotRange[] {
    return this.ranges().filter((r) => r.node.id === id);
  }

  slotCount(id: string): number {
    const i = this.byId.get(id);
    if (i === undefined) return 0;
    let n = 0;
    for (let s = 0; s < SLOT_COUNT; s++) if (this.owners[s] === i) n++;
    return n;
  }

  /** Slots with an owner. */
  assignedSlots(): number {
    let n = 0;
    for (let s = 0; s < SLOT_COUNT; s++) if (this.owners[s]! >= 0) n++;
    return n;
  }

  /** Slots whose owner is marked failed (nobody serves them). */
  failedSlots(): number {
    let n = 0;
    for (let s = 0; s < SLOT_COUNT; s++) {
      const i = this.owners[s]!;
      if (i >= 0 && this.nodes[i]!.state === 'failed') n++;
    }
    return n;
  }
}
