/** Hash commands: HSET and friends, HINCRBY*, HRANDFIELD, HSCAN (the container is src/store/objects/hash-object.ts). */
import type { Argv } from '../protocol/argv.js';
import { OK, ONE, ZERO } from '../protocol/writer.js';
import type { Key } from '../store/keyspace.js';
import { HashObject } from '../store/objects/hash-object.js';
import type { CommandContext } from './context.js';
import { matches, parseScanArgs, randCount, scanCursor, readObject, replyScan, saveObject, writeObject } from './containers.js';
import { CommandError, Errors } from './errors.js';
import { addInt64, addLongDouble, argInt, formatLongDouble, LD_ZERO, parseInt64, parseLongDouble } from './numbers.js';
import { command, type CommandSpec } from './table.js';

const read = (ctx: CommandContext, key: Key) => readObject<HashObject>(ctx, key, 'hash');

/** The hash to change, made empty when the key does not exist (saveObject stores it). */
function forWrite(ctx: CommandContext, key: Key): { h: HashObject; created: boolean } {
  const h = writeObject<HashObject>(ctx, key, 'hash');
  return h === undefined ? { h: new HashObject(), created: true } : { h, created: false };
}

function hset(ctx: CommandContext, argv: Argv, name: 'hset' | 'hmset'): void {
  if (argv.length % 2 !== 0) throw new CommandError(Errors.wrongArity(name));
  const key = argv.str(1);
  const { h, created } = forWrite(ctx, key);
  let added = 0;
  for (let i = 2; i < argv.length; i += 2) if (h.set(argv.str(i), argv.str(i + 1))) added++;
  saveObject(ctx, key, h, created);
  if (name === 'hmset') ctx.out.raw(OK);
  else ctx.out.integer(added);
}

function hsetnx(ctx: CommandContext, argv: Argv): void {
  const key = argv.str(1);
  const { h, created } = forWrite(ctx, key);
  const field = argv.str(2);
  if (h.get(field) !== undefined) return ctx.out.raw(ZERO);
  h.set(field, argv.str(3));
  saveObject(ctx, key, h, created);
  ctx.out.raw(ONE);
}

function hget(ctx: CommandContext, argv: Argv): void {
  const v = read(ctx, argv.str(1))?.get(argv.str(2));
  if (v === undefined) ctx.out.nullBulk();
  else ctx.out.bulkLatin1(v);
}

function hmget(ctx: CommandContext, argv: Argv): void {
  const h = read(ctx, argv.str(1));
  ctx.out.array(argv.length - 2);
  for (let i = 2; i < argv.length; i++) {
    const v = h?.get(argv.str(i));
    if (v === undefined) ctx.out.nullBulk();
    else ctx.out.bulkLatin1(v);
  }
}

function hgetall(ctx: CommandContext, argv: Argv): void {
  const h = read(ctx, argv.str(1));
  ctx.out.map(h?.size ?? 0);
  if (h === undefined) return;
  for (const [f, v] of h.fields.entries()) {
    ctx.out.bulkLatin1(f);
    ctx.out.bulkLatin1(v);
  }
}

function hkeysOrVals(values: boolean) {
  return (ctx: CommandContext, argv: Argv): void => {
    const h = read(ctx, argv.str(1));
    ctx.out.array(h?.size ?? 0);
    if (h !== undefined) for (const [f, v] of h.fields.entries()) ctx.out.bulkLatin1(values ? v : f);
  };
}

function hdel(ctx: CommandContext, argv: Argv): void {
  const key = argv.str(1);
  const h = writeObject<HashObject>(ctx, key, 'hash');
  if (h === undefined) return ctx.out.raw(ZERO);
  let removed = 0;
  for (let i = 2; i < argv.length; i++) if (h.delete(argv.str(i))) removed++;
  if (removed > 0) ctx.store.objectChanged(key, h);
  ctx.out.integer(removed);
}

function hincrby(ctx: CommandContext, argv: Argv): void {
  const key = argv.str(1);
  const delta = argInt(argv, 3);
  const { h, created } = forWrite(ctx, key);
  const field = argv.str(2);
  const old = h.get(field);
  const current = old === undefined ? 0 : parseInt64(Buffer.from(old, 'latin1'), 0, old.length);
  if (current === null) throw new CommandError('ERR hash value is not an integer');
  const next = addInt64(current, delta);
  if (next === null) throw new CommandError(Errors.overflow);
  h.set(field, String(next));
  saveObject(ctx, key, h, created);
  ctx.out.integer(next);
}

function hincrbyfloat(ctx: CommandContext, argv: Argv): void {
  const key = argv.str(1);
  const delta = parseLongDouble(argv.str(3));
  if (delta === null) throw new CommandError(Errors.notFloat);
  if (typeof delta === 'number') throw new CommandError('ERR value is NaN or Infinity');
  const { h, created } = forWrite(ctx, key);
  const field = argv.str(2);
  const old = h.get(field);
  const current = old === undefined ? LD_ZERO : parseLongDouble(old);
  if (current === null) throw new CommandError('ERR hash value is not a float');
  const next = addLongDouble(current, delta);
  if (next === null) throw new CommandError(Errors.nanOrInfinity);
  const text = formatLongDouble(next);
  h.set(field, text);
  saveObject(ctx, key, h, created);
  ctx.out.bulkLatin1(text);
}

