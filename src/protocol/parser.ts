/**
 * Incremental parser of client requests: RESP multibulk (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`)
 * and inline commands (`GET k\r\n`, what `nc` and telnet send).
 *
 * Hand-written rather than taken from a library because it is the node's hot path:
 * it parses in place on the socket's chunks, records argument offsets in an Argv
 * (no Buffer or string per argument), and checks every declared length before
 * anything is allocated for it. Pure: no I/O, the caller feeds bytes in.
 */
import { Argv } from './argv.js';

/**
 * Redis 7.0's limit on a multibulk count (INT_MAX). A count costs nothing by
 * itself: argument slots are allocated as the arguments arrive.
 */
export const MAX_MULTIBULK_LENGTH = 2147483647;

export interface ParserLimits {
  /** Largest bulk string accepted (Redis's proto-max-bulk-len, 512 MB by default). */
  maxBulkLength: number;
  /** Largest argument count accepted in one multibulk request. */
  maxMultibulkLength: number;
  /** Largest inline request, and largest `*`/`$` header line (64 KB, as Redis). */
  maxInlineLength: number;
  /** Largest amount of unparsed input kept for one client (Redis's client-query-buffer-limit). */
  maxQueryBuffer: number;
}

export const DEFAULT_PARSER_LIMITS: ParserLimits = {
  maxBulkLength: 512 * 1024 * 1024,
  maxMultibulkLength: MAX_MULTIBULK_LENGTH,
  maxInlineLength: 64 * 1024,
  maxQueryBuffer: 1024 * 1024 * 1024,
};

/**
 * What Redis 7 accepts from a client that must still authenticate
 * (authRequired): at most 10 arguments of at most 16 KB each. A larger
 * request is a protocol error, so that a client without the password cannot
 * make the node hold up to proto-max-bulk-len per argument.
 */
export const UNAUTHENTICATED_MAX_MULTIBULK = 10;
export const UNAUTHENTICATED_MAX_BULK = 16384;

export interface ParserSink {
  /** One complete command. The Argv and its buffer are only valid during the call. */
  onCommand(argv: Argv): void;
  /** A protocol error: the message is the Redis text after `ERR `. The parser stops. */
  onProtocolError(message: string): void;
}

const CR = 13;
const LF = 10;
const STAR = 42;
const DOLLAR = 36;
/** The shortest argument of a multibulk request: `$0\r\n\r\n`. */
const MIN_ARG_BYTES = 6;
/** Returned by the parse steps when the buffer holds only part of a request. */
const INCOMPLETE = -1;
/** Returned by the parse steps after a protocol error has been reported. */
const FAILED = -2;

export class RequestParser {
  private readonly argv = new Argv();
  /** Chunks received but not yet parsable, and their total size. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Bytes the pending input must reach before a new attempt can make progress. */
  private needBytes = 0;
  private stopped = false;
  /** Asked to stop after the current command; the rest waits in `pending` for resume(). */
  private yielded = false;
  /** The value of the header line scanHeader() last read. */
  private headerValue = 0;
  /**
   * The client must still authenticate: requests are held to the
   * UNAUTHENTICATED_* limits. Set by the caller, between commands (a command
   * that authenticates lifts it before the next request is read).
   */
  authRequired = false;

  /**
   * @param inputReused the caller overwrites a chunk's memory once feed()
   *   returns (one read buffer shared by all connections): whatever the parser
   *   keeps for later (a partial request, the rest after a yield) it copies.
   */
  constructor(
    private readonly sink: ParserSink,
    private readonly limits: ParserLimits = DEFAULT_PARSER_LIMITS,
    private readonly inputReused = false,
  ) {}

