/**
 * What the containers share: heap-size estimates and Redis 7.0's encoding
 * thresholds (its defaults for hash-max-listpack-*, set-max-intset-entries,
 * zset-max-listpack-*), which decide the names OBJECT ENCODING reports.
 *
 * Elements are binary strings (one char per byte, as keys are): V8 keeps
 * them as one-byte strings, compares them by bytes (as Redis's memcmp) and
 * hashes them for Map and Set.
 */

/** A one-byte string on V8's heap (64-bit, no pointer compression): a 16-byte header and its bytes, in 8-byte words. */
export function stringBytes(s: string): number {
  return 16 + ((s.length + 7) & ~7);
}

/** One entry of a Map or Set: its slot in the ordered hash table (key, value, chain) and its share of the buckets. */
export const MAP_ENTRY_BYTES = 32;
/** A Map or Set with its first table, or a small object with its backing store. */
export const CONTAINER_BASE_BYTES = 160;

/**
 * Redis 7.0's compiled-in defaults (config.c, not the sample redis.conf's
 * 128 for hashes): above these a hash or sorted set leaves listpack, and a
 * set leaves intset.
 */
export const HASH_LISTPACK_MAX_ENTRIES = 512;
export const ZSET_LISTPACK_MAX_ENTRIES = 128;
export const LISTPACK_MAX_VALUE = 64;
export const INTSET_MAX_ENTRIES = 512;

/**
 * Whether a member is an integer as Redis's intset takes it (string2ll: an
 * int64 in canonical form, no sign prefix, no leading zeros, "-0" excluded).
 */
export function isIntsetMember(s: string): boolean {
  const n = s.length;
  if (n === 0 || n > 20) return false;
  let i = 0;
  if (s.charCodeAt(0) === 45) {
    if (n === 1) return false;
    i = 1;
  }
  const first = s.charCodeAt(i);
  if (first === 48) return n === 1; // "0" only
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  if (n < 19) return true;
  const big = BigInt(s);
  return big <= 9223372036854775807n && big >= -9223372036854775808n;
}

/** A uniformly random integer in [0, n). */
export function randomIndex(n: number, random: () => number = Math.random): number {
  return Math.floor(random() * n);
}

/** The container types; a key holds one of them or a string. */
export type ObjectType = 'hash' | 'list' | 'set' | 'zset';

/**
 * A container's contents, kept on the JS heap and referenced by its key's
 * entry in the keyspace. `bytes` is the object's own estimate of the heap it
 * holds, which the keyspace counts in usedMemory (so maxmemory and eviction
 * see containers as they see strings).
 */
export interface StoredObject {
  readonly type: ObjectType;
  /** Elements (fields, members); a container left with none is deleted, as in Redis. */
  readonly size: number;
  /** Estimated heap bytes of the contents, kept up to date by the object. */
  readonly bytes: number;
  /** What the keyspace last counted for it (the keyspace's field: objects leave it alone). */
  accounted: number;
  /** OBJECT ENCODING's name for it, as Redis 7.0 would encode the same contents. */
  encoding(): string;
  /** A deep copy (COPY). */
  clone(): StoredObject;
}
