/**
 * Differential cases for the container types (hashes, sets, lists, sorted
 * sets) and what crosses types (WRONGTYPE, TYPE, SCAN TYPE, OBJECT ENCODING,
 * COPY, RENAME, TTLs): run by differential.test.ts like differential-cases.ts,
 * on ringcache and redis-server, in RESP2 and RESP3.
 *
 * Where Redis's order is its hash table's (a set or hash past its small
 * encoding, random picks), replies are compared by a Check that states what
 * must still be equal.
 */
import assert from 'node:assert/strict';
import { show, type Case, type Check, type Step } from './differential-cases.js';
import type { Reply } from '../helpers/raw-client.js';

const isArray = (r: Reply): r is Reply[] => Array.isArray(r);

/** The same elements in any order. */
export const unordered: Check = (redis, ringcache) => {
  assert.ok(isArray(redis) && isArray(ringcache), `arrays expected: ${show(redis)} / ${show(ringcache)}`);
  assert.deepEqual(ringcache.map(show).sort(), redis.map(show).sort());
};

/** Flat [k, v, k, v...] arrays, or RESP3 maps, with the same pairs in any order. */
export const unorderedPairs: Check = (redis, ringcache) => {
  const pairs = (r: Reply): string[] => {
    if (r instanceof Map) return [...r].map(([k, v]) => `${show(k)} => ${show(v)}`).sort();
    assert.ok(isArray(r) && r.length % 2 === 0, `pairs expected: ${show(r)}`);
    const out: string[] = [];
    for (let i = 0; i < r.length; i += 2) out.push(`${show(r[i]!)} => ${show(r[i + 1]!)}`);
    return out.sort();
  };
  assert.deepEqual(pairs(ringcache), pairs(redis));
};

/** A *SCAN reply that finished in one call (cursor 0) with the same pairs (or members) in any order. */
export const scanDone =
  (paired: boolean): Check =>
  (redis, ringcache) => {
    for (const r of [redis, ringcache]) assert.ok(isArray(r) && r.length === 2 && String(r[0]) === '0', `a finished scan expected: ${show(r)}`);
    (paired ? unorderedPairs : unordered)((redis as Reply[])[1]!, (ringcache as Reply[])[1]!);
  };

/** Arrays of the same length (random picks). */
export const sameLength: Check = (redis, ringcache) => {
  assert.ok(isArray(redis) && isArray(ringcache), `arrays expected: ${show(redis)} / ${show(ringcache)}`);
  assert.equal(ringcache.length, redis.length, `${show(ringcache)} vs ${show(redis)}`);
};

/** Each side's reply satisfies `ok`. */
const both =
  (what: string, ok: (r: Reply) => boolean): Check =>
  (redis, ringcache) => {
    assert.ok(ok(redis), `redis's reply is not ${what}: ${show(redis)}`);
    assert.ok(ok(ringcache), `ringcache's reply is not ${what}: ${show(ringcache)}`);
  };
const positiveInt = both('a positive integer', (r) => (typeof r === 'number' || typeof r === 'bigint') && r > 0);
const TTL: Check = (redis, ringcache) => assert.ok(Math.abs(Number(redis) - Number(ringcache)) <= 1, `${show(ringcache)} vs ${show(redis)}`);

/** What Redis 7.0 answers to DUMP of the string "v" (RDB string, version 10, CRC-64). */
const REDIS_DUMP_OF_V = Buffer.from([0x00, 0x01, 0x76, 0x0a, 0x00, 0x91, 0x08, 0xce, 0xb2, 0x19, 0x38, 0x8a, 0xce]);

const fields = (n: number, prefix = 'f'): string => Array.from({ length: n }, (_, i) => `${prefix}${i} v${i}`).join(' ');
const LONG = 'x'.repeat(65);
const AT_LIMIT = 'x'.repeat(64);

const hashCases: Case[] = [
  { name: 'HSET/HGET/HMGET/HGETALL: create, update in place, read', steps: [
    'HSET h a 1 b 2 c 3', 'HSET h b 20 d 4', 'HGETALL h', 'HGET h b', 'HGET h missing', 'HGET nokey a', 'HMGET h a missing d', 'HMGET nokey a b', 'HGETALL nokey', 'HLEN h', 'HLEN nokey',
  ] },
  { name: 'HSET/HMSET: pairs, odd arguments, repeated fields', steps: ['HSET h a', 'HSET h a 1 b', 'HMSET h a 1 b', 'HMSET h a 1 b 2', 'HSET h x 1 x 2', 'HGET h x', 'HGETALL h', 'EXISTS h'] },
  { name: 'HSETNX', steps: ['HSETNX h a 1', 'HSETNX h a 2', 'HGET h a', 'HSETNX h b 3', 'HGETALL h'] },
  { name: 'HDEL: fields, repeats, the emptied hash is deleted', steps: ['HSET h a 1 b 2 c 3', 'HDEL h a a x', 'HDEL nokey a', 'HGETALL h', 'HDEL h b c', 'EXISTS h', 'TYPE h', 'HLEN h'] },
  { name: 'HEXISTS, HSTRLEN, HKEYS, HVALS', steps: [
    'HSET h a 1 b hello', ['HSET', 'h', 'e', ''], 'HEXISTS h a', 'HEXISTS h z', 'HEXISTS nokey a', 'HSTRLEN h b', 'HSTRLEN h e', 'HSTRLEN h z', 'HSTRLEN nokey a', 'HKEYS h', 'HVALS h', 'HKEYS nokey', 'HVALS nokey',
  ] },
  { name: 'HINCRBY: missing fields, limits, non-integers', steps: [
    'HINCRBY h n 5', 'HINCRBY h n -10', 'HINCRBY h n 0', 'HSET h m 9223372036854775806', 'HINCRBY h m 1', 'HINCRBY h m 1', 'HINCRBY h m -1', 'HSET h s abc', 'HINCRBY h s 1', 'HSET h f 1.5', 'HINCRBY h f 1',
    'HINCRBY h n abc', 'HINCRBY h n 1.5', 'HINCRBY h n 9223372036854775808', ['HINCRBY', 'h', 'n', ''], 'HINCRBY h sp 01', 'HGETALL h', 'HINCRBY nokey a abc', 'EXISTS nokey',
  ] },
  { name: 'HINCRBYFLOAT: results as Redis prints them; errors', steps: [
    'HINCRBYFLOAT h a 0.1', 'HINCRBYFLOAT h a 0.2', 'HINCRBYFLOAT h a -0.3', 'HINCRBYFLOAT h b 5.0e3', 'HSET h i 10', 'HINCRBYFLOAT h i 0.5', 'HINCRBYFLOAT h i -0.5', 'HGET h i',
    'HINCRBYFLOAT h a abc', 'HINCRBYFLOAT h a inf', 'HINCRBYFLOAT h a nan', 'HSET h s abc', 'HINCRBYFLOAT h s 1', 'HSET h inf inf', 'HINCRBYFLOAT h inf 1', 'HGETALL h',
  ] },
  { name: 'HRANDFIELD: whole hash, empty, missing key, errors', steps: [
    'HSET h a 1 b 2 c 3', 'HRANDFIELD h 3', 'HRANDFIELD h 10', 'HRANDFIELD h 10 WITHVALUES', 'HRANDFIELD h 0', 'HRANDFIELD h 0 WITHVALUES', 'HRANDFIELD nokey', 'HRANDFIELD nokey 5', 'HRANDFIELD nokey -5 WITHVALUES',
    { cmd: 'HRANDFIELD h -7', check: sameLength }, { cmd: 'HRANDFIELD h -7 WITHVALUES', check: sameLength }, { cmd: 'HRANDFIELD h 2', check: sameLength }, { cmd: 'HRANDFIELD h 2 WITHVALUES', check: sameLength },
    'HRANDFIELD h 1 WITHVALUES x', 'HRANDFIELD h 1 FOO', 'HRANDFIELD h abc', 'HRANDFIELD h -9223372036854775808', 'HRANDFIELD h -4611686018427387904 WITHVALUES', 'HSET one f v', 'HRANDFIELD one', 'HRANDFIELD one -2 WITHVALUES',
  ] },
  { name: 'HSCAN: small hashes whole; MATCH; errors', steps: [
    'HSET h a 1 b 2 ab 3', 'HSCAN h 0', 'HSCAN h 0 MATCH a*', 'HSCAN h 0 COUNT 1', 'HSCAN h 5', 'HSCAN nokey 0', 'HSCAN h x', 'HSCAN h 0 COUNT 0', 'HSCAN h 0 MATCH', 'HSCAN h 0 FOO bar', 'HSCAN h 0 NOVALUES',
  ] },
  { name: 'hashes: listpack and hashtable at Redis 7.0 thresholds', steps: [
    `HSET h ${fields(512)}`, 'OBJECT ENCODING h', 'HSET h one more', 'OBJECT ENCODING h', 'HDEL h one', 'OBJECT ENCODING h', 'HLEN h',
    ['HSET', 'v', 'f', AT_LIMIT], 'OBJECT ENCODING v', ['HSET', 'v', 'g', LONG], 'OBJECT ENCODING v', ['HSET', 'k', AT_LIMIT, '1'], 'OBJECT ENCODING k', ['HSET', 'k', LONG, '1'], 'OBJECT ENCODING k',
    { cmd: 'HGETALL h', check: unorderedPairs }, { cmd: 'HSCAN h 0 COUNT 10000', check: scanDone(true) }, { cmd: 'HKEYS h', check: unordered },
  ] },
];

