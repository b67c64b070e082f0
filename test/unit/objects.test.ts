/** The containers behind hashes, sets, lists and sorted sets, against plain models. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { isIntsetMember } from '../../src/store/objects/common.js';
import { HashObject } from '../../src/store/objects/hash-object.js';
import { ListObject } from '../../src/store/objects/list-object.js';
import { SetObject } from '../../src/store/objects/set-object.js';
import { ZSetObject } from '../../src/store/objects/zset-object.js';
import type { LexRange, ScoreRange } from '../../src/store/objects/skiplist.js';

test('intset members are canonical int64s', () => {
  for (const s of ['0', '1', '-1', '9223372036854775807', '-9223372036854775808', '123']) assert.ok(isIntsetMember(s), s);
  for (const s of ['', '-', '-0', '01', '+1', ' 1', '1.0', '9223372036854775808', '-9223372036854775809', 'a']) assert.ok(!isIntsetMember(s), s);
});

test('property: a list agrees with an array under pushes, pops, inserts, removals, sets and trims', () => {
  const op = fc.oneof(
    fc.record({ k: fc.constantFrom('pushFront', 'pushBack'), v: fc.string({ maxLength: 3 }) }),
    fc.record({ k: fc.constantFrom('popFront', 'popBack') }),
    fc.record({ k: fc.constant('insert'), at: fc.nat(), v: fc.string({ maxLength: 3 }) }),
    fc.record({ k: fc.constantFrom('remove', 'set'), at: fc.nat(), v: fc.string({ maxLength: 3 }) }),
    fc.record({ k: fc.constant('trim'), a: fc.nat(), b: fc.nat() }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
      const l = new ListObject();
      const m: string[] = [];
      const base = l.bytes;
      for (const o of ops) {
        if (o.k === 'pushFront') {
          l.pushFront(o.v);
          m.unshift(o.v);
        } else if (o.k === 'pushBack') {
          l.pushBack(o.v);
          m.push(o.v);
        } else if (o.k === 'popFront') assert.equal(l.popFront(), m.shift());
        else if (o.k === 'popBack') assert.equal(l.popBack(), m.pop());
        else if (o.k === 'insert') {
          const at = o.at % (m.length + 1);
          l.insertAt(at, o.v);
          m.splice(at, 0, o.v);
        } else if (o.k === 'remove' && m.length > 0) {
          const at = o.at % m.length;
          assert.equal(l.removeAt(at), m.splice(at, 1)[0]);
        } else if (o.k === 'set' && m.length > 0) {
          const at = o.at % m.length;
          l.set(at, o.v);
          m[at] = o.v;
        } else if (o.k === 'trim' && m.length > 0) {
          const a = o.a % m.length;
          const b = a + (o.b % (m.length - a + 1));
          l.trim(a, b);
          m.splice(b);
          m.splice(0, a);
        }
        assert.equal(l.size, m.length);
        assert.deepEqual(l.range(0, l.size), m);
      }
      // Bytes return to the empty list's once it is empty again.
      while (l.size > 0) l.popBack();
      assert.equal(l.bytes, base);
    }),
    { numRuns: 300 },
  );
});

test('property: a set agrees with a Set; encodings as Redis 7.0 would name them', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.boolean(), fc.oneof(fc.integer({ min: -50, max: 50 }).map(String), fc.string({ maxLength: 2 }))), { maxLength: 200 }), (ops) => {
      const s = new SetObject();
      const m = new Set<string>();
      let allInts = true;
      for (const [add, v] of ops) {
        if (add) {
          assert.equal(s.add(v), !m.has(v));
          m.add(v);
          if (!isIntsetMember(v)) allInts = false;
        } else assert.equal(s.delete(v), m.delete(v));
        assert.equal(s.size, m.size);
        assert.equal(s.encoding(), allInts ? 'intset' : 'hashtable');
      }
      assert.deepEqual(new Set(s.list()), m);
      for (const v of m) assert.ok(s.has(v));
      while (s.size > 0) assert.ok(m.delete(s.pop()));
      assert.equal(m.size, 0);
    }),
  );
  const ints = new SetObject();
  for (const v of ['10', '-2', '3']) ints.add(v);
  assert.deepEqual(ints.list(), ['-2', '3', '10'], 'an intset lists in numeric order');
  for (let i = 0; i < 513; i++) ints.add(String(i + 100));
  assert.equal(ints.encoding(), 'hashtable', 'over 512 members');
});

test('hash: insertion order kept across updates; listpack until 513 fields or a 65-byte value', () => {
  const h = new HashObject();
  h.set('a', '1');
  h.set('b', '2');
  h.set('a', '3');
  assert.deepEqual([...h.fields.entries()], [['a', '3'], ['b', '2']]);
  assert.equal(h.encoding(), 'listpack');
  h.set('c', 'x'.repeat(65));
  assert.equal(h.encoding(), 'hashtable');
  h.delete('c');
  assert.equal(h.encoding(), 'hashtable', 'never converted back');
  const g = new HashObject();
  for (let i = 0; i < 512; i++) g.set(`f${i}`, 'v');
  assert.equal(g.encoding(), 'listpack');
  g.set('one-more', 'v');
  assert.equal(g.encoding(), 'hashtable');
  const base = new HashObject().bytes;
  for (let i = 0; i < 513; i++) g.delete(i < 512 ? `f${i}` : 'one-more');
  assert.equal(g.bytes, base);
});

const sorted = (m: Map<string, number>): Array<[string, number]> => [...m].sort(([a, x], [b, y]) => x - y || (a < b ? -1 : a > b ? 1 : 0));

test('property: a sorted set agrees with a sorted model: order, ranks, ranges', () => {
  const member = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'aa', 'ab', '', 'z');
  const score = fc.constantFrom(-2, -1, 0, 0.5, 1, 1, 2, 3, Infinity, -Infinity);
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.boolean(), member, score), { maxLength: 150 }), fc.integer(), (ops, seed) => {
      let x = seed >>> 0;
      const z = new ZSetObject(() => ((x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 2 ** 32));
      const m = new Map<string, number>();
      for (const [add, mem, sc] of ops) {
        if (add) {
          assert.equal(z.set(mem, sc), !m.has(mem));
          m.set(mem, sc);
        } else assert.equal(z.delete(mem), m.delete(mem));
        const want = sorted(m);
        const got: Array<[string, number]> = [];
        for (let n = z.list.first; n !== null; n = n.next[0]!) got.push([n.member, n.score]);
        assert.deepEqual(got, want);
        const back: string[] = [];
        for (let n = z.list.tail; n !== null; n = n.prev) back.push(n.member);
        assert.deepEqual(back, want.map(([k]) => k).reverse());
        want.forEach(([k], i) => {
          assert.equal(z.rank(k, false), i);
          assert.equal(z.rank(k, true), want.length - 1 - i);
          assert.equal(z.at(i)?.member, k);
        });
        assert.equal(z.at(want.length), null);
        for (const r of [{ min: 0, max: 2, minex: false, maxex: false }, { min: 0, max: 2, minex: true, maxex: true }, { min: -Infinity, max: Infinity, minex: false, maxex: false }, { min: 1, max: 1, minex: false, maxex: false }] as ScoreRange[]) {
          const inRange = want.filter(([, s]) => (r.minex ? s > r.min : s >= r.min) && (r.maxex ? s < r.max : s <= r.max));
          assert.equal(z.list.firstInRange(r)?.member, inRange[0]?.[0]);
          assert.equal(z.list.lastInRange(r)?.member, inRange.at(-1)?.[0]);
        }
      }
    }),
    { numRuns: 200 },
  );
});

test('lex ranges over members of one score', () => {
  const z = new ZSetObject();
  for (const m of ['a', 'b', 'c', 'd', 'e']) z.set(m, 0);
  const r = (min: string, max: string): LexRange => {
    const bound = (s: string) => (s === '-' ? { v: '', inf: -1 as const, ex: true } : s === '+' ? { v: '', inf: 1 as const, ex: true } : { v: s.slice(1), inf: 0 as const, ex: s[0] === '(' });
    const a = bound(min);
    const b = bound(max);
    return { min: a.v, max: b.v, minex: a.ex, maxex: b.ex, minInf: a.inf, maxInf: b.inf };
  };
  const span = (x: LexRange) => [z.list.firstInLexRange(x)?.member, z.list.lastInLexRange(x)?.member];
  assert.deepEqual(span(r('-', '+')), ['a', 'e']);
  assert.deepEqual(span(r('[b', '(d')), ['b', 'c']);
  assert.deepEqual(span(r('(a', '[a')), [undefined, undefined]);
  assert.deepEqual(span(r('+', '-')), [undefined, undefined]);
  assert.deepEqual(span(r('-', '-')), [undefined, undefined]);
  assert.deepEqual(span(r('[c', '+')), ['c', 'e']);
  assert.deepEqual(span(r('(e', '+')), [undefined, undefined]);
});

test('property: a Slots scan visits every element present for the whole scan, through deletes, inserts and compactions', async () => {
  const { Slots } = await import('../../src/store/objects/slots.js');
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 300 }), fc.array(fc.tuple(fc.boolean(), fc.nat(600)), { maxLength: 200 }), fc.integer({ min: 1, max: 30 }), (n, ops, count) => {
      const s = new Slots<number>();
      for (let i = 0; i < n; i++) s.set(`e${i}`, i);
      const touched = new Set<string>();
      const seen = new Set<string>();
      let cursor = 0;
      let step = 0;
      do {
        cursor = s.scan(cursor, count, (k) => seen.add(k));
        const op = ops[step++ % Math.max(ops.length, 1)];
        if (op) {
          const k = `e${op[1]}`;
          touched.add(k);
          if (op[0]) s.delete(k);
          else s.set(k, 0);
        }
      } while (cursor !== 0 && step < 100_000);
      for (let i = 0; i < n; i++) if (!touched.has(`e${i}`)) assert.ok(seen.has(`e${i}`), `e${i} visited`);
    }),
    { numRuns: 300 },
  );
});
