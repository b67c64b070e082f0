/**
 * An open-addressing hash index from keys to entry ids, in typed arrays off the
 * V8 heap: no per-key object, nothing for the garbage collector to trace.
 *
 * Linear probing. A slot holds id+1 in its low 26 bits and the top 6 bits of
 * the key's hash above them, so a probe skips 63 of 64 non-matching slots
 * without touching the entry (a cache miss); 0 is empty, TOMBSTONE deleted.
 * Growing is incremental, as Redis's rehash: a new table is allocated and each
 * later insert (and the background cycle) moves a few old slots across, so no
 * single step copies the whole index. Until it finishes, lookups try the new
 * table, then the old one; moved slots become tombstones in the old table so
 * that its probe chains stay intact.
 */
const EMPTY = 0;
const TOMBSTONE = 0xffffffff;
const ID_BITS = 26;
const ID_FIELD = (1 << ID_BITS) - 1;
/** Ids the index can hold: id+1 must fit in 26 bits and never form TOMBSTONE. */
export const MAX_IDS = ID_FIELD - 1;
const MIN_CAPACITY = 1024;
const MAX_LOAD = 0.7;
/**
 * Old slots moved per insert while growing. Each moved entry is two cache misses
 * (its hash, its new slot): at 64 per insert a bulk load slowed to ~15 µs per SET
 * for the whole rehash. 4 still finishes long before the new table fills (it takes
 * 0.7x the old capacity in inserts to fill it); the background cycle does the rest.
 */
const MIGRATE_PER_INSERT = 4;

/** What the index needs to know about entries, from whoever stores them. */
export interface IndexedEntries {
  hashOf(id: number): number;
  /** Whether entry id's key is the bytes [start, end) of buf. */
  keyEquals(id: number, buf: Uint8Array, start: number, end: number): boolean;
}

export class HashIndex {
  private table = new Uint32Array(MIN_CAPACITY);
  private mask = MIN_CAPACITY - 1;
  /** Occupied slots of `table`, tombstones included. */
  private used = 0;
  private old: Uint32Array | null = null;
  private migrateAt = 0;
  /** Live ids in the index. */
  size = 0;

  constructor(private readonly entries: IndexedEntries) {}

  /** The id stored for the key in bytes [start, end) of buf, whose hash is h; or -1. */
  find(buf: Uint8Array, start: number, end: number, h: number): number {
    const id = probe(this.table, this.mask, buf, start, end, h, this.entries);
    if (id >= 0 || this.old === null) return id;
    return probe(this.old, this.old.length - 1, buf, start, end, h, this.entries);
  }

  /** Adds an id whose key is known not to be in the index. */
  insert(id: number, h: number): void {
    if (this.old !== null) this.migrate(MIGRATE_PER_INSERT);
    if ((this.used + 1) > this.table.length * MAX_LOAD) this.grow();
    if (place(this.table, this.mask, id, h)) this.used++;
    this.size++;
  }

  /** Removes an id (found by its hash). False if it is not there. */
  remove(id: number, h: number): boolean {
    if (unplace(this.table, this.mask, id, h) || (this.old !== null && unplace(this.old, this.old.length - 1, id, h))) {
      this.size--;
      return true;
    }
    return false;
  }

  /** The id in a slot picked by `r` in [0, 1), or -1 if that slot is empty (for sampling). */
  sample(r: number): number {
    const oldLength = this.old?.length ?? 0;
    const i = Math.floor(r * (this.table.length + oldLength));
    const v = i < this.table.length ? this.table[i]! : this.old![i - this.table.length]!;
    return v === EMPTY || v === TOMBSTONE ? -1 : (v & ID_FIELD) - 1;
  }

  /** Moves up to `slots` old slots into the new table; true when none are left. */
  migrate(slots: number): boolean {
    const old = this.old;
    if (old === null) return true;
    const end = Math.min(old.length, this.migrateAt + slots);
    for (let i = this.migrateAt; i < end; i++) {
      const v = old[i]!;
      if (v !== EMPTY && v !== TOMBSTONE) {
        const id = (v & ID_FIELD) - 1;
        if (place(this.table, this.mask, id, this.entries.hashOf(id))) this.used++;
        old[i] = TOMBSTONE;
      }
    }
    this.migrateAt = end;
    if (end === old.length) this.old = null;
    return this.old === null;
  }

  private grow(): void {
    // A rehash still running must finish first (rare: inserts migrate fast).
    while (!this.migrate(1 << 16));
    // Double when mostly live; the same size just to clear tombstones otherwise.
    const capacity = this.size + 1 > this.table.length * (MAX_LOAD / 2) ? this.table.length * 2 : this.table.length;
    this.old = this.table;
    this.migrateAt = 0;
    this.table = new Uint32Array(capacity);
    this.mask = capacity - 1;
    this.used = 0;
  }

  /** Bytes held by the tables. */
  get bytes(): number {
    return (this.table.length + (this.old?.length ?? 0)) * 4;
  }

  /** Bytes of the old table while a rehash is under way: freed when it ends. */
  get transientBytes(): number {
    return (this.old?.length ?? 0) * 4;
  }

  get rehashing(): boolean {
    return this.old !== null;
  }

  clear(): void {
    this.table = new Uint32Array(MIN_CAPACITY);
    this.mask = MIN_CAPACITY - 1;
    this.used = 0;
    this.old = null;
    this.migrateAt = 0;
    this.size = 0;
  }
}

/** The slot value of an id under a hash. */
function slotValue(id: number, h: number): number {
  return ((h >>> ID_BITS) * (ID_FIELD + 1) + id + 1) >>> 0;
}

function probe(t: Uint32Array, mask: number, buf: Uint8Array, start: number, end: number, h: number, entries: IndexedEntries): number {
  const tag = h >>> ID_BITS;
  for (let i = h & mask; ; i = (i + 1) & mask) {
    const v = t[i]!;
    if (v === EMPTY) return -1;
    if (v >>> ID_BITS === tag && v !== TOMBSTONE) {
      const id = (v & ID_FIELD) - 1;
      if (entries.keyEquals(id, buf, start, end)) return id;
    }
  }
}

/** Puts id into the first free slot of its chain; true if that slot was empty (not a tombstone). */
function place(t: Uint32Array, mask: number, id: number, h: number): boolean {
  for (let i = h & mask; ; i = (i + 1) & mask) {
    const v = t[i]!;
    if (v === EMPTY || v === TOMBSTONE) {
      t[i] = slotValue(id, h);
      return v === EMPTY;
    }
  }
}

function unplace(t: Uint32Array, mask: number, id: number, h: number): boolean {
  const want = slotValue(id, h);
  for (let i = h & mask; ; i = (i + 1) & mask) {
    const v = t[i]!;
    if (v === EMPTY) return false;
    if (v === want) {
      t[i] = TOMBSTONE;
      return true;
    }
  }
}