const U = (cmd: string): Step => ({ cmd, check: unordered });

const setCases: Case[] = [
  { name: 'SADD/SREM/SMEMBERS/SCARD: intsets list in order; emptied sets are deleted', steps: [
    'SADD s 3 1 2 1', 'SADD s 10 -5', 'SMEMBERS s', 'SCARD s', 'SREM s 1 99 1', 'SMEMBERS s', 'SREM nokey a', 'SMEMBERS nokey', 'SCARD nokey', 'SREM s 3 2 10 -5', 'EXISTS s', 'TYPE s',
  ] },
  { name: 'SADD: members of any bytes; hashtable order compared as sets', steps: [
    'SADD s a b c', ['SADD', 's', ''], U('SMEMBERS s'), 'SCARD s', 'SISMEMBER s a', 'SISMEMBER s z', ['SISMEMBER', 's', ''], 'SISMEMBER nokey a', 'SMISMEMBER s a z b', 'SMISMEMBER nokey a b',
  ] },
  { name: 'sets: intset and hashtable as Redis 7.0 names them', steps: [
    'SADD i 1 2 3', 'OBJECT ENCODING i', 'SADD i x', 'OBJECT ENCODING i', 'SREM i x', 'OBJECT ENCODING i', U('SMEMBERS i'), 'SADD j 01', 'OBJECT ENCODING j', 'SADD k -0', 'OBJECT ENCODING k',
    'SADD l 9223372036854775807 -9223372036854775808', 'OBJECT ENCODING l', 'SMEMBERS l', 'SADD m 9223372036854775808', 'OBJECT ENCODING m',
    `SADD big ${Array.from({ length: 512 }, (_, i) => i).join(' ')}`, 'OBJECT ENCODING big', 'SADD big 512', 'OBJECT ENCODING big', 'SCARD big',
  ] },
  { name: 'SPOP: one, counts, the whole set, errors', steps: [
    'SADD s 1 2 3', { cmd: 'SPOP s', check: both('one of 1, 2, 3', (r) => ['1', '2', '3'].includes(String(r))) }, 'SCARD s', 'SPOP s 0', { cmd: 'SPOP s 5', check: sameLength }, 'EXISTS s', 'SPOP s', 'SPOP s 3', 'SPOP nokey', 'SPOP nokey 2',
    'SADD t 1 2 3 4', { cmd: 'SPOP t 2', check: sameLength }, 'SCARD t', 'SPOP t -1', 'SPOP t abc', 'SPOP t 1 2', 'SCARD t',
  ] },
  { name: 'SRANDMEMBER: counts, repeats, the whole set, errors', steps: [
    'SADD s 1 2 3', 'SRANDMEMBER s 3', 'SRANDMEMBER s 10', 'SRANDMEMBER s 0', { cmd: 'SRANDMEMBER s -5', check: sameLength }, { cmd: 'SRANDMEMBER s 2', check: sameLength },
    { cmd: 'SRANDMEMBER s', check: both('one of 1, 2, 3', (r) => ['1', '2', '3'].includes(String(r))) }, 'SRANDMEMBER nokey', 'SRANDMEMBER nokey 3', 'SRANDMEMBER nokey -3', 'SRANDMEMBER s abc', 'SRANDMEMBER s 1 2', 'SCARD s',
  ] },
  { name: 'SMOVE: members, missing keys, same key, types', steps: [
    'SADD a 1 2', 'SADD b 3', 'SMOVE a b 1', 'SMEMBERS a', 'SMEMBERS b', 'SMOVE a b 9', 'SMOVE a c 2', 'EXISTS a', 'SMEMBERS c', 'SMOVE nokey c 1', 'SMOVE c c 2', 'SMOVE c c 9', 'SET str x', 'SMOVE c str 2', 'SMOVE str c 2', 'SMOVE nokey str 1', 'SMEMBERS c',
  ] },
  { name: 'SINTER/SUNION/SDIFF and their STORE forms', steps: [
    'SADD a 1 2 3 4', 'SADD b 3 4 5', 'SADD c 4 6', 'SINTER a b', 'SINTER a b c', 'SINTER a nokey', 'SUNION a b c', 'SUNION a nokey', 'SDIFF a b', 'SDIFF a b c', 'SDIFF nokey a', 'SDIFF a nokey',
    'SINTERSTORE d a b', 'SMEMBERS d', 'SUNIONSTORE d a c', 'SMEMBERS d', 'SDIFFSTORE d a b c', 'SMEMBERS d', 'SINTERSTORE d a nokey', 'EXISTS d', 'SET d x', 'SUNIONSTORE d a', 'TYPE d', 'SDIFFSTORE d a a', 'EXISTS d',
    'SADD w x y 1', 'SADD v x', U('SDIFF w v'), U('SUNION w v'), U('SINTER w w'), 'SINTERSTORE e w v', 'SMEMBERS e', 'OBJECT ENCODING e', 'SDIFFSTORE f w v', 'OBJECT ENCODING f', 'SINTER a',
  ] },
  { name: 'set algebra: WRONGTYPE, and a missing key first in SINTER', steps: [
    'SADD a 1', 'SET str x', 'SINTER a str', 'SINTER nokey str', 'SUNION a str', 'SUNION nokey str', 'SDIFF a str', 'SDIFF str a', 'SINTERSTORE d a str', 'SUNIONSTORE d str', 'SINTERCARD 2 a str', 'SINTERCARD 2 nokey str', 'EXISTS d',
  ] },
  { name: 'SINTERCARD: LIMIT and errors', steps: [
    'SADD a 1 2 3 4', 'SADD b 2 3 4 5', 'SINTERCARD 2 a b', 'SINTERCARD 2 a b LIMIT 2', 'SINTERCARD 2 a b LIMIT 0', 'SINTERCARD 2 a b LIMIT 10', 'SINTERCARD 1 a', 'SINTERCARD 2 a nokey',
    'SINTERCARD 0 a', 'SINTERCARD -1 a', 'SINTERCARD x a', 'SINTERCARD 3 a b', 'SINTERCARD 2 a b LIMIT -1', 'SINTERCARD 2 a b LIMIT x', 'SINTERCARD 2 a b LIMIT', 'SINTERCARD 2 a b FOO 1', 'SINTERCARD 1 a b',
  ] },
  { name: 'SSCAN: intsets whole; MATCH; hashtable sets; errors', steps: [
    'SADD s 1 2 10 20', 'SSCAN s 0', 'SSCAN s 0 MATCH 1*', 'SSCAN s 0 COUNT 1', 'SSCAN nokey 0', 'SSCAN s x', 'SSCAN s 0 COUNT 0', 'SSCAN s 0 FOO bar',
    'SADD h a b c', { cmd: 'SSCAN h 0 COUNT 1000', check: scanDone(false) }, { cmd: 'SSCAN h 0 MATCH a COUNT 1000', check: scanDone(false) },
  ] },
  { name: 'WRONGTYPE: set commands on a hash, string commands on a set', steps: [
    'HSET h f v', 'SADD s m', 'SADD h m', 'SREM h m', 'SMEMBERS h', 'SISMEMBER h m', 'SMISMEMBER h m', 'SCARD h', 'SPOP h', 'SRANDMEMBER h', 'SSCAN h 0', 'GET s', 'HGET s f', 'TYPE s', 'OBJECT ENCODING s',
  ] },
];

