/**
 * The slot planner: the target owner of each of the 16384 slots, computed from
 * the current cluster map and the new member set. Pure (no I/O, randomness or
 * clock); the result depends on the current map and the set of (id, weight)
 * pairs, not on their order.
 *
 * Consistent hashing asks for bounded load and minimal movement. A stateless
 * scheme (rendezvous hashing) gets both only approximately and scatters
 * ownership over thousands of one-slot ranges; with a versioned map we plan
 * from the current state instead:
 * - Quotas: each member's target is its weighted share of the slots, rounded by
 *   largest remainder (ties by id), so quotas sum to 16384 and max/mean slots
 *   per unit of weight is as close to 1 as integers allow.
 * - Movement: a member keeps what it owns up to its quota; only departed
 *   members' slots and the excess of members above quota move, the least any
 *   plan with these loads can move.
 * - Contiguity: excess leaves from the ends of the owner's smallest ranges (it
 *   keeps few, long ranges), at the end next to free slots or a receiver. Free
 *   runs then go to members below quota (largest deficit first, ties by id):
 *   first runs touching one of the receiver's own ranges, which grow it with no
 *   new range; then the smallest run that holds the rest whole (best fit), else
 *   the largest run whole; a split run keeps its rest next to a receiver.
 * - Nothing to keep (no current map, or no slot owned by a member): contiguous
 *   blocks in id order, as in Redis Cluster.
 */

export const SLOT_COUNT = 16384; // defined here, not imported: slot-map.ts is going away

export interface PlanMember {
  id: string;
  /** Relative capacity: > 0 and finite. */
  weight: number;
}

export interface SlotOwners {
  ids: readonly string[];
  /** owners.length === SLOT_COUNT; owners[slot] is an index into ids, or -1 (unassigned). */
  owners: Int32Array;
}

const byId = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Members sorted by id, checked: at least one, unique non-empty ids, weights > 0 and finite. */
function checkedMembers(members: readonly PlanMember[]): PlanMember[] {
  if (!Array.isArray(members) || members.length === 0) throw new Error('planSlots: no members (at least one is required)');
  for (const m of members) {
    if (typeof m?.id !== 'string' || m.id === '') throw new Error(`planSlots: a member has no id (${JSON.stringify(m)})`);
    if (typeof m.weight !== 'number' || !Number.isFinite(m.weight) || !(m.weight > 0)) {
      throw new Error(`planSlots: member ${JSON.stringify(m.id)} has a bad weight ${String(m.weight)} (must be a finite number > 0)`);
    }
  }
  const sorted = [...members].sort((a, b) => byId(a.id, b.id));
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.id === sorted[i - 1]!.id) throw new Error(`planSlots: duplicate member id ${JSON.stringify(sorted[i]!.id)}`);
  }
  return sorted;
}

function checkCurrent(current: SlotOwners): void {
  if (!(current.owners instanceof Int32Array) || current.owners.length !== SLOT_COUNT) {
    throw new Error(`planSlots: the current map must have an Int32Array of ${SLOT_COUNT} owners`);
  }
  const n = current.ids.length;
  for (let s = 0; s < SLOT_COUNT; s++) {
    const o = current.owners[s]!;
    if (o < -1 || o >= n) throw new Error(`planSlots: the current map's slot ${s} has owner index ${o}, outside -1..${n - 1}`);
  }
}

/**
 * Each member's weighted share of SLOT_COUNT, rounded by largest remainder
 * (ties by id, i.e. by index in the sorted members), summing to SLOT_COUNT.
 */
function quotasOf(sorted: readonly PlanMember[]): Int32Array {
  const n = sorted.length;
  // Weights scaled by the largest so their sum stays finite; exact for small integer weights.
  let maxW = 0;
  for (const m of sorted) maxW = Math.max(maxW, m.weight);
  const w = sorted.map((m) => m.weight / maxW);
  let total = 0;
  for (const x of w) total += x; // in id order: the same sum whatever the input order
  const quota = new Int32Array(n);
  const rest = new Float64Array(n); // remainders over the common denominator `total`
  let left = SLOT_COUNT;
  for (let i = 0; i < n; i++) {
    quota[i] = Math.floor((SLOT_COUNT * w[i]!) / total);
    rest[i] = SLOT_COUNT * w[i]! - quota[i]! * total;
    left -= quota[i]!;
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => rest[b]! - rest[a]! || a - b);
  for (let k = 0; left > 0; k = (k + 1) % n, left--) quota[order[k]!]!++;
  // Floating-point rounding could in principle overshoot: take back from the smallest remainders.
  for (let k = n - 1; left < 0; k = (k - 1 + n) % n) {
    if (quota[order[k]!]! > 0) {
      quota[order[k]!]!--;
      left++;
    }
  }
  return quota;
}

