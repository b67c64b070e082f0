/**
 * The off-heap keyspace engine. Nothing per key lives on the V8 heap:
 *
 * - keys and values are bytes in slab chunks (slab-allocator.ts);
 * - each entry has an id, and per-id fields (chunk address, hash, state
 *   bits) are struct-of-arrays in typed-array blocks of 4096 ids, so growing
 *   never copies what exists;
 * - what a read must check or update (expiry, policy metadata, S3-FIFO's
 *   frequency) sits in the chunk's header, next to the key it compares, and
 *   the index slot carries the chunk's address: a GET touches the slot and
 *   the chunk, and nothing else. Each further cache line was measured at about
 *   150 ns per GET in the server, where the kernel's and the benchmark
 *   client's memory traffic keep evicting ours;
 * - the index maps keys to ids and chunk addresses (hash-index.ts) and grows
 *   incrementally;
 * - the S3-FIFO queues are FIFOs of ids (id-queue.ts).
 *
 * Ids, not chunk addresses, are what the index, the queues and the volatile
 * list hold: compaction moves a chunk and repoints one field.
 *
 * An id leaves the index when its key is deleted, but it stays in its FIFO
 * (marked DEAD) until the FIFO pops it or the sweep drops it; only then can it
 * be reused. That is what keeps a stale queue position from ever being taken
 * for a newer key with the same id.
 *
 * Slots (cluster nodes only: built with a SlotFunction). Each id's slot is
 * stored, and the live ids of each slot form an intrusive doubly linked list
 * (next/prev per id, in the same 4096-id blocks; newest key at the head),
 * with a head and a count per slot. That costs PER_ID_SLOT_BYTES (10) per id
 * and PER_SLOT_BYTES (8) per slot (128 KiB for 16384 slots), all counted in
 * usedMemory; an engine built without a SlotFunction allocates none of it and
 * its writes pay one never-taken branch (two for a new key). A slot walk's
 * cursor names a registered walk, not an id: deleting the key a walk stands
 * on moves the walk to the next one (see scanSlot).
 *
 * Values returned by get/peek are views into slab memory, valid until the
 * next write to the keyspace. Slab values are smaller than MAX_CHUNK, below
 * the reply writer's zero-copy threshold, so the writer copies them at once;
 * larger values live in their own Buffers, which are never changed once stored
 * and may therefore be written zero-copy while the store moves on.
 */
import { copyBytes } from '../protocol/argv.js';
import { systemClock, type Clock } from './clock.js';
import { HashIndex, MAX_IDS, type IndexedEntries } from './hash-index.js';
import { IdQueue } from './id-queue.js';
import { hashBytes } from './key-hash.js';
import { KEEP_TTL, NO_EXPIRY, WrongTypeError, type EncodingHint, type EvictionPolicy, type Key, type Keyspace, type KeyspaceStats, type KeyTracking, type KeyWatch, type ObjectType, type SlotFunction, type SlotWatch, type StoredObject, type ValueSink, type ValueType } from './keyspace.js';
import { CHUNK_LIVE, MAX_CHUNK, SlabAllocator, classOf } from './slab-allocator.js';

const ID_SHIFT = 12;
const ID_BLOCK = 1 << ID_SHIFT;
const ID_MASK = ID_BLOCK - 1;
const NO_ID = 0xffffffff;
/** Bytes per id in the per-id arrays: addr 4, hash 4, state 1. */
export const PER_ID_BYTES = 9;
/** Bytes per id a slotted engine adds: slot u16 2, next u32 4, prev u32 4 (its slot list's links). */
export const PER_ID_SLOT_BYTES = 10;
/** Bytes per slot of a slotted engine: list head u32 4, key count u32 4. */
export const PER_SLOT_BYTES = 8;
/** Slots when the options name none: Redis Cluster's. */
const DEFAULT_SLOT_COUNT = 16384;
/**
 * Slot walks remembered at once, and per slot. A walk is one object on the
 * heap; a delete in a slot checks that slot's walks, so the per-slot bound is
 * also the bound on what a delete pays. A cursor whose walk was forgotten
 * (more walks than this, or a finished or flushed one) restarts its slot's
 * walk: keys may be visited again, never missed.
 */
const MAX_WALKS = 1024;
const WALKS_PER_SLOT = 16;
/*
 * Which walk is forgotten first: the oldest never resumed. A one-call look
 * (GETKEYSINSLOT asks for N keys and never comes back) leaves its walk behind;
 * so many of those on a slot cannot push out a walk that is being gone through.
 */

// Per-id state bits.
const LIVE = 1;
/** Deleted, but still in a FIFO: not reusable until the FIFO drops it. */
const DEAD = 2;
const IN_SMALL = 4;
const IN_MAIN = 8;
/** Listed in the volatile list (at most once). */
const LISTED = 16;

// Chunk layout: flags u8, key length u16, value length u32, policy metadata u32
// (LRU clock or LFU counter), expiry f64 (valid when HAS_EXPIRY), key, value.
const KEY_LENGTH_AT = 1;
const VALUE_LENGTH_AT = 3;
const META_AT = 7;
const EXPIRY_AT = 11;
const HEADER = 19;
// Flag bits (CHUNK_LIVE, bit 0, is the allocator's).
const LARGE_VALUE = 2;
const LARGE_KEY = 4;
/** The value was built as Redis's "raw" encoding (APPEND, SETRANGE) or as a non-integer string (INCRBYFLOAT). */
const HINT_RAW = 8;
const HINT_STRING = 16;
/** S3-FIFO's use count, 0 to 3, in two bits. */
const FREQ_ONE = 32;
const FREQ_MASK = 96;
/** The key has a TTL: a read of a key without one never decodes the expiry. */
const HAS_EXPIRY = 128;
/** Flags that stay when a value is rewritten (everything but what describes the value). */
const KEPT_ON_REWRITE = FREQ_MASK | HAS_EXPIRY;
/**
 * A container (hash, list, set, zset): the chunk holds the key, and the value
 * is a StoredObject in `objects`. Both hints at once never describe a string,
 * and LARGE_VALUE is among the bits, so the string reads' one test for "the
 * value lives elsewhere" also catches a container: GET gains no test.
 */
const OBJECT = LARGE_VALUE | HINT_RAW | HINT_STRING;
const EMPTY = Buffer.alloc(0);
/** Thrown by string reads of a container: one instance, as it carries nothing (and each new Error captures a stack). */
const WRONG_TYPE = new WrongTypeError();

/** Keys up to this long are encoded into a reused buffer; longer ones get their own. */
const KEY_SCRATCH_MAX = 64 * 1024;
/** Ids one RANDOMKEY may walk when sampling the index fails. */
const RANDOM_WALK = 1024;
/** Keys sampled per eviction by the sampled policies, as Redis's maxmemory-samples default. */
const SAMPLES = 5;
/**
 * S3-FIFO: the small queue's share of the data bytes. The paper uses 10%;
 * 30% costs about 0.7 points of miss ratio on Zipf traces and gains 8 on a
 * shifting hot set, where new hot keys need time in the small queue to be
 * read again (measured with bench/policy-sim.ts).
 */
const SMALL_SHARE = 0.3;
/** LFU as Redis: new keys start at 5, the counter grows logarithmically (lfu-log-factor 10), decays 1 per minute. */
const LFU_INIT = 5;
const LFU_LOG_FACTOR = 10;

type EvictResult = 0 | 1 | 2;
/** Nothing could be evicted. */
const EVICT_NONE = 0;
const EVICTED = 1;
/** Out of time after moving keys between FIFOs: progress, but no key evicted yet. */
const EVICT_YIELD = 2;

const enum Kind {
  NoEviction,
  S3Fifo,
  Lru,
  Lfu,
  Random,
  Ttl,
}

function kindOf(policy: EvictionPolicy): Kind {
  if (policy === 'noeviction') return Kind.NoEviction;
  if (policy === 'allkeys-s3fifo') return Kind.S3Fifo;
  if (policy.endsWith('-lru')) return Kind.Lru;
  if (policy.endsWith('-lfu')) return Kind.Lfu;
  if (policy.endsWith('-random')) return Kind.Random;
  return Kind.Ttl;
}

/** Options of a SlabKeyspace. */
export interface SlabKeyspaceOptions {
  /** Track each key's slot (cluster nodes): without it the slot methods throw and nothing is spent on slots. */
  slotOf?: SlotFunction;
  /** Slots slotOf answers in (0..slotCount-1); at most 65536. Default 16384. */
  slotCount?: number;
}

