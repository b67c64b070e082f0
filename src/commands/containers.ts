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

/**
 * The cursor of HSCAN/SSCAN/ZSCAN key cursor [MATCH pattern] [COUNT count]. Redis 7.0
 * parses it first, then looks the key up (an empty scan, WRONGTYPE), and only then
 * the options (parseScanArgs), so a missing key answers an empty scan whatever follows.
 */
export function scanCursor(argv: Argv): number {
  const cursor = parseCursor(argv.str(2));
  if (cursor === null) throw new CommandError(Errors.cursor);
  // Cursors this node hands out are below 2^53; a larger one is no cursor of ours and restarts.
  return cursor > BigInt(Number.MAX_SAFE_INTEGER) ? 0 : Number(cursor);
}

/** The MATCH and COUNT options of a container scan (after the key was found), as Redis parses them. */
export function parseScanArgs(argv: Argv, cursor: number): ScanArgs {
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
  return { cursor, pattern: pattern === '*' ? undefined : pattern, count };
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

/**
 * The count argument of the RAND* commands and what may follow it (WITHVALUES or
 * WITHSCORES when `word` is given): Redis's range check, then ringcache's cap on repeats.
 */
export function randCount(argv: Argv, i: number, word?: string): { count: number; unique: boolean; withWord: boolean } {
  // Redis's order: the count (its range), then the syntax of what follows, then WITHVALUES/WITHSCORES's
  // tighter range; the key is looked up only after all of them.
  const exact = BigInt(argInt(argv, i));
  if (exact < -9223372036854775807n) throw new CommandError('ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807');
  if (argv.length > i + 2 || (argv.length === i + 2 && (word === undefined || !argv.is(i + 1, word)))) throw new CommandError(Errors.syntax);
  const withWord = argv.length === i + 2;
  if (withWord && exact < -4611686018427387903n) throw new CommandError('ERR value is out of range');
  const n = Number(exact);
  if (n < -MAX_REPEATED) throw new CommandError(`ERR value is out of range (ringcache returns at most ${MAX_REPEATED} repeated elements)`);
  return n >= 0 ? { count: n, unique: true, withWord } : { count: -n, unique: false, withWord };
}

/**
 * C's atoi() as Redis's key extraction calls it on a numkeys argument: leading
 * white space, a sign, the digits up to the first non-digit (none: 0), strtol's
 * clamp to the 64-bit range, then the cast to a 32-bit int (so 4294967297 is 1).
 */
export function atoi32(buf: Buffer, start: number, end: number): number {
  let i = start;
  while (i < end && (buf[i] === 32 || (buf[i]! >= 9 && buf[i]! <= 13))) i++;
  let negative = false;
  if (i < end && (buf[i] === 43 || buf[i] === 45)) negative = buf[i++] === 45;
  let n = 0n;
  const limit = negative ? 9223372036854775808n : 9223372036854775807n;
  for (; i < end && buf[i]! >= 48 && buf[i]! <= 57; i++) {
    n = n * 10n + BigInt(buf[i]! - 48);
    if (n > limit) {
      n = limit;
      break;
    }
  }
  return Number(BigInt.asIntN(32, negative ? -n : n));
}

/**
 * The keys after a numkeys argument at `at` (SINTERCARD, LMPOP, ZUNION...: a
 * spec's keysOf), as Redis 7.0 extracts them: the count read as atoi() reads
 * it; no keys at all when it is below 1 or more keys than there are arguments
 * (the command then runs and answers its own error, as on Redis).
 */
export function numkeysKeys(at: number) {
  return (argv: Argv): number[] => {
    const n = atoi32(argv.buf, argv.start[at]!, argv.end[at]!);
    if (n < 1 || n > argv.length - at - 1) return [];
    return Array.from({ length: n }, (_, i) => at + 1 + i);
  };
}

/**
 * ZUNIONSTORE, ZINTERSTORE, ZDIFFSTORE: the destination (argument 1) and the
 * keys after the numkeys argument 2, by numkeysKeys' rule (no keys at all, not
 * even the destination, when the count is bad). In Redis's order: the
 * destination first when the count is a plain integer (its key specs answer),
 * last when only atoi() reads it ("1.5", "+1", "01": its getkeys fallback).
 */
export function storeNumkeysKeys(argv: Argv): number[] {
  const sources = numkeysKeys(2)(argv);
  if (sources.length === 0) return [];
  return parseInt64(argv.buf, argv.start[2]!, argv.end[2]!) !== null ? [1, ...sources] : [...sources, 1];
}
