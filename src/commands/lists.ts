/** List commands (the container is src/store/objects/list-object.ts); the blocking forms are in blocking.ts. */
import type { Argv } from '../protocol/argv.js';
import { OK, ZERO } from '../protocol/writer.js';
import type { Key } from '../store/keyspace.js';
import { ListObject } from '../store/objects/list-object.js';
import type { CommandContext } from './context.js';
import { numkeysKeys, readObject, replyStrings, saveObject, writeObject } from './containers.js';
import { CommandError, Errors } from './errors.js';
import { argInt, argNumber, parseInt64 } from './numbers.js';
import { command, type CommandSpec } from './table.js';

const read = (ctx: CommandContext, key: Key) => readObject<ListObject>(ctx, key, 'list');
export const writeList = (ctx: CommandContext, key: Key) => writeObject<ListObject>(ctx, key, 'list');

export type End = 'left' | 'right';

/** LEFT or RIGHT at argument i; a syntax error otherwise. */
export function endAt(argv: Argv, i: number): End {
  if (argv.is(i, 'left')) return 'left';
  if (argv.is(i, 'right')) return 'right';
  throw new CommandError(Errors.syntax);
}

export function pop(l: ListObject, end: End): string {
  return (end === 'left' ? l.popFront() : l.popBack())!;
}

/** Pushes v at one end of the list at key, creating it; returns the new length. */
export function pushTo(ctx: CommandContext, key: Key, v: string, end: End): number {
  const found = writeList(ctx, key);
  const l = found ?? new ListObject();
  if (end === 'left') l.pushFront(v);
  else l.pushBack(v);
  saveObject(ctx, key, l, found === undefined);
  return l.size;
}

function push(end: End, onlyIfExists: boolean) {
  return (ctx: CommandContext, argv: Argv): void => {
    const key = argv.str(1);
    const found = writeList(ctx, key);
    if (found === undefined && onlyIfExists) return ctx.out.raw(ZERO);
    const l = found ?? new ListObject();
    for (let i = 2; i < argv.length; i++) {
      if (end === 'left') l.pushFront(argv.str(i));
      else l.pushBack(argv.str(i));
    }
    saveObject(ctx, key, l, found === undefined);
    ctx.out.integer(l.size);
  };
}

/** SPOP's, LPOP's and RPOP's count: Redis's getPositiveLongFromObjectOrReply, whose message covers a non-integer too. */
export function positiveCount(argv: Argv, i: number): number {
  const n = parseInt64(argv.buf, argv.start[i]!, argv.end[i]!);
  if (n === null || n < 0) throw new CommandError('ERR value is out of range, must be positive');
  return Number(n);
}

function popCommand(end: End, name: string) {
  return (ctx: CommandContext, argv: Argv): void => {
    if (argv.length > 3) throw new CommandError(Errors.wrongArity(name));
    const count = argv.length === 3 ? positiveCount(argv, 2) : -1;
    const key = argv.str(1);
    const l = writeList(ctx, key);
    if (l === undefined) return count < 0 ? ctx.out.nullBulk() : ctx.out.nullArray();
    if (count < 0) {
      ctx.out.bulkLatin1(pop(l, end));
      return ctx.store.objectChanged(key, l);
    }
    if (count === 0) return ctx.out.array(0);
    const n = Math.min(count, l.size);
    ctx.out.array(n);
    for (let i = 0; i < n; i++) ctx.out.bulkLatin1(pop(l, end));
    ctx.store.objectChanged(key, l);
  };
}

/** LRANGE-style start and stop (negative from the end), clamped: [from, to) within [0, len), or null when empty. */
export function clampRange(start: number, stop: number, len: number): [number, number] | null {
  if (start < 0) start = len + start;
  if (stop < 0) stop = len + stop;
  if (start < 0) start = 0;
  if (start > stop || start >= len) return null;
  if (stop >= len) stop = len - 1;
  return [start, stop + 1];
}

function lrange(ctx: CommandContext, argv: Argv): void {
  const start = argNumber(argv, 2);
  const stop = argNumber(argv, 3);
  const l = read(ctx, argv.str(1));
  const r = l === undefined ? null : clampRange(start, stop, l.size);
  replyStrings(ctx, r === null ? [] : l!.range(r[0], r[1]));
}

