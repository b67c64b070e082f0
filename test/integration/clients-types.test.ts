/**
 * ioredis and node-redis (RESP2 and RESP3) using their hash, list, set,
 * sorted-set, transaction and blocking APIs, as applications call them, on
 * ringcache and on redis-server: every call's result, as the library hands
 * it back, must be the same on both.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { startRedis, startRingcache, type Running } from '../helpers/processes.js';

const servers: { redis?: Running; ringcache?: Running } = {};
before(async () => {
  [servers.redis, servers.ringcache] = await Promise.all([startRedis(), startRingcache()]);
});
after(async () => {
  await Promise.all([servers.redis?.stop(), servers.ringcache?.stop()]);
});

type Result = unknown;
/** Sorts arrays whose order is the server's hash order (sets past intset, random picks). */
const sorted = (x: unknown): unknown => (Array.isArray(x) ? [...x].map(String).sort() : x);
/** A thrown error as its message, so that failures compare too. */
async function settle(p: Promise<unknown>): Promise<Result> {
  try {
    return await p;
  } catch (err) {
    return `error: ${(err as Error).message}`;
  }
}

async function withIoredis(port: number, resp: 2 | 3, run: (r: Redis) => Promise<Result[]>): Promise<Result[]> {
  const r = new Redis({ host: '127.0.0.1', port, protocol: resp, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  r.on('error', () => {});
  await r.connect();
  await r.flushall();
  try {
    return await run(r);
  } finally {
    r.disconnect();
  }
}

async function ioredisCalls(r: Redis): Promise<Result[]> {
  const out: Result[] = [];
  const add = async (p: Promise<unknown>, unordered = false) => out.push(unordered ? sorted(await settle(p)) : await settle(p));
  await add(r.hset('user:1', { name: 'ada', lang: 'en', visits: '1' }));
  await add(r.hget('user:1', 'name'));
  await add(r.hgetall('user:1'));
  await add(r.hincrby('user:1', 'visits', 5));
  await add(r.hincrbyfloat('user:1', 'score', 1.5));
  await add(r.hmget('user:1', 'name', 'nope', 'visits'));
  await add(r.hdel('user:1', 'lang', 'nope'));
  await add(r.hkeys('user:1'));
  await add(r.hlen('user:1'));
  await add(r.hexists('user:1', 'name'));
  await add(r.hsetnx('user:1', 'name', 'bob'));
  await add(r.hscan('user:1', 0));
  await add(r.rpush('queue', 'a', 'b', 'c'));
  await add(r.lpush('queue', 'z'));
  await add(r.lrange('queue', 0, -1));
  await add(r.lpop('queue'));
  await add(r.rpop('queue', 2));
  await add(r.lmove('queue', 'done', 'LEFT', 'RIGHT'));
  await add(r.llen('done'));
  await add(r.blpop('done', 1));
  await add(r.blpop('empty', 0.05));
  await add(r.sadd('tags', 'x', 'y', 'z'));
  await add(r.sadd('tags', 'x'));
  await add(r.smembers('tags'), true);
  await add(r.sismember('tags', 'y'));
  await add(r.srem('tags', 'y'));
  await add(r.sinter('tags', 'tags'), true);
  await add(r.scard('tags'));
  await add(r.sadd('nums', 3, 1, 2));
  await add(r.smembers('nums'));
  await add(r.zadd('board', 10, 'ada', 20, 'bob', 15, 'cy'));
  await add(r.zrange('board', '0', '-1', 'WITHSCORES'));
  await add(r.zrevrange('board', 0, 1));
  await add(r.zincrby('board', 0.5, 'ada'));
  await add(r.zscore('board', 'ada'));
  await add(r.zrank('board', 'bob'));
  await add(r.zrangebyscore('board', 12, '+inf', 'WITHSCORES', 'LIMIT', 0, 5));
  await add(r.zcount('board', '-inf', 15));
  await add(r.zpopmin('board'));
  await add(r.zrem('board', 'bob'));
  await add(r.bzpopmax('board', 1));
  await add(r.exists('board'));
  await add(r.multi().set('k', '1').incr('k').hset('h', 'f', 'v').lpush('l', 'x').exec());
  await add(r.multi().incr('user:1').get('k').exec());
  await add(r.multi().set('k', '1').hget('k', 'f').exec());
  await add(r.watch('k'));
  await r.set('k', 'changed');
  await add(r.multi().set('k', 'mine').exec());
  await add(r.get('k'));
  await add(r.type('h'));
  await add(r.hget('k', 'f'));
  return out;
}

async function withNodeRedis(port: number, resp: 2 | 3, run: (c: ReturnType<typeof createClient>) => Promise<Result[]>): Promise<Result[]> {
  const c = createClient({ socket: { host: '127.0.0.1', port, reconnectStrategy: false }, RESP: resp });
  c.on('error', () => {});
  await c.connect();
  await c.flushAll();
  try {
    return await run(c as ReturnType<typeof createClient>);
  } finally {
    c.destroy();
  }
}

async function nodeRedisCalls(c: ReturnType<typeof createClient>): Promise<Result[]> {
  const out: Result[] = [];
  const add = async (p: Promise<unknown>, unordered = false) => out.push(unordered ? sorted(await settle(p)) : await settle(p));
  await add(c.hSet('user:1', { name: 'ada', lang: 'en', visits: '1' }));
  await add(c.hGet('user:1', 'name'));
  await add(c.hGetAll('user:1'));
  await add(c.hIncrBy('user:1', 'visits', 5));
  await add(c.hIncrByFloat('user:1', 'score', 1.5));
  await add(c.hmGet('user:1', ['name', 'nope']));
  await add(c.hDel('user:1', ['lang', 'nope']));
  await add(c.hKeys('user:1'));
  await add(c.hLen('user:1'));
  await add(c.hExists('user:1', 'name'));
  await add(c.hScan('user:1', '0'));
  await add(c.rPush('queue', ['a', 'b', 'c']));
  await add(c.lPush('queue', 'z'));
  await add(c.lRange('queue', 0, -1));
  await add(c.lPop('queue'));
  await add(c.rPopCount('queue', 2));
  await add(c.lMove('queue', 'done', 'LEFT', 'RIGHT'));
  await add(c.blPop('done', 1));
  await add(c.blPop('empty', 0.05));
  await add(c.sAdd('tags', ['x', 'y', 'z']));
  await add(c.sMembers('tags'), true);
  await add(c.sIsMember('tags', 'y'));
  await add(c.sRem('tags', 'y'));
  await add(c.sCard('tags'));
  await add(c.sAdd('nums', ['3', '1', '2']));
  await add(c.sMembers('nums'));
  await add(c.zAdd('board', [{ score: 10, value: 'ada' }, { score: 20, value: 'bob' }, { score: 15, value: 'cy' }]));
  await add(c.zRangeWithScores('board', 0, -1));
  await add(c.zRange('board', 0, 1, { REV: true }));
  await add(c.zIncrBy('board', 0.5, 'ada'));
  await add(c.zScore('board', 'ada'));
  await add(c.zRank('board', 'bob'));
  await add(c.zRangeByScore('board', 12, '+inf'));
  await add(c.zCount('board', '-inf', 15));
  await add(c.zPopMin('board'));
  await add(c.bzPopMax('board', 1));
  await add(c.multi().set('k', '1').incr('k').hSet('h', 'f', 'v').lPush('l', 'x').exec());
  await add(c.multi().incr('user:1').get('k').exec());
  await add(c.watch('k'));
  await c.set('k', 'changed');
  await add(c.multi().set('k', 'mine').exec());
  await add(c.get('k'));
  await add(c.type('h'));
  await add(c.hGet('k', 'f'));
  return out;
}

for (const resp of [2, 3] as const) {
  describe(`RESP${resp}`, () => {
    test('ioredis: hashes, lists, sets, sorted sets, MULTI/EXEC and WATCH as on Redis', { timeout: 30_000 }, async () => {
      const [redis, ringcache] = await Promise.all([withIoredis(servers.redis!.port, resp, ioredisCalls), withIoredis(servers.ringcache!.port, resp, ioredisCalls)]);
      assert.deepEqual(ringcache, redis);
    });
    test('node-redis: hashes, lists, sets, sorted sets, MULTI/EXEC and WATCH as on Redis', { timeout: 30_000 }, async () => {
      const [redis, ringcache] = await Promise.all([withNodeRedis(servers.redis!.port, resp, nodeRedisCalls), withNodeRedis(servers.ringcache!.port, resp, nodeRedisCalls)]);
      assert.deepEqual(ringcache, redis);
    });
  });
}
