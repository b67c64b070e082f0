/** Generic key commands: DEL, EXISTS, TTLs, RENAME, KEYS/SCAN, OBJECT, MEMORY and flushes. */
import type { Argv } from '../protocol/argv.js';
import { OK, ONE, ZERO } from '../protocol/writer.js';
import { globMatch } from '../store/glob.js';
import { NO_EXPIRY, type Key } from '../store/keyspace.js';
import type { CommandContext } from './context.js';
import { CommandError, Errors, userError } from './errors.js';
import { argInt, argNumber, expiryMs, parseCursor, parseInt64 } from './numbers.js';
import { prefetchKeys, stringEncoding } from './strings.js';
import { command, subcommandDispatcher, type CommandSpec } from './table.js';

function countKeys(ctx: CommandContext, argv: Argv, op: (key: Key) => boolean): void {
  let n = 0;
  prefetchKeys(ctx, argv, 1);
  for (let i = 1; i < argv.length; i++) if (op(argv.str(i))) n++;
  ctx.out.integer(n);
}

const del = (ctx: CommandContext, argv: Argv) => countKeys(ctx, argv, (k) => ctx.store.delete(k));
const exists = (ctx: CommandContext, argv: Argv) => countKeys(ctx, argv, (k) => ctx.store.exists(k));
const touch = (ctx: CommandContext, argv: Argv) => countKeys(ctx, argv, (k) => ctx.store.touch(k));

function type(ctx: CommandContext, argv: Argv): void {
  ctx.out.simple(ctx.store.typeOf(argv.str(1)) ?? 'none');
}

type ExpireMode = { unitMs: 1 | 1000; absolute: boolean; name: string };

/** EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT with NX | XX | GT | LT. */
function expireWith(mode: ExpireMode) {
  return (ctx: CommandContext, argv: Argv): void => {
    let nx = false;
    let xx = false;
    let gt = false;
    let lt = false;
    for (let i = 3; i < argv.length; i++) {
      if (argv.is(i, 'nx')) nx = true;
      else if (argv.is(i, 'xx')) xx = true;
      else if (argv.is(i, 'gt')) gt = true;
      else if (argv.is(i, 'lt')) lt = true;
      else throw new CommandError(userError(`ERR Unsupported option ${argv.utf8(i)}`));
    }
    if (nx && (xx || gt || lt)) throw new CommandError('ERR NX and XX, GT or LT options at the same time are not compatible');
    if (gt && lt) throw new CommandError('ERR GT and LT options at the same time are not compatible');
    const at = expiryMs(argInt(argv, 2), mode.unitMs, mode.absolute ? 0 : ctx.clock.now());
    if (at === null) throw new CommandError(Errors.invalidExpire(mode.name));
    const key = argv.str(1);
    const current = ctx.store.expireAt(key);
    if (current === undefined) return ctx.out.raw(ZERO);
    const hasTtl = current !== NO_EXPIRY;
    // A key without a TTL counts as an infinite TTL for GT and LT, as in Redis.
    if ((nx && hasTtl) || (xx && !hasTtl) || (gt && (!hasTtl || at <= current)) || (lt && hasTtl && at >= current)) {
      return ctx.out.raw(ZERO);
    }
    // setExpireAt deletes the key when `at` is already past; 0 would mean "no expiry", so pass 1 instead.
    ctx.store.setExpireAt(key, at <= 0 ? 1 : at);
    ctx.out.raw(ONE);
  };
}

/** TTL, PTTL, EXPIRETIME, PEXPIRETIME. */
function ttlWith(ms: boolean, absolute: boolean) {
  return (ctx: CommandContext, argv: Argv): void => {
    const at = ctx.store.expireAt(argv.str(1));
    if (at === undefined) return ctx.out.integer(-2);
    if (at === NO_EXPIRY) return ctx.out.integer(-1);
    // Seconds are rounded to the nearest, as Redis does, for TTL and EXPIRETIME alike.
    const t = absolute ? at : Math.max(0, at - ctx.clock.now());
    const reply = ms ? t : Math.floor((t + 500) / 1000);
    // Times beyond 2^53 ms are doubles in the keyspace: print them as the integers they are.
    ctx.out.integer(Number.isSafeInteger(reply) ? reply : BigInt(reply));
  };
}

function persist(ctx: CommandContext, argv: Argv): void {
  const key = argv.str(1);
  const at = ctx.store.expireAt(key);
  if (at === undefined || at === NO_EXPIRY) return ctx.out.raw(ZERO);
  ctx.store.setExpireAt(key, NO_EXPIRY);
  ctx.out.raw(ONE);
}