/** The target map: every slot assigned to one of members (result ids = members' ids sorted ascending). */
export function planSlots(current: SlotOwners | undefined, members: readonly PlanMember[]): SlotOwners {
  const sorted = checkedMembers(members);
  const ids = sorted.map((m) => m.id);
  const n = ids.length;
  const quota = quotasOf(sorted);
  const owners = new Int32Array(SLOT_COUNT).fill(-1);
  const count = new Int32Array(n);
  if (current !== undefined) {
    checkCurrent(current);
    const index = new Map(ids.map((id, i) => [id, i]));
    const remap = current.ids.map((id) => index.get(id) ?? -1);
    for (let s = 0; s < SLOT_COUNT; s++) {
      const o = current.owners[s]!;
      const m = o >= 0 ? remap[o]! : -1;
      owners[s] = m;
      if (m >= 0) count[m]!++;
    }
  }
  if (count.every((c) => c === 0)) {
    // Nothing to keep: contiguous blocks in id order.
    let s = 0;
    for (let i = 0; i < n; i++) owners.fill(i, s, (s += quota[i]!));
    return { ids, owners };
  }
  releaseExcess(owners, count, quota);
  fillDeficits(owners, count, quota);
  return { ids, owners };
}

interface Run {
  start: number;
  /** Inclusive; start > end once used up. */
  end: number;
}

const len = (r: Run): number => r.end - r.start + 1;

/** A member above quota frees its excess from the ends of its ranges, smallest ranges first. */
function releaseExcess(owners: Int32Array, count: Int32Array, quota: Int32Array): void {
  const n = count.length;
  const byOwner: Run[][] = Array.from({ length: n }, () => []);
  for (const r of ownerRanges(owners)) if (r.owner >= 0 && count[r.owner]! > quota[r.owner]!) byOwner[r.owner]!.push({ start: r.start, end: r.end });
  // How good a place the slot beyond a range's end is for freed slots: free
  // (the runs merge) > a member below quota (it can grow its range) > other.
  const welcome = (slot: number): number => {
    if (slot < 0 || slot >= SLOT_COUNT) return 0;
    const o = owners[slot]!;
    return o === -1 ? 2 : count[o]! < quota[o]! ? 1 : 0;
  };
  for (let m = 0; m < n; m++) {
    let excess = count[m]! - quota[m]!;
    if (excess <= 0) continue;
    const ranges = byOwner[m]!.sort((a, b) => len(a) - len(b) || a.start - b.start);
    for (const r of ranges) {
      if (excess === 0) break;
      if (len(r) <= excess) {
        owners.fill(-1, r.start, r.end + 1);
        excess -= len(r);
      } else {
        if (welcome(r.start - 1) > welcome(r.end + 1)) owners.fill(-1, r.start, r.start + excess);
        else owners.fill(-1, r.end - excess + 1, r.end + 1);
        excess = 0;
      }
    }
    count[m] = quota[m]!;
  }
}

