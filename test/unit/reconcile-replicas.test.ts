/**
 * The controller's pure step with replicas: roles on the first map and on
 * joins, failover (dead, unreachable, planned handoff), the in-sync flags as
 * primaries report them, and sync mode keeping a shard down rather than
 * serving it empty.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ClusterMap, moveId, type ClusterSettings } from '../../src/cluster/cluster-map.js';
import { reconcile, type MemberRecord, type ReconcileInput } from '../../src/cluster/reconcile.js';
import { SLOT_COUNT } from '../../src/cluster/planner.js';

const id = (n: number) => n.toString(16).padStart(40, '0');
const member = (n: number, extra: Partial<MemberRecord> = {}): MemberRecord => ({ id: id(n), host: '127.0.0.1', port: 7000 + n, weight: 1, state: 'up', appliedEpoch: 0, ...extra });
const none = new Set<string>();
const async1: ClusterSettings = { replicas: 1, consistency: 'async' };
const sync1: ClusterSettings = { replicas: 1, consistency: 'sync' };

function step(map: ClusterMap | undefined, members: MemberRecord[], extra: Partial<ReconcileInput> = {}): ClusterMap | undefined {
  return reconcile({ cluster: 'c', map, members, removals: none, acks: map ? new Set(map.moves.map(moveId)) : none, ...extra });
}

function converge(map: ClusterMap | undefined, members: MemberRecord[], extra: Partial<ReconcileInput> = {}): ClusterMap {
  for (let i = 0; i < 20; i++) {
    const next = step(map, members, extra);
    if (next === undefined) return map!;
    map = next;
  }
  throw new Error('no convergence in 20 versions');
}

/** Primaries report every replica of theirs as in sync. */
function reportAllSynced(map: ClusterMap, members: MemberRecord[]): void {
  for (const m of members) {
    const n = map.node(m.id);
    if (n?.role === 'primary') m.inSync = map.replicasOf(m.id).map((r) => r.id);
  }
}

function shape(map: ClusterMap) {
  return map.primaries().map((p) => ({ p: p.id, slots: map.slotCount(p.id), replicas: map.replicasOf(p.id).map((r) => r.id) }));
}

