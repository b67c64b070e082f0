/** Set commands: SADD and friends, random picks, SMOVE, the algebra (SINTER SUNION SDIFF, *STORE, SINTERCARD), SSCAN. */
import type { Argv } from '../protocol/argv.js';
import { ONE, ZERO } from '../protocol/writer.js';
import type { Key } from '../store/keyspace.js';
import { SetObject } from '../store/objects/set-object.js';
import type { CommandContext } from './context.js';
import { matches, numkeysKeys, parseScanArgs, randCount, scanCursor, readObject, replyScan, saveObject, writeObject } from './containers.js';
import { CommandError, Errors } from './errors.js';
import { argInt, parseInt64 } from './numbers.js';
import { command, type CommandSpec } from './table.js';

const read = (ctx: CommandContext, key: Key) => readObject<SetObject>(ctx, key, 'set');

function forWrite(ctx: CommandContext, key: Key): { s: SetObject; created: boolean } {
  const s = writeObject<SetObject>(ctx, key, 'set');
  return s === undefined ? { s: new SetObject(), created: true } : { s, created: false };
}

/** A set reply (RESP3 `~`, an array in RESP2). */
function replySet(ctx: CommandContext, members: readonly string[]): void {
  ctx.out.set(members.length);
  for (const m of members) ctx.out.bulkLatin1(m);
}

function sadd(ctx: CommandContext, argv: Argv): void {
  const key = argv.str(1);
  const { s, created } = forWrite(ctx, key);
  let added = 0;
  for (let i = 2; i < argv.length; i++) if (s.add(argv.str(i))) added++;
  if (added > 0) saveObject(ctx, key, s, created);
  ctx.out.integer(added);
}

function srem(ctx: CommandContext, argv: Argv): void {
  const key = argv.str(1);
  const s = writeObject<SetObject>(ctx, key, 'set');
  if (s === undefined) return ctx.out.raw(ZERO);
  let removed = 0;
  for (let i = 2; i < argv.length; i++) if (s.delete(argv.str(i))) removed++;
  if (removed > 0) ctx.store.objectChanged(key, s);
  ctx.out.integer(removed);
}

function smismember(ctx: CommandContext, argv: Argv): void {
  const s = read(ctx, argv.str(1));
  ctx.out.array(argv.length - 2);
  for (let i = 2; i < argv.length; i++) ctx.out.raw(s?.has(argv.str(i)) ? ONE : ZERO);
}

/** SPOP's count: Redis's getPositiveLongFromObjectOrReply, whose message covers a non-integer too. */
function positiveCount(argv: Argv, i: number): number {
  const n = parseInt64(argv.buf, argv.start[i]!, argv.end[i]!);
  if (n === null || n < 0) throw new CommandError('ERR value is out of range, must be positive');
  return Number(n);
}

function spop(ctx: CommandContext, argv: Argv): void {
  if (argv.length > 3) throw new CommandError(Errors.syntax);
  const key = argv.str(1);
  if (argv.length === 2) {
    const s = writeObject<SetObject>(ctx, key, 'set');
    if (s === undefined) return ctx.out.nullBulk();
    const m = s.pop();
    ctx.out.bulkLatin1(m);
    return ctx.store.objectChanged(key, s);
  }
  const count = positiveCount(argv, 2);
  const s = writeObject<SetObject>(ctx, key, 'set');
  if (s === undefined || count === 0) return replySet(ctx, []);
  if (count >= s.size) {
    // The whole set goes, listed as SMEMBERS lists it.
    replySet(ctx, s.list());
    ctx.store.delete(key);
    return;
  }
  const popped: string[] = [];
  for (let i = 0; i < count; i++) popped.push(s.pop());
  ctx.store.objectChanged(key, s);
  replySet(ctx, popped);
}

function srandmember(ctx: CommandContext, argv: Argv): void {
  if (argv.length > 3) throw new CommandError(Errors.syntax);
  if (argv.length === 2) {
    const s = read(ctx, argv.str(1));
    if (s === undefined) return ctx.out.nullBulk();
    return ctx.out.bulkLatin1(s.random());
  }
  const { count, unique } = randCount(argv, 2);
  const s = read(ctx, argv.str(1));
  if (s === undefined || count === 0) return ctx.out.array(0);
  if (unique && count >= s.size) return replySet(ctx, s.list());
  const picked: string[] = [];
  if (!unique) for (let i = 0; i < count; i++) picked.push(s.random());
  else {
    const chosen = new Set<string>();
    while (chosen.size < count) chosen.add(s.random());
    picked.push(...chosen);
  }
  ctx.out.array(picked.length);
  for (const m of picked) ctx.out.bulkLatin1(m);
}

