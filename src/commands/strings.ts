/** String and counter commands: GET, SET and friends, MGET/MSET, INCR..., APPEND, ranges. */
import type { Argv } from '../protocol/argv.js';
import { OK, ONE, ZERO } from '../protocol/writer.js';
import { KEEP_TTL, NO_EXPIRY, WrongTypeError, type EncodingHint, type Key, type ValueSink } from '../store/keyspace.js';
import type { CommandContext } from './context.js';
import { CommandError, Errors } from './errors.js';
import { addInt64, addLongDouble, argInt, argNumber, expiryMs, formatLongDouble, LD_ZERO, parseInt64, parseLongDouble, writeInt64 } from './numbers.js';
import { command, type CommandSpec } from './table.js';

/** Largest string value, as Redis's proto-max-bulk-len default. */
export const MAX_STRING = 512 * 1024 * 1024;

/**
 * The encoding OBJECT ENCODING reports for a stored value. Values that do not
 * come from a client's argument carry a hint from the command that built them
 * (APPEND and SETRANGE build "raw" strings whatever their content, INCRBYFLOAT
 * stores text that is never "int"); any other value is encoded by its content,
 * as Redis's tryObjectEncoding does.
 */
export function stringEncoding(v: Buffer, hint: EncodingHint): 'int' | 'embstr' | 'raw' {
  if (hint === 'raw') return 'raw';
  if (hint === undefined && v.length <= 20 && parseInt64(v, 0, v.length) !== null) return 'int';
  return v.length <= 44 ? 'embstr' : 'raw';
}

/** Stores a value with an absolute expiry; an expiry already past deletes the key instead. */
function store(ctx: CommandContext, key: Key, value: Uint8Array, expireAt: number): void {
  if (expireAt !== NO_EXPIRY && expireAt !== KEEP_TTL && expireAt <= ctx.clock.now()) ctx.store.delete(key);
  else ctx.store.set(key, value, expireAt);
}

type ExpiryUnit = 'ex' | 'px' | 'exat' | 'pxat';

/** An expiry value as an absolute time in ms, with Redis's checks (getExpireMillisecondsOrReply). */
function expiryAt(ctx: CommandContext, argv: Argv, i: number, unit: ExpiryUnit, cmd: string): number {
  const n = argInt(argv, i);
  const seconds = unit === 'ex' || unit === 'exat';
  const relative = unit === 'ex' || unit === 'px';
  const at = n <= 0 ? null : expiryMs(n, seconds ? 1000 : 1, relative ? ctx.clock.now() : 0);
  if (at === null) throw new CommandError(Errors.invalidExpire(cmd));
  return at;
}

const EXPIRY_WORDS: readonly ExpiryUnit[] = ['ex', 'px', 'exat', 'pxat'];

function expiryWord(argv: Argv, i: number): ExpiryUnit | undefined {
  for (const w of EXPIRY_WORDS) if (argv.is(i, w)) return w;
  return undefined;
}

interface StringOptions {
  nx: boolean;
  xx: boolean;
  get: boolean;
  keepTtl: boolean;
  persist: boolean;
  /** The expiry option, and the position of its value (the last one given counts). */
  unit?: ExpiryUnit;
  unitArg: number;
}

/**
 * SET's (forSet) or GETEX's options, parsed as Redis's parseExtendedStringArgumentsOrReply:
 * an option may repeat, conflicting ones are a syntax error, and the expiry
 * value is checked only after all options, by the caller.
 */
function parseOptions(argv: Argv, from: number, forSet: boolean): StringOptions {
  const o: StringOptions = { nx: false, xx: false, get: false, keepTtl: false, persist: false, unitArg: 0 };
  for (let i = from; i < argv.length; i++) {
    const unit = expiryWord(argv, i);
    if (forSet && argv.is(i, 'nx') && !o.xx) o.nx = true;
    else if (forSet && argv.is(i, 'xx') && !o.nx) o.xx = true;
    else if (forSet && argv.is(i, 'get')) o.get = true;
    else if (forSet && argv.is(i, 'keepttl') && o.unit === undefined) o.keepTtl = true;
    else if (!forSet && argv.is(i, 'persist') && o.unit === undefined) o.persist = true;
    else if (unit !== undefined && (o.unit ?? unit) === unit && !o.keepTtl && !o.persist && i + 1 < argv.length) {
      o.unit = unit;
      o.unitArg = ++i;
    } else throw new CommandError(Errors.syntax);
  }
  return o;
}

