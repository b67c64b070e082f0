/**
 * The controller's one decision, pure: given the map in force and the members
 * alive now, the next map version to write, or undefined when there is nothing
 * to do (or the controller must wait for a node to acknowledge a handover).
 * Every step is a function of what is stored, so a controller killed at any
 * point is replaced by one that reads the same state and takes the same step.
 *
 * A slot changes owner in one of two ways:
 * - its owner is gone (lease expired): it is assigned to its new owner at once
 *   (with no replicas its keys are gone; the new owner starts it empty);
 * - its owner is alive (a join, a leave, a removal): a warm move. Version N+1
 *   keeps the owner and records the move; the old owner keeps serving while it
 *   copies the slots' keys to the new one (src/migration/), then holds writes
 *   to them and acknowledges the move (an ack key); then a later version gives
 *   the slots to the new owner, which holds commands for them meanwhile. No
 *   two nodes ever serve a slot at once.
 *
 * A move whose new owner dies is dropped (the old owner serves on); a move
 * whose old owner dies is committed at once, as a failure (the new owner keeps
 * the copy only if it was complete).
 */
import { ClusterMap, moveId, type MapNode, type SlotMove } from './cluster-map.js';
import { planSlots, SLOT_COUNT } from './planner.js';

/** A member as it registers itself in the coordinator (under its lease). */
export interface MemberRecord {
  id: string;
  host: string;
  port: number;
  weight: number;
  /** 'leaving' once it asked to leave (SIGTERM): its slots are handed over, then it is dropped. */
  state: 'up' | 'leaving';
  /** The last map epoch this member applied. */
  appliedEpoch: number;
}

export interface ReconcileInput {
  cluster: string;
  map: ClusterMap | undefined;
  /** Members whose lease is alive. */
  members: readonly MemberRecord[];
  /** Ids an operator asked to remove (`ringcache cluster remove`). */
  removals: ReadonlySet<string>;
  /** moveIds whose old owner has copied the slots and holds their writes. */
  acks: ReadonlySet<string>;
}

export function reconcile(input: ReconcileInput): ClusterMap | undefined {
  const { cluster, map, removals } = input;
  const alive = new Map(input.members.map((m) => [m.id, m]));
  const leaving = (m: MemberRecord) => m.state === 'leaving' || removals.has(m.id);
  const serving = input.members.filter((m) => !leaving(m));
  if (map === undefined) {
    if (serving.length === 0) return undefined;
    const nodes = serving.map((m) => mapNode(m, 'up'));
    return ClusterMap.build(cluster, 1, nodes, planSlots(undefined, nodes));
  }
  const owners = map.slotOwners();
  const ownerId = (slot: number) => (owners.owners[slot]! < 0 ? undefined : owners.ids[owners.owners[slot]!]);

  // 1. Moves in flight: commit those whose old owner acknowledged (or died), drop those whose new owner died.
  if (map.moves.length > 0) {
    const remaining: SlotMove[] = [];
    const next = Int32Array.from(owners.owners);
    const ids = [...owners.ids];
    let changed = false;
    for (const move of map.moves) {
      const from = alive.get(move.from);
      const toAlive = alive.has(move.to);
      if (!toAlive) {
        changed = true; // cancelled: the old owner (if alive) serves them again, or the next step reassigns them
        continue;
      }
      if (from === undefined || input.acks.has(moveId(move))) {
        const to = ids.indexOf(move.to);
        for (const [start, end] of move.ranges) for (let s = start; s <= end; s++) next[s] = to;
        changed = true;
      } else remaining.push(move);
    }
    // Waiting on an acknowledgement must not leave a dead node's slots unserved meanwhile.
    if (reassignDead(alive, serving, ids, next)) changed = true;
    if (!changed) return undefined;
    return ClusterMap.build(cluster, map.epoch + 1, nodesFor(map, alive, leaving, { ids, owners: next }, remaining), { ids, owners: next }, remaining);
  }

  // 2. Plan: the members that should own slots, from the current owners.
  if (serving.length === 0) {
    // Nobody can take anything over: mark the dead as failed, change nothing else.
    const nodes = nodesFor(map, alive, leaving, owners, []);
    return sameMap(map, nodes, owners, []) ? undefined : ClusterMap.build(cluster, map.epoch + 1, nodes, owners, []);
  }
  const target = planSlots(owners, serving.map((m) => ({ id: m.id, weight: m.weight })));
  const ids = [...new Set([...owners.ids, ...target.ids])];
  const index = new Map(ids.map((id, i) => [id, i]));
  const next = new Int32Array(SLOT_COUNT);
  const moves = new Map<string, { from: string; to: string; slots: number[] }>();
  for (let s = 0; s < SLOT_COUNT; s++) {
    const cur = ownerId(s);
    const want = target.ids[target.owners[s]!]!;
    if (cur !== undefined && cur !== want && alive.has(cur)) {
      next[s] = index.get(cur)!; // handover: the old owner keeps it until it acknowledges
      const key = `${cur}>${want}`;
      let m = moves.get(key);
      if (m === undefined) moves.set(key, (m = { from: cur, to: want, slots: [] }));
      m.slots.push(s);
    } else next[s] = index.get(want)!;
  }
  const planned = { ids, owners: next };
  const moveList: SlotMove[] = [...moves.values()].map((m) => ({ from: m.from, to: m.to, ranges: toRanges(m.slots), since: map.epoch + 1 }));
  const nodes = nodesFor(map, alive, leaving, planned, moveList);
  if (sameMap(map, nodes, planned, moveList)) return undefined;
  return ClusterMap.build(cluster, map.epoch + 1, nodes, planned, moveList);
}

