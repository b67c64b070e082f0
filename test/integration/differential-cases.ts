/**
 * The cases of the differential suite (differential.test.ts): command sequences
 * that run on ringcache and on a real redis-server, whose decoded replies must
 * be equal, error texts included. Replies that legitimately differ (TTLs that
 * round differently, ids, clocks, versions, memory numbers) are compared by a
 * Check that states what must still hold; ringcache's deliberate differences
 * are Deliberate steps that pin both sides' replies.
 */
import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { ReplyError, type Reply } from '../helpers/raw-client.js';

/** One command: a string split on spaces, or the exact arguments (for empty or spaced ones). */
export type Args = string | ReadonlyArray<string | Buffer>;

/** Asserts what must hold between Redis's reply and ringcache's when they need not be equal. */
export type Check = (redis: Reply, ringcache: Reply) => void;

export type Step =
  | Args
  | { cmd: Args; check: Check }
  /** A documented difference: each server's reply, as show() prints it. */
  | { cmd: Args; redis: string; ringcache: string; why: string }
  /** SCAN from cursor 0 to the end with these options: both must visit the same set of keys. */
  | { scanAll: string[] }
  | { sleep: number }
  /** Both servers must have closed the connection. */
  | { closed: true };

export interface Case {
  name: string;
  steps: Step[];
  /** Set when ringcache still differs and the fix is outside the files this suite may change. */
  todo?: string;
}

/** Whether a step is a bare command (compared exactly). */
export const isArgs = (step: Step): step is Args => typeof step === 'string' || Array.isArray(step);

export function argsOf(args: Args): Array<string | Buffer> {
  return typeof args === 'string' ? args.split(' ') : [...args];
}

/** A reply as one line of text, so that replies compare exactly and failures read well. */
export function show(r: Reply): string {
  if (r === null) return 'nil';
  if (r instanceof ReplyError) return `-${r.message}`;
  if (Buffer.isBuffer(r)) return isUtf8(r) ? JSON.stringify(r.toString()) : `<hex ${r.toString('hex')}>`;
  if (Array.isArray(r)) return `[${r.map(show).join(', ')}]`;
  if (r instanceof Map) return `{${[...r].map(([k, v]) => `${show(k)} => ${show(v)}`).join(', ')}}`;
  switch (typeof r) {
    case 'string':
      return `+${r}`;
    case 'boolean':
      return r ? '#t' : '#f';
    default:
      return `:${r}`;
  }
}

// ---------------------------------------------------------------- checks

const isInt = (r: Reply): r is number | bigint => typeof r === 'number' || typeof r === 'bigint';
const text = (r: Reply): string => (Buffer.isBuffer(r) ? r.toString() : String(r));

/** Integers within `tolerance` of each other (TTLs read a few ms apart); negative codes (-1, -2) must be equal. */
const near =
  (tolerance: number): Check =>
  (redis, ringcache) => {
    assert.ok(isInt(redis) && isInt(ringcache), `integers expected: ${show(redis)} / ${show(ringcache)}`);
    if (redis < 0 || ringcache < 0) return assert.equal(show(ringcache), show(redis));
    const diff = BigInt(redis) - BigInt(ringcache);
    assert.ok(diff <= BigInt(tolerance) && -diff <= BigInt(tolerance), `${show(ringcache)} not within ${tolerance} of redis's ${show(redis)}`);
  };
const TTL = near(1);
const PTTL = near(500);

/** Arrays with the same elements in any order (KEYS). */
const unordered: Check = (redis, ringcache) => {
  assert.ok(Array.isArray(redis) && Array.isArray(ringcache), `arrays expected: ${show(redis)} / ${show(ringcache)}`);
  assert.deepEqual(ringcache.map(show).sort(), redis.map(show).sort());
};

/** A map (RESP3) or flat array of pairs (RESP2) with the same pairs in any order. */
const samePairs: Check = (redis, ringcache) => assert.deepEqual(pairs(ringcache), pairs(redis));

/** The [key, value] pairs of a map reply (RESP3) or of a flat array of pairs (RESP2), shown. */
function pairList(r: Reply): Array<[string, string]> {
  if (r instanceof Map) return [...r].map(([k, v]) => [show(k), show(v)]);
  assert.ok(Array.isArray(r) && r.length % 2 === 0, `a map expected: ${show(r)}`);
  const out: Array<[string, string]> = [];
  for (let i = 0; i < r.length; i += 2) out.push([show(r[i]!), show(r[i + 1]!)]);
  return out;
}

const pairs = (r: Reply): string[] => pairList(r).map(([k, v]) => `${k} => ${v}`).sort();

/** The same predicate must hold for each server's reply. */
const both =
  (what: string, ok: (r: Reply) => boolean): Check =>
  (redis, ringcache) => {
    assert.ok(ok(redis), `redis's reply is not ${what}: ${show(redis)}`);
    assert.ok(ok(ringcache), `ringcache's reply is not ${what}: ${show(ringcache)}`);
  };

const positiveInt = both('a positive integer', (r) => isInt(r) && r > 0);

/** HELLO's map: equal but for the connection id and the server version. */
const hello: Check = (redis, ringcache) => {
  const [a, b] = [new Map(pairList(redis)), new Map(pairList(ringcache))];
  for (const m of [a, b]) assert.match(m.get('"id"') ?? '', /^:[1-9]\d*$/, 'HELLO id');
  assert.match(a.get('"version"') ?? '', /^"7\.0\.\d+"$/);
  // Deliberate: ringcache reports the Redis version whose commands it follows.
  assert.equal(b.get('"version"'), '"7.0.0"');
  for (const m of [a, b]) for (const k of ['"id"', '"version"']) m.delete(k);
  assert.deepEqual([...b], [...a]);
};

