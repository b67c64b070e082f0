/**
 * The first keyspace engine: a JS Map of entry objects, plus two dense arrays
 * (all entries, entries with a TTL) that make random sampling O(1) for eviction,
 * active expiry and RANDOMKEY, and give SCAN its guarantee.
 *
 * Known limits, to be lifted by the off-heap engine: about 200+ bytes per small
 * key on the V8 heap, GC pauses that grow with the key count, and V8's cap of
 * 2^24 entries per Map. Memory is accounted per entry with a fixed estimate of
 * the JS overhead, not measured.
 */
import { systemClock, type Clock } from './clock.js';
import { KEEP_TTL, NO_EXPIRY, type EvictionPolicy, type Key, type Keyspace, type KeyspaceStats } from './keyspace.js';

/** Estimated JS heap bytes per entry beyond key and value bytes (Map slot, entry object, Buffer object). */
export const ENTRY_OVERHEAD = 200;
/** Keys sampled per eviction, as Redis's maxmemory-samples default. */
const EVICTION_SAMPLES = 5;

interface Entry {
  key: Key;
  value: Buffer;
  /** Absolute expiry in ms, or NO_EXPIRY. */
  expireAt: number;
  /** Logical time of the last read or write: a counter, not a clock, so LRU is deterministic. */
  used: number;
  /** Position in `all`. */
  index: number;
  /** Position in `volatile`, or -1. */
  vindex: number;
}

export class MapKeyspace implements Keyspace {
  private map = new Map<Key, Entry>();
  private all: Entry[] = [];
  private volatile: Entry[] = [];
  private tick = 0;
  private bytes = 0;
  /** Where the active expiry cycle resumes in `volatile`. */
  private expireCursor = 0;
  readonly stats: KeyspaceStats = { hits: 0, misses: 0, expired: 0, evicted: 0 };

  constructor(
    private readonly clock: Clock = systemClock,
    private readonly random: () => number = Math.random,
  ) {}

  get size(): number {
    return this.map.size;
  }

  get volatileSize(): number {
    return this.volatile.length;
  }

  get usedMemory(): number {
    return this.bytes;
  }

  /** The live entry for a key, removing it first if its TTL has passed (lazy expiry). */
  private live(key: Key): Entry | undefined {
    const e = this.map.get(key);
    if (e === undefined) return undefined;
    if (e.expireAt !== NO_EXPIRY && e.expireAt <= this.clock.now()) {
      this.remove(e);
      this.stats.expired++;
      return undefined;
    }
    return e;
  }

  get(key: Key): Buffer | undefined {
    const e = this.live(key);
    if (e === undefined) {
      this.stats.misses++;
      return undefined;
    }
    this.stats.hits++;
    e.used = ++this.tick;
    return e.value;
  }

  peek(key: Key): Buffer | undefined {
    return this.live(key)?.value;
  }

  set(key: Key, value: Buffer, expireAt: number): void {
    const e = this.map.get(key);
    if (e !== undefined) {
      this.bytes += value.length - e.value.length;
      e.value = value;
      e.used = ++this.tick;
      if (expireAt !== KEEP_TTL) this.setExpiry(e, expireAt);
      return;
    }
    const entry: Entry = { key, value, expireAt: NO_EXPIRY, used: ++this.tick, index: this.all.length, vindex: -1 };
    this.map.set(key, entry);
    this.all.push(entry);
    this.bytes += key.length + value.length + ENTRY_OVERHEAD;
    if (expireAt !== KEEP_TTL) this.setExpiry(entry, expireAt);
  }

  private setExpiry(e: Entry, at: number): void {
    e.expireAt = at;
    if (at !== NO_EXPIRY && e.vindex < 0) {
      e.vindex = this.volatile.length;
      this.volatile.push(e);
    } else if (at === NO_EXPIRY && e.vindex >= 0) {
      removeAt(this.volatile, e.vindex, 'vindex');
      e.vindex = -1;
    }
  }

  private remove(e: Entry): void {
    this.map.delete(e.key);
    removeAt(this.all, e.index, 'index');
    if (e.vindex >= 0) removeAt(this.volatile, e.vindex, 'vindex');
    this.bytes -= e.key.length + e.value.length + ENTRY_OVERHEAD;
  }

  delete(key: Key): boolean {
    const e = this.live(key);
    if (e === undefined) return false;
    this.remove(e);
    return true;
  }