const LIST_RANGES: Array<[string, string]> = [['0', '-1'], ['1', '2'], ['-2', '-1'], ['-100', '100'], ['5', '10'], ['2', '1'], ['-1', '-2'], ['0', '0'], ['-5', '-4'], ['3', '100'], ['0', '9223372036854775807'], ['-9223372036854775808', '0']];

const listCases: Case[] = [
  { name: 'LPUSH/RPUSH/LPUSHX/RPUSHX/LLEN/LRANGE', steps: [
    'LPUSH l a b c', 'RPUSH l d e', 'LRANGE l 0 -1', 'LLEN l', 'LPUSHX l z', 'RPUSHX l y', 'LPUSHX nokey a', 'RPUSHX nokey a', 'EXISTS nokey', 'LLEN nokey', 'LRANGE nokey 0 -1', 'LRANGE l 0 -1', 'OBJECT ENCODING l',
  ] },
  { name: 'LRANGE: index combinations; errors', steps: ['RPUSH l a b c d e', ...LIST_RANGES.map(([a, b]) => `LRANGE l ${a} ${b}`), 'LRANGE l x 1', 'LRANGE l 0 1.5'] },
  { name: 'LPOP/RPOP: one, counts, the emptied list deleted, errors', steps: [
    'RPUSH l a b c d e', 'LPOP l', 'RPOP l', 'LPOP l 2', 'RPOP l 0', 'LPOP l 10', 'EXISTS l', 'LPOP l', 'LPOP l 2', 'RPOP nokey 0', 'RPUSH l a', 'LPOP l -1', 'LPOP l x', 'LPOP l 1 2', 'RPOP l 1 2', 'LRANGE l 0 -1',
  ] },
  { name: 'LINDEX/LSET', steps: [
    'RPUSH l a b c', 'LINDEX l 0', 'LINDEX l -1', 'LINDEX l 3', 'LINDEX l -4', 'LINDEX nokey 0', 'LINDEX l x', 'LSET l 1 B', 'LSET l -1 C', 'LSET l 3 x', 'LSET l -4 x', 'LSET nokey 0 x', 'LSET l x y', 'LRANGE l 0 -1',
  ] },
  { name: 'LREM: from the head, the tail, all', steps: [
    'RPUSH l a b a c a b a', 'LREM l 2 a', 'LRANGE l 0 -1', 'LREM l -1 a', 'LRANGE l 0 -1', 'LREM l 0 b', 'LRANGE l 0 -1', 'LREM l 0 zz', 'LREM nokey 1 a', 'LREM l x a', 'LREM l 0 a', 'LREM l 0 c', 'EXISTS l',
  ] },
  { name: 'LTRIM: ranges, emptying deletes', steps: [
    'RPUSH l a b c d e', 'LTRIM l 1 -2', 'LRANGE l 0 -1', 'LTRIM l 0 100', 'LRANGE l 0 -1', 'LTRIM l -1 -1', 'LRANGE l 0 -1', 'LTRIM l 2 1', 'EXISTS l', 'LTRIM nokey 0 1', 'RPUSH l a', 'LTRIM l x 1', 'LTRIM l 5 10', 'EXISTS l',
  ] },
  { name: 'LINSERT: before, after, missing pivot and key, syntax', steps: [
    'RPUSH l a b c', 'LINSERT l BEFORE b x', 'LINSERT l after c y', 'LINSERT l before a z', 'LRANGE l 0 -1', 'LINSERT l before nope x', 'LINSERT nokey before a x', 'LINSERT l middle a x', 'EXISTS nokey', 'LLEN l',
  ] },
  { name: 'LPOS: RANK, COUNT, MAXLEN and errors', steps: [
    'RPUSH l a b c a b c a', 'LPOS l a', 'LPOS l c', 'LPOS l z', 'LPOS nokey a', 'LPOS l a RANK 2', 'LPOS l a RANK -1', 'LPOS l a RANK -3', 'LPOS l a RANK 5', 'LPOS l a COUNT 0', 'LPOS l a COUNT 2', 'LPOS l a COUNT 2 RANK -1',
    'LPOS l a RANK 2 COUNT 0', 'LPOS l c MAXLEN 2', 'LPOS l c MAXLEN 3', 'LPOS l a COUNT 0 MAXLEN 4', 'LPOS l a RANK -1 MAXLEN 2', 'LPOS l z COUNT 5', 'LPOS nokey a COUNT 1',
    'LPOS l a RANK 0', 'LPOS l a COUNT -1', 'LPOS l a MAXLEN -1', 'LPOS l a RANK x', 'LPOS l a FOO 1', 'LPOS l a RANK', 'LPOS l a COUNT 1 COUNT 2',
  ] },
  { name: 'LMOVE/RPOPLPUSH: ends, rotation, missing source, types', steps: [
    'RPUSH a 1 2 3', 'LMOVE a b LEFT RIGHT', 'LMOVE a b RIGHT LEFT', 'LRANGE a 0 -1', 'LRANGE b 0 -1', 'RPOPLPUSH a b', 'EXISTS a', 'LRANGE b 0 -1', 'LMOVE b b LEFT RIGHT', 'LRANGE b 0 -1', 'RPOPLPUSH b b', 'LRANGE b 0 -1',
    'LMOVE nokey b LEFT LEFT', 'RPOPLPUSH nokey b', 'LMOVE a b UP LEFT', 'LMOVE a b LEFT DOWN', 'SET s x', 'LMOVE b s LEFT LEFT', 'LMOVE s b LEFT LEFT', 'RPOPLPUSH nokey s', 'LRANGE b 0 -1',
    'RPUSH one x', 'EXPIRE one 100', 'LMOVE one one LEFT RIGHT', { cmd: 'TTL one', check: TTL },
  ] },
  { name: 'LMPOP: first non-empty key, COUNT, errors', steps: [
    'RPUSH b 1 2 3', 'LMPOP 2 a b LEFT', 'LMPOP 2 a b RIGHT COUNT 5', 'EXISTS b', 'LMPOP 2 a b LEFT', 'RPUSH a x', 'LMPOP 1 a LEFT COUNT 1',
    'LMPOP 0 a LEFT', 'LMPOP x a LEFT', 'LMPOP 3 a b LEFT', 'LMPOP 1 a MIDDLE', 'LMPOP 1 a LEFT COUNT 0', 'LMPOP 1 a LEFT COUNT x', 'LMPOP 1 a LEFT COUNT', 'LMPOP 1 a LEFT FOO', 'LMPOP 2 a LEFT', 'LMPOP 1 a LEFT COUNT 1 COUNT 2', 'SET s x', 'LMPOP 1 s LEFT',
  ] },
  { name: 'WRONGTYPE: list commands on a set, string commands on a list', steps: [
    'SADD s m', 'RPUSH l a', 'LPUSH s a', 'RPUSH s a', 'LPUSHX s a', 'LPOP s', 'RPOP s 1', 'LLEN s', 'LINDEX s 0', 'LSET s 0 x', 'LRANGE s 0 -1', 'LREM s 0 a', 'LTRIM s 0 1', 'LINSERT s before a b', 'LPOS s a',
    'GET l', 'SADD l x', 'HSET l f v', 'TYPE l', 'INCR l',
  ] },
  { name: 'lists: long lists and binary elements', steps: [
    `RPUSH l ${Array.from({ length: 300 }, (_, i) => i).join(' ')}`, 'LLEN l', 'LRANGE l 140 160', 'LINDEX l 299', 'LINSERT l BEFORE 150 x', 'LINDEX l 150', 'LREM l 0 x', 'LTRIM l 100 199', 'LRANGE l 0 2', 'LRANGE l -2 -1',
    ['RPUSH', 'b', '', Buffer.from([0, 255, 10, 13])], 'LRANGE b 0 -1', ['LPOS', 'b', Buffer.from([0, 255, 10, 13])],
  ] },
];

