/**
 * Sorted-set commands (the container is src/store/objects/zset-object.ts):
 * ZADD and friends, ranges by rank, score and member (ZRANGE and its older
 * forms, *STORE), pops (blocking too), the algebra (ZUNION ZINTER ZDIFF, their
 * STORE forms, ZINTERCARD; plain sets count as scores of 1), ZRANDMEMBER, ZSCAN.
 * Scores print as Redis 7.0 prints them ("%.17g").
 */
import type { Argv } from '../protocol/argv.js';
import { ZERO } from '../protocol/writer.js';
import type { ReplyWriter } from '../protocol/writer.js';
import { NO_EXPIRY, WrongTypeError, type Key } from '../store/keyspace.js';
import { SetObject } from '../store/objects/set-object.js';
import { lexGteMin, lexLteMax, gteMin, lteMax, type LexRange, type ScoreRange, type ZNode } from '../store/objects/skiplist.js';
import { ZSetObject } from '../store/objects/zset-object.js';
import { blockOn, timeoutAt } from './blocking.js';
import type { CommandContext } from './context.js';
import { matches, numkeysKeys, parseScanArgs, randCount, scanCursor, readObject, replyScan, saveObject, storeNumkeysKeys, writeObject } from './containers.js';
import { CommandError, Errors } from './errors.js';
import { clampRange, parseMpop, positiveCount } from './lists.js';
import { argNumber, formatScore, parseDouble, parseInt64 } from './numbers.js';
import { command, type CommandSpec } from './table.js';

const read = (ctx: CommandContext, key: Key) => readObject<ZSetObject>(ctx, key, 'zset');
const writeZset = (ctx: CommandContext, key: Key) => writeObject<ZSetObject>(ctx, key, 'zset');

const NOT_FLOAT = Errors.notFloat;
const NAN_SCORE = 'ERR resulting score is not a number (NaN)';

function scoreAt(argv: Argv, i: number, error: string = NOT_FLOAT): number {
  const d = parseDouble(argv.str(i), true);
  if (d === null) throw new CommandError(error);
  return d;
}

const replyScore = (out: ReplyWriter, d: number): void => out.doubleText(formatScore(d));

/** A score as Redis's d2string writes it (ZSCAN): integers below 2^63 in full, others as "%.17g". */
function scoreText(d: number): string {
  return Number.isInteger(d) && Math.abs(d) < 2 ** 63 ? BigInt(d).toString() : formatScore(d);
}

type Entry = readonly [string, number];

/**
 * Members, with their scores if asked: flat in RESP2; in RESP3 each pair in
 * an array of two (`nested`, as ZRANGE ... WITHSCORES), or flat (ZPOPMIN without a count).
 */
function replyEntries(out: ReplyWriter, entries: readonly Entry[], withScores: boolean, nested = true): void {
  const pairs = withScores && nested && out.protocol === 3;
  out.array(withScores && !pairs ? entries.length * 2 : entries.length);
  for (const [m, s] of entries) {
    if (pairs) out.array(2);
    out.bulkLatin1(m);
    if (withScores) replyScore(out, s);
  }
}

// --- ZADD, ZINCRBY, ZREM, point reads ---------------------------------------

function zadd(ctx: CommandContext, argv: Argv): void {
  let nx = false, xx = false, gt = false, lt = false, ch = false, incr = false;
  let i = 2;
  for (; i < argv.length; i++) {
    if (argv.is(i, 'nx')) nx = true;
    else if (argv.is(i, 'xx')) xx = true;
    else if (argv.is(i, 'gt')) gt = true;
    else if (argv.is(i, 'lt')) lt = true;
    else if (argv.is(i, 'ch')) ch = true;
    else if (argv.is(i, 'incr')) incr = true;
    else break;
  }
  const elements = argv.length - i;
  if (elements === 0 || elements % 2 !== 0) throw new CommandError(Errors.syntax);
  if (nx && xx) throw new CommandError('ERR XX and NX options at the same time are not compatible');
  if ((gt && nx) || (lt && nx) || (gt && lt)) throw new CommandError('ERR GT, LT, and/or NX options at the same time are not compatible');
  if (incr && elements > 2) throw new CommandError('ERR INCR option supports a single increment-element pair');
  const scores: number[] = [];
  for (let k = i; k < argv.length; k += 2) scores.push(scoreAt(argv, k));
  const key = argv.str(1);
  const found = writeZset(ctx, key);
  if (found === undefined && xx) return incr ? ctx.out.nullBulk() : ctx.out.raw(ZERO);
  const z = found ?? new ZSetObject();
  let added = 0;
  let updated = 0;
  let result: number | undefined;
  try {
    for (let k = i, n = 0; k < argv.length; k += 2, n++) {
      const member = argv.str(k + 1);
      let score = scores[n]!;
      const cur = z.score(member);
      if (cur !== undefined) {
        if (nx) continue;
        if (incr) {
          score += cur;
          if (Number.isNaN(score)) throw new CommandError(NAN_SCORE);
        }
        if ((gt && score <= cur) || (lt && score >= cur)) continue;
        result = score;
        if (score !== cur) {
          z.set(member, score);
          updated++;
        }
      } else {
        if (xx) continue;
        z.set(member, score);
        result = score;
        added++;
      }
    }
  } finally {
    if (added + updated > 0) saveObject(ctx, key, z, found === undefined);
  }
  if (incr) {
    if (result === undefined) ctx.out.nullBulk();
    else replyScore(ctx.out, result);
  } else ctx.out.integer(ch ? added + updated : added);
}