  expireAt(key: Key): number | undefined {
    return this.live(key)?.expireAt;
  }

  setExpireAt(key: Key, at: number): boolean {
    const e = this.live(key);
    if (e === undefined) return false;
    if (at !== NO_EXPIRY && at <= this.clock.now()) this.remove(e);
    else this.setExpiry(e, at);
    return true;
  }

  rename(from: Key, to: Key): boolean {
    const e = this.live(from);
    if (e === undefined) return false;
    if (from === to) return true;
    const { value, expireAt } = e;
    this.remove(e);
    this.delete(to);
    this.set(to, value, expireAt);
    return true;
  }

  flush(): void {
    this.map = new Map();
    this.all = [];
    this.volatile = [];
    this.bytes = 0;
    this.expireCursor = 0;
  }

  randomKey(): Key | undefined {
    // Bounded retries: a keyspace made only of expired keys must not loop forever.
    for (let tries = 0; tries < 100 && this.all.length > 0; tries++) {
      const e = this.all[Math.floor(this.random() * this.all.length)]!;
      if (this.live(e.key) !== undefined) return e.key;
    }
    return undefined;
  }

  /*
   * SCAN walks `all` from the top index down. Deleting swaps the last entry into
   * the hole: the moved entry comes from above the cursor (already visited) and
   * either lands above the cursor (fine) or below it (visited twice, allowed).
   * New entries are appended above the cursor and may be missed, as Redis allows.
   * So every entry present for the whole scan is visited at least once.
   */
  scan(cursor: number, count: number, visit: (key: Key) => void): number {
    let i = cursor === 0 ? this.all.length : Math.min(cursor, this.all.length);
    const now = this.clock.now();
    for (let n = 0; i > 0 && n < count; n++) {
      const e = this.all[--i]!;
      if (e.expireAt !== NO_EXPIRY && e.expireAt <= now) {
        this.remove(e);
        this.stats.expired++;
        continue;
      }
      visit(e.key);
    }
    return i;
  }

  *keys(): Iterable<Key> {
    const now = this.clock.now();
    for (const e of this.map.values()) {
      if (e.expireAt === NO_EXPIRY || e.expireAt > now) yield e.key;
    }
  }

  memoryUsage(key: Key): number | undefined {
    const e = this.live(key);
    return e === undefined ? undefined : e.key.length + e.value.length + ENTRY_OVERHEAD;
  }

  activeExpire(budgetMs: number): number {
    const started = performance.now();
    const now = this.clock.now();
    let removed = 0;
    let checked = 0;
    // Walk a window of volatile keys from where the last cycle stopped; check the
    // budget every 64 keys so one call never holds the event loop for long.
    while (this.volatile.length > 0) {
      if (this.expireCursor >= this.volatile.length) this.expireCursor = 0;
      const e = this.volatile[this.expireCursor]!;
      if (e.expireAt <= now) {
        this.remove(e); // swaps another entry into expireCursor: check it next
        this.stats.expired++;
        removed++;
      } else {
        this.expireCursor++;
      }
      if (++checked >= this.volatile.length + removed) break;
      if ((checked & 63) === 0 && performance.now() - started >= budgetMs) break;
    }
    return removed;
  }

  evict(limit: number, policy: EvictionPolicy): boolean {
    if (this.bytes <= limit) return true;
    if (policy === 'noeviction') return false;
    const volatileOnly = policy.startsWith('volatile-');
    while (this.bytes > limit) {
      const pool = volatileOnly ? this.volatile : this.all;
      if (pool.length === 0) return false;
      let victim: Entry | undefined;
      for (let s = 0; s < EVICTION_SAMPLES; s++) {
        const e = pool[Math.floor(this.random() * pool.length)]!;
        if (victim === undefined || this.better(e, victim, policy)) victim = e;
        if (policy.endsWith('-random')) break;
      }
      this.remove(victim!);
      this.stats.evicted++;
    }
    return true;
  }

  /** Whether `a` is a better eviction victim than `b` under the policy. */
  private better(a: Entry, b: Entry, policy: EvictionPolicy): boolean {
    if (policy === 'volatile-ttl') return a.expireAt < b.expireAt;
    return a.used < b.used;
  }
}

/** O(1) removal from a dense array: the last element fills the hole. */
function removeAt(arr: Entry[], i: number, field: 'index' | 'vindex'): void {
  const last = arr.pop()!;
  if (i < arr.length) {
    arr[i] = last;
    last[field] = i;
  }
}
