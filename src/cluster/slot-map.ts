/**
 * Slots to nodes by consistent hashing: weighted rendezvous (HRW) hashing with
 * bounded loads. Pure: the map is a function of the member set alone, so every
 * node and client that sees the same members computes the same map.
 *
 * Why this scheme: plain rendezvous hashing moves the ideal 1/N of the slots on a
 * join or leave, but its balance is binomial (about 1.16 max/mean at 64 nodes);
 * a ring with virtual nodes is worse on both. Bounding each node to
 * ceil((1 + epsilon) * its fair share) and resolving the overflow as a stable
 * matching (slots prefer nodes by score, nodes keep their highest-scoring slots)
 * keeps max/mean under 1 + epsilon while most slots keep their HRW owner.
 * The matching is the unique stable one, so it does not depend on the order in
 * which slots are processed.
 */

import { fmix32 } from '../store/key-hash.js';

export const SLOT_COUNT = 16384;

export interface Member {
  /** Stable identity: the map depends on ids and weights only. */
  id: string;
  /** Relative capacity (default 1). */
  weight?: number;
}

/** Largest load above a node's fair share: max/mean <= 1 + BALANCE_EPSILON. */
export const BALANCE_EPSILON = 0.05;

/** 32-bit FNV-1a of a string: seeds a node's scores. */
function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** A 32-bit avalanche mix (murmur3's finaliser) of a node seed and a slot. */
function mix(seed: number, slot: number): number {
  return fmix32(seed ^ Math.imul(slot + 0x9e3779b9, 0x85ebca6b));
}

/**
 * A node's rank of a slot: a pseudo-random permutation of the 16384 slots (a
 * 4-round Feistel network keyed by the node), so each node's scores are spread
 * exactly evenly over (0, 1). That halves the variance of plain HRW's load,
 * which is what keeps most nodes below the load bound.
 */
function permute(seed: number, slot: number, bits: number): number {
  const half = bits >> 1;
  const mask = (1 << half) - 1;
  let l = slot >>> half;
  let r = slot & mask;
  for (let round = 0; round < 4; round++) {
    const f = mix(seed + round, r) & mask;
    [l, r] = [r, l ^ f];
  }
  return (l << half) | r;
}

/** Weighted rendezvous score: higher wins; -w / ln(u) with u in (0, 1). */
function score(seed: number, weight: number, slot: number, bits: number): number {
  const u = (permute(seed, slot, bits) + 0.5) / (1 << bits);
  return -weight / Math.log(u);
}

/**
 * Computes the owner of every slot: an index into `members` (sorted by id first,
 * so the result does not depend on the order members were listed in).
 * Returns the sorted members and the owners array.
 */
export function assignSlots(input: readonly Member[], slots = SLOT_COUNT): { members: Member[]; owners: Uint16Array } {
  const members = [...input].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (let i = 1; i < members.length; i++) if (members[i]!.id === members[i - 1]!.id) throw new Error(`duplicate member ${members[i]!.id}`);
  const n = members.length;
  const owners = new Uint16Array(slots);
  if (n === 0) throw new Error('no members');
  if (n > 65535) throw new Error('too many members');
  const seeds = members.map((m) => hashString(m.id));
  const weights = members.map((m) => {
    const w = m.weight ?? 1;
    if (!(w > 0) || !Number.isFinite(w)) throw new Error(`member ${m.id} has an invalid weight ${w}`);
    return w;
  });
  const total = weights.reduce((a, b) => a + b, 0);
  // floor keeps max/mean within 1 + epsilon; ceil(share) keeps the capacities covering every slot.
  const capacity = weights.map((w) => {
    const share = (slots * w) / total;
    return Math.max(1, Math.ceil(share), Math.floor((1 + BALANCE_EPSILON) * share));
  });
  if (capacity.reduce((a, b) => a + b, 0) < slots) throw new Error('capacities do not cover all slots');

  // Deferred acceptance: every free slot proposes to its best node not yet tried;
  // a node over capacity rejects its lowest-scoring slot, which proposes again.
  const held: number[][] = members.map(() => []); // per node: a min-heap of slots by score
  const lastScore = new Float64Array(slots).fill(Infinity); // score of the node a slot last proposed to
  const lastNode = new Int32Array(slots).fill(-1);
  const free: number[] = [];
  for (let s = slots - 1; s >= 0; s--) free.push(s);
  const bits = Math.log2(slots);
  if (!Number.isInteger(bits) || bits % 2 !== 0) throw new Error('the slot count must be a power of 4');
  const scoreOf = (node: number, slot: number) => score(seeds[node]!, weights[node]!, slot, bits);
  while (free.length > 0) {
    const slot = free.pop()!;
    // Next preference: the best score below the last one tried (ties broken by node index).
    let best = -1;
    let bestScore = -Infinity;
    for (let i = 0; i < n; i++) {
      const sc = scoreOf(i, slot);
      const belowLast = sc < lastScore[slot]! || (sc === lastScore[slot]! && i > lastNode[slot]!);
      if (belowLast && sc > bestScore) {
        best = i;
        bestScore = sc;
      }
    }
    lastScore[slot] = bestScore;
    lastNode[slot] = best;
    const heap = held[best]!;
    heapPush(heap, slot, (s) => scoreOf(best, s));
    if (heap.length > capacity[best]!) free.push(heapPop(heap, (s) => scoreOf(best, s)));
  }
  held.forEach((heap, node) => {
    for (const s of heap) owners[s] = node;
  });
  return { members, owners };
}

function heapPush(heap: number[], value: number, key: (v: number) => number): void {
  heap.push(value);
  let i = heap.length - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (key(heap[parent]!) <= key(heap[i]!)) break;
    [heap[parent], heap[i]] = [heap[i]!, heap[parent]!];
    i = parent;
  }
}

function heapPop(heap: number[], key: (v: number) => number): number {
  const top = heap[0]!;
  const last = heap.pop()!;
  if (heap.length === 0) return top;
  heap[0] = last;
  let i = 0;
  while (true) {
    const l = 2 * i + 1;
    const r = l + 1;
    let m = i;
    if (l < heap.length && key(heap[l]!) < key(heap[m]!)) m = l;
    if (r < heap.length && key(heap[r]!) < key(heap[m]!)) m = r;
    if (m === i) return top;
    [heap[m], heap[i]] = [heap[i]!, heap[m]!];
    i = m;
  }
}
