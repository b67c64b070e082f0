import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { movedSlots, ownerRanges, planSlots, SLOT_COUNT, type PlanMember, type SlotOwners } from '../../src/cluster/planner.js';

const HEX = '0123456789abcdef';
const byId = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** mulberry32: seeded ids and shuffles for the deterministic tests. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const hexId = (rand: () => number) => Array.from({ length: 40 }, () => HEX[Math.floor(rand() * 16)]).join('');
function shuffled<T>(xs: readonly T[], rand: () => number): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** The oracle: largest-remainder quotas for integer weights, exact in integers; ties by id. */
function expectedQuotas(members: readonly PlanMember[]): Map<string, number> {
  const sorted = [...members].sort((a, b) => byId(a.id, b.id));
  const total = sorted.reduce((a, m) => a + m.weight, 0);
  const q = sorted.map((m) => Math.floor((SLOT_COUNT * m.weight) / total));
  const rest = sorted.map((m, i) => SLOT_COUNT * m.weight - q[i]! * total);
  let left = SLOT_COUNT - q.reduce((a, b) => a + b, 0);
  const order = sorted.map((_, i) => i).sort((a, b) => rest[b]! - rest[a]! || a - b);
  for (let k = 0; left > 0; k++, left--) q[order[k]!]!++;
  return new Map(sorted.map((m, i) => [m.id, q[i]!]));
}

function countsById(map: SlotOwners): Map<string, number> {
  const counts = new Array<number>(map.ids.length).fill(0);
  for (const o of map.owners) if (o >= 0) counts[o]!++;
  return new Map(map.ids.map((id, i) => [id, counts[i]!]));
}

function maxOverMean(map: SlotOwners, members: readonly PlanMember[]): number {
  const counts = countsById(map);
  const total = members.reduce((a, m) => a + m.weight, 0);
  return Math.max(...members.map((m) => counts.get(m.id)! / m.weight)) / (SLOT_COUNT / total);
}

/** RESP2 bytes of CLUSTER SLOTS with one primary per range (127.0.0.1, a 5-digit port, a 40-hex id). */
function clusterSlotsBytes(map: SlotOwners): number {
  const ranges = ownerRanges(map.owners).filter((r) => r.owner >= 0);
  const digits = (v: number) => String(v).length;
  let bytes = 3 + digits(ranges.length);
  for (const r of ranges) bytes += 4 + (3 + digits(r.start)) + (3 + digits(r.end)) + 4 + 4 + 11 + 8 + 5 + 42;
  return bytes;
}

/**
 * Every invariant of one planning step from `before` (or nothing) to `members`:
 * the result is complete and in id order, every member has exactly its quota,
 * kept slots are kept, and the moved slots are exactly the unavoidable ones.
 */
function checkStep(before: SlotOwners | undefined, members: readonly PlanMember[], after: SlotOwners): void {
  assert.deepEqual(after.ids, members.map((m) => m.id).sort(byId), 'ids are the members sorted by id');
  assert.equal(after.owners.length, SLOT_COUNT);
  for (let s = 0; s < SLOT_COUNT; s++) {
    const o = after.owners[s]!;
    assert.ok(o >= 0 && o < after.ids.length, `slot ${s} is assigned to a member (owner ${o})`);
  }
  const quotas = expectedQuotas(members);
  const counts = countsById(after);
  for (const [id, q] of quotas) assert.equal(counts.get(id), q, `member ${id} has its quota`);
  assert.ok(maxOverMean(after, members) <= 1.02, `balance ${maxOverMean(after, members)}`);
  if (before === undefined) return;
  const old = countsById(before);
  let unavoidable = 0;
  for (const [id, q] of quotas) unavoidable += Math.max(0, q - (old.get(id) ?? 0));
  for (let s = 0; s < SLOT_COUNT; s++) {
    const o = before.owners[s]!;
    if (o < 0) continue;
    const id: string = before.ids[o]!;
    const q = quotas.get(id);
    if (q === undefined) continue; // departed: free to move
    const now: string = after.ids[after.owners[s]!]!;
    if (old.get(id)! <= q) assert.equal(now, id, `slot ${s} of ${id} (not over quota) is kept`);
    else if (now !== id) continue; // the excess of a member over quota may go
  }
  // A member over quota only gives slots away: what it owns after, it owned before.
  const beforeIndex = new Map(before.ids.map((id, i) => [id, i]));
  for (let s = 0; s < SLOT_COUNT; s++) {
    const id: string = after.ids[after.owners[s]!]!;
    if ((old.get(id) ?? 0) > quotas.get(id)!) assert.equal(before.owners[s], beforeIndex.get(id), `slot ${s}: ${id}, over quota, received a slot`);
  }
  assert.equal(movedSlots(before, after), unavoidable, 'only the unavoidable slots move');
}

