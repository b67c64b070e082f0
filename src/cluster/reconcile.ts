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
 *
 * Replicas (settings.replicas > 0). A member is given a role when it first
 * appears: the replica of the primary with the fewest replicas while some
 * primary has fewer than the setting, a primary otherwise (the first map makes
 * max(1, floor(n / (replicas + 1))) primaries). Roles then change only by
 * failover: a primary that is dead (lease gone), unreachable (the
 * controller's probes, `unreachable`) or handing off (it leaves and reported
 * `handoff` once its chosen replica has everything) is replaced in one version
 * by its in-sync replica with the highest reported offset; its other replicas
 * follow the new primary, and the old one, if alive, becomes its replica. A
 * primary with no such replica is handled as without replicas, except in sync
 * mode, where its slots stay down (serving them empty would lose acknowledged
 * writes) until a replica or an operator's removal settles it.
 */
import { ClusterMap, DEFAULT_SETTINGS, moveId, type ClusterSettings, type MapNode, type SlotMove } from './cluster-map.js';
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
  /** Placement label (`--zone`). */
  zone?: string;
  /** A replica: the stream offset it applied from its primary (its rank for promotion). */
  replOffset?: number;
  /** A primary: its replicas that have everything it streamed (the in-sync set it asks for). */
  inSync?: string[];
  /**
   * A primary handing its slots to one of its replicas (a SIGTERM, or CLUSTER
   * FAILOVER on that replica): the replica holds everything it acknowledged,
   * and it holds writes until the map gives the slots away.
   */
  handoff?: string;
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
  /** Cluster settings from the coordinator (default: the map's, else DEFAULT_SETTINGS). */
  settings?: ClusterSettings;
  /** Members the controller's probes could not reach for its failover delay (alive by lease or not). */
  unreachable?: ReadonlySet<string>;
  /** CLUSTER FAILOVER FORCE|TAKEOVER sent to these replicas: promote them without their primary's agreement. */
  forced?: ReadonlyMap<string, 'force' | 'takeover'>;
}

interface Role {
  role: MapNode['role'];
  primary?: string;
  synced?: boolean;
}

