/**
 * The controller's pure step: joins, leaves, deaths and removals, each as the
 * sequence of map versions the controller writes, with the invariant that no
 * slot is ever served by two nodes in any version.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ClusterMap, moveId } from '../../src/cluster/cluster-map.js';
import { reconcile, type MemberRecord } from '../../src/cluster/reconcile.js';
import { SLOT_COUNT } from '../../src/cluster/planner.js';

const id = (n: number) => n.toString(16).padStart(40, '0');
const member = (n: number, extra: Partial<MemberRecord> = {}): MemberRecord => ({ id: id(n), host: '127.0.0.1', port: 7000 + n, weight: 1, state: 'up', appliedEpoch: 0, ...extra });

const none = new Set<string>();
/** Every move of a map acknowledged, as old owners do once their copy is done. */
const ackAll = (map: ClusterMap) => new Set(map.moves.map(moveId));

/** Runs the controller until it has nothing to do, every live member applying each version and acknowledging its moves. */
function converge(map: ClusterMap | undefined, members: MemberRecord[], removals = new Set<string>()): { map: ClusterMap; versions: ClusterMap[] } {
  const versions: ClusterMap[] = [];
  for (let i = 0; i < 20; i++) {
    const next = reconcile({ cluster: 'c', map, members, removals, acks: map ? ackAll(map) : none });
    if (next === undefined) return { map: map!, versions };
    assertServedOnce(next);
    versions.push(next);
    map = next;
    for (const m of members) m.appliedEpoch = next.epoch;
  }
  throw new Error('reconcile did not converge in 20 versions');
}

/** Every slot has one owner at most, and a handover names the slot's owner as its source. */
function assertServedOnce(map: ClusterMap): void {
  for (let s = 0; s < SLOT_COUNT; s++) {
    const incoming = map.incomingOf(s);
    if (incoming !== undefined) assert.notEqual(incoming.id, map.ownerOf(s)?.id, `slot ${s} moves to its own owner`);
  }
}

function counts(map: ClusterMap): number[] {
  return map.nodes.map((n) => map.slotCount(n.id)).filter((c) => c > 0).sort((a, b) => a - b);
}

