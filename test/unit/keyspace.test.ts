import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ManualClock } from '../../src/store/clock.js';
import { NO_EXPIRY, KEEP_TTL } from '../../src/store/keyspace.js';
import { SlabKeyspace } from '../../src/store/slab-keyspace.js';

const v = (s: string) => Buffer.from(s);

/** The engine's fixed cost (index, per-id blocks, queues) plus half its data: a limit that eviction can reach. */
function halfTheData(ks: SlabKeyspace): number {
  const e = ks.engineStats();
  const data = e.slabLiveBytes + e.largeBytes;
  return ks.usedMemory - data + data / 2;
}

test('get counts hits and misses; peek counts nothing', () => {
  const ks = new SlabKeyspace(new ManualClock());
  ks.set('a', v('1'), NO_EXPIRY);
  assert.equal(ks.get('a')?.toString(), '1');
  assert.equal(ks.get('b'), undefined);
  assert.equal(ks.peek('a')?.toString(), '1');
  assert.deepEqual(ks.stats, { hits: 1, misses: 1, expired: 0, evicted: 0 });
});

test('keys expire lazily at their millisecond and are counted', () => {
  const clock = new ManualClock();
  const ks = new SlabKeyspace(clock);
  ks.set('a', v('1'), clock.now() + 100);
  clock.advance(99);
  assert.ok(ks.get('a'));
  clock.advance(1);
  assert.equal(ks.get('a'), undefined);
  assert.equal(ks.size, 0);
  assert.equal(ks.stats.expired, 1);
});

test('KEEP_TTL keeps the expiry; a plain set clears it', () => {
  const clock = new ManualClock();
  const ks = new SlabKeyspace(clock);
  ks.set('a', v('1'), clock.now() + 1000);
  ks.set('a', v('2'), KEEP_TTL);
  assert.equal(ks.expireAt('a'), clock.now() + 1000);
  ks.set('a', v('3'), NO_EXPIRY);
  assert.equal(ks.expireAt('a'), NO_EXPIRY);
  assert.equal(ks.volatileSize, 0);
});

test('setExpireAt with a past time deletes the key', () => {
  const clock = new ManualClock();
  const ks = new SlabKeyspace(clock);
  ks.set('a', v('1'), NO_EXPIRY);
  assert.equal(ks.setExpireAt('a', clock.now() - 1), true);
  assert.equal(ks.peek('a'), undefined);
  assert.equal(ks.setExpireAt('missing', clock.now() + 1), false);
});

test('active expiry removes expired keys within its budget and leaves live ones', () => {
  const clock = new ManualClock();
  const ks = new SlabKeyspace(clock);
  for (let i = 0; i < 1000; i++) ks.set(`k${i}`, v('x'), clock.now() + (i % 2 === 0 ? 10 : 100_000));
  clock.advance(20);
  let removed = 0;
  for (let round = 0; round < 100 && removed < 500; round++) removed += ks.activeExpire(5);
  assert.equal(removed, 500);
  assert.equal(ks.size, 500);
  assert.equal(ks.stats.expired, 500);
});

test('memory accounting follows sets, overwrites and deletes, by chunk size class', () => {
  const ks = new SlabKeyspace(new ManualClock());
  ks.set('other', v('x'), NO_EXPIRY); // the first key allocates the first per-id block and queue block
  const empty = ks.usedMemory;
  ks.set('ab', v('xyz'), NO_EXPIRY); // 19-byte header + 2 + 3 = 24: the 24-byte class
  assert.equal(ks.usedMemory - empty, 24);
  ks.set('ab', Buffer.alloc(100), NO_EXPIRY); // 121: the 128-byte class
  assert.equal(ks.usedMemory - empty, 128);
  ks.set('ab', Buffer.alloc(100_000), NO_EXPIRY); // its own Buffer, plus a chunk for the key (21: the 24-byte class)
  assert.equal(ks.usedMemory - empty, 24 + 100_000);
  ks.delete('ab');
  assert.equal(ks.usedMemory, empty);
});