function set(ctx: CommandContext, argv: Argv): void {
  if (argv.length === 3) {
    // The common SET: no options to parse, and the key goes to the store as bytes.
    ctx.store.setBytes(argv.buf, argv.start[1]!, argv.end[1]!, argv.buf, argv.start[2]!, argv.end[2]!, NO_EXPIRY);
    return ctx.out.raw(OK);
  }
  const o = parseOptions(argv, 3, true);
  const expireAt = o.unit !== undefined ? expiryAt(ctx, argv, o.unitArg, o.unit, 'set') : o.keepTtl ? KEEP_TTL : NO_EXPIRY;
  const key = argv.str(1);
  // SET overwrites a key of any type; only GET needs the old value to be a string (WRONGTYPE otherwise).
  const old = o.get ? ctx.store.peek(key) : undefined;
  const present = o.get ? old !== undefined : o.nx || o.xx ? ctx.store.exists(key) : false;
  if (o.get) {
    if (old === undefined) ctx.out.nullBulk();
    else ctx.out.bulk(old);
  }
  if ((o.nx && present) || (o.xx && !present)) {
    if (!o.get) ctx.out.nullBulk();
    return;
  }
  store(ctx, key, argv.view(2), expireAt);
  if (!o.get) ctx.out.raw(OK);
}

function get(ctx: CommandContext, argv: Argv): void {
  if (!ctx.store.getIntoBytes(argv.buf, argv.start[1]!, argv.end[1]!, ctx.out)) ctx.out.nullBulk();
}

function setnx(ctx: CommandContext, argv: Argv): void {
  const key = argv.str(1);
  if (ctx.store.exists(key)) return ctx.out.raw(ZERO);
  ctx.store.set(key, argv.view(2), NO_EXPIRY);
  ctx.out.raw(ONE);
}

function setexWith(unit: 'ex' | 'px', name: string) {
  return (ctx: CommandContext, argv: Argv): void => {
    const at = expiryAt(ctx, argv, 2, unit, name);
    ctx.store.set(argv.str(1), argv.view(3), at);
    ctx.out.raw(OK);
  };
}

function getset(ctx: CommandContext, argv: Argv): void {
  const key = argv.str(1);
  const old = ctx.store.get(key);
  if (old === undefined) ctx.out.nullBulk();
  else ctx.out.bulk(old);
  ctx.store.set(key, argv.view(2), NO_EXPIRY);
}

function getdel(ctx: CommandContext, argv: Argv): void {
  const key = argv.str(1);
  const v = ctx.store.get(key);
  if (v === undefined) return ctx.out.nullBulk();
  ctx.out.bulk(v);
  ctx.store.delete(key);
}

function getex(ctx: CommandContext, argv: Argv): void {
  const o = parseOptions(argv, 2, false);
  const key = argv.str(1);
  const v = ctx.store.get(key);
  if (v === undefined) return ctx.out.nullBulk();
  // As Redis: the expiry value is checked only once the key is found.
  const at = o.unit !== undefined ? expiryAt(ctx, argv, o.unitArg, o.unit, 'getex') : undefined;
  ctx.out.bulk(v);
  if (o.persist) ctx.store.setExpireAt(key, NO_EXPIRY);
  else if (at !== undefined) ctx.store.setExpireAt(key, at);
}

/** Before a command over several keys (arguments 1, 1 + step, ...): the store loads them all first (Keyspace.prefetchBytes). */
export function prefetchKeys(ctx: CommandContext, argv: Argv, step: 1 | 2): void {
  if (argv.length > 1 + step) ctx.store.prefetchBytes(argv.buf, argv.start, argv.end, 1, argv.length, step);
}

function mget(ctx: CommandContext, argv: Argv): void {
  prefetchKeys(ctx, argv, 1);
  ctx.out.array(argv.length - 1);
  for (let i = 1; i < argv.length; i++) {
    let found: boolean;
    try {
      found = ctx.store.getIntoBytes(argv.buf, argv.start[i]!, argv.end[i]!, ctx.out);
    } catch (err) {
      // MGET answers nil for a key of another type, as Redis does.
      if (!(err instanceof WrongTypeError)) throw err;
      found = false;
    }
    if (!found) ctx.out.nullBulk();
  }
}

function checkPairs(argv: Argv, name: string): void {
  if (argv.length % 2 === 0) throw new CommandError(Errors.wrongArity(name));
}

function mset(ctx: CommandContext, argv: Argv): void {
  checkPairs(argv, 'mset');
  prefetchKeys(ctx, argv, 2);
  for (let i = 1; i < argv.length; i += 2) ctx.store.setBytes(argv.buf, argv.start[i]!, argv.end[i]!, argv.buf, argv.start[i + 1]!, argv.end[i + 1]!, NO_EXPIRY);
  ctx.out.raw(OK);
}