  /** Stops parsing: the rest of the current chunk and later chunks are dropped (QUIT, errors, kills). */
  stop(): void {
    this.stopped = true;
    this.pending = [];
    this.pendingBytes = 0;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /**
   * Stops after the command being delivered; the bytes after it stay buffered
   * (input fed meanwhile is appended) until resume(). Lets the caller bound
   * the work one chunk of pipelined input costs.
   */
  yield(): void {
    this.yielded = true;
  }

  /** Whether input waits for resume(). */
  get isYielded(): boolean {
    return this.yielded;
  }

  /** Goes on with the buffered input after a yield (which may yield again). */
  resume(): void {
    if (!this.yielded) return;
    this.yielded = false;
    if (this.stopped || this.pendingBytes === 0) return;
    this.run(this.takePending(), true);
  }

  /** The buffered input as one buffer (concatenated once), and nothing buffered any more. */
  private takePending(): Buffer {
    const data = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    return data;
  }

  /** Bytes held that are not yet a complete command (reported as qbuf in CLIENT LIST). */
  get bufferedBytes(): number {
    return this.pendingBytes;
  }

  feed(chunk: Buffer): void {
    if (this.stopped || chunk.length === 0) return;
    if (this.pendingBytes > 0 || this.yielded) {
      // Waiting for a large bulk: keep the chunks and concatenate once, so a
      // 100 MB value arriving in 64 KB pieces costs O(n), not O(n^2).
      this.pending.push(this.inputReused ? Buffer.from(chunk) : chunk);
      this.pendingBytes += chunk.length;
      if (this.yielded || this.pendingBytes < this.needBytes) return this.checkQueryBuffer();
      this.run(this.takePending(), true);
      return;
    }
    this.run(chunk, !this.inputReused);
  }

  /** Parses data; `owned` says whether the parser may keep a view of it (else it copies what it keeps). */
  private run(data: Buffer, owned: boolean): void {
    let pos = 0;
    while (pos < data.length && !this.stopped && !this.yielded) {
      const next = data[pos] === STAR ? this.parseMultibulk(data, pos) : this.parseInline(data, pos);
      if (next === INCOMPLETE) break;
      if (next === FAILED) return;
      pos = next;
    }
    if (this.stopped || pos >= data.length) return;
    // A yield leaves complete requests behind: the next attempt must not wait for more bytes.
    if (this.yielded) this.needBytes = 0;
    const rest = !owned ? Buffer.from(data.subarray(pos)) : pos === 0 ? data : data.subarray(pos);
    this.pending = [rest];
    this.pendingBytes = rest.length;
    this.checkQueryBuffer();
  }

  private checkQueryBuffer(): void {
    if (this.pendingBytes > this.limits.maxQueryBuffer) this.fail('Protocol error: query buffer limit exceeded');
  }

  private fail(message: string): number {
    this.stop();
    this.sink.onProtocolError(message);
    return FAILED;
  }

  /**
   * Reads the decimal integer of a `*` or `$` header line starting after its type
   * byte at `from` and ending at the CR at `cr`, as Redis's string2ll reads it:
   * an optional minus, then no leading zero (`0` alone is the only one: `01`,
   * `00` and `-0` are not integers), at most 20 characters, within int64.
   * Returns NaN if it is not one. Off the hot path: scanHeader reads the
   * common lines.
   */
  private static headerInt(data: Buffer, from: number, cr: number): number {
    let i = from;
    const negative = data[i] === 45;
    if (negative) i++;
    const digits = cr - i;
    if (digits <= 0 || cr - from > 20) return NaN;
    if (data[i] === 48) return digits === 1 && !negative ? 0 : NaN;
    let n = 0;
    for (; i < cr; i++) {
      const d = data[i]! - 48;
      if (d < 0 || d > 9) return NaN;
      n = n * 10 + d;
    }
    // Past 15 digits a double is no longer exact: the int64 range is checked on the text (n only needs its size).
    if (digits > 15) {
      const exact = BigInt(data.toString('latin1', from, cr));
      if (exact > 9223372036854775807n || exact < -9223372036854775808n) return NaN;
    }
    return negative ? -n : n;
  }

  /**
   * The common header line, digits then CR with its LF present, read in one
   * pass: cheaper than a native Buffer#indexOf call, three of which a GET needs.
   * Returns the CR's position with the value in headerValue, or -1 for anything
   * else (a sign, a leading zero, no digits, more than 15, an incomplete
   * line), which the general path then handles.
   */
  private scanHeader(data: Buffer, from: number): number {
    const limit = Math.min(data.length - 1, from + 16);
    let n = 0;
    for (let i = from; i < limit; i++) {
      const d = data[i]! - 48;
      if (d >= 0 && d <= 9) n = n * 10 + d;
      else if (d === CR - 48 && i > from && (i === from + 1 || data[from] !== 48)) {
        // A leading zero (`01`, `00`) is left to headerInt, which refuses it.
        this.headerValue = n;
        return i;
      } else return -1;
    }
    return -1;
  }

  /**
   * Reads the header line whose type byte (`*` or `$`) is at `at`, in the
   * request that starts at `begin`: returns the CR's position with the value
   * (NaN if it is not an integer) in headerValue, or INCOMPLETE or FAILED.
   */
  private headerLine(data: Buffer, at: number, begin: number, tooBig: string): number {
    const cr = this.scanHeader(data, at + 1);
    return cr >= 0 ? cr : this.otherHeaderLine(data, at, begin, tooBig);
  }

  /** headerLine() for what scanHeader() leaves: kept apart so that the common path stays small. */
  private otherHeaderLine(data: Buffer, at: number, begin: number, tooBig: string): number {
    const found = data.indexOf(CR, at + 1);
    if (found < 0 || found + 1 >= data.length) return this.noLineYet(data, at, begin, tooBig);
    this.headerValue = RequestParser.headerInt(data, at + 1, found);
    // Redis looks for the CR with strchr, which stops at a NUL byte: a line with
    // one has no end yet (until the limit), not a bad number.
    if (Number.isNaN(this.headerValue) && data.subarray(at, found).indexOf(0) >= 0) return this.noLineYet(data, at, begin, tooBig);
    return found;
  }

  /** A header line (at `at`) without its CR yet: waits, or fails once more than the limit waits. */
  private noLineYet(data: Buffer, at: number, begin: number, tooBig: string): number {
    if (data.length - at > this.limits.maxInlineLength) return this.fail(tooBig);
    return this.wait(data.length - begin + 1);
  }

  /**
   * Where an argument's `$` belongs another byte: Redis complains only once
   * that line has its CR (and a byte after it), as it reads the line first.
   */
  private notBulk(data: Buffer, at: number, begin: number): number {
    const found = data.indexOf(CR, at);
    if (found < 0 || found + 1 >= data.length || data.subarray(at, found).indexOf(0) >= 0) {
      return this.noLineYet(data, at, begin, 'Protocol error: too big bulk count string');
    }
    return this.fail(`Protocol error: expected '$', got '${String.fromCharCode(data[at]!)}'`);
  }

  private parseMultibulk(data: Buffer, begin: number): number {
    const len = data.length;
    const cr = this.headerLine(data, begin, begin, 'Protocol error: too big mbulk count string');
    if (cr < 0) return cr;
    const count = this.headerValue;
    if (Number.isNaN(count) || count > this.limits.maxMultibulkLength) {
      return this.fail('Protocol error: invalid multibulk length');
    }
    if (count > UNAUTHENTICATED_MAX_MULTIBULK && this.authRequired) return this.fail('Protocol error: unauthenticated multibulk length');
    let pos = cr + 2;
    if (count <= 0) return pos; // `*0` and `*-1` are empty requests: skipped, as Redis does.
    const argv = this.argv;
    argv.reserve(Math.min(count, 1024));
    for (let i = 0; i < count; i++) {
      // Incomplete: the arguments still missing take MIN_ARG_BYTES each at least, so no
      // attempt before that many bytes have come can finish (a request of millions of
      // small arguments would otherwise be parsed again from its start at every chunk).
      if (pos >= len) return this.wait(pos - begin + MIN_ARG_BYTES * (count - i));
      if (data[pos] !== DOLLAR) return this.notBulk(data, pos, begin);
      const lcr = this.headerLine(data, pos, begin, 'Protocol error: too big bulk count string');
      if (lcr < 0) {
        if (lcr === INCOMPLETE) this.needBytes = Math.max(this.needBytes, pos - begin + MIN_ARG_BYTES * (count - i));
        return lcr;
      }
      const size = this.headerValue;
      if (Number.isNaN(size) || size < 0 || size > this.limits.maxBulkLength) {
        return this.fail('Protocol error: invalid bulk length');
      }
      if (size > UNAUTHENTICATED_MAX_BULK && this.authRequired) return this.fail('Protocol error: unauthenticated bulk length');
      const start = lcr + 2;
      const end = start + size;
      if (end + 2 > len) return this.wait(end + 2 - begin + MIN_ARG_BYTES * (count - i - 1));
      if (i >= argv.start.length) argv.reserve(i + 1);
      argv.start[i] = start;
      argv.end[i] = end;
      pos = end + 2;
    }
    argv.buf = data;
    argv.length = count;
    this.sink.onCommand(argv);
    return pos;
  }

  /** Records how many bytes, from the start of the incomplete request, are needed before parsing again. */
  private wait(needFromBegin: number): number {
    this.needBytes = needFromBegin;
    return INCOMPLETE;
  }

  /**
   * An inline request: one line, split as Redis's sdssplitargs. Redis checks
   * its 64 KB limit (PROTO_INLINE_MAX_SIZE) on what it holds without a
   * newline after each read, and reads 16 KB at a time: input without a
   * newline is refused once more than 64 KB of it are there, but a line of up
   * to about 80 KB that arrives at once runs (redis-server 7.0.15: a line of
   * 81,910 bytes ran, 81,911 were refused). The same here: refused once more
   * than the limit waits without a newline, and a line whose newline is within
   * the limit plus a quarter (80 KB: the read Redis would have checked at
   * before) runs, however the node's reads split it.
   */
  private parseInline(data: Buffer, begin: number): number {
    const max = this.limits.maxInlineLength;
    let nl = data.indexOf(LF, begin);
    // Redis finds the newline with strchr, which stops at a NUL byte: a line with
    // one never ends (until the limit), and the input behind it waits too.
    if (nl >= 0 && data.subarray(begin, nl).indexOf(0) >= 0) nl = -1;
    if (nl < 0) {
      if (data.length - begin > max) return this.fail('Protocol error: too big inline request');
      return this.wait(data.length - begin + 1);
    }
    if (nl - begin >= max + (max >> 2)) return this.fail('Protocol error: too big inline request');
    const lineEnd = nl > begin && data[nl - 1] === CR ? nl - 1 : nl;
    const args = splitInlineArgs(data.subarray(begin, lineEnd));
    if (args === null) return this.fail('Protocol error: unbalanced quotes in request');
    if (args.length > 0) {
      const parsed = Argv.of(args);
      this.argv.reserve(parsed.length);
      this.argv.buf = parsed.buf;
      this.argv.start.set(parsed.start.subarray(0, parsed.length));
      this.argv.end.set(parsed.end.subarray(0, parsed.length));
      this.argv.length = parsed.length;
      this.sink.onCommand(this.argv);
    }
    return nl + 1;
  }
}

const HEX = (c: number): number => {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
};

const ESCAPES: Record<string, number> = { n: 10, r: 13, t: 9, b: 8, a: 7 };

/** C's isspace in the C locale: space, \t \n \v \f \r. */
const isSpace = (c: number): boolean => c === 32 || (c >= 9 && c <= 13);

/**
 * Splits an inline request line as Redis's sdssplitargs does, byte for byte:
 * blanks (isspace) before an argument are skipped; inside one, only space,
 * \t, \n and \r end it (\v and \f are part of it). A quote anywhere in an
 * argument opens a quoted part that the argument goes on with (`a"b c"` is
 * `ab c`) and whose closing quote ends the argument: it must be followed by a
 * blank or the end of the line (`"a"b` and `a"b"c` are errors). "Double
 * quotes" honour \xHH, \n \r \t \b \a, and a backslash before any other
 * byte stands for that byte; 'single quotes' honour only \'. The line ends at
 * a NUL byte, as a C string. Returns null on unbalanced quotes.
 */
export function splitInlineArgs(line: Buffer): Buffer[] | null {
  const out: Buffer[] = [];
  const nul = line.indexOf(0);
  const n = nul >= 0 ? nul : line.length;
  /** The byte at k, 0 past the end (the C string's terminator). */
  const at = (k: number): number => (k < n ? line[k]! : 0);
  let i = 0;
  for (;;) {
    while (i < n && isSpace(line[i]!)) i++;
    if (i >= n) return out;
    const bytes: number[] = [];
    let inDouble = false;
    let inSingle = false;
    let done = false;
    while (!done) {
      const c = at(i);
      if (inDouble) {
        if (c === 92 && at(i + 1) === 120 && HEX(at(i + 2)) >= 0 && HEX(at(i + 3)) >= 0) {
          bytes.push(HEX(at(i + 2)) * 16 + HEX(at(i + 3)));
          i += 3;
        } else if (c === 92 && i + 1 < n) {
          i++;
          bytes.push(ESCAPES[String.fromCharCode(line[i]!)] ?? line[i]!);
        } else if (c === 34) {
          if (i + 1 < n && !isSpace(line[i + 1]!)) return null;
          done = true;
        } else if (i >= n) return null;
        else bytes.push(c);
      } else if (inSingle) {
        if (c === 92 && at(i + 1) === 39) {
          i++;
          bytes.push(39);
        } else if (c === 39) {
          if (i + 1 < n && !isSpace(line[i + 1]!)) return null;
          done = true;
        } else if (i >= n) return null;
        else bytes.push(c);
      } else if (i >= n || c === 32 || c === 10 || c === 13 || c === 9) done = true;
      else if (c === 34) inDouble = true;
      else if (c === 39) inSingle = true;
      else bytes.push(c);
      if (i < n) i++;
    }
    out.push(Buffer.from(bytes));
  }
}