const weightArb = fc.integer({ min: 1, max: 4 });
const idArb = fc.string({ unit: fc.constantFrom(...HEX), minLength: 40, maxLength: 40 });
type Op = { kind: 'join'; id: string; weight: number } | { kind: 'leave'; pick: number } | { kind: 'weight'; pick: number; weight: number };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('join' as const), id: idArb, weight: weightArb }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('leave' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('weight' as const), pick: fc.nat(), weight: weightArb }) },
);

test('property: random joins, leaves and weight changes from nothing keep every invariant', () => {
  fc.assert(
    fc.property(fc.array(opArb, { minLength: 1, maxLength: 30 }), fc.boolean(), fc.integer(), (ops, equalWeights, seed) => {
      const rand = prng(seed);
      let members: PlanMember[] = [];
      let map: SlotOwners | undefined;
      for (const op of ops) {
        let ideal: (after: SlotOwners) => number = () => NaN;
        if (op.kind === 'join') {
          if (members.some((m) => m.id === op.id)) continue;
          const m = { id: op.id, weight: equalWeights ? 1 : op.weight };
          members = [...members, m];
          ideal = (after) => countsById(after).get(m.id)!;
        } else if (op.kind === 'leave') {
          if (members.length <= 1) continue;
          const leaver = members[op.pick % members.length]!;
          members = members.filter((m) => m !== leaver);
          const had = map ? countsById(map).get(leaver.id)! : 0;
          ideal = () => had;
        } else {
          if (members.length === 0 || equalWeights) continue;
          const i = op.pick % members.length;
          members = members.map((m, k) => (k === i ? { id: m.id, weight: op.weight } : m));
        }
        const next = planSlots(map, members);
        checkStep(map, members, next);
        if (map && op.kind !== 'weight') {
          const moved = movedSlots(map, next);
          assert.ok(moved <= 1.05 * ideal(next), `${op.kind}: moved ${moved} > 1.05 x ideal ${ideal(next)}`);
        }
        // Determinism: neither the member order nor the current map's id order matters.
        const reordered = map && { ids: [...map.ids].reverse(), owners: map.owners.map((o) => (o < 0 ? o : map!.ids.length - 1 - o)) };
        const again = planSlots(reordered, shuffled(members, rand));
        assert.deepEqual(again.ids, next.ids);
        assert.ok(Buffer.from(again.owners.buffer).equals(Buffer.from(next.owners.buffer)), 'same owners for shuffled members and ids');
        map = next;
      }
    }),
    { numRuns: 60 },
  );
});

test('property: from a map grown by single joins (3 to 64 nodes), one join or one leave moves <= 1.05x the ideal', () => {
  fc.assert(
    fc.property(fc.integer({ min: 3, max: 64 }), fc.boolean(), fc.integer(), (n, equalWeights, seed) => {
      const rand = prng(seed);
      const pool = Array.from({ length: n + 1 }, () => ({ id: hexId(rand), weight: equalWeights ? 1 : 1 + Math.floor(rand() * 4) }));
      let map = planSlots(undefined, pool.slice(0, 3));
      for (let k = 4; k <= n; k++) map = planSlots(map, pool.slice(0, k));
      const members = pool.slice(0, n);
      assert.ok(maxOverMean(map, members) <= 1.02, `balance at ${n}: ${maxOverMean(map, members)}`);
      const joined = planSlots(map, pool);
      const joinIdeal = countsById(joined).get(pool[n]!.id)!;
      assert.ok(movedSlots(map, joined) <= 1.05 * joinIdeal, `join to ${n + 1}: ${movedSlots(map, joined)} vs ideal ${joinIdeal}`);
      const leaver = members[Math.floor(rand() * n)]!;
      const left = planSlots(
        map,
        members.filter((m) => m !== leaver),
      );
      const leaveIdeal = countsById(map).get(leaver.id)!;
      assert.ok(movedSlots(map, left) <= 1.05 * leaveIdeal, `leave to ${n - 1}: ${movedSlots(map, left)} vs ideal ${leaveIdeal}`);
      checkStep(map, pool, joined);
      checkStep(
        map,
        members.filter((m) => m !== leaver),
        left,
      );
    }),
    { numRuns: 40 },
  );
});

