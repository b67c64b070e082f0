/**
 * What the container commands (hashes.ts, sets.ts, lists.ts, sorted-sets.ts)
 * share: getting a key's container by type, creating it on a first write,
 * and the *SCAN commands' arguments and replies.
 */
import type { Argv } from '../protocol/argv.js';
import { globMatch } from '../store/glob.js';
import { NO_EXPIRY, type Key, type ObjectType, type StoredObject } from '../store/keyspace.js';
import type { CommandContext } from './context.js';
import { CommandError, Errors } from './errors.js';
import { argInt, argNumber, parseCursor, parseInt64 } from './numbers.js';

/** The container at key, for a command that reads it (counted as a hit or miss); WRONGTYPE if the key holds another type. */
export function readObject<T extends StoredObject>(ctx: CommandContext, key: Key, type: ObjectType): T | undefined {
  return ctx.store.getObject(key, type, true) as T | undefined;
}

/** The container at key, for a command that changes it (not counted as a read). */
export function writeObject<T extends StoredObject>(ctx: CommandContext, key: Key, type: ObjectType): T | undefined {
  return ctx.store.getObject(key, type, false) as T | undefined;
}

/**
 * After a write: a new container is stored (only if it holds something: a
 * command never leaves an empty key), an existing one is counted again and
 * deleted if the write emptied it.
 */
export function saveObject(ctx: CommandContext, key: Key, obj: StoredObject, created: boolean): void {
  if (created) {
    if (obj.size > 0) ctx.store.putObject(key, obj, NO_EXPIRY);
  } else ctx.store.objectChanged(key, obj);
}

export interface ScanArgs {
  cursor: number;
  pattern: string | undefined;
  count: number;
}

/** HSCAN/SSCAN/ZSCAN key cursor [MATCH pattern] [COUNT count], as Redis parses them. */
export function parseScanArgs(argv: Argv): ScanArgs {
  const cursor = parseCursor(argv.str(2));
  if (cursor === null) throw new CommandError(Errors.cursor);
  let pattern: string | undefined;
  let count = 10;
  for (let i = 3; i < argv.length; i += 2) {
    if (i + 1 >= argv.length) throw new CommandError(Errors.syntax);
    if (argv.is(i, 'match')) pattern = argv.str(i + 1);
    else if (argv.is(i, 'count')) {
      count = argNumber(argv, i + 1);
      if (count < 1) throw new CommandError(Errors.syntax);
    } else throw new CommandError(Errors.syntax);
  }
  // Cursors this node hands out are below 2^53; a larger one is no cursor of ours and restarts.
  return { cursor: cursor > BigInt(Number.MAX_SAFE_INTEGER) ? 0 : Number(cursor), pattern: pattern === '*' ? undefined : pattern, count };
}

export const matches = (pattern: string | undefined, s: string): boolean => pattern === undefined || globMatch(pattern, s);

/** A *SCAN reply: the next cursor and the flat list of elements (with values or scores for HSCAN, ZSCAN). */
export function replyScan(ctx: CommandContext, next: number, items: readonly string[]): void {
  ctx.out.array(2);
  ctx.out.bulkText(String(next));
  ctx.out.array(items.length);
  for (const s of items) ctx.out.bulkLatin1(s);
}

/** An array of binary strings. */
export function replyStrings(ctx: CommandContext, items: readonly string[]): void {
  ctx.out.array(items.length);
  for (const s of items) ctx.out.bulkLatin1(s);
}

/**
 * Most elements one reply may hold when a count asks for repeats (HRANDFIELD,
 * SRANDMEMBER, ZRANDMEMBER with a negative count): Redis would build any size
 * and run out of memory; past this a client gets an error instead.
 */
export const MAX_REPEATED = 1 << 24;

/** The count argument of the RAND* commands: Redis's range check, then ringcache's cap on repeats. */
export function randCount(argv: Argv, i: number, withValues: boolean): { count: number; unique: boolean } {
  const exact = BigInt(argInt(argv, i));
  if (exact < -9223372036854775807n) throw new CommandError('ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807');
  if (withValues && exact < -4611686018427387903n) throw new CommandError('ERR value is out of range');
  const n = Number(exact);
  if (n < -MAX_REPEATED) throw new CommandError(`ERR value is out of range (ringcache returns at most ${MAX_REPEATED} repeated elements)`);
  return n >= 0 ? { count: n, unique: true } : { count: -n, unique: false };
}

/** The keys after a numkeys argument at `at` (SINTERCARD, LMPOP, ZUNION...: a spec's keysOf). */
export function numkeysKeys(at: number) {
  return (argv: Argv): number[] => {
    const n = parseInt64(argv.buf, argv.start[at]!, argv.end[at]!);
    if (n === null || n <= 0 || Number(n) > argv.length - at - 1) return [];
    return Array.from({ length: Number(n) }, (_, i) => at + 1 + i);
  };
}
