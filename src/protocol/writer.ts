/**
 * Encodes replies in RESP2 or RESP3 into one growing buffer, so that all replies
 * to one chunk of input leave in a single socket write.
 *
 * Hand-written for the hot path: integers and lengths are written digit by digit
 * (no number-to-string), constant replies are preallocated, and large values are
 * passed by reference instead of copied (values in the store are immutable, so
 * the reference stays valid while the write is pending). Pure: no I/O.
 */
import { copyBytes, type Argv } from './argv.js';

export type Protocol = 2 | 3;

/** A point in the output to roll back to: the segment count and the position, in one number (no allocation per command). */
export type WriterMark = number;
const MARK_SEGMENT = 2 ** 32;

/** Values at least this large go out by reference rather than being copied. */
export const ZERO_COPY_THRESHOLD = 16 * 1024;
const INITIAL_SIZE = 64 * 1024;
/** After a burst, a buffer larger than this is dropped instead of kept. */
const KEEP_SIZE = 1024 * 1024;

export const CRLF = Buffer.from('\r\n');

/**
 * Writes a safe integer in decimal at buf[at] (at most 21 bytes); returns the
 * position after it. Below 2^31 it divides in int32, which V8 turns into a
 * multiply and shift: every bulk header and integer reply passes here.
 */
export function writeSafeInteger(buf: Uint8Array, at: number, n: number): number {
  let p = at;
  if (n < 0) {
    buf[p++] = 45;
    n = -n;
  }
  if (n < 10) {
    buf[p] = 48 + n;
    return p + 1;
  }
  if (n <= 0x7fffffff) {
    let v = n | 0;
    const len = v < 100 ? 2 : v < 1000 ? 3 : v < 10000 ? 4 : v < 100000 ? 5 : v < 1000000 ? 6 : v < 10000000 ? 7 : v < 100000000 ? 8 : v < 1000000000 ? 9 : 10;
    const end = p + len;
    for (let q = end - 1; q > p; q--) {
      const next = (v / 10) | 0;
      buf[q] = 48 + v - next * 10;
      v = next;
    }
    buf[p] = 48 + v;
    return end;
  }
  let len = 1;
  for (let t = n; t >= 10; t = Math.floor(t / 10)) len++;
  const end = p + len;
  for (let q = end - 1; q > p; q--) {
    const next = Math.floor(n / 10);
    buf[q] = 48 + (n - next * 10);
    n = next;
  }
  buf[p] = 48 + n;
  return end;
}

export class ReplyWriter {
  protocol: Protocol = 2;
  /** Error replies written so far (a command's failed_calls: whether this grew while it ran). */
  errors = 0;
  private buf = Buffer.allocUnsafe(INITIAL_SIZE);
  private pos = 0;
  /** Finished pieces (copied prefixes and referenced large values) in order. */
  private segments: Buffer[] = [];
  private segmentBytes = 0;
  /** takeLent() handed out a view of buf that returned() has not yet given back. */
  private lent = false;
  /**
   * The last two views of buf that takeLent() made, and of which buffer:
   * handed out again while buf is the same and the length matches (replies of
   * one or two sizes, such as a hit and a miss, one after another). Making a
   * view of a Buffer costs two calls into V8's runtime and an allocation.
   */
  private recentView: Buffer | null = null;
  private olderView: Buffer | null = null;
  private viewsOf: Buffer | null = null;
  /**
   * What takeLent() returns when everything is in buf: the same one-element
   * array every time, valid until returned(). A fresh array per reply chunk
   * was a third of the node's allocation per request at pipeline 1.
   */
  private readonly single: Buffer[] = [Buffer.alloc(0)];

  /** Bytes written since the last take(). */
  get length(): number {
    return this.pos + this.segmentBytes;
  }

  /** Removes and returns everything written since the last take(), or null if nothing was. */
  take(): Buffer[] | null {
    if (this.pos === 0 && this.segments.length === 0) return null;
    this.cut();
    const out = this.segments;
    this.segments = [];
    this.segmentBytes = 0;
    if (this.buf.length > KEEP_SIZE) this.buf = Buffer.allocUnsafe(INITIAL_SIZE);
    return out;
  }

  /**
   * As take(), but the bytes in the writer's own buffer come as a view of it,
   * not a copy: one copy and one allocation less per reply chunk. The caller
   * writes the pieces at once and then must call `returned`, saying whether
   * anything still holds them (a socket write that did not complete at once);
   * until then, nothing else may be written. The array itself is the
   * writer's: it may come back from the next call, so keep the pieces, not it.
   */
  takeLent(): Buffer[] | null {
    if (this.pos === 0 && this.segments.length === 0) return null;
    let out: Buffer[];
    if (this.segments.length === 0) {
      // Nearly always: all replies are in buf. One array, reused (see `single`).
      out = this.single;
      out[0] = this.viewOfBuf();
    } else {
      out = this.segments;
      if (this.pos > 0) out.push(this.viewOfBuf());
      this.segments = [];
      this.segmentBytes = 0;
    }
    this.lent = this.pos > 0;
    this.pos = 0;
    return out;
  }

