/**
 * The keyspace seam: what commands may ask of the store. Commands depend on this
 * interface only, so the engine behind it (slab-keyspace.ts) can change
 * without touching them.
 *
 * Keys are binary strings (one char per byte, latin1), so every byte sequence is
 * a distinct key. Values are bytes; the engine stores its own copy, and what it
 * returns is valid until the next write (see get).
 */
export type Key = string;

export type { ObjectType, StoredObject } from './objects/common.js';
import type { ObjectType, StoredObject } from './objects/common.js';
/** What TYPE reports for a key that exists. */
export type ValueType = 'string' | ObjectType;

/** Redis's reply to a command on a key of another type, word for word. */
export const WRONGTYPE = 'WRONGTYPE Operation against a key holding the wrong kind of value';

/**
 * Thrown by the store when a command's key holds another type: the string
 * reads (get, peek, getInto...) on a container, getObject on a string or
 * another container. The dispatcher replies `reply` and the command stops.
 */
export class WrongTypeError extends Error {
  readonly reply = WRONGTYPE;
  constructor() {
    super(WRONGTYPE);
  }
}

/** Pass as expireAt to keep the key's current expiry (SET ... KEEPTTL). */
export const KEEP_TTL = -1;
/** expireAt of a key that never expires. */
export const NO_EXPIRY = 0;

export const EVICTION_POLICIES = [
  'allkeys-s3fifo',
  'noeviction',
  'allkeys-lru',
  'volatile-lru',
  'allkeys-lfu',
  'volatile-lfu',
  'allkeys-random',
  'volatile-random',
  'volatile-ttl',
] as const;
export type EvictionPolicy = (typeof EVICTION_POLICIES)[number];

/**
 * How a value was built, for OBJECT ENCODING: "raw" (APPEND, SETRANGE results
 * are raw whatever their content), "string" (never reported as int: INCRBYFLOAT),
 * or undefined (by content, as Redis's tryObjectEncoding).
 */
export type EncodingHint = 'raw' | 'string' | undefined;

/** Counters kept by the engine itself, reported by INFO under Redis's names. */
export interface KeyspaceStats {
  /** Reads that found a live key (keyspace_hits). */
  hits: number;
  /** Reads that found nothing (keyspace_misses). */
  misses: number;
  /** Keys removed because their TTL passed, lazily or actively (expired_keys). */
  expired: number;
  /** Keys removed to stay under maxmemory (evicted_keys). */
  evicted: number;
}

/**
 * Where getInto puts a value: the reply writer, seen from the store. The bytes
 * given are the store's own; the sink must copy what it keeps, except a whole
 * Buffer of MAX_CHUNK bytes or more, which the store never changes or reuses.
 */
export interface ValueSink {
  /** The value is src[start, end); a sink may keep a reference to a large one until its reply is sent. */
  bulk(src: Buffer, start: number, end: number): void;
}

/**
 * WATCH's modification signal (transactions.ts): the store calls touch() with
 * every key it writes, deletes, expires or evicts, while one is set. Unset
 * (null) when no key is watched, so a write pays one null check.
 */
export interface KeyWatch {
  touch(key: Key): void;
  /** The watched keys (FLUSHALL touches those that exist). */
  keys(): Iterable<Key>;
}

/**
 * CLIENT TRACKING's signal (src/tracking/tracker.ts): told of every key
 * written, deleted, expired or evicted, and of flushes, while some client
 * tracks keys. Unset (null) otherwise, so a write pays one null check.
 */
export interface KeyTracking {
  touch(key: Key): void;
  /** flush() emptied the keyspace. */
  flushed(): void;
}

/**
 * How the engine learns a key's slot: injected, so the store imports nothing
 * from the cluster. Returns 0..slotCount-1 (the engine does not check).
 */
export type SlotFunction = (kb: Uint8Array, ks: number, ke: number) => number;

/**
 * Told of every key written, deleted, expired or evicted in a slot marked in
 * `slots` (1 = watched), and of flushes. Used by slot migration to find keys
 * changed during a copy. Told after the change, so a handler that reads the
 * key sees its new state (or its absence).
 */
export interface SlotWatch {
  readonly slots: Uint8Array;
  touch(key: Key, slot: number): void;
  /** flush() emptied the keyspace. */
  flushed(): void;
}

export interface Keyspace {
  /** Set by WATCH while some key is watched; null otherwise. */
  watch: KeyWatch | null;
  /** Set while some client has CLIENT TRACKING on; null otherwise. */
  tracking: KeyTracking | null;
  /** Whether the engine tracks slots (built with a SlotFunction). The slot methods throw when it does not. */
  readonly slotted: boolean;
  /** Set by slot migration while slots move; null otherwise (a write then pays one null check). Only on a slotted engine. */
  slotWatch: SlotWatch | null;
  /** Live and not-yet-collected keys. */
  readonly size: number;
  /** Keys that carry an expiry. */
  readonly volatileSize: number;
  /** Bytes the engine accounts for its data; what maxmemory is compared with. */
  readonly usedMemory: number;
  readonly stats: KeyspaceStats;

