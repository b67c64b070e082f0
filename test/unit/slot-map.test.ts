import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { assignSlots, SLOT_COUNT, type Member } from '../../src/cluster/slot-map.js';
import { keySlot, Topology } from '../../src/cluster/topology.js';
import { parsePeers } from '../../src/membership/static.js';

const members = (ids: string[]): Member[] => ids.map((id) => ({ id }));

/** Fraction of slots whose owner differs between two assignments. */
function moved(a: ReturnType<typeof assignSlots>, b: ReturnType<typeof assignSlots>): number {
  let n = 0;
  for (let s = 0; s < SLOT_COUNT; s++) if (a.members[a.owners[s]!]!.id !== b.members[b.owners[s]!]!.id) n++;
  return n / SLOT_COUNT;
}

function maxOverMean(a: ReturnType<typeof assignSlots>): number {
  const counts = new Array<number>(a.members.length).fill(0);
  for (const o of a.owners) counts[o]!++;
  return Math.max(...counts) / (SLOT_COUNT / a.members.length);
}

const idSet = (min: number, max: number) =>
  fc.uniqueArray(fc.tuple(fc.integer({ min: 1, max: 254 }), fc.integer({ min: 1024, max: 65535 })).map(([h, p]) => `10.0.0.${h}:${p}`), { minLength: min, maxLength: max });

test('CRC16 slots match the Redis Cluster specification', () => {
  assert.equal(keySlot('123456789'), 12739); // CRC16-XMODEM("123456789") = 0x31C3
  assert.equal(keySlot('{user1000}.following'), keySlot('{user1000}.followers'));
  assert.equal(keySlot('foo{}{bar}'), 8363, 'an empty first tag hashes the whole key');
  assert.equal(keySlot('{}'), keySlot(Buffer.from('{}')));
  assert.equal(keySlot('foo{{bar}}zap'), keySlot('{bar'));
  assert.equal(keySlot('foo{bar}{zap}'), keySlot('bar'));
  assert.equal(keySlot(Buffer.from([0xff, 0x00])), keySlot('\u00ff\u0000'), 'binary keys as latin1 strings hash their bytes');
});

test('every slot has exactly one owner and the map ignores member order', () => {
  const ids = ['127.0.0.1:7000', '127.0.0.1:7001', '127.0.0.1:7002'];
  const a = assignSlots(members(ids));
  const b = assignSlots(members([...ids].reverse()));
  assert.deepEqual([...a.owners], [...b.owners]);
  const owned = new Set(a.owners);
  assert.equal(owned.size, 3);
});

test('property: balance max/mean <= 1.05 for 3 to 64 members', () => {
  fc.assert(
    fc.property(idSet(3, 64), (ids) => {
      assert.ok(maxOverMean(assignSlots(members(ids))) <= 1.05);
    }),
    { numRuns: 25 },
  );
});

test('property: a join or leave moves close to the ideal 1/N of the slots (3 to 32 members)', () => {
  fc.assert(
    fc.property(idSet(4, 33), (ids) => {
      const before = assignSlots(members(ids.slice(1)));
      const after = assignSlots(members(ids));
      const n = ids.length;
      assert.ok(moved(before, after) <= 1.1 / n, `join to ${n}: moved ${moved(before, after)} > 1.1/${n}`);
      const left = assignSlots(members(ids.slice(0, -1)));
      assert.ok(moved(after, left) <= 1.1 / n, `leave from ${n}: moved ${moved(after, left)} > 1.1/${n}`);
    }),
    { numRuns: 20 },
  );
});

test('weights shift load in proportion', () => {
  const a = assignSlots([{ id: 'a:1', weight: 2 }, { id: 'b:1' }, { id: 'c:1' }]);
  const counts = [0, 0, 0];
  for (const o of a.owners) counts[o]!++;
  const share = counts[0]! / SLOT_COUNT;
  assert.ok(share > 0.47 && share < 0.53, `the weight-2 node owns about half (${share})`);
});

test('topology ranges cover every slot once, in order', () => {
  const t = new Topology(3, [{ host: '127.0.0.1', port: 7000 }, { host: '127.0.0.1', port: 7001 }], 2);
  let next = 0;
  for (const r of t.ranges()) {
    assert.equal(r.start, next);
    assert.ok(r.end >= r.start);
    assert.equal(r.nodes.length, 2, 'primary and one replica');
    assert.notEqual(r.nodes[0]!.key, r.nodes[1]!.key);
    next = r.end + 1;
  }
  assert.equal(next, SLOT_COUNT);
  assert.match(t.nodes[0]!.id, /^[0-9a-f]{40}$/);
});

test('peer lists: weights, duplicates and bad entries', () => {
  assert.deepEqual(parsePeers('127.0.0.1:7000,localhost:7001@2'), [{ host: '127.0.0.1', port: 7000, weight: 1 }, { host: 'localhost', port: 7001, weight: 2 }]);
  assert.throws(() => parsePeers('127.0.0.1:7000,127.0.0.1:7000'), /listed twice/);
  assert.throws(() => parsePeers('127.0.0.1:abc'), /invalid peer/);
  assert.throws(() => parsePeers('127.0.0.1:70000'), /invalid peer/);
  assert.throws(() => parsePeers(''), /invalid peer/);
});