export function reconcile(input: ReconcileInput): ClusterMap | undefined {
  const { cluster, map, removals } = input;
  const settings = input.settings ?? map?.settings ?? DEFAULT_SETTINGS;
  const alive = new Map(input.members.map((m) => [m.id, m]));
  const leaving = (m: MemberRecord) => m.state === 'leaving' || removals.has(m.id);
  if (map === undefined) {
    const serving = input.members.filter((m) => !leaving(m)).sort(byId);
    if (serving.length === 0) return undefined;
    const roles = firstRoles(serving, settings);
    const nodes = serving.map((m) => mapNode(m, 'up', roles.get(m.id)!));
    const primaries = nodes.filter((n) => n.role === 'primary');
    return ClusterMap.build(cluster, 1, nodes, planSlots(undefined, primaries), [], settings);
  }

  // 0. Failover: a primary gone, unreachable or handing off is replaced by its best in-sync replica.
  const promoted = failover(map, input, alive, leaving, settings);
  if (promoted !== undefined) {
    const owners = map.slotOwners();
    const ids = [...owners.ids];
    for (const [from, to] of promoted) {
      let t = ids.indexOf(to);
      if (t < 0) t = ids.push(to) - 1;
      const f = ids.indexOf(from);
      for (let s = 0; s < SLOT_COUNT; s++) if (owners.owners[s] === f) owners.owners[s] = t;
    }
    // Moves to or from a replaced primary are cancelled: the new primary starts from what it replicated.
    const moves = map.moves.filter((m) => !promoted.has(m.from) && !promoted.has(m.to));
    const roles = rolesFor(map, alive, leaving, settings, promoted);
    const next = { ids, owners: owners.owners };
    return ClusterMap.build(cluster, map.epoch + 1, nodesFor(map, alive, leaving, next, moves, roles), next, moves, settings);
  }

  const roles = rolesFor(map, alive, leaving, settings, new Map());
  // A leaving primary with an in-sync replica hands its slots to it (a failover it asks for) instead of moving them.
  const handsOff = (m: MemberRecord) => leaving(m) && map.replicasOf(m.id).some((r) => r.synced === true && alive.has(r.id));
  const serving = input.members.filter((m) => (!leaving(m) || handsOff(m)) && roles.get(m.id)?.role !== 'replica');
  // In sync mode a dead primary's slots are not reassigned empty: that would lose what it acknowledged.
  const keepDown = settings.replicas > 0 && settings.consistency === 'sync';
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
    if (!keepDown && reassignDead(alive, serving, ids, next)) changed = true;
    const planned = { ids, owners: next };
    const nodes = nodesFor(map, alive, leaving, planned, remaining, roles);
    if (!changed && sameMap(map, nodes, planned, remaining, settings)) return undefined;
    return ClusterMap.build(cluster, map.epoch + 1, nodes, planned, remaining, settings);
  }

  // 2. Plan: the members that should own slots, from the current owners.
  const deadOwner = [...new Set(owners.owners)].some((i) => i >= 0 && !alive.has(owners.ids[i]!));
  if (input.members.length > 0 && input.members.every(leaving)) {
    // The whole cluster is stopping (ringcache dev's Ctrl-C, an orchestrated shutdown): nobody is left
    // to take the slots, so each member lets go of them and goes, instead of waiting out its leave timeout.
    const none = { ids: [], owners: new Int32Array(SLOT_COUNT).fill(-1) };
    const nodes = nodesFor(map, alive, leaving, none, [], roles);
    return sameMap(map, nodes, none, [], settings) ? undefined : ClusterMap.build(cluster, map.epoch + 1, nodes, none, [], settings);
  }
  if (serving.length === 0 || (keepDown && deadOwner)) {
    // Nobody can take anything over (or must not, in sync mode): change nothing but the nodes' states and roles.
    const nodes = nodesFor(map, alive, leaving, owners, [], roles);
    return sameMap(map, nodes, owners, [], settings) ? undefined : ClusterMap.build(cluster, map.epoch + 1, nodes, owners, [], settings);
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
  const nodes = nodesFor(map, alive, leaving, planned, moveList, roles);
  if (sameMap(map, nodes, planned, moveList, settings)) return undefined;
  return ClusterMap.build(cluster, map.epoch + 1, nodes, planned, moveList, settings);
}

function byId(a: { id: string }, b: { id: string }): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** The first map's roles: max(1, floor(n / (replicas + 1))) primaries, then each other member a replica. */
function firstRoles(members: readonly MemberRecord[], settings: ClusterSettings): Map<string, Role> {
  const roles = new Map<string, Role>();
  const primaries = settings.replicas === 0 ? members.length : Math.max(1, Math.floor(members.length / (settings.replicas + 1)));
  // Primaries spread over zones first (round-robin by zone), so that replicas can sit elsewhere.
  const ordered = spreadByZone(members);
  const chosen = ordered.slice(0, primaries);
  for (const m of chosen) roles.set(m.id, { role: 'primary' });
  const replicaCount = new Map(chosen.map((m) => [m.id, 0]));
  for (const m of ordered.slice(primaries)) assignReplica(m, chosen, replicaCount, roles, settings);
  return roles;
}

function spreadByZone(members: readonly MemberRecord[]): MemberRecord[] {
  const zones = new Map<string, MemberRecord[]>();
  for (const m of members) {
    const z = m.zone ?? '';
    if (!zones.has(z)) zones.set(z, []);
    zones.get(z)!.push(m);
  }
  const out: MemberRecord[] = [];
  const lists = [...zones.values()];
  for (let i = 0; out.length < members.length; i++) for (const l of lists) if (i < l.length) out.push(l[i]!);
  return out;
}

/**
 * Makes m the replica of the primary with the fewest replicas, preferring one
 * in another zone, then on another host; a primary when every primary has
 * `replicas` already.
 */