  /**
   * Reads a value for a client: counts a hit or a miss and marks the key as used.
   * The Buffer may be a view of the engine's memory: it is valid until the next
   * write to the keyspace, so use it (or copy it) before writing.
   */
  get(key: Key): Buffer | undefined;
  /** As get, but hands the value to sink (no Buffer is made for it); false when there is no key. */
  getInto(key: Key, sink: ValueSink): boolean;
  /**
   * getInto with the key given as the bytes [ks, ke) of kb, as they arrived:
   * no string is made for it. The *Bytes methods are the commands' hot paths.
   */
  getIntoBytes(kb: Buffer, ks: number, ke: number, sink: ValueSink): boolean;
  /** As peek, handing the value to sink; false when there is no key. */
  peekIntoBytes(kb: Buffer, ks: number, ke: number, sink: ValueSink): boolean;
  /**
   * A hint before a multi-key command: loads the keys [starts[i], ends[i]) of
   * kb, i = from, from + step, ... < to (the first 32 of them), into the CPU's
   * caches. It only reads: no data, counter, expiry or eviction state changes,
   * and an engine may do nothing at all.
   */
  prefetchBytes(kb: Buffer, starts: Int32Array, ends: Int32Array, from: number, to: number, step: number): void;
  /** Reads a value without counting or marking it (TYPE, STRLEN, OBJECT, internal reads); valid as get's. */
  peek(key: Key): Buffer | undefined;
  /*
   * The string reads above (get, getInto, getIntoBytes, peekIntoBytes, peek)
   * throw WrongTypeError when the key holds a container.
   */

  /** Whether the key exists, of any type; nothing counted or marked (EXISTS, SETNX, NX/XX). */
  exists(key: Key): boolean;
  /** As exists, but counts a hit or a miss and marks the key as used (TOUCH). */
  touch(key: Key): boolean;
  /** The key's type, or undefined when it does not exist; nothing counted or marked. */
  typeOf(key: Key): ValueType | undefined;
  /**
   * The container at key, marked as used (and, with `read`, counted as a hit
   * or miss); undefined when there is no key; WrongTypeError when the key
   * holds a string or another type. A caller that changes the object must
   * call objectChanged before its next store call.
   */
  getObject(key: Key, type: ObjectType, read: boolean): StoredObject | undefined;
  /** The container at key, of any type, nothing counted or marked; undefined for a string or no key (OBJECT, COPY). */
  peekObject(key: Key): StoredObject | undefined;
  /** Stores a new container at key, replacing whatever was there (expireAt as set's, KEEP_TTL included). */
  putObject(key: Key, obj: StoredObject, expireAt: number): void;
  /**
   * Called with the key each time putObject stores a container, while set:
   * how clients blocked on a key learn it got data (blocking.ts). Null while
   * nobody waits.
   */
  objectCreated: ((key: Key) => void) | null;
  /**
   * After a command changed a container in place: its memory is counted
   * again, watchers are told, and a container left empty is deleted.
   */
  objectChanged(key: Key, obj: StoredObject): void;
  /**
   * Stores a copy of value with an absolute expiry in ms (NO_EXPIRY or KEEP_TTL):
   * the caller may reuse value's memory afterwards.
   */
  set(key: Key, value: Uint8Array, expireAt: number, hint?: EncodingHint): void;
  /** set with the key as the bytes [ks, ke) of kb and the value as the bytes [vs, ve) of vb. */
  setBytes(kb: Buffer, ks: number, ke: number, vb: Uint8Array, vs: number, ve: number, expireAt: number, hint?: EncodingHint): void;
  /** The hint the key's value was stored with (undefined also when there is no key). */
  encodingHint(key: Key): EncodingHint;
  delete(key: Key): boolean;
  /** The absolute expiry in ms, NO_EXPIRY, or undefined when the key does not exist. */
  expireAt(key: Key): number | undefined;
  /** Sets an absolute expiry (a time already past deletes the key). False if there is no key. */
  setExpireAt(key: Key, at: number): boolean;
  /** Moves a value (of any type) and its expiry; overwrites `to`. False if `from` does not exist. */
  rename(from: Key, to: Key): boolean;
  flush(): void;
  randomKey(): Key | undefined;
  /**
   * Visits about `count` keys from `cursor` (0 starts a scan) and returns the
   * next cursor, 0 when done. Every key present for the whole scan is visited
   * at least once; a key may be visited twice.
   */
  scan(cursor: number, count: number, visit: (key: Key) => void): number;
  /** All live keys, for KEYS. */
  keys(): Iterable<Key>;
  /** Bytes accounted for one key, or undefined when it does not exist. */
  memoryUsage(key: Key): number | undefined;

  /** The slot of a key (the SlotFunction's answer), for callers that have a string. */
  slotOfKey(key: Key): number;
  /** Live keys in the slot (keys whose TTL passed but not yet collected may be counted). O(1). */
  countInSlot(slot: number): number;
  /**
   * Visits about `count` keys of one slot from `cursor` (0 starts) and returns
   * the next cursor, 0 when done. Every key present in the slot for the whole
   * walk is visited at least once; work per call is bounded by count (not by
   * the keyspace size). Expired keys are not visited.
   */
  scanSlot(slot: number, cursor: number, count: number, visit: (key: Key) => void): number;
  /**
   * Deletes up to `count` (>= 1) keys of the slot (WATCH and slotWatch are
   * told as for delete); returns how many it deleted; 0 means the slot is empty.
   */
  dropSlot(slot: number, count: number): number;

  /** Removes expired keys for at most budgetMs; returns how many it removed. */
  activeExpire(budgetMs: number): number;
  /** Incremental upkeep (index growth, compaction, queue sweeps) for at most budgetMs. */
  maintain(budgetMs: number): void;
  /**
   * Evicts keys by policy until usedMemory <= limit; false if it could not get
   * there. With a time budget it may stop early, still over the limit, and
   * return true: work is under way and later calls continue it.
   */
  evict(limit: number, policy: EvictionPolicy, budgetMs?: number): boolean;
}