  /** buf[0, pos) as a view, reusing one of the last two that fits (see recentView). */
  private viewOfBuf(): Buffer {
    if (this.viewsOf !== this.buf) {
      this.viewsOf = this.buf;
      this.recentView = this.olderView = null;
    }
    const recent = this.recentView;
    if (recent !== null && recent.length === this.pos) return recent;
    const older = this.olderView;
    this.olderView = recent;
    if (older !== null && older.length === this.pos) return (this.recentView = older);
    return (this.recentView = this.buf.subarray(0, this.pos));
  }

  /** After takeLent(): a buffer still held by a pending write is left to it, and the writer takes a new one. */
  returned(stillHeld: boolean): void {
    if ((this.lent && stillHeld) || this.buf.length > KEEP_SIZE) this.buf = Buffer.allocUnsafe(INITIAL_SIZE);
    this.lent = false;
  }

  /** Drops everything written since the last take() (the client went away). */
  discard(): void {
    this.pos = 0;
    this.segments = [];
    this.segmentBytes = 0;
  }

  /** A point to roll back to if the reply being written turns out to be an error. */
  mark(): WriterMark {
    return this.segments.length * MARK_SEGMENT + this.pos;
  }

  /** Drops everything written since the mark (a handler failed half-way through its reply). */
  rollback(mark: WriterMark): void {
    const segments = Math.floor(mark / MARK_SEGMENT);
    const pos = mark % MARK_SEGMENT;
    if (this.segments.length > segments) {
      // The first cut after the mark copied buf[0, pos) to the front of this segment.
      const first = this.segments[segments]!;
      for (const s of this.segments.splice(segments)) this.segmentBytes -= s.length;
      // buf only grows between take() calls, so it still has room for pos bytes.
      first.copy(this.buf, 0, 0, pos);
    }
    this.pos = pos;
  }

  /** Copies the bytes written so far into a segment of their own. */
  private cut(): void {
    if (this.pos === 0) return;
    const piece = Buffer.allocUnsafe(this.pos);
    this.buf.copy(piece, 0, 0, this.pos);
    this.segments.push(piece);
    this.segmentBytes += this.pos;
    this.pos = 0;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.cut();
    if (n > this.buf.length) this.buf = Buffer.allocUnsafe(Math.max(n, this.buf.length * 2));
  }

  /** A preallocated, already encoded reply. */
  raw(bytes: Buffer): void {
    this.ensure(bytes.length);
    copyBytes(bytes, 0, this.buf, this.pos, bytes.length);
    this.pos += bytes.length;
  }

  private byte(c: number): void {
    this.buf[this.pos++] = c;
  }

  private crlf(): void {
    this.buf[this.pos++] = 13;
    this.buf[this.pos++] = 10;
  }

  /** Writes a safe integer in decimal; needs at most 21 bytes of room. */
  private digits(n: number): void {
    this.pos = writeSafeInteger(this.buf, this.pos, n);
  }

  private header(type: number, n: number): void {
    this.ensure(24);
    this.byte(type);
    this.digits(n);
    this.crlf();
  }

  /** `+text` — text must be ASCII without CR or LF. */
  simple(text: string): void {
    this.ensure(text.length + 3);
    this.byte(43);
    this.pos += this.buf.latin1Write(text, this.pos);
    this.crlf();
  }

  /** `-PREFIX message` — CR and LF in the message are replaced, as Redis does. */
  error(text: string): void {
    const clean = /[\r\n]/.test(text) ? text.replace(/[\r\n]/g, ' ') : text;
    const len = Buffer.byteLength(clean);
    this.errors++;
    this.ensure(len + 3);
    this.byte(45);
    this.pos += this.buf.write(clean, this.pos);
    this.crlf();
  }

  /**
   * `-PREFIX message` of a binary string (one char per byte), for errors that
   * quote a client's bytes as they came (Redis echoes them, valid UTF-8 or
   * not); CR and LF are replaced as in error().
   */
  errorBinary(text: string): void {
    const clean = /[\r\n]/.test(text) ? text.replace(/[\r\n]/g, ' ') : text;
    this.errors++;
    this.ensure(clean.length + 3);
    this.byte(45);
    this.pos += this.buf.latin1Write(clean, this.pos);
    this.crlf();
  }

  integer(n: number | bigint): void {
    if (typeof n === 'bigint' || !Number.isSafeInteger(n)) {
      this.ensure(24);
      this.byte(58);
      this.pos += this.buf.latin1Write(String(n), this.pos);
      this.crlf();
      return;
    }
    this.header(58, n);
  }

  /**
   * A bulk string of the bytes [start, end) of src. A large range is sent
   * without copying, so src must not change until the reply is written: true
   * of store values, not of a command's arguments (use bulkArg).
   */
  bulk(src: Buffer, start = 0, end = src.length): void {
    const n = end - start;
    if (n >= ZERO_COPY_THRESHOLD) {
      this.header(36, n);
      this.cut();
      this.segments.push(start === 0 && end === src.length ? src : src.subarray(start, end));
      this.segmentBytes += n;
      this.ensure(2);
      this.crlf();
      return;
    }
    this.copiedBulk(src, start, end);
  }