/** A slot walk in progress (scanSlot): `pos` is the next id it looks at, NO_ID at the end. */
interface SlotWalk {
  readonly slot: number;
  pos: number;
  /** The cursor the walk was last handed out as. */
  token: number;
  /** Continued at least once: a walk someone is going through (slot migration), not a one-call look (GETKEYSINSLOT). */
  resumed: boolean;
}

/** What the engine holds, beyond what Keyspace reports, for INFO and tests. */
export interface EngineStats {
  slabLiveBytes: number;
  slabPageBytes: number;
  largeBytes: number;
  /** Containers' contents, as their estimates of the heap they hold. */
  objectBytes: number;
  indexBytes: number;
  idBytes: number;
  queueBytes: number;
  /** The index's old table during a rehash, which eviction does not count (see evict). */
  rehashBytes: number;
  /** Slot tracking: the per-id slot fields and links, and the per-slot heads and counts (0 unslotted). */
  slotBytes: number;
  compactionMoves: number;
}

export class SlabKeyspace implements Keyspace, IndexedEntries {
  private slab = new SlabAllocator();
  private index = new HashIndex(this);
  private addr: Uint32Array[] = [];
  private hash: Uint32Array[] = [];
  private state: Uint8Array[] = [];
  /** Ids handed out so far; ids below it are in use, dead or on the free stack. */
  private idHigh = 0;
  /** Free ids, linked through their addr field. */
  private freeHead = NO_ID;
  private dead = 0;
  private large = new Map<number, Buffer>();
  private largeKeys = new Map<number, string>();
  /** Containers by entry id (entries whose chunk has the OBJECT bits). */
  private objects = new Map<number, StoredObject>();
  /** The sum of the containers' `accounted` bytes. */
  private objectBytes = 0;
  /** The id getObject last returned: objectChanged's lookup, skipped while it still holds the object. */
  private objectId = -1;
  objectCreated: ((key: Key) => void) | null = null;
  /**
   * The engine works on key bytes. A key given as a string is written here
   * first (keyBuf, the scratch or a Buffer of its own when very long): the
   * commands' hot paths pass the bytes of their arguments and make no string.
   */
  private keyScratch = Buffer.allocUnsafe(256);
  private keyBuf = this.keyScratch;
  /** The chunk address of the id lookupBytes() last returned. */
  private foundAddr = 0;
  private readonly prefetchAddrs = new Float64Array(32);
  /** Sum of the bytes prefetchBytes last loaded: kept so the compiler cannot drop the loads (and read by tests). */
  prefetchSeen = 0;
  private largeBytes = 0;
  private small = new IdQueue();
  private main = new IdQueue();
  private smallBytes = 0;
  private mainBytes = 0;
  /** S3-FIFO's ghost: hashes of keys recently evicted from the small queue, direct-mapped. */
  private ghost = new Uint32Array(1024);
  private volatileList: Uint32Array[] = [];
  private volatileLength = 0;
  private volatileCount = 0;
  private expireCursor = 0;
  private kind = Kind.S3Fifo;
  private policy: EvictionPolicy = 'allkeys-s3fifo';
  private tick = 0;
  readonly stats: KeyspaceStats = { hits: 0, misses: 0, expired: 0, evicted: 0 };
  /** WATCH's signal (Keyspace.watch): null unless a key is watched. */
  watch: KeyWatch | null = null;
  /** CLIENT TRACKING's signal (Keyspace.tracking): null unless a client tracks. */
  tracking: KeyTracking | null = null;
  /** The SlotFunction, or null: an unslotted engine (every slot field below stays empty). */
  private readonly slotFn: SlotFunction | null;
  private readonly slotCount: number;
  /** Per id, in ID_BLOCK blocks as addr: its slot, and its neighbours in that slot's list (next is older). */
  private slotIds: Uint16Array[] = [];
  private slotNext: Uint32Array[] = [];
  private slotPrev: Uint32Array[] = [];
  /** Per slot: its newest id (NO_ID when empty) and its key count. */
  private readonly slotHead: Uint32Array;
  private readonly slotCounts: Uint32Array;
  private slotWatchField: SlotWatch | null = null;
  /** Walks in progress by cursor, oldest first (Map order), and by slot. */
  private walks = new Map<number, SlotWalk>();
  private walksOfSlot = new Map<number, SlotWalk[]>();
  private walkSerial = 0;

  constructor(
    private readonly clock: Clock = systemClock,
    private readonly random: () => number = Math.random,
    options: SlabKeyspaceOptions = {},
  ) {
    this.slotFn = options.slotOf ?? null;
    const n = this.slotFn === null ? 0 : (options.slotCount ?? DEFAULT_SLOT_COUNT);
    if (!Number.isInteger(n) || n < 0 || n > 65536) throw new RangeError(`slotCount must be an integer from 1 to 65536, got ${n}`);
    if (this.slotFn !== null && n === 0) throw new RangeError('slotCount must be an integer from 1 to 65536, got 0');
    this.slotCount = n;
    this.slotHead = new Uint32Array(n).fill(NO_ID);
    this.slotCounts = new Uint32Array(n);
  }

  get slotted(): boolean {
    return this.slotFn !== null;
  }

  get slotWatch(): SlotWatch | null {
    return this.slotWatchField;
  }

  set slotWatch(w: SlotWatch | null) {
    if (w !== null && this.slotFn === null) throw new Error('slotWatch needs a slotted keyspace (built with slotOf)');
    this.slotWatchField = w;
  }

  get size(): number {
    return this.index.size;
  }

  get volatileSize(): number {
    return this.volatileCount;
  }

  get usedMemory(): number {
    return this.slab.liveBytes + this.largeBytes + this.objectBytes + this.index.bytes + this.addr.length * ID_BLOCK * PER_ID_BYTES
      + this.small.bytes + this.main.bytes + this.volatileList.length * ID_BLOCK * 4 + this.ghost.length * 4 + this.slotBytes();
  }

  /** Slot tracking's memory: the per-id blocks and the per-slot arrays; 0 unslotted. */
  private slotBytes(): number {
    return this.slotIds.length * ID_BLOCK * PER_ID_SLOT_BYTES + this.slotCount * PER_SLOT_BYTES;
  }

  engineStats(): EngineStats {
    return {
      slabLiveBytes: this.slab.liveBytes,
      slabPageBytes: this.slab.pageBytes,
      largeBytes: this.largeBytes,
      objectBytes: this.objectBytes,
      indexBytes: this.index.bytes,
      idBytes: this.addr.length * ID_BLOCK * PER_ID_BYTES,
      queueBytes: this.small.bytes + this.main.bytes + this.volatileList.length * ID_BLOCK * 4 + this.ghost.length * 4,
      rehashBytes: this.index.transientBytes,
      slotBytes: this.slotBytes(),
      compactionMoves: this.slab.moved,
    };
  }

  // --- IndexedEntries: what the index asks of entries -----------------------

  hashOf(id: number): number {
    return this.hash[id >>> ID_SHIFT]![id & ID_MASK]!;
  }

  keyEquals(id: number, a: number, kb: Uint8Array, ks: number, ke: number): boolean {
    const buf = this.slab.buffer(a);
    const off = SlabAllocator.offset(a);
    if ((buf[off]! & LARGE_KEY) !== 0) return latin1Equals(this.largeKeys.get(id)!, kb, ks, ke);
    const n = buf[off + KEY_LENGTH_AT]! | (buf[off + KEY_LENGTH_AT + 1]! << 8);
    if (n !== ke - ks) return false;
    const s = off + HEADER;
    for (let i = 0; i < n; i++) if (buf[s + i] !== kb[ks + i]) return false;
    return true;
  }

  // --- reads ----------------------------------------------------------------

  /** Writes a string key's bytes to keyBuf; returns their count. */
  private encodeKey(key: Key): number {
    const n = key.length;
    if (n > KEY_SCRATCH_MAX) {
      this.keyBuf = Buffer.from(key, 'latin1');
      return n;
    }
    if (n > this.keyScratch.length) this.keyScratch = Buffer.allocUnsafe(Math.max(n, this.keyScratch.length * 2));
    const b = (this.keyBuf = this.keyScratch);
    if (n < 64) for (let i = 0; i < n; i++) b[i] = key.charCodeAt(i);
    else b.latin1Write(key, 0, n);
    return n;
  }

