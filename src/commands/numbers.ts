/**
 * Strict number parsing and formatting with Redis's rules: integers are signed
 * 64-bit with no sign prefix, blanks or leading zeros ("01", "+1", " 1" are not
 * integers); floats reject blanks and trailing bytes. Integers beyond 2^53 are
 * returned as bigint so that 64-bit counters stay exact.
 */
import type { Argv } from '../protocol/argv.js';
import { CommandError, Errors } from './errors.js';

export const INT64_MAX = 9223372036854775807n;
export const INT64_MIN = -9223372036854775808n;

/** Parses bytes [start, end) of buf as an int64; null if they are not one. */
export function parseInt64(buf: Buffer, start: number, end: number): number | bigint | null {
  const len = end - start;
  if (len === 0 || len > 20) return null;
  let i = start;
  const negative = buf[i] === 45;
  if (negative) i++;
  if (i === end) return null;
  const first = buf[i]!;
  if (first === 48) return i + 1 === end && !negative ? 0 : null; // "0" only; no "-0", no "01"
  if (first < 49 || first > 57) return null;
  if (end - i <= 15) {
    let n = 0;
    for (; i < end; i++) {
      const d = buf[i]! - 48;
      if (d < 0 || d > 9) return null;
      n = n * 10 + d;
    }
    return negative ? -n : n;
  }
  for (let k = i; k < end; k++) if (buf[k]! < 48 || buf[k]! > 57) return null;
  const big = BigInt(buf.latin1Slice(start, end));
  if (big > INT64_MAX || big < INT64_MIN) return null;
  return Number.isSafeInteger(Number(big)) ? Number(big) : big;
}

/** The argument as an int64, or throws the Redis error for a non-integer. */
export function argInt(argv: Argv, i: number, error: string = Errors.notInteger): number | bigint {
  const n = parseInt64(argv.buf, argv.start[i]!, argv.end[i]!);
  if (n === null) throw new CommandError(error);
  return n;
}

/** The argument as a safe integer (counts, offsets, times), or throws. */
export function argSafeInt(argv: Argv, i: number, error: string = Errors.notInteger): number {
  const n = argInt(argv, i, error);
  if (typeof n === 'bigint') throw new CommandError(error);
  return n;
}

const FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INFINITY = /^[+-]?inf(?:inity)?$/i;

/** Parses text as a float with strtod's grammar (inf allowed, blanks not); null if invalid. */
export function parseFloatStrict(text: string): number | null {
  if (FLOAT.test(text)) return Number(text);
  if (INFINITY.test(text)) return text.startsWith('-') ? -Infinity : Infinity;
  return null;
}

/** Adds two int64 values; null on overflow. */
export function addInt64(a: number | bigint, b: number | bigint): number | bigint | null {
  if (typeof a === 'number' && typeof b === 'number') {
    const r = a + b;
    if (Number.isSafeInteger(r)) return r;
  }
  const r = BigInt(a) + BigInt(b);
  if (r > INT64_MAX || r < INT64_MIN) return null;
  return Number.isSafeInteger(Number(r)) ? Number(r) : r;
}

/**
 * Formats a float as INCRBYFLOAT stores it: plain decimal notation, no exponent,
 * no trailing zeros (Redis uses "%.17Lf" and trims; JS's shortest round-trip
 * digits give the same text for doubles).
 */
export function formatFloat(d: number): string {
  const s = String(d);
  if (!/e/i.test(s)) return s === '-0' ? '0' : s;
  const fixed = Math.abs(d) >= 1 ? BigInt(Math.round(d)).toString() : d.toFixed(20).replace(/\.?0+$/, '');
  return fixed === '-0' ? '0' : fixed;
}