test('property: balance max/mean <= 1.02 for 3 to 64 nodes, equal weights and weights 1..4, fresh maps', () => {
  fc.assert(
    fc.property(fc.uniqueArray(idArb, { minLength: 3, maxLength: 64 }), fc.array(weightArb, { minLength: 64, maxLength: 64 }), fc.boolean(), (ids, weights, equal) => {
      const members = ids.map((id, i) => ({ id, weight: equal ? 1 : weights[i]! }));
      const map = planSlots(undefined, members);
      checkStep(undefined, members, map);
    }),
    { numRuns: 100 },
  );
});

test('no current map, or nothing assigned: contiguous blocks in id order', () => {
  const members = [
    { id: 'c', weight: 1 },
    { id: 'a', weight: 1 },
    { id: 'b', weight: 1 },
  ];
  for (const current of [undefined, { ids: ['x'], owners: new Int32Array(SLOT_COUNT).fill(-1) }, { ids: ['gone'], owners: new Int32Array(SLOT_COUNT) }]) {
    const map = planSlots(current, members);
    assert.deepEqual(map.ids, ['a', 'b', 'c']);
    // 16384 = 3 x 5461 + 1: the extra slot goes to the first id (equal remainders, ties by id).
    assert.deepEqual(ownerRanges(map.owners), [
      { start: 0, end: 5461, owner: 0 },
      { start: 5462, end: 10922, owner: 1 },
      { start: 10923, end: 16383, owner: 2 },
    ]);
  }
});

test('CLUSTER SLOTS: under 2 KB for a fresh 3-node cluster, under 256 KB for 64 nodes reached by single joins from 3', () => {
  for (const seed of [1, 2, 3]) {
    const rand = prng(seed);
    const pool = Array.from({ length: 64 }, () => ({ id: hexId(rand), weight: 1 }));
    let map = planSlots(undefined, pool.slice(0, 3));
    assert.ok(clusterSlotsBytes(map) < 2048, `fresh 3 nodes: ${clusterSlotsBytes(map)} bytes`);
    assert.equal(ownerRanges(map.owners).length, 3);
    for (let k = 4; k <= 64; k++) {
      const next = planSlots(map, pool.slice(0, k));
      checkStep(map, pool.slice(0, k), next);
      map = next;
    }
    assert.ok(clusterSlotsBytes(map) < 256 * 1024, `64 nodes by joins: ${clusterSlotsBytes(map)} bytes`);
  }
});

test('a departed member frees its slots; a partially assigned map is completed; kept slots stay', () => {
  const a = planSlots(undefined, ['a', 'b', 'c', 'd'].map((id) => ({ id, weight: 1 })));
  const b = planSlots(a, ['a', 'b', 'd'].map((id) => ({ id, weight: 1 })));
  // c's 4096 slots are the only ones to move.
  assert.equal(movedSlots(a, b), 4096);
  // A map with holes: the holes are filled, nothing else moves.
  const holes = new Int32Array(b.owners);
  for (let s = 100; s < 300; s++) holes[s] = -1;
  const filled = planSlots({ ids: b.ids, owners: holes }, ['d', 'a', 'b'].map((id) => ({ id, weight: 1 })));
  assert.equal(movedSlots({ ids: b.ids, owners: holes }, filled), 200);
  assert.equal(movedSlots(b, filled), 0, 'the holes went back to their owner, the only one below quota');
});

test('weights: fractional and huge weights get their share; quotas always sum to 16384', () => {
  const map = planSlots(undefined, [
    { id: 'a', weight: 0.5 },
    { id: 'b', weight: 1.5 },
  ]);
  assert.deepEqual([...countsById(map).values()], [4096, 12288]);
  const huge = planSlots(undefined, [
    { id: 'a', weight: Number.MAX_VALUE },
    { id: 'b', weight: Number.MAX_VALUE },
    { id: 'c', weight: Number.MAX_VALUE / 2 },
  ]);
  // Shares 6553.6, 6553.6, 3276.8: the two spare slots go to the largest remainders (c, then a by id).
  assert.deepEqual([...countsById(huge).values()], [6554, 6553, 3277]);
});

