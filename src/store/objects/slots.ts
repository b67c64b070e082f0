/**
 * Elements in arrival order, in an array with holes where elements were
 * removed, and a Map from element to its slot. What hashes and sets need
 * beyond a Map:
 *
 * - a scan cursor that stays valid while the collection changes (HSCAN,
 *   SSCAN return every element present for the whole iteration): a slot
 *   never moves, except when a sparse array is compacted, which starts a new
 *   epoch; a cursor of an older epoch starts over (duplicates are allowed,
 *   misses are not);
 * - uniform random picks in O(1) (SPOP, SRANDMEMBER, HRANDFIELD): holes are
 *   at most half the slots, so a pick retries twice on average.
 */
import { randomIndex } from './common.js';

/** Epoch bits in a cursor: cursor = slot * EPOCHS + epoch, slot >= 1 (0 is the start). */
const EPOCHS = 1024;
/** Compaction once holes are this many and over half the slots. */
const MIN_HOLES = 16;

export class Slots<V> {
  private keys: Array<string | undefined> = [];
  private vals: Array<V | undefined> = [];
  private readonly index = new Map<string, number>();
  private holes = 0;
  private epoch = 0;

  get size(): number {
    return this.index.size;
  }

  has(k: string): boolean {
    return this.index.has(k);
  }

  get(k: string): V | undefined {
    const i = this.index.get(k);
    return i === undefined ? undefined : this.vals[i];
  }

  /** Sets k's value; returns the previous one (undefined when k is new: it goes last). */
  set(k: string, v: V): V | undefined {
    const i = this.index.get(k);
    if (i !== undefined) {
      const old = this.vals[i];
      this.vals[i] = v;
      return old;
    }
    this.index.set(k, this.keys.length);
    this.keys.push(k);
    this.vals.push(v);
    return undefined;
  }

  /** Removes k; returns [true, its value] if it was there. */
  delete(k: string): [boolean, V | undefined] {
    const i = this.index.get(k);
    if (i === undefined) return [false, undefined];
    const v = this.vals[i];
    this.index.delete(k);
    this.keys[i] = undefined;
    this.vals[i] = undefined;
    this.holes++;
    if (i === this.keys.length - 1) this.trimEnd();
    else if (this.holes >= MIN_HOLES && this.holes * 2 > this.keys.length) this.compact();
    return [true, v];
  }

  /** Holes at the end go at once (a cursor past them sees nothing anyway). */
  private trimEnd(): void {
    while (this.keys.length > 0 && this.keys[this.keys.length - 1] === undefined) {
      this.keys.pop();
      this.vals.pop();
      this.holes--;
    }
  }

  private compact(): void {
    const keys: string[] = [];
    const vals: Array<V | undefined> = [];
    for (let i = 0; i < this.keys.length; i++) {
      const k = this.keys[i];
      if (k === undefined) continue;
      this.index.set(k, keys.length);
      keys.push(k);
      vals.push(this.vals[i]);
    }
    this.keys = keys;
    this.vals = vals;
    this.holes = 0;
    this.epoch = (this.epoch + 1) % EPOCHS;
  }

  /** A uniformly random element's key (the collection must not be empty). */
  randomKey(rnd: () => number = Math.random): string {
    for (;;) {
      const k = this.keys[randomIndex(this.keys.length, rnd)];
      if (k !== undefined) return k;
    }
  }

  *entries(): IterableIterator<[string, V]> {
    for (let i = 0; i < this.keys.length; i++) {
      const k = this.keys[i];
      if (k !== undefined) yield [k, this.vals[i]!];
    }
  }

  *keyList(): IterableIterator<string> {
    for (const k of this.keys) if (k !== undefined) yield k;
  }

  /**
   * Visits the elements of about `count` slots from cursor (0: the start) and
   * returns the next cursor, 0 at the end.
   */
  scan(cursor: number, count: number, visit: (k: string, v: V) => void): number {
    let slot = 0;
    if (cursor !== 0) {
      slot = Math.floor(cursor / EPOCHS) - 1;
      // A cursor from before a compaction (or one never handed out): start over.
      if (cursor % EPOCHS !== this.epoch || slot < 0) slot = 0;
    }
    const end = Math.min(this.keys.length, slot + Math.max(1, count));
    for (; slot < end; slot++) {
      const k = this.keys[slot];
      if (k !== undefined) visit(k, this.vals[slot]!);
    }
    return slot >= this.keys.length ? 0 : (slot + 1) * EPOCHS + this.epoch;
  }
}