  /** lookupBytes for a key given as a string. */
  private lookup(key: Key): number {
    const n = this.encodeKey(key);
    return this.lookupBytes(this.keyBuf, 0, n, hashBytes(this.keyBuf, 0, n));
  }

  /**
   * The id of a live key, removing it first if its TTL has passed (lazy expiry);
   * -1 if none. Its chunk address is left in foundAddr: the hot paths use that,
   * not the per-id array, whose line would be one more cache miss. `h` is the
   * key's hash (hashBytes), which writes need again afterwards.
   */
  private lookupBytes(kb: Buffer, ks: number, ke: number, h: number): number {
    const id = this.index.find(kb, ks, ke, h);
    if (id < 0) return -1;
    const a = (this.foundAddr = this.index.foundAddr);
    const exp = this.chunkExpiry(a);
    if (exp !== NO_EXPIRY && exp <= this.clock.now()) {
      this.removeEntry(id);
      this.stats.expired++;
      return -1;
    }
    return id;
  }

  /** The entry's absolute expiry in ms, or NO_EXPIRY (from its chunk header). */
  private expiryOf(id: number): number {
    return this.chunkExpiry(this.addr[id >>> ID_SHIFT]![id & ID_MASK]!);
  }

  private chunkExpiry(a: number): number {
    const buf = this.slab.buffer(a);
    const off = SlabAllocator.offset(a);
    return (buf[off]! & HAS_EXPIRY) === 0 ? NO_EXPIRY : buf.readDoubleLE(off + EXPIRY_AT);
  }

  private metaOf(id: number): number {
    const a = this.addr[id >>> ID_SHIFT]![id & ID_MASK]!;
    return this.slab.buffer(a).readUInt32LE(SlabAllocator.offset(a) + META_AT);
  }

  /** The value of entry id, whose chunk is at a, as a view (see get). */
  private value(id: number, a: number): Buffer {
    const buf = this.slab.buffer(a);
    const off = SlabAllocator.offset(a);
    if ((buf[off]! & LARGE_VALUE) !== 0) {
      if ((buf[off]! & OBJECT) === OBJECT) throw WRONG_TYPE;
      return this.large.get(id)!;
    }
    const s = off + HEADER + (buf[off + KEY_LENGTH_AT]! | (buf[off + KEY_LENGTH_AT + 1]! << 8));
    return buf.subarray(s, s + buf.readUInt32LE(off + VALUE_LENGTH_AT));
  }

  private keyOf(id: number): Key {
    const a = this.addr[id >>> ID_SHIFT]![id & ID_MASK]!;
    const buf = this.slab.buffer(a);
    const off = SlabAllocator.offset(a);
    if ((buf[off]! & LARGE_KEY) !== 0) return this.largeKeys.get(id)!;
    return buf.latin1Slice(off + HEADER, off + HEADER + (buf[off + KEY_LENGTH_AT]! | (buf[off + KEY_LENGTH_AT + 1]! << 8)));
  }

  get(key: Key): Buffer | undefined {
    const id = this.lookup(key);
    if (id < 0) {
      this.stats.misses++;
      return undefined;
    }
    this.stats.hits++;
    const a = this.foundAddr;
    this.touchChunk(a);
    return this.value(id, a);
  }

  getInto(key: Key, sink: ValueSink): boolean {
    const n = this.encodeKey(key);
    return this.getIntoBytes(this.keyBuf, 0, n, sink);
  }

  getIntoBytes(kb: Buffer, ks: number, ke: number, sink: ValueSink): boolean {
    const id = this.lookupBytes(kb, ks, ke, hashBytes(kb, ks, ke));
    if (id < 0) {
      this.stats.misses++;
      return false;
    }
    this.stats.hits++;
    const a = this.foundAddr;
    this.touchChunk(a);
    this.valueInto(id, a, sink);
    return true;
  }

  peekIntoBytes(kb: Buffer, ks: number, ke: number, sink: ValueSink): boolean {
    const id = this.lookupBytes(kb, ks, ke, hashBytes(kb, ks, ke));
    if (id < 0) return false;
    this.valueInto(id, this.foundAddr, sink);
    return true;
  }

  /** Hands the value of entry id (chunk at a) to sink, as a range of the store's memory (no Buffer made for it). */
  private valueInto(id: number, a: number, sink: ValueSink): void {
    const buf = this.slab.buffer(a);
    const off = SlabAllocator.offset(a);
    if ((buf[off]! & LARGE_VALUE) !== 0) {
      if ((buf[off]! & OBJECT) === OBJECT) throw WRONG_TYPE;
      const v = this.large.get(id)!;
      sink.bulk(v, 0, v.length);
    } else {
      // Under MAX_CHUNK, so below the writer's zero-copy threshold: copied now.
      const s = off + HEADER + (buf[off + KEY_LENGTH_AT]! | (buf[off + KEY_LENGTH_AT + 1]! << 8));
      sink.bulk(buf, s, s + buf.readUInt32LE(off + VALUE_LENGTH_AT));
    }
  }

  peek(key: Key): Buffer | undefined {
    const id = this.lookup(key);
    return id < 0 ? undefined : this.value(id, this.foundAddr);
  }

  exists(key: Key): boolean {
    return this.lookup(key) >= 0;
  }

  touch(key: Key): boolean {
    const id = this.lookup(key);
    if (id < 0) {
      this.stats.misses++;
      return false;
    }
    this.stats.hits++;
    this.touchChunk(this.foundAddr);
    return true;
  }

  typeOf(key: Key): ValueType | undefined {
    const id = this.lookup(key);
    if (id < 0) return undefined;
    const a = this.foundAddr;
    return (this.slab.buffer(a)[SlabAllocator.offset(a)]! & OBJECT) === OBJECT ? this.objects.get(id)!.type : 'string';
  }

  // --- containers -------------------------------------------------------------

  getObject(key: Key, type: ObjectType, read: boolean): StoredObject | undefined {
    const id = this.lookup(key);
    if (id < 0) {
      if (read) this.stats.misses++;
      return undefined;
    }
    // Counted before the type check, as Redis's lookupKeyRead.
    if (read) this.stats.hits++;
    const a = this.foundAddr;
    const obj = (this.slab.buffer(a)[SlabAllocator.offset(a)]! & OBJECT) === OBJECT ? this.objects.get(id)! : undefined;
    if (obj === undefined || obj.type !== type) throw WRONG_TYPE;
    this.touchChunk(a);
    this.objectId = id;
    return obj;
  }

  peekObject(key: Key): StoredObject | undefined {
    const id = this.lookup(key);
    return id < 0 ? undefined : this.objects.get(id);
  }

  putObject(key: Key, obj: StoredObject, expireAt: number): void {
    const n = this.encodeKey(key);
    const kb = this.keyBuf;
    const h = hashBytes(kb, 0, n);
    let id = this.lookupBytes(kb, 0, n, h);
    let a: number;
    obj.accounted = obj.bytes;
    if (id >= 0) {
      const before = this.entryBytes(id);
      const old = this.addr[id >>> ID_SHIFT]![id & ID_MASK]!;
      const oldBuf = this.slab.buffer(old);
      const oldOff = SlabAllocator.offset(old);
      a = this.writeChunk(id, kb, 0, n, EMPTY, 0, 0, undefined, oldBuf[oldOff]! & KEPT_ON_REWRITE, oldBuf.readUInt32LE(oldOff + META_AT), oldBuf.readDoubleLE(oldOff + EXPIRY_AT), true, OBJECT);
      this.objects.set(id, obj);
      this.objectBytes += obj.accounted;
      this.index.setAddr(id, h, a);
      this.slab.free(old);
      this.chargeQueue(id, this.entryBytes(id) - before);
      this.touchChunk(a);
    } else {
      id = this.newId();
      this.hash[id >>> ID_SHIFT]![id & ID_MASK] = h;
      let written = false;
      try {
        a = this.writeChunk(id, kb, 0, n, EMPTY, 0, 0, undefined, 0, this.kind === Kind.Lfu ? this.lfuInit() : (this.tick = (this.tick + 1) >>> 0), NO_EXPIRY, false, OBJECT);
        written = true;
        this.objects.set(id, obj);
        this.objectBytes += obj.accounted;
        this.index.insert(id, h, a);
      } catch (err) {
        // As in setBytes: the id is in no index or FIFO yet.
        if (written) this.releaseChunk(id);
        this.returnId(id);
        throw err;
      }
      if (this.slotFn !== null) this.linkSlot(id, this.slotFn(kb, 0, n));
      this.enqueue(id, h);
    }
    if (expireAt !== KEEP_TTL) this.setChunkExpiry(id, a, expireAt);
    this.objectId = id;
    if (this.watch !== null) this.watch.touch(key);
    if (this.slotWatchField !== null) this.slotWritten(id, key);
    if (this.tracking !== null) this.tracking.touch(key);
    if (this.objectCreated !== null) this.objectCreated(key);
  }