const blockingCases: Case[] = [
  { name: 'BLPOP/BRPOP: data at once, key order, WRONGTYPE in order', steps: [
    'RPUSH a 1 2', 'RPUSH b 3', 'BLPOP a b 0', 'BRPOP b a 0', 'BLPOP nokey a 0', 'EXISTS a', 'BRPOP b a 0.05', 'SET s x', 'RPUSH l v', 'BLPOP l s 0', 'BLPOP s l 0', 'BLPOP nokey s 0',
  ] },
  { name: 'blocking commands time out with nil', steps: [
    'BLPOP nokey 0.05', 'BRPOP n1 n2 0.05', 'BLMOVE nokey dst LEFT RIGHT 0.05', 'BRPOPLPUSH nokey dst 0.05', 'BLMPOP 0.05 2 n1 n2 LEFT', 'EXISTS dst',
  ] },
  { name: 'blocking commands: timeout and argument errors', steps: [
    'BLPOP l abc', 'BLPOP l -1', 'BLPOP l -0.5', 'BLPOP l inf', 'BLPOP l 1e400', ['BLPOP', 'l', ''], 'BRPOP l x', 'BLMOVE a b LEFT UP 0', 'BLMOVE a b LEFT RIGHT x', 'BRPOPLPUSH a b -1',
    'BLMPOP x 1 a LEFT', 'BLMPOP 0 0 a LEFT', 'BLMPOP 0 2 a LEFT', 'BLMPOP 0 1 a UP', 'BLMPOP 0 1 a LEFT COUNT 0', 'BLMPOP -1 1 a LEFT',
  ] },
  { name: 'BLMOVE/BRPOPLPUSH/BLMPOP: data at once', steps: [
    'RPUSH a 1 2 3', 'BLMOVE a b RIGHT LEFT 0', 'BRPOPLPUSH a b 0', 'LRANGE b 0 -1', 'BLMOVE b b LEFT RIGHT 0', 'LRANGE b 0 -1', 'BLMPOP 0 2 nokey a RIGHT COUNT 5', 'EXISTS a',
    'SET s x', 'RPUSH c v', 'BLMOVE c s LEFT LEFT 0', 'BLMOVE nokey s LEFT LEFT 0.05', 'BLMPOP 0 2 c s LEFT', 'BLMPOP 0 2 s c LEFT',
  ] },
  { name: 'blocking commands inside MULTI answer at once', steps: [
    'MULTI', 'BLPOP nokey 0', 'BRPOP nokey 0', 'BLMOVE nokey d LEFT LEFT 0', 'BLMPOP 0 1 nokey LEFT', 'RPUSH q x', 'BLPOP q 0', 'EXEC',
  ] },
];

const Z5 = 'ZADD z 1 a 2 b 3 c 4 d 5 e';
const SCORE_RANGES: Array<[string, string]> = [['-inf', '+inf'], ['2', '4'], ['(2', '4'], ['2', '(4'], ['(2', '(4'], ['4', '2'], ['(3', '(3'], ['3', '3'], ['-inf', '(1'], ['5', 'inf'], ['6', '+inf'], [' 2', '4']];
const LEX_RANGES: Array<[string, string]> = [['-', '+'], ['[b', '[d'], ['(b', '(d'], ['[b', '(b'], ['-', '[c'], ['(c', '+'], ['+', '-'], ['[z', '+'], ['-', '-'], ['[a', '[a']];