/** Free runs go to the members below quota, in as few new ranges as the greedy finds. */
function fillDeficits(owners: Int32Array, count: Int32Array, quota: Int32Array): void {
  const n = count.length;
  const runs: Run[] = [];
  for (const r of ownerRanges(owners)) if (r.owner === -1) runs.push({ start: r.start, end: r.end });
  const deficit = new Int32Array(n);
  for (let m = 0; m < n; m++) deficit[m] = quota[m]! - count[m]!;
  const receivers = Array.from({ length: n }, (_, i) => i)
    .filter((m) => deficit[m]! > 0)
    .sort((a, b) => deficit[b]! - deficit[a]! || a - b);
  const ownerAt = (slot: number): number => (slot >= 0 && slot < SLOT_COUNT ? owners[slot]! : -2);
  const waiting = (slot: number): boolean => {
    const o = ownerAt(slot);
    return o >= 0 && deficit[o]! > 0;
  };
  /** Gives k slots of r to m from its low (or high) end. */
  const give = (r: Run, k: number, m: number, low: boolean): void => {
    if (low) {
      owners.fill(m, r.start, r.start + k);
      r.start += k;
    } else {
      owners.fill(m, r.end - k + 1, r.end + 1);
      r.end -= k;
    }
    deficit[m]! -= k;
  };

  // 1. Growth: every receiver takes what it can from runs touching its own
  //    ranges (no new range). A run it can take whole first (one between two of
  //    its ranges first, then the longest), else the rest of its deficit from
  //    one (between two of its ranges first, then the lowest). A receiver only
  //    takes from a side it touches, so which members touch a run never changes
  //    here: each receiver's list of touching runs is built once, and one pass
  //    over it, sorted, makes the same choices as rescanning all runs would.
  const touching: number[][] = Array.from({ length: n }, () => []);
  for (let k = 0; k < runs.length; k++) {
    const lo = ownerAt(runs[k]!.start - 1);
    const hi = ownerAt(runs[k]!.end + 1);
    if (lo >= 0 && deficit[lo]! > 0) touching[lo]!.push(k);
    if (hi >= 0 && hi !== lo && deficit[hi]! > 0) touching[hi]!.push(k);
  }
  const both = (r: Run, m: number): number => (ownerAt(r.start - 1) === m && ownerAt(r.end + 1) === m ? 1 : 0);
  /** Gives k slots of r to m from the side it touches (the one whose other neighbour is not waiting, if both). */
  const grow = (r: Run, k: number, m: number): void => {
    const low = ownerAt(r.start - 1) === m;
    const high = ownerAt(r.end + 1) === m;
    give(r, k, m, low && (!high || !waiting(r.end + 1)));
  };
  for (const m of receivers) {
    const list = touching[m]!.filter((k) => runs[k]!.start <= runs[k]!.end);
    if (list.length === 0) continue;
    list.sort((a, b) => both(runs[b]!, m) - both(runs[a]!, m) || len(runs[b]!) - len(runs[a]!) || a - b);
    for (const k of list) {
      const r = runs[k]!;
      if (deficit[m] === 0) break;
      if (len(r) <= deficit[m]!) grow(r, len(r), m);
    }
    if (deficit[m]! > 0) {
      let best = -1;
      for (const k of list) {
        const r = runs[k]!;
        if (r.start > r.end) continue;
        if (best === -1 || both(r, m) > both(runs[best]!, m) || (both(r, m) === both(runs[best]!, m) && k < best)) best = k;
      }
      if (best >= 0) grow(runs[best]!, deficit[m]!, m);
    }
  }

  // 2. New ranges: the smallest run that holds the whole deficit, else the
  //    largest run whole (ties: the lowest run). Runs kept sorted by length.
  const pool = runs.map((_, k) => k).filter((k) => runs[k]!.start <= runs[k]!.end);
  const before = (a: number, b: number): boolean => len(runs[a]!) < len(runs[b]!) || (len(runs[a]!) === len(runs[b]!) && a < b);
  pool.sort((a, b) => (before(a, b) ? -1 : 1));
  /** The first position in pool whose run has at least l slots. */
  const atLeast = (l: number): number => {
    let lo = 0;
    let hi = pool.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (len(runs[pool[mid]!]!) < l) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  for (const m of receivers) {
    while (deficit[m]! > 0) {
      if (pool.length === 0) throw new Error('planSlots: internal error: a member below quota but no free slot left');
      const d = deficit[m]!;
      const at = atLeast(d);
      if (at < pool.length) {
        const k = pool[at]!;
        const fit = runs[k]!;
        pool.splice(at, 1);
        // Leave the rest of the run next to a member still waiting, if one side has one.
        give(fit, d, m, !(waiting(fit.start - 1) && !waiting(fit.end + 1)));
        if (fit.start <= fit.end) {
          let lo = 0;
          let hi = pool.length;
          while (lo < hi) {
            const mid = (lo + hi) >> 1;
            if (before(pool[mid]!, k)) lo = mid + 1;
            else hi = mid;
          }
          pool.splice(lo, 0, k);
        }
      } else {
        const at = atLeast(len(runs[pool[pool.length - 1]!]!));
        const largest = runs[pool[at]!]!;
        pool.splice(at, 1);
        give(largest, len(largest), m, true);
      }
    }
  }
}

/** Maximal runs of consecutive slots with the same owner index (including -1 runs), in slot order. */
export function ownerRanges(owners: Int32Array): Array<{ start: number; end: number; owner: number }> {
  const out: Array<{ start: number; end: number; owner: number }> = [];
  let start = 0;
  for (let s = 1; s <= owners.length; s++) {
    if (s === owners.length || owners[s] !== owners[start]) {
      out.push({ start, end: s - 1, owner: owners[start]! });
      start = s;
    }
  }
  return out;
}

/** Slots whose owner id differs between a and b (unassigned on one side and assigned on the other counts as moved). */
export function movedSlots(a: SlotOwners, b: SlotOwners): number {
  if (a.owners.length !== b.owners.length) throw new Error(`movedSlots: maps of ${a.owners.length} and ${b.owners.length} slots`);
  const index = new Map(b.ids.map((id, i) => [id, i]));
  // a's owner index -> b's index of the same id (-2: not in b, never equal to an owner of b).
  const remap = a.ids.map((id) => index.get(id) ?? -2);
  let moved = 0;
  for (let s = 0; s < a.owners.length; s++) {
    const oa = a.owners[s]!;
    if ((oa >= 0 ? remap[oa]! : -1) !== b.owners[s]!) moved++;
  }
  return moved;
}