test('eviction gets under the limit; noeviction refuses; volatile policies spare persistent keys', () => {
  const clock = new ManualClock();
  const ks = new SlabKeyspace(clock, () => 0.5);
  for (let i = 0; i < 100; i++) ks.set(`k${i}`, Buffer.alloc(100), i < 50 ? clock.now() + 1000 : NO_EXPIRY);
  const limit = halfTheData(ks);
  assert.equal(ks.evict(limit, 'noeviction'), false);
  assert.equal(ks.evict(limit, 'volatile-lru'), true);
  assert.ok(ks.usedMemory <= limit);
  for (let i = 50; i < 100; i++) assert.ok(ks.peek(`k${i}`), `persistent key k${i} survived`);
  assert.equal(ks.evict(0, 'volatile-ttl'), false, 'no volatile keys left to evict');
  assert.equal(ks.evict(0, 'allkeys-random'), false, 'the engine\'s fixed overhead stays');
  assert.equal(ks.size, 0);
  assert.equal(ks.stats.evicted, 100);
});

test('allkeys-lru prefers keys not used recently', () => {
  const ks = new SlabKeyspace(new ManualClock());
  for (let i = 0; i < 1000; i++) ks.set(`k${i}`, Buffer.alloc(10), NO_EXPIRY);
  for (let i = 500; i < 1000; i++) ks.get(`k${i}`);
  ks.evict(halfTheData(ks), 'allkeys-lru');
  let recentSurvivors = 0;
  for (let i = 500; i < 1000; i++) if (ks.peek(`k${i}`)) recentSurvivors++;
  assert.ok(recentSurvivors > 400, `most recently used keys survive (${recentSurvivors}/500)`);
});

test('rename moves value and expiry', () => {
  const clock = new ManualClock();
  const ks = new SlabKeyspace(clock);
  ks.set('a', v('1'), clock.now() + 500);
  ks.set('b', v('2'), NO_EXPIRY);
  assert.equal(ks.rename('a', 'b'), true);
  assert.equal(ks.peek('a'), undefined);
  assert.equal(ks.peek('b')?.toString(), '1');
  assert.equal(ks.expireAt('b'), clock.now() + 500);
  assert.equal(ks.rename('zz', 'b'), false);
});

test('property: a scan visits every key present throughout, despite deletes and inserts', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 200 }), fc.array(fc.tuple(fc.boolean(), fc.nat(400)), { maxLength: 100 }), fc.integer({ min: 1, max: 20 }), (n, ops, count) => {
      const ks = new SlabKeyspace(new ManualClock());
      for (let i = 0; i < n; i++) ks.set(`k${i}`, v('x'), NO_EXPIRY);
      const touched = new Set<string>();
      const seen = new Set<string>();
      let cursor = 0;
      let step = 0;
      do {
        cursor = ks.scan(cursor, count, (k) => seen.add(k));
        // Between scan calls, delete or insert keys.
        const op = ops[step++ % Math.max(ops.length, 1)];
        if (op) {
          const key = `k${op[1]}`;
          touched.add(key);
          if (op[0]) ks.delete(key);
          else ks.set(key, v('y'), NO_EXPIRY);
        }
      } while (cursor !== 0 && step < 10_000);
      for (let i = 0; i < n; i++) {
        const key = `k${i}`;
        if (!touched.has(key)) assert.ok(seen.has(key), `${key} was visited`);
      }
    }),
    { numRuns: 200 },
  );
});

test('property: the keyspace agrees with a Map model under sets, deletes, expiries and time', () => {
  const op = fc.oneof(
    fc.record({ kind: fc.constant('set' as const), key: fc.integer({ min: 0, max: 20 }), ttl: fc.option(fc.integer({ min: 1, max: 50 })) }),
    fc.record({ kind: fc.constant('del' as const), key: fc.integer({ min: 0, max: 20 }) }),
    fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 30 }) }),
    fc.record({ kind: fc.constant('expire' as const) }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
      const clock = new ManualClock();
      const ks = new SlabKeyspace(clock);
      const model = new Map<string, { value: string; at: number }>();
      let serial = 0;
      for (const o of ops) {
        if (o.kind === 'set') {
          const value = `v${serial++}`;
          const at = o.ttl === null ? NO_EXPIRY : clock.now() + o.ttl;
          ks.set(`k${o.key}`, v(value), at);
          model.set(`k${o.key}`, { value, at });
        } else if (o.kind === 'del') {
          ks.delete(`k${o.key}`);
          model.delete(`k${o.key}`);
        } else if (o.kind === 'tick') clock.advance(o.ms);
        else ks.activeExpire(50);
        for (const [k, m] of model) if (m.at !== NO_EXPIRY && m.at <= clock.now()) model.delete(k);
        for (let i = 0; i <= 20; i++) assert.equal(ks.peek(`k${i}`)?.toString(), model.get(`k${i}`)?.value);
        assert.deepEqual(new Set(ks.keys()), new Set(model.keys()));
      }
    }),
    { numRuns: 200 },
  );
});