/** An index from either end (negative from the end), or -1 when outside the list. */
function indexIn(l: ListObject, i: number): number {
  const at = i < 0 ? l.size + i : i;
  return at < 0 || at >= l.size ? -1 : at;
}

// LINDEX and LSET look the key up (nil / no such key, WRONGTYPE) before they parse the
// index, as Redis 7.0 does; LRANGE and LREM parse their numbers first.
function lindex(ctx: CommandContext, argv: Argv): void {
  const l = read(ctx, argv.str(1));
  if (l === undefined) return ctx.out.nullBulk();
  const at = indexIn(l, argNumber(argv, 2));
  if (at < 0) ctx.out.nullBulk();
  else ctx.out.bulkLatin1(l.get(at));
}

function lset(ctx: CommandContext, argv: Argv): void {
  const key = argv.str(1);
  const l = writeList(ctx, key);
  if (l === undefined) throw new CommandError(Errors.noSuchKey);
  const at = indexIn(l, argNumber(argv, 2));
  if (at < 0) throw new CommandError('ERR index out of range');
  l.set(at, argv.str(3));
  ctx.store.objectChanged(key, l);
  ctx.out.raw(OK);
}

function lrem(ctx: CommandContext, argv: Argv): void {
  const count = argNumber(argv, 2);
  const key = argv.str(1);
  const l = writeList(ctx, key);
  if (l === undefined) return ctx.out.raw(ZERO);
  const v = argv.str(3);
  let removed = 0;
  const limit = count === 0 ? Infinity : Math.abs(count);
  if (count >= 0) {
    for (let i = 0; i < l.size && removed < limit; ) {
      if (l.get(i) === v) {
        l.removeAt(i);
        removed++;
      } else i++;
    }
  } else {
    for (let i = l.size - 1; i >= 0 && removed < limit; i--) {
      if (l.get(i) === v) {
        l.removeAt(i);
        removed++;
      }
    }
  }
  if (removed > 0) ctx.store.objectChanged(key, l);
  ctx.out.integer(removed);
}

function ltrim(ctx: CommandContext, argv: Argv): void {
  const start = argNumber(argv, 2);
  const stop = argNumber(argv, 3);
  const key = argv.str(1);
  const l = writeList(ctx, key);
  if (l === undefined) return ctx.out.raw(OK);
  const r = clampRange(start, stop, l.size);
  const before = l.size;
  if (r === null) l.trim(0, 0);
  else l.trim(r[0], r[1]);
  if (l.size !== before) ctx.store.objectChanged(key, l);
  ctx.out.raw(OK);
}

function linsert(ctx: CommandContext, argv: Argv): void {
  const after = argv.is(2, 'after');
  if (!after && !argv.is(2, 'before')) throw new CommandError(Errors.syntax);
  const key = argv.str(1);
  const l = writeList(ctx, key);
  if (l === undefined) return ctx.out.raw(ZERO);
  const pivot = argv.str(3);
  for (let i = 0; i < l.size; i++) {
    if (l.get(i) !== pivot) continue;
    l.insertAt(after ? i + 1 : i, argv.str(4));
    ctx.store.objectChanged(key, l);
    return ctx.out.integer(l.size);
  }
  ctx.out.integer(-1);
}

/** Redis's getPositiveLongFromObjectOrReply with a message: the same message for a non-integer as for a negative one. */
function nonNegative(argv: Argv, i: number, message: string): number {
  const n = parseInt64(argv.buf, argv.start[i]!, argv.end[i]!);
  if (n === null || n < 0) throw new CommandError(message);
  return Number(n);
}