function rename(ctx: CommandContext, argv: Argv): void {
  if (!ctx.store.rename(argv.str(1), argv.str(2))) throw new CommandError(Errors.noSuchKey);
  ctx.out.raw(OK);
}

function renamenx(ctx: CommandContext, argv: Argv): void {
  const from = argv.str(1);
  const to = argv.str(2);
  if (!ctx.store.exists(from)) throw new CommandError(Errors.noSuchKey);
  if (ctx.store.exists(to)) return ctx.out.raw(ZERO);
  ctx.store.rename(from, to);
  ctx.out.raw(ONE);
}

function keys(ctx: CommandContext, argv: Argv): void {
  const pattern = argv.str(1);
  const all = pattern === '*';
  const found: Key[] = [];
  for (const k of ctx.store.keys()) if (all || globMatch(pattern, k)) found.push(k);
  ctx.out.array(found.length);
  for (const k of found) ctx.out.bulkLatin1(k);
}

function scan(ctx: CommandContext, argv: Argv): void {
  const cursor = parseCursor(argv.str(1));
  if (cursor === null) throw new CommandError(Errors.cursor);
  let pattern: string | undefined;
  let count = 10;
  let typeFilter: string | undefined;
  for (let i = 2; i < argv.length; i += 2) {
    if (i + 1 >= argv.length) throw new CommandError(Errors.syntax);
    if (argv.is(i, 'match')) pattern = argv.str(i + 1);
    else if (argv.is(i, 'count')) {
      count = argNumber(argv, i + 1);
      if (count < 1) throw new CommandError(Errors.syntax);
    } else if (argv.is(i, 'type')) typeFilter = argv.utf8(i + 1).toLowerCase();
    else throw new CommandError(Errors.syntax);
  }
  let found: Key[] = [];
  // A cursor this node never returned gives some valid cursor, as Redis does.
  const next = ctx.store.scan(Number(cursor), count, (k) => {
    if (pattern !== undefined && pattern !== '*' && !globMatch(pattern, k)) return;
    found.push(k);
  });
  // After the walk, not during it: the store is not called back into while it iterates.
  // An unknown type name matches nothing, as in Redis 7.0.
  if (typeFilter !== undefined) found = found.filter((k) => ctx.store.typeOf(k) === typeFilter);
  ctx.out.array(2);
  ctx.out.bulkText(String(next));
  ctx.out.array(found.length);
  for (const k of found) ctx.out.bulkLatin1(k);
}

function randomkey(ctx: CommandContext): void {
  const k = ctx.store.randomKey();
  if (k === undefined) ctx.out.nullBulk();
  else ctx.out.bulkLatin1(k);
}

function flush(ctx: CommandContext, argv: Argv): void {
  if (argv.length > 2 || (argv.length === 2 && !argv.is(1, 'async') && !argv.is(1, 'sync'))) {
    throw new CommandError(Errors.syntax);
  }
  ctx.store.flush();
  ctx.out.raw(OK);
}

/** OBJ_SHARED_REFCOUNT: the refcount Redis reports for its shared integers. */
const SHARED_REFCOUNT = 2147483647;
/** OBJ_SHARED_INTEGERS: Redis shares the int-encoded values 0 to 9999... */
const SHARED_INTEGERS = 10000;

/** ...unless maxmemory is set with an LRU or LFU policy, which needs a private object per key. */
function sharesIntegers(ctx: CommandContext): boolean {
  const setting = (name: string) => ctx.node.config.get(name)?.get() ?? '';
  return setting('maxmemory') === '0' || !/-(lru|lfu)$/.test(setting('maxmemory-policy'));
}

/** COPY source destination [DB n] [REPLACE]: values of any type, with their TTL; one database, so DB must be 0. */
function copy(ctx: CommandContext, argv: Argv): void {
  let replace = false;
  for (let i = 3; i < argv.length; i++) {
    if (argv.is(i, 'replace')) replace = true;
    else if (argv.is(i, 'db') && i + 1 < argv.length) {
      if (argInt(argv, ++i) !== 0) throw new CommandError(Errors.dbIndex);
    } else throw new CommandError(Errors.syntax);
  }
  const from = argv.str(1);
  const to = argv.str(2);
  if (from === to) throw new CommandError('ERR source and destination objects are the same');
  const type = ctx.store.typeOf(from);
  if (type === undefined) return ctx.out.raw(ZERO);
  if (!replace && ctx.store.exists(to)) return ctx.out.raw(ZERO);
  const at = ctx.store.expireAt(from)!;
  if (type === 'string') ctx.store.set(to, ctx.store.peek(from)!, at, ctx.store.encodingHint(from));
  else ctx.store.putObject(to, ctx.store.peekObject(from)!.clone(), at);
  ctx.out.raw(ONE);
}

