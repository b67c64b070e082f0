// Deterministic request traces for the hit-ratio benchmark (issue #3).
//
// Pure: no I/O, no clock, no Math.random. Every trace is a function of its
// parameters and a seed, produced lazily as an iterator of key ids, so a trace
// of any length costs O(1) memory (the Zipf sampler has no table either).
//
// Key ids are non-negative integers. Ids in [0, keySpace) are the "catalogue";
// one-hit wonders use fresh ids >= keySpace that never repeat. Zipf ranks are
// scattered over the catalogue by a fixed bijection (see scatter()), so the hot
// keys are not the low ids that a sequential scan or loop would touch first.

// The PRNG and the Zipf sampler are the scenario runner's: one copy, in src/ (src/ cannot import bench/).
import { Rng, ZipfSampler } from '../../src/scenario/keys.js';

export { Rng, ZipfSampler };

/** Generalized harmonic number H(n, alpha) = sum of k^-alpha for k = 1..n (for tests and reports). */
export function harmonic(n: number, alpha: number): number {
  let sum = 0;
  for (let k = n; k >= 1; k--) sum += k ** -alpha; // small terms first: less rounding error
  return sum;
}

/**
 * A fixed bijection of [0, n) used to scatter Zipf ranks over key ids:
 * i -> (i * M + n/3) mod n with M coprime to n. Not random, just not ordered.
 */
export function scatter(i: number, n: number): number {
  return (i * scatterMultiplier(n) + Math.floor(n / 3)) % n;
}

