/**
 * RESP for the client: requests encoded straight to a string (the common case:
 * all-string arguments, written with one socket.write per batch) and a streaming
 * reply decoder. Pure: no I/O.
 */
import { encodeRequest } from '../protocol/request-encoder.js';
import { ReplyError } from './errors.js';

/** An argument of a command: strings are sent as UTF-8, Buffers as is, numbers in decimal. */
export type Arg = string | Buffer | number;

/** A decoded reply. Bulk strings are Buffers; error replies are ReplyError values (not thrown). */
export type Reply = string | number | bigint | boolean | Buffer | null | ReplyError | Reply[];

/**
 * Encodes one command. All-string commands become a string: concatenating
 * strings and writing one string per batch is much cheaper than building a
 * Buffer per argument. Commands with Buffer arguments reuse the node's encoder.
 */
export function encodeCommand(args: readonly Arg[]): string | Buffer {
  let out = `*${args.length}\r\n`;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (typeof a === 'string') out += `$${Buffer.byteLength(a)}\r\n${a}\r\n`;
    else if (typeof a === 'number') {
      const s = String(a);
      out += `$${s.length}\r\n${s}\r\n`;
    } else return encodeRequest(args.map((x) => (typeof x === 'number' ? String(x) : x)));
  }
  return out;
}

const INCOMPLETE = Symbol('incomplete');
type Parsed = Reply | typeof INCOMPLETE;

/** Below this many buffered bytes a failed parse is cheap enough to simply repeat on the next chunk. */
const FRAME_CHECK_BYTES = 16 * 1024;

/**
 * Decodes a stream of replies. Feed it socket chunks; it calls onReply once per
 * complete reply, in order. A large reply arriving in many chunks (CLUSTER
 * SLOTS of a ringcache cluster is about 1 MB) is not decoded again on every
 * chunk: once a reply is found incomplete and large, a resumable scan finds
 * where it ends (without decoding) and it is decoded once, in linear time.
 */
export class ReplyDecoder {
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  /** While a large reply is incomplete: the chunks after buf, not yet concatenated. */
  private waiting: Buffer[] | undefined;
  private waitingBytes = 0;
  private readonly frame = new FrameScanner();

  constructor(private readonly onReply: (reply: Reply) => void) {}

  /** Bytes received but not yet decoded. */
  get pending(): number {
    return this.buf.length - this.pos + this.waitingBytes;
  }

  /** Adds received bytes; calls onReply for every reply they complete. */
  feed(chunk: Buffer): void {
    if (this.waiting !== undefined) {
      this.waiting.push(chunk);
      this.waitingBytes += chunk.length;
      if (!this.frame.scan(chunk)) return;
      this.buf = Buffer.concat([this.buf.subarray(this.pos), ...this.waiting]);
      this.waiting = undefined;
      this.waitingBytes = 0;
    } else {
      this.buf = this.pos < this.buf.length ? Buffer.concat([this.buf.subarray(this.pos), chunk]) : chunk;
    }
    this.pos = 0;
    while (this.pos < this.buf.length) {
      const start = this.pos;
      const value = this.parse();
      if (value === INCOMPLETE) {
        this.pos = start;
        if (this.buf.length - start > FRAME_CHECK_BYTES) {
          this.buf = this.buf.subarray(start);
          this.pos = 0;
          this.waiting = [];
          this.frame.start(this.buf);
        }
        return;
      }
      this.onReply(value);
    }
  }

  /** Drops any partial reply (after the connection is gone). */
  reset(): void {
    this.buf = Buffer.alloc(0);
    this.pos = 0;
    this.waiting = undefined;
    this.waitingBytes = 0;
  }

  /** The end of the line starting at this.pos (index of \r), or -1. */
  private lineEnd(): number {
    const cr = this.buf.indexOf(13, this.pos);
    return cr < 0 || cr + 1 >= this.buf.length ? -1 : cr;
  }

  private int(start: number, end: number): number {
    const b = this.buf;
    let i = start;
    let neg = false;
    if (b[i] === 45) {
      neg = true;
      i++;
    }
    let n = 0;
    for (; i < end; i++) n = n * 10 + (b[i]! - 48);
    return neg ? -n : n;
  }