/** The `field=value` pairs of a CLIENT INFO line. */
function clientFields(line: string): Map<string, string> {
  return new Map(line.trim().split(' ').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
}

/** Verbatim text (RESP3 `=` with its `txt:` prefix) or a bulk string, as text. */
const verbatim = (r: Reply): string => text(r).replace(/^txt:/, '');

/** CLIENT INFO: Redis 7.0's fields, in its order, with equal values where they do not depend on the process. */
const clientInfo =
  (...compared: string[]): Check =>
  (redis, ringcache) => {
    const a = clientFields(verbatim(redis));
    const b = clientFields(verbatim(ringcache));
    // Deliberate: ringcache adds Redis 7.2's lib-name and lib-ver (CLIENT SETINFO).
    assert.deepEqual([...b.keys()].filter((k) => !k.startsWith('lib-')), [...a.keys()]);
    for (const k of compared) assert.equal(b.get(k), a.get(k), `CLIENT INFO field ${k}`);
  };

/** TIME: [seconds, microseconds] as digit strings, both clocks within 2 s of this process's. */
const time: Check = (redis, ringcache) => {
  for (const r of [redis, ringcache]) {
    assert.ok(Array.isArray(r) && r.length === 2, `TIME shape: ${show(r)}`);
    const [s, us] = r.map(text);
    assert.match(s!, /^\d+$/);
    assert.match(us!, /^\d+$/);
    assert.ok(Number(us) < 1e6);
    assert.ok(Math.abs(Number(s) - Date.now() / 1000) < 2, `TIME ${s} is not now`);
  }
};

/** An INFO field's value in each reply. */
const infoField = (r: Reply, field: string): string | undefined => new RegExp(`^${field}:(.*)\r$`, 'm').exec(verbatim(r))?.[1];

/** COMMAND INFO: name, arity, key positions and the flags that matter to routing as Redis, subcommands too. */
const commandInfo: Check = (redis, ringcache) => {
  const routing = ['write', 'readonly', 'denyoom', 'admin', 'fast'];
  const entry = (r: Reply): Reply[] => {
    assert.ok(Array.isArray(r) && r.length === 1 && Array.isArray(r[0]), `COMMAND INFO shape: ${show(r)}`);
    return r[0];
  };
  const essentials = (e: Reply[]): string => {
    const [name, arity, flags, first, last, step] = e;
    const kept = (flags as Reply[]).map(String).filter((f) => routing.includes(f)).sort();
    return `${show([name!, arity!, first!, last!, step!])} flags ${kept.join(' ')}`;
  };
  const subcommands = (e: Reply[]) => new Map((e[9] as Reply[][]).map((sub) => [text(sub[0]!), sub]));
  const [a, b] = [entry(redis), entry(ringcache)];
  assert.equal(essentials(b), essentials(a));
  const theirs = subcommands(a);
  for (const [name, sub] of subcommands(b)) {
    if (name === 'client|setinfo') continue; // Deliberate: Redis 7.2's, see the CLIENT SETINFO case.
    assert.ok(theirs.has(name), `redis has no ${name}`);
    assert.equal(essentials(sub), essentials(theirs.get(name)!));
  }
};

/** COMMAND DOCS of one command: the same since and group (summaries are reworded between Redis versions). */
const commandDocs: Check = (redis, ringcache) => {
  const fields = (r: Reply) => {
    const outer = r instanceof Map ? [...r.values()] : Array.isArray(r) ? r.filter((_, i) => i % 2 === 1) : [];
    assert.equal(outer.length, 1, `COMMAND DOCS of one command: ${show(r)}`);
    const inner = new Map(pairList(outer[0]!));
    return ['since', 'group'].map((f) => inner.get(`"${f}"`));
  };
  assert.deepEqual(fields(ringcache), fields(redis));
};

// ---------------------------------------------------------------- case data

/** 2100-01-01: far enough that nothing expires during the run. */
const FAR = '4102444800';
const FAR_MS = `${FAR}000`;
const INT64_MAX = '9223372036854775807';
const INT64_MIN = '-9223372036854775808';
const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

/** One step per value: SET it, then run `cmd` on it. */
const onValues = (values: readonly string[], cmd: string): Step[] => values.flatMap((v) => [['SET', 'k', v], cmd]);

const setCases: Case[] = [
  { name: 'SET: plain, overwrite, GET', steps: ['SET k v', 'GET k', 'SET k w', 'GET k', 'GET missing'] },
  { name: 'SET: NX on missing and existing keys', steps: ['SET k v NX', 'SET k w NX', 'GET k'] },
  { name: 'SET: XX on missing and existing keys', steps: ['SET k v XX', 'EXISTS k', 'SET k v', 'SET k w XX', 'GET k'] },
  { name: 'SET: NX with XX is a syntax error', steps: ['SET k v NX XX', 'SET k v XX NX', 'EXISTS k'] },
  { name: 'SET: repeated NX, XX, GET are accepted', steps: ['SET k v NX NX', 'SET k w XX XX', 'SET k x GET GET', 'GET k'] },
  { name: 'SET: GET on a missing key', steps: ['SET k v GET', 'GET k'] },
  { name: 'SET: GET on an existing key', steps: ['SET k v', 'SET k w GET', 'GET k'] },
  { name: 'SET: NX GET', steps: ['SET k v NX GET', 'SET k w NX GET', 'GET k'] },
  { name: 'SET: XX GET on a missing key', steps: ['SET k v XX GET', 'EXISTS k'] },
  { name: 'SET: options are case-insensitive', steps: ['SET k v nx Ex 100 gEt', { cmd: 'TTL k', check: TTL }, 'GET k'] },
  { name: 'SET: EX', steps: ['SET k v EX 100', { cmd: 'TTL k', check: TTL }, { cmd: 'PTTL k', check: PTTL }] },
  { name: 'SET: PX', steps: ['SET k v PX 100000', { cmd: 'PTTL k', check: PTTL }, { cmd: 'TTL k', check: TTL }] },
  { name: 'SET: EXAT and PXAT', steps: [`SET k v EXAT ${FAR}`, 'EXPIRETIME k', `SET k v PXAT ${FAR_MS.slice(0, -3)}123`, 'PEXPIRETIME k', 'EXPIRETIME k'] },
  { name: 'SET: EXAT and PXAT in the past delete the key', steps: ['SET k v', 'SET k v EXAT 1', 'EXISTS k', 'SET k v PXAT 1', 'EXISTS k'] },
  { name: 'SET: EXAT and PXAT far beyond 2^53 ms', steps: [
    'SET k v EXAT 9223372036854775', { cmd: 'TTL k', check: near(3) }, `SET k v PXAT ${INT64_MAX}`, { cmd: 'PEXPIRETIME k', check: near(2048) }, 'SET k v EXAT 9223372036854776',
  ] },
  { name: 'SET: a plain SET clears the TTL', steps: ['SET k v EX 100', 'SET k w', 'TTL k'] },
  { name: 'SET: KEEPTTL keeps the TTL', steps: ['SET k v EX 100', 'SET k w KEEPTTL', { cmd: 'TTL k', check: TTL }, 'GET k', 'SET m v KEEPTTL', 'TTL m'] },
  { name: 'SET: conflicting expiry options', steps: [
    'SET k v EX 10 PX 100', `SET k v EX 10 EXAT ${FAR}`, `SET k v PX 10 PXAT ${FAR_MS}`, 'SET k v KEEPTTL EX 10', 'SET k v EX 10 KEEPTTL', `SET k v PXAT ${FAR_MS} KEEPTTL`, 'EXISTS k',
  ] },
  { name: 'SET: a repeated EX or KEEPTTL, the last one counts', steps: ['SET k v EX 10 EX 100', { cmd: 'TTL k', check: TTL }, 'SET k w KEEPTTL KEEPTTL', { cmd: 'TTL k', check: TTL }, 'SET k v EX abc EX 100'] },
  { name: 'SET: bad expire values', steps: [
    'SET k v EX 0', 'SET k v EX -1', 'SET k v PX 0', 'SET k v PX -1', 'SET k v EXAT 0', 'SET k v PXAT -5', 'SET k v EX 1.5', 'SET k v EX abc', ['SET', 'k', 'v', 'EX', ''], ['SET', 'k', 'v', 'EX', ' 10'],
    `SET k v EX ${INT64_MAX}`, `SET k v PX ${INT64_MAX}`, 'SET k v EX 9223372036854775', 'SET k v EX 9223372036854776', 'SET k v EX 9223372036854775808', `SET k v PX ${INT64_MIN}`, 'EXISTS k',
  ] },
  { name: 'SET: an expiry option without its value', steps: ['SET k v EX', 'SET k v PX', 'SET k v EXAT', 'SET k v PXAT', 'SET k v EX NX', 'EXISTS k'] },
  { name: 'SET: syntax errors win over bad expire values', steps: ['SET k v EX 0 NX XX', 'SET k v EX abc FOO', 'SET k v PX -1 KEEPTTL', 'EXISTS k'] },
  { name: 'SET: unknown option', steps: ['SET k v FOO', 'SET k v EX 10 FOO', 'EXISTS k'] },
  { name: 'SET: empty key and value, binary value', steps: [['SET', '', ''], ['GET', ''], ['STRLEN', ''], ['EXISTS', ''], ['SET', 'b', ALL_BYTES], 'GET b', 'STRLEN b'] },
];

const getSetFamilyCases: Case[] = [
  { name: 'SETNX: missing and existing keys', steps: ['SETNX k v', 'SETNX k w', 'GET k'] },
  { name: 'SETNX: keeps the TTL of an existing key', steps: ['SET k v EX 100', 'SETNX k w', { cmd: 'TTL k', check: TTL }] },
  { name: 'SETEX: sets value and TTL, replacing both', steps: ['SET k old', 'SETEX k 100 v', { cmd: 'TTL k', check: TTL }, 'GET k', 'SETEX k 200 w', { cmd: 'TTL k', check: TTL }] },
  { name: 'SETEX: bad expire values', steps: ['SETEX k 0 v', 'SETEX k -1 v', 'SETEX k abc v', 'SETEX k 1.5 v', `SETEX k ${INT64_MAX} v`, 'SETEX k 9223372036854775808 v', 'EXISTS k'] },
  { name: 'PSETEX: sets value and TTL in ms', steps: ['PSETEX k 100000 v', { cmd: 'PTTL k', check: PTTL }, 'GET k'] },
  { name: 'PSETEX: bad expire values', steps: ['PSETEX k 0 v', 'PSETEX k -1 v', 'PSETEX k x v', `PSETEX k ${INT64_MAX} v`, 'EXISTS k'] },
  { name: 'GETSET: missing and existing keys; clears the TTL', steps: ['GETSET k v', 'GETSET k w', 'GET k', 'SET k x EX 100', 'GETSET k y', 'TTL k'] },
  { name: 'GETDEL: existing and missing keys', steps: ['SET k v', 'GETDEL k', 'EXISTS k', 'GETDEL k'] },
  { name: 'GETEX: without options keeps the TTL', steps: ['SET k v EX 100', 'GETEX k', { cmd: 'TTL k', check: TTL }] },
  { name: 'GETEX: EX PX EXAT PXAT', steps: [
    'SET k v', 'GETEX k EX 200', { cmd: 'TTL k', check: TTL }, 'GETEX k PX 300000', { cmd: 'PTTL k', check: PTTL },
    `GETEX k EXAT ${FAR}`, 'EXPIRETIME k', `GETEX k PXAT ${FAR_MS}`, 'PEXPIRETIME k', 'GETEX k ex 10 EX 100', { cmd: 'TTL k', check: TTL },
  ] },
  { name: 'GETEX: PERSIST', steps: ['SET k v EX 100', 'GETEX k PERSIST', 'TTL k', 'GETEX k PERSIST PERSIST', 'TTL k'] },
  { name: 'GETEX: conflicting and unknown options', steps: [
    'SET k v EX 100', 'GETEX k EX 10 PX 10', 'GETEX k PERSIST EX 10', 'GETEX k EX 10 PERSIST', 'GETEX k KEEPTTL', 'GETEX k NX', 'GETEX k GET', 'GETEX k FOO', 'GETEX k EX', { cmd: 'TTL k', check: TTL },
  ] },
  { name: 'GETEX: bad expire values', steps: ['SET k v', 'GETEX k EX 0', 'GETEX k EX -1', 'GETEX k PX abc', `GETEX k EX ${INT64_MAX}`, 'GETEX k EXAT 0', 'TTL k'] },
  { name: 'GETEX: a missing key', steps: ['GETEX m', 'GETEX m EX 10', 'GETEX m EX 0', 'GETEX m FOO', 'EXISTS m'] },
  { name: 'GETEX: a time in the past deletes the key', steps: ['SET k v', 'GETEX k EXAT 1', 'EXISTS k', 'SET k v', 'GETEX k PXAT 1', 'EXISTS k'] },
];

const multiCases: Case[] = [
  { name: 'MGET: present, missing and repeated keys', steps: ['MSET a 1 b 2', 'MGET a b c a', 'MGET c'] },
  { name: 'MSET: pairs, a repeated key, odd arguments', steps: ['MSET a 1 b 2 a 3', 'MGET a b', 'MSET x', 'MSET x 1 y', 'EXISTS x y'] },
  { name: 'MSET: clears TTLs', steps: ['SET a 1 EX 100', 'MSET a 2', 'TTL a'] },
  { name: 'MSETNX: all or nothing', steps: ['MSETNX a 1 b 2', 'MSETNX b 3 c 4', 'EXISTS c', 'MGET a b c', 'MSETNX x 1 y', 'MSETNX d 1 d 2', 'GET d'] },
  // More keys than the store prefetches (the first 32), repeats and missing keys among them.
  {
    name: 'multi-key commands over 40 keys',
    steps: [
      `MSET ${manyKeys(40).map((k, i) => `${k} ${i}`).join(' ')}`,
      `MGET ${manyKeys(45).join(' ')} k0`,
      `EXISTS ${manyKeys(45).join(' ')}`,
      `TOUCH ${manyKeys(42).join(' ')}`,
      `MSETNX ${manyKeys(41).map((k) => `${k} x`).join(' ')}`,
      `DEL ${manyKeys(45).join(' ')} k1`,
      'DBSIZE',
    ],
  },
];

function manyKeys(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `k${i}`);
}