function zincrby(ctx: CommandContext, argv: Argv): void {
  const delta = scoreAt(argv, 2);
  const key = argv.str(1);
  const found = writeZset(ctx, key);
  const z = found ?? new ZSetObject();
  const member = argv.str(3);
  const score = (z.score(member) ?? 0) + delta;
  if (Number.isNaN(score)) throw new CommandError(NAN_SCORE);
  z.set(member, score);
  saveObject(ctx, key, z, found === undefined);
  replyScore(ctx.out, score);
}

function zrem(ctx: CommandContext, argv: Argv): void {
  const key = argv.str(1);
  const z = writeZset(ctx, key);
  if (z === undefined) return ctx.out.raw(ZERO);
  let removed = 0;
  for (let i = 2; i < argv.length; i++) if (z.delete(argv.str(i))) removed++;
  if (removed > 0) ctx.store.objectChanged(key, z);
  ctx.out.integer(removed);
}

function zscore(ctx: CommandContext, argv: Argv): void {
  const s = read(ctx, argv.str(1))?.score(argv.str(2));
  if (s === undefined) ctx.out.nullBulk();
  else replyScore(ctx.out, s);
}

function zmscore(ctx: CommandContext, argv: Argv): void {
  const z = read(ctx, argv.str(1));
  ctx.out.array(argv.length - 2);
  for (let i = 2; i < argv.length; i++) {
    const s = z?.score(argv.str(i));
    if (s === undefined) ctx.out.nullBulk();
    else replyScore(ctx.out, s);
  }
}

function zrank(rev: boolean) {
  return (ctx: CommandContext, argv: Argv): void => {
    if (argv.length > 4 || (argv.length === 4 && !argv.is(3, 'withscore'))) throw new CommandError(Errors.syntax);
    const withScore = argv.length === 4;
    const z = read(ctx, argv.str(1));
    const member = argv.str(2);
    const r = z?.rank(member, rev);
    if (r === undefined) return withScore ? ctx.out.nullArray() : ctx.out.nullBulk();
    if (!withScore) return ctx.out.integer(r);
    ctx.out.array(2);
    ctx.out.integer(r);
    replyScore(ctx.out, z!.score(member)!);
  };
}

// --- ranges -----------------------------------------------------------------

function scoreBound(text: string): { v: number; ex: boolean } | null {
  const ex = text.startsWith('(');
  const v = parseDouble(ex ? text.slice(1) : text, false);
  return v === null ? null : { v, ex };
}

export function parseScoreRange(argv: Argv, iMin: number, iMax: number): ScoreRange {
  const min = scoreBound(argv.str(iMin));
  const max = scoreBound(argv.str(iMax));
  if (min === null || max === null) throw new CommandError('ERR min or max is not a float');
  return { min: min.v, max: max.v, minex: min.ex, maxex: max.ex };
}

function lexBound(text: string): { v: string; ex: boolean; inf: -1 | 0 | 1 } | null {
  if (text === '+') return { v: '', ex: true, inf: 1 };
  if (text === '-') return { v: '', ex: true, inf: -1 };
  if (text.startsWith('(')) return { v: text.slice(1), ex: true, inf: 0 };
  if (text.startsWith('[')) return { v: text.slice(1), ex: false, inf: 0 };
  return null;
}

export function parseLexRange(argv: Argv, iMin: number, iMax: number): LexRange {
  const min = lexBound(argv.str(iMin));
  const max = lexBound(argv.str(iMax));
  if (min === null || max === null) throw new CommandError('ERR min or max not valid string range item');
  return { min: min.v, max: max.v, minex: min.ex, maxex: max.ex, minInf: min.inf, maxInf: max.inf };
}