  objectChanged(key: Key, obj: StoredObject): void {
    let id = this.objectId;
    if (id < 0 || this.objects.get(id) !== obj) {
      id = this.lookup(key);
      if (id < 0 || this.objects.get(id) !== obj) return; // no longer stored: nothing to count
    }
    const delta = obj.bytes - obj.accounted;
    if (delta !== 0) {
      obj.accounted = obj.bytes;
      this.objectBytes += delta;
      this.chargeQueue(id, delta);
    }
    if (obj.size === 0) this.removeEntry(id); // which tells watchers itself
    else {
      if (this.watch !== null) this.watch.touch(key);
      if (this.slotWatchField !== null) this.slotWritten(id, key);
      if (this.tracking !== null) this.tracking.touch(key);
    }
  }

  encodingHint(key: Key): EncodingHint {
    const id = this.lookup(key);
    return id < 0 ? undefined : this.hintOf(id);
  }

  private hintOf(id: number): EncodingHint {
    const a = this.addr[id >>> ID_SHIFT]![id & ID_MASK]!;
    const flags = this.slab.buffer(a)[SlabAllocator.offset(a)]!;
    return (flags & HINT_RAW) !== 0 ? 'raw' : (flags & HINT_STRING) !== 0 ? 'string' : undefined;
  }

  /** Marks a use: S3-FIFO's frequency (saturating at 3), and the sampled policy's metadata. */
  private touchChunk(a: number): void {
    const buf = this.slab.buffer(a);
    const off = SlabAllocator.offset(a);
    if ((buf[off]! & FREQ_MASK) !== FREQ_MASK) buf[off]! += FREQ_ONE;
    // LRU's clock is kept under every policy but LFU, so switching to LRU works at once.
    const meta = this.kind === Kind.Lfu ? this.lfuTouch(buf.readUInt32LE(off + META_AT)) : (this.tick = (this.tick + 1) >>> 0);
    buf.writeUInt32LE(meta, off + META_AT);
  }

  /**
   * Loads the index slots, then the chunk headers, of several keys before a
   * command uses them one by one. A lookup is two dependent cache misses (the
   * slot, then the chunk it points to); done key by key they queue one after
   * another. Here each pass has no dependency between keys, so the CPU can
   * have all of a pass's misses in flight at once. Keys are argv-style ranges
   * of kb: [starts[i], ends[i]) for i = from, from + step, ... below to; only
   * the first 32, as many as the scratch array holds (enough for the usual
   * multi-key command: redis-benchmark's MSET has 10 keys).
   */
  prefetchBytes(kb: Buffer, starts: Int32Array, ends: Int32Array, from: number, to: number, step: number): void {
    const addrs = this.prefetchAddrs;
    let n = 0;
    for (let i = from; i < to && n < addrs.length; i += step) addrs[n++] = this.index.firstAddr(hashBytes(kb, starts[i]!, ends[i]!));
    let seen = 0;
    for (let j = 0; j < n; j++) {
      const a = addrs[j]!;
      if (a !== -1) seen += this.slab.buffer(a)[SlabAllocator.offset(a)]!;
    }
    this.prefetchSeen = seen;
  }

  // --- writes ---------------------------------------------------------------

  set(key: Key, value: Uint8Array, expireAt: number, hint?: EncodingHint): void {
    const n = this.encodeKey(key);
    this.setBytes(this.keyBuf, 0, n, value, 0, value.length, expireAt, hint);
  }

  setBytes(kb: Buffer, ks: number, ke: number, vb: Uint8Array, vs: number, ve: number, expireAt: number, hint?: EncodingHint): void {
    if (this.watch !== null) this.watch.touch(kb.latin1Slice(ks, ke));
    const h = hashBytes(kb, ks, ke);
    let id = this.lookupBytes(kb, ks, ke, h);
    let a = this.foundAddr;
    if (id >= 0 && this.overwriteInPlace(a, ke - ks, vb, vs, ve, hint)) {
      this.touchChunk(a);
    } else if (id >= 0) {
      const before = this.entryBytes(id);
      // Write the new chunk before freeing the old one: `value` may be a view of it.
      const old = this.addr[id >>> ID_SHIFT]![id & ID_MASK]!;
      const oldBuf = this.slab.buffer(old);
      const oldOff = SlabAllocator.offset(old);
      a = this.writeChunk(id, kb, ks, ke, vb, vs, ve, hint, oldBuf[oldOff]! & KEPT_ON_REWRITE, oldBuf.readUInt32LE(oldOff + META_AT), oldBuf.readDoubleLE(oldOff + EXPIRY_AT), true);
      this.index.setAddr(id, h, a);
      this.slab.free(old);
      this.chargeQueue(id, this.entryBytes(id) - before);
      this.touchChunk(a);
    } else {
      id = this.newId();
      const b = id >>> ID_SHIFT;
      const i = id & ID_MASK;
      this.hash[b]![i] = h;
      let written = false;
      try {
        a = this.writeChunk(id, kb, ks, ke, vb, vs, ve, hint, 0, this.kind === Kind.Lfu ? this.lfuInit() : (this.tick = (this.tick + 1) >>> 0), NO_EXPIRY, false);
        written = true;
        this.index.insert(id, h, a);
      } catch (err) {
        // Out of memory for the chunk or the index's new table: the id is in
        // no index or FIFO yet, so it goes straight back (a block of ids that
        // newId() just added stays, for the next key).
        if (written) this.releaseChunk(id);
        this.returnId(id);
        throw err;
      }
      // Linked once in the index, before anything else can throw: a live id is always in its slot's list.
      if (this.slotFn !== null) this.linkSlot(id, this.slotFn(kb, ks, ke));
      this.enqueue(id, h);
    }
    if (expireAt !== KEEP_TTL) this.setChunkExpiry(id, a, expireAt);
    if (this.slotWatchField !== null) this.slotWrittenBytes(id, kb, ks, ke);
    if (this.tracking !== null) this.tracking.touch(kb.latin1Slice(ks, ke));
  }

  /**
   * Rewrites a value in its own chunk when the new one needs the same size
   * class (counters, same-size SETs): no allocation, no accounting change.
   * Safe because values handed out are used before the next write (see get).
   */
  private overwriteInPlace(a: number, klen: number, vb: Uint8Array, vs: number, ve: number, hint: EncodingHint): boolean {
    const buf = this.slab.buffer(a);
    const off = SlabAllocator.offset(a);
    const flags = buf[off]!;
    const vlen = ve - vs;
    const need = HEADER + klen + vlen;
    if ((flags & (LARGE_KEY | LARGE_VALUE)) !== 0 || need > MAX_CHUNK || classOf(need) !== this.slab.classOfChunk(a)) return false;
    buf[off] = CHUNK_LIVE | (flags & KEPT_ON_REWRITE) | (hint === 'raw' ? HINT_RAW : hint === 'string' ? HINT_STRING : 0);
    buf.writeUInt32LE(vlen, off + VALUE_LENGTH_AT);
    copyBytes(vb, vs, buf, off + HEADER + klen, vlen);
    return true;
  }

