/**
 * DUMP/RESTORE's payload: ringcache's own format, not Redis's RDB.
 *
 *   "RCDUMP" | version (1 byte, 1) | type (1 byte) | body | CRC-32 of all before (4 bytes, LE)
 *
 * Bodies: a string is its bytes; a hash a u32 count then (field, value)
 * pairs; a list or set a u32 count then elements; a sorted set a u32 count
 * then (f64 score, member) pairs; every byte string a u32 length then bytes.
 * Integers little-endian. A payload that is not this (Redis's own included)
 * is refused whole: decode returns null.
 */
import { crc32 } from 'node:zlib';
import type { StoredObject } from './common.js';
import { HashObject } from './hash-object.js';
import { ListObject } from './list-object.js';
import { SetObject } from './set-object.js';
import { ZSetObject } from './zset-object.js';

const MAGIC = Buffer.from('RCDUMP', 'latin1');
const VERSION = 1;
const TYPES = ['string', 'hash', 'list', 'set', 'zset'] as const;

class Writer {
  private parts: Buffer[] = [];
  u8(n: number): void {
    this.parts.push(Buffer.from([n]));
  }
  u32(n: number): void {
    const b = Buffer.allocUnsafe(4);
    b.writeUInt32LE(n);
    this.parts.push(b);
  }
  f64(d: number): void {
    const b = Buffer.allocUnsafe(8);
    b.writeDoubleLE(d);
    this.parts.push(b);
  }
  str(s: string): void {
    this.u32(s.length);
    this.parts.push(Buffer.from(s, 'latin1'));
  }
  raw(b: Uint8Array): void {
    this.parts.push(Buffer.from(b));
  }
  done(): Buffer {
    const body = Buffer.concat([MAGIC, ...this.parts]);
    const sum = Buffer.allocUnsafe(4);
    sum.writeUInt32LE(crc32(body));
    return Buffer.concat([body, sum]);
  }
}

/** A string's value or a container, as a payload. */
export function encodeValue(value: Uint8Array | StoredObject): Buffer {
  const w = new Writer();
  w.u8(VERSION);
  if (value instanceof Uint8Array) {
    w.u8(0);
    w.raw(value);
  } else if (value instanceof HashObject) {
    w.u8(1);
    w.u32(value.size);
    for (const [f, v] of value.fields.entries()) {
      w.str(f);
      w.str(v);
    }
  } else if (value instanceof ListObject) {
    w.u8(2);
    w.u32(value.size);
    for (let i = 0; i < value.size; i++) w.str(value.get(i));
  } else if (value instanceof SetObject) {
    w.u8(3);
    w.u32(value.size);
    for (const m of value.values()) w.str(m);
  } else if (value instanceof ZSetObject) {
    w.u8(4);
    w.u32(value.size);
    for (let n = value.list.first; n !== null; n = n.next[0]!) {
      w.f64(n.score);
      w.str(n.member);
    }
  } else throw new TypeError(`cannot serialize a ${value.type}`);
  return w.done();
}

/** The value a payload holds (a Buffer for a string), or null if it is not a valid payload of this format. */
export function decodeValue(payload: Buffer): Buffer | StoredObject | null {
  const min = MAGIC.length + 2 + 4;
  if (payload.length < min || !payload.subarray(0, MAGIC.length).equals(MAGIC)) return null;
  const end = payload.length - 4;
  if (crc32(payload.subarray(0, end)) !== payload.readUInt32LE(end)) return null;
  if (payload[MAGIC.length] !== VERSION) return null;
  const type = TYPES[payload[MAGIC.length + 1]!];
  let p = MAGIC.length + 2;
  if (type === 'string') return Buffer.from(payload.subarray(p, end));
  const need = (n: number): void => {
    if (p + n > end) throw new RangeError('truncated');
  };
  const u32 = (): number => {
    need(4);
    const n = payload.readUInt32LE(p);
    p += 4;
    return n;
  };
  const str = (): string => {
    const n = u32();
    need(n);
    const s = payload.latin1Slice(p, p + n);
    p += n;
    return s;
  };
  try {
    const count = u32();
    let obj: StoredObject;
    if (type === 'hash') {
      const h = new HashObject();
      for (let i = 0; i < count; i++) h.set(str(), str());
      obj = h;
    } else if (type === 'list') {
      const l = new ListObject();
      for (let i = 0; i < count; i++) l.pushBack(str());
      obj = l;
    } else if (type === 'set') {
      const s = new SetObject();
      for (let i = 0; i < count; i++) s.add(str());
      obj = s;
    } else if (type === 'zset') {
      const z = new ZSetObject();
      for (let i = 0; i < count; i++) {
        need(8);
        const score = payload.readDoubleLE(p);
        p += 8;
        if (Number.isNaN(score)) return null;
        z.set(str(), score);
      }
      obj = z;
    } else return null;
    // Trailing bytes, or an empty container (never stored), are no payload of ours.
    return p === end && obj.size > 0 ? obj : null;
  } catch {
    return null;
  }
}
