/**
 * The hash of a key, computed the same way from a latin1 string (what commands
 * hold) and from bytes (what the slabs hold), so the index can be probed with
 * either. Four bytes per step, then murmur3's finalizer: linear probing needs
 * the low bits well mixed.
 */
export function hashString(key: string): number {
  const n = key.length;
  let h = 0x9747b28c ^ n;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const k = key.charCodeAt(i) | (key.charCodeAt(i + 1) << 8) | (key.charCodeAt(i + 2) << 16) | (key.charCodeAt(i + 3) << 24);
    h = Math.imul(h ^ Math.imul(k, 0xcc9e2d51), 0x1b873593);
    h = (h << 13) | (h >>> 19);
  }
  let k = 0;
  for (let s = 0; i < n; i++, s += 8) k |= key.charCodeAt(i) << s;
  return fmix32(h ^ Math.imul(k, 0xcc9e2d51));
}

export function hashBytes(b: Uint8Array, start: number, end: number): number {
  const n = end - start;
  let h = 0x9747b28c ^ n;
  let i = start;
  for (; i + 4 <= end; i += 4) {
    const k = b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);
    h = Math.imul(h ^ Math.imul(k, 0xcc9e2d51), 0x1b873593);
    h = (h << 13) | (h >>> 19);
  }
  let k = 0;
  for (let s = 0; i < end; i++, s += 8) k |= b[i]! << s;
  return fmix32(h ^ Math.imul(k, 0xcc9e2d51));
}

/** murmur3's 32-bit finaliser: every input bit affects every output bit. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
