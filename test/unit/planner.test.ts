import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { movedSlots, ownerRanges, planSlots, SLOT_COUNT, type PlanMember, type SlotOwners } from '../../src/cluster/planner.js';

const counts = (map: SlotOwners) => {
  const c = new Array<number>(map.ids.length).fill(0);
  for (const o of map.owners) if (o >= 0) c[o]!++;
  return c;
};
const slotsOf = (map: SlotOwners, id: string) => {
  const i = map.ids.indexOf(id);
  return i < 0 ? 0 : counts(map)[i]!;
};

/** max over members of slots per unit weight, over the mean (SLOT_COUNT / total weight). */
function maxOverMean(map: SlotOwners, members: readonly PlanMember[]): number {
  const weight = new Map(members.map((m) => [m.id, m.weight]));
  const total = members.reduce((a, m) => a + m.weight, 0);
  return Math.max(...counts(map).map((c, i) => c / weight.get(map.ids[i]!)!)) / (SLOT_COUNT / total);
}

/** Every slot is owned by one of members, and ids are the members' ids sorted. */
function assertComplete(map: SlotOwners, members: readonly PlanMember[]) {
  assert.deepEqual([...map.ids], members.map((m) => m.id).sort());
  assert.equal(map.owners.length, SLOT_COUNT);
  for (const o of map.owners) assert.ok(o >= 0 && o < map.ids.length, `slot owner ${o} out of range`);
}

function shuffled<T>(xs: readonly T[], seed: number): T[] {
  const out = [...xs];
  let s = seed >>> 0 || 1;
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function hexIds(n: number, seed: number): string[] {
  let s = seed >>> 0;
  const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
  const ids = new Set<string>();
  while (ids.size < n) {
    let id = '';
    for (let i = 0; i < 5; i++) id += next().toString(16).padStart(8, '0');
    ids.add(id);
  }
  return [...ids];
}

/** RESP2 size of CLUSTER SLOTS with one primary per range (127.0.0.1, 5-digit port, 40-hex id). */
function clusterSlotsBytes(map: SlotOwners): number {
  const ranges = ownerRanges(map.owners).filter((r) => r.owner >= 0);
  let bytes = `*${ranges.length}\r\n`.length;
  for (const r of ranges) bytes += `*3\r\n:${r.start}\r\n:${r.end}\r\n*3\r\n$9\r\n127.0.0.1\r\n:10000\r\n$40\r\n${'0'.repeat(40)}\r\n`.length;
  return bytes;
}

test('errors name the problem: no members, a duplicate id, a bad weight', () => {
  assert.throws(() => planSlots(undefined, []), /no members/);
  assert.throws(() => planSlots(undefined, [{ id: 'a', weight: 1 }, { id: 'b', weight: 1 }, { id: 'a', weight: 2 }]), /duplicate member id "?a"?/);
  for (const weight of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, '2' as unknown as number, undefined as unknown as number]) {
    assert.throws(() => planSlots(undefined, [{ id: 'a', weight: 1 }, { id: 'b', weight }]), /member "?b"? has a bad weight/, `weight ${String(weight)}`);
  }
  const short: SlotOwners = { ids: ['a'], owners: new Int32Array(10) };
  assert.throws(() => planSlots(short, [{ id: 'a', weight: 1 }]), /16384/);
  const bad: SlotOwners = { ids: ['a'], owners: new Int32Array(SLOT_COUNT).fill(3) };
  assert.throws(() => planSlots(bad, [{ id: 'a', weight: 1 }]), /slot 0 has owner index 3/);
});