function refcount(ctx: CommandContext, key: string, v: Buffer): number {
  if (stringEncoding(v, ctx.store.encodingHint(key)) !== 'int' || !sharesIntegers(ctx)) return 1;
  const n = Number(parseInt64(v, 0, v.length));
  return n >= 0 && n < SHARED_INTEGERS ? SHARED_REFCOUNT : 1;
}

/** MEMORY USAGE key [SAMPLES n]...: SAMPLES may repeat; n must be an integer >= 0 (ringcache needs no sampling). */
function memoryUsage(ctx: CommandContext, argv: Argv): void {
  for (let i = 3; i < argv.length; i += 2) {
    if (!argv.is(i, 'samples') || i + 1 >= argv.length) throw new CommandError(Errors.syntax);
    if (argInt(argv, i + 1) < 0) throw new CommandError(Errors.syntax);
  }
  const n = ctx.store.memoryUsage(argv.str(2));
  if (n === undefined) ctx.out.nullBulk();
  else ctx.out.integer(n);
}

const key2 = { firstKey: 2, lastKey: 2, keyStep: 1 } as const;
const key1 = { firstKey: 1, lastKey: 1, keyStep: 1 } as const;
const keysN = { firstKey: 1, lastKey: -1, keyStep: 1 } as const;
const group = 'generic';

const objectSubcommands: CommandSpec[] = [
  command({ name: 'object|encoding', arity: 3, flags: ['readonly'], ...key2, group, summary: 'Returns the internal encoding of a Redis object.', since: '2.2.3', handler: (ctx, argv) => {
    const key = argv.str(2);
    const type = ctx.store.typeOf(key);
    if (type === undefined) ctx.out.nullBulk();
    else if (type !== 'string') ctx.out.bulkText(ctx.store.peekObject(key)!.encoding());
    else ctx.out.bulkText(stringEncoding(ctx.store.peek(key)!, ctx.store.encodingHint(key)));
  } }),
  command({ name: 'object|refcount', arity: 3, flags: ['readonly'], ...key2, group, summary: 'Returns the reference count of a value of a key.', since: '2.2.3', handler: (ctx, argv) => {
    const key = argv.str(2);
    const type = ctx.store.typeOf(key);
    if (type === undefined) ctx.out.nullBulk();
    else ctx.out.integer(type === 'string' ? refcount(ctx, key, ctx.store.peek(key)!) : 1);
  } }),
  command({ name: 'object|help', arity: 2, flags: [], group, summary: 'Returns helpful text about the different subcommands.', since: '6.2.0', handler: (ctx) => {
    const lines = ['OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:', 'ENCODING <key>', '    Return the kind of internal representation used to store the value of <key>.', 'REFCOUNT <key>', '    Return the number of references of the value associated with <key>.', 'HELP', '    Print this help.'];
    ctx.out.array(lines.length);
    for (const l of lines) ctx.out.simple(l);
  } }),
];

const memorySubcommands: CommandSpec[] = [
  command({ name: 'memory|usage', arity: -3, flags: ['readonly'], ...key2, group: 'server', summary: 'Estimates the memory usage of a key.', since: '4.0.0', handler: memoryUsage }),
  command({ name: 'memory|help', arity: 2, flags: [], group: 'server', summary: 'Returns helpful text about the different subcommands.', since: '4.0.0', handler: (ctx) => {
    const lines = ['MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:', 'USAGE <key> [SAMPLES <count>]', '    Return memory in bytes used by <key> and its value.', 'HELP', '    Print this help.'];
    ctx.out.array(lines.length);
    for (const l of lines) ctx.out.simple(l);
  } }),
];