function hrandfield(ctx: CommandContext, argv: Argv): void {
  if (argv.length === 2) {
    const h = read(ctx, argv.str(1));
    if (h === undefined) return ctx.out.nullBulk();
    return ctx.out.bulkLatin1(h.fields.randomKey());
  }
  const { count, unique, withWord: withValues } = randCount(argv, 2, 'withvalues');
  const h = read(ctx, argv.str(1));
  if (h === undefined || count === 0) return ctx.out.array(0);
  let picked: string[];
  if (!unique) {
    picked = [];
    for (let i = 0; i < count; i++) picked.push(h.fields.randomKey());
  } else if (count >= h.size) {
    picked = [...h.fields.keyList()];
  } else {
    // Distinct fields, listed in the hash's order (as Redis's listpack sampling returns them).
    const chosen = new Set<string>();
    while (chosen.size < count) chosen.add(h.fields.randomKey());
    picked = [...h.fields.keyList()].filter((f) => chosen.has(f));
  }
  // RESP3 pairs each field with its value in an array of two; RESP2 lists them flat.
  const nested = withValues && ctx.out.protocol === 3;
  ctx.out.array(withValues && !nested ? picked.length * 2 : picked.length);
  for (const f of picked) {
    if (nested) ctx.out.array(2);
    ctx.out.bulkLatin1(f);
    if (withValues) ctx.out.bulkLatin1(h.get(f)!);
  }
}

function hscan(ctx: CommandContext, argv: Argv): void {
  const cursor = scanCursor(argv);
  const h = read(ctx, argv.str(1));
  if (h === undefined) return replyScan(ctx, 0, []);
  const args = parseScanArgs(argv, cursor);
  const items: string[] = [];
  const visit = (f: string, v: string): void => {
    if (matches(args.pattern, f)) items.push(f, v);
  };
  // A small (listpack) hash is returned whole at once, as Redis does.
  if (h.encoding() === 'listpack') {
    for (const [f, v] of h.fields.entries()) visit(f, v);
    return replyScan(ctx, 0, items);
  }
  replyScan(ctx, h.fields.scan(args.cursor, args.count, visit), items);
}

const key1 = { firstKey: 1, lastKey: 1, keyStep: 1 } as const;
const group = 'hash';

export const hashCommands: CommandSpec[] = [
  command({ name: 'hset', arity: -4, flags: ['write', 'denyoom', 'fast'], ...key1, group, summary: 'Creates or modifies the value of a field in a hash.', since: '2.0.0', handler: (ctx, argv) => hset(ctx, argv, 'hset') }),
  command({ name: 'hmset', arity: -4, flags: ['write', 'denyoom', 'fast'], ...key1, group, summary: 'Sets the values of multiple fields.', since: '2.0.0', handler: (ctx, argv) => hset(ctx, argv, 'hmset') }),
  command({ name: 'hsetnx', arity: 4, flags: ['write', 'denyoom', 'fast'], ...key1, group, summary: 'Sets the value of a field in a hash only when the field doesn\'t exist.', since: '2.0.0', handler: hsetnx }),
  command({ name: 'hget', arity: 3, flags: ['readonly', 'fast'], ...key1, group, summary: 'Returns the value of a field in a hash.', since: '2.0.0', handler: hget }),
  command({ name: 'hmget', arity: -3, flags: ['readonly', 'fast'], ...key1, group, summary: 'Returns the values of all fields in a hash.', since: '2.0.0', handler: hmget }),
  command({ name: 'hgetall', arity: 2, flags: ['readonly'], ...key1, group, summary: 'Returns all fields and values in a hash.', since: '2.0.0', handler: hgetall }),
  command({ name: 'hkeys', arity: 2, flags: ['readonly'], ...key1, group, summary: 'Returns all fields in a hash.', since: '2.0.0', handler: hkeysOrVals(false) }),
  command({ name: 'hvals', arity: 2, flags: ['readonly'], ...key1, group, summary: 'Returns all values in a hash.', since: '2.0.0', handler: hkeysOrVals(true) }),
  command({ name: 'hdel', arity: -3, flags: ['write', 'fast'], ...key1, group, summary: 'Deletes one or more fields and their values from a hash. Deletes the hash if no fields remain.', since: '2.0.0', handler: hdel }),
  command({ name: 'hexists', arity: 3, flags: ['readonly', 'fast'], ...key1, group, summary: 'Determines whether a field exists in a hash.', since: '2.0.0', handler: (ctx, argv) => ctx.out.raw(read(ctx, argv.str(1))?.get(argv.str(2)) === undefined ? ZERO : ONE) }),
  command({ name: 'hlen', arity: 2, flags: ['readonly', 'fast'], ...key1, group, summary: 'Returns the number of fields in a hash.', since: '2.0.0', handler: (ctx, argv) => ctx.out.integer(read(ctx, argv.str(1))?.size ?? 0) }),
  command({ name: 'hstrlen', arity: 3, flags: ['readonly', 'fast'], ...key1, group, summary: 'Returns the length of the value of a field.', since: '3.2.0', handler: (ctx, argv) => ctx.out.integer(read(ctx, argv.str(1))?.get(argv.str(2))?.length ?? 0) }),
  command({ name: 'hincrby', arity: 4, flags: ['write', 'denyoom', 'fast'], ...key1, group, summary: 'Increments the integer value of a field in a hash by a number. Uses 0 as initial value if the field doesn\'t exist.', since: '2.0.0', handler: hincrby }),
  command({ name: 'hincrbyfloat', arity: 4, flags: ['write', 'denyoom', 'fast'], ...key1, group, summary: 'Increments the floating point value of a field by a number. Uses 0 as initial value if the field doesn\'t exist.', since: '2.6.0', handler: hincrbyfloat }),
  command({ name: 'hrandfield', arity: -2, flags: ['readonly'], ...key1, group, summary: 'Returns one or more random fields from a hash.', since: '6.2.0', handler: hrandfield }),
  command({ name: 'hscan', arity: -3, flags: ['readonly'], ...key1, group, summary: 'Iterates over fields and values of a hash.', since: '2.8.0', handler: hscan }),
];
