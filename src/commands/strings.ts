/** String and counter commands: GET, SET and friends, MGET/MSET, INCR..., APPEND, ranges. */
import type { Argv } from '../protocol/argv.js';
import { OK, ONE, ZERO } from '../protocol/writer.js';
import { KEEP_TTL, NO_EXPIRY, type Key } from '../store/keyspace.js';
import type { CommandContext } from './context.js';
import { CommandError, Errors } from './errors.js';
import { addInt64, argInt, argSafeInt, formatFloat, parseFloatStrict, parseInt64 } from './numbers.js';
import { command, type CommandSpec } from './table.js';

/** Largest string value, as Redis's proto-max-bulk-len default. */
export const MAX_STRING = 512 * 1024 * 1024;

/** Stores a value with an absolute expiry; an expiry already past deletes the key instead. */
function store(ctx: CommandContext, key: Key, value: Buffer, expireAt: number): void {
  if (expireAt !== NO_EXPIRY && expireAt !== KEEP_TTL && expireAt <= ctx.clock.now()) ctx.store.delete(key);
  else ctx.store.set(key, value, expireAt);
}

type ExpiryUnit = 'ex' | 'px' | 'exat' | 'pxat';

/** Converts an expiry argument to an absolute time in ms; throws Redis's error for a bad one. */
function expiryFrom(ctx: CommandContext, argv: Argv, i: number, unit: ExpiryUnit, cmd: string): number {
  const n = argInt(argv, i);
  if (typeof n === 'bigint' || n <= 0) throw new CommandError(Errors.invalidExpire(cmd));
  const ms = unit === 'ex' || unit === 'exat' ? n * 1000 : n;
  const at = unit === 'ex' || unit === 'px' ? ctx.clock.now() + ms : ms;
  if (!Number.isSafeInteger(at)) throw new CommandError(Errors.invalidExpire(cmd));
  return at;
}

const EXPIRY_WORDS: readonly ExpiryUnit[] = ['ex', 'px', 'exat', 'pxat'];

function expiryWord(argv: Argv, i: number): ExpiryUnit | undefined {
  for (const w of EXPIRY_WORDS) if (argv.is(i, w)) return w;
  return undefined;
}

function set(ctx: CommandContext, argv: Argv): void {
  let nx = false;
  let xx = false;
  let get = false;
  let expireAt = NO_EXPIRY;
  let expirySet = false;
  for (let i = 3; i < argv.length; i++) {
    const unit = expiryWord(argv, i);
    if (argv.is(i, 'nx') && !xx) nx = true;
    else if (argv.is(i, 'xx') && !nx) xx = true;
    else if (argv.is(i, 'get')) get = true;
    else if (argv.is(i, 'keepttl') && !expirySet) {
      expirySet = true;
      expireAt = KEEP_TTL;
    } else if (unit !== undefined && !expirySet && i + 1 < argv.length) {
      expirySet = true;
      expireAt = expiryFrom(ctx, argv, ++i, unit, 'set');
    } else throw new CommandError(Errors.syntax);
  }
  const key = argv.str(1);
  const old = get || nx || xx ? ctx.store.peek(key) : undefined;
  if (get) {
    if (old === undefined) ctx.out.nullBulk();
    else ctx.out.bulk(old);
  }
  if ((nx && old !== undefined) || (xx && old === undefined)) {
    if (!get) ctx.out.nullBulk();
    return;
  }
  store(ctx, key, argv.copy(2), expireAt);
  if (!get) ctx.out.raw(OK);
}

function get(ctx: CommandContext, argv: Argv): void {
  const v = ctx.store.get(argv.str(1));
  if (v === undefined) ctx.out.nullBulk();
  else ctx.out.bulk(v);
}

function setnx(ctx: CommandContext, argv: Argv): void {
  const key = argv.str(1);
  if (ctx.store.peek(key) !== undefined) return ctx.out.raw(ZERO);
  ctx.store.set(key, argv.copy(2), NO_EXPIRY);
  ctx.out.raw(ONE);
}

function setexWith(unit: 'ex' | 'px', name: string) {
  return (ctx: CommandContext, argv: Argv): void => {
    const at = expiryFrom(ctx, argv, 2, unit, name);
    ctx.store.set(argv.str(1), argv.copy(3), at);
    ctx.out.raw(OK);
  };
}