function lpos(ctx: CommandContext, argv: Argv): void {
  let rank = 1;
  let count = -1;
  let maxlen = 0;
  for (let i = 3; i < argv.length; i += 2) {
    if (i + 1 >= argv.length) throw new CommandError(Errors.syntax);
    if (argv.is(i, 'rank')) {
      const r = argInt(argv, i + 1);
      if (r === 0) throw new CommandError("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list");
      // Redis 7.0 negates a negative RANK in a C long: -LONG_MIN stays LONG_MIN, below every match
      // count, so RANK -9223372036854775808 takes the first match from the tail, as RANK -1 does.
      rank = BigInt(r) === -9223372036854775808n ? -1 : Number(r);
    } else if (argv.is(i, 'count')) {
      count = nonNegative(argv, i + 1, "ERR COUNT can't be negative");
    } else if (argv.is(i, 'maxlen')) {
      maxlen = nonNegative(argv, i + 1, "ERR MAXLEN can't be negative");
    } else throw new CommandError(Errors.syntax);
  }
  const l = read(ctx, argv.str(1));
  const v = argv.str(2);
  const found: number[] = [];
  if (l !== undefined) {
    const want = count === 0 ? Infinity : count < 0 ? 1 : count;
    const reverse = rank < 0;
    let skip = Math.abs(rank) - 1;
    const n = l.size;
    const scan = maxlen === 0 ? n : Math.min(maxlen, n);
    for (let k = 0; k < scan && found.length < want; k++) {
      const i = reverse ? n - 1 - k : k;
      if (l.get(i) !== v) continue;
      if (skip > 0) skip--;
      else found.push(i);
    }
  }
  if (count < 0) {
    if (found.length === 0) ctx.out.nullBulk();
    else ctx.out.integer(found[0]!);
    return;
  }
  ctx.out.array(found.length);
  for (const i of found) ctx.out.integer(i);
}

/**
 * LMOVE's work, shared with RPOPLPUSH and the blocking forms: pops from one
 * end of `from` and pushes at one end of `to`; the element, or undefined when
 * `from` is empty. Type errors come before anything changes.
 */
export function moveElement(ctx: CommandContext, from: Key, to: Key, fromEnd: End, toEnd: End): string | undefined {
  const src = writeList(ctx, from);
  if (src === undefined) return undefined;
  writeList(ctx, to); // WRONGTYPE now, before the pop
  const v = pop(src, fromEnd);
  if (from === to) {
    // A rotation: pushed back before the list could count as emptied (which would drop its TTL).
    if (toEnd === 'left') src.pushFront(v);
    else src.pushBack(v);
    ctx.store.objectChanged(from, src);
    return v;
  }
  ctx.store.objectChanged(from, src);
  pushTo(ctx, to, v, toEnd);
  return v;
}

function lmove(ctx: CommandContext, argv: Argv): void {
  const fromEnd = endAt(argv, 3);
  const toEnd = endAt(argv, 4);
  const v = moveElement(ctx, argv.str(1), argv.str(2), fromEnd, toEnd);
  if (v === undefined) ctx.out.nullBulk();
  else ctx.out.bulkLatin1(v);
}

function rpoplpush(ctx: CommandContext, argv: Argv): void {
  const v = moveElement(ctx, argv.str(1), argv.str(2), 'right', 'left');
  if (v === undefined) ctx.out.nullBulk();
  else ctx.out.bulkLatin1(v);
}

export interface MpopArgs {
  keys: Key[];
  end: End;
  count: number;
}

/** LMPOP/BLMPOP/ZMPOP's arguments from numkeys at `at`: keys, a direction word (`word`), COUNT. */
export function parseMpop<W extends string>(argv: Argv, at: number, words: readonly W[]): { keys: Key[]; word: W; count: number } {
  const numkeys = argInt(argv, at, 'ERR numkeys should be greater than 0');
  if (numkeys <= 0) throw new CommandError('ERR numkeys should be greater than 0');
  if (numkeys > argv.length - at - 1) throw new CommandError("ERR Number of keys can't be greater than number of args");
  const n = Number(numkeys);
  const keys: Key[] = [];
  for (let i = 0; i < n; i++) keys.push(argv.str(at + 1 + i));
  let i = at + 1 + n;
  const word = i < argv.length ? words.find((w) => argv.is(i, w)) : undefined;
  if (word === undefined) throw new CommandError(Errors.syntax);
  let count = -1;
  for (i++; i < argv.length; i++) {
    if (argv.is(i, 'count') && i + 1 < argv.length && count < 0) {
      const c = parseInt64(argv.buf, argv.start[i + 1]!, argv.end[i + 1]!);
      if (c === null || c <= 0) throw new CommandError('ERR count should be greater than 0');
      count = Number(c);
      i++;
    } else throw new CommandError(Errors.syntax);
  }
  return { keys, word, count: count < 0 ? 1 : count };
}

/** Pops up to count elements from the first non-empty list of keys and writes [key, [elements]]; false if all are empty. */
export function mpopList(ctx: CommandContext, keys: readonly Key[], end: End, count: number): boolean {
  for (const key of keys) {
    const l = writeList(ctx, key);
    if (l === undefined) continue;
    const n = Math.min(count, l.size);
    ctx.out.array(2);
    ctx.out.bulkLatin1(key);
    ctx.out.array(n);
    for (let i = 0; i < n; i++) ctx.out.bulkLatin1(pop(l, end));
    ctx.store.objectChanged(key, l);
    return true;
  }
  return false;
}