const NOT_INTEGERS = ['1.5', ' 1', '1 ', '+1', '01', '-0', '', 'abc', '9223372036854775808', '-9223372036854775809', '1e3', '0x10', '123456789012345678901234'];

const counterCases: Case[] = [
  { name: 'INCR/DECR: a missing key starts at 0', steps: ['INCR k', 'INCR k', 'DECR k', 'DECR m', 'MGET k m'] },
  { name: 'INCRBY/DECRBY: amounts', steps: ['INCRBY k 10', 'INCRBY k -3', 'DECRBY k 5', 'DECRBY k -5', 'INCRBY k 0', 'GET k'] },
  { name: 'INCR/DECR: at the int64 limits', steps: [
    'SET k 9223372036854775806', 'INCR k', 'INCR k', 'GET k', 'SET k -9223372036854775807', 'DECR k', 'DECR k', 'GET k',
  ] },
  { name: 'INCRBY/DECRBY: at the int64 limits', steps: [
    `INCRBY k ${INT64_MAX}`, 'INCRBY k 1', 'SET k 0', `DECRBY k ${INT64_MAX}`, 'DECR k', 'DECRBY k 1', `DECRBY k ${INT64_MIN}`, 'SET k 0', `INCRBY k ${INT64_MIN}`, `DECRBY k -${INT64_MAX}`, 'GET k',
  ] },
  { name: 'INCR: on values that are not integers', steps: onValues(NOT_INTEGERS, 'INCR k') },
  { name: 'INCRBY/DECRBY: increments that are not integers', steps: ['SET k 1', 'INCRBY k 1.5', ['INCRBY', 'k', ''], 'INCRBY k +1', 'INCRBY k 9223372036854775808', 'DECRBY k abc', 'DECRBY k 01', 'GET k'] },
  { name: 'INCR: keeps the TTL; the result is int-encoded', steps: ['SET k 1 EX 100', 'INCR k', { cmd: 'TTL k', check: TTL }, 'OBJECT ENCODING k'] },
];

const floatCases: Case[] = [
  { name: 'INCRBYFLOAT: results are printed as Redis prints them', steps: [
    'INCRBYFLOAT k 0.1', 'INCRBYFLOAT k 0.2', 'INCRBYFLOAT k -0.3', 'INCRBYFLOAT k 10.5', 'INCRBYFLOAT k 5.0e3', 'INCRBYFLOAT k -5.0E+3', 'INCRBYFLOAT k 1e-5', 'INCRBYFLOAT k -0.0000001', 'GET k',
  ] },
  { name: 'INCRBYFLOAT: syntax Redis accepts', steps: ['INCRBYFLOAT a +1.5', 'INCRBYFLOAT b .5', 'INCRBYFLOAT c 5.', 'INCRBYFLOAT d -.5', 'INCRBYFLOAT e 1E2', 'INCRBYFLOAT f 0x1p4', 'INCRBYFLOAT g 0X1A', 'INCRBYFLOAT h 007'] },
  { name: 'INCRBYFLOAT: big and small exponents', steps: [
    'SET k 1e308', 'INCRBYFLOAT k 1e308', 'INCRBYFLOAT m 1e400', 'INCRBYFLOAT n 1.7976931348623157e308', 'INCRBYFLOAT p 3.0e-10', 'INCRBYFLOAT q 123456789012345678901234567890', 'INCRBYFLOAT r 1e-20', 'INCRBYFLOAT s 1e5000', 'INCRBYFLOAT t 1e-5000',
  ] },
  { name: 'INCRBYFLOAT: long double precision and rounding', steps: [
    'SET i 9007199254740993', 'INCRBYFLOAT i 0', 'INCRBYFLOAT t 0.000003814697265625', 'INCRBYFLOAT u 1.00000000000000000001', 'INCRBYFLOAT v 3.14159265358979323846264', 'INCRBYFLOAT w 0.1', 'INCRBYFLOAT w 0.1', 'INCRBYFLOAT w 0.1',
  ] },
  { name: 'INCRBYFLOAT: on integers', steps: ['SET k 10', 'INCRBYFLOAT k 0.5', 'INCRBYFLOAT k -0.5', `INCRBYFLOAT k ${INT64_MAX}`, 'SET z -0', 'INCRBYFLOAT z -0', 'INCRBYFLOAT y -0'] },
  { name: 'INCRBYFLOAT: infinity and NaN', steps: [
    'INCRBYFLOAT k inf', 'INCRBYFLOAT k -inf', 'INCRBYFLOAT k +inf', 'INCRBYFLOAT k Infinity', 'INCRBYFLOAT k nan', 'INCRBYFLOAT k NaN', 'EXISTS k', 'SET s inf', 'INCRBYFLOAT s 1', 'SET s -infinity', 'INCRBYFLOAT s 0',
  ] },
  { name: 'INCRBYFLOAT: increments that are not floats', steps: [
    'INCRBYFLOAT k abc', ['INCRBYFLOAT', 'k', ''], ['INCRBYFLOAT', 'k', ' 1'], ['INCRBYFLOAT', 'k', '1 '], 'INCRBYFLOAT k 1e', 'INCRBYFLOAT k .', 'INCRBYFLOAT k 1..2', 'INCRBYFLOAT k --1', 'INCRBYFLOAT k 0x', 'INCRBYFLOAT k 1,5', 'EXISTS k',
  ] },
  { name: 'INCRBYFLOAT: stored values that are not floats', steps: onValues(['abc', ' 1', '1 ', '', '1e', 'nan'], 'INCRBYFLOAT k 1') },
  { name: 'INCRBYFLOAT: keeps the TTL; the result is a string, not int-encoded', steps: ['SET k 1 EX 100', 'INCRBYFLOAT k 1', { cmd: 'TTL k', check: TTL }, 'OBJECT ENCODING k', 'INCRBYFLOAT k 0.5', 'OBJECT ENCODING k'] },
];