function getset(ctx: CommandContext, argv: Argv): void {
  const key = argv.str(1);
  const old = ctx.store.get(key);
  if (old === undefined) ctx.out.nullBulk();
  else ctx.out.bulk(old);
  ctx.store.set(key, argv.copy(2), NO_EXPIRY);
}

function getdel(ctx: CommandContext, argv: Argv): void {
  const key = argv.str(1);
  const v = ctx.store.get(key);
  if (v === undefined) return ctx.out.nullBulk();
  ctx.out.bulk(v);
  ctx.store.delete(key);
}

function getex(ctx: CommandContext, argv: Argv): void {
  let expireAt: number | undefined;
  let persist = false;
  for (let i = 2; i < argv.length; i++) {
    const unit = expiryWord(argv, i);
    const free = expireAt === undefined && !persist;
    if (unit !== undefined && free && i + 1 < argv.length) expireAt = expiryFrom(ctx, argv, ++i, unit, 'getex');
    else if (argv.is(i, 'persist') && free) persist = true;
    else throw new CommandError(Errors.syntax);
  }
  const key = argv.str(1);
  const v = ctx.store.get(key);
  if (v === undefined) return ctx.out.nullBulk();
  ctx.out.bulk(v);
  if (persist) ctx.store.setExpireAt(key, NO_EXPIRY);
  else if (expireAt !== undefined) ctx.store.setExpireAt(key, expireAt);
}

function mget(ctx: CommandContext, argv: Argv): void {
  ctx.out.array(argv.length - 1);
  for (let i = 1; i < argv.length; i++) {
    const v = ctx.store.get(argv.str(i));
    if (v === undefined) ctx.out.nullBulk();
    else ctx.out.bulk(v);
  }
}

function checkPairs(argv: Argv, name: string): void {
  if (argv.length % 2 === 0) throw new CommandError(Errors.wrongArity(name));
}

function mset(ctx: CommandContext, argv: Argv): void {
  checkPairs(argv, 'mset');
  for (let i = 1; i < argv.length; i += 2) ctx.store.set(argv.str(i), argv.copy(i + 1), NO_EXPIRY);
  ctx.out.raw(OK);
}

function msetnx(ctx: CommandContext, argv: Argv): void {
  checkPairs(argv, 'msetnx');
  for (let i = 1; i < argv.length; i += 2) if (ctx.store.peek(argv.str(i)) !== undefined) return ctx.out.raw(ZERO);
  for (let i = 1; i < argv.length; i += 2) ctx.store.set(argv.str(i), argv.copy(i + 1), NO_EXPIRY);
  ctx.out.raw(ONE);
}

/** Adds delta to the integer stored at key (0 if missing), keeping its TTL. */
function incrementBy(ctx: CommandContext, key: Key, delta: number | bigint): void {
  const old = ctx.store.peek(key);
  let current: number | bigint = 0;
  if (old !== undefined) {
    const parsed = parseInt64(old, 0, old.length);
    if (parsed === null) throw new CommandError(Errors.notInteger);
    current = parsed;
  }
  const next = addInt64(current, delta);
  if (next === null) throw new CommandError(Errors.overflow);
  ctx.store.set(key, Buffer.from(String(next), 'latin1'), KEEP_TTL);
  ctx.out.integer(next);
}

function negate(n: number | bigint): number | bigint {
  if (n === -9223372036854775808n) throw new CommandError('ERR decrement would overflow');
  return typeof n === 'bigint' ? -n : -n;
}

function incrbyfloat(ctx: CommandContext, argv: Argv): void {
  const key = argv.str(1);
  const delta = parseFloatStrict(argv.utf8(2));
  if (delta === null) throw new CommandError(Errors.notFloat);
  const old = ctx.store.peek(key);
  let current = 0;
  if (old !== undefined) {
    const parsed = parseFloatStrict(old.toString('latin1'));
    if (parsed === null) throw new CommandError(Errors.notFloat);
    current = parsed;
  }
  const next = current + delta;
  if (!Number.isFinite(next)) throw new CommandError(Errors.nanOrInfinity);
  const text = Buffer.from(formatFloat(next), 'latin1');
  ctx.store.set(key, text, KEEP_TTL);
  ctx.out.bulk(text);
}