test('no current map: contiguous blocks in id order, whatever the member order', () => {
  const members = [{ id: 'c', weight: 1 }, { id: 'a', weight: 1 }, { id: 'b', weight: 2 }];
  const map = planSlots(undefined, members);
  assertComplete(map, members);
  assert.deepEqual(ownerRanges(map.owners), [
    { start: 0, end: 4095, owner: 0 },
    { start: 4096, end: 12287, owner: 1 },
    { start: 12288, end: 16383, owner: 2 },
  ]);
  assert.deepEqual(planSlots(undefined, [...members].reverse()), map);
  // Equal weights: 16384 = 3 * 5461 + 1, the extra slot to the lowest id (largest remainder, ties by id).
  const three = planSlots(undefined, ['x', 'y', 'z'].map((id) => ({ id, weight: 1 })));
  assert.deepEqual(counts(three), [5462, 5461, 5461]);
  assert.ok(clusterSlotsBytes(three) < 2048, `fresh 3-node CLUSTER SLOTS is ${clusterSlotsBytes(three)} bytes`);
});

test('ownerRanges and movedSlots', () => {
  const owners = new Int32Array([0, 0, -1, -1, 1, 0]);
  assert.deepEqual(ownerRanges(owners), [
    { start: 0, end: 1, owner: 0 },
    { start: 2, end: 3, owner: -1 },
    { start: 4, end: 4, owner: 1 },
    { start: 5, end: 5, owner: 0 },
  ]);
  assert.deepEqual(ownerRanges(new Int32Array(0)), []);
  const a: SlotOwners = { ids: ['x', 'y'], owners: new Int32Array([0, 0, -1, -1, 1]) };
  // Same ids under other indexes are not moves; unassigned -> assigned is.
  const b: SlotOwners = { ids: ['y', 'x'], owners: new Int32Array([1, 0, -1, 0, 0]) };
  assert.equal(movedSlots(a, b), 2);
  assert.equal(movedSlots(a, a), 0);
});

test('a partial current map (unassigned slots, departed owners) is completed, keeping what members own', () => {
  const owners = new Int32Array(SLOT_COUNT).fill(-1);
  for (let s = 0; s < 1000; s++) owners[s] = 0; // a
  for (let s = 5000; s < 6000; s++) owners[s] = 1; // gone
  for (let s = 9000; s < 9100; s++) owners[s] = 2; // b
  const current: SlotOwners = { ids: ['a', 'gone', 'b'], owners };
  const members = [{ id: 'b', weight: 1 }, { id: 'a', weight: 1 }];
  const map = planSlots(current, members);
  assertComplete(map, members);
  assert.deepEqual(counts(map), [8192, 8192]);
  for (let s = 0; s < 1000; s++) assert.equal(map.ids[map.owners[s]!], 'a');
  for (let s = 9000; s < 9100; s++) assert.equal(map.ids[map.owners[s]!], 'b');
  assert.ok(ownerRanges(map.owners).length <= 4, 'a few contiguous runs');
});

test('balance max/mean <= 1.02 for 3 to 64 nodes, equal and mixed weights 1..4, fresh and grown', () => {
  fc.assert(
    fc.property(fc.integer({ min: 3, max: 64 }), fc.boolean(), fc.integer(), (n, mixed, seed) => {
      const ws = shuffled([1, 2, 3, 4, 1, 2, 3, 4], seed);
      const members = hexIds(n, seed).map((id, i) => ({ id, weight: mixed ? ws[i % ws.length]! : 1 }));
      const fresh = planSlots(undefined, members);
      assertComplete(fresh, members);
      assert.ok(maxOverMean(fresh, members) <= 1.02, `fresh ${n}: ${maxOverMean(fresh, members)}`);
      const grown = planSlots(planSlots(undefined, members.slice(0, -1)), members);
      assert.ok(maxOverMean(grown, members) <= 1.02, `grown ${n}: ${maxOverMean(grown, members)}`);
    }),
    { numRuns: 50 },
  );
});

type Op = { kind: 'join'; weight: number } | { kind: 'leave'; pick: number } | { kind: 'weight'; pick: number; weight: number };
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('join' as const), weight: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ kind: fc.constant('leave' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('weight' as const), pick: fc.nat(), weight: fc.integer({ min: 1, max: 4 }) }),
);