const HELLO_WORLD = ['SET', 's', 'Hello World'];
const RANGES: Array<[string, string]> = [
  ['0', '4'], ['-5', '-1'], ['-1', '-5'], ['5', '1'], ['0', '-1'], ['-100', '5'], ['0', '100'], ['-100', '-50'], ['50', '100'], ['3', '3'], ['-1', '-1'], ['11', '11'], ['10', '10'],
  ['-11', '0'], ['-12', '0'], ['0', '-12'], ['6', '-1'], ['-3', '100'], ['0', INT64_MAX], [INT64_MIN, '-1'], [INT64_MAX, INT64_MAX], [INT64_MIN, INT64_MAX], [INT64_MIN, INT64_MIN], ['-9223372036854775807', INT64_MIN],
];

const rangeCases: Case[] = [
  { name: 'APPEND: creates and extends', steps: ['APPEND k Hello', ['APPEND', 'k', ' World'], 'GET k', 'STRLEN k', ['APPEND', 'k', ''], 'STRLEN k'] },
  { name: 'APPEND: keeps the TTL; the result is raw-encoded', steps: ['SET k v EX 100', 'APPEND k x', { cmd: 'TTL k', check: TTL }, 'OBJECT ENCODING k', 'SET n 1', 'APPEND n 2', 'OBJECT ENCODING n', 'INCR n', 'OBJECT ENCODING n', 'GET n'] },
  { name: 'APPEND: to a missing key takes the encoding of the value', steps: ['APPEND a 123', 'OBJECT ENCODING a', 'APPEND b abc', 'OBJECT ENCODING b', ['APPEND', 'c', ''], 'EXISTS c', 'OBJECT ENCODING c'] },
  { name: 'STRLEN: missing keys count bytes', steps: ['STRLEN m', 'SET k héllo', 'STRLEN k'] },
  { name: 'GETRANGE: every sign combination of indices', steps: [HELLO_WORLD, ...RANGES.map(([a, b]) => `GETRANGE s ${a} ${b}`)] },
  { name: 'GETRANGE: missing key and empty value', steps: ['GETRANGE m 0 -1', 'GETRANGE m 5 10', ['SET', 'e', ''], 'GETRANGE e 0 -1', 'GETRANGE e -1 0'] },
  { name: 'GETRANGE: indices that are not integers', steps: [HELLO_WORLD, 'GETRANGE s a 1', 'GETRANGE s 1 1.5', 'GETRANGE s 0 9223372036854775808', 'GETRANGE m x 1'] },
  { name: 'SUBSTR: same as GETRANGE', steps: [HELLO_WORLD, 'SUBSTR s 0 4', 'SUBSTR s -3 -1', 'SUBSTR s 5 1', 'SUBSTR m 0 1'] },
  { name: 'SETRANGE: overwrite, extend, pad with zeros', steps: [HELLO_WORLD, 'SETRANGE s 6 Redis', 'GET s', 'SETRANGE s 20 !', 'GET s', 'STRLEN s', 'SETRANGE n 3 x', 'GET n'] },
  { name: 'SETRANGE: empty values change nothing', steps: [['SETRANGE', 'm', '0', ''], 'EXISTS m', ['SETRANGE', 'm', '100', ''], 'SET k abc', ['SETRANGE', 'k', '10', ''], ['SETRANGE', 'k', '1', ''], 'GET k'] },
  { name: 'SETRANGE: bad offsets', steps: [
    'SETRANGE k -1 x', 'SETRANGE k abc x', 'SETRANGE k 1.5 x', 'SETRANGE k 536870912 x', 'SETRANGE k 536870911 xx', `SETRANGE k ${INT64_MAX} x`, 'SETRANGE k 9223372036854775808 x', `SETRANGE k ${INT64_MIN} x`, 'EXISTS k',
  ] },
  { name: 'SETRANGE: keeps the TTL; the result is raw-encoded', steps: ['SET k abc EX 100', 'SETRANGE k 1 X', { cmd: 'TTL k', check: TTL }, 'OBJECT ENCODING k', 'SETRANGE n 0 123', 'OBJECT ENCODING n', 'GET n'] },
];

const keyCases: Case[] = [
  { name: 'DEL/UNLINK: count deleted keys, a repeated key once', steps: ['MSET a 1 b 2 c 3', 'DEL a a b missing', 'EXISTS a b', 'UNLINK c c missing', 'DBSIZE'] },
  { name: 'EXISTS: counts repeated keys', steps: ['SET a 1', 'EXISTS a a a missing', 'EXISTS missing'] },
  { name: 'TOUCH: counts existing keys', steps: ['MSET a 1 b 2', 'TOUCH a b missing a', 'TOUCH missing'] },
  { name: 'TYPE: string and none', steps: ['SET a 1', 'TYPE a', 'TYPE missing'] },
  { name: 'EXPIRE: sets and replaces a TTL', steps: ['SET k v', 'EXPIRE k 100', { cmd: 'TTL k', check: TTL }, 'EXPIRE k 200', { cmd: 'TTL k', check: TTL }, 'EXPIRE missing 100'] },
  { name: 'PEXPIRE, EXPIREAT, PEXPIREAT', steps: [
    'SET k v', 'PEXPIRE k 100000', { cmd: 'PTTL k', check: PTTL }, `EXPIREAT k ${FAR}`, 'EXPIRETIME k', { cmd: 'TTL k', check: TTL }, `PEXPIREAT k ${FAR_MS.slice(0, -3)}999`, 'PEXPIRETIME k', 'EXPIRETIME k',
    `PEXPIREAT k ${FAR_MS.slice(0, -3)}499`, 'EXPIRETIME k', 'PEXPIREAT missing 1',
  ] },
  { name: 'EXPIRE NX', steps: ['SET k v', 'EXPIRE k 100 NX', 'EXPIRE k 200 NX', { cmd: 'TTL k', check: TTL }, 'EXPIRE k 300 nx nx'] },
  { name: 'EXPIRE XX', steps: ['SET k v', 'EXPIRE k 100 XX', 'TTL k', 'EXPIRE k 100', 'EXPIRE k 200 XX', { cmd: 'TTL k', check: TTL }] },
  { name: 'EXPIRE GT: no TTL counts as infinite', steps: ['SET k v', 'EXPIRE k 100 GT', 'TTL k', 'EXPIRE k 100', 'EXPIRE k 50 GT', 'EXPIRE k 200 GT', { cmd: 'TTL k', check: TTL }] },
  { name: 'EXPIRE LT: no TTL counts as infinite', steps: ['SET k v', 'EXPIRE k 100 LT', { cmd: 'TTL k', check: TTL }, 'EXPIRE k 200 LT', 'EXPIRE k 50 LT', { cmd: 'TTL k', check: TTL }] },
  { name: 'EXPIRE XX GT, XX LT', steps: ['SET k v', 'EXPIRE k 100 XX GT', 'EXPIRE k 100', 'EXPIRE k 200 xx gt', 'EXPIRE k 50 XX LT', { cmd: 'TTL k', check: TTL }] },
  { name: 'EXPIRE: conflicting and unknown options', steps: [
    'SET k v', 'EXPIRE k 100 NX XX', 'EXPIRE k 100 NX GT', 'EXPIRE k 100 NX LT', 'EXPIRE k 100 GT LT', 'EXPIRE k 100 XX NX', 'EXPIRE k 100 FOO', 'EXPIRE k 100 NX FOO', 'EXPIRE k abc FOO', 'EXPIRE k abc NX XX', 'EXPIRE missing 100 GT LT', 'PEXPIRE k 100 bar', 'TTL k',
  ] },
  { name: 'EXPIRE: times in the past delete the key', steps: [
    'SET k v', 'EXPIRE k -1', 'EXISTS k', 'SET k v', 'EXPIRE k 0', 'EXISTS k', 'SET k v', 'PEXPIREAT k 1', 'EXISTS k', 'SET k v', 'EXPIREAT k -10', 'EXISTS k',
    'SET k v EX 100', 'EXPIRE k -1 GT', 'EXISTS k', 'EXPIRE k -1 LT', 'EXISTS k',
  ] },
  { name: 'EXPIRE: times that are not integers or overflow', steps: [
    'SET k v', 'EXPIRE k abc', 'EXPIRE k 1.5', ['EXPIRE', 'k', ''], `EXPIRE k ${INT64_MAX}`, 'EXPIRE k 9223372036854775', 'EXPIRE k 9223372036854775808', `EXPIRE k ${INT64_MIN}`,
    `PEXPIRE k ${INT64_MAX}`, `EXPIREAT k ${INT64_MAX}`, 'EXPIREAT k 9223372036854776', 'TTL k', `PEXPIRE k ${INT64_MIN}`, 'EXISTS k',
  ] },
  { name: 'EXPIREAT/PEXPIREAT: times far beyond 2^53 ms', steps: [
    'SET k v', `PEXPIREAT k ${INT64_MAX}`, { cmd: 'PEXPIRETIME k', check: near(2048) }, { cmd: 'TTL k', check: near(3) }, 'EXPIREAT k 9223372036854775', { cmd: 'EXPIRETIME k', check: near(3) },
  ] },
  { name: 'TTL/PTTL/EXPIRETIME/PEXPIRETIME: missing and persistent keys', steps: ['TTL m', 'PTTL m', 'EXPIRETIME m', 'PEXPIRETIME m', 'SET k v', 'TTL k', 'PTTL k', 'EXPIRETIME k', 'PEXPIRETIME k'] },
  { name: 'PERSIST', steps: ['SET k v EX 100', 'PERSIST k', 'TTL k', 'PERSIST k', 'PERSIST missing'] },
  { name: 'lazy expiry: keys with a short TTL are gone once it passes', steps: [
    'SET k v PX 100', 'SET j v PX 100', 'SET p v', 'PEXPIRE p 100', 'EXISTS k j p', { sleep: 250 }, 'GET k', 'EXISTS j', 'TTL p', 'KEYS *', 'DBSIZE',
  ] },
  { name: 'RENAME: moves the value and the TTL', steps: ['SET a 1 EX 100', 'RENAME a b', 'EXISTS a', 'GET b', { cmd: 'TTL b', check: TTL }, 'SET c 2', 'RENAME b c', 'GET c', { cmd: 'TTL c', check: TTL }] },
  { name: 'RENAME: missing source, same key', steps: ['RENAME m x', 'RENAME m m', 'SET a 1', 'RENAME a a', 'GET a'] },
  { name: 'RENAMENX', steps: ['SET a 1', 'SET b 2', 'RENAMENX a b', 'RENAMENX a c', 'GET c', 'RENAMENX m x', 'RENAMENX c c', 'MGET a b c'] },
];

