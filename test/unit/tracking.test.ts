/** The CLIENT TRACKING tables (src/tracking/table.ts) and the tracker over a real keyspace, without a network. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { PrefixTable, TrackingTable, prefixesOverlap } from '../../src/tracking/table.js';
import { Tracker, invalidateMessage, invalidatePush, type TrackingPeer } from '../../src/tracking/tracker.js';
import { SlabKeyspace } from '../../src/store/slab-keyspace.js';
import { ManualClock } from '../../src/store/clock.js';
import { NO_EXPIRY } from '../../src/store/keyspace.js';

const keyArb = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'ab', 'abc', 'b1');
const idArb = fc.integer({ min: 1, max: 4 });

test('TrackingTable: every (key, reader) is either still remembered or was handed out exactly once, and the bound holds', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 4 }),
      fc.array(fc.oneof(fc.record({ op: fc.constant('read' as const), key: keyArb, id: idArb }), fc.record({ op: fc.constant('write' as const), key: keyArb })), { maxLength: 80 }),
      (max, ops) => {
        const t = new TrackingTable(max);
        const live = new Map<string, Set<number>>(); // the model: who must still be told
        const told: Array<[string, number]> = [];
        const tell = (key: string, ids: ReadonlySet<number>) => {
          for (const id of ids) {
            assert.ok(live.get(key)?.has(id), `told ${id} of ${key} twice or without a read`);
            live.get(key)!.delete(id);
            told.push([key, id]);
          }
        };
        for (const o of ops) {
          if (o.op === 'read') {
            if (!live.has(o.key)) live.set(o.key, new Set());
            live.get(o.key)!.add(o.id);
            t.remember(o.key, o.id, tell);
          } else {
            const ids = t.take(o.key);
            if (ids !== undefined) tell(o.key, ids);
            assert.equal(t.take(o.key), undefined);
          }
          if (max > 0) assert.ok(t.keys <= max);
          let items = 0;
          for (const [key, ids] of live) for (const id of ids) {
            assert.ok(t.has(key, id), `${id} read ${key} and was never told, but the table forgot it`);
            items++;
          }
          assert.equal(t.items, items);
        }
      },
    ),
  );
});

test('TrackingTable: when full, the oldest key goes first', () => {
  const t = new TrackingTable(2);
  const out: string[] = [];
  t.remember('k1', 1, (k) => out.push(k));
  t.remember('k2', 1, (k) => out.push(k));
  t.remember('k1', 2, (k) => out.push(k));
  t.remember('k3', 1, (k) => out.push(k));
  assert.deepEqual(out, ['k1']);
  assert.equal(t.keys, 2);
  assert.ok(t.has('k2', 1) && t.has('k3', 1));
});

test('PrefixTable: each listener gets every key written under its prefixes once per drain, minus its own with NOLOOP', () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ prefix: fc.constantFrom('', 'a', 'ab', 'b'), id: idArb }), { maxLength: 6 }),
      fc.array(fc.record({ key: keyArb, writer: fc.integer({ min: -1, max: 4 }) }), { maxLength: 20 }),
      fc.constantFrom(new Set<number>(), new Set([1, 2]), new Set([1, 2, 3, 4])),
      (subs, writes, noloop) => {
        const p = new PrefixTable();
        for (const s of subs) p.add(s.prefix, s.id);
        for (const w of writes) p.written(w.key, w.writer);
        const got = new Map<number, string[]>();
        p.drain((id) => noloop.has(id), (id, keys) => got.set(id, [...(got.get(id) ?? []), ...keys]));
        for (const id of new Set(subs.map((s) => s.id))) {
          const prefixes = subs.filter((s) => s.id === id).map((s) => s.prefix);
          const expected: string[] = [];
          for (const prefix of new Set(prefixes)) {
            const last = new Map<string, number>();
            for (const w of writes) if (w.key.startsWith(prefix)) {
              last.delete(w.key);
              last.set(w.key, w.writer);
            }
            for (const [k, writer] of last) if (!noloop.has(id) || writer !== id) expected.push(k);
          }
          assert.deepEqual((got.get(id) ?? []).sort(), expected.sort(), `client ${id}`);
        }
        // A second drain has nothing left.
        let more = 0;
        p.drain(() => false, () => more++);
        assert.equal(more, 0);
      },
    ),
  );
});

test('prefixesOverlap: one starts the other', () => {
  assert.ok(prefixesOverlap('a', 'ab') && prefixesOverlap('ab', 'a') && prefixesOverlap('', 'x') && prefixesOverlap('x', 'x'));
  assert.ok(!prefixesOverlap('ab', 'ac'));
});

class FakePeer implements TrackingPeer {
  got: Buffer[] = [];
  constructor(public protocol: 2 | 3, public pubsub = false) {}
  push(bytes: Buffer): void {
    this.got.push(bytes);
  }
  text(): string {
    return Buffer.concat(this.got).toString('latin1');
  }
}

function setup(maxKeys = 100) {
  const clock = new ManualClock();
  const store = new SlabKeyspace(clock);
  const peers = new Map<number, FakePeer>();
  const tracker = new Tracker(store, { peer: (id) => peers.get(id) }, maxKeys);
  const on = (id: number, protocol: 2 | 3, o: Partial<Parameters<Tracker['enable']>[2]> = {}) => {
    peers.set(id, new FakePeer(protocol));
    return tracker.enable(undefined, id, { redirect: 0, bcast: false, optin: false, optout: false, noloop: false, prefixes: [], ...o });
  };
  return { clock, store, peers, tracker, on };
}

const push = (...keys: string[]) => invalidatePush(keys).toString('latin1');

test('Tracker: the store pays nothing while nobody tracks; the hook comes and goes with the tracking clients', () => {
  const { store, tracker, on } = setup();
  assert.equal(store.tracking, null);
  const a = on(1, 3);
  const b = on(2, 3);
  assert.equal(store.tracking, tracker);
  tracker.disable(a);
  assert.equal(store.tracking, tracker);
  tracker.disable(b);
  assert.equal(store.tracking, null);
  assert.equal(tracker.table.keys, 0);
});

test('Tracker: writes, deletes, expiry (lazy and active), eviction and flush invalidate', () => {
  const { clock, store, peers, tracker, on } = setup();
  const a = on(1, 3);
  const read = (k: string) => tracker.remember(a, [k]);
  store.set('w', Buffer.from('1'), NO_EXPIRY);
  read('w');
  store.set('w', Buffer.from('2'), NO_EXPIRY);
  store.set('w', Buffer.from('3'), NO_EXPIRY); // forgotten after the first change: one push
  read('d');
  store.set('d', Buffer.from('1'), NO_EXPIRY);
  read('d');
  store.delete('d');
  store.set('x', Buffer.from('1'), clock.now() + 10);
  read('x');
  clock.advance(20);
  store.activeExpire(10);
  store.set('y', Buffer.from('1'), clock.now() + 10);
  read('y');
  clock.advance(20);
  assert.equal(store.get('y'), undefined); // lazy expiry on read
  for (let i = 0; i < 50; i++) store.set(`e${i}`, Buffer.alloc(1000), NO_EXPIRY);
  for (let i = 0; i < 50; i++) read(`e${i}`);
  store.evict(10_000, 'allkeys-lru');
  const text = peers.get(1)!.text();
  assert.ok(text.startsWith(push('w') + push('d') + push('d') + push('x') + push('y')), text.slice(0, 300));
  const evicted = (text.match(/\*1\r\n\$\d+\r\ne\d+\r\n/g) ?? []).length;
  assert.ok(evicted >= 40, `evicted keys invalidated: ${evicted}`);
  assert.equal(evicted, 50 - store.size);
  peers.get(1)!.got = [];
  store.flush();
  assert.equal(peers.get(1)!.text(), invalidatePush(null).toString('latin1'));
});

test('Tracker: a full table invalidates its oldest keys; a lower tracking-table-max-keys applies at once', () => {
  const { peers, tracker, on } = setup(3);
  const a = on(1, 3);
  tracker.remember(a, ['k1', 'k2', 'k3', 'k4']);
  assert.equal(peers.get(1)!.text(), push('k1'));
  tracker.table.maxKeys = 1;
  tracker.trim();
  assert.equal(peers.get(1)!.text(), push('k1') + push('k2') + push('k3'));
});

test('Tracker: the running client gets its own invalidations after its reply; NOLOOP skips them', () => {
  const { store, peers, tracker, on } = setup();
  const a = on(1, 3);
  const b = on(2, 3, { noloop: true });
  tracker.remember(a, ['k']);
  tracker.remember(b, ['k']);
  tracker.begin(1);
  store.set('k', Buffer.from('v'), NO_EXPIRY);
  assert.equal(peers.get(1)!.text(), '');
  assert.equal(peers.get(2)!.text(), push('k'));
  const pending = tracker.end();
  assert.ok(pending !== null);
  tracker.sendPending(1, pending);
  assert.equal(peers.get(1)!.text(), push('k'));
  tracker.remember(b, ['k']);
  tracker.begin(2);
  store.set('k', Buffer.from('w'), NO_EXPIRY);
  assert.equal(tracker.end(), null);
  assert.equal(peers.get(2)!.text(), push('k'));
});

test('Tracker: REDIRECT to RESP3 pushes there, to RESP2 in pub/sub mode sends a message, to RESP2 otherwise nothing, to a gone client tracking-redir-broken', () => {
  const { store, peers, tracker, on } = setup();
  peers.set(10, new FakePeer(3));
  peers.set(11, new FakePeer(2, true));
  peers.set(12, new FakePeer(2, false));
  const a = on(1, 3, { redirect: 10 });
  const b = on(2, 3, { redirect: 11 });
  const c = on(3, 3, { redirect: 12 });
  const d = on(4, 3, { redirect: 99 });
  for (const t of [a, b, c, d]) tracker.remember(t, ['k']);
  store.set('k', Buffer.from('v'), NO_EXPIRY);
  assert.equal(peers.get(10)!.text(), push('k'));
  assert.equal(peers.get(11)!.text(), invalidateMessage(['k']).toString('latin1'));
  assert.equal(peers.get(11)!.text(), '*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*1\r\n$1\r\nk\r\n');
  assert.equal(peers.get(12)!.text(), '');
  assert.equal(peers.get(4)!.text(), '>2\r\n$21\r\ntracking-redir-broken\r\n:99\r\n');
  assert.ok(d.brokenRedirect);
  for (const id of [1, 2, 3]) assert.equal(peers.get(id)!.text(), '');
  store.flush();
  assert.equal(peers.get(11)!.text().endsWith('*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n$-1\r\n'), true, 'a flush is the RESP2 nil bulk, as Redis sends it');
});

test('Tracker: OPTIN remembers only after CLIENT CACHING YES, OPTOUT all but after CLIENT CACHING NO, BCAST nothing', () => {
  const { tracker, on } = setup();
  const i = on(1, 3, { optin: true });
  const o = on(2, 3, { optout: true });
  const b = on(3, 3, { bcast: true });
  tracker.remember(i, ['a']);
  tracker.remember(o, ['a']);
  tracker.remember(b, ['a']);
  i.caching = o.caching = true;
  tracker.remember(i, ['b']);
  tracker.remember(o, ['b']);
  assert.ok(!tracker.table.has('a', 1) && tracker.table.has('a', 2) && !tracker.table.has('a', 3));
  assert.ok(tracker.table.has('b', 1) && !tracker.table.has('b', 2));
});

test('Tracker: BCAST batches a turn\'s keys per prefix', async () => {
  const { store, peers, on } = setup();
  on(1, 3, { bcast: true, prefixes: ['u:', 'o:'] });
  store.set('u:1', Buffer.from('1'), NO_EXPIRY);
  store.set('x', Buffer.from('1'), NO_EXPIRY);
  store.set('u:2', Buffer.from('1'), NO_EXPIRY);
  store.set('o:1', Buffer.from('1'), NO_EXPIRY);
  assert.equal(peers.get(1)!.text(), '');
  await new Promise((r) => setImmediate(r));
  assert.equal(peers.get(1)!.text(), push('u:1', 'u:2') + push('o:1'));
});