test('property: containers and strings side by side agree with a model: types, WRONGTYPE, emptied keys, rename, expiry, memory', async () => {
  const { HashObject } = await import('../../src/store/objects/hash-object.js');
  const { SetObject } = await import('../../src/store/objects/set-object.js');
  const { ListObject } = await import('../../src/store/objects/list-object.js');
  const { WrongTypeError } = await import('../../src/store/keyspace.js');
  type Kind = 'string' | 'hash' | 'set' | 'list';
  type Model = { kind: Kind; items: string[]; at: number };
  const key = fc.integer({ min: 0, max: 6 }).map((i) => `k${i}`);
  const item = fc.constantFrom('a', 'b', 'c', 'd');
  const op = fc.oneof(
    fc.record({ kind: fc.constant('set' as const), key, ttl: fc.option(fc.integer({ min: 1, max: 40 })) }),
    fc.record({ kind: fc.constant('add' as const), type: fc.constantFrom<Kind>('hash', 'set', 'list'), key, item }),
    fc.record({ kind: fc.constant('remove' as const), type: fc.constantFrom<Kind>('hash', 'set', 'list'), key, item }),
    fc.record({ kind: fc.constant('del' as const), key }),
    fc.record({ kind: fc.constant('rename' as const), key, to: key }),
    fc.record({ kind: fc.constant('expire' as const), key, ttl: fc.integer({ min: 1, max: 40 }) }),
    fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 30 }) }),
    fc.record({ kind: fc.constant('active' as const) }),
  );
  const contents = (o: unknown): string[] => {
    if (o instanceof HashObject) return [...o.fields.keyList()];
    if (o instanceof SetObject) return o.list().sort();
    if (o instanceof ListObject) return o.range(0, o.size);
    throw new Error('not a container');
  };
  fc.assert(
    fc.property(fc.array(op, { maxLength: 150 }), (ops) => {
      const clock = new ManualClock();
      const ks = new SlabKeyspace(clock);
      const model = new Map<string, Model>();
      let serial = 0;
      for (const o of ops) {
        if (o.kind === 'set') {
          const value = `v${serial++}`;
          const at = o.ttl === null ? NO_EXPIRY : clock.now() + o.ttl;
          ks.set(o.key, v(value), at);
          model.set(o.key, { kind: 'string', items: [value], at });
        } else if (o.kind === 'add' || o.kind === 'remove') {
          const m = model.get(o.key);
          let obj;
          try {
            obj = ks.getObject(o.key, o.type as 'hash', false);
          } catch (err) {
            assert.ok(err instanceof WrongTypeError);
            assert.ok(m !== undefined && m.kind !== o.type, 'WRONGTYPE only for a key of another type');
            continue;
          }
          assert.equal(obj === undefined, m === undefined, `${o.key} exists in both or neither`);
          if (o.kind === 'remove') {
            if (obj === undefined) continue;
            if (obj instanceof HashObject) obj.delete(o.item);
            else if (obj instanceof SetObject) obj.delete(o.item);
            else if (obj instanceof ListObject && obj.size > 0 && obj.get(0) === o.item) obj.popFront();
            ks.objectChanged(o.key, obj);
            const items = o.type === 'list' ? (m!.items[0] === o.item ? m!.items.slice(1) : m!.items) : m!.items.filter((x) => x !== o.item);
            if (items.length === 0) model.delete(o.key);
            else m!.items = items;
            continue;
          }
          const created = obj === undefined;
          const c = obj ?? (o.type === 'hash' ? new HashObject() : o.type === 'set' ? new SetObject() : new ListObject());
          if (c instanceof HashObject) c.set(o.item, 'x');
          else if (c instanceof SetObject) c.add(o.item);
          else if (c instanceof ListObject) c.pushBack(o.item);
          if (created) ks.putObject(o.key, c, NO_EXPIRY);
          else ks.objectChanged(o.key, c);
          const prev = m?.items ?? [];
          const items = o.type === 'list' ? [...prev, o.item] : prev.includes(o.item) ? prev : [...prev, o.item];
          model.set(o.key, { kind: o.type, items, at: m?.at ?? NO_EXPIRY });
        } else if (o.kind === 'del') {
          assert.equal(ks.delete(o.key), model.delete(o.key));
        } else if (o.kind === 'rename') {
          const m = model.get(o.key);
          assert.equal(ks.rename(o.key, o.to), m !== undefined);
          if (m !== undefined && o.key !== o.to) {
            model.delete(o.key);
            model.set(o.to, m);
          }
        } else if (o.kind === 'expire') {
          const m = model.get(o.key);
          assert.equal(ks.setExpireAt(o.key, clock.now() + o.ttl), m !== undefined);
          if (m) m.at = clock.now() + o.ttl;
        } else if (o.kind === 'tick') clock.advance(o.ms);
        else ks.activeExpire(50);
        for (const [k, m] of model) if (m.at !== NO_EXPIRY && m.at <= clock.now()) model.delete(k);
        for (let i = 0; i <= 6; i++) {
          const k = `k${i}`;
          const m = model.get(k);
          assert.equal(ks.typeOf(k), m?.kind, `TYPE ${k}`);
          if (m === undefined) continue;
          if (m.kind === 'string') {
            assert.equal(ks.peek(k)?.toString(), m.items[0]);
            assert.equal(ks.peekObject(k), undefined);
          } else {
            assert.throws(() => ks.peek(k), WrongTypeError, 'a string read of a container');
            const got = contents(ks.peekObject(k));
            assert.deepEqual(got, m.kind === 'set' ? [...m.items].sort() : m.items);
          }
          assert.equal(ks.expireAt(k), m.at);
        }
        assert.deepEqual(new Set(ks.keys()), new Set(model.keys()));
        assert.equal(ks.size, model.size);
      }
      // Everything deleted: no data bytes are counted any more, containers' included.
      for (const k of [...model.keys()]) ks.delete(k);
      const e = ks.engineStats();
      assert.deepEqual([e.slabLiveBytes, e.largeBytes, e.objectBytes], [0, 0, 0]);
    }),
    { numRuns: 200 },
  );
});