function smove(ctx: CommandContext, argv: Argv): void {
  const from = argv.str(1);
  const to = argv.str(2);
  const member = argv.str(3);
  // A missing source answers 0 before any type check; then both keys' types are checked, as in Redis.
  if (!ctx.store.exists(from)) return ctx.out.raw(ZERO);
  const src = writeObject<SetObject>(ctx, from, 'set')!;
  const dst = writeObject<SetObject>(ctx, to, 'set');
  if (from === to) return ctx.out.raw(src.has(member) ? ONE : ZERO);
  if (!src.delete(member)) return ctx.out.raw(ZERO);
  ctx.store.objectChanged(from, src);
  const target = dst ?? new SetObject();
  target.add(member);
  saveObject(ctx, to, target, dst === undefined);
  ctx.out.raw(ONE);
}

type SetOp = 'inter' | 'union' | 'diff';

/**
 * The sets named by argv[from..to), in order, every key's type checked; a
 * missing key is undefined, and makes an intersection empty (null).
 */
function setsOf(ctx: CommandContext, argv: Argv, from: number, to: number, op: SetOp): Array<SetObject | undefined> | null {
  const sets: Array<SetObject | undefined> = [];
  for (let i = from; i < to; i++) sets.push(read(ctx, argv.str(i)));
  return op === 'inter' && sets.includes(undefined) ? null : sets;
}

/** The members of the combination, in Redis's order where that is predictable (an intset first operand's). */
function combine(sets: Array<SetObject | undefined> | null, op: SetOp, limit = Infinity): string[] {
  if (sets === null) return [];
  if (op === 'inter') {
    const all = sets as SetObject[];
    // From the smallest set, as Redis does: the result comes in its order.
    const smallest = all.reduce((a, b) => (b.size < a.size ? b : a));
    const out: string[] = [];
    for (const m of smallest.list()) {
      if (all.every((s) => s === smallest || s.has(m))) out.push(m);
      if (out.length >= limit) break;
    }
    return out;
  }
  if (op === 'union') {
    const out = new SetObject();
    for (const s of sets) if (s !== undefined) for (const m of s.values()) out.add(m);
    return out.list();
  }
  const [first, ...rest] = sets;
  const out = new SetObject();
  // Built as a new set, as Redis does: all-integer results list as an intset (sorted).
  if (first !== undefined) for (const m of first.values()) if (!rest.some((s) => s?.has(m))) out.add(m);
  return out.list();
}

function setAlgebra(op: SetOp, store: boolean) {
  return (ctx: CommandContext, argv: Argv): void => {
    const from = store ? 2 : 1;
    const members = combine(setsOf(ctx, argv, from, argv.length, op), op);
    if (!store) return replySet(ctx, members);
    const dst = argv.str(1);
    const result = new SetObject();
    for (const m of members) result.add(m);
    // The destination is replaced whatever its type; an empty result deletes it.
    if (result.size === 0) ctx.store.delete(dst);
    else ctx.store.putObject(dst, result, 0);
    ctx.out.integer(result.size);
  };
}

function sintercard(ctx: CommandContext, argv: Argv): void {
  const numkeys = argInt(argv, 1, 'ERR numkeys should be greater than 0');
  if (numkeys <= 0) throw new CommandError('ERR numkeys should be greater than 0');
  if (numkeys > argv.length - 2) throw new CommandError("ERR Number of keys can't be greater than number of args");
  const end = 2 + Number(numkeys);
  let limit = 0;
  for (let i = end; i < argv.length; i++) {
    if (argv.is(i, 'limit') && i + 1 < argv.length) {
      const l = parseInt64(argv.buf, argv.start[i + 1]!, argv.end[i + 1]!);
      if (l === null) throw new CommandError('ERR LIMIT can\'t be negative');
      if (l < 0) throw new CommandError('ERR LIMIT can\'t be negative');
      limit = Number(l);
      i++;
    } else throw new CommandError(Errors.syntax);
  }
  ctx.out.integer(combine(setsOf(ctx, argv, 2, end, 'inter'), 'inter', limit === 0 ? Infinity : limit).length);
}

