import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  harmonic, HOT_SHARE, keyName, LOOP_FACTOR, makeTrace, ONE_HIT_SHARE, Rng, SCAN_LENGTH, SCAN_ZIPF_PHASE, scatter,
  TRACE_NAMES, ZipfSampler, type TraceParams,
} from '../../bench/lib/traces.js';

const take = (it: Iterable<number>): number[] => Array.from(it);
const params = (over: Partial<TraceParams> = {}): TraceParams => ({ requests: 20_000, keySpace: 100_000, cacheKeys: 10_000, seed: 42, ...over });

test('Rng: same seed, same stream; different seed, different stream; values in [0, 1)', () => {
  const a = new Rng(7);
  const b = new Rng(7);
  const c = new Rng(8);
  const xs = Array.from({ length: 1000 }, () => a.next());
  assert.deepEqual(xs, Array.from({ length: 1000 }, () => b.next()));
  assert.notDeepEqual(xs, Array.from({ length: 1000 }, () => c.next()));
  for (const x of xs) assert.ok(x >= 0 && x < 1, `${x} out of [0, 1)`);
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  assert.ok(Math.abs(mean - 0.5) < 0.05, `mean ${mean}`);
});

test('every trace is deterministic for a seed, has the requested length, and differs with another seed', () => {
  for (const name of TRACE_NAMES) {
    const first = take(makeTrace(name, params()).keys());
    assert.equal(first.length, 20_000, name);
    assert.deepEqual(take(makeTrace(name, params()).keys()), first, `${name}: same seed, same trace`);
    // Calling keys() twice on one TraceInfo restarts the trace.
    const t = makeTrace(name, params());
    assert.deepEqual(take(t.keys()), take(t.keys()), `${name}: keys() restarts`);
    if (name !== 'loop') assert.notDeepEqual(take(makeTrace(name, params({ seed: 43 })).keys()), first, `${name}: seed matters`);
    for (const id of first) assert.ok(Number.isInteger(id) && id >= 0, `${name}: id ${id}`);
  }
});