  private parse(): Parsed {
    const b = this.buf;
    if (this.pos >= b.length) return INCOMPLETE;
    const type = b[this.pos]!;
    const cr = this.lineEnd();
    if (cr < 0) return INCOMPLETE;
    const lineStart = this.pos + 1;
    const next = cr + 2;
    switch (type) {
      case 43: // + simple string
        this.pos = next;
        return b.toString('utf8', lineStart, cr);
      case 45: // - error
        this.pos = next;
        return new ReplyError(b.toString('utf8', lineStart, cr));
      case 58: // : integer
        this.pos = next;
        return this.int(lineStart, cr);
      case 36: // $ bulk
      case 61: // = verbatim
      case 33: { // ! bulk error
        const n = this.int(lineStart, cr);
        if (n < 0) {
          this.pos = next;
          return null;
        }
        if (next + n + 2 > b.length) return INCOMPLETE;
        this.pos = next + n + 2;
        if (type === 33) return new ReplyError(b.toString('utf8', next, next + n));
        // Verbatim strings start with a 3-letter format and a colon.
        return type === 61 ? b.subarray(next + 4, next + n) : b.subarray(next, next + n);
      }
      case 42: // * array
      case 126: // ~ set
      case 62: // > push
      case 37: { // % map (as a flat [k, v, k, v] array, like RESP2)
        let n = this.int(lineStart, cr);
        this.pos = next;
        if (n < 0) return null;
        if (type === 37) n *= 2;
        const out: Reply[] = new Array(n);
        for (let i = 0; i < n; i++) {
          const v = this.parse();
          if (v === INCOMPLETE) return INCOMPLETE;
          out[i] = v;
        }
        return out;
      }
      case 95: // _ null
        this.pos = next;
        return null;
      case 35: // # boolean
        this.pos = next;
        return b[lineStart] === 116; // t
      case 44: // , double
        this.pos = next;
        return Number(b.toString('latin1', lineStart, cr).replace('inf', 'Infinity'));
      case 40: // ( big number
        this.pos = next;
        return BigInt(b.toString('latin1', lineStart, cr));
      default:
        throw new Error(`RESP protocol error: unexpected type byte ${type}`);
    }
  }
}

/**
 * Finds where one reply ends across chunks without decoding it: the framing
 * rules of src/protocol/reply-framer.ts, but resumable, so each byte is looked
 * at about once however many chunks the reply spans.
 */
class FrameScanner {
  /** Items still expected. */
  private pending = 0;
  /** Unscanned bytes carried over (a header line or bulk payload cut by a chunk boundary). */
  private carry: Buffer = Buffer.alloc(0);
  /** Bulk payload bytes (plus CRLF) still to skip. */
  private skip = 0;

  /** Starts on a buffer that holds the beginning of a reply; returns whether the reply is complete. */
  start(buf: Buffer): boolean {
    this.pending = 1;
    this.carry = Buffer.alloc(0);
    this.skip = 0;
    return this.scan(buf);
  }

  /** Scans more bytes; true once the reply is complete. */
  scan(chunk: Buffer): boolean {
    let buf = chunk;
    let p = 0;
    if (this.skip > 0) {
      const n = Math.min(this.skip, buf.length);
      this.skip -= n;
      p = n;
      if (this.skip > 0) return false;
    }
    if (this.carry.length > 0) {
      buf = Buffer.concat([this.carry, buf.subarray(p)]);
      p = 0;
      this.carry = Buffer.alloc(0);
    }
    while (this.pending > 0) {
      if (p >= buf.length) return false;
      const cr = buf.indexOf(13, p + 1);
      if (cr < 0 || cr + 1 >= buf.length) {
        this.carry = buf.subarray(p);
        return false;
      }
      const type = buf[p]!;
      const next = cr + 2;
      this.pending--;
      if (type === 36 || type === 61 || type === 33) {
        const n = Number(buf.latin1Slice(p + 1, cr));
        if (n < 0) p = next;
        else if (next + n + 2 <= buf.length) p = next + n + 2;
        else {
          this.skip = next + n + 2 - buf.length;
          return this.pending === 0 && this.skip === 0;
        }
      } else if (type === 42 || type === 126 || type === 62) {
        const n = Number(buf.latin1Slice(p + 1, cr));
        if (n > 0) this.pending += n;
        p = next;
      } else if (type === 37 || type === 124) {
        this.pending += 2 * Number(buf.latin1Slice(p + 1, cr)) + (type === 124 ? 1 : 0);
        p = next;
      } else p = next;
    }
    return true;
  }
}