function msetnx(ctx: CommandContext, argv: Argv): void {
  checkPairs(argv, 'msetnx');
  prefetchKeys(ctx, argv, 2);
  for (let i = 1; i < argv.length; i += 2) if (ctx.store.exists(argv.str(i))) return ctx.out.raw(ZERO);
  for (let i = 1; i < argv.length; i += 2) ctx.store.set(argv.str(i), argv.view(i + 1), NO_EXPIRY);
  ctx.out.raw(ONE);
}

/** Reads a counter straight from the store's bytes: a ValueSink, so no Buffer is made for the old value. */
class CounterReader implements ValueSink {
  value: number | bigint | null = 0;
  bulk(src: Buffer, start: number, end: number): void {
    this.value = parseInt64(src, start, end);
  }
}
const counter = new CounterReader();
/** Where a counter's new digits are written before the store copies them. */
const counterDigits = Buffer.alloc(24);

/** Adds delta to the integer stored at argument 1 (0 if missing), keeping its TTL. */
function incrementBy(ctx: CommandContext, argv: Argv, delta: number | bigint): void {
  const ks = argv.start[1]!;
  const ke = argv.end[1]!;
  counter.value = 0;
  ctx.store.peekIntoBytes(argv.buf, ks, ke, counter);
  const current = counter.value;
  if (current === null) throw new CommandError(Errors.notInteger);
  const next = addInt64(current, delta);
  if (next === null) throw new CommandError(Errors.overflow);
  ctx.store.setBytes(argv.buf, ks, ke, counterDigits, 0, writeInt64(next, counterDigits, 0), KEEP_TTL);
  ctx.out.integer(next);
}

function negate(n: number | bigint): number | bigint {
  if (n === -9223372036854775808n) throw new CommandError('ERR decrement would overflow');
  return typeof n === 'bigint' ? -n : -n;
}

function incrbyfloat(ctx: CommandContext, argv: Argv): void {
  const key = argv.str(1);
  const old = ctx.store.peek(key);
  const current = old === undefined ? LD_ZERO : parseLongDouble(old.latin1Slice(0, old.length));
  const delta = parseLongDouble(argv.str(2));
  if (current === null || delta === null) throw new CommandError(Errors.notFloat);
  const next = addLongDouble(current, delta);
  if (next === null) throw new CommandError(Errors.nanOrInfinity);
  const text = Buffer.from(formatLongDouble(next), 'latin1');
  ctx.store.set(key, text, KEEP_TTL, 'string');
  ctx.out.bulk(text);
}

function append(ctx: CommandContext, argv: Argv): void {
  const key = argv.str(1);
  const old = ctx.store.peek(key);
  const add = argv.len(2);
  if (old === undefined) {
    ctx.store.set(key, argv.view(2), NO_EXPIRY);
    return ctx.out.integer(add);
  }
  if (old.length + add > MAX_STRING) throw new CommandError(Errors.stringTooLong);
  const next = Buffer.allocUnsafe(old.length + add);
  old.copy(next, 0);
  argv.buf.copy(next, old.length, argv.start[2]!, argv.end[2]!);
  ctx.store.set(key, next, KEEP_TTL, 'raw');
  ctx.out.integer(next.length);
}

function strlen(ctx: CommandContext, argv: Argv): void {
  ctx.out.integer(ctx.store.peek(argv.str(1))?.length ?? 0);
}

function getrange(ctx: CommandContext, argv: Argv): void {
  // Any int64 is a valid index: compared exactly here, then as doubles, which
  // beyond 2^53 are far outside any string and clamp as the exact values would.
  const first = argInt(argv, 2);
  const last = argInt(argv, 3);
  const v = ctx.store.get(argv.str(1)) ?? Buffer.alloc(0);
  const len = v.length;
  if (first < 0 && last < 0 && first > last) return ctx.out.bulk(v, 0, 0);
  let start = Number(first);
  let end = Number(last);
  if (start < 0) start = len + start;
  if (end < 0) end = len + end;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= len) end = len - 1;
  if (start > end || len === 0) return ctx.out.bulk(v, 0, 0);
  ctx.out.bulk(v, start, end + 1);
}

function setrange(ctx: CommandContext, argv: Argv): void {
  const offset = argNumber(argv, 2);
  if (offset < 0) throw new CommandError(Errors.offsetRange);
  const key = argv.str(1);
  const old = ctx.store.peek(key);
  const add = argv.len(3);
  if (add === 0) return ctx.out.integer(old?.length ?? 0);
  if (offset + add > MAX_STRING) throw new CommandError(Errors.stringTooLong);
  const oldLen = old?.length ?? 0;
  const next = Buffer.alloc(Math.max(oldLen, offset + add));
  old?.copy(next, 0);
  argv.buf.copy(next, offset, argv.start[3]!, argv.end[3]!);
  ctx.store.set(key, next, old === undefined ? NO_EXPIRY : KEEP_TTL, 'raw');
  ctx.out.integer(next.length);
}