  /**
   * Writes an entry's chunk; `kept` (KEPT_ON_REWRITE bits), meta and expiry
   * carry over from the chunk it replaces. Returns the chunk's address, also
   * stored as the id's (the index's copy is the caller's to update).
   *
   * Everything that can fail (the slab running out of pages, a large value's
   * Buffer, a large key's string) is allocated before anything changes: if it
   * throws, the entry is as it was. `replacing` drops the old chunk's large
   * parts then; the old chunk itself is still allocated, for the caller to free.
   */
  private writeChunk(id: number, kb: Buffer, ks: number, ke: number, vb: Uint8Array, vs: number, ve: number, hint: EncodingHint, kept: number, meta: number, expiry: number, replacing: boolean, object = 0): number {
    const klen = ke - ks;
    const vlen = ve - vs;
    // `object` (OBJECT or 0): a container's chunk, with an empty value; the caller puts the object in `objects`.
    let flags = CHUNK_LIVE | kept | object | (hint === 'raw' ? HINT_RAW : hint === 'string' ? HINT_STRING : 0);
    let need = HEADER + klen + vlen;
    if (need > MAX_CHUNK) {
      flags |= LARGE_VALUE;
      need = HEADER + klen;
      if (need > MAX_CHUNK) {
        flags |= LARGE_KEY;
        need = HEADER + 4; // the id
      }
    }
    const largeKey = (flags & LARGE_KEY) !== 0 ? kb.latin1Slice(ks, ke) : '';
    // Its own Buffer, never changed afterwards: replies may reference it zero-copy.
    const largeValue = (flags & LARGE_VALUE) !== 0 && object === 0 ? Buffer.allocUnsafeSlow(vlen) : null;
    const a = this.slab.alloc(need);
    if (replacing) this.detachChunk(id);
    this.addr[id >>> ID_SHIFT]![id & ID_MASK] = a;
    const buf = this.slab.buffer(a);
    const off = SlabAllocator.offset(a);
    const storedKeyLength = (flags & LARGE_KEY) !== 0 ? 0 : klen;
    buf[off] = flags;
    buf[off + KEY_LENGTH_AT] = storedKeyLength & 0xff;
    buf[off + KEY_LENGTH_AT + 1] = storedKeyLength >>> 8;
    buf.writeUInt32LE(vlen, off + VALUE_LENGTH_AT);
    buf.writeUInt32LE(meta, off + META_AT);
    buf.writeDoubleLE(expiry, off + EXPIRY_AT);
    if ((flags & LARGE_KEY) !== 0) {
      this.largeKeys.set(id, largeKey);
      this.largeBytes += klen;
      buf.writeUInt32LE(id, off + HEADER); // the chunk holds no key: compaction finds the entry by this
    } else {
      copyBytes(kb, ks, buf, off + HEADER, klen);
    }
    if (largeValue !== null) {
      largeValue.set(vb.subarray(vs, ve));
      this.large.set(id, largeValue);
      this.largeBytes += vlen;
    } else {
      copyBytes(vb, vs, buf, off + HEADER + storedKeyLength, vlen);
    }
    return a;
  }

  /** Frees an entry's chunk and large parts (the id and its other fields stay). */
  private releaseChunk(id: number): void {
    this.slab.free(this.detachChunk(id));
  }

  /** Drops an entry's large parts and returns its chunk's address, still allocated. */
  private detachChunk(id: number): number {
    const a = this.addr[id >>> ID_SHIFT]![id & ID_MASK]!;
    const buf = this.slab.buffer(a);
    const flags = buf[SlabAllocator.offset(a)]!;
    if ((flags & OBJECT) === OBJECT) {
      // Absent when rename moved it to another entry.
      this.objectBytes -= this.objects.get(id)?.accounted ?? 0;
      this.objects.delete(id);
    } else if ((flags & LARGE_VALUE) !== 0) {
      this.largeBytes -= this.large.get(id)!.length;
      this.large.delete(id);
    }
    if ((flags & LARGE_KEY) !== 0) {
      this.largeBytes -= this.largeKeys.get(id)!.length;
      this.largeKeys.delete(id);
    }
    return a;
  }

  /** Bytes an entry's data occupies: its chunk and any large parts. */
  private entryBytes(id: number): number {
    const a = this.addr[id >>> ID_SHIFT]![id & ID_MASK]!;
    const flags = this.slab.buffer(a)[SlabAllocator.offset(a)]!;
    let n = this.slab.chunkSize(a);
    if ((flags & OBJECT) === OBJECT) n += this.objects.get(id)?.accounted ?? 0;
    else if ((flags & LARGE_VALUE) !== 0) n += this.large.get(id)!.length;
    if ((flags & LARGE_KEY) !== 0) n += this.largeKeys.get(id)!.length;
    return n;
  }

  private chargeQueue(id: number, delta: number): void {
    if ((this.state[id >>> ID_SHIFT]![id & ID_MASK]! & IN_MAIN) !== 0) this.mainBytes += delta;
    else this.smallBytes += delta;
  }

  /** A new key enters S3-FIFO's small queue, or the main one if the ghost remembers it. */
  private enqueue(id: number, h: number): void {
    const st = this.state[id >>> ID_SHIFT]!;
    const i = id & ID_MASK;
    const g = h & (this.ghost.length - 1);
    const bytes = this.entryBytes(id);
    if (this.ghost[g] === (h | 1) >>> 0) {
      this.ghost[g] = 0;
      st[i]! |= IN_MAIN;
      this.main.push(id);
      this.mainBytes += bytes;
    } else {
      st[i]! |= IN_SMALL;
      this.small.push(id);
      this.smallBytes += bytes;
    }
  }

  private newId(): number {
    let id: number;
    // Deletes and sampled evictions leave ids dead in the FIFOs; reclaim some
    // before growing, so churn cannot grow the id space whatever the background does.
    if (this.freeHead === NO_ID && this.manyDead()) this.reclaimDead(2);
    if (this.freeHead !== NO_ID) {
      id = this.freeHead;
      this.freeHead = this.addr[id >>> ID_SHIFT]![id & ID_MASK]!;
    } else {
      if (this.idHigh >= MAX_IDS) throw new RangeError(`keyspace full: at most ${MAX_IDS} keys per node`);
      id = this.idHigh++;
      if ((id & ID_MASK) === 0) {
        this.addr.push(new Uint32Array(ID_BLOCK));
        this.hash.push(new Uint32Array(ID_BLOCK));
        this.state.push(new Uint8Array(ID_BLOCK));
        if (this.slotFn !== null) {
          this.slotIds.push(new Uint16Array(ID_BLOCK));
          this.slotNext.push(new Uint32Array(ID_BLOCK));
          this.slotPrev.push(new Uint32Array(ID_BLOCK));
        }
      }
    }
    const st = this.state[id >>> ID_SHIFT]!;
    st[id & ID_MASK] = (st[id & ID_MASK]! & LISTED) | LIVE;
    return id;
  }

  /** Takes back an id newId() just gave out, before it entered the index or a FIFO. */
  private returnId(id: number): void {
    const st = this.state[id >>> ID_SHIFT]!;
    st[id & ID_MASK] = st[id & ID_MASK]! & LISTED;
    this.addr[id >>> ID_SHIFT]![id & ID_MASK] = this.freeHead;
    this.freeHead = id;
  }

  /** Called when a FIFO drops a dead id: now it can be reused. */
  private freeId(id: number): void {
    const st = this.state[id >>> ID_SHIFT]!;
    st[id & ID_MASK] = st[id & ID_MASK]! & LISTED;
    this.addr[id >>> ID_SHIFT]![id & ID_MASK] = this.freeHead;
    this.freeHead = id;
    this.dead--;
  }

  /** Deletes an entry: out of the index, memory freed; the id waits in its FIFO as DEAD. */
  private removeEntry(id: number): void {
    if (this.watch !== null) this.watch.touch(this.keyOf(id));
    // Read while the chunk exists; the tracker is told once the key is gone.
    const tracked = this.tracking !== null ? this.keyOf(id) : null;
    let slot = -1;
    let slotKey: Key | null = null;
    if (this.slotFn !== null) {
      slot = this.unlinkSlot(id);
      // The key is read now, while its chunk exists; the watch is told once it is gone.
      if (this.slotWatchField !== null && this.slotWatchField.slots[slot] === 1) slotKey = this.keyOf(id);
    }
    const b = id >>> ID_SHIFT;
    const i = id & ID_MASK;
    this.chargeQueue(id, -this.entryBytes(id));
    this.index.remove(id, this.hash[b]![i]!);
    if (this.expiryOf(id) !== NO_EXPIRY) this.volatileCount--;
    this.releaseChunk(id);
    const st = this.state[b]!;
    st[i] = (st[i]! & (LISTED | IN_SMALL | IN_MAIN)) | DEAD;
    this.dead++;
    if (slotKey !== null) this.slotWatchField!.touch(slotKey, slot);
    if (tracked !== null) this.tracking!.touch(tracked);
  }

  // --- slots ------------------------------------------------------------------

