/** A set of binary strings (Slots: stable scan cursors, O(1) random picks). */
import { CONTAINER_BASE_BYTES, INTSET_MAX_ENTRIES, isIntsetMember, MAP_ENTRY_BYTES, stringBytes, type StoredObject } from './common.js';
import { Slots } from './slots.js';

/** Two array slots per member (Slots keeps a value array, unused here) on top of its Map entry. */
const ENTRY_BYTES = MAP_ENTRY_BYTES + 16;

export class SetObject implements StoredObject {
  readonly type = 'set';
  readonly members = new Slots<true>();
  bytes = CONTAINER_BASE_BYTES;
  accounted = 0;
  /**
   * Redis would hold it as an intset: every member ever added was an integer
   * and it never had more than 512. Redis never converts back, nor does this.
   */
  private intset = true;

  get size(): number {
    return this.members.size;
  }

  encoding(): string {
    return this.intset ? 'intset' : 'hashtable';
  }

  has(m: string): boolean {
    return this.members.has(m);
  }

  add(m: string): boolean {
    if (this.members.has(m)) return false;
    if (this.intset && !isIntsetMember(m)) this.intset = false;
    this.members.set(m, true);
    if (this.members.size > INTSET_MAX_ENTRIES) this.intset = false;
    this.bytes += ENTRY_BYTES + stringBytes(m);
    return true;
  }

  delete(m: string): boolean {
    if (!this.members.delete(m)[0]) return false;
    this.bytes -= ENTRY_BYTES + stringBytes(m);
    return true;
  }

  random(rnd: () => number = Math.random): string {
    return this.members.randomKey(rnd);
  }

  /** Removes and returns a random member (SPOP). */
  pop(rnd: () => number = Math.random): string {
    const m = this.members.randomKey(rnd);
    this.delete(m);
    return m;
  }

  /**
   * The members in the order Redis lists them where that can be predicted: an
   * intset is sorted by value; a hashtable's order is its own (any order).
   */
  list(): string[] {
    const all = [...this.members.keyList()];
    return this.intset ? all.sort(compareIntegers) : all;
  }

  values(): IterableIterator<string> {
    return this.members.keyList();
  }

  clone(): SetObject {
    const c = new SetObject();
    for (const m of this.members.keyList()) c.add(m);
    c.intset = this.intset;
    return c;
  }
}

function compareIntegers(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
