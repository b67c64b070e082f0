/**
 * The values a scenario writes. Every write gets a value of its own, so a read
 * tells the checker exactly which write it sees:
 *
 *   <run tag>:<write seq>:<key id>:<size>:<checksum>|.......   (padded with '.' to <size> bytes)
 *
 * The run tag tells this run's values from anything else in the cache, the
 * sequence number names the write, the key id tells a value served for the
 * wrong key, and the size, the checksum (FNV-1a over the header) and the fixed
 * padding make a torn or corrupted value detectable: `decodeValue` re-encodes
 * what it parsed and accepts only an exact match. Pure.
 */

export interface DecodedValue {
  tag: string;
  seq: number;
  key: number;
}

/** FNV-1a 32-bit of a string's UTF-16 code units (the header is ASCII), as 8 hex digits. */
function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

function header(tag: string, seq: number, key: number, size: number): string {
  const body = `${tag}:${seq}:${key}:${size}`;
  return `${body}:${fnv1a(body)}|`;
}

/** The value of write `seq` to key id `key`: `size` bytes, or just the header when it is longer. */
export function encodeValue(tag: string, seq: number, key: number, size: number): string {
  const h = header(tag, seq, key, size);
  return h.length >= size ? h : h + '.'.repeat(size - h.length);
}

const HEADER = /^([0-9a-z]+):(\d+):(\d+):(\d+):[0-9a-f]{8}\|/;

/** Parses a value this module wrote; undefined when it is not one, exactly (any changed byte). */
export function decodeValue(value: string | Buffer): DecodedValue | undefined {
  const text = typeof value === 'string' ? value : value.toString('latin1');
  const m = HEADER.exec(text);
  if (m === null) return undefined;
  const decoded = { tag: m[1]!, seq: Number(m[2]), key: Number(m[3]) };
  const size = Number(m[4]);
  if (!Number.isSafeInteger(decoded.seq) || !Number.isSafeInteger(decoded.key) || !Number.isSafeInteger(size)) return undefined;
  return encodeValue(decoded.tag, decoded.seq, decoded.key, size) === text ? decoded : undefined;
}

/** A short random tag for one run (base 36). */
export function newRunTag(random: () => number = Math.random): string {
  return Math.floor(random() * 36 ** 6).toString(36).padStart(6, '0');
}
