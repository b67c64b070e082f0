/**
 * Names of the helper keys getOrSet keeps next to a cached key (its lease and
 * its last loader error). They must be in the key's slot, so the node that owns
 * the key also arbitrates its lease, and reads of lease and key can share one
 * round trip in order. Pure.
 */
import { keySlotOf } from '../cluster/key-slot.js';

/** The slot of a key given as text (sent as UTF-8) or bytes. */
export function slotOf(key: string | Buffer): number {
  const buf = typeof key === 'string' ? Buffer.from(key) : key;
  return keySlotOf(buf, 0, buf.length);
}

const tagBySlot = new Map<number, string>();

/** A short string whose CRC16 slot is `slot` (found by search once per slot, then cached). */
export function tagForSlot(slot: number): string {
  let tag = tagBySlot.get(slot);
  if (tag !== undefined) return tag;
  for (let i = 0; ; i++) {
    const t = i.toString(36);
    if (slotOf(t) === slot) {
      tag = t;
      break;
    }
  }
  tagBySlot.set(slot, tag);
  return tag;
}

/**
 * `<key>` plus a suffix, in the key's slot: a key with a hash tag keeps it
 * (appending cannot change which `{...}` comes first), a key without one is
 * wrapped in braces so its own bytes are hashed. Keys where that would not give
 * the same slot (they hold a `}` but no valid tag, like `a{}`) use a tag found
 * for their slot instead.
 */
export function companionKey(key: string, suffix: string): string {
  const slot = slotOf(key);
  const open = key.indexOf('{');
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) return `${key}${suffix}`;
  }
  const wrapped = `{${key}}${suffix}`;
  if (slotOf(wrapped) === slot) return wrapped;
  return `{${tagForSlot(slot)}}${key}${suffix}`;
}