test('containers count in used memory and are evicted and expired as any key', async () => {
  const { HashObject } = await import('../../src/store/objects/hash-object.js');
  const clock = new ManualClock();
  const ks = new SlabKeyspace(clock, () => 0.5);
  ks.set('other', v('x'), NO_EXPIRY);
  const base = ks.usedMemory;
  const h = new HashObject();
  ks.putObject('h', h, NO_EXPIRY);
  const one = ks.usedMemory;
  assert.ok(one > base);
  const got = ks.getObject('h', 'hash', false) as InstanceType<typeof HashObject>;
  for (let i = 0; i < 1000; i++) got.set(`field${i}`, 'x'.repeat(20));
  ks.objectChanged('h', got);
  assert.ok(ks.usedMemory > one + 1000 * 40, `a 1000-field hash counts its fields (${ks.usedMemory - one} bytes)`);
  assert.equal(ks.memoryUsage('h')! > 1000 * 40, true);
  // Eviction takes the big container first under allkeys-lru when it is the oldest.
  for (let i = 0; i < 100; i++) ks.set(`s${i}`, v('y'), NO_EXPIRY);
  assert.equal(ks.evict(ks.usedMemory - 1000, 'allkeys-lru'), true);
  assert.equal(ks.stats.evicted > 0, true);
  // Expiry of a container.
  const h2 = new HashObject();
  h2.set('f', 'v');
  ks.putObject('h2', h2, clock.now() + 10);
  clock.advance(10);
  assert.equal(ks.typeOf('h2'), undefined);
  ks.flush();
  assert.equal(ks.size, 0);
});