test('ownerRanges and movedSlots', () => {
  const owners = new Int32Array(SLOT_COUNT).fill(1);
  owners.fill(-1, 0, 10);
  owners.fill(0, 10, 20);
  owners[SLOT_COUNT - 1] = 0;
  assert.deepEqual(ownerRanges(owners), [
    { start: 0, end: 9, owner: -1 },
    { start: 10, end: 19, owner: 0 },
    { start: 20, end: SLOT_COUNT - 2, owner: 1 },
    { start: SLOT_COUNT - 1, end: SLOT_COUNT - 1, owner: 0 },
  ]);
  assert.deepEqual(ownerRanges(new Int32Array(SLOT_COUNT)), [{ start: 0, end: SLOT_COUNT - 1, owner: 0 }]);
  // Owners compare by id, not by index; an unassigned slot counts as moved once assigned.
  const a: SlotOwners = { ids: ['x', 'y'], owners };
  const b: SlotOwners = { ids: ['y', 'x'], owners: owners.map((o) => (o === -1 ? -1 : 1 - o)) };
  assert.equal(movedSlots(a, b), 0);
  const c: SlotOwners = { ids: ['y', 'x'], owners: owners.map((o) => (o === -1 ? 0 : 1 - o)) };
  assert.equal(movedSlots(a, c), 10);
  const d: SlotOwners = { ids: ['x', 'z'], owners };
  assert.equal(movedSlots(a, d), SLOT_COUNT - 10 - 11, "y's slots now belong to z");
});

test('errors name the problem', () => {
  assert.throws(() => planSlots(undefined, []), /no members/);
  assert.throws(
    () =>
      planSlots(undefined, [
        { id: 'n1', weight: 1 },
        { id: 'n2', weight: 1 },
        { id: 'n1', weight: 2 },
      ]),
    /duplicate member id "n1"/,
  );
  for (const [weight, shown] of [
    [0, '0'],
    [Number.NaN, 'NaN'],
    [-1, '-1'],
    [Number.POSITIVE_INFINITY, 'Infinity'],
    [Number.NEGATIVE_INFINITY, '-Infinity'],
  ] as const) {
    assert.throws(
      () =>
        planSlots(undefined, [
          { id: 'ok', weight: 1 },
          { id: 'bad', weight },
        ]),
      (err: Error) => err.message.includes('"bad"') && err.message.includes(`bad weight ${shown} `) && err.message.includes('finite number > 0'),
    );
  }
  assert.throws(() => planSlots(undefined, [{ id: 'a', weight: '1' as unknown as number }]), /bad weight 1/);
  assert.throws(() => planSlots(undefined, [{ id: '', weight: 1 }]), /no id/);
  assert.throws(() => planSlots({ ids: ['a'], owners: new Int32Array(100) }, [{ id: 'a', weight: 1 }]), /16384 owners/);
  assert.throws(() => planSlots({ ids: ['a'], owners: new Int32Array(SLOT_COUNT).fill(1) }, [{ id: 'a', weight: 1 }]), /slot 0 has owner index 1/);
});

test('planSlots for 64 nodes takes well under 50 ms', () => {
  const rand = prng(7);
  const pool = Array.from({ length: 65 }, () => ({ id: hexId(rand), weight: 1 + Math.floor(rand() * 4) }));
  let map = planSlots(undefined, pool.slice(0, 3));
  for (let k = 4; k <= 64; k++) map = planSlots(map, pool.slice(0, k));
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    planSlots(map, i % 2 ? pool : pool.slice(1, 64));
    times.push(performance.now() - started);
  }
  times.sort((x, y) => x - y);
  assert.ok(times[2]! < 50, `median ${times[2]!.toFixed(1)} ms`);
});

test('a fragmented current map (one-slot ranges, as rendezvous hashing left them) is planned quickly and correctly', () => {
  // Slot s owned by id s % k: every range is one slot long; odd ids stay, even ids leave.
  for (const [k, keep] of [
    [2, 1],
    [128, 64],
  ] as const) {
    const ids = Array.from({ length: k }, (_, i) => `n${String(i).padStart(5, '0')}`);
    const current: SlotOwners = { ids, owners: new Int32Array(SLOT_COUNT).map((_, s) => s % k) };
    const members = ids.filter((_, i) => i % 2 === 1).slice(0, keep).map((id) => ({ id, weight: 1 }));
    const started = performance.now();
    const map = planSlots(current, members);
    const ms = performance.now() - started;
    checkStep(current, members, map);
    assert.ok(ms < 1000, `${k} ids -> ${keep} members: ${ms.toFixed(0)} ms`);
  }
});
