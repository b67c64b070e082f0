/**
 * The arguments of one parsed command, as offsets into a buffer the parser owns.
 *
 * Why offsets and not one Buffer per argument: allocating a Buffer (or a string)
 * per argument is the largest avoidable cost per command in Node. Handlers read
 * what they need (a key as a latin1 string, a value copied once into the store)
 * and nothing else is allocated. An Argv is only valid during the handler call:
 * the parser reuses it and its buffer for the next command.
 */
const EMPTY = Buffer.alloc(0);

/**
 * Copies n bytes. Below 64 bytes a plain loop beats Buffer#copy, whose setup
 * costs more than the copy itself: most keys and cache values are that small.
 */
export function copyBytes(src: Uint8Array, from: number, dst: Uint8Array, to: number, n: number): void {
  if (n < 64) for (let i = 0; i < n; i++) dst[to + i] = src[from + i]!;
  else dst.set(src.subarray(from, from + n), to);
}

export class Argv {
  buf: Buffer = EMPTY;
  start: Int32Array = new Int32Array(16);
  end: Int32Array = new Int32Array(16);
  length = 0;

  /** Makes room for n arguments (the arrays only ever grow). */
  reserve(n: number): void {
    if (n <= this.start.length) return;
    let size = this.start.length;
    while (size < n) size *= 2;
    const start = new Int32Array(size);
    const end = new Int32Array(size);
    start.set(this.start);
    end.set(this.end);
    this.start = start;
    this.end = end;
  }

  /** Builds an Argv from plain values (tests, internal callers, inline commands). */
  static of(args: ReadonlyArray<string | Buffer>): Argv {
    const parts = args.map((a) => (typeof a === 'string' ? Buffer.from(a) : a));
    const argv = new Argv();
    argv.reserve(parts.length);
    argv.buf = Buffer.concat(parts);
    let pos = 0;
    parts.forEach((p, i) => {
      argv.start[i] = pos;
      pos += p.length;
      argv.end[i] = pos;
    });
    argv.length = parts.length;
    return argv;
  }

  len(i: number): number {
    return this.end[i]! - this.start[i]!;
  }

  /** The argument's bytes as a "binary string" (one char per byte): how keys are named in the store. */
  str(i: number): string {
    return this.buf.latin1Slice(this.start[i]!, this.end[i]!);
  }

  /** The argument decoded as UTF-8, for human text such as client names and config values. */
  utf8(i: number): string {
    return this.buf.utf8Slice(this.start[i]!, this.end[i]!);
  }

  /** A view of the argument's bytes; valid only during the handler call. */
  view(i: number): Buffer {
    return this.buf.subarray(this.start[i]!, this.end[i]!);
  }

  /** A copy of the argument's bytes that the caller may keep. */
  copy(i: number): Buffer {
    const s = this.start[i]!;
    const n = this.end[i]! - s;
    const out = Buffer.allocUnsafe(n);
    copyBytes(this.buf, s, out, 0, n);
    return out;
  }

  /** Case-insensitive ASCII comparison with a lower-case word, without allocating. */
  is(i: number, lowerWord: string): boolean {
    const s = this.start[i]!;
    if (this.end[i]! - s !== lowerWord.length) return false;
    const b = this.buf;
    for (let k = 0; k < lowerWord.length; k++) {
      let c = b[s + k]!;
      if (c >= 65 && c <= 90) c |= 0x20;
      if (c !== lowerWord.charCodeAt(k)) return false;
    }
    return true;
  }

  /** All arguments as strings (slow path: errors, logging, CLIENT LIST). */
  toStrings(from = 0): string[] {
    const out: string[] = [];
    for (let i = from; i < this.length; i++) out.push(this.utf8(i));
    return out;
  }
}

// Buffer's native slice/write methods skip toString's encoding dispatch. They are
// present on every Buffer in Node 20+, but @types/node does not declare them.
declare global {
  interface Buffer {
    latin1Slice(start: number, end: number): string;
    utf8Slice(start: number, end: number): string;
    latin1Write(s: string, offset: number, length?: number): number;
  }
}