test('Zipf sampler: ranks in [1, n] and rank frequencies match k^-alpha / H(n, alpha)', () => {
  const n = 1_000_000;
  const samples = 400_000;
  for (const alpha of [0.6, 0.8, 1.0, 1.2]) {
    const zipf = new ZipfSampler(n, alpha);
    const rng = new Rng(1);
    const counts = new Map<number, number>();
    for (let i = 0; i < samples; i++) {
      const k = zipf.sample(rng);
      assert.ok(Number.isInteger(k) && k >= 1 && k <= n, `rank ${k}`);
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    const h = harmonic(n, alpha);
    for (const rank of [1, 2, 10]) {
      const expected = rank ** -alpha / h;
      const observed = (counts.get(rank) ?? 0) / samples;
      // 5 standard deviations of a binomial proportion, plus 3% relative slack.
      const tol = 5 * Math.sqrt((expected * (1 - expected)) / samples) + 0.03 * expected;
      assert.ok(Math.abs(observed - expected) <= tol, `alpha ${alpha} rank ${rank}: observed ${observed}, expected ${expected}`);
    }
    // Skew grows with alpha: the top 1% of ranks take the share the distribution says.
    let top = 0;
    for (const [k, c] of counts) if (k <= n / 100) top += c;
    let expectedTop = 0;
    for (let k = 1; k <= n / 100; k++) expectedTop += k ** -alpha / h;
    assert.ok(Math.abs(top / samples - expectedTop) < 0.01, `alpha ${alpha}: top 1% share ${top / samples} vs ${expectedTop}`);
  }
});

test('Zipf sampler rejects bad parameters', () => {
  assert.throws(() => new ZipfSampler(0, 1), RangeError);
  assert.throws(() => new ZipfSampler(10, 0), RangeError);
  assert.throws(() => makeTrace('zipf-0.8', params({ cacheKeys: 0 })), RangeError);
  assert.throws(() => makeTrace('nope' as never, params()), RangeError);
});

test('zipf traces: ids stay in the key space and the most frequent key has rank 1 frequency', () => {
  const p = params({ requests: 200_000 });
  const counts = new Map<number, number>();
  for (const id of makeTrace('zipf-1.0', p).keys()) {
    assert.ok(id < p.keySpace);
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  const [hottestId, hottest] = [...counts].reduce((best, e) => (e[1] > best[1] ? e : best));
  assert.equal(hottestId, scatter(0, p.keySpace), 'rank 1 maps to scatter(0)');
  const expected = 1 / harmonic(p.keySpace, 1.0);
  assert.ok(Math.abs(hottest / p.requests - expected) < 0.1 * expected, `rank-1 share ${hottest / p.requests} vs ${expected}`);
});

test('scatter is a bijection of [0, n)', () => {
  for (const n of [1, 10, 1000, 100_000]) {
    const seen = new Uint8Array(n);
    for (let i = 0; i < n; i++) seen[scatter(i, n)]!++;
    assert.ok(seen.every((c) => c === 1), `n=${n}`);
  }
});

test('one-hit-wonders: about the configured share of ids occur exactly once, outside the catalogue', () => {
  const p = params({ requests: 50_000 });
  const ids = take(makeTrace('one-hit-wonders', p).keys());
  const fresh = ids.filter((id) => id >= p.keySpace);
  assert.equal(new Set(fresh).size, fresh.length, 'fresh ids never repeat');
  const share = fresh.length / ids.length;
  assert.ok(Math.abs(share - ONE_HIT_SHARE) < 0.02, `share ${share}`);
});

test('zipf-scans: after each Zipf phase comes a run of consecutive ids longer than the cache', () => {
  const p = params({ requests: 3 * (SCAN_ZIPF_PHASE + SCAN_LENGTH) * 10_000 });
  const ids = take(makeTrace('zipf-scans', p).keys());
  const phase = SCAN_ZIPF_PHASE * p.cacheKeys;
  const scan = SCAN_LENGTH * p.cacheKeys;
  assert.ok(scan > p.cacheKeys);
  for (let cycle = 0; cycle < 3; cycle++) {
    const start = cycle * (phase + scan) + phase;
    for (let j = 1; j < scan; j++) {
      assert.equal(ids[start + j], ((ids[start]! + j) % p.keySpace), `cycle ${cycle} scan position ${j}`);
    }
    // Scans continue where the last one stopped.
    assert.equal(ids[start], (cycle * scan) % p.keySpace);
    // The Zipf phase before it is not sequential.
    const zipfPart = ids.slice(start - phase, start);
    assert.ok(zipfPart.filter((id, i) => i > 0 && id === zipfPart[i - 1]! + 1).length < phase * 0.01);
  }
});

test('loop: ids 0..L-1 in order, repeated, with L slightly larger than the cache', () => {
  const p = params({ requests: 25_000 });
  const ids = take(makeTrace('loop', p).keys());
  const length = LOOP_FACTOR * p.cacheKeys;
  assert.ok(length > p.cacheKeys && length < 1.2 * p.cacheKeys);
  ids.forEach((id, i) => assert.equal(id, i % length));
  assert.equal(new Set(ids).size, length);
});

test('shifting-hotset: most requests hit a small set that changes over time', () => {
  const p = params({ requests: 40_000 });
  const ids = take(makeTrace('shifting-hotset', p).keys());
  const period = p.cacheKeys; // HOT_PERIOD = 1
  const topKeys = (from: number): Set<number> => {
    const counts = new Map<number, number>();
    for (const id of ids.slice(from, from + period)) counts.set(id, (counts.get(id) ?? 0) + 1);
    return new Set([...counts].filter(([, c]) => c >= 2).map(([id]) => id));
  };
  const first = topKeys(0);
  const second = topKeys(period);
  const last = topKeys(3 * period);
  const overlap = (a: Set<number>, b: Set<number>): number => [...a].filter((x) => b.has(x)).length / Math.max(1, a.size);
  assert.ok(overlap(first, second) > 0.2 && overlap(first, second) < 0.8, `adjacent periods share part of the hot set (${overlap(first, second)})`);
  assert.ok(overlap(first, last) < 0.05, `three periods later the hot set has moved on (${overlap(first, last)})`);
  // Hot share: requests within one period concentrate on half a cache of keys.
  const window = ids.slice(0, period);
  const distinct = new Set(window).size;
  assert.ok(distinct < p.cacheKeys * 0.6, `distinct ${distinct}`);
  assert.ok(HOT_SHARE > 0.5);
});

test('keyName is 16 bytes', () => {
  assert.equal(keyName(0), 'k:00000000000000');
  assert.equal(keyName(1_234_567), 'k:00000001234567');
  assert.equal(Buffer.byteLength(keyName(99_999_999_999_999)), 16);
});