  /** Puts a new entry at the head of its slot's list. */
  private linkSlot(id: number, slot: number): void {
    const b = id >>> ID_SHIFT;
    const i = id & ID_MASK;
    const head = this.slotHead[slot]!;
    this.slotIds[b]![i] = slot;
    this.slotNext[b]![i] = head;
    this.slotPrev[b]![i] = NO_ID;
    if (head !== NO_ID) this.slotPrev[head >>> ID_SHIFT]![head & ID_MASK] = id;
    this.slotHead[slot] = id;
    this.slotCounts[slot]!++;
  }

  /** Takes an entry out of its slot's list, moving any walk standing on it to the next id; returns the slot. */
  private unlinkSlot(id: number): number {
    const b = id >>> ID_SHIFT;
    const i = id & ID_MASK;
    const slot = this.slotIds[b]![i]!;
    const next = this.slotNext[b]![i]!;
    const prev = this.slotPrev[b]![i]!;
    if (this.walks.size !== 0) {
      const ws = this.walksOfSlot.get(slot);
      if (ws !== undefined) for (const w of ws) if (w.pos === id) w.pos = next;
    }
    if (prev === NO_ID) this.slotHead[slot] = next;
    else this.slotNext[prev >>> ID_SHIFT]![prev & ID_MASK] = next;
    if (next !== NO_ID) this.slotPrev[next >>> ID_SHIFT]![next & ID_MASK] = prev;
    this.slotCounts[slot]!--;
    return slot;
  }

  /** Tells slotWatch (set) of a write to entry id, when its slot is watched. */
  private slotWritten(id: number, key: Key): void {
    const slot = this.slotIds[id >>> ID_SHIFT]![id & ID_MASK]!;
    if (this.slotWatchField!.slots[slot] === 1) this.slotWatchField!.touch(key, slot);
  }

  /** slotWritten with the key as bytes: a string is made only for a watched slot. */
  private slotWrittenBytes(id: number, kb: Buffer, ks: number, ke: number): void {
    const slot = this.slotIds[id >>> ID_SHIFT]![id & ID_MASK]!;
    if (this.slotWatchField!.slots[slot] === 1) this.slotWatchField!.touch(kb.latin1Slice(ks, ke), slot);
  }