const step = (n: ZNode, rev: boolean): ZNode | null => (rev ? n.prev : n.next[0]!);

function byRank(z: ZSetObject, start: number, stop: number, rev: boolean): Entry[] {
  const r = clampRange(start, stop, z.size);
  if (r === null) return [];
  const out: Entry[] = [];
  let n = z.at(rev ? z.size - 1 - r[0] : r[0]);
  for (let k = r[0]; k < r[1] && n !== null; k++, n = step(n, rev)) out.push([n.member, n.score]);
  return out;
}

type Bounded = { kind: 'score'; range: ScoreRange } | { kind: 'lex'; range: LexRange };

function inBound(n: ZNode, b: Bounded, rev: boolean): boolean {
  if (b.kind === 'score') return rev ? gteMin(n.score, b.range) : lteMax(n.score, b.range);
  return rev ? lexGteMin(n.member, b.range) : lexLteMax(n.member, b.range);
}

function firstOf(z: ZSetObject, b: Bounded, rev: boolean): ZNode | null {
  if (b.kind === 'score') return rev ? z.list.lastInRange(b.range) : z.list.firstInRange(b.range);
  return rev ? z.list.lastInLexRange(b.range) : z.list.firstInLexRange(b.range);
}

/** The entries in a score or member range, from either end, after `offset` and at most `count` (negative: all). */
function byBound(z: ZSetObject, b: Bounded, rev: boolean, offset: number, count: number): Entry[] {
  // A negative offset skips everything, as in Redis.
  if (offset < 0) return [];
  let n = firstOf(z, b, rev);
  for (; n !== null && offset > 0; offset--) n = step(n, rev);
  const out: Entry[] = [];
  for (; n !== null && count !== 0 && inBound(n, b, rev); n = step(n, rev), count--) out.push([n.member, n.score]);
  return out;
}

interface RangeForm {
  store: boolean;
  /** Fixed by the command (ZRANGEBYSCORE...), or chosen by BYSCORE/BYLEX (ZRANGE). */
  type: 'auto' | 'rank' | 'score' | 'lex';
  /** Fixed by the command, or chosen by REV (undefined). */
  rev: boolean | undefined;
}

/** ZRANGE, ZRANGESTORE and the older range commands, with Redis's option rules and checks in its order. */
function zrange(form: RangeForm) {
  return (ctx: CommandContext, argv: Argv): void => {
    const at = form.store ? 2 : 1;
    let withScores = false;
    let limited = false;
    let offset = 0;
    let count = -1;
    let type = form.type;
    let rev = form.rev ?? false;
    let revGiven = false;
    for (let j = at + 3; j < argv.length; j++) {
      const left = argv.length - j - 1;
      if (!form.store && argv.is(j, 'withscores')) withScores = true;
      else if (argv.is(j, 'limit') && left >= 2) {
        offset = argNumber(argv, j + 1);
        count = argNumber(argv, j + 2);
        limited = true;
        j += 2;
      } else if (form.rev === undefined && !revGiven && argv.is(j, 'rev')) rev = revGiven = true;
      // Once BYSCORE or BYLEX is given, another is a syntax error (as Redis's loop tests the type chosen so far).
      else if (type === 'auto' && argv.is(j, 'bylex')) type = 'lex';
      else if (type === 'auto' && argv.is(j, 'byscore')) type = 'score';
      else throw new CommandError(Errors.syntax);
    }
    if (type === 'auto') type = 'rank';
    if (limited && type === 'rank') throw new CommandError('ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX');
    if (withScores && type === 'lex') throw new CommandError('ERR syntax error, WITHSCORES not supported in combination with BYLEX');
    // In the REV forms of score and member ranges the first bound is the high one.
    const [iMin, iMax] = rev && type !== 'rank' ? [at + 2, at + 1] : [at + 1, at + 2];
    let entries: () => Entry[];
    if (type === 'rank') {
      const start = argNumber(argv, at + 1);
      const stop = argNumber(argv, at + 2);
      entries = () => byRank(z!, start, stop, rev);
    } else {
      const b: Bounded = type === 'score' ? { kind: 'score', range: parseScoreRange(argv, iMin, iMax) } : { kind: 'lex', range: parseLexRange(argv, iMin, iMax) };
      entries = () => byBound(z!, b, rev, offset, count);
    }
    const z = read(ctx, argv.str(at));
    const result = z === undefined ? [] : entries();
    if (!form.store) return replyEntries(ctx.out, result, withScores);
    storeEntries(ctx, argv.str(1), result);
    ctx.out.integer(result.length);
  };
}

