/**
 * The requests a move's old owner sends its new owner, as RESP commands on an
 * ordinary connection (so the one RESP parser and reply framer serve them):
 *
 *   SLOTMOVE BEGIN <moveId>                        the new owner checks it knows the move and holds nothing in its slots
 *   SLOTMOVE PUT <moveId> <n> (<key> <expireAt> <kind> <value>) x n
 *   SLOTMOVE PART <moveId> <key> <expireAt> <total> <offset> <bytes>   a large string, in pieces
 *   SLOTMOVE DONE <moveId> <keys>                  everything is sent and the old owner holds the slots
 *   SLOTMOVE ABORT <moveId>                        the new owner drops what it received
 *
 * expireAt is absolute, in ms (0: none), so a key that expires during the copy
 * expires on both sides at the same moment. Kinds: s (string: the value's
 * bytes), o (a container: ringcache's DUMP payload), d (deleted since it was
 * sent: no value).
 *
 * PutBatch writes a batch straight into one buffer: building an argument
 * array of Buffers per key cost more than the copy itself at 100k+ keys/s.
 */

export const KIND_STRING = 's';
export const KIND_OBJECT = 'o';
export const KIND_DELETE = 'd';
export type EntryKind = typeof KIND_STRING | typeof KIND_OBJECT | typeof KIND_DELETE;

/** Strings this long or longer go as PART pieces, one piece per event-loop turn. */
export const PART_THRESHOLD = 512 * 1024;
export const PART_SIZE = 256 * 1024;

const CRLF = 0x0a0d; // "\r\n" as a little-endian u16

export class PutBatch {
  private buf = Buffer.allocUnsafe(64 * 1024);
  private len = 0;
  /** Keys in the batch. */
  count = 0;
  private readonly head: string;

  /** prefix: the arguments before the entry count (SLOTMOVE PUT <moveId>, or replication's REPL PUT <run> <offset>: see takeWith). */
  constructor(private readonly prefix: readonly string[]) {
    this.head = prefix.map((a) => `$${a.length}\r\n${a}\r\n`).join('');
  }

  /** Bytes of key and value data in the batch (what its size limit is checked against). */
  get bytes(): number {
    return this.len;
  }

  add(key: string, expireAt: number, kind: EntryKind, value: Uint8Array | null): void {
    const vlen = value === null ? 0 : value.length;
    this.reserve(key.length + vlen + 64);
    this.bulkLatin1(key);
    this.bulkLatin1(String(expireAt));
    this.bulkLatin1(kind);
    this.header(vlen);
    if (value !== null) {
      this.buf.set(value, this.len);
      this.len += vlen;
    }
    this.buf.writeUInt16LE(CRLF, this.len);
    this.len += 2;
    this.count++;
  }

  /** The whole request; the batch is empty afterwards. */
  take(): Buffer {
    return this.takeWith([]);
  }

  /** take() with more arguments after the prefix (an offset known only once the batch is complete). */
  takeWith(more: readonly string[]): Buffer {
    let head = `*${this.prefix.length + more.length + 1 + 4 * this.count}\r\n${this.head}`;
    for (const a of more) head += `$${a.length}\r\n${a}\r\n`;
    head += `$${String(this.count).length}\r\n${this.count}\r\n`;
    const out = Buffer.allocUnsafe(head.length + this.len);
    out.latin1Write(head, 0);
    this.buf.copy(out, head.length, 0, this.len);
    this.len = 0;
    this.count = 0;
    return out;
  }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  private header(n: number): void {
    this.len += this.buf.latin1Write(`$${n}\r\n`, this.len);
  }

  private bulkLatin1(s: string): void {
    this.header(s.length);
    this.len += this.buf.latin1Write(s, this.len);
    this.buf.writeUInt16LE(CRLF, this.len);
    this.len += 2;
  }
}

/** One piece of a large string (prefix: SLOTMOVE PART <moveId>, or REPL PART <run> <offset>). */
export function partRequest(prefix: readonly string[], key: string, expireAt: number, total: number, offset: number, bytes: Uint8Array): Buffer {
  const args = [...prefix, key, String(expireAt), String(total), String(offset)];
  let head = `*${args.length + 1}\r\n`;
  for (const a of args) head += `$${a.length}\r\n${a}\r\n`;
  head += `$${bytes.length}\r\n`;
  const out = Buffer.allocUnsafe(head.length + bytes.length + 2);
  out.latin1Write(head, 0);
  out.set(bytes, head.length);
  out.writeUInt16LE(CRLF, head.length + bytes.length);
  return out;
}