function sscan(ctx: CommandContext, argv: Argv): void {
  const cursor = scanCursor(argv);
  const s = read(ctx, argv.str(1));
  if (s === undefined) return replyScan(ctx, 0, []);
  const args = parseScanArgs(argv, cursor);
  const items: string[] = [];
  // An intset is returned whole at once, as Redis does.
  if (s.encoding() === 'intset') {
    for (const m of s.list()) if (matches(args.pattern, m)) items.push(m);
    return replyScan(ctx, 0, items);
  }
  replyScan(ctx, s.members.scan(args.cursor, args.count, (m) => {
    if (matches(args.pattern, m)) items.push(m);
  }), items);
}

const key1 = { firstKey: 1, lastKey: 1, keyStep: 1 } as const;
const keysN = { firstKey: 1, lastKey: -1, keyStep: 1 } as const;
const group = 'set';

export const setCommands: CommandSpec[] = [
  command({ name: 'sadd', arity: -3, flags: ['write', 'denyoom', 'fast'], ...key1, group, summary: 'Adds one or more members to a set. Creates the key if it doesn\'t exist.', handler: sadd }),
  command({ name: 'srem', arity: -3, flags: ['write', 'fast'], ...key1, group, summary: 'Removes one or more members from a set. Deletes the set if the last member was removed.', handler: srem }),
  command({ name: 'smembers', arity: 2, flags: ['readonly'], ...key1, group, summary: 'Returns all members of a set.', handler: (ctx, argv) => replySet(ctx, read(ctx, argv.str(1))?.list() ?? []) }),
  command({ name: 'sismember', arity: 3, flags: ['readonly', 'fast'], ...key1, group, summary: 'Determines whether a member belongs to a set.', handler: (ctx, argv) => ctx.out.raw(read(ctx, argv.str(1))?.has(argv.str(2)) ? ONE : ZERO) }),
  command({ name: 'smismember', arity: -3, flags: ['readonly', 'fast'], ...key1, group, summary: 'Determines whether multiple members belong to a set.', since: '6.2.0', handler: smismember }),
  command({ name: 'scard', arity: 2, flags: ['readonly', 'fast'], ...key1, group, summary: 'Returns the number of members in a set.', handler: (ctx, argv) => ctx.out.integer(read(ctx, argv.str(1))?.size ?? 0) }),
  command({ name: 'spop', arity: -2, flags: ['write', 'fast'], ...key1, group, summary: 'Returns one or more random members from a set after removing them. Deletes the set if the last member was popped.', handler: spop }),
  command({ name: 'srandmember', arity: -2, flags: ['readonly'], ...key1, group, summary: 'Get one or multiple random members from a set', handler: srandmember }),
  command({ name: 'smove', arity: 4, flags: ['write', 'fast'], firstKey: 1, lastKey: 2, keyStep: 1, group, summary: 'Moves a member from one set to another.', handler: smove }),
  command({ name: 'sinter', arity: -2, flags: ['readonly'], ...keysN, group, summary: 'Returns the intersect of multiple sets.', handler: setAlgebra('inter', false) }),
  command({ name: 'sunion', arity: -2, flags: ['readonly'], ...keysN, group, summary: 'Returns the union of multiple sets.', handler: setAlgebra('union', false) }),
  command({ name: 'sdiff', arity: -2, flags: ['readonly'], ...keysN, group, summary: 'Returns the difference of multiple sets.', handler: setAlgebra('diff', false) }),
  command({ name: 'sinterstore', arity: -3, flags: ['write', 'denyoom'], ...keysN, group, summary: 'Stores the intersect of multiple sets in a key.', handler: setAlgebra('inter', true) }),
  command({ name: 'sunionstore', arity: -3, flags: ['write', 'denyoom'], ...keysN, group, summary: 'Stores the union of multiple sets in a key.', handler: setAlgebra('union', true) }),
  command({ name: 'sdiffstore', arity: -3, flags: ['write', 'denyoom'], ...keysN, group, summary: 'Stores the difference of multiple sets in a key.', handler: setAlgebra('diff', true) }),
  command({ name: 'sintercard', arity: -3, flags: ['readonly'], keysOf: numkeysKeys(1), group, summary: 'Returns the number of members of the intersect of multiple sets.', since: '7.0.0', handler: sintercard }),
  command({ name: 'sscan', arity: -3, flags: ['readonly'], ...key1, group, summary: 'Iterates over members of a set.', since: '2.8.0', handler: sscan }),
];
