/**
 * Which key each operation of a scenario's workload touches: a seeded PRNG and
 * three key distributions over key ids 0..keys-1 (uniform, Zipf with a given
 * skew, a hot set). Pure: no I/O, no clock, no Math.random, so a run is
 * reproducible from its --seed.
 *
 * The PRNG (xoshiro128** seeded by splitmix32) and the Zipf sampler
 * (rejection-inversion) are also the hit-ratio benchmark's: bench/lib/traces.ts
 * imports them from here (src/ cannot import from bench/).
 */

/** A seeded PRNG: xoshiro128** (32-bit state words), seeded by splitmix32. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    let s = seed >>> 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  /** Uniform 32-bit unsigned integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  next(): number {
    const hi = this.nextU32() >>> 5;
    const lo = this.nextU32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/**
 * Zipf(n, skew) over ranks 1..n, P(k) proportional to k^-skew, by
 * rejection-inversion (Hörmann and Derflinger 1996, as Apache Commons RNG's
 * RejectionInversionZipfSampler). O(1) memory, expected O(1) time, any skew > 0.
 */
export class ZipfSampler {
  private readonly hIntegralX1: number;
  private readonly hIntegralN: number;
  private readonly s: number;

  constructor(readonly n: number, readonly skew: number) {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`Zipf n must be a positive integer, got ${n}`);
    if (!(skew > 0)) throw new RangeError(`Zipf skew must be > 0, got ${skew}`);
    this.hIntegralX1 = this.hIntegral(1.5) - 1;
    this.hIntegralN = this.hIntegral(n + 0.5);
    this.s = 2 - this.hIntegralInverse(this.hIntegral(2.5) - this.h(2));
  }

  /** A rank in [1, n]; rank 1 is the most frequent. The loop ends with probability 1 (acceptance > 0.5 per try); 1000 tries bound it. */
  sample(rng: Rng): number {
    for (let tries = 0; tries < 1000; tries++) {
      const u = this.hIntegralN + rng.next() * (this.hIntegralX1 - this.hIntegralN);
      const x = this.hIntegralInverse(u);
      let k = Math.floor(x + 0.5);
      if (k < 1) k = 1;
      else if (k > this.n) k = this.n;
      if (k - x <= this.s || u >= this.hIntegral(k + 0.5) - this.h(k)) return k;
    }
    return 1;
  }

  private h(x: number): number {
    return Math.exp(-this.skew * Math.log(x));
  }

  private hIntegral(x: number): number {
    const logX = Math.log(x);
    return helper2((1 - this.skew) * logX) * logX;
  }

  private hIntegralInverse(x: number): number {
    let t = x * (1 - this.skew);
    if (t < -1) t = -1;
    return Math.exp(helper1(t) * x);
  }
}

/** log1p(x)/x, continuous at 0. */
function helper1(x: number): number {
  return Math.abs(x) > 1e-8 ? Math.log1p(x) / x : 1 - x * (0.5 - x * (1 / 3 - 0.25 * x));
}

/** expm1(x)/x, continuous at 0. */
function helper2(x: number): number {
  return Math.abs(x) > 1e-8 ? Math.expm1(x) / x : 1 + x * 0.5 * (1 + (x / 3) * (1 + 0.25 * x));
}

export const DISTRIBUTIONS = ['uniform', 'zipf', 'hotset'] as const;
export type Distribution = (typeof DISTRIBUTIONS)[number];

export interface KeySpaceOptions {
  keys: number;
  distribution: Distribution;
  /** Zipf's exponent (distribution 'zipf'). */
  zipfSkew: number;
  /** Hot set: this fraction of the keys (distribution 'hotset')... */
  hotFraction: number;
  /** ...gets this fraction of the operations. */
  hotShare: number;
}

/** Draws key ids in [0, keys) with the chosen distribution. */
export type KeyPicker = (rng: Rng) => number;

export function keyPicker(o: KeySpaceOptions): KeyPicker {
  const n = o.keys;
  switch (o.distribution) {
    case 'uniform':
      return (rng) => rng.int(n);
    case 'zipf': {
      const zipf = new ZipfSampler(n, o.zipfSkew);
      const spread = scatter(n);
      // Ranks are scattered over ids so the hottest keys are not all the low ids.
      return (rng) => spread(zipf.sample(rng) - 1);
    }
    case 'hotset': {
      const hot = Math.max(1, Math.min(n, Math.round(n * o.hotFraction)));
      const spread = scatter(n);
      return (rng) => (hot === n || rng.next() < o.hotShare ? spread(rng.int(hot)) : spread(hot + rng.int(n - hot)));
    }
  }
}

/** A fixed bijection of [0, n): i -> (i * M + n/3) mod n, M coprime to n. */
export function scatter(n: number): (i: number) => number {
  if (n <= 1) return () => 0;
  let m = 2_654_435_761 % n || 1;
  while (gcd(m, n) !== 1) m++;
  const offset = Math.floor(n / 3);
  // i * m may pass 2^53 for large n: multiply in two halves.
  return (i) => ((((Math.floor(i / 65536) * m) % n) * 65536 + (i % 65536) * m + offset) % n);
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** The key name of key id i. */
export const keyName = (i: number): string => `sc:${i}`;
