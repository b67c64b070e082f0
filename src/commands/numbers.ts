/**
 * Strict number parsing and formatting with Redis's rules: integers are signed
 * 64-bit with no sign prefix, blanks or leading zeros ("01", "+1", " 1" are not
 * integers); floats follow strtold and are computed in long double, as
 * INCRBYFLOAT does. Integers beyond 2^53 are returned as bigint so that 64-bit
 * counters stay exact.
 */
import type { Argv } from '../protocol/argv.js';
import { writeSafeInteger } from '../protocol/writer.js';
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

/**
 * Writes an int64 in decimal at buf[at] (21 bytes of room); returns the byte
 * count. Digit by digit for safe integers: no string per counter update.
 */
export function writeInt64(n: number | bigint, buf: Buffer, at: number): number {
  if (typeof n === 'bigint' || !Number.isSafeInteger(n)) return buf.latin1Write(String(n), at);
  return writeSafeInteger(buf, at, n) - at;
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

/** The argument as an int64 in a JS number: exact up to 2^53, the nearest double beyond (indices, counts). */
export function argNumber(argv: Argv, i: number, error: string = Errors.notInteger): number {
  return Number(argInt(argv, i, error));
}

/**
 * n * scale + base (an expiry time in ms) with Redis's int64 checks: null where
 * n * scale or the sum leaves int64, which Redis answers "invalid expire time".
 * Exact up to 2^53 ms (year 287396); beyond, the nearest double.
 */
export function expiryMs(n: number | bigint, scale: 1 | 1000, base: number): number | null {
  if (typeof n === 'number') {
    const at = n * scale + base;
    if (Number.isSafeInteger(at)) return at;
  }
  const scaled = BigInt(n) * BigInt(scale);
  const at = scaled + BigInt(base);
  if (scaled > INT64_MAX || scaled < INT64_MIN || at > INT64_MAX || at < INT64_MIN) return null;
  return Number(at);
}

const UINT64_MAX = (1n << 64n) - 1n;

/**
 * Parses a SCAN cursor as Redis does, with strtoul: a sign, leading zeros and
 * "" (0) are accepted, a negative wraps around; null for blanks, trailing bytes
 * or more than 64 bits.
 */
export function parseCursor(text: string): bigint | null {
  const m = /^([+-]?)(\d+)$/.exec(text);
  if (m === null) return text === '' ? 0n : null;
  const n = BigInt(m[2]!);
  if (n > UINT64_MAX) return null;
  return m[1] === '-' ? (UINT64_MAX + 1n - n) & UINT64_MAX : n;
}

/*
 * INCRBYFLOAT computes in C's long double, which on x86-64 is the x87 80-bit
 * format (64-bit significand), and prints with "%.17Lf". Doubles would print
 * 0.1 + 0.2 as 0.30000000000000004 where Redis prints 0.3, and overflow where
 * Redis does not, so the format is emulated exactly with bigints.
 */

/** A finite long double: mant * 2^exp, with |mant| < 2^64. */
export interface LongDouble {
  readonly mant: bigint;
  readonly exp: number;
}

const MANT_BITS = 64;
/** The exponent of the smallest subnormal, 2^-16445. */
const MIN_EXP = -16445;
/** Values from 2^16384 up overflow. */
const MAX_EXP = 16384;
/** Redis's MAX_LONG_DOUBLE_CHARS: longer text is not a float. */
const MAX_FLOAT_CHARS = 5 * 1024;
/** Decimal magnitudes beyond which a literal surely overflows or underflows (LDBL_MAX ~ 1.19e4932, smallest subnormal ~ 3.6e-4951). */
const MAX_DECIMAL_MAGNITUDE = 4934;
const MIN_DECIMAL_MAGNITUDE = -4952;

export const LD_ZERO: LongDouble = { mant: 0n, exp: 0 };

const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;
const HEX = /^([+-]?)0[xX]([\da-fA-F]*)(?:\.([\da-fA-F]*))?(?:[pP]([+-]?\d+))?$/;
const INFINITY = /^([+-]?)inf(?:inity)?$/i;

const bitLength = (n: bigint): number => (n === 0n ? 0 : n.toString(2).length);

/** num / den rounded to the nearest integer, ties to even (num >= 0, den > 0). */
function divRound(num: bigint, den: bigint): bigint {
  const q = num / den;
  const twice = (num - q * den) * 2n;
  return twice > den || (twice === den && (q & 1n) === 1n) ? q + 1n : q;
}

/** The long double nearest to num / den * 2^exp2 (num >= 0, den > 0); null past the largest one. */
function roundLongDouble(negative: boolean, num: bigint, den: bigint, exp2: number): LongDouble | null {
  if (num === 0n) return LD_ZERO;
  // num / den is within a factor of 2 of 2^(bits of num - bits of den), so q starts in [2^63, 2^65).
  let e = Math.max(bitLength(num) - bitLength(den) + exp2 - MANT_BITS, MIN_EXP);
  for (;;) {
    const shift = exp2 - e;
    const q = shift >= 0 ? divRound(num << BigInt(shift), den) : divRound(num, den << BigInt(-shift));
    if (q >> BigInt(MANT_BITS) !== 0n) {
      e++;
      continue;
    }
    if (e > MAX_EXP - MANT_BITS) return null;
    return { mant: negative ? -q : q, exp: e };
  }
}

/**
 * Parses text as Redis's string2ld does (strtold, then rejecting blanks, trailing
 * bytes, NaN, overflow and underflow to zero). Infinity is a valid float: it is
 * returned as the number Infinity or -Infinity. Null for anything else.
 */
export function parseLongDouble(text: string): LongDouble | number | null {
  if (text.length === 0 || text.length >= MAX_FLOAT_CHARS) return null;
  const inf = INFINITY.exec(text);
  if (inf) return inf[1] === '-' ? -Infinity : Infinity;
  const hex = HEX.exec(text);
  if (hex) return parseDigits(hex[1] === '-', hex[2]!, hex[3] ?? '', hex[4], 16);
  const dec = DECIMAL.exec(text);
  if (dec) return parseDigits(dec[1] === '-', dec[2]!, dec[3] ?? '', dec[4], 10);
  return null;
}

/** The value of int.frac times 10^exp (decimal) or 2^exp (hex); null on overflow or underflow to zero. */
function parseDigits(negative: boolean, int: string, frac: string, exp: string | undefined, radix: 10 | 16): LongDouble | null {
  if (int.length + frac.length === 0) return null;
  const digits = (int + frac).replace(/^0+/, '');
  if (digits === '') return LD_ZERO;
  const mant = BigInt(radix === 16 ? `0x${digits}` : digits);
  if (radix === 16) {
    const exp2 = Number(exp ?? 0) - 4 * frac.length;
    const bits = bitLength(mant) + exp2;
    if (bits > MAX_EXP + 1 || bits < MIN_EXP - 1) return null;
    return nonZero(roundLongDouble(negative, mant, 1n, exp2));
  }
  const exp10 = Number(exp ?? 0) - frac.length;
  const magnitude = digits.length + exp10;
  if (magnitude > MAX_DECIMAL_MAGNITUDE || magnitude < MIN_DECIMAL_MAGNITUDE) return null;
  const scale = 10n ** BigInt(Math.abs(exp10));
  return nonZero(exp10 >= 0 ? roundLongDouble(negative, mant * scale, 1n, 0) : roundLongDouble(negative, mant, scale, 0));
}

/** A non-zero literal that rounds to zero underflowed: strtold's ERANGE, which Redis rejects. */
const nonZero = (x: LongDouble | null): LongDouble | null => (x === null || x.mant === 0n ? null : x);

/** a + b in long double; null when the sum is infinite or NaN (either operand infinite, or overflow). */
export function addLongDouble(a: LongDouble | number, b: LongDouble | number): LongDouble | null {
  if (typeof a === 'number' || typeof b === 'number') return null;
  const e = Math.min(a.exp, b.exp);
  const sum = (a.mant << BigInt(a.exp - e)) + (b.mant << BigInt(b.exp - e));
  return roundLongDouble(sum < 0n, sum < 0n ? -sum : sum, 1n, e);
}

/** Formats as Redis stores INCRBYFLOAT results: "%.17Lf", trailing zeros and point removed, "-0" as "0". */
export function formatLongDouble(x: LongDouble): string {
  const negative = x.mant < 0n;
  const mant = negative ? -x.mant : x.mant;
  const scale = 10n ** 17n;
  const scaled = x.exp >= 0 ? (mant << BigInt(x.exp)) * scale : divRound(mant * scale, 1n << BigInt(-x.exp));
  const digits = scaled.toString().padStart(18, '0');
  const frac = digits.slice(-17).replace(/0+$/, '');
  const text = frac === '' ? digits.slice(0, -17) : `${digits.slice(0, -17)}.${frac}`;
  return negative && text !== '0' ? `-${text}` : text;
}

/** The exact long double of a finite double. */
function fromDouble(d: number): LongDouble {
  if (!Number.isFinite(d)) throw new RangeError(`not a finite number: ${d}`);
  let exp = 0;
  let m = Math.abs(d);
  while (!Number.isInteger(m)) {
    m *= 2;
    exp--;
  }
  return roundLongDouble(d < 0, BigInt(m), 1n, exp)!;
}

/** Parses text with strtold's grammar (as INCRBYFLOAT) into the nearest double; null if it is not a float. */
export function parseFloatStrict(text: string): number | null {
  const x = parseLongDouble(text);
  if (x === null || typeof x === 'number') return x;
  return Number(x.mant) * 2 ** x.exp;
}

/** Formats a double as INCRBYFLOAT would store it ("%.17Lf", trimmed): plain decimals, no exponent. */
export function formatFloat(d: number): string {
  return formatLongDouble(fromDouble(d));
}

/*
 * Sorted-set scores are C doubles: parsed with strtod, printed with "%.17g"
 * (Redis 7.0's addReplyDouble; 7.2 moved to the shortest form).
 */

const DECIMAL_DOUBLE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const HEX_DOUBLE = /^[+-]?0[xX]/;
const INFINITY_WORD = /^([+-]?)inf(?:inity)?$/i;
/** What strtod skips before a number (isspace). */
const LEADING_SPACE = /^[ \t\n\v\f\r]+/;

/**
 * Parses a whole string as strtod does (null when bytes are left over or it
 * is NaN). `strict` is Redis's getDoubleFromObject (ZADD, ZINCRBY, WEIGHTS):
 * no leading space, and no overflow to infinity or underflow to zero.
 * Otherwise as zslParseRange reads range ends: leading spaces and overflow allowed.
 */
export function parseDouble(text: string, strict: boolean): number | null {
  if (!strict) text = text.replace(LEADING_SPACE, '');
  const inf = INFINITY_WORD.exec(text);
  if (inf) return inf[1] === '-' ? -Infinity : Infinity;
  let d: number;
  if (DECIMAL_DOUBLE.test(text)) d = Number(text);
  else if (HEX_DOUBLE.test(text)) {
    const x = parseFloatStrict(text);
    if (x === null) return null;
    d = x;
  } else return null;
  if (strict) {
    if (!Number.isFinite(d)) return null;
    // Underflow to zero: digits other than zeros before the exponent.
    if (d === 0 && /[1-9]/.test(text.replace(/[eEpP].*$/, '').replace(/^[+-]?0[xX]/, ''))) return null;
  }
  return d;
}

/** A score as Redis 7.0 prints it: C's "%.17g" ("inf", "-inf"; 0.1 is 0.10000000000000001). */
export function formatScore(d: number): string {
  if (d === Infinity) return 'inf';
  if (d === -Infinity) return '-inf';
  if (Number.isNaN(d)) return 'nan';
  if (d === 0) return Object.is(d, -0) ? '-0' : '0';
  const [mantissa, expText] = d.toExponential(16).split('e') as [string, string];
  const exp = Number(expText);
  if (exp < -4 || exp >= 17) {
    const m = mantissa.includes('.') ? mantissa.replace(/0+$/, '').replace(/\.$/, '') : mantissa;
    const e = Math.abs(exp);
    return `${m}e${exp < 0 ? '-' : '+'}${e < 10 ? '0' : ''}${e}`;
  }
  const fixed = d.toFixed(16 - exp);
  return fixed.includes('.') ? fixed.replace(/0+$/, '').replace(/\.$/, '') : fixed;
}