  /**
   * A command's argument echoed back, always copied: the parser's buffer (the
   * node's shared read buffer) is overwritten once the handler returns, and a
   * socket write that does not complete at once would still refer to it.
   */
  bulkArg(argv: Argv, i: number): void {
    this.copiedBulk(argv.buf, argv.start[i]!, argv.end[i]!);
  }

  /** A bulk string of src[start, end), copied into buf whatever its size. */
  private copiedBulk(src: Uint8Array, start: number, end: number): void {
    const n = end - start;
    this.ensure(n + 24);
    this.byte(36);
    this.digits(n);
    this.crlf();
    copyBytes(src, start, this.buf, this.pos, n);
    this.pos += n;
    this.crlf();
  }

  /** A bulk string of a binary string (one char per byte), such as a key. */
  bulkLatin1(s: string): void {
    this.ensure(s.length + 24);
    this.byte(36);
    this.digits(s.length);
    this.crlf();
    this.pos += this.buf.latin1Write(s, this.pos);
    this.crlf();
  }

  /** A bulk string of UTF-8 text. */
  bulkText(s: string): void {
    const n = Buffer.byteLength(s);
    this.ensure(n + 24);
    this.byte(36);
    this.digits(n);
    this.crlf();
    this.pos += this.buf.write(s, this.pos);
    this.crlf();
  }

  /** The null reply for a missing value: `$-1` in RESP2, `_` in RESP3. */
  nullBulk(): void {
    this.raw(this.protocol === 3 ? NULL3 : NULL_BULK2);
  }

  /** The null reply for a missing array: `*-1` in RESP2, `_` in RESP3. */
  nullArray(): void {
    this.raw(this.protocol === 3 ? NULL3 : NULL_ARRAY2);
  }

  array(n: number): void {
    this.header(42, n);
  }

  /** A map of n pairs: `%n` in RESP3, a flat array of 2n in RESP2. */
  map(n: number): void {
    if (this.protocol === 3) this.header(37, n);
    else this.header(42, n * 2);
  }

  /**
   * A map of text names to text or integer values (HELLO, CLUSTER SHARDS, COMMAND DOCS).
   * `extra` more pairs follow, written by the caller.
   */
  fields(pairs: ReadonlyArray<readonly [string, string | number]>, extra = 0): void {
    this.map(pairs.length + extra);
    for (const [name, value] of pairs) {
      this.bulkText(name);
      if (typeof value === 'number') this.integer(value);
      else this.bulkText(value);
    }
  }

  /** A set of n members: `~n` in RESP3, an array in RESP2. */
  set(n: number): void {
    this.header(this.protocol === 3 ? 126 : 42, n);
  }

  /** A double: `,d` in RESP3, a bulk string in RESP2. */
  double(d: number): void {
    const text = formatDouble(d);
    if (this.protocol === 3) {
      this.ensure(text.length + 3);
      this.byte(44);
      this.pos += this.buf.latin1Write(text, this.pos);
      this.crlf();
    } else {
      this.bulkText(text);
    }
  }

  /** A double already formatted (sorted-set scores, "%.17g"): `,text` in RESP3, a bulk string in RESP2. */
  doubleText(text: string): void {
    if (this.protocol === 2) return this.bulkText(text);
    this.ensure(text.length + 3);
    this.byte(44);
    this.pos += this.buf.latin1Write(text, this.pos);
    this.crlf();
  }

  /** Text meant for people (INFO, CLIENT LIST): a verbatim string in RESP3, a bulk string in RESP2. */
  verbatim(text: string): void {
    if (this.protocol === 2) return this.bulkText(text);
    const n = Buffer.byteLength(text) + 4;
    this.ensure(n + 24);
    this.byte(61);
    this.digits(n);
    this.crlf();
    this.pos += this.buf.latin1Write('txt:', this.pos);
    this.pos += this.buf.write(text, this.pos);
    this.crlf();
  }
}

/** Formats a double as Redis does in replies: shortest round-trip form, inf/-inf/nan. */
export function formatDouble(d: number): string {
  if (Number.isNaN(d)) return 'nan';
  if (d === Infinity) return 'inf';
  if (d === -Infinity) return '-inf';
  return String(d);
}

export const NULL3 = Buffer.from('_\r\n');
export const NULL_BULK2 = Buffer.from('$-1\r\n');
export const NULL_ARRAY2 = Buffer.from('*-1\r\n');
export const OK = Buffer.from('+OK\r\n');
export const PONG = Buffer.from('+PONG\r\n');
export const QUEUED = Buffer.from('+QUEUED\r\n');
export const ZERO = Buffer.from(':0\r\n');
export const ONE = Buffer.from(':1\r\n');
export const EMPTY_ARRAY = Buffer.from('*0\r\n');