/** Replaces dst with a sorted set of these entries (deleting it when there are none). */
function storeEntries(ctx: CommandContext, dst: Key, entries: Iterable<Entry>): void {
  const z = new ZSetObject();
  for (const [m, s] of entries) z.set(m, s);
  if (z.size === 0) ctx.store.delete(dst);
  else ctx.store.putObject(dst, z, NO_EXPIRY);
}

function zcount(lex: boolean) {
  return (ctx: CommandContext, argv: Argv): void => {
    const b: Bounded = lex ? { kind: 'lex', range: parseLexRange(argv, 2, 3) } : { kind: 'score', range: parseScoreRange(argv, 2, 3) };
    const z = read(ctx, argv.str(1));
    if (z === undefined) return ctx.out.raw(ZERO);
    const first = firstOf(z, b, false);
    if (first === null) return ctx.out.raw(ZERO);
    const last = firstOf(z, b, true)!;
    ctx.out.integer(z.rank(last.member, false)! - z.rank(first.member, false)! + 1);
  };
}

function zremrange(type: 'rank' | 'score' | 'lex') {
  return (ctx: CommandContext, argv: Argv): void => {
    let entries: (z: ZSetObject) => Entry[];
    if (type === 'rank') {
      const start = argNumber(argv, 2);
      const stop = argNumber(argv, 3);
      entries = (z) => byRank(z, start, stop, false);
    } else {
      const b: Bounded = type === 'score' ? { kind: 'score', range: parseScoreRange(argv, 2, 3) } : { kind: 'lex', range: parseLexRange(argv, 2, 3) };
      entries = (z) => byBound(z, b, false, 0, -1);
    }
    const key = argv.str(1);
    const z = writeZset(ctx, key);
    if (z === undefined) return ctx.out.raw(ZERO);
    const gone = entries(z);
    for (const [m] of gone) z.delete(m);
    if (gone.length > 0) ctx.store.objectChanged(key, z);
    ctx.out.integer(gone.length);
  };
}

// --- pops -------------------------------------------------------------------

type Where = 'min' | 'max';

/** Pops up to count entries from one end. */
function popEntries(z: ZSetObject, where: Where, count: number): Entry[] {
  const out: Entry[] = [];
  while (out.length < count && z.size > 0) {
    const n = where === 'min' ? z.list.first! : z.list.tail!;
    out.push([n.member, n.score]);
    z.delete(n.member);
  }
  return out;
}

function zpop(where: Where) {
  return (ctx: CommandContext, argv: Argv): void => {
    if (argv.length > 3) throw new CommandError(Errors.syntax);
    const count = argv.length === 3 ? positiveCount(argv, 2) : -1;
    const key = argv.str(1);
    const z = writeZset(ctx, key);
    if (z === undefined || count === 0) return ctx.out.array(0);
    const popped = popEntries(z, where, count < 0 ? 1 : count);
    ctx.store.objectChanged(key, z);
    // Without a count the pair is flat in RESP3 too.
    replyEntries(ctx.out, popped, true, count >= 0);
  };
}

/** Pops from the first non-empty sorted set of keys and writes [key, [[member, score]...]]; false if all are empty. */
function mpopZset(ctx: CommandContext, keys: readonly Key[], where: Where, count: number): boolean {
  for (const key of keys) {
    const z = writeZset(ctx, key);
    if (z === undefined) continue;
    const popped = popEntries(z, where, count);
    ctx.store.objectChanged(key, z);
    ctx.out.array(2);
    ctx.out.bulkLatin1(key);
    ctx.out.array(popped.length);
    for (const [m, s] of popped) {
      ctx.out.array(2);
      ctx.out.bulkLatin1(m);
      replyScore(ctx.out, s);
    }
    return true;
  }
  return false;
}

function zmpop(ctx: CommandContext, argv: Argv): void {
  const { keys, word, count } = parseMpop(argv, 1, ['min', 'max'] as const);
  if (!mpopZset(ctx, keys, word, count)) ctx.out.nullArray();
}

function bzmpop(ctx: CommandContext, argv: Argv): void {
  const timeout = timeoutAt(argv, 1);
  const { keys, word, count } = parseMpop(argv, 2, ['min', 'max'] as const);
  if (mpopZset(ctx, keys, word, count)) return;
  blockOn(ctx, keys, 'zset', timeout, (c, key) => mpopZset(c, [key], word, count), (out) => out.nullArray());
}

