/**
 * Storing one received entry (a move's or the replication stream's): a
 * string, a container's payload or a deletion, with its absolute expiry, and
 * large strings reassembled from their pieces. Shared by the new owner of a
 * move (imports.ts) and a replica (src/replication/sink.ts).
 */
import { CommandError } from '../commands/errors.js';
import type { Clock } from '../store/clock.js';
import { NO_EXPIRY, type Key, type Keyspace } from '../store/keyspace.js';
import { decodeValue } from '../store/objects/serialize.js';
import { KIND_DELETE, KIND_OBJECT, KIND_STRING } from './wire.js';

/** Stores an entry whose value is the bytes [vs, ve) of vb. */
export function storeEntry(store: Keyspace, clock: Clock, key: Key, expireAt: number, kind: string, vb: Buffer, vs: number, ve: number): void {
  if (kind === KIND_DELETE) {
    store.delete(key);
    return;
  }
  if (expireAt !== NO_EXPIRY && expireAt <= clock.now()) {
    // Expired in flight: it must not come back here.
    store.delete(key);
    return;
  }
  if (kind === KIND_STRING) store.set(key, vb.subarray(vs, ve), expireAt);
  else if (kind === KIND_OBJECT) {
    const value = decodeValue(Buffer.from(vb.subarray(vs, ve)));
    if (value === null || Buffer.isBuffer(value)) throw new CommandError('ERR unreadable container payload');
    store.putObject(key, value, expireAt);
  } else throw new CommandError(`ERR unknown entry kind '${kind}'`);
}

/** Large strings being received in pieces, in order. */
export class Pieces {
  private readonly partial = new Map<Key, { buf: Buffer; filled: number; expireAt: number }>();

  get size(): number {
    return this.partial.size;
  }

  forget(key: Key): void {
    this.partial.delete(key);
  }

  clear(): void {
    this.partial.clear();
  }

  /** Adds a piece; returns the whole value (and its expiry) once the last piece is in. */
  add(key: Key, expireAt: number, total: number, offset: number, bytes: Buffer, what: string): { value: Buffer; expireAt: number } | undefined {
    let p = this.partial.get(key);
    if (offset === 0) this.partial.set(key, (p = { buf: Buffer.allocUnsafe(total), filled: 0, expireAt }));
    if (p === undefined || p.filled !== offset || p.buf.length !== total || offset + bytes.length > total) {
      this.partial.delete(key);
      throw new CommandError(`ERR out-of-order piece of a large value in ${what}`);
    }
    bytes.copy(p.buf, offset);
    p.filled += bytes.length;
    if (p.filled < total) return undefined;
    this.partial.delete(key);
    return { value: p.buf, expireAt: p.expireAt };
  }
}