test('property: random join / leave / weight-change sequences', () => {
  fc.assert(
    fc.property(fc.integer({ min: 3, max: 12 }), fc.array(op, { minLength: 1, maxLength: 25 }), fc.integer(), (start, ops, seed) => {
      const idPool = hexIds(start + ops.length, seed);
      let nextId = 0;
      let members: PlanMember[] = idPool.slice(0, start).map((id) => ({ id, weight: 1 }));
      nextId = start;
      let map = planSlots(undefined, members);
      for (const [step, o] of ops.entries()) {
        let next: PlanMember[];
        if (o.kind === 'join') next = [...members, { id: idPool[nextId++]!, weight: o.weight }];
        else if (o.kind === 'leave' && members.length > 1) next = members.filter((_, i) => i !== o.pick % members.length);
        else if (o.kind === 'weight') next = members.map((m, i) => (i === o.pick % members.length ? { id: m.id, weight: o.weight } : m));
        else continue;
        const planned = planSlots(map, next);
        const where = `step ${step} (${o.kind}, ${next.length} members)`;

        // Every slot to a current member; exact quotas, so balance holds.
        assertComplete(planned, next);
        if (next.length >= 3) assert.ok(maxOverMean(planned, next) <= 1.02, `${where}: balance ${maxOverMean(planned, next)}`);

        // Deterministic whatever the member order (and the current map's id order).
        const reordered: SlotOwners = { ids: [...map.ids].reverse(), owners: map.owners.map((x) => (x < 0 ? x : map.ids.length - 1 - x)) };
        assert.deepEqual(planSlots(reordered, shuffled(next, seed + step)), planned, `${where}: order-dependent`);

        // Kept slots stay kept: a member keeps min(what it had, its new count) of its slots.
        const before = counts(map);
        const after = counts(planned);
        for (const [j, id] of planned.ids.entries()) {
          const i = map.ids.indexOf(id);
          if (i < 0) continue;
          let kept = 0;
          for (let s = 0; s < SLOT_COUNT; s++) if (map.owners[s] === i && planned.owners[s] === j) kept++;
          assert.equal(kept, Math.min(before[i]!, after[j]!), `${where}: ${id} kept ${kept} of ${before[i]} (now ${after[j]})`);
        }

        // Movement bound for single joins and leaves.
        const moved = movedSlots(map, planned);
        if (o.kind === 'join') {
          const ideal = slotsOf(planned, next[next.length - 1]!.id);
          assert.ok(moved <= 1.05 * ideal, `${where}: join moved ${moved}, ideal ${ideal}`);
        } else if (o.kind === 'leave') {
          const leaver = members.find((m) => !next.includes(m))!;
          const ideal = slotsOf(map, leaver.id);
          assert.ok(moved <= 1.05 * ideal, `${where}: leave moved ${moved}, ideal ${ideal}`);
        }
        map = planned;
        members = next;
      }
    }),
    { numRuns: 50 },
  );
});

test('3 -> 64 by single joins: movement, CLUSTER SLOTS under 256 KB, planSlots well under 50 ms', () => {
  const ids = hexIds(64, 42);
  let members = ids.slice(0, 3).map((id) => ({ id, weight: 1 }));
  let map = planSlots(undefined, members);
  let slowest = 0;
  for (let n = 3; n < 64; n++) {
    const next = [...members, { id: ids[n]!, weight: 1 }];
    const started = performance.now();
    const planned = planSlots(map, next);
    slowest = Math.max(slowest, performance.now() - started);
    assert.ok(movedSlots(map, planned) <= 1.05 * slotsOf(planned, ids[n]!), `join to ${n + 1}`);
    map = planned;
    members = next;
  }
  assert.ok(clusterSlotsBytes(map) < 256 * 1024, `CLUSTER SLOTS ${clusterSlotsBytes(map)} bytes at 64 nodes`);
  // Timing on a shared machine: a loose bound on the median of repeated plans at 64 nodes.
  const times: number[] = [];
  for (let k = 0; k < 9; k++) {
    const started = performance.now();
    planSlots(map, members.slice(1));
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  assert.ok(times[4]! < 25, `planSlots for 64 nodes: median ${times[4]} ms (slowest join ${slowest} ms)`);
});