function append(ctx: CommandContext, argv: Argv): void {
  const key = argv.str(1);
  const old = ctx.store.peek(key);
  const add = argv.len(2);
  if (old === undefined) {
    ctx.store.set(key, argv.copy(2), NO_EXPIRY);
    return ctx.out.integer(add);
  }
  if (old.length + add > MAX_STRING) throw new CommandError(Errors.stringTooLong);
  // A new Buffer, never an in-place change: stored values are immutable (see store/keyspace.ts).
  const next = Buffer.allocUnsafe(old.length + add);
  old.copy(next, 0);
  argv.buf.copy(next, old.length, argv.start[2]!, argv.end[2]!);
  ctx.store.set(key, next, KEEP_TTL);
  ctx.out.integer(next.length);
}

function strlen(ctx: CommandContext, argv: Argv): void {
  ctx.out.integer(ctx.store.peek(argv.str(1))?.length ?? 0);
}

function getrange(ctx: CommandContext, argv: Argv): void {
  let start = argSafeInt(argv, 2);
  let end = argSafeInt(argv, 3);
  const v = ctx.store.get(argv.str(1)) ?? Buffer.alloc(0);
  const len = v.length;
  if (start < 0 && end < 0 && start > end) return ctx.out.bulk(v, 0, 0);
  if (start < 0) start = len + start;
  if (end < 0) end = len + end;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= len) end = len - 1;
  if (start > end || len === 0) return ctx.out.bulk(v, 0, 0);
  ctx.out.bulk(v, start, end + 1);
}

function setrange(ctx: CommandContext, argv: Argv): void {
  const offset = argSafeInt(argv, 2);
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
  ctx.store.set(key, next, old === undefined ? NO_EXPIRY : KEEP_TTL);
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
  command({ name: 'incr', arity: 2, flags: ['write', 'denyoom', 'fast'], ...key1, group, summary: 'Increments the integer value of a key by one.', handler: (ctx, argv) => incrementBy(ctx, argv.str(1), 1) }),
  command({ name: 'decr', arity: 2, flags: ['write', 'denyoom', 'fast'], ...key1, group, summary: 'Decrements the integer value of a key by one.', handler: (ctx, argv) => incrementBy(ctx, argv.str(1), -1) }),
  command({ name: 'incrby', arity: 3, flags: ['write', 'denyoom', 'fast'], ...key1, group, summary: 'Increments the integer value of a key by a number.', handler: (ctx, argv) => incrementBy(ctx, argv.str(1), argInt(argv, 2)) }),
  command({ name: 'decrby', arity: 3, flags: ['write', 'denyoom', 'fast'], ...key1, group, summary: 'Decrements a number from the integer value of a key.', handler: (ctx, argv) => incrementBy(ctx, argv.str(1), negate(argInt(argv, 2))) }),
  command({ name: 'incrbyfloat', arity: 3, flags: ['write', 'denyoom', 'fast'], ...key1, group, summary: 'Increment the floating point value of a key by a number.', since: '2.6.0', handler: incrbyfloat }),
  command({ name: 'append', arity: 3, flags: ['write', 'denyoom', 'fast'], ...key1, group, summary: 'Appends a string to the value of a key. Creates the key if it doesn\'t exist.', since: '2.0.0', handler: append }),
  command({ name: 'strlen', arity: 2, flags: ['readonly', 'fast'], ...key1, group, summary: 'Returns the length of a string value.', since: '2.2.0', handler: strlen }),
  command({ name: 'getrange', arity: 4, flags: ['readonly'], ...key1, group, summary: 'Returns a substring of the string stored at a key.', since: '2.4.0', handler: getrange }),
  command({ name: 'substr', arity: 4, flags: ['readonly'], ...key1, group, summary: 'Returns a substring from a string value.', handler: getrange }),
  command({ name: 'setrange', arity: 4, flags: ['write', 'denyoom'], ...key1, group, summary: 'Overwrites a part of a string value with another by an offset. Creates the key if it doesn\'t exist.', since: '2.2.0', handler: setrange }),
];