describe('reconcile', () => {
  test('the first map: every slot to the members, in contiguous blocks, epoch 1', () => {
    const { map } = converge(undefined, [member(1), member(2), member(3)]);
    assert.equal(map.epoch, 1);
    assert.equal(map.assignedSlots(), SLOT_COUNT);
    assert.deepEqual(counts(map), [5461, 5461, 5462]);
    assert.equal(map.ranges().length, 3);
    assert.equal(reconcile({ cluster: 'c', map, members: [member(1), member(2), member(3)], removals: none, acks: none }), undefined, 'nothing to do');
  });

  test('a join is a handover: owners kept until the old owners acknowledge, then the newcomer owns its share', () => {
    const members = [member(1), member(2), member(3)];
    const start = converge(undefined, members).map;
    members.push(member(4));
    const handover = reconcile({ cluster: 'c', map: start, members, removals: none, acks: none })!;
    assert.equal(handover.epoch, 2);
    assert.ok(handover.moves.length > 0 && handover.moves.every((m) => m.to === id(4)));
    assert.equal(handover.slotCount(id(4)), 0, 'the newcomer owns nothing before the handover is acknowledged');
    assert.equal(handover.node(id(4))!.state, 'joining');
    assert.ok(handover.moves.every((m) => m.since === 2), 'each move is named by the epoch that started it');
    // Not acknowledged yet (applying the version is not enough: the copy must be done): the controller waits.
    for (const m of members) m.appliedEpoch = 2;
    assert.equal(reconcile({ cluster: 'c', map: handover, members, removals: none, acks: none }), undefined);
    // One old owner acknowledges: its move alone is committed, the others keep their identity.
    const first = handover.moves[0]!;
    const partial = reconcile({ cluster: 'c', map: handover, members, removals: none, acks: new Set([moveId(first)]) })!;
    assert.equal(partial.moves.length, handover.moves.length - 1);
    assert.ok(partial.moves.every((m) => m.since === 2));
    assert.ok(partial.slotCount(id(4)) > 0);
    const done = reconcile({ cluster: 'c', map: partial, members, removals: none, acks: ackAll(handover) })!;
    assert.equal(done.epoch, 4);
    assert.equal(done.moves.length, 0);
    assert.deepEqual(counts(done), [4096, 4096, 4096, 4096]);
    assert.equal(done.node(id(4))!.state, 'up');
  });

  test('a dead node\'s slots go to the survivors at once, with no handover', () => {
    const members = [member(1), member(2), member(3)];
    const start = converge(undefined, members).map;
    const survivors = members.slice(1);
    const next = reconcile({ cluster: 'c', map: start, members: survivors, removals: none, acks: none })!;
    assert.equal(next.moves.length, 0);
    assert.equal(next.node(id(1)), undefined, 'the dead node is dropped once it owns nothing');
    assert.deepEqual(counts(next), [8192, 8192]);
  });

  test('with no survivor the dead node stays listed as failed and owns its slots (nobody can serve them)', () => {
    const start = converge(undefined, [member(1)]).map;
    const next = reconcile({ cluster: 'c', map: start, members: [], removals: none, acks: none })!;
    assert.equal(next.node(id(1))!.state, 'failed');
    assert.equal(next.failedSlots(), SLOT_COUNT);
  });

  test('a leave (SIGTERM) and a removal hand the slots over, then drop the node', () => {
    const members = [member(1), member(2), member(3), member(4)];
    const start = converge(undefined, members).map;
    members[3]!.state = 'leaving';
    const { map: afterLeave, versions } = converge(start, members);
    assert.ok(versions.length >= 2, 'a handover takes two versions at least');
    assert.ok(versions[0]!.moves.every((m) => m.from === id(4)));
    assert.equal(afterLeave.node(id(4)), undefined);
    assert.deepEqual(counts(afterLeave), [5461, 5461, 5462]);
    const { map: afterRemoval } = converge(afterLeave, members.slice(0, 3), new Set([id(3)]));
    assert.equal(afterRemoval.node(id(3)), undefined);
    assert.deepEqual(counts(afterRemoval), [8192, 8192]);
  });

  test('every member leaving at once (a whole-cluster stop): one version lets go of every slot and drops them all, with no handover to wait for', () => {
    const members = [member(1), member(2), member(3)];
    const start = converge(undefined, members).map;
    for (const m of members) m.state = 'leaving';
    const { map: stopped, versions } = converge(start, members);
    assert.equal(versions.length, 1);
    assert.equal(stopped.nodes.length, 0);
    assert.equal(stopped.assignedSlots(), 0);
    assert.deepEqual(stopped.moves, []);
    // One of two leaving is a handover as before: the other stays to take the slots.
    const two = [member(1), member(2)];
    const map2 = converge(undefined, two).map;
    two[0]!.state = 'leaving';
    const first = reconcile({ cluster: 'c', map: map2, members: two, removals: none, acks: none })!;
    assert.ok(first.moves.length > 0 && first.moves.every((m) => m.from === id(1) && m.to === id(2)));
  });

  test('a handover whose target dies is cancelled and the slots replanned', () => {
    const members = [member(1), member(2)];
    const start = converge(undefined, members).map;
    const handover = reconcile({ cluster: 'c', map: start, members: [...members, member(3)], removals: none, acks: none })!;
    assert.ok(handover.moves.length > 0);
    const cancelled = reconcile({ cluster: 'c', map: handover, members, removals: none, acks: none })!;
    assert.equal(cancelled.moves.length, 0);
    assert.deepEqual(counts(cancelled), [8192, 8192]);
    assert.equal(cancelled.node(id(3)), undefined);
  });

  test('a handover whose source dies is committed without its acknowledgement', () => {
    const members = [member(1), member(2)];
    const start = converge(undefined, members).map;
    const handover = reconcile({ cluster: 'c', map: start, members: [...members, member(3)], removals: none, acks: none })!;
    const next = reconcile({ cluster: 'c', map: handover, members: [member(2, { appliedEpoch: 2 }), member(3, { appliedEpoch: 2 })], removals: none, acks: none })!;
    assert.equal(next.node(id(3))!.state, 'up');
    const final = converge(next, [member(2), member(3)]).map;
    assert.deepEqual(counts(final), [8192, 8192]);
    assert.equal(final.assignedSlots(), SLOT_COUNT);
  });

  test('a node that dies while a handover waits for another node: its slots are reassigned at once, the handover still waits', () => {
    const members = [member(1), member(2), member(3)];
    const start = converge(undefined, members).map;
    const handover = reconcile({ cluster: 'c', map: start, members: [...members, member(4)], removals: none, acks: none })!;
    const from2 = handover.moves.find((m) => m.from === id(2))!;
    assert.ok(from2, 'node 2 hands slots to the newcomer');
    // Node 3 dies before anyone acknowledged; nodes 1, 2 and 4 live, none has acknowledged.
    const next = reconcile({ cluster: 'c', map: handover, members: [member(1), member(2), member(4)], removals: none, acks: none })!;
    assert.ok(next, 'a new version is written without waiting');
    assert.equal(next.slotCount(id(3)), 0, 'the dead node owns nothing');
    assert.equal(next.assignedSlots(), SLOT_COUNT);
    assert.ok(next.moves.some((m) => m.from === id(2) && m.to === id(4)), 'the live node\'s handover still waits for its acknowledgement');
    assertServedOnce(next);
    const final = converge(next, [member(1), member(2), member(4)]).map;
    assert.deepEqual(counts(final), [5461, 5461, 5462]);
  });

  test('the map round-trips through its document and rejects what is inconsistent', () => {
    const { map } = converge(undefined, [member(1), member(2)]);
    assert.deepEqual(ClusterMap.parse(map.serialize()).toDoc(), map.toDoc());
    const doc = JSON.parse(map.serialize());
    doc.slots.push([0, 0, 1]);
    assert.throws(() => ClusterMap.fromDoc(doc), /two owners/);
    assert.throws(() => ClusterMap.fromDoc({ ...JSON.parse(map.serialize()), epoch: -1 }), /invalid cluster map: epoch/);
  });
});