const zsetCases: Case[] = [
  { name: 'ZADD: scores, updates, options, replies', steps: [
    'ZADD z 1 a 2 b', 'ZADD z 3 a 2 b 4 c', 'ZRANGE z 0 -1 WITHSCORES', 'ZADD z NX 10 a 5 d', 'ZADD z XX 10 a 6 e', 'ZADD z XX CH 11 a 11 a', 'ZADD z CH 1 a 1 b 9 f', 'ZADD z GT 0 a 20 b', 'ZADD z LT CH 0 a 30 b',
    'ZADD z GT XX CH 100 a 100 nope', 'ZRANGE z 0 -1 WITHSCORES', 'ZADD z INCR 5 a', 'ZADD z INCR -inf a', 'ZADD z NX INCR 1 a', 'ZADD z XX INCR 1 missing', 'ZADD z GT INCR -1 b', 'ZADD z INCR 1 fresh', 'ZSCORE z fresh', 'ZCARD z',
  ] },
  { name: 'ZADD: errors', steps: [
    'ZADD z 1', 'ZADD z 1 a 2', 'ZADD z NX XX 1 a', 'ZADD z GT LT 1 a', 'ZADD z NX GT 1 a', 'ZADD z INCR 1 a 2 b', 'ZADD z abc a', 'ZADD z 1 a x b', 'ZADD z nan a', 'ZADD z 1e400 a', 'ZADD z 1e-400 a', ['ZADD', 'z', ' 1', 'a'], 'ZADD z FOO 1 a',
    'ZADD z CH', 'ZADD z inf a', 'ZADD z INCR -inf a', 'ZADD z INCR +inf a', 'ZRANGE z 0 -1 WITHSCORES', 'EXISTS nokey', 'ZADD nokey XX 1 a', 'ZADD nokey XX INCR 1 a', 'EXISTS nokey',
  ] },
  { name: 'scores print as Redis 7.0 prints them', steps: [
    'ZADD z 0.1 a 1.5 b 3 c 1e20 d -0.0 e 1e-7 f inf g -inf h 123456789012345678 i 0.30000000000000004 j 5e-324 k 0x10 l', 'ZRANGE z 0 -1 WITHSCORES', 'ZSCORE z a', 'ZMSCORE z a g nope', 'ZINCRBY z 0.2 a', 'ZINCRBY z 1 new',
    'ZINCRBY z abc a', 'ZINCRBY z -inf g', 'ZSCAN z 0',
  ] },
  { name: 'ZREM, ZCARD, ZSCORE, ZMSCORE; emptied sorted sets are deleted', steps: [
    Z5, 'ZREM z a x a', 'ZCARD z', 'ZSCORE z a', 'ZSCORE z b', 'ZSCORE nokey a', 'ZMSCORE z b x', 'ZMSCORE nokey a', 'ZREM nokey a', 'ZREM z b c d e', 'EXISTS z', 'ZCARD z',
  ] },
  { name: 'ZRANK/ZREVRANK', steps: [
    Z5, 'ZRANK z a', 'ZRANK z e', 'ZREVRANK z a', 'ZREVRANK z c', 'ZRANK z x', 'ZRANK nokey a', 'ZREVRANK nokey a',
    // Deliberate: ringcache has Redis 7.2's WITHSCORE, which 7.0 refuses.
    { cmd: 'ZRANK z c WITHSCORE', check: (redis, ringcache) => {
      assert.equal(show(redis), "-ERR wrong number of arguments for 'zrank' command");
      assert.ok(['[:2, "3"]', '[:2, :3]'].includes(show(ringcache)), show(ringcache));
    } },
    { cmd: 'ZREVRANK z c WITHSCORE', check: (_redis, ringcache) => assert.ok(['[:2, "3"]', '[:2, :3]'].includes(show(ringcache)), show(ringcache)) },
    { cmd: 'ZRANK z nope WITHSCORE', check: (_redis, ringcache) => assert.equal(show(ringcache), 'nil') },
  ] },
  { name: 'ZRANGE by rank, with REV and WITHSCORES; ZREVRANGE', steps: [
    Z5, ...LIST_RANGES.map(([a, b]) => `ZRANGE z ${a} ${b}`), 'ZRANGE z 0 -1 REV', 'ZRANGE z 1 2 REV WITHSCORES', 'ZREVRANGE z 0 1', 'ZREVRANGE z 0 -1 WITHSCORES', 'ZRANGE nokey 0 -1', 'ZRANGE z a 1', 'ZREVRANGE z 0 1 REV',
  ] },
  { name: 'ZRANGE BYSCORE, ZRANGEBYSCORE, ZREVRANGEBYSCORE, LIMIT', steps: [
    Z5, ...SCORE_RANGES.map(([a, b]) => ['ZRANGEBYSCORE', 'z', a, b]), ...SCORE_RANGES.map(([a, b]) => ['ZREVRANGEBYSCORE', 'z', b, a]), 'ZRANGE z 2 4 BYSCORE', 'ZRANGE z 4 2 BYSCORE REV WITHSCORES',
    'ZRANGEBYSCORE z -inf +inf LIMIT 1 2', 'ZRANGEBYSCORE z -inf +inf LIMIT 1 -1', 'ZRANGEBYSCORE z -inf +inf LIMIT -1 2', 'ZRANGEBYSCORE z -inf +inf LIMIT 0 0', 'ZRANGEBYSCORE z -inf +inf WITHSCORES LIMIT 3 10', 'ZREVRANGEBYSCORE z +inf -inf LIMIT 1 2 WITHSCORES',
    'ZRANGE z -inf +inf BYSCORE LIMIT 2 2', 'ZRANGEBYSCORE z 1 x', 'ZRANGEBYSCORE z (x 1', 'ZRANGEBYSCORE z nan 1', 'ZRANGEBYSCORE z 1 2 LIMIT 1', 'ZRANGEBYSCORE z 1 2 LIMIT a 1', 'ZRANGEBYSCORE z 1 2 FOO', 'ZRANGEBYSCORE z 1 2 BYLEX', 'ZRANGEBYSCORE nokey 1 2',
  ] },
  { name: 'ZRANGE BYLEX, ZRANGEBYLEX, ZREVRANGEBYLEX, ZLEXCOUNT', steps: [
    'ZADD z 0 a 0 b 0 c 0 d 0 e', ...LEX_RANGES.map(([a, b]) => `ZRANGEBYLEX z ${a} ${b}`), ...LEX_RANGES.map(([a, b]) => `ZREVRANGEBYLEX z ${b} ${a}`), ...LEX_RANGES.map(([a, b]) => `ZLEXCOUNT z ${a} ${b}`),
    'ZRANGE z [b [d BYLEX', 'ZRANGE z [d [b BYLEX REV LIMIT 0 2', 'ZRANGEBYLEX z - + LIMIT 1 2', 'ZRANGEBYLEX z a b', 'ZRANGEBYLEX z [a', 'ZRANGEBYLEX z - + WITHSCORES', 'ZLEXCOUNT z a b', 'ZLEXCOUNT nokey - +',
  ] },
  { name: 'ZRANGE: option rules', steps: [
    Z5, 'ZRANGE z 0 1 LIMIT 0 1', 'ZRANGE z - + BYLEX WITHSCORES', 'ZRANGE z 0 1 FOO', 'ZRANGE z 0 1 BYSCORE BYLEX', 'ZRANGE z (1 3 BYSCORE WITHSCORES LIMIT 0 1', 'ZRANGE z 0 1 LIMIT 0', 'ZRANGE z 1 2 BYSCORE REV',
  ] },
  { name: 'ZRANGESTORE', steps: [
    Z5, 'ZRANGESTORE d z 1 3', 'ZRANGE d 0 -1 WITHSCORES', 'ZRANGESTORE d z 2 4 BYSCORE REV', 'ZRANGESTORE d z 4 2 BYSCORE REV LIMIT 0 1', 'ZRANGE d 0 -1 WITHSCORES', 'ZRANGESTORE d z 10 20', 'EXISTS d', 'ZRANGESTORE d nokey 0 -1', 'ZRANGESTORE d z 0 1 WITHSCORES',
    'SET s x', 'ZRANGESTORE s z 0 0', 'TYPE s', 'ZRANGESTORE d s 0 1',
  ] },
  { name: 'ZCOUNT', steps: [Z5, ...SCORE_RANGES.map(([a, b]) => ['ZCOUNT', 'z', a, b]), 'ZCOUNT nokey 0 1', 'ZCOUNT z x 1'] },
  { name: 'ZREMRANGEBYRANK/SCORE/LEX', steps: [
    Z5, 'ZREMRANGEBYRANK z 0 0', 'ZREMRANGEBYRANK z -1 -1', 'ZRANGE z 0 -1', 'ZREMRANGEBYRANK z 5 10', 'ZREMRANGEBYSCORE z (2 3', 'ZRANGE z 0 -1', 'ZREMRANGEBYSCORE z -inf +inf', 'EXISTS z',
    'ZADD y 0 a 0 b 0 c', 'ZREMRANGEBYLEX y [a (c', 'ZRANGE y 0 -1', 'ZREMRANGEBYLEX y - +', 'EXISTS y', 'ZREMRANGEBYRANK nokey 0 1', 'ZREMRANGEBYSCORE y x 1', 'ZREMRANGEBYLEX y a b', 'ZREMRANGEBYRANK y a 1',
  ] },
  { name: 'ZPOPMIN/ZPOPMAX, BZPOPMIN/BZPOPMAX with data and timeouts', steps: [
    Z5, 'ZPOPMIN z', 'ZPOPMAX z', 'ZPOPMIN z 2', 'ZPOPMAX z 0', 'ZPOPMAX z 5', 'EXISTS z', 'ZPOPMIN nokey', 'ZPOPMIN nokey 2', 'ZPOPMIN z -1', 'ZPOPMIN z x', 'ZPOPMIN z 1 2',
    Z5, 'BZPOPMIN nokey z 0', 'BZPOPMAX z 0', 'BZPOPMIN nokey 0.05', 'BZPOPMAX nokey 0.05', 'BZPOPMIN z x', 'SET s x', 'BZPOPMIN s 0', 'BZPOPMIN z s 0',
  ] },
  { name: 'ZMPOP/BZMPOP', steps: [
    Z5, 'ZMPOP 2 nokey z MIN', 'ZMPOP 1 z MAX COUNT 2', 'ZMPOP 1 z MIN COUNT 10', 'ZMPOP 1 z MIN', 'ZMPOP 0 z MIN', 'ZMPOP 1 z FOO', 'ZMPOP 1 z MIN COUNT 0', 'ZMPOP 2 z MIN',
    Z5, 'BZMPOP 0 1 z MAX', 'BZMPOP 0.05 1 nokey MIN', 'BZMPOP x 1 z MIN', 'BZMPOP 0 1 z MIN COUNT 2', 'SET s x', 'ZMPOP 1 s MIN',
  ] },
  { name: 'ZUNION/ZINTER/ZDIFF: weights, aggregates, sets as inputs', steps: [
    'ZADD a 1 x 2 y 3 z', 'ZADD b 10 y 20 z 30 w', 'SADD s x w', 'ZUNION 2 a b', 'ZUNION 2 a b WITHSCORES', 'ZINTER 2 a b WITHSCORES', 'ZDIFF 2 a b WITHSCORES', 'ZUNION 3 a b s WITHSCORES', 'ZINTER 2 a s WITHSCORES',
    'ZUNION 2 a b WEIGHTS 2 0.5 WITHSCORES', 'ZUNION 2 a b AGGREGATE MIN WITHSCORES', 'ZINTER 2 a b AGGREGATE MAX WITHSCORES', 'ZUNION 2 a nokey WITHSCORES', 'ZINTER 2 a nokey', 'ZDIFF 2 nokey a', 'ZDIFF 1 a',
    'ZADD i 1 p', 'ZADD j -inf p', 'ZADD k inf p', 'ZUNION 2 j k WITHSCORES', 'ZUNION 1 k WEIGHTS 0 WITHSCORES', 'ZINTER 2 j k WITHSCORES',
  ] },
  { name: 'ZUNIONSTORE/ZINTERSTORE/ZDIFFSTORE, ZINTERCARD', steps: [
    'ZADD a 1 x 2 y 3 z', 'ZADD b 10 y 20 z', 'ZUNIONSTORE d 2 a b', 'ZRANGE d 0 -1 WITHSCORES', 'ZINTERSTORE d 2 a b WEIGHTS 1 2', 'ZRANGE d 0 -1 WITHSCORES', 'ZDIFFSTORE d 2 a b', 'ZRANGE d 0 -1 WITHSCORES',
    'ZINTERSTORE d 2 a nokey', 'EXISTS d', 'SET d x', 'ZUNIONSTORE d 1 a', 'TYPE d', 'ZUNIONSTORE d 1 a WITHSCORES', 'ZINTERCARD 2 a b', 'ZINTERCARD 2 a b LIMIT 1', 'ZINTERCARD 1 a LIMIT 0', 'ZINTERCARD 2 a nokey',
    'ZINTERCARD 0 a', 'ZINTERCARD 3 a b', 'ZINTERCARD 2 a b LIMIT -1', 'ZINTERCARD x a', 'OBJECT ENCODING d',
  ] },
  { name: 'ZUNION and friends: errors', steps: [
    'ZADD a 1 x', 'SET s v', 'ZUNION 0 a', 'ZUNIONSTORE d 0 a', 'ZDIFFSTORE d 0 a', 'ZUNION 2 a', 'ZUNION x a', 'ZUNION 1 a WEIGHTS', 'ZUNION 1 a WEIGHTS x', 'ZUNION 1 a WEIGHTS 1 2', 'ZUNION 1 a AGGREGATE', 'ZUNION 1 a AGGREGATE FOO',
    'ZDIFF 1 a WEIGHTS 1', 'ZDIFF 1 a AGGREGATE SUM', 'ZUNION 2 a s', 'ZINTER 2 nokey s', 'ZUNION 2 s a FOO', 'ZINTERSTORE d 1 s', 'ZUNION 1 a FOO',
  ] },
  { name: 'ZRANDMEMBER', steps: [
    Z5, 'ZRANDMEMBER z 5', 'ZRANDMEMBER z 10 WITHSCORES', 'ZRANDMEMBER z 0', 'ZRANDMEMBER nokey', 'ZRANDMEMBER nokey 2', { cmd: 'ZRANDMEMBER z -8', check: sameLength }, { cmd: 'ZRANDMEMBER z 3 WITHSCORES', check: sameLength },
    'ZRANDMEMBER z 1 FOO', 'ZRANDMEMBER z x', 'ZRANDMEMBER z 1 WITHSCORES x',
  ] },
  { name: 'ZSCAN; listpack and skiplist encodings', steps: [
    Z5, 'ZSCAN z 0', 'ZSCAN z 0 MATCH [ab]', 'ZSCAN nokey 0', 'ZSCAN z x', 'OBJECT ENCODING z', ['ZADD', 'z', '1', AT_LIMIT], 'OBJECT ENCODING z', ['ZADD', 'z', '1', LONG], 'OBJECT ENCODING z', ['ZREM', 'z', LONG], 'OBJECT ENCODING z',
    `ZADD big ${Array.from({ length: 128 }, (_, i) => `${i} m${i}`).join(' ')}`, 'OBJECT ENCODING big', 'ZADD big 1 more', 'OBJECT ENCODING big', { cmd: 'ZSCAN big 0 COUNT 1000', check: scanDone(true) }, 'ZRANGE big 120 -1 WITHSCORES',
    'ZUNIONSTORE small 1 big', 'OBJECT ENCODING small', 'ZRANGESTORE small big 0 9', 'OBJECT ENCODING small',
  ] },
  { name: 'WRONGTYPE: sorted-set commands on a list, and the reverse', steps: [
    'RPUSH l a', 'ZADD z 1 m', 'ZADD l 1 a', 'ZINCRBY l 1 a', 'ZREM l a', 'ZSCORE l a', 'ZCARD l', 'ZRANGE l 0 -1', 'ZRANGEBYSCORE l 0 1', 'ZRANK l a', 'ZPOPMIN l', 'ZRANDMEMBER l', 'ZSCAN l 0', 'ZCOUNT l 0 1',
    'LPUSH z a', 'SADD z a', 'GET z', 'TYPE z', 'HGET z a',
  ] },
];