describe('reconcile with replicas', () => {
  test('the first map of 6 members at 1 replica: 3 primaries owning every slot, each with one replica', () => {
    const members = [1, 2, 3, 4, 5, 6].map((n) => member(n));
    const map = converge(undefined, members, { settings: async1 });
    const s = shape(map);
    assert.equal(s.length, 3);
    assert.equal(s.reduce((n, p) => n + p.slots, 0), SLOT_COUNT);
    assert.ok(s.every((p) => p.replicas.length === 1));
    assert.equal(map.settings.replicas, 1);
    const replica = map.nodes.find((n) => n.role === 'replica')!;
    assert.equal(replica.synced, false, 'a new replica is not in sync until its primary says so');
  });

  test('replicas go to another zone than their primary when one is free', () => {
    const members = [member(1, { zone: 'a' }), member(2, { zone: 'a' }), member(3, { zone: 'b' }), member(4, { zone: 'b' })];
    const map = converge(undefined, members, { settings: async1 });
    for (const p of map.primaries()) for (const r of map.replicasOf(p.id)) assert.notEqual(r.zone, p.zone);
  });

  test('joins fill replicas first, then add a primary', () => {
    const members = [member(1)];
    let map = converge(undefined, members, { settings: async1 });
    members.push(member(2));
    map = converge(map, members, { settings: async1 });
    assert.equal(map.node(id(2))!.role, 'replica');
    assert.equal(map.node(id(2))!.primary, id(1));
    members.push(member(3));
    map = converge(map, members, { settings: async1 });
    assert.equal(map.node(id(3))!.role, 'primary');
    assert.ok(map.slotCount(id(3)) > 8000, 'the new primary took its share by moves');
    members.push(member(4));
    map = converge(map, members, { settings: async1 });
    assert.equal(map.node(id(4))!.primary, id(3));
  });

  test('the in-sync flags follow what each primary reports', () => {
    const members = [member(1), member(2)];
    let map = converge(undefined, members, { settings: async1 });
    members[0]!.inSync = [id(2)];
    map = step(map, members)!;
    assert.equal(map.node(id(2))!.synced, true);
    members[0]!.inSync = [];
    map = step(map, members)!;
    assert.equal(map.node(id(2))!.synced, false);
  });

  test('a dead primary is replaced by its in-sync replica in one version: same slots, epoch + 1', () => {
    const members = [1, 2, 3, 4].map((n) => member(n));
    let map = converge(undefined, members, { settings: async1 });
    reportAllSynced(map, members);
    map = converge(map, members);
    const victim = map.primaries()[0]!;
    const replica = map.replicasOf(victim.id)[0]!;
    const slots = map.slotCount(victim.id);
    const survivors = members.filter((m) => m.id !== victim.id);
    const next = step(map, survivors)!;
    assert.equal(next.epoch, map.epoch + 1);
    assert.equal(next.node(replica.id)!.role, 'primary');
    assert.equal(next.slotCount(replica.id), slots);
    assert.equal(next.node(victim.id), undefined);
    assert.equal(next.assignedSlots(), SLOT_COUNT);
  });

  test('of several replicas, the in-sync one with the highest offset is promoted', () => {
    const members = [1, 2, 3].map((n) => member(n));
    let map = converge(undefined, members, { settings: { replicas: 2, consistency: 'async' } });
    reportAllSynced(map, members);
    map = converge(map, members);
    const p = map.primaries()[0]!;
    const [r1, r2] = map.replicasOf(p.id);
    members.find((m) => m.id === r1!.id)!.replOffset = 100;
    members.find((m) => m.id === r2!.id)!.replOffset = 250;
    const next = step(map, members.filter((m) => m.id !== p.id))!;
    assert.equal(next.node(r2!.id)!.role, 'primary');
    assert.equal(next.node(r1!.id)!.primary, r2!.id, 'the other replica follows the new primary');
    assert.equal(next.node(r1!.id)!.synced, false);
  });

  test('an unreachable primary still holding its lease is replaced and becomes a replica of its replacement', () => {
    const members = [member(1), member(2)];
    let map = converge(undefined, members, { settings: async1 });
    members[0]!.inSync = [id(2)];
    map = converge(map, members);
    const next = step(map, members, { unreachable: new Set([id(1)]) })!;
    assert.equal(next.node(id(2))!.role, 'primary');
    assert.equal(next.slotCount(id(2)), SLOT_COUNT);
    assert.equal(next.node(id(1))!.role, 'replica');
    assert.equal(next.node(id(1))!.primary, id(2));
  });

  test('sync mode promotes only an in-sync replica, and keeps a shard with none down instead of serving it empty', () => {
    const members = [1, 2, 3, 4].map((n) => member(n));
    const map = converge(undefined, members, { settings: sync1 });
    const victim = map.primaries()[0]!;
    const slots = map.slotCount(victim.id);
    const next = step(map, members.filter((m) => m.id !== victim.id))!;
    assert.equal(next.node(victim.id)!.state, 'failed');
    assert.equal(next.slotCount(victim.id), slots, 'its slots stay with it: CLUSTERDOWN, not empty');
    assert.equal(step(next, members.filter((m) => m.id !== victim.id)), undefined);
  });

  test('async mode promotes a live replica not yet in sync rather than serve the slots empty', () => {
    const members = [member(1), member(2)];
    const map = converge(undefined, members, { settings: async1 });
    const next = step(map, [members[1]!])!;
    assert.equal(next.node(id(2))!.role, 'primary');
  });

  test('a leaving primary with an in-sync replica keeps its slots until it reports the handoff, then the replica takes them', () => {
    const members = [member(1), member(2), member(3), member(4)];
    let map = converge(undefined, members, { settings: async1 });
    reportAllSynced(map, members);
    map = converge(map, members);
    const p = map.primaries()[0]!;
    const r = map.replicasOf(p.id)[0]!;
    const rec = members.find((m) => m.id === p.id)!;
    rec.state = 'leaving';
    const marked = step(map, members)!;
    assert.equal(marked.moves.length, 0, 'no warm moves: the replica has the keys');
    assert.equal(marked.node(p.id)!.state, 'leaving');
    assert.equal(marked.slotCount(p.id), map.slotCount(p.id));
    rec.handoff = r.id;
    const handed = step(marked, members)!;
    assert.equal(handed.node(r.id)!.role, 'primary');
    assert.equal(handed.slotCount(r.id), map.slotCount(p.id));
    assert.equal(handed.node(p.id), undefined);
  });

  test('without replicas nothing changes: a dead owner\'s slots go to the others', () => {
    const members = [1, 2, 3].map((n) => member(n));
    const map = converge(undefined, members);
    const next = step(map, members.slice(1))!;
    assert.equal(next.assignedSlots(), SLOT_COUNT);
    assert.ok(next.nodes.every((n) => n.role === 'primary'));
  });
});
