/**
 * An open-addressing hash index from keys to entry ids, in typed arrays off the
 * V8 heap: no per-key object, nothing for the garbage collector to trace.
 *
 * Linear probing. A slot is two words. The first holds id+1 in its low 26 bits
 * and the top 6 bits of the key's hash above them, so a probe skips 63 of 64
 * non-matching slots without touching the entry (a cache miss); 0 is empty,
 * TOMBSTONE deleted. The second is the entry's chunk address, a copy the owner
 * keeps current (setAddr): a lookup goes from the slot straight to the chunk,
 * one cache miss fewer than through a per-id address array, for 4 more bytes
 * per slot.
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
  /** Whether entry id, whose chunk is at addr, has the key in bytes [start, end) of buf. */
  keyEquals(id: number, addr: number, buf: Uint8Array, start: number, end: number): boolean;
}

export class HashIndex {
  /** Slot i is table[2i] (tag and id) and table[2i + 1] (chunk address). */
  private table = new Uint32Array(MIN_CAPACITY * 2);
  private mask = MIN_CAPACITY - 1;
  /** Occupied slots of `table`, tombstones included. */
  private used = 0;
  private old: Uint32Array | null = null;
  private migrateAt = 0;
  /** Live ids in the index. */
  size = 0;
  /** The chunk address stored with the id find() last returned. */
  foundAddr = 0;

  constructor(private readonly entries: IndexedEntries) {}

  /** The id stored for the key in bytes [start, end) of buf, whose hash is h, with its address in foundAddr; or -1. */
  find(buf: Uint8Array, start: number, end: number, h: number): number {
    const id = this.probe(this.table, this.mask, buf, start, end, h);
    if (id >= 0 || this.old === null) return id;
    return this.probe(this.old, (this.old.length >>> 1) - 1, buf, start, end, h);
  }

  private probe(t: Uint32Array, mask: number, buf: Uint8Array, start: number, end: number, h: number): number {
    const tag = h >>> ID_BITS;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const v = t[2 * i]!;
      if (v === EMPTY) return -1;
      if (v >>> ID_BITS === tag && v !== TOMBSTONE) {
        const id = (v & ID_FIELD) - 1;
        const addr = t[2 * i + 1]!;
        if (this.entries.keyEquals(id, addr, buf, start, end)) {
          this.foundAddr = addr;
          return id;
        }
      }
    }
  }

  /**
   * The chunk address in the first slot of hash h's chain when that slot's tag
   * matches h, else -1. A hint, not a lookup (the key may sit further along the
   * chain, or not be there at all): prefetching uses it to load a chunk early.
   */
  firstAddr(h: number): number {
    const t = this.table;
    const i = h & this.mask;
    const v = t[2 * i]!;
    return v !== EMPTY && v !== TOMBSTONE && v >>> ID_BITS === h >>> ID_BITS ? t[2 * i + 1]! : -1;
  }

  /** Adds an id whose key is known not to be in the index, with its chunk address. */
  insert(id: number, h: number, addr: number): void {
    if (this.old !== null) this.migrate(MIGRATE_PER_INSERT);
    if ((this.used + 1) > (this.table.length >>> 1) * MAX_LOAD) this.grow();
    if (place(this.table, this.mask, id, h, addr)) this.used++;
    this.size++;
  }

  /** Records that id's chunk moved to addr. */
  setAddr(id: number, h: number, addr: number): void {
    const i = slotOf(this.table, this.mask, id, h);
    if (i >= 0) this.table[2 * i + 1] = addr;
    else if (this.old !== null) {
      const j = slotOf(this.old, (this.old.length >>> 1) - 1, id, h);
      if (j >= 0) this.old[2 * j + 1] = addr;
    }
  }

  /** Removes an id (found by its hash). False if it is not there. */
  remove(id: number, h: number): boolean {
    const i = slotOf(this.table, this.mask, id, h);
    if (i >= 0) this.table[2 * i] = TOMBSTONE;
    else {
      const j = this.old === null ? -1 : slotOf(this.old, (this.old.length >>> 1) - 1, id, h);
      if (j < 0) return false;
      this.old![2 * j] = TOMBSTONE;
    }
    this.size--;
    return true;
  }

  /** The id in a slot picked by `r` in [0, 1), or -1 if that slot is empty (for sampling). */
  sample(r: number): number {
    const slots = this.table.length >>> 1;
    const i = Math.floor(r * (slots + ((this.old?.length ?? 0) >>> 1)));
    const v = i < slots ? this.table[2 * i]! : this.old![2 * (i - slots)]!;
    return v === EMPTY || v === TOMBSTONE ? -1 : (v & ID_FIELD) - 1;
  }

  /** Moves up to `slots` old slots into the new table; true when none are left. */
  migrate(slots: number): boolean {
    const old = this.old;
    if (old === null) return true;
    const oldSlots = old.length >>> 1;
    const end = Math.min(oldSlots, this.migrateAt + slots);
    for (let i = this.migrateAt; i < end; i++) {
      const v = old[2 * i]!;
      if (v !== EMPTY && v !== TOMBSTONE) {
        const id = (v & ID_FIELD) - 1;
        if (place(this.table, this.mask, id, this.entries.hashOf(id), old[2 * i + 1]!)) this.used++;
        old[2 * i] = TOMBSTONE;
      }
    }
    this.migrateAt = end;
    if (end === oldSlots) this.old = null;
    return this.old === null;
  }

  private grow(): void {
    // A rehash still running must finish first (rare: inserts migrate fast).
    while (!this.migrate(1 << 16));
    // Double when mostly live; the same size just to clear tombstones otherwise.
    const slots = this.table.length >>> 1;
    const capacity = this.size + 1 > slots * (MAX_LOAD / 2) ? slots * 2 : slots;
    const table = new Uint32Array(capacity * 2); // first: if it cannot be had, nothing has changed
    this.old = this.table;
    this.migrateAt = 0;
    this.table = table;
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
    this.table = new Uint32Array(MIN_CAPACITY * 2);
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

/** Puts id and addr into the first free slot of its chain; true if that slot was empty (not a tombstone). */
function place(t: Uint32Array, mask: number, id: number, h: number, addr: number): boolean {
  for (let i = h & mask; ; i = (i + 1) & mask) {
    const v = t[2 * i]!;
    if (v === EMPTY || v === TOMBSTONE) {
      t[2 * i] = slotValue(id, h);
      t[2 * i + 1] = addr;
      return v === EMPTY;
    }
  }
}

/** The slot holding id, or -1. */
function slotOf(t: Uint32Array, mask: number, id: number, h: number): number {
  const want = slotValue(id, h);
  for (let i = h & mask; ; i = (i + 1) & mask) {
    const v = t[2 * i]!;
    if (v === EMPTY) return -1;
    if (v === want) return i;
  }
}