const GLOB_KEYS = ['MSET', 'hello', '1', 'hallo', '1', 'hxllo', '1', 'hllo', '1', 'heeello', '1', 'h*llo', '1', 'h?llo', '1', 'h]llo', '1', 'h-llo', '1', 'h^llo', '1', 'h\\llo', '1', 'a', '1', 'b', '1', 'c', '1', 'ab', '1', '[', '1', ']', '1', '_', '1', '-', '1'];
const keys = (...patterns: Array<string | Buffer>): Step[] => patterns.map((p) => ({ cmd: ['KEYS', p], check: unordered }));

const globCases: Case[] = [
  { name: 'KEYS: * and ? wildcards', steps: [GLOB_KEYS, ...keys('*', 'h?llo', 'h*llo', '*llo', 'h*', '?', '??', 'nomatch', 'h**llo', '*l*o*')] },
  { name: 'KEYS: classes, ranges and negation', steps: [GLOB_KEYS, ...keys('h[ae]llo', 'h[^e]llo', 'h[a-e]llo', 'h[e-a]llo', '[a-c]', '[^a]', '[^a-b]', '[abc]*', 'h[]]llo', 'h[]llo', '[]a]')] },
  { name: 'KEYS: escapes', steps: [GLOB_KEYS, ...keys('h\\*llo', 'h\\?llo', 'h\\[llo', 'h\\\\llo', 'h[\\]]llo', 'h[\\^]llo', '\\a', 'a\\')] },
  { name: 'KEYS: unusual classes as Redis reads them', steps: [GLOB_KEYS, ...keys('[a-]', 'h[a-]llo', '[-a]', '[\\a-c]', '[ab', '[', '[^]', '[]', 'h[\\', '[a-c', '[!a]')] },
  { name: 'KEYS: an empty key and patterns of stars', steps: [['SET', '', 'v'], 'SET x v', ...keys('*', '**', '?', '', 'x**')] },
  { name: 'KEYS: patterns match bytes, not characters', steps: ['MSET é 1 e 1', ...keys('?', '??', Buffer.from([0x3f, 0xa9]), '[é]', 'é')] },
];

const THIRTY_KEYS = ['MSET', ...Array.from({ length: 30 }, (_, i) => [`k${i}`, String(i)]).flat()];

const scanCases: Case[] = [
  { name: 'SCAN: a full iteration visits every key', steps: [
    THIRTY_KEYS, { scanAll: [] }, { scanAll: ['COUNT', '3'] }, { scanAll: ['COUNT', '1000'] }, { scanAll: ['MATCH', 'k1*'] }, { scanAll: ['MATCH', 'k?', 'COUNT', '5'] },
    { scanAll: ['TYPE', 'string'] }, { scanAll: ['type', 'STRING', 'match', '*2*'] }, { scanAll: ['TYPE', 'list'] }, { scanAll: ['TYPE', 'nosuchtype'] },
  ] },
  { name: 'SCAN: an empty database', steps: ['SCAN 0', 'SCAN 0 MATCH *', 'SCAN 0 COUNT 10 TYPE string'] },
  { name: 'SCAN: cursors strtoul accepts', steps: ['SCAN -1', 'SCAN +0', 'SCAN 00', ['SCAN', ''], 'SCAN 18446744073709551615', `SCAN 0 COUNT ${INT64_MAX}`] },
  { name: 'SCAN: bad cursors and options', steps: [
    'SCAN x', 'SCAN 1.5', ['SCAN', ' 1'], ['SCAN', '1 '], 'SCAN 18446744073709551616', 'SCAN 0 COUNT 0', 'SCAN 0 COUNT -1', 'SCAN 0 COUNT abc', 'SCAN 0 COUNT', 'SCAN 0 MATCH', 'SCAN 0 TYPE', 'SCAN 0 FOO', 'SCAN 0 COUNT 10 FOO',
  ] },
];

const dbCases: Case[] = [
  { name: 'RANDOMKEY: empty, one key, several keys', steps: [
    'RANDOMKEY', 'SET a 1', 'RANDOMKEY', 'MSET b 1 c 1', { cmd: 'RANDOMKEY', check: both('one of a, b, c', (r) => ['a', 'b', 'c'].includes(text(r))) },
  ] },
  { name: 'DBSIZE', steps: ['DBSIZE', 'MSET a 1 b 2', 'DBSIZE', 'DEL a', 'DBSIZE'] },
  { name: 'FLUSHALL/FLUSHDB: SYNC and ASYNC', steps: ['MSET a 1 b 2', 'FLUSHALL', 'DBSIZE', 'SET a 1', 'FLUSHDB ASYNC', 'DBSIZE', 'SET a 1', 'FLUSHALL sync', 'FLUSHALL async', 'FLUSHDB SYNC', 'DBSIZE'] },
  { name: 'FLUSHALL/FLUSHDB: bad arguments', steps: ['SET a 1', 'FLUSHALL FOO', 'FLUSHALL ASYNC SYNC', 'FLUSHDB FOO', 'FLUSHDB ASYNC x', 'DBSIZE'] },
];

const ENCODED = ['0', '-1', '123', INT64_MAX, INT64_MIN, '9223372036854775808', '12345678901234567890', '01', '+1', ' 1', '1.5', '-0', '', 'a'.repeat(44), 'a'.repeat(45), '1'.repeat(44)];