function lmpop(ctx: CommandContext, argv: Argv): void {
  const { keys, word, count } = parseMpop(argv, 1, ['left', 'right'] as const);
  if (!mpopList(ctx, keys, word, count)) ctx.out.nullArray();
}

const key1 = { firstKey: 1, lastKey: 1, keyStep: 1 } as const;
const key12 = { firstKey: 1, lastKey: 2, keyStep: 1 } as const;
export const listGroup = 'list';
const group = listGroup;

export const listCommands: CommandSpec[] = [
  command({ name: 'lpush', arity: -3, flags: ['write', 'denyoom', 'fast'], ...key1, group, summary: 'Prepends one or more elements to a list. Creates the key if it doesn\'t exist.', handler: push('left', false) }),
  command({ name: 'rpush', arity: -3, flags: ['write', 'denyoom', 'fast'], ...key1, group, summary: 'Appends one or more elements to a list. Creates the key if it doesn\'t exist.', handler: push('right', false) }),
  command({ name: 'lpushx', arity: -3, flags: ['write', 'denyoom', 'fast'], ...key1, group, summary: 'Prepends one or more elements to a list only when the list exists.', since: '2.2.0', handler: push('left', true) }),
  command({ name: 'rpushx', arity: -3, flags: ['write', 'denyoom', 'fast'], ...key1, group, summary: 'Appends an element to a list only when the list exists.', since: '2.2.0', handler: push('right', true) }),
  command({ name: 'lpop', arity: -2, flags: ['write', 'fast'], ...key1, group, summary: 'Returns the first elements in a list after removing it. Deletes the list if the last element was popped.', handler: popCommand('left', 'lpop') }),
  command({ name: 'rpop', arity: -2, flags: ['write', 'fast'], ...key1, group, summary: 'Returns and removes the last elements of a list. Deletes the list if the last element was popped.', handler: popCommand('right', 'rpop') }),
  command({ name: 'llen', arity: 2, flags: ['readonly', 'fast'], ...key1, group, summary: 'Returns the length of a list.', handler: (ctx, argv) => ctx.out.integer(read(ctx, argv.str(1))?.size ?? 0) }),
  command({ name: 'lindex', arity: 3, flags: ['readonly'], ...key1, group, summary: 'Returns an element from a list by its index.', handler: lindex }),
  command({ name: 'lset', arity: 4, flags: ['write', 'denyoom'], ...key1, group, summary: 'Sets the value of an element in a list by its index.', handler: lset }),
  command({ name: 'lrange', arity: 4, flags: ['readonly'], ...key1, group, summary: 'Returns a range of elements from a list.', handler: lrange }),
  command({ name: 'lrem', arity: 4, flags: ['write'], ...key1, group, summary: 'Removes elements from a list. Deletes the list if the last element was removed.', handler: lrem }),
  command({ name: 'ltrim', arity: 4, flags: ['write'], ...key1, group, summary: 'Removes elements from both ends a list. Deletes the list if all elements were trimmed.', handler: ltrim }),
  command({ name: 'linsert', arity: 5, flags: ['write', 'denyoom'], ...key1, group, summary: 'Inserts an element before or after another element in a list.', since: '2.2.0', handler: linsert }),
  command({ name: 'lpos', arity: -3, flags: ['readonly'], ...key1, group, summary: 'Returns the index of matching elements in a list.', since: '6.0.6', handler: lpos }),
  command({ name: 'lmove', arity: 5, flags: ['write', 'denyoom'], ...key12, group, summary: 'Returns an element after popping it from one list and pushing it to another. Deletes the list if the last element was moved.', since: '6.2.0', handler: lmove }),
  command({ name: 'rpoplpush', arity: 3, flags: ['write', 'denyoom'], ...key12, group, summary: 'Returns the last element of a list after removing and pushing it to another list. Deletes the list if the last element was popped.', since: '1.2.0', handler: rpoplpush }),
  command({ name: 'lmpop', arity: -4, flags: ['write'], keysOf: numkeysKeys(1), group, summary: 'Returns multiple elements from a list after removing them. Deletes the list if the last element was popped.', since: '7.0.0', handler: lmpop }),
];