const crossTypeCases: Case[] = [
  { name: 'WRONGTYPE: string commands on a hash, hash commands on a string', steps: [
    'HSET h f v', 'SET s v', 'GET h', 'GETSET h x', 'GETDEL h', 'GETEX h', 'APPEND h x', 'STRLEN h', 'INCR h', 'INCRBYFLOAT h 1', 'GETRANGE h 0 1', 'SETRANGE h 0 x', 'SET h x GET',
    'HGET s f', 'HSET s f v', 'HGETALL s', 'HDEL s f', 'HLEN s', 'HINCRBY s f 1', 'HRANDFIELD s', 'HSCAN s 0', 'HMGET s f', 'HSETNX s f v', 'HEXISTS s f', 'HSTRLEN s f', 'HKEYS s', 'HVALS s', 'HINCRBYFLOAT s f 1',
    'MGET h s', 'TYPE h', 'TYPE s', 'TYPE nokey', 'HGETALL h', 'GET s',
  ] },
  { name: 'SET, SETEX, MSET and GETSET replace a hash; NX and XX see it', steps: [
    'HSET h f v', 'SET h v NX', 'SETNX h v', 'MSETNX h v', 'TYPE h', 'SET h v XX', 'TYPE h', 'GET h', 'HSET h f v', 'SETEX h 100 v', 'TYPE h', 'HSET m f v', 'MSET m v', 'GET m',
  ] },
  { name: 'keys of any type: EXISTS, DEL, TOUCH, RENAME, RENAMENX, KEYS, DBSIZE', steps: [
    'HSET h f v', 'SET s v', 'EXISTS h s nokey', 'TOUCH h s nokey', 'RENAME h h2', 'HGETALL h2', 'EXISTS h', 'RENAMENX h2 s', 'RENAME s h2', 'TYPE h2', 'HSET h f v', 'RENAME h h', 'HGETALL h', 'RENAMENX h x', 'HGETALL x',
    { cmd: 'KEYS *', check: unordered }, 'DBSIZE', 'DEL x h2 nokey', 'DBSIZE',
  ] },
  { name: 'TTLs on a hash: kept by writes, EXPIRE, PERSIST, expiry', steps: [
    'HSET h f v', 'EXPIRE h 100', 'HSET h g w', { cmd: 'TTL h', check: TTL }, 'HDEL h g', { cmd: 'TTL h', check: TTL }, 'HINCRBY h n 1', { cmd: 'TTL h', check: TTL }, 'PERSIST h', 'TTL h',
    'PEXPIRE h 50', { sleep: 120 }, 'EXISTS h', 'HGET h f', 'HSET h f v', 'TTL h', 'RENAME h r', 'EXPIRE r 100', 'RENAME r r2', { cmd: 'TTL r2', check: TTL },
  ] },
  { name: 'COPY: strings and hashes, TTL, REPLACE, errors', steps: [
    'SET s 123', 'COPY s t', 'GET t', 'OBJECT ENCODING t', 'HSET h a 1 b 2', 'EXPIRE h 100', 'COPY h h2', 'HGETALL h2', { cmd: 'TTL h2', check: TTL }, 'HSET h2 c 3', 'HLEN h', 'COPY h s', 'GET s', 'COPY h s REPLACE',
    'HGETALL s', 'COPY nokey x', 'EXISTS x', 'COPY h h', 'COPY h x FOO', 'COPY h x DB 0', 'COPY h y DB 0 REPLACE', 'COPY h z DB abc', 'COPY h z REPLACE DB', 'EXISTS z',
    { cmd: 'COPY h w DB 1', redis: ':1', ringcache: '-ERR DB index is out of range', why: 'one keyspace per node' },
  ] },
  { name: 'DUMP and RESTORE: missing keys, option and payload errors, BUSYKEY', steps: [
    'DUMP nokey', 'SET s v', { cmd: 'DUMP s', check: both('a bulk string', (r) => Buffer.isBuffer(r) && r.length > 0) }, 'RESTORE s 0 garbage', 'RESTORE t 0 garbage', 'RESTORE t -1 garbage', 'RESTORE t x garbage',
    'RESTORE t 0 garbage FOO', 'RESTORE t 0 garbage IDLETIME -1', 'RESTORE t 0 garbage FREQ 256', 'RESTORE s 0 garbage REPLACE', 'EXISTS t',
    // Deliberate: ringcache's payload is its own format; Redis's is refused with Redis's text for an unreadable payload.
    { cmd: ['RESTORE', 'r', '0', REDIS_DUMP_OF_V], redis: '+OK', ringcache: '-ERR DUMP payload version or checksum are wrong', why: "ringcache's own DUMP format" },
  ] },
  // Found by a randomized comparison with redis-server (issue 18's library tests): which error wins
  // when both the key and an argument are wrong. LINDEX and LSET look the key up first; the RAND*
  // commands parse their count (and the syntax after it) before the key; LPOS's COUNT and MAXLEN
  // answer their own message for a non-integer too.
  { name: 'which error first: the key or the argument (LINDEX, LSET, HRANDFIELD, SRANDMEMBER, ZRANDMEMBER, LPOS)', steps: [
    'SET s v', 'RPUSH l a b', 'LINDEX nokey x', 'LINDEX s x', 'LINDEX l x', 'LSET nokey x v', 'LSET s x v', 'LSET l x v', 'LSET nokey 0 v',
    'HRANDFIELD s x', 'HRANDFIELD s 1', 'HRANDFIELD s 1 FOO', 'HRANDFIELD s x FOO', 'HRANDFIELD nokey x', 'HRANDFIELD s -4611686018427387904 WITHVALUES', 'HRANDFIELD s -4611686018427387904 FOO',
    'SRANDMEMBER s x', 'SRANDMEMBER s 1', 'SRANDMEMBER nokey x', 'SRANDMEMBER s x y',
    'ZRANDMEMBER s x', 'ZRANDMEMBER s 1 WITHSCORES', 'ZRANDMEMBER s x FOO', 'ZRANDMEMBER nokey -9223372036854775808', 'ZRANDMEMBER s -4611686018427387904 WITHSCORES',
    'LPOS l a COUNT x', 'LPOS l a COUNT 1.5', 'LPOS l a MAXLEN x', 'LPOS l a MAXLEN -inf', 'LPOS s a COUNT x', 'LPOS nokey a MAXLEN x', 'LPOS l a RANK -9223372036854775808', 'LPOS l a RANK 9223372036854775808',
  ] },
  // HSCAN, SSCAN and ZSCAN: the cursor, then the key (an empty scan, WRONGTYPE), then MATCH/COUNT.
  { name: 'which error first in HSCAN, SSCAN, ZSCAN: cursor, key, options', steps: [
    'SET s v', 'HSET h f v', 'SADD set m', 'ZADD z 1 m',
    'HSCAN nokey 0 COUNT x', 'HSCAN nokey 0 COUNT 0', 'HSCAN nokey 0 FOO', 'HSCAN nokey 0 MATCH', 'HSCAN nokey x COUNT x', 'HSCAN s 0 COUNT x', 'HSCAN s 0 FOO', 'HSCAN h 0 COUNT x', 'HSCAN h 0 COUNT 0',
    'SSCAN nokey 0 COUNT -1', 'SSCAN nokey 0 COUNT 1.5 MATCH', 'SSCAN s 0 COUNT inf', 'SSCAN s x', 'SSCAN set 0 COUNT 1.5', 'SSCAN set 0 NOVALUES',
    'ZSCAN nokey 0 COUNT inf', 'ZSCAN s 0 COUNT -2', 'ZSCAN z 0 COUNT 0', 'ZSCAN z 0 MATCH * COUNT 1 FOO',
  ] },
  { name: 'which error first in ZINTERCARD: WRONGTYPE before LIMIT and syntax errors (ZUNION\'s order)', steps: [
    'SET s v', 'ZADD z 1 m', 'ZINTERCARD 1 s z', 'ZINTERCARD 1 s LIMIT x', 'ZINTERCARD 2 z s LIMIT -1', 'ZINTERCARD 1 z LIMIT -1', 'ZINTERCARD 1 z FOO', 'ZINTERCARD 1 nokey FOO', 'ZUNION 1 s FOO', 'ZINTERSTORE d 1 s FOO',
  ] },
  { name: 'SCAN TYPE and MATCH over mixed types', steps: [
    'MSET s1 a s2 b', 'HSET h1 f v', 'HSET h2 f v', { scanAll: ['TYPE', 'hash'] }, { scanAll: ['TYPE', 'string'] }, { scanAll: ['TYPE', 'HASH', 'MATCH', '*1'] }, { scanAll: ['TYPE', 'zset'] },
  ] },
  { name: 'OBJECT and MEMORY on containers', steps: [
    'HSET h f v', 'OBJECT ENCODING h', 'OBJECT REFCOUNT h', { cmd: 'MEMORY USAGE h', check: positiveInt },
  ] },
];