const objectCases: Case[] = [
  { name: 'OBJECT ENCODING: int, embstr and raw boundaries', steps: onValues(ENCODED, 'OBJECT ENCODING k') },
  { name: 'OBJECT ENCODING: values written by every string command', steps: [
    'SETNX a 1', 'SETEX b 100 2', 'PSETEX c 100000 x', 'GETSET d 4', 'MSET e 5 f 66666666666666666666666666666666666666666666666', 'MSETNX g 7', 'INCRBY h 5', 'DECR i', 'SET j 10 EX 100', 'RENAME j jj',
    ...['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'jj'].map((k) => `OBJECT ENCODING ${k}`),
  ] },
  { name: 'OBJECT: missing key, subcommands, HELP', steps: [
    'OBJECT ENCODING missing', 'OBJECT REFCOUNT missing', 'OBJECT FOO k', 'OBJECT encoding', 'OBJECT ENCODING a b',
    { cmd: 'OBJECT HELP', check: both('OBJECT HELP text', (r) => Array.isArray(r) && r[0] === 'OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:' && r.every((l) => typeof l === 'string')) },
  ] },
  { name: 'OBJECT REFCOUNT: shared small integers', steps: ['MSET a 100 b 10000 c hello d -1 e 9999', 'INCR f', ...['a', 'b', 'c', 'd', 'e', 'f'].map((k) => `OBJECT REFCOUNT ${k}`)] },
  { name: 'MEMORY USAGE', steps: [
    'SET k v', { cmd: 'MEMORY USAGE k', check: positiveInt }, 'MEMORY USAGE missing', { cmd: 'MEMORY USAGE k SAMPLES 5', check: positiveInt }, { cmd: 'MEMORY USAGE k SAMPLES 0', check: positiveInt },
    { cmd: 'MEMORY USAGE k SAMPLES 1 samples 2', check: positiveInt }, 'MEMORY USAGE k SAMPLES -1', 'MEMORY USAGE k SAMPLES x', 'MEMORY USAGE k SAMPLES', 'MEMORY USAGE k FOO', 'MEMORY USAGE missing FOO', 'MEMORY FOO',
    { cmd: 'MEMORY HELP', check: both('MEMORY HELP text', (r) => Array.isArray(r) && r[0] === 'MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:') },
  ] },
];

const BAD_NAMES = ['a b', 'a\nb', 'é', '\x7f', '\x01'];

const connectionCases: Case[] = [
  { name: 'PING and ECHO', steps: ['PING', 'PING hello', ['PING', ''], 'ECHO hi', ['ECHO', ''], ['ECHO', ALL_BYTES]] },
  { name: 'SELECT: db 0, bad indices', steps: ['SELECT 0', 'SELECT x', 'SELECT 1.5', 'SELECT -1', 'SELECT 16', 'SELECT 2147483648', 'SELECT -2147483649', 'SELECT 9223372036854775808', ['SELECT', '']] },
  { name: 'SELECT: ringcache has only db 0', steps: [
    { cmd: 'SELECT 1', redis: '+OK', ringcache: '-ERR DB index is out of range', why: 'one keyspace per node' },
    { cmd: 'SELECT 15', redis: '+OK', ringcache: '-ERR DB index is out of range', why: 'one keyspace per node' },
  ] },
  { name: 'CLIENT SETNAME/GETNAME', steps: ['CLIENT GETNAME', 'CLIENT SETNAME foo', 'CLIENT GETNAME', ['CLIENT', 'SETNAME', ''], 'CLIENT GETNAME', 'client setname Bar', 'CLIENT GETNAME'] },
  { name: 'CLIENT SETNAME: names with spaces or special characters', steps: ['CLIENT SETNAME ok', ...BAD_NAMES.map((n) => ['CLIENT', 'SETNAME', n]), 'CLIENT GETNAME'] },
  { name: 'CLIENT ID', steps: [{ cmd: 'CLIENT ID', check: positiveInt }] },
  { name: 'CLIENT INFO and LIST', steps: [
    'CLIENT SETNAME me', { cmd: 'CLIENT INFO', check: clientInfo('name', 'db', 'flags', 'sub', 'psub', 'multi', 'user', 'resp') },
    { cmd: 'CLIENT LIST ID 999999', check: both('empty', (r) => verbatim(r) === '') }, 'CLIENT LIST TYPE foo', 'CLIENT LIST TYPE Foo', 'CLIENT LIST ID abc', 'CLIENT LIST FOO', 'CLIENT LIST TYPE slave', 'CLIENT LIST TYPE pubsub',
  ] },
  { name: 'CLIENT INFO: cmd names the subcommand', steps: [
    { cmd: 'CLIENT INFO', check: clientInfo('cmd') },
  ] },
  { name: 'CLIENT KILL: errors and filters that match nobody', steps: [
    'CLIENT KILL 1.2.3.4:5', 'CLIENT KILL ID 0', 'CLIENT KILL ID abc', 'CLIENT KILL ID 999999', 'CLIENT KILL FOO bar', 'CLIENT KILL TYPE foo', 'CLIENT KILL TYPE master', 'CLIENT KILL TYPE pubsub', 'CLIENT KILL ADDR 1.2.3.4:5', 'CLIENT KILL SKIPME maybe',
  ] },
  { name: 'CLIENT: unknown subcommands', steps: ['CLIENT FOO', 'client foo bar', ['CLIENT', 'x'.repeat(200)]] },
  // Invalidation pushes need two connections: test/integration/tracking.test.ts compares them with Redis's. These are one connection's replies.
  { name: 'CLIENT TRACKING: options, errors, TRACKINGINFO, GETREDIR', steps: [
    'CLIENT TRACKINGINFO', 'CLIENT GETREDIR', 'CLIENT TRACKING maybe', 'CLIENT TRACKING ON PREFIX a', 'CLIENT TRACKING ON BCAST OPTOUT', 'CLIENT TRACKING ON OPTIN OPTOUT',
    'CLIENT TRACKING ON REDIRECT 999999', 'CLIENT TRACKING ON REDIRECT x', 'CLIENT TRACKING ON NOLOOP FOO', 'CLIENT CACHING YES',
    'CLIENT TRACKING ON OPTIN NOLOOP', 'CLIENT TRACKINGINFO', 'CLIENT GETREDIR', 'CLIENT CACHING NO', 'CLIENT CACHING YES', 'CLIENT TRACKINGINFO', 'CLIENT CACHING x',
    { cmd: 'CLIENT INFO', check: clientInfo('flags', 'redir') },
    'CLIENT TRACKING ON OPTOUT', 'CLIENT TRACKING ON BCAST', 'CLIENT TRACKING OFF', 'CLIENT TRACKINGINFO',
    'CLIENT TRACKING ON BCAST PREFIX b PREFIX a NOLOOP', 'CLIENT TRACKING ON BCAST PREFIX ab', 'CLIENT TRACKING ON BCAST PREFIX c PREFIX cd', 'CLIENT TRACKINGINFO', 'SET a1 x', 'GET a1', 'CLIENT TRACKING OFF', 'client tracking off',
  ] },
  { name: 'CLIENT SETINFO: ringcache has Redis 7.2\'s', steps: [
    { cmd: 'CLIENT SETINFO lib-name foo', redis: "-ERR unknown subcommand 'SETINFO'. Try CLIENT HELP.", ringcache: '+OK', why: 'node-redis and ioredis send it' },
  ] },
  { name: 'HELLO: protocol versions', steps: ['HELLO 4', 'HELLO 1', 'HELLO 0', 'HELLO -1', 'HELLO abc', 'HELLO 2.5', 'HELLO 9223372036854775808', { cmd: 'HELLO 2', check: hello }, { cmd: 'HELLO', check: hello }, { cmd: 'HELLO 3', check: hello }] },
  { name: 'HELLO: options', steps: [
    'HELLO 3 FOO', 'HELLO 3 AUTH default', 'HELLO 3 SETNAME', 'HELLO 3 AUTH bob pw', ['HELLO', '3', 'SETNAME', 'a b'], 'CLIENT GETNAME',
    { cmd: 'HELLO 3 SETNAME foo', check: hello }, 'CLIENT GETNAME', { cmd: 'HELLO 2 AUTH default anything', check: hello }, { cmd: 'HELLO 3 auth default x setname bar', check: hello }, 'CLIENT GETNAME',
  ] },
  { name: 'AUTH without a password configured', steps: ['AUTH foo', 'AUTH default foo', 'AUTH bob foo', 'AUTH a b c'] },
  { name: 'RESET: forgets the name and goes back to RESP2', steps: ['CLIENT SETNAME foo', 'RESET', 'CLIENT GETNAME', { cmd: 'HELLO', check: hello }] },
  { name: 'QUIT: replies OK and closes', steps: ['QUIT', { closed: true }] },
];

const serverCases: Case[] = [
  { name: 'CONFIG GET maxmemory', steps: [{ cmd: 'CONFIG GET maxmemory', check: samePairs }, { cmd: 'CONFIG GET maxmemory maxmemory-policy', check: samePairs }, 'CONFIG GET nosuchparam', 'CONFIG FOO'] },
  { name: 'CONFIG GET: a name is returned as given', steps: [{ cmd: 'CONFIG GET MAXMEMORY', check: samePairs }, { cmd: 'CONFIG GET maxmemory MAXMEMORY', check: samePairs }] },
  { name: 'CONFIG SET maxmemory: good values', steps: [
    ...['100mb', '1gb', '1k', '1kb', '2GB', '4096', '0'].flatMap((v): Step[] => [`CONFIG SET maxmemory ${v}`, { cmd: 'CONFIG GET maxmemory', check: samePairs }]),
  ] },
  { name: 'CONFIG SET: unknown, repeated and atomic', steps: [
    'CONFIG SET foo bar', 'CONFIG SET maxmemory 1 maxmemory 2', 'CONFIG SET maxmemory 10mb foo bar', { cmd: 'CONFIG GET maxmemory', check: samePairs }, 'CONFIG SET maxmemory 1 maxmemory-policy', 'CONFIG SET maxmemory',
  ] },
  { name: 'CONFIG SET maxmemory: bad values', steps: [
    'CONFIG SET maxmemory abc', 'CONFIG SET maxmemory -1', 'CONFIG SET maxmemory 1.5mb', 'CONFIG SET maxmemory 12xb', ['CONFIG', 'SET', 'maxmemory', ' 1'], ['CONFIG', 'SET', 'maxmemory', ''], { cmd: 'CONFIG GET maxmemory', check: samePairs }, 'CONFIG SET maxmemory 0',
  ] },
  { name: 'COMMAND COUNT and LIST', steps: [
    { cmd: 'COMMAND COUNT', check: positiveInt },
    { cmd: 'COMMAND LIST', check: both('a list naming get, set and client', (r) => Array.isArray(r) && ['get', 'set', 'client'].every((n) => r.some((x) => text(x) === n))) },
    { cmd: 'COMMAND', check: both('an array of command entries', (r) => Array.isArray(r) && r.length > 20 && r.every((e) => Array.isArray(e) && e.length === 10)) },
  ] },
  { name: 'COMMAND: unknown subcommands and wrong arity', steps: ['COMMAND FOO', 'COMMAND COUNT x', 'COMMAND GETKEYS', 'COMMAND GETKEYS GET'] },
  { name: 'COMMAND GETKEYS', steps: [
    'COMMAND GETKEYS GET k', 'COMMAND GETKEYS MSET a 1 b 2', 'COMMAND GETKEYS MGET a b c', 'COMMAND GETKEYS RENAME a b', 'COMMAND GETKEYS SET k v EX 10', 'COMMAND GETKEYS OBJECT ENCODING k', 'COMMAND GETKEYS MEMORY USAGE k',
    'COMMAND GETKEYS PING', 'COMMAND GETKEYS FOO', 'COMMAND GETKEYS CLIENT FOO', 'COMMAND GETKEYS KEYS *', 'COMMAND GETKEYS GET a b', 'COMMAND GETKEYS MSET a', 'COMMAND GETKEYS OBJECT ENCODING',
  ] },
  { name: 'COMMAND INFO and DOCS: unknown commands, shapes', steps: [
    { cmd: 'COMMAND INFO nosuchcommand', check: both('[nil]', (r) => Array.isArray(r) && r.length === 1 && r[0] === null) },
    { cmd: 'COMMAND DOCS get', check: commandDocs },
    'COMMAND DOCS nosuchcommand',
  ] },
  { name: 'CONFIG RESETSTAT and REWRITE', steps: ['CONFIG RESETSTAT', 'CONFIG REWRITE'] },
  { name: 'TIME', steps: [{ cmd: 'TIME', check: time }] },
  { name: 'INFO keyspace', steps: ['INFO keyspace', 'MSET a 1 b 2', 'INFO keyspace', 'INFO KEYSPACE'] },
  { name: 'INFO server: version and mode', steps: [
    { cmd: 'INFO server', check: (redis, ringcache) => {
      assert.match(infoField(redis, 'redis_version') ?? '', /^7\.0\.\d+$/);
      // Deliberate: ringcache reports the Redis version whose commands it follows.
      assert.equal(infoField(ringcache, 'redis_version'), '7.0.0');
      for (const f of ['redis_mode', 'arch_bits']) assert.equal(infoField(ringcache, f), infoField(redis, f), f);
      assert.match(infoField(ringcache, 'tcp_port') ?? '', /^\d+$/);
    } },
  ] },
  { name: 'INFO: an unknown section is empty', steps: ['INFO nosuchsection'] },
  { name: 'SHUTDOWN: arguments that do not shut down', steps: ['SHUTDOWN FOO', 'SHUTDOWN ABORT', 'SHUTDOWN NOSAVE SAVE', 'SHUTDOWN ABORT NOW', 'SHUTDOWN NOW FOO', 'PING'] },
];

const LONG = 'x'.repeat(200);

const unknownCases: Case[] = [
  { name: 'unknown commands', steps: ['FOO', 'FOO a b', ['FOO', LONG, 'b'], ['FOO', 'a\r\nb'], [LONG], ['', 'a'], ['FOO', '', 'b']] },
  { name: 'unknown commands: many arguments', steps: [['FOO', ...Array.from({ length: 40 }, () => 'a')]] },
  { name: 'errors with newlines in user input', steps: [['EXPIRE', 'k', '1', 'a\nb'], ['EXPIRE', 'k', '1', 'a\r\n\r\nb'], ['EXPIRE', 'k', '1', 'ab\n'], ['HELLO', '3', 'x\ny']] },
];

/** Calls with a wrong number of arguments, by command (Redis's arity rule is checked before anything else). */
const WRONG_ARITY: Record<string, string[]> = {
  GET: ['GET', 'GET a b'],
  SET: ['SET', 'SET k'],
  SETNX: ['SETNX k', 'SETNX k v x'],
  SETEX: ['SETEX k 1', 'SETEX k 1 v x'],
  PSETEX: ['PSETEX k 1'],
  GETSET: ['GETSET k', 'GETSET k v x'],
  GETDEL: ['GETDEL', 'GETDEL a b'],
  GETEX: ['GETEX'],
  MGET: ['MGET'],
  MSET: ['MSET', 'MSET k'],
  MSETNX: ['MSETNX', 'MSETNX k'],
  INCR: ['INCR', 'INCR a b'],
  DECR: ['DECR', 'DECR a b'],
  INCRBY: ['INCRBY k', 'INCRBY k 1 2'],
  DECRBY: ['DECRBY k', 'DECRBY k 1 2'],
  INCRBYFLOAT: ['INCRBYFLOAT k', 'INCRBYFLOAT k 1 2'],
  APPEND: ['APPEND k', 'APPEND k v x'],
  STRLEN: ['STRLEN', 'STRLEN a b'],
  GETRANGE: ['GETRANGE k 0', 'GETRANGE k 0 1 2'],
  SUBSTR: ['SUBSTR k 0'],
  SETRANGE: ['SETRANGE k 0', 'SETRANGE k 0 v x'],
  DEL: ['DEL'],
  UNLINK: ['UNLINK'],
  EXISTS: ['EXISTS'],
  TOUCH: ['TOUCH'],
  TYPE: ['TYPE', 'TYPE a b'],
  EXPIRE: ['EXPIRE k'],
  PEXPIRE: ['PEXPIRE k'],
  EXPIREAT: ['EXPIREAT k'],
  PEXPIREAT: ['PEXPIREAT k'],
  TTL: ['TTL', 'TTL a b'],
  PTTL: ['PTTL'],
  EXPIRETIME: ['EXPIRETIME'],
  PEXPIRETIME: ['PEXPIRETIME a b'],
  PERSIST: ['PERSIST'],
  RENAME: ['RENAME k', 'RENAME a b c'],
  RENAMENX: ['RENAMENX k'],
  KEYS: ['KEYS', 'KEYS a b'],
  SCAN: ['SCAN'],
  RANDOMKEY: ['RANDOMKEY x'],
  DBSIZE: ['DBSIZE x'],
  OBJECT: ['OBJECT', 'OBJECT ENCODING', 'OBJECT REFCOUNT a b', 'OBJECT HELP x'],
  MEMORY: ['MEMORY', 'MEMORY USAGE', 'MEMORY HELP x'],
  PING: ['PING a b'],
  ECHO: ['ECHO', 'ECHO a b'],
  SELECT: ['SELECT', 'SELECT 0 1'],
  AUTH: ['AUTH'],
  RESET: ['RESET x'],
  CLIENT: ['CLIENT', 'CLIENT ID x', 'CLIENT GETNAME x', 'CLIENT SETNAME', 'CLIENT SETNAME a b', 'CLIENT INFO x', 'CLIENT KILL'],
  CONFIG: ['CONFIG', 'CONFIG GET', 'CONFIG SET maxmemory', 'CONFIG RESETSTAT x', 'CONFIG REWRITE x'],
  COMMAND: ['COMMAND COUNT x', 'COMMAND GETKEYS'],
  TIME: ['TIME x'],
};

const arityCases: Case[] = Object.entries(WRONG_ARITY).map(([name, calls]) => ({ name: `wrong arity: ${name}`, steps: calls }));

/** The cases about what commands do, beyond their arity. */
export const behaviourCases: Case[] = [
  ...setCases, ...getSetFamilyCases, ...multiCases, ...counterCases, ...floatCases, ...rangeCases, ...keyCases, ...globCases, ...scanCases, ...dbCases, ...objectCases, ...connectionCases, ...serverCases, ...unknownCases,
  ...transactionCases(),
];

export const cases: Case[] = [...behaviourCases, ...arityCases];

/** COMMAND INFO of every ringcache command, compared with Redis's (names filled in by the test from ringcache's table). */
export function commandInfoCase(names: readonly string[]): Case {
  return { name: 'COMMAND INFO: arity, flags and key positions of every command', steps: names.map((n) => ({ cmd: ['COMMAND', 'INFO', n], check: commandInfo })) };
}

// ---------------------------------------------------------------- transactions

/** MULTI/EXEC/DISCARD/WATCH/UNWATCH (a function: these cases are appended after the others' definitions). */
function transactionCases(): Case[] {
  /** An EXEC after WATCH: nil when a watched key changed, [PONG] when not. */
  const execPing: Step[] = ['MULTI', 'PING', 'EXEC'];
  return [
    { name: 'MULTI/EXEC: QUEUED, then every reply in order', steps: ['MULTI', 'SET a 1', 'INCR a', 'GET a', 'SET b x EX 100', 'TTL b', 'EXEC', 'GET a', 'EXISTS b'] },
    { name: 'MULTI/EXEC: nothing runs before EXEC', steps: ['MULTI', 'SET a 1', 'GET a', 'EXEC', 'GET a'] },
    { name: 'MULTI/EXEC: an empty transaction', steps: ['MULTI', 'EXEC', 'EXEC'] },
    { name: 'MULTI/EXEC: runtime errors are per command, the rest runs', steps: ['SET a x', 'MULTI', 'INCR a', 'SET b 2', 'INCRBY b 3', 'SET c v EX 0', 'GET b', 'EXEC', 'GET b', 'EXISTS c'] },
    { name: 'MULTI: an unknown command aborts EXEC', steps: ['MULTI', 'SET a 1', 'FOO bar', 'SET b 1', 'EXEC', 'EXISTS a b', 'EXEC'] },
    { name: 'MULTI: a wrong arity aborts EXEC', steps: ['MULTI', 'SET a', 'SET b 1', 'GET', 'EXEC', 'EXISTS b'] },
    { name: 'MULTI: nested MULTI is an error and aborts nothing', steps: ['MULTI', 'MULTI', 'SET a 1', 'EXEC', 'GET a'] },
    { name: 'MULTI: WATCH inside is an error and aborts nothing', steps: ['MULTI', 'WATCH a', 'SET a 1', 'EXEC', 'GET a'] },
    { name: 'EXEC and DISCARD without MULTI', steps: ['EXEC', 'DISCARD', 'exec', 'discard'] },
    { name: 'DISCARD: drops the queue and leaves MULTI', steps: ['MULTI', 'SET a 1', 'DISCARD', 'GET a', 'EXEC', 'DISCARD'] },
    { name: 'DISCARD: after a refused command, a new MULTI starts clean', steps: ['MULTI', 'FOO', 'DISCARD', 'MULTI', 'SET a 1', 'EXEC', 'GET a'] },
    { name: 'MULTI: OOM at queue time aborts EXEC', steps: ['SET a 1', 'CONFIG SET maxmemory 1', 'MULTI', 'SET b 1', 'GET a', 'EXEC', 'CONFIG SET maxmemory 0', 'EXISTS b'] },
    { name: 'MULTI: RESET leaves the transaction', steps: ['SET a 1', 'WATCH a', 'MULTI', 'SET a 2', 'RESET', 'EXEC', 'GET a', 'SET a 3', ...execPing] },
    { name: 'MULTI: QUIT is not queued', steps: ['MULTI', 'SET a 1', 'QUIT', { closed: true }] },
    { name: 'MULTI: case-insensitive names', steps: ['multi', 'set a 1', 'Exec', 'Multi', 'dIsCaRd'] },
    { name: 'WATCH: an untouched key lets EXEC run', steps: ['SET a 1', 'WATCH a b', 'GET a', 'EXISTS b', 'MULTI', 'SET a 2', 'GET a', 'EXEC', 'GET a'] },
    { name: 'WATCH: a SET by this client fails EXEC (nil), even to the same value', steps: ['SET a 1', 'WATCH a', 'SET a 1', 'MULTI', 'SET a 2', 'EXEC', 'GET a'] },
    { name: 'WATCH: INCR, APPEND, SETRANGE, GETSET, MSET fail EXEC', steps: [
      ...['INCR a', 'APPEND a x', 'SETRANGE a 0 y', 'GETSET a z', 'MSET q 1 a 2', 'SETEX a 100 v', 'INCRBYFLOAT n 1.5', 'GETDEL a'].flatMap((cmd): Step[] => ['SET a 1', 'SET n 1', 'WATCH a n', cmd, ...execPing]),
    ] },
    { name: 'WATCH: DEL, EXPIRE, PERSIST, RENAME (either side), FLUSHALL fail EXEC', steps: [
      'SET a 1', 'WATCH a', 'DEL a', ...execPing,
      'SET a 1', 'WATCH a', 'EXPIRE a 100', ...execPing,
      'SET a 1 EX 100', 'WATCH a', 'PERSIST a', ...execPing,
      'SET a 1', 'WATCH a', 'RENAME a b', ...execPing,
      'SET a 1', 'WATCH b', 'RENAME a b', ...execPing,
      'SET a 1', 'WATCH a', 'FLUSHALL', ...execPing,
      'SET a 1', 'WATCH a', 'GETEX a EX 100', ...execPing,
    ] },
    { name: 'WATCH: commands that change nothing leave EXEC to run', steps: [
      'WATCH a', 'DEL a', ...execPing,
      'WATCH a', 'EXPIRE a 100', ...execPing,
      'SET a 1', 'WATCH a', 'PERSIST a', ...execPing,
      'SET a 1', 'WATCH a', 'SETNX a 2', 'SET a 3 NX', 'GET a', 'TTL a', 'GETEX a', 'GETEX a PERSIST', ...execPing,
      'SET a x', 'WATCH a', 'INCR a', 'APPEND b x', 'RENAME c d', ...execPing,
      'WATCH missing', 'FLUSHALL', ...execPing,
    ] },
    { name: 'WATCH: a key that expires before EXEC fails it, one expired before WATCH does not', steps: [
      'SET a 1 PX 100', 'WATCH a', { sleep: 200 }, ...execPing,
      'SET a 1 PX 50', { sleep: 150 }, 'WATCH a', ...execPing,
      'SET a 1 PX 100', 'WATCH a', { sleep: 200 }, 'GET a', ...execPing,
    ] },
    { name: 'WATCH: EXEC, DISCARD and UNWATCH end the watch', steps: [
      'SET a 1', 'WATCH a', ...execPing, 'SET a 2', ...execPing,
      'WATCH a', 'MULTI', 'DISCARD', 'SET a 3', ...execPing,
      'WATCH a', 'UNWATCH', 'SET a 4', ...execPing,
      'WATCH a', 'SET a 5', 'UNWATCH', ...execPing,
      'WATCH a', 'SET a 6', 'MULTI', 'PING', 'DISCARD', ...execPing,
    ] },
    { name: 'WATCH: an aborted transaction reports EXECABORT before the watch', steps: ['SET a 1', 'WATCH a', 'SET a 2', 'MULTI', 'FOO', 'EXEC', ...execPing] },
    { name: 'WATCH: a transaction\'s own writes do not fail it; UNWATCH inside MULTI is queued', steps: ['WATCH a', 'MULTI', 'SET a 1', 'UNWATCH', 'SET a 2', 'EXEC', 'GET a'] },
    { name: 'WATCH: a key watched twice, many keys', steps: ['WATCH a a b c', 'WATCH a', 'SET c 1', ...execPing, 'WATCH a b', 'WATCH c', 'SET b 1', ...execPing] },
    { name: 'wrong arity: MULTI EXEC DISCARD WATCH UNWATCH', steps: ['MULTI x', 'EXEC x', 'DISCARD x', 'WATCH', 'UNWATCH x', 'EXEC', 'MULTI', 'WATCH', 'SET a 1', 'EXEC', 'MULTI', 'SET a 1', 'EXEC x', 'EXEC', 'MULTI', 'DISCARD x', 'EXEC', 'EXISTS a'] },
    { name: 'COMMAND INFO: MULTI EXEC DISCARD WATCH UNWATCH', steps: ['multi', 'exec', 'discard', 'watch', 'unwatch'].map((n) => ({ cmd: ['COMMAND', 'INFO', n], check: commandInfo })) },
    { name: 'COMMAND DOCS: transactions', steps: ['multi', 'exec', 'discard', 'watch', 'unwatch'].map((n) => ({ cmd: ['COMMAND', 'DOCS', n], check: commandDocs })) },
  ];
}