function bzpop(where: Where) {
  return (ctx: CommandContext, argv: Argv): void => {
    const timeout = timeoutAt(argv, argv.length - 1);
    const keys: Key[] = [];
    for (let i = 1; i < argv.length - 1; i++) keys.push(argv.str(i));
    const serve = (c: CommandContext, key: Key): boolean => {
      const z = writeZset(c, key);
      if (z === undefined) return false;
      const [[m, s]] = popEntries(z, where, 1) as [Entry];
      c.store.objectChanged(key, z);
      c.out.array(3);
      c.out.bulkLatin1(key);
      c.out.bulkLatin1(m);
      replyScore(c.out, s);
      return true;
    };
    for (const key of keys) if (serve(ctx, key)) return;
    blockOn(ctx, keys, 'zset', timeout, serve, (out) => out.nullArray());
  };
}

// --- algebra ----------------------------------------------------------------

type ZOp = 'union' | 'inter' | 'diff';
type Aggregate = 'sum' | 'min' | 'max';

/** A source of ZUNION and friends: a sorted set, or a plain set (scores of 1). */
type Source = ZSetObject | SetObject | undefined;

function sourceOf(ctx: CommandContext, key: Key): Source {
  const type = ctx.store.typeOf(key);
  if (type === undefined) return undefined;
  if (type === 'zset') return read(ctx, key);
  if (type === 'set') return readObject<SetObject>(ctx, key, 'set');
  throw new WrongTypeError();
}

function* entriesOf(s: ZSetObject | SetObject): Iterable<Entry> {
  if (s instanceof ZSetObject) for (let n = s.list.first; n !== null; n = n.next[0]!) yield [n.member, n.score];
  else for (const m of s.values()) yield [m, 1];
}

const scoreIn = (s: ZSetObject | SetObject, m: string): number | undefined => (s instanceof ZSetObject ? s.score(m) : s.has(m) ? 1 : undefined);
const sizeOf = (s: Source): number => s?.size ?? 0;

function aggregate(a: number, b: number, how: Aggregate): number {
  if (how === 'min') return Math.min(a, b);
  if (how === 'max') return Math.max(a, b);
  const sum = a + b;
  return Number.isNaN(sum) ? 0 : sum; // inf + -inf, as Redis's zunionInterAggregate
}

function combineZ(sources: Source[], weights: number[], how: Aggregate, op: ZOp): Map<string, number> {
  const weighted = (score: number, i: number): number => {
    const w = score * weights[i]!;
    return Number.isNaN(w) ? 0 : w;
  };
  const out = new Map<string, number>();
  if (op === 'union') {
    sources.forEach((s, i) => {
      if (s === undefined) return;
      for (const [m, score] of entriesOf(s)) {
        const w = weighted(score, i);
        const cur = out.get(m);
        out.set(m, cur === undefined ? w : aggregate(cur, w, how));
      }
    });
    return out;
  }
  const [first, ...rest] = sources;
  if (first === undefined || (op === 'inter' && rest.some((s) => s === undefined))) return out;
  for (const [m, score] of entriesOf(first)) {
    if (op === 'diff') {
      if (!rest.some((s) => s !== undefined && scoreIn(s, m) !== undefined)) out.set(m, score);
      continue;
    }
    let acc = weighted(score, 0);
    let everywhere = true;
    for (let i = 1; i < sources.length; i++) {
      const other = scoreIn(sources[i]!, m);
      if (other === undefined) {
        everywhere = false;
        break;
      }
      acc = aggregate(acc, weighted(other, i), how);
    }
    if (everywhere) out.set(m, acc);
  }
  return out;
}