const key1 = { firstKey: 1, lastKey: 1, keyStep: 1 } as const;
const group = 'string';

export const stringCommands: CommandSpec[] = [
  command({ name: 'get', arity: 2, flags: ['readonly', 'fast'], ...key1, group, summary: 'Returns the string value of a key.', handler: get }),
  command({ name: 'set', arity: -3, flags: ['write', 'denyoom'], ...key1, group, summary: 'Sets the string value of a key, ignoring its type. The key is created if it does not exist.', handler: set }),
  command({ name: 'setnx', arity: 3, flags: ['write', 'denyoom', 'fast'], ...key1, group, summary: 'Set the string value of a key only when the key does not exist.', handler: setnx }),
  command({ name: 'setex', arity: 4, flags: ['write', 'denyoom'], ...key1, group, summary: 'Sets the string value and expiration time of a key.', since: '2.0.0', handler: setexWith('ex', 'setex') }),
  command({ name: 'psetex', arity: 4, flags: ['write', 'denyoom'], ...key1, group, summary: 'Sets both string value and expiration time in milliseconds of a key.', since: '2.6.0', handler: setexWith('px', 'psetex') }),
  command({ name: 'getset', arity: 3, flags: ['write', 'denyoom', 'fast'], ...key1, group, summary: 'Returns the previous string value of a key after setting it to a new value.', handler: getset }),
  command({ name: 'getdel', arity: 2, flags: ['write', 'fast'], ...key1, group, summary: 'Returns the string value of a key after deleting the key.', since: '6.2.0', handler: getdel }),
  command({ name: 'getex', arity: -2, flags: ['write', 'fast'], ...key1, group, summary: 'Returns the string value of a key after setting its expiration time.', since: '6.2.0', handler: getex }),
  command({ name: 'mget', arity: -2, flags: ['readonly', 'fast'], firstKey: 1, lastKey: -1, keyStep: 1, group, summary: 'Atomically returns the string values of one or more keys.', handler: mget }),
  command({ name: 'mset', arity: -3, flags: ['write', 'denyoom'], firstKey: 1, lastKey: -1, keyStep: 2, group, summary: 'Atomically creates or modifies the string values of one or more keys.', since: '1.0.1', handler: mset }),
  command({ name: 'msetnx', arity: -3, flags: ['write', 'denyoom'], firstKey: 1, lastKey: -1, keyStep: 2, group, summary: 'Atomically modifies the string values of one or more keys only when all keys don\'t exist.', since: '1.0.1', handler: msetnx }),
  command({ name: 'incr', arity: 2, flags: ['write', 'denyoom', 'fast'], ...key1, group, summary: 'Increments the integer value of a key by one.', handler: (ctx, argv) => incrementBy(ctx, argv, 1) }),
  command({ name: 'decr', arity: 2, flags: ['write', 'denyoom', 'fast'], ...key1, group, summary: 'Decrements the integer value of a key by one.', handler: (ctx, argv) => incrementBy(ctx, argv, -1) }),
  command({ name: 'incrby', arity: 3, flags: ['write', 'denyoom', 'fast'], ...key1, group, summary: 'Increments the integer value of a key by a number.', handler: (ctx, argv) => incrementBy(ctx, argv, argInt(argv, 2)) }),
  command({ name: 'decrby', arity: 3, flags: ['write', 'denyoom', 'fast'], ...key1, group, summary: 'Decrements a number from the integer value of a key.', handler: (ctx, argv) => incrementBy(ctx, argv, negate(argInt(argv, 2))) }),
  command({ name: 'incrbyfloat', arity: 3, flags: ['write', 'denyoom', 'fast'], ...key1, group, summary: 'Increment the floating point value of a key by a number.', since: '2.6.0', handler: incrbyfloat }),
  command({ name: 'append', arity: 3, flags: ['write', 'denyoom', 'fast'], ...key1, group, summary: 'Appends a string to the value of a key. Creates the key if it doesn\'t exist.', since: '2.0.0', handler: append }),
  command({ name: 'strlen', arity: 2, flags: ['readonly', 'fast'], ...key1, group, summary: 'Returns the length of a string value.', since: '2.2.0', handler: strlen }),
  command({ name: 'getrange', arity: 4, flags: ['readonly'], ...key1, group, summary: 'Returns a substring of the string stored at a key.', since: '2.4.0', handler: getrange }),
  command({ name: 'substr', arity: 4, flags: ['readonly'], ...key1, group, summary: 'Returns a substring from a string value.', handler: getrange }),
  command({ name: 'setrange', arity: 4, flags: ['write', 'denyoom'], ...key1, group, summary: 'Overwrites a part of a string value with another by an offset. Creates the key if it doesn\'t exist.', since: '2.2.0', handler: setrange }),
];