/** Wrong numbers of arguments for the container commands. */
const WRONG_ARITY: Record<string, string[]> = {
  HSET: ['HSET h', 'HSET h f'], HMSET: ['HMSET h f'], HSETNX: ['HSETNX h f', 'HSETNX h f v x'], HGET: ['HGET h', 'HGET h f x'], HMGET: ['HMGET h'], HGETALL: ['HGETALL', 'HGETALL h x'],
  HDEL: ['HDEL h'], HEXISTS: ['HEXISTS h'], HLEN: ['HLEN', 'HLEN h x'], HSTRLEN: ['HSTRLEN h'], HKEYS: ['HKEYS'], HVALS: ['HVALS h x'], HINCRBY: ['HINCRBY h f'], HINCRBYFLOAT: ['HINCRBYFLOAT h f 1 2'],
  HRANDFIELD: ['HRANDFIELD'], HSCAN: ['HSCAN h'], COPY: ['COPY a'],
  SADD: ['SADD s'], SREM: ['SREM s'], SMEMBERS: ['SMEMBERS', 'SMEMBERS s x'], SISMEMBER: ['SISMEMBER s'], SMISMEMBER: ['SMISMEMBER s'], SCARD: ['SCARD'], SPOP: ['SPOP'], SRANDMEMBER: ['SRANDMEMBER'],
  LPUSH: ['LPUSH l'], RPUSH: ['RPUSH l'], LPUSHX: ['LPUSHX l'], RPUSHX: ['RPUSHX l'], LPOP: ['LPOP'], RPOP: ['RPOP'], LLEN: ['LLEN', 'LLEN l x'], LINDEX: ['LINDEX l'], LSET: ['LSET l 0'], LRANGE: ['LRANGE l 0'],
  LREM: ['LREM l 0'], LTRIM: ['LTRIM l 0'], LINSERT: ['LINSERT l before a'], LPOS: ['LPOS l'], LMOVE: ['LMOVE a b left'], RPOPLPUSH: ['RPOPLPUSH a'], LMPOP: ['LMPOP 1 l'],
  BLPOP: ['BLPOP l'], BRPOP: ['BRPOP'], BLMOVE: ['BLMOVE a b left right'], BRPOPLPUSH: ['BRPOPLPUSH a b'], BLMPOP: ['BLMPOP 0 1 l'],
  ZADD: ['ZADD z 1'], ZINCRBY: ['ZINCRBY z 1'], ZREM: ['ZREM z'], ZSCORE: ['ZSCORE z'], ZMSCORE: ['ZMSCORE z'], ZCARD: ['ZCARD'], ZCOUNT: ['ZCOUNT z 0'], ZLEXCOUNT: ['ZLEXCOUNT z -'], ZRANGE: ['ZRANGE z 0'],
  ZRANGESTORE: ['ZRANGESTORE d z 0'], ZREVRANGE: ['ZREVRANGE z 0'], ZRANGEBYSCORE: ['ZRANGEBYSCORE z 0'], ZREVRANGEBYSCORE: ['ZREVRANGEBYSCORE z 0'], ZRANGEBYLEX: ['ZRANGEBYLEX z -'], ZREVRANGEBYLEX: ['ZREVRANGEBYLEX z +'],
  ZREMRANGEBYRANK: ['ZREMRANGEBYRANK z 0'], ZREMRANGEBYSCORE: ['ZREMRANGEBYSCORE z 0'], ZREMRANGEBYLEX: ['ZREMRANGEBYLEX z -'], ZPOPMIN: ['ZPOPMIN'], ZPOPMAX: ['ZPOPMAX'], BZPOPMIN: ['BZPOPMIN z'], BZPOPMAX: ['BZPOPMAX'],
  ZMPOP: ['ZMPOP 1 z'], BZMPOP: ['BZMPOP 0 1 z'], ZUNION: ['ZUNION 1'], ZINTER: ['ZINTER 1'], ZDIFF: ['ZDIFF 1'], ZUNIONSTORE: ['ZUNIONSTORE d 1'], ZINTERSTORE: ['ZINTERSTORE d 1'], ZDIFFSTORE: ['ZDIFFSTORE d 1'], ZINTERCARD: ['ZINTERCARD 1'],
  DUMP: ['DUMP', 'DUMP a b'], RESTORE: ['RESTORE k 0'],
  ZRANDMEMBER: ['ZRANDMEMBER'], ZSCAN: ['ZSCAN z'], ZRANK: ['ZRANK z'], ZREVRANK: ['ZREVRANK z'],
  SMOVE: ['SMOVE a b'], SINTER: ['SINTER'], SUNION: ['SUNION'], SDIFF: ['SDIFF'], SINTERSTORE: ['SINTERSTORE d'], SUNIONSTORE: ['SUNIONSTORE d'], SDIFFSTORE: ['SDIFFSTORE d'], SINTERCARD: ['SINTERCARD 1'], SSCAN: ['SSCAN s'],
};

const arityCases: Case[] = Object.entries(WRONG_ARITY).map(([name, calls]) => ({ name: `wrong arity: ${name}`, steps: calls as Step[] }));

/** The cases about what the type commands do (the coverage check reads these). */
export const typeBehaviourCases: Case[] = [...hashCases, ...setCases, ...listCases, ...blockingCases, ...zsetCases, ...crossTypeCases];
export const typeCases: Case[] = [...typeBehaviourCases, ...arityCases];