/** ZUNION, ZINTER, ZDIFF and their STORE forms: numkeys, keys, then WEIGHTS, AGGREGATE, WITHSCORES. */
function zalgebra(op: ZOp, store: boolean, name: string) {
  return (ctx: CommandContext, argv: Argv): void => {
    const at = store ? 2 : 1;
    const numkeys = argNumber(argv, at);
    if (numkeys < 1) throw new CommandError(`ERR at least 1 input key is needed for '${name}' command`);
    if (numkeys > argv.length - at - 1) throw new CommandError(Errors.syntax);
    // The keys' types are checked before the options are read, as in Redis.
    const sources: Source[] = [];
    for (let i = 0; i < numkeys; i++) sources.push(sourceOf(ctx, argv.str(at + 1 + i)));
    const weights = new Array<number>(numkeys).fill(1);
    let how: Aggregate = 'sum';
    let withScores = false;
    for (let j = at + 1 + numkeys; j < argv.length; j++) {
      const left = argv.length - j;
      if (op !== 'diff' && left >= numkeys + 1 && argv.is(j, 'weights')) {
        for (let i = 0; i < numkeys; i++) weights[i] = scoreAt(argv, ++j, 'ERR weight value is not a float');
      } else if (op !== 'diff' && left >= 2 && argv.is(j, 'aggregate')) {
        j++;
        if (argv.is(j, 'sum')) how = 'sum';
        else if (argv.is(j, 'min')) how = 'min';
        else if (argv.is(j, 'max')) how = 'max';
        else throw new CommandError(Errors.syntax);
      } else if (!store && argv.is(j, 'withscores')) withScores = true;
      else throw new CommandError(Errors.syntax);
    }
    const result = combineZ(sources, weights, how, op);
    const z = new ZSetObject();
    for (const [m, s] of result) z.set(m, s);
    if (store) {
      const dst = argv.str(1);
      if (z.size === 0) ctx.store.delete(dst);
      else ctx.store.putObject(dst, z, NO_EXPIRY);
      return ctx.out.integer(z.size);
    }
    replyEntries(ctx.out, byRank(z, 0, -1, false), withScores);
  };
}

function zintercard(ctx: CommandContext, argv: Argv): void {
  // Checked as ZUNION's numkeys (Redis 7.0 shares the code), not as SINTERCARD's.
  const numkeys = argNumber(argv, 1);
  if (numkeys < 1) throw new CommandError("ERR at least 1 input key is needed for 'zintercard' command");
  if (numkeys > argv.length - 2) throw new CommandError(Errors.syntax);
  const end = 2 + numkeys;
  // The keys' types are checked before LIMIT is read, as in Redis 7.0 (ZUNION's code).
  const sources: Source[] = [];
  for (let i = 2; i < end; i++) sources.push(sourceOf(ctx, argv.str(i)));
  let limit = 0;
  for (let i = end; i < argv.length; i++) {
    if (argv.is(i, 'limit') && i + 1 < argv.length) {
      const l = parseInt64(argv.buf, argv.start[i + 1]!, argv.end[i + 1]!);
      if (l === null || l < 0) throw new CommandError("ERR LIMIT can't be negative");
      limit = Number(l);
      i++;
    } else throw new CommandError(Errors.syntax);
  }
  if (sources.some((s) => s === undefined)) return ctx.out.raw(ZERO);
  const all = sources as Array<ZSetObject | SetObject>;
  const smallest = all.reduce((a, b) => (sizeOf(b) < sizeOf(a) ? b : a));
  let n = 0;
  for (const [m] of entriesOf(smallest)) {
    if (all.every((s) => s === smallest || scoreIn(s, m) !== undefined)) n++;
    if (limit > 0 && n >= limit) break;
  }
  ctx.out.integer(n);
}

// --- random picks and scans ---------------------------------------------------

function zrandmember(ctx: CommandContext, argv: Argv): void {
  if (argv.length === 2) {
    const z = read(ctx, argv.str(1));
    if (z === undefined) return ctx.out.nullBulk();
    return ctx.out.bulkLatin1(z.scores.randomKey());
  }
  const { count, unique, withWord: withScores } = randCount(argv, 2, 'withscores');
  const z = read(ctx, argv.str(1));
  if (z === undefined || count === 0) return ctx.out.array(0);
  let picked: string[];
  if (!unique) {
    picked = [];
    for (let i = 0; i < count; i++) picked.push(z.scores.randomKey());
  } else if (count >= z.size) {
    // The whole sorted set, highest first, as Redis 7.0 lists it.
    picked = byRank(z, 0, -1, true).map(([m]) => m);
  } else {
    const chosen = new Set<string>();
    while (chosen.size < count) chosen.add(z.scores.randomKey());
    picked = [...chosen];
  }
  replyEntries(ctx.out, picked.map((m) => [m, z.score(m)!] as const), withScores);
}

function zscan(ctx: CommandContext, argv: Argv): void {
  const cursor = scanCursor(argv);
  const z = read(ctx, argv.str(1));
  if (z === undefined) return replyScan(ctx, 0, []);
  const args = parseScanArgs(argv, cursor);
  const items: string[] = [];
  const visit = (m: string, s: number): void => {
    if (matches(args.pattern, m)) items.push(m, scoreText(s));
  };
  // A small (listpack) sorted set is returned whole at once, in order, as Redis does.
  if (z.encoding() === 'listpack') {
    for (const [m, s] of byRank(z, 0, -1, false)) visit(m, s);
    return replyScan(ctx, 0, items);
  }
  replyScan(ctx, z.scores.scan(args.cursor, args.count, visit), items);
}