function assignReplica(m: MemberRecord, primaries: readonly { id: string; host: string; zone?: string }[], count: Map<string, number>, roles: Map<string, Role>, settings: ClusterSettings): void {
  const open = primaries.filter((p) => (count.get(p.id) ?? 0) < settings.replicas);
  if (open.length === 0) {
    roles.set(m.id, { role: 'primary' });
    return;
  }
  const score = (p: { id: string; host: string; zone?: string }) =>
    (count.get(p.id) ?? 0) * 4 + ((p.zone ?? '') === (m.zone ?? '') && m.zone !== undefined ? 2 : 0) + (p.host === m.host ? 1 : 0);
  const best = [...open].sort((a, b) => score(a) - score(b) || byId(a, b))[0]!;
  count.set(best.id, (count.get(best.id) ?? 0) + 1);
  roles.set(m.id, { role: 'replica', primary: best.id, synced: false });
}

/** The primaries to replace, old id -> new id; undefined when none. */
function failover(
  map: ClusterMap,
  input: ReconcileInput,
  alive: ReadonlyMap<string, MemberRecord>,
  leaving: (m: MemberRecord) => boolean,
  settings: ClusterSettings,
): Map<string, string> | undefined {
  const out = new Map<string, string>();
  for (const p of map.primaries()) {
    const rec = alive.get(p.id);
    const handoff = rec?.handoff !== undefined && map.node(rec.handoff)?.primary === p.id ? rec.handoff : undefined;
    const gone = rec === undefined || input.unreachable?.has(p.id) === true;
    const forced = map.replicasOf(p.id).find((r) => input.forced?.has(r.id));
    if (!gone && handoff === undefined && forced === undefined) continue;
    if (map.slotCount(p.id) === 0 && !map.moves.some((m) => m.from === p.id)) continue;
    // Chosen by the primary (handoff) or an operator (forced); else the best live replica.
    const chosen = handoff ?? forced?.id;
    const candidates = map.replicasOf(p.id).filter((r) => {
      const rr = alive.get(r.id);
      if (rr === undefined || leaving(rr) || input.unreachable?.has(r.id) === true) return false;
      if (chosen !== undefined && !gone) {
        // A handoff's replica confirmed everything; FORCE wants it in sync in sync mode, TAKEOVER takes it as it is.
        if (r.id !== chosen) return false;
        return handoff !== undefined || input.forced?.get(r.id) === 'takeover' || r.synced === true || settings.consistency === 'async';
      }
      // Sync mode promotes only an in-sync replica; async mode any live one (a lagging copy beats an empty slot).
      return r.synced === true || settings.consistency === 'async';
    });
    if (candidates.length === 0) continue;
    const offset = (id: string) => alive.get(id)?.replOffset ?? 0;
    const synced = (n: MapNode) => (n.synced === true ? 1 : 0);
    const best = candidates.sort((a, b) => synced(b) - synced(a) || offset(b.id) - offset(a.id) || byId(a, b))[0]!;
    out.set(p.id, best.id);
  }
  return out.size === 0 ? undefined : out;
}

/**
 * Every live member's role in the next version: as in the map, with the
 * replacements of `promoted` (old primary -> new) applied, replicas whose
 * primary is gone reassigned, newcomers placed, and each replica's in-sync
 * flag as its primary last reported it.
 */