  private checkSlot(slot: number): void {
    if (this.slotFn === null) throw new Error('this keyspace does not track slots (built without slotOf)');
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.slotCount) throw new RangeError(`slot ${slot} is not in 0..${this.slotCount - 1}`);
  }

  slotOfKey(key: Key): number {
    if (this.slotFn === null) throw new Error('this keyspace does not track slots (built without slotOf)');
    const n = this.encodeKey(key);
    return this.slotFn(this.keyBuf, 0, n);
  }

  countInSlot(slot: number): number {
    this.checkSlot(slot);
    return this.slotCounts[slot]!;
  }

  /*
   * A walk goes from the slot's head (newest) towards older keys. Keys added
   * during the walk go in at the head, behind it: they may be missed, as the
   * contract allows; the keys present throughout keep their order and are
   * each visited exactly once. The cursor cannot be an id: the id the walk
   * would look at next can be deleted (its links then mean nothing) and even
   * reused in another slot. So the cursor is a token naming a registered walk,
   * and unlinkSlot moves every walk standing on a deleted id to that id's
   * successor. A new token is handed out at each call, so replaying an old
   * cursor restarts the walk (keys visited again) rather than skipping ahead.
   */
  scanSlot(slot: number, cursor: number, count: number, visit: (key: Key) => void): number {
    this.checkSlot(slot);
    let w = cursor === 0 ? undefined : this.walks.get(cursor);
    if (w === undefined || w.slot !== slot) w = this.registerWalk(slot);
    else w.resumed = true;
    const now = this.clock.now();
    // The walk stays registered while keys are visited: a visit that deletes keys moves it on like any delete.
    for (let n = 0; w.pos !== NO_ID && n < count; n++) {
      const id = w.pos;
      w.pos = this.slotNext[id >>> ID_SHIFT]![id & ID_MASK]!;
      const exp = this.expiryOf(id);
      if (exp !== NO_EXPIRY && exp <= now) {
        this.removeEntry(id);
        this.stats.expired++;
        continue;
      }
      visit(this.keyOf(id));
    }
    this.walks.delete(w.token);
    if (w.pos === NO_ID) {
      this.forgetWalk(w);
      return 0;
    }
    w.token = ++this.walkSerial;
    this.walks.set(w.token, w);
    return w.token;
  }

  /** A new walk of the slot from its head, making room by forgetting the oldest walks. */
  private registerWalk(slot: number): SlotWalk {
    const mine = this.walksOfSlot.get(slot);
    if (mine !== undefined && mine.length >= WALKS_PER_SLOT) this.forgetWalk(oldestToForget(mine));
    if (this.walks.size >= MAX_WALKS) this.forgetWalk(oldestToForget(this.walks.values()));
    const w: SlotWalk = { slot, pos: this.slotHead[slot]!, token: ++this.walkSerial, resumed: false };
    this.walks.set(w.token, w);
    // Looked up again: forgetWalk drops a slot's array when it empties it.
    const ws = this.walksOfSlot.get(slot);
    if (ws === undefined) this.walksOfSlot.set(slot, [w]);
    else ws.push(w);
    return w;
  }

  private forgetWalk(w: SlotWalk): void {
    this.walks.delete(w.token);
    const ws = this.walksOfSlot.get(w.slot);
    if (ws === undefined) return;
    const k = ws.indexOf(w);
    if (k >= 0) ws.splice(k, 1);
    if (ws.length === 0) this.walksOfSlot.delete(w.slot);
  }

  dropSlot(slot: number, count: number): number {
    this.checkSlot(slot);
    let n = 0;
    for (; n < count; n++) {
      const id = this.slotHead[slot]!;
      if (id === NO_ID) break;
      this.removeEntry(id);
    }
    return n;
  }

  private setExpiry(id: number, at: number): void {
    this.setChunkExpiry(id, this.addr[id >>> ID_SHIFT]![id & ID_MASK]!, at);
  }

  /** Sets the expiry of entry id, whose chunk is at a, and keeps the volatile count and list. */
  private setChunkExpiry(id: number, a: number, at: number): void {
    const b = id >>> ID_SHIFT;
    const i = id & ID_MASK;
    const buf = this.slab.buffer(a);
    const off = SlabAllocator.offset(a);
    // The plain SET of a key without a TTL: nothing to change.
    if (at === NO_EXPIRY && (buf[off]! & HAS_EXPIRY) === 0) return;
    const had = (buf[off]! & HAS_EXPIRY) !== 0;
    if (at === NO_EXPIRY) {
      buf[off]! &= ~HAS_EXPIRY;
      if (had) this.volatileCount--;
      return;
    }
    buf.writeDoubleLE(at, off + EXPIRY_AT);
    buf[off]! |= HAS_EXPIRY;
    if (!had) this.volatileCount++;
    const st = this.state[b]!;
    if ((st[i]! & LISTED) === 0) {
      st[i]! |= LISTED;
      const n = this.volatileLength++;
      if ((n & ID_MASK) === 0 && n >>> ID_SHIFT === this.volatileList.length) this.volatileList.push(new Uint32Array(ID_BLOCK));
      this.volatileList[n >>> ID_SHIFT]![n & ID_MASK] = id;
    }
  }

  /** Removes position p of the volatile list (the last one fills it); the id is no longer listed. */
  private unlistVolatile(p: number): void {
    const id = this.volatileList[p >>> ID_SHIFT]![p & ID_MASK]!;
    this.state[id >>> ID_SHIFT]![id & ID_MASK]! &= ~LISTED;
    const last = --this.volatileLength;
    if (p !== last) this.volatileList[p >>> ID_SHIFT]![p & ID_MASK] = this.volatileList[last >>> ID_SHIFT]![last & ID_MASK]!;
  }

  private isVolatileLive(id: number): boolean {
    return (this.state[id >>> ID_SHIFT]![id & ID_MASK]! & LIVE) !== 0 && this.expiryOf(id) !== NO_EXPIRY;
  }

  delete(key: Key): boolean {
    const id = this.lookup(key);
    if (id < 0) return false;
    this.removeEntry(id);
    return true;
  }

  expireAt(key: Key): number | undefined {
    const id = this.lookup(key);
    return id < 0 ? undefined : this.expiryOf(id);
  }

  setExpireAt(key: Key, at: number): boolean {
    const id = this.lookup(key);
    if (id < 0) return false;
    if (at !== NO_EXPIRY && at <= this.clock.now()) this.removeEntry(id);
    else {
      // PERSIST of a key without a TTL changes nothing: no signal, as in Redis.
      const changes = (this.watch !== null || this.slotWatchField !== null || this.tracking !== null) && (at !== NO_EXPIRY || this.expiryOf(id) !== NO_EXPIRY);
      if (this.watch !== null && changes) this.watch.touch(key);
      this.setExpiry(id, at);
      if (this.slotWatchField !== null && changes) this.slotWritten(id, key);
      if (this.tracking !== null && changes) this.tracking.touch(key);
    }
    return true;
  }

  rename(from: Key, to: Key): boolean {
    const id = this.lookup(from);
    if (id < 0) return false;
    if (from === to) return true;
    const exp = this.expiryOf(id);
    const obj = this.objects.get(id);
    if (obj !== undefined) {
      // The container moves to `to`'s entry: `from`'s removal must not drop it.
      this.objects.delete(id);
      this.objectBytes -= obj.accounted;
      this.chargeQueue(id, -obj.accounted);
      try {
        this.putObject(to, obj, exp);
      } catch (err) {
        this.objects.set(id, obj); // out of memory: `from` keeps it
        this.objectBytes += obj.accounted;
        this.chargeQueue(id, obj.accounted);
        throw err;
      }
      this.objectId = -1;
      this.removeEntry(id);
      return true;
    }
    const hint = this.hintOf(id);
    // Written over `to` rather than after deleting it, so that a write that
    // runs out of memory loses neither key. `from` stays allocated until the
    // copy is made, so its value view stays valid.
    this.set(to, this.value(id, this.addr[id >>> ID_SHIFT]![id & ID_MASK]!), exp, hint);
    this.removeEntry(id);
    return true;
  }

  flush(): void {
    // As Redis 7: a flush touches the watched keys that exist.
    if (this.watch !== null) for (const k of [...this.watch.keys()]) if (this.lookup(k) >= 0) this.watch.touch(k);
    this.slab = new SlabAllocator();
    this.index = new HashIndex(this);
    this.addr = [];
    this.hash = [];
    this.state = [];
    this.idHigh = 0;
    this.freeHead = NO_ID;
    this.dead = 0;
    this.large = new Map();
    this.largeKeys = new Map();
    this.largeBytes = 0;
    this.objects = new Map();
    this.objectBytes = 0;
    this.objectId = -1;
    this.small.clear();
    this.main.clear();
    this.smallBytes = 0;
    this.mainBytes = 0;
    this.ghost = new Uint32Array(1024);
    this.volatileList = [];
    this.volatileLength = 0;
    this.volatileCount = 0;
    this.expireCursor = 0;
    if (this.slotFn !== null) {
      this.slotIds = [];
      this.slotNext = [];
      this.slotPrev = [];
      this.slotHead.fill(NO_ID);
      this.slotCounts.fill(0);
      // A walk in progress (a visit that flushes) must stop: its position is an id of the old keyspace.
      for (const w of this.walks.values()) w.pos = NO_ID;
      this.walks = new Map();
      this.walksOfSlot = new Map();
      if (this.slotWatchField !== null) this.slotWatchField.flushed();
    }
    if (this.tracking !== null) this.tracking.flushed();
  }

  // --- iteration --------------------------------------------------------------

  /** A live, unexpired id picked at random by index slot, or -1 after bounded tries. */
  private randomId(): number {
    const now = this.clock.now();
    for (let tries = 0; tries < 64 && this.index.size > 0; tries++) {
      const id = this.index.sample(this.random());
      if (id < 0) continue;
      const exp = this.expiryOf(id);
      if (exp !== NO_EXPIRY && exp <= now) continue;
      return id;
    }
    // A sparse index (after mass deletes) or one full of expired keys: walk a
    // bounded run of ids from a random point, collecting expired keys on the way,
    // so repeated calls make progress and none takes long.
    const start = Math.floor(this.random() * this.idHigh);
    for (let n = 0; n < Math.min(this.idHigh, RANDOM_WALK); n++) {
      const id = (start + n) % this.idHigh;
      if ((this.state[id >>> ID_SHIFT]![id & ID_MASK]! & LIVE) === 0) continue;
      const exp = this.expiryOf(id);
      if (exp === NO_EXPIRY || exp > now) return id;
      this.removeEntry(id);
      this.stats.expired++;
    }
    return -1;
  }

  randomKey(): Key | undefined {
    const id = this.randomId();
    return id < 0 ? undefined : this.keyOf(id);
  }

  /*
   * SCAN walks ids upwards. A key keeps its id for its whole life, so every key
   * present for the whole scan is visited exactly once; a key added during the
   * scan may or may not be. The cursor is the next id to look at.
   */
  scan(cursor: number, count: number, visit: (key: Key) => void): number {
    const now = this.clock.now();
    let id = cursor;
    for (let n = 0; id < this.idHigh && n < count; id++, n++) {
      if ((this.state[id >>> ID_SHIFT]![id & ID_MASK]! & LIVE) === 0) continue;
      const exp = this.expiryOf(id);
      if (exp !== NO_EXPIRY && exp <= now) {
        this.removeEntry(id);
        this.stats.expired++;
        continue;
      }
      visit(this.keyOf(id));
    }
    return id >= this.idHigh ? 0 : id;
  }

  *keys(): Iterable<Key> {
    const now = this.clock.now();
    for (let id = 0; id < this.idHigh; id++) {
      if ((this.state[id >>> ID_SHIFT]![id & ID_MASK]! & LIVE) === 0) continue;
      const exp = this.expiryOf(id);
      if (exp === NO_EXPIRY || exp > now) yield this.keyOf(id);
    }
  }

  memoryUsage(key: Key): number | undefined {
    const id = this.lookup(key);
    if (id < 0) return undefined;
    // The entry's data, its per-id fields, and its share of the index.
    return this.entryBytes(id) + PER_ID_BYTES + (this.slotFn === null ? 0 : PER_ID_SLOT_BYTES) + Math.ceil(this.index.bytes / Math.max(1, this.index.size));
  }

  // --- background work --------------------------------------------------------

  activeExpire(budgetMs: number): number {
    const started = performance.now();
    const now = this.clock.now();
    let removed = 0;
    // Walk the volatile list from where the last cycle stopped, at most once round;
    // check the clock every 64 ids so one call never holds the event loop for long.
    for (let checked = 0; this.volatileLength > 0 && checked < this.volatileLength + removed; checked++) {
      if (this.expireCursor >= this.volatileLength) this.expireCursor = 0;
      const p = this.expireCursor;
      const id = this.volatileList[p >>> ID_SHIFT]![p & ID_MASK]!;
      if (!this.isVolatileLive(id)) {
        this.unlistVolatile(p); // the last id moved into p: look at p again
      } else if (this.expiryOf(id) <= now) {
        this.removeEntry(id);
        this.stats.expired++;
        removed++;
        this.unlistVolatile(p);
      } else {
        this.expireCursor++;
      }
      if ((checked & 63) === 63 && performance.now() - started >= budgetMs) break;
    }
    return removed;
  }

  /**
   * Incremental upkeep, bounded by budgetMs: moves the index's rehash along,
   * drops dead ids from the FIFOs, and compacts sparse slab pages.
   */
  maintain(budgetMs: number): void {
    const started = performance.now();
    while (performance.now() - started < budgetMs) {
      let worked = false;
      if (this.index.rehashing) {
        this.index.migrate(1 << 14);
        worked = true;
      }
      if (this.manyDead()) {
        this.reclaimDead(4);
        worked = true;
      }
      if (this.slab.fragmented && this.slab.compact(256, (from, to) => this.relocate(from, to)) > 0) worked = true;
      if (!worked) break;
    }
    // The ghost remembers about as many keys as the cache holds (direct-mapped, so collisions forget some).
    while (this.index.size > this.ghost.length && this.ghost.length < 1 << 26) this.ghost = new Uint32Array(this.ghost.length * 2);
  }

  /** Whether dead ids are a quarter of the FIFOs: then sweeping them pays. */
  private manyDead(): boolean {
    return this.dead > 1024 && this.dead * 4 > this.small.length + this.main.length;
  }

  /** Sweeps dead ids out of up to `blocks` blocks of each FIFO and frees them for reuse. */
  private reclaimDead(blocks: number): void {
    this.small.sweep(blocks, this.keepLive);
    this.main.sweep(blocks, this.keepLive);
  }

  private readonly keepLive = (id: number): boolean => {
    if ((this.state[id >>> ID_SHIFT]![id & ID_MASK]! & DEAD) === 0) return true;
    this.freeId(id);
    return false;
  };

  /** Compaction moved a chunk: find its entry by the key bytes and repoint it. */
  private relocate(from: number, to: number): void {
    const buf = this.slab.buffer(to);
    const off = SlabAllocator.offset(to);
    let id: number;
    if ((buf[off]! & LARGE_KEY) !== 0) id = buf.readUInt32LE(off + HEADER);
    else {
      const end = off + HEADER + (buf[off + KEY_LENGTH_AT]! | (buf[off + KEY_LENGTH_AT + 1]! << 8));
      id = this.index.find(buf, off + HEADER, end, hashBytes(buf, off + HEADER, end));
    }
    if (id < 0 || this.addr[id >>> ID_SHIFT]![id & ID_MASK] !== from) return;
    this.addr[id >>> ID_SHIFT]![id & ID_MASK] = to;
    this.index.setAddr(id, this.hash[id >>> ID_SHIFT]![id & ID_MASK]!, to);
  }

  // --- eviction ---------------------------------------------------------------

  evict(limit: number, policy: EvictionPolicy, budgetMs = Infinity): boolean {
    // Called before and after every write under a memory limit: the policy's kind is worked out when it changes,
    // and the clock is read only once there is something to evict.
    if (policy !== this.policy) {
      this.policy = policy;
      this.kind = kindOf(policy);
    }
    const kind = this.kind;
    // The old index table during a rehash is freed within a few background
    // cycles; evicting data to pay for it would empty a big cache by up to a
    // third each time the index doubles. So it is over-committed, as Redis does
    // with its rehash tables.
    const target = limit + this.index.transientBytes;
    if (this.usedMemory <= target) return true;
    if (kind === Kind.NoEviction) return false;
    const started = budgetMs === Infinity ? 0 : performance.now();
    const volatileOnly = policy.startsWith('volatile-');
    for (let n = 1; this.usedMemory > target; n++) {
      const r = kind === Kind.S3Fifo ? this.evictS3Fifo(started, budgetMs) : this.evictSampled(kind, volatileOnly);
      if (r === EVICT_NONE) return false;
      if (r === EVICTED) this.stats.evicted++;
      // Out of time with work done: the caller goes on, and the next write or
      // the background cycle continues (Redis bounds its eviction time the same way).
      if (r === EVICT_YIELD || ((n & 15) === 0 && performance.now() - started >= budgetMs)) return true;
    }
    return true;
  }

  /**
   * S3-FIFO (Yang et al., SOSP 2023): new keys enter a small FIFO; a key that
   * leaves it unused is evicted and remembered in the ghost, a key used again
   * moves to the main FIFO; the main FIFO reinserts keys used since their last
   * pass (decrementing the count) and evicts the others. One-hit wonders and
   * scans therefore pass through the small queue without displacing the hot set.
   */
  private evictS3Fifo(started = 0, budgetMs = Infinity): EvictResult {
    const total = this.smallBytes + this.mainBytes;
    for (let guard = (this.small.length + this.main.length) * 4 + 16; guard > 0; guard--) {
      // Moving a FIFO full of used keys can take a pass over all of them: yield when out of time.
      if ((guard & 1023) === 0 && budgetMs !== Infinity && performance.now() - started >= budgetMs) return EVICT_YIELD;
      const fromSmall = this.small.length > 0 && (this.smallBytes > total * SMALL_SHARE || this.main.length === 0);
      const q = fromSmall ? this.small : this.main;
      const id = q.pop();
      if (id < 0) return EVICT_NONE;
      const b = id >>> ID_SHIFT;
      const i = id & ID_MASK;
      const st = this.state[b]!;
      if ((st[i]! & DEAD) !== 0) {
        this.freeId(id);
        continue;
      }
      const a = this.addr[b]![i]!;
      const buf = this.slab.buffer(a);
      const off = SlabAllocator.offset(a);
      const freq = (buf[off]! & FREQ_MASK) >>> 5;
      const bytes = this.entryBytes(id);
      if (fromSmall) {
        if (freq > 0) {
          st[i] = (st[i]! & ~IN_SMALL) | IN_MAIN;
          buf[off]! &= ~FREQ_MASK;
          this.smallBytes -= bytes;
          this.mainBytes += bytes;
          this.main.push(id);
          continue;
        }
        const h = this.hash[b]![i]!;
        this.ghost[h & (this.ghost.length - 1)] = (h | 1) >>> 0;
      } else if (freq > 0) {
        buf[off]! -= FREQ_ONE;
        this.main.push(id);
        continue;
      }
      this.removeEntry(id);
      this.freeId(id); // already out of its FIFO
      return EVICTED;
    }
    return EVICT_NONE;
  }

  private evictSampled(kind: Kind, volatileOnly: boolean): EvictResult {
    let best = -1;
    let bestScore = 0;
    let found = 0;
    for (let tries = 0; found < SAMPLES && tries < SAMPLES * 20; tries++) {
      const id = volatileOnly ? this.sampleVolatile() : this.index.sample(this.random());
      if (id < 0) {
        if (volatileOnly && this.volatileCount === 0) break;
        continue;
      }
      found++;
      const score = this.score(id, kind);
      if (best < 0 || score < bestScore) {
        best = id;
        bestScore = score;
      }
      if (kind === Kind.Random) break;
    }
    // A sparse index (after mass deletes) can defeat sampling: every live key is
    // in a FIFO, so take the oldest one there instead of walking the ids.
    if (best < 0 && !volatileOnly) return this.evictS3Fifo();
    // Volatile keys exist but sampling met only stale list entries, which it
    // cleaned: progress; the next call finds them sooner.
    if (best < 0) return this.volatileCount > 0 ? EVICT_YIELD : EVICT_NONE;
    this.removeEntry(best);
    return EVICTED;
  }

  /** Lower is evicted first. */
  private score(id: number, kind: Kind): number {
    if (kind === Kind.Ttl) return this.expiryOf(id);
    const m = this.metaOf(id);
    if (kind === Kind.Lfu) return this.lfuDecayed(m);
    // The clock is stored in 32 bits and wraps: compare idle times, modulo 2^32.
    if (kind === Kind.Lru) return -((this.tick - m) >>> 0);
    return 0;
  }

  private sampleVolatile(): number {
    for (let tries = 0; tries < 16 && this.volatileLength > 0; tries++) {
      const p = Math.floor(this.random() * this.volatileLength);
      const id = this.volatileList[p >>> ID_SHIFT]![p & ID_MASK]!;
      if (this.isVolatileLive(id)) return id;
      this.unlistVolatile(p);
    }
    // Mostly stale entries (deleted or persisted keys): clean a bounded run from the end.
    for (let n = 0; n < RANDOM_WALK && this.volatileLength > 0; n++) {
      const p = this.volatileLength - 1;
      const id = this.volatileList[p >>> ID_SHIFT]![p & ID_MASK]!;
      if (this.isVolatileLive(id)) return id;
      this.unlistVolatile(p);
    }
    return -1;
  }

  private minutes(): number {
    return Math.floor(this.clock.now() / 60000) & 0xffff;
  }

  private lfuInit(): number {
    return (this.minutes() << 8) | LFU_INIT;
  }

  private lfuDecayed(m: number): number {
    const elapsed = (this.minutes() - (m >>> 8)) & 0xffff;
    return Math.max(0, (m & 0xff) - elapsed);
  }

  private lfuTouch(m: number): number {
    let counter = this.lfuDecayed(m);
    if (counter < 255) {
      const base = Math.max(0, counter - LFU_INIT);
      if (this.random() < 1 / (base * LFU_LOG_FACTOR + 1)) counter++;
    }
    return (this.minutes() << 8) | counter;
  }
}

/** The first walk never resumed, else the first: walks come oldest first. */
function oldestToForget(walks: Iterable<SlotWalk>): SlotWalk {
  let first: SlotWalk | undefined;
  for (const w of walks) {
    if (!w.resumed) return w;
    first ??= w;
  }
  return first!;
}

/** Whether a binary string (one char per byte) equals the bytes [start, end) of b. */
function latin1Equals(s: string, b: Uint8Array, start: number, end: number): boolean {
  if (s.length !== end - start) return false;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) !== b[start + i]) return false;
  return true;
}