/**
 * Gives the slots of owners that are gone to the members the planner picks,
 * leaving every other slot as it is (a handover may still be in flight).
 * Returns whether any slot changed.
 */
function reassignDead(alive: ReadonlyMap<string, MemberRecord>, serving: readonly MemberRecord[], ids: string[], next: Int32Array): boolean {
  if (serving.length === 0) return false;
  const isDead = (s: number) => next[s]! >= 0 && !alive.has(ids[next[s]!]!);
  let dead = false;
  for (let s = 0; s < SLOT_COUNT && !dead; s++) dead = isDead(s);
  if (!dead) return false;
  const target = planSlots({ ids, owners: next }, serving.map((m) => ({ id: m.id, weight: m.weight })));
  for (let s = 0; s < SLOT_COUNT; s++) {
    if (!isDead(s)) continue;
    const want = target.ids[target.owners[s]!]!;
    let i = ids.indexOf(want);
    if (i < 0) i = ids.push(want) - 1;
    next[s] = i;
  }
  return true;
}

function mapNode(m: MemberRecord, state: MapNode['state']): MapNode {
  return { id: m.id, host: m.host, port: m.port, role: 'primary', state, weight: m.weight };
}

/**
 * The nodes a new version lists: every live member (joining until it owns
 * slots, leaving once it asked to), and dead nodes only while they still own
 * slots (failed: nobody could take them). A leaving member that owns nothing
 * and takes part in no handover is dropped: it sees that and exits.
 */
function nodesFor(
  map: ClusterMap,
  alive: ReadonlyMap<string, MemberRecord>,
  leaving: (m: MemberRecord) => boolean,
  owners: { ids: readonly string[]; owners: Int32Array },
  moves: readonly SlotMove[],
): MapNode[] {
  const owning = new Set<string>();
  for (let s = 0; s < SLOT_COUNT; s++) if (owners.owners[s]! >= 0) owning.add(owners.ids[owners.owners[s]!]!);
  const inMoves = new Set(moves.flatMap((m) => [m.from, m.to]));
  const out: MapNode[] = [];
  const listed = new Set<string>();
  for (const m of alive.values()) {
    if (leaving(m)) {
      if (owning.has(m.id) || inMoves.has(m.id)) out.push(mapNode(m, 'leaving'));
    } else out.push(mapNode(m, owning.has(m.id) ? 'up' : 'joining'));
    listed.add(m.id);
  }
  for (const n of map.nodes) if (!listed.has(n.id) && owning.has(n.id)) out.push({ ...n, state: 'failed' });
  return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

function toRanges(slots: readonly number[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const s of slots) {
    const last = out[out.length - 1];
    if (last !== undefined && last[1] === s - 1) last[1] = s;
    else out.push([s, s]);
  }
  return out;
}

function sameMap(map: ClusterMap, nodes: MapNode[], owners: { ids: readonly string[]; owners: Int32Array }, moves: readonly SlotMove[]): boolean {
  const a = map.toDoc();
  const b = ClusterMap.build(map.cluster, map.epoch, nodes, owners, moves).toDoc();
  return JSON.stringify(a) === JSON.stringify(b);
}