function rolesFor(
  map: ClusterMap,
  alive: ReadonlyMap<string, MemberRecord>,
  leaving: (m: MemberRecord) => boolean,
  settings: ClusterSettings,
  promoted: ReadonlyMap<string, string>,
): Map<string, Role> {
  const roles = new Map<string, Role>();
  const newPrimary = new Map([...promoted.values()].map((id) => [id, true]));
  for (const n of map.nodes) {
    if (!alive.has(n.id)) continue;
    if (newPrimary.has(n.id)) roles.set(n.id, { role: 'primary' });
    else if (promoted.has(n.id)) roles.set(n.id, { role: 'replica', primary: promoted.get(n.id)!, synced: false });
    else if (n.role === 'replica') {
      const primary = promoted.get(n.primary!) ?? n.primary!;
      const stillPrimary = map.node(primary)?.role === 'primary' || newPrimary.has(primary);
      // A replica whose primary left the map is placed again (below).
      if (stillPrimary) roles.set(n.id, { role: 'replica', primary, synced: promoted.has(n.primary!) ? false : n.synced === true });
    } else roles.set(n.id, { role: 'primary' });
  }
  // The in-sync flags, as each live primary reports them.
  for (const [id, r] of roles) {
    if (r.role !== 'replica') continue;
    const p = alive.get(r.primary!);
    if (p !== undefined && !promoted.has(r.primary!) && p.inSync !== undefined) r.synced = p.inSync.includes(id);
  }
  const primaries = map.nodes.filter((n) => roles.get(n.id)?.role === 'primary' || (!alive.has(n.id) && n.role === 'primary' && map.slotCount(n.id) > 0));
  const count = new Map<string, number>();
  for (const r of roles.values()) if (r.role === 'replica') count.set(r.primary!, (count.get(r.primary!) ?? 0) + 1);
  const placeable = primaries.filter((p) => alive.has(p.id) && !leaving(alive.get(p.id)!));
  for (const m of [...alive.values()].sort(byId)) {
    if (roles.has(m.id) || leaving(m)) continue;
    if (settings.replicas === 0) roles.set(m.id, { role: 'primary' });
    else assignReplica(m, placeable.map((p) => ({ id: p.id, host: p.host, ...(p.zone !== undefined ? { zone: p.zone } : {}) })), count, roles, settings);
    if (roles.get(m.id)!.role === 'primary') placeable.push(mapNode(m, 'joining', { role: 'primary' }));
  }
  return roles;
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

function mapNode(m: MemberRecord, state: MapNode['state'], role: Role): MapNode {
  return {
    id: m.id,
    host: m.host,
    port: m.port,
    role: role.role,
    state,
    weight: m.weight,
    ...(role.role === 'replica' ? { primary: role.primary!, synced: role.synced === true } : {}),
    ...(m.zone !== undefined ? { zone: m.zone } : {}),
  };
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
  roles: ReadonlyMap<string, Role>,
): MapNode[] {
  const owning = new Set<string>();
  for (let s = 0; s < SLOT_COUNT; s++) if (owners.owners[s]! >= 0) owning.add(owners.ids[owners.owners[s]!]!);
  const inMoves = new Set(moves.flatMap((m) => [m.from, m.to]));
  const out: MapNode[] = [];
  const listed = new Set<string>();
  for (const m of alive.values()) {
    const role = roles.get(m.id) ?? { role: 'primary' };
    if (leaving(m)) {
      if (owning.has(m.id) || inMoves.has(m.id)) out.push(mapNode(m, 'leaving', { role: 'primary' }));
    } else if (role.role === 'replica') out.push(mapNode(m, 'up', role));
    else out.push(mapNode(m, owning.has(m.id) ? 'up' : 'joining', role));
    listed.add(m.id);
  }
  for (const n of map.nodes) if (!listed.has(n.id) && owning.has(n.id)) out.push({ ...n, state: 'failed' });
  // A replica of a primary no longer listed is dropped with it (it is placed again as a newcomer).
  const primaries = new Set(out.filter((n) => n.role === 'primary').map((n) => n.id));
  for (let i = out.length - 1; i >= 0; i--) if (out[i]!.role === 'replica' && !primaries.has(out[i]!.primary!)) out.splice(i, 1);
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

function sameMap(map: ClusterMap, nodes: MapNode[], owners: { ids: readonly string[]; owners: Int32Array }, moves: readonly SlotMove[], settings: ClusterSettings): boolean {
  const a = map.toDoc();
  const b = ClusterMap.build(map.cluster, map.epoch, nodes, owners, moves, settings).toDoc();
  return JSON.stringify(a) === JSON.stringify(b);
}