const multipliers = new Map<number, number>();
function scatterMultiplier(n: number): number {
  let m = multipliers.get(n);
  if (m === undefined) {
    m = 2_654_435_761 % n || 1; // Knuth's multiplicative constant, reduced
    while (gcd(m, n) !== 1) m++;
    multipliers.set(n, m);
  }
  return m;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

export const TRACE_NAMES = [
  'zipf-0.6',
  'zipf-0.8',
  'zipf-1.0',
  'zipf-1.2',
  'one-hit-wonders',
  'zipf-scans',
  'loop',
  'shifting-hotset',
] as const;
export type TraceName = (typeof TRACE_NAMES)[number];

export interface TraceParams {
  /** Number of requests the iterator yields. */
  requests: number;
  /** Catalogue size: ids are drawn from [0, keySpace) (one-hit wonders excepted). */
  keySpace: number;
  /** Cache size in keys, which scan, loop and hot-set lengths are relative to. */
  cacheKeys: number;
  seed: number;
}

export interface TraceInfo {
  name: TraceName;
  /** One line on what the trace is, with its concrete parameters. */
  description: string;
  keys(): IterableIterator<number>;
}

/** Share of requests in `one-hit-wonders` that go to a key never seen before or after. */
export const ONE_HIT_SHARE = 0.3;
/** `zipf-scans`: Zipf 0.8 for ZIPF_PHASE x cacheKeys requests, then a scan of SCAN_LENGTH x cacheKeys keys. */
export const SCAN_ZIPF_PHASE = 3.5;
export const SCAN_LENGTH = 1.5;
/** `loop`: ids 0..L-1 over and over, L = LOOP_FACTOR x cacheKeys. */
export const LOOP_FACTOR = 1.1;
/** `shifting-hotset`: HOT_SHARE of requests uniform over HOT_SIZE x cacheKeys ids, the rest uniform over the catalogue; the hot window moves by half its size every HOT_PERIOD x cacheKeys requests. */
export const HOT_SHARE = 0.9;
export const HOT_SIZE = 0.5;
export const HOT_PERIOD = 1;

/** Builds one named trace. Throws on bad parameters. */
export function makeTrace(name: TraceName, p: TraceParams): TraceInfo {
  const { requests, keySpace, cacheKeys } = p;
  if (!Number.isInteger(requests) || requests < 0) throw new RangeError(`requests must be a non-negative integer, got ${requests}`);
  if (!Number.isInteger(keySpace) || keySpace < 1) throw new RangeError(`keySpace must be a positive integer, got ${keySpace}`);
  if (!Number.isInteger(cacheKeys) || cacheKeys < 1 || cacheKeys > keySpace) {
    throw new RangeError(`cacheKeys must be an integer in [1, keySpace], got ${cacheKeys}`);
  }
  const zipfAlpha = /^zipf-(\d\.\d)$/.exec(name)?.[1];
  if (zipfAlpha !== undefined) {
    const alpha = Number(zipfAlpha);
    return {
      name,
      description: `Zipf alpha ${alpha} over ${keySpace} keys`,
      keys: () => zipfKeys(p, alpha),
    };
  }
  switch (name) {
    case 'one-hit-wonders':
      return {
        name,
        description: `Zipf 0.8 over ${keySpace} keys; ${ONE_HIT_SHARE * 100}% of requests are keys requested exactly once`,
        keys: () => oneHitWonderKeys(p),
      };
    case 'zipf-scans': {
      const phase = Math.round(SCAN_ZIPF_PHASE * cacheKeys);
      const scan = Math.min(keySpace, Math.round(SCAN_LENGTH * cacheKeys));
      return {
        name,
        description: `Zipf 0.8 for ${phase} requests, then a sequential scan of ${scan} keys (${SCAN_LENGTH}x the cache), repeated`,
        keys: () => scanKeys(p, phase, scan),
      };
    }
    case 'loop': {
      const length = Math.min(keySpace, Math.round(LOOP_FACTOR * cacheKeys));
      return { name, description: `keys 0..${length - 1} in order, over and over (${LOOP_FACTOR}x the cache)`, keys: () => loopKeys(p, length) };
    }
    case 'shifting-hotset': {
      const size = Math.max(1, Math.round(HOT_SIZE * cacheKeys));
      const period = Math.max(1, Math.round(HOT_PERIOD * cacheKeys));
      return {
        name,
        description:
          `${HOT_SHARE * 100}% of requests uniform over a hot set of ${size} keys, the rest uniform over ${keySpace}; ` +
          `the hot set moves by ${Math.floor(size / 2)} keys every ${period} requests`,
        keys: () => hotSetKeys(p, size, period),
      };
    }
    default:
      throw new RangeError(`unknown trace ${JSON.stringify(name)} (known: ${TRACE_NAMES.join(', ')})`);
  }
}

function* zipfKeys(p: TraceParams, alpha: number): IterableIterator<number> {
  const rng = new Rng(p.seed);
  const zipf = new ZipfSampler(p.keySpace, alpha);
  for (let i = 0; i < p.requests; i++) yield scatter(zipf.sample(rng) - 1, p.keySpace);
}

function* oneHitWonderKeys(p: TraceParams): IterableIterator<number> {
  const rng = new Rng(p.seed);
  const zipf = new ZipfSampler(p.keySpace, 0.8);
  let fresh = p.keySpace;
  for (let i = 0; i < p.requests; i++) {
    yield rng.next() < ONE_HIT_SHARE ? fresh++ : scatter(zipf.sample(rng) - 1, p.keySpace);
  }
}

function* scanKeys(p: TraceParams, phase: number, scan: number): IterableIterator<number> {
  const rng = new Rng(p.seed);
  const zipf = new ZipfSampler(p.keySpace, 0.8);
  let scanStart = 0;
  let i = 0;
  while (i < p.requests) {
    for (let j = 0; j < phase && i < p.requests; j++, i++) yield scatter(zipf.sample(rng) - 1, p.keySpace);
    // Each scan continues where the previous one stopped, like a batch job
    // walking the whole table; ids are in catalogue order, so it touches hot
    // and cold keys alike, in proportion.
    for (let j = 0; j < scan && i < p.requests; j++, i++) yield (scanStart + j) % p.keySpace;
    scanStart = (scanStart + scan) % p.keySpace;
  }
}

function* loopKeys(p: TraceParams, length: number): IterableIterator<number> {
  for (let i = 0; i < p.requests; i++) yield i % length;
}

function* hotSetKeys(p: TraceParams, size: number, period: number): IterableIterator<number> {
  const rng = new Rng(p.seed);
  const step = Math.max(1, Math.floor(size / 2));
  for (let i = 0; i < p.requests; i++) {
    if (rng.next() < HOT_SHARE) {
      const start = Math.floor(i / period) * step;
      yield scatter((start + rng.int(size)) % p.keySpace, p.keySpace);
    } else {
      yield rng.int(p.keySpace);
    }
  }
}

/** The key string of an id: 16 bytes, `k:` and 14 zero-padded digits. */
export function keyName(id: number): string {
  return `k:${String(id).padStart(14, '0')}`;
}
