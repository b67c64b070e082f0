/**
 * The replica's side of the stream takes one feed at a time: SYNC and
 * CONTINUE must name this node (a node started again at the same address is
 * a new node, and the feed meant for the old one must not reach it), and the
 * stream's requests count only on the connection of the last SYNC/CONTINUE.
 * Both guard against two streams interleaving into one copy, which left keys
 * at older values (acknowledged writes lost in sync mode's failover scenario).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ClusterMap } from '../../src/cluster/cluster-map.js';
import { reconcile, type MemberRecord } from '../../src/cluster/reconcile.js';
import { KIND_STRING } from '../../src/migration/wire.js';
import { ReplicaSink } from '../../src/replication/sink.js';
import { ManualClock } from '../../src/store/clock.js';
import { NO_EXPIRY } from '../../src/store/keyspace.js';
import { SlabKeyspace } from '../../src/store/slab-keyspace.js';

const id = (n: number) => n.toString(16).padStart(40, '0');
const member = (n: number): MemberRecord => ({ id: id(n), host: '127.0.0.1', port: 7000 + n, weight: 1, state: 'up', appliedEpoch: 0 });

/** A map of two members at one replica: one primary and its replica. */
function twoNodeMap(): ClusterMap {
  const members = [member(1), member(2)];
  let map: ClusterMap | undefined;
  for (let i = 0; i < 20; i++) {
    const next = reconcile({ cluster: 'c', map, members, removals: new Set(), acks: new Set(), settings: { replicas: 1, consistency: 'sync' } });
    if (next === undefined) break;
    map = next;
  }
  return map!;
}

function setUp() {
  const map = twoNodeMap();
  const replica = map.nodes.find((n) => n.role === 'replica')!;
  const primary = replica.primary!;
  const clock = new ManualClock();
  const store = new SlabKeyspace(clock);
  const sink = new ReplicaSink({ store, clock, selfId: replica.id, map: () => map, onlineChanged: () => {} });
  const put = (link: number, key: string, value: string) => {
    const v = Buffer.from(value);
    sink.put('run1', link, key, NO_EXPIRY, KIND_STRING, v, 0, v.length);
  };
  return { map, replica, primary, store, sink, put };
}

describe('ReplicaSink', () => {
  test('a SYNC meant for another node id is refused before anything is emptied', () => {
    const { map, replica, primary, store, sink, put } = setUp();
    sink.sync(primary, replica.id, map.epoch, 'run1', 0, 1);
    put(1, 'k', 'v1');
    assert.throws(() => sink.sync(primary, id(9), map.epoch, 'run1', 0, 2), /^Error: NOTREPLICA this is node .*, not 0+9 /);
    assert.throws(() => sink.resume(primary, id(9), map.epoch, 'run1', 2), /NOTREPLICA/);
    assert.equal(store.peek('k')?.toString(), 'v1', 'the refused SYNC emptied nothing');
  });

  test('requests from an earlier connection of the same run are refused once a newer one began', () => {
    const { map, replica, primary, store, sink, put } = setUp();
    sink.sync(primary, replica.id, map.epoch, 'run1', 0, 1);
    put(1, 'k', 'old');
    sink.synced('run1', 1);
    // The primary reconnects (a new connection, 2) and resumes; the old connection still has a request buffered.
    assert.equal(sink.resume(primary, replica.id, map.epoch, 'run1', 2), 0);
    put(2, 'k', 'new');
    assert.throws(() => put(1, 'k', 'old'), /NOTPRIMARY this stream continues on a newer connection/);
    assert.throws(() => sink.advance('run1', 1, 99), /NOTPRIMARY/);
    assert.equal(store.peek('k')?.toString(), 'new');
    assert.equal(sink.advance('run1', 2, 5), 5);
  });

  test('a SYNC of the right node and primary on a new connection takes over the stream', () => {
    const { map, replica, primary, store, sink, put } = setUp();
    sink.sync(primary, replica.id, map.epoch, 'run1', 0, 1);
    put(1, 'a', '1');
    sink.sync(primary, replica.id, map.epoch, 'run1', 0, 3);
    assert.equal(store.peek('a'), undefined, 'a full sync empties the copy');
    assert.throws(() => put(1, 'a', 'stale'), /NOTPRIMARY/);
    put(3, 'a', '2');
    assert.equal(store.peek('a')?.toString(), '2');
  });
});