/** ZUNIONSTORE and friends: the destination, then numkeys sources. */
const key1 = { firstKey: 1, lastKey: 1, keyStep: 1 } as const;
const key12 = { firstKey: 1, lastKey: 2, keyStep: 1 } as const;
const group = 'sorted-set';
const ro = ['readonly'] as const;

export const sortedSetCommands: CommandSpec[] = [
  command({ name: 'zadd', arity: -4, flags: ['write', 'denyoom', 'fast'], ...key1, group, summary: 'Adds one or more members to a sorted set, or updates their scores. Creates the key if it doesn\'t exist.', since: '1.2.0', handler: zadd }),
  command({ name: 'zincrby', arity: 4, flags: ['write', 'denyoom', 'fast'], ...key1, group, summary: 'Increments the score of a member in a sorted set.', since: '1.2.0', handler: zincrby }),
  command({ name: 'zrem', arity: -3, flags: ['write', 'fast'], ...key1, group, summary: 'Removes one or more members from a sorted set. Deletes the sorted set if all members were removed.', since: '1.2.0', handler: zrem }),
  command({ name: 'zscore', arity: 3, flags: ['readonly', 'fast'], ...key1, group, summary: 'Returns the score of a member in a sorted set.', since: '1.2.0', handler: zscore }),
  command({ name: 'zmscore', arity: -3, flags: ['readonly', 'fast'], ...key1, group, summary: 'Returns the score of one or more members in a sorted set.', since: '6.2.0', handler: zmscore }),
  command({ name: 'zcard', arity: 2, flags: ['readonly', 'fast'], ...key1, group, summary: 'Returns the number of members in a sorted set.', since: '1.2.0', handler: (ctx, argv) => ctx.out.integer(read(ctx, argv.str(1))?.size ?? 0) }),
  command({ name: 'zcount', arity: 4, flags: ['readonly', 'fast'], ...key1, group, summary: 'Returns the count of members in a sorted set that have scores within a range.', since: '2.0.0', handler: zcount(false) }),
  command({ name: 'zlexcount', arity: 4, flags: ['readonly', 'fast'], ...key1, group, summary: 'Returns the number of members in a sorted set within a lexicographical range.', since: '2.8.9', handler: zcount(true) }),
  // WITHSCORE is Redis 7.2's (7.0's arity is 3): a deliberate difference.
  command({ name: 'zrank', arity: -3, flags: ['readonly', 'fast'], ...key1, group, summary: 'Returns the index of a member in a sorted set ordered by ascending scores.', since: '2.0.0', handler: zrank(false) }),
  command({ name: 'zrevrank', arity: -3, flags: ['readonly', 'fast'], ...key1, group, summary: 'Returns the index of a member in a sorted set ordered by descending scores.', since: '2.0.0', handler: zrank(true) }),
  command({ name: 'zrange', arity: -4, flags: [...ro], ...key1, group, summary: 'Returns members in a sorted set within a range of indexes.', since: '1.2.0', handler: zrange({ store: false, type: 'auto', rev: undefined }) }),
  command({ name: 'zrangestore', arity: -5, flags: ['write', 'denyoom'], ...key12, group, summary: 'Stores a range of members from sorted set in a key.', since: '6.2.0', handler: zrange({ store: true, type: 'auto', rev: undefined }) }),
  command({ name: 'zrevrange', arity: -4, flags: [...ro], ...key1, group, summary: 'Returns members in a sorted set within a range of indexes in reverse order.', since: '1.2.0', handler: zrange({ store: false, type: 'rank', rev: true }) }),
  command({ name: 'zrangebyscore', arity: -4, flags: [...ro], ...key1, group, summary: 'Returns members in a sorted set within a range of scores.', since: '1.0.5', handler: zrange({ store: false, type: 'score', rev: false }) }),
  command({ name: 'zrevrangebyscore', arity: -4, flags: [...ro], ...key1, group, summary: 'Returns members in a sorted set within a range of scores in reverse order.', since: '2.2.0', handler: zrange({ store: false, type: 'score', rev: true }) }),
  command({ name: 'zrangebylex', arity: -4, flags: [...ro], ...key1, group, summary: 'Returns members in a sorted set within a lexicographical range.', since: '2.8.9', handler: zrange({ store: false, type: 'lex', rev: false }) }),
  command({ name: 'zrevrangebylex', arity: -4, flags: [...ro], ...key1, group, summary: 'Returns members in a sorted set within a lexicographical range in reverse order.', since: '2.8.9', handler: zrange({ store: false, type: 'lex', rev: true }) }),
  command({ name: 'zremrangebyrank', arity: 4, flags: ['write'], ...key1, group, summary: 'Removes members in a sorted set within a range of indexes. Deletes the sorted set if all members were removed.', since: '2.0.0', handler: zremrange('rank') }),
  command({ name: 'zremrangebyscore', arity: 4, flags: ['write'], ...key1, group, summary: 'Removes members in a sorted set within a range of scores. Deletes the sorted set if all members were removed.', since: '1.2.0', handler: zremrange('score') }),
  command({ name: 'zremrangebylex', arity: 4, flags: ['write'], ...key1, group, summary: 'Removes members in a sorted set within a lexicographical range. Deletes the sorted set if all members were removed.', since: '2.8.9', handler: zremrange('lex') }),
  command({ name: 'zpopmin', arity: -2, flags: ['write', 'fast'], ...key1, group, summary: 'Returns the lowest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.', since: '5.0.0', handler: zpop('min') }),
  command({ name: 'zpopmax', arity: -2, flags: ['write', 'fast'], ...key1, group, summary: 'Returns the highest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.', since: '5.0.0', handler: zpop('max') }),
  command({ name: 'bzpopmin', arity: -3, flags: ['write', 'noscript', 'blocking', 'fast'], firstKey: 1, lastKey: -2, keyStep: 1, group, summary: 'Removes and returns the member with the lowest score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped.', since: '5.0.0', handler: bzpop('min') }),
  command({ name: 'bzpopmax', arity: -3, flags: ['write', 'noscript', 'blocking', 'fast'], firstKey: 1, lastKey: -2, keyStep: 1, group, summary: 'Removes and returns the member with the highest score from one or more sorted sets. Blocks until a member available otherwise. Deletes the sorted set if the last element was popped.', since: '5.0.0', handler: bzpop('max') }),
  command({ name: 'zmpop', arity: -4, flags: ['write'], keysOf: numkeysKeys(1), group, summary: 'Returns the highest- or lowest-scoring members from one or more sorted sets after removing them. Deletes the sorted set if the last member was popped.', since: '7.0.0', handler: zmpop }),
  command({ name: 'bzmpop', arity: -5, flags: ['write', 'blocking'], keysOf: numkeysKeys(2), group, summary: 'Removes and returns a member by score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped.', since: '7.0.0', handler: bzmpop }),
  command({ name: 'zunion', arity: -3, flags: [...ro], keysOf: numkeysKeys(1), group, summary: 'Returns the union of multiple sorted sets.', since: '6.2.0', handler: zalgebra('union', false, 'zunion') }),
  command({ name: 'zinter', arity: -3, flags: [...ro], keysOf: numkeysKeys(1), group, summary: 'Returns the intersect of multiple sorted sets.', since: '6.2.0', handler: zalgebra('inter', false, 'zinter') }),
  command({ name: 'zdiff', arity: -3, flags: [...ro], keysOf: numkeysKeys(1), group, summary: 'Returns the difference between multiple sorted sets.', since: '6.2.0', handler: zalgebra('diff', false, 'zdiff') }),
  command({ name: 'zunionstore', arity: -4, flags: ['write', 'denyoom'], ...key1, keysOf: storeNumkeysKeys, group, summary: 'Stores the union of multiple sorted sets in a key.', since: '2.0.0', handler: zalgebra('union', true, 'zunionstore') }),
  command({ name: 'zinterstore', arity: -4, flags: ['write', 'denyoom'], ...key1, keysOf: storeNumkeysKeys, group, summary: 'Stores the intersect of multiple sorted sets in a key.', since: '2.0.0', handler: zalgebra('inter', true, 'zinterstore') }),
  command({ name: 'zdiffstore', arity: -4, flags: ['write', 'denyoom'], ...key1, keysOf: storeNumkeysKeys, group, summary: 'Stores the difference of multiple sorted sets in a key.', since: '6.2.0', handler: zalgebra('diff', true, 'zdiffstore') }),
  command({ name: 'zintercard', arity: -3, flags: [...ro], keysOf: numkeysKeys(1), group, summary: 'Returns the number of members of the intersect of multiple sorted sets.', since: '7.0.0', handler: zintercard }),
  command({ name: 'zrandmember', arity: -2, flags: [...ro], ...key1, group, summary: 'Returns one or more random members from a sorted set.', since: '6.2.0', handler: zrandmember }),
  command({ name: 'zscan', arity: -3, flags: [...ro], ...key1, group, summary: 'Iterates over members and scores of a sorted set.', since: '2.8.0', handler: zscan }),
];
