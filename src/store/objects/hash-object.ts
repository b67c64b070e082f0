/** A hash: fields to values, both binary strings, in insertion order (as a listpack keeps them). */
import { CONTAINER_BASE_BYTES, HASH_LISTPACK_MAX_ENTRIES, LISTPACK_MAX_VALUE, MAP_ENTRY_BYTES, stringBytes, type StoredObject } from './common.js';
import { Slots } from './slots.js';

/** Two array slots per field (key and value) on top of its Map entry. */
const ENTRY_BYTES = MAP_ENTRY_BYTES + 16;

export class HashObject implements StoredObject {
  readonly type = 'hash';
  readonly fields = new Slots<string>();
  bytes = CONTAINER_BASE_BYTES;
  accounted = 0;
  /**
   * Redis would hold it as a hashtable: it once had more than 512 fields or a
   * field or value over 64 bytes. Redis never converts back, nor does this.
   */
  private hashtable = false;

  get size(): number {
    return this.fields.size;
  }

  encoding(): string {
    return this.hashtable ? 'hashtable' : 'listpack';
  }

  get(field: string): string | undefined {
    return this.fields.get(field);
  }

  /** Sets a field; true if it is new. An existing field keeps its place. */
  set(field: string, value: string): boolean {
    if (value.length > LISTPACK_MAX_VALUE || field.length > LISTPACK_MAX_VALUE) this.hashtable = true;
    const old = this.fields.set(field, value);
    if (old === undefined) {
      this.bytes += ENTRY_BYTES + stringBytes(field) + stringBytes(value);
      if (this.fields.size > HASH_LISTPACK_MAX_ENTRIES) this.hashtable = true;
      return true;
    }
    this.bytes += stringBytes(value) - stringBytes(old);
    return false;
  }

  delete(field: string): boolean {
    const [had, old] = this.fields.delete(field);
    if (!had) return false;
    this.bytes -= ENTRY_BYTES + stringBytes(field) + stringBytes(old!);
    return true;
  }

  clone(): HashObject {
    const c = new HashObject();
    for (const [f, v] of this.fields.entries()) c.set(f, v);
    c.hashtable = this.hashtable;
    return c;
  }
}