export const keyCommands: CommandSpec[] = [
  command({ name: 'del', arity: -2, flags: ['write'], ...keysN, group, summary: 'Deletes one or more keys.', handler: del }),
  command({ name: 'unlink', arity: -2, flags: ['write', 'fast'], ...keysN, group, summary: 'Asynchronously deletes one or more keys.', since: '4.0.0', handler: del }),
  command({ name: 'exists', arity: -2, flags: ['readonly', 'fast'], ...keysN, group, summary: 'Determines whether one or more keys exist.', handler: exists }),
  command({ name: 'touch', arity: -2, flags: ['readonly', 'fast'], ...keysN, group, summary: 'Returns the number of existing keys out of those specified after updating the time they were last accessed.', since: '3.2.1', handler: touch }),
  command({ name: 'type', arity: 2, flags: ['readonly', 'fast'], ...key1, group, summary: 'Determines the type of value stored at a key.', handler: type }),
  command({ name: 'expire', arity: -3, flags: ['write', 'fast'], ...key1, group, summary: 'Sets the expiration time of a key in seconds.', handler: expireWith({ unitMs: 1000, absolute: false, name: 'expire' }) }),
  command({ name: 'pexpire', arity: -3, flags: ['write', 'fast'], ...key1, group, summary: 'Sets the expiration time of a key in milliseconds.', since: '2.6.0', handler: expireWith({ unitMs: 1, absolute: false, name: 'pexpire' }) }),
  command({ name: 'expireat', arity: -3, flags: ['write', 'fast'], ...key1, group, summary: 'Sets the expiration time of a key to a Unix timestamp.', since: '1.2.0', handler: expireWith({ unitMs: 1000, absolute: true, name: 'expireat' }) }),
  command({ name: 'pexpireat', arity: -3, flags: ['write', 'fast'], ...key1, group, summary: 'Sets the expiration time of a key to a Unix milliseconds timestamp.', since: '2.6.0', handler: expireWith({ unitMs: 1, absolute: true, name: 'pexpireat' }) }),
  command({ name: 'ttl', arity: 2, flags: ['readonly', 'fast'], ...key1, group, summary: 'Returns the expiration time in seconds of a key.', handler: ttlWith(false, false) }),
  command({ name: 'pttl', arity: 2, flags: ['readonly', 'fast'], ...key1, group, summary: 'Returns the expiration time in milliseconds of a key.', since: '2.6.0', handler: ttlWith(true, false) }),
  command({ name: 'expiretime', arity: 2, flags: ['readonly', 'fast'], ...key1, group, summary: 'Returns the expiration time of a key as a Unix timestamp.', since: '7.0.0', handler: ttlWith(false, true) }),
  command({ name: 'pexpiretime', arity: 2, flags: ['readonly', 'fast'], ...key1, group, summary: 'Returns the expiration time of a key as a Unix milliseconds timestamp.', since: '7.0.0', handler: ttlWith(true, true) }),
  command({ name: 'persist', arity: 2, flags: ['write', 'fast'], ...key1, group, summary: 'Removes the expiration time of a key.', since: '2.2.0', handler: persist }),
  command({ name: 'copy', arity: -3, flags: ['write', 'denyoom'], firstKey: 1, lastKey: 2, keyStep: 1, group, summary: 'Copies the value of a key to a new key.', since: '6.2.0', handler: copy }),
  command({ name: 'rename', arity: 3, flags: ['write'], firstKey: 1, lastKey: 2, keyStep: 1, group, summary: 'Renames a key and overwrites the destination.', handler: rename }),
  command({ name: 'renamenx', arity: 3, flags: ['write', 'fast'], firstKey: 1, lastKey: 2, keyStep: 1, group, summary: 'Renames a key only when the target key name doesn\'t exist.', handler: renamenx }),
  command({ name: 'keys', arity: 2, flags: ['readonly'], group, summary: 'Returns all key names that match a pattern.', handler: keys }),
  command({ name: 'scan', arity: -2, flags: ['readonly'], group, summary: 'Iterates over the key names in the database.', since: '2.8.0', handler: scan }),
  command({ name: 'randomkey', arity: 1, flags: ['readonly', 'random'], group, summary: 'Returns a random key name from the database.', handler: randomkey }),
  command({ name: 'dbsize', arity: 1, flags: ['readonly', 'fast'], group: 'server', summary: 'Returns the number of keys in the database.', handler: (ctx) => ctx.out.integer(ctx.store.size) }),
  command({ name: 'flushall', arity: -1, flags: ['write'], group: 'server', summary: 'Removes all keys from all databases.', handler: flush }),
  command({ name: 'flushdb', arity: -1, flags: ['write'], group: 'server', summary: 'Remove all keys from the current database.', handler: flush }),
  command({ name: 'object', arity: -2, flags: [], group, summary: 'A container for object introspection commands.', since: '2.2.3', handler: subcommandDispatcher('object', objectSubcommands), subcommands: objectSubcommands }),
  command({ name: 'memory', arity: -2, flags: [], group: 'server', summary: 'A container for memory diagnostics commands.', since: '4.0.0', handler: subcommandDispatcher('memory', memorySubcommands), subcommands: memorySubcommands }),
];
