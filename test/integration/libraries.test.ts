/**
 * Popular Node libraries, unchanged and in their normal use, against one
 * ringcache node and a 3-node static cluster (real node processes on free
 * loopback ports): keyv with @keyv/redis, cache-manager (over keyv),
 * connect-redis with express-session (a real express app over HTTP),
 * rate-limiter-flexible's RateLimiterRedis, and node-redis's and ioredis's
 * hash/list/set/sorted-set/transaction/blocking APIs. Every test checks what
 * the library hands back and what the server holds afterwards (values read
 * back on the owner node, TTLs, counts, session contents), and that the keys
 * of a cluster run are spread over all three nodes.
 *
 * Cluster clients: every library here that takes a cluster client gets the
 * cluster client it documents (@keyv/redis's cluster options (it calls createCluster), node-redis's
 * createCluster for connect-redis, ioredis's Cluster and node-redis's
 * createCluster for rate-limiter-flexible and the data-type APIs); none needs
 * proxy mode.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import KeyvRedis from '@keyv/redis';
import { createCache } from 'cache-manager';
import { RedisStore } from 'connect-redis';
import express from 'express';
import session from 'express-session';
import { Cluster, Redis } from 'ioredis';
import { Keyv } from 'keyv';
import { RateLimiterRedis, RateLimiterRedisNonAtomic, RateLimiterRes } from 'rate-limiter-flexible';
import { createClient, createCluster, WatchError } from 'redis';
import { call, dbsizes, fetchOwners, HOST, keySlot, startCluster, type LocalCluster } from '../helpers/cluster.js';
import { startRedis, startRingcache, type Running } from '../helpers/processes.js';
import type { Reply } from '../helpers/raw-client.js';
import { sleep, within } from '../helpers/tools.js';

declare module 'express-session' {
  interface SessionData {
    views: number;
    user: string;
  }
}

const T = { timeout: 30_000 };
const CONNECT_MS = 10_000;

let single: Running | undefined;
let cluster: LocalCluster | undefined;
let owners: Int32Array | undefined;

before(async () => {
  [single, cluster] = await Promise.all([startRingcache(), startCluster(3)]);
  owners = await fetchOwners(cluster.ports[0]!);
});
after(async () => {
  await Promise.all([single?.stop(), cluster?.stop()]);
});

type Kind = 'one node' | '3-node cluster';
const KINDS: Kind[] = ['one node', '3-node cluster'];

/** The servers of a kind: its ports, and raw access to the node that owns a key. */
function target(kind: Kind) {
  const ports = kind === 'one node' ? [single!.port] : cluster!.ports;
  const isCluster = kind !== 'one node';
  const ownerOf = (key: string): number => (isCluster ? owners![keySlot(key)]! : ports[0]!);
  /** One command on the node that owns the key (a fresh raw connection). */
  const raw = (...args: string[]): Promise<Reply> => call(ownerOf(args[1]!), ...args);
  const text = async (...args: string[]): Promise<string | null> => {
    const r = await raw(...args);
    return r === null ? null : String(r);
  };
  /** Every key matching the pattern on every node (SCAN, bounded). */
  const scanAll = async (match: string): Promise<string[]> => {
    const keys: string[] = [];
    for (const port of ports) {
      let cursor = '0';
      for (let rounds = 0; rounds < 1000; rounds++) {
        const [next, batch] = (await call(port, 'SCAN', cursor, 'MATCH', match, 'COUNT', '1000')) as [Buffer, Buffer[]];
        keys.push(...batch.map(String));
        cursor = String(next);
        if (cursor === '0') break;
      }
    }
    return keys.sort();
  };
  /** In a cluster, asserts that every node holds at least one key (the run really used all three). */
  const assertSpread = async (what: string) => {
    if (!isCluster) return;
    const sizes = await dbsizes(ports);
    assert.ok(sizes.every((n) => n > 0), `${what}: keys on every node, got DBSIZEs ${sizes.join(', ')}`);
  };
  const flush = () => Promise.all(ports.map((p) => call(p, 'FLUSHALL')));
  return { ports, isCluster, ownerOf, raw, text, scanAll, assertSpread, flush };
}

// ---- clients, every wait bounded -------------------------------------------

const plainClient = (port: number) => createClient({ socket: { host: HOST, port, connectTimeout: CONNECT_MS, reconnectStrategy: false } });
type NodeRedis = ReturnType<typeof plainClient>;

/** node-redis (the `redis` package): createClient for one node, createCluster for the cluster. */
async function nodeRedis(kind: Kind): Promise<NodeRedis> {
  const { ports, isCluster } = target(kind);
  const socket = { host: HOST, connectTimeout: CONNECT_MS, reconnectStrategy: false as const };
  // The cluster client has the same command methods; typed as the plain client's for the shared code.
  const client = isCluster
    ? (createCluster({ rootNodes: ports.map((port) => ({ socket: { ...socket, port } })), defaults: { socket } }) as unknown as NodeRedis)
    : plainClient(ports[0]!);
  client.on('error', () => {});
  await within(CONNECT_MS + 5000, `node-redis to connect to the ${kind}`, client.connect() as Promise<unknown>);
  return client;
}

/** ioredis: Redis for one node, Cluster for the cluster. */
async function ioredis(kind: Kind): Promise<Redis | Cluster> {
  const { ports, isCluster } = target(kind);
  const client = isCluster
    ? new Cluster(ports.map((port) => ({ host: HOST, port })), { clusterRetryStrategy: () => null, redisOptions: { connectTimeout: CONNECT_MS } })
    : new Redis({ host: HOST, port: ports[0]!, connectTimeout: CONNECT_MS, retryStrategy: () => null, maxRetriesPerRequest: 1 });
  client.on('error', () => {});
  await within(CONNECT_MS + 5000, `ioredis to connect to the ${kind}`, new Promise<void>((resolve, reject) => {
    client.once('ready', () => resolve());
    client.once('end', () => reject(new Error(`ioredis ended before it was ready (${kind})`)));
  }));
  return client;
}

/** A TTL reply as a number. */
const num = (r: Reply): number => Number(r);

// ---- keyv with @keyv/redis ---------------------------------------------------

for (const kind of KINDS) {
  describe(`keyv with @keyv/redis: ${kind}`, () => {
    test('get/set with TTLs, setMany/getMany/hasMany/deleteMany, iterator, clear of its namespace only', T, async () => {
      const t = target(kind);
      await t.flush();
      // The documented connections: a redis:// URL for one node, cluster options ({ rootNodes }) for a cluster.
      const store = t.isCluster
        ? new KeyvRedis({ rootNodes: t.ports.map((p) => ({ url: `redis://${HOST}:${p}` })) })
        : new KeyvRedis(`redis://${HOST}:${t.ports[0]}`);
      const errors: unknown[] = [];
      store.on('error', (e: unknown) => errors.push(e));
      // As @keyv/redis's README: the store prefixes the namespace, so Keyv's own prefix is off.
      const keyv = new Keyv({ store, namespace: 'app', useKeyPrefix: false });
      keyv.on('error', (e: unknown) => errors.push(e));
      try {
        assert.equal(await keyv.set('user', { name: 'ada', langs: ['en', 'fr'] }), true);
        assert.deepEqual(await keyv.get('user'), { name: 'ada', langs: ['en', 'fr'] });
        assert.equal(await t.raw('TTL', 'app::user'), -1, 'no TTL asked, none set');
        assert.match((await t.text('GET', 'app::user'))!, /"name":"ada"/, 'the value is on the owner node under app::user');

        assert.equal(await keyv.set('short', 'soon gone', 1000), true);
        const pttl = num(await t.raw('PTTL', 'app::short'));
        assert.ok(pttl > 0 && pttl <= 1000, `PX 1000 set: PTTL ${pttl}`);
        assert.equal(await keyv.get('short'), 'soon gone');

        const entries = Array.from({ length: 30 }, (_, i) => ({ key: `item${i}`, value: { i } }));
        await keyv.setMany(entries);
        const got = await keyv.getMany(entries.map((e) => e.key));
        assert.deepEqual(got, entries.map((e) => e.value));
        assert.deepEqual(await keyv.hasMany(['item0', 'item29', 'nope']), [true, true, false]);
        assert.equal(await keyv.has('item7'), true);
        await t.assertSpread('keyv setMany');

        // Another namespace over the same server, which clear() must leave alone.
        const other = new Keyv({ store: t.isCluster ? new KeyvRedis({ rootNodes: [{ url: `redis://${HOST}:${t.ports[1]}` }] }) : new KeyvRedis(`redis://${HOST}:${t.ports[0]}`), namespace: 'other', useKeyPrefix: false });
        other.on('error', (e: unknown) => errors.push(e));
        try {
          await other.set('keep', 'me');

          assert.equal(await keyv.delete('item0'), true);
          assert.equal(await keyv.delete('item0'), false, 'already gone');
          assert.equal(await keyv.deleteMany(['item1', 'item2', 'item3']), true);
          assert.deepEqual(await keyv.hasMany(['item1', 'item2', 'item3', 'item4']), [false, false, false, true]);

          // A hash under the namespace: keyv's SCAN ... TYPE string passes it over, as on Redis.
          assert.equal(await t.raw('HSET', 'app::ahash', 'f', 'v'), 1);
          const seen = new Map<string, unknown>();
          for await (const [k, v] of keyv.iterator!(undefined)) seen.set(k as string, v);
          assert.equal(seen.size, 1 + 1 + 26, `iterator over every node: user, short, item4..item29; got ${[...seen.keys()].join(' ')}`);
          assert.deepEqual(seen.get('item4'), { i: 4 });

          await sleep(Math.max(num(await t.raw('PTTL', 'app::short')), 0) + 100);
          assert.equal(await keyv.get('short'), undefined, 'expired after its 1000 ms');
          assert.equal(await t.raw('EXISTS', 'app::short'), 0, 'and gone from the server');

          await keyv.clear();
          assert.deepEqual(await t.scanAll('app::*'), ['app::ahash'], 'clear() removed every string key of its namespace, on every node');
          assert.equal(await other.get('keep'), 'me', 'and left the other namespace alone');
        } finally {
          await other.disconnect();
        }
        assert.deepEqual(errors, [], 'no error event');
      } finally {
        await keyv.disconnect();
      }
    });
  });
}

// ---- cache-manager ---------------------------------------------------------

for (const kind of KINDS) {
  describe(`cache-manager over keyv/@keyv/redis: ${kind}`, () => {
    test('set/get/ttl, mset/mget, wrap calls its function once, del/mdel, clear', T, async () => {
      const t = target(kind);
      await t.flush();
      const store = t.isCluster
        ? new KeyvRedis({ rootNodes: t.ports.map((p) => ({ url: `redis://${HOST}:${p}` })) })
        : new KeyvRedis(`redis://${HOST}:${t.ports[0]}`);
      const errors: unknown[] = [];
      store.on('error', (e: unknown) => errors.push(e));
      const cache = createCache({ stores: [new Keyv({ store, namespace: 'cm', useKeyPrefix: false })], ttl: 60_000 });
      try {
        const before = Date.now();
        assert.deepEqual(await cache.set('profile:1', { name: 'ada' }, 10_000), { name: 'ada' });
        assert.deepEqual(await cache.get('profile:1'), { name: 'ada' });
        const expires = await cache.ttl('profile:1');
        assert.ok(expires !== undefined && expires >= before + 9_000 && expires <= Date.now() + 10_000, `ttl() is the expiry time: ${expires}`);
        const pttl = num(await t.raw('PTTL', 'cm::profile:1'));
        assert.ok(pttl > 9_000 && pttl <= 10_000, `PX 10000 on the server: ${pttl}`);

        await cache.set('default-ttl', 1);
        const dpttl = num(await t.raw('PTTL', 'cm::default-ttl'));
        assert.ok(dpttl > 59_000 && dpttl <= 60_000, `the cache's default ttl: ${dpttl}`);

        const list = Array.from({ length: 24 }, (_, i) => ({ key: `p${i}`, value: `v${i}`, ttl: 30_000 }));
        await cache.mset(list);
        assert.deepEqual(await cache.mget(list.map((e) => e.key)), list.map((e) => e.value));
        assert.deepEqual(await cache.mget(['p0', 'missing']), ['v0', undefined]);
        await t.assertSpread('cache-manager mset');

        let calls = 0;
        const load = async () => {
          calls++;
          return { loaded: calls };
        };
        assert.deepEqual(await cache.wrap('wrapped', load, 5_000), { loaded: 1 });
        assert.deepEqual(await cache.wrap('wrapped', load, 5_000), { loaded: 1 }, 'the second wrap is served from the cache');
        assert.equal(calls, 1);
        const wpttl = num(await t.raw('PTTL', 'cm::wrapped'));
        assert.ok(wpttl > 4_000 && wpttl <= 5_000, `wrap's ttl: ${wpttl}`);

        assert.equal(await cache.del('profile:1'), true);
        assert.equal(await cache.get('profile:1'), undefined);
        assert.equal(await cache.mdel(['p0', 'p1', 'p2']), true);
        assert.deepEqual(await cache.mget(['p0', 'p1', 'p2', 'p3']), [undefined, undefined, undefined, 'v3']);

        assert.equal(await cache.clear(), true);
        assert.deepEqual(await t.scanAll('cm::*'), [], 'clear() emptied the namespace on every node');
        assert.deepEqual(errors, [], 'no error event');
      } finally {
        await cache.disconnect();
      }
    });
  });
}

// ---- connect-redis with express-session --------------------------------------

/** A cookie-keeping HTTP client of one "browser". */
function browser(base: string) {
  let cookie: string | undefined;
  return {
    async get(path: string): Promise<{ status: number; body: string }> {
      const res = await fetch(base + path, { headers: cookie ? { cookie } : {}, signal: AbortSignal.timeout(5000) });
      const set = res.headers.get('set-cookie');
      if (set) cookie = set.split(';')[0];
      return { status: res.status, body: await res.text() };
    },
    /** The session id in the signed cookie (`s:<sid>.<signature>`). */
    sid(): string {
      const value = decodeURIComponent(cookie!.split('=')[1]!);
      return /^s:([^.]+)\./.exec(value)![1]!;
    },
  };
}

for (const kind of KINDS) {
  describe(`connect-redis with express-session: ${kind}`, () => {
    test('an express app keeps sessions: counts per browser, TTL from cookie.maxAge, touch, destroy, length/ids/all/clear', T, async () => {
      const t = target(kind);
      await t.flush();
      // connect-redis takes a node-redis client or, for a cluster, a node-redis cluster client.
      const client = await nodeRedis(kind);
      const store = new RedisStore({ client });
      const app = express();
      app.use(session({ store, secret: 'not a secret', resave: false, saveUninitialized: false, cookie: { maxAge: 60_000 } }));
      app.get('/visit', (req, res) => {
        req.session.views = (req.session.views ?? 0) + 1;
        res.json({ views: req.session.views });
      });
      app.get('/login/:user', (req, res) => {
        req.session.user = req.params.user;
        res.json({ user: req.session.user });
      });
      app.get('/peek', (req, res) => res.json({ views: req.session.views ?? 0, user: req.session.user ?? null }));
      app.get('/logout', (req, res) => {
        req.session.destroy((err) => res.status(err ? 500 : 200).end(err ? String(err) : 'bye'));
      });
      const server = http.createServer(app);
      await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
      const base = `http://${HOST}:${(server.address() as AddressInfo).port}`;
      try {
        // Session ids are random: 30 sessions miss a node of three with a chance of 3 * (2/3)^30, about 1e-5.
        const browsers = Array.from({ length: 30 }, () => browser(base));
        const [a, b] = browsers as [ReturnType<typeof browser>, ReturnType<typeof browser>];
        for (let i = 1; i <= 3; i++) assert.deepEqual(JSON.parse((await a.get('/visit')).body), { views: i });
        assert.deepEqual(JSON.parse((await a.get('/login/ada')).body), { user: 'ada' });
        assert.deepEqual(JSON.parse((await b.get('/visit')).body), { views: 1 }, 'another browser has its own session');
        assert.deepEqual(JSON.parse((await a.get('/peek')).body), { views: 3, user: 'ada' });

        const key = `sess:${a.sid()}`;
        const stored = JSON.parse((await t.text('GET', key))!) as { views: number; user: string; cookie: { originalMaxAge: number } };
        assert.equal(stored.views, 3);
        assert.equal(stored.user, 'ada');
        assert.ok(stored.cookie.originalMaxAge > 59_000 && stored.cookie.originalMaxAge <= 60_000, `cookie.maxAge kept: ${stored.cookie.originalMaxAge}`);
        const ttl = num(await t.raw('TTL', key));
        assert.ok(ttl > 50 && ttl <= 60, `SET EX from cookie.maxAge: TTL ${ttl}`);

        // An unmodified session is touched (EXPIRE), not rewritten.
        assert.equal(await t.raw('EXPIRE', key, '5'), 1);
        assert.deepEqual(JSON.parse((await a.get('/peek')).body), { views: 3, user: 'ada' });
        const touched = num(await t.raw('TTL', key));
        assert.ok(touched > 50, `touch() renewed the TTL: ${touched}`);

        for (const other of browsers.slice(2)) await other.get('/visit');
        await t.assertSpread('sessions');
        const length = await new Promise<number>((resolve, reject) => store.length((err, n) => (err ? reject(err as Error) : resolve(n))));
        assert.equal(length, 30, 'length() counts the sessions of every node (SCAN per master)');
        const ids = await new Promise<string[]>((resolve, reject) => store.ids((err, list) => (err ? reject(err as Error) : resolve(list))));
        assert.ok(ids.includes(a.sid()) && ids.includes(b.sid()) && ids.length === 30);

        assert.equal((await a.get('/logout')).status, 200);
        assert.equal(await t.raw('EXISTS', key), 0, 'destroy() deleted the session');
        assert.deepEqual(JSON.parse((await a.get('/peek')).body), { views: 0, user: null }, 'the old cookie has no session any more');

        // all() and clear() read and delete many keys with one MGET/DEL: on a cluster (ringcache's or
        // Redis's) that needs the sessions in one slot, which a hash-tagged prefix gives.
        const tagged = new RedisStore({ client, prefix: '{sess}:' });
        const sess = (views: number) => ({ cookie: { originalMaxAge: 60_000, expires: new Date(Date.now() + 60_000) }, views }) as unknown as session.SessionData;
        await tagged.set('one', sess(1));
        await tagged.set('two', sess(2));
        const all = (await tagged.all()) as Array<{ id: string; views: number }>;
        assert.deepEqual(all.map((s) => [s.id, s.views]).sort(), [['one', 1], ['two', 2]]);
        if (!t.isCluster) {
          const everything = (await store.all()) as Array<{ id: string }>;
          assert.equal(everything.length, 29, 'one node: all() of the default prefix too');
        }
        await tagged.clear();
        assert.deepEqual(await t.scanAll('{sess}:*'), []);
        assert.equal((await t.scanAll('sess:*')).length, 29, 'clear() of one prefix leaves the others');
      } finally {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
        client.destroy();
      }
    });
  });
}

// ---- rate-limiter-flexible -----------------------------------------------------

interface LimiterClient {
  name: string;
  open(kind: Kind): Promise<{ client: unknown; close(): void; redisPackage: boolean }>;
}
const limiterClients: LimiterClient[] = [
  {
    name: 'ioredis',
    async open(kind) {
      const c = await ioredis(kind);
      return { client: c, close: () => c.disconnect(), redisPackage: false };
    },
  },
  {
    name: 'node-redis',
    async open(kind) {
      const c = await nodeRedis(kind);
      return { client: c, close: () => c.destroy(), redisPackage: true };
    },
  },
];

/** A rejection of consume() is a RateLimiterRes (a real error would be an Error). */
async function rejection(p: Promise<unknown>): Promise<RateLimiterRes> {
  try {
    await p;
  } catch (err) {
    if (err instanceof RateLimiterRes) return err;
    throw err;
  }
  assert.fail('consume() was not rejected');
}

for (const kind of KINDS) {
  for (const lc of limiterClients) {
    describe(`rate-limiter-flexible RateLimiterRedis with ${lc.name}: ${kind}`, () => {
      // With `duration: 0` (points never expire) RateLimiterRedis counts with MULTI INCRBY PTTL, no Lua;
      // get/delete/block/penalty/reward use MULTI, SET EX and DEL. Only consume() with a duration runs its
      // Lua script (EVALSHA/EVAL, see below).
      test('consume/get/delete/block/penalty/reward without Lua (duration 0)', T, async () => {
        const t = target(kind);
        const { client, close, redisPackage } = await lc.open(kind);
        try {
          const prefix = `rl-${lc.name}`;
          const limiter = new RateLimiterRedis({ storeClient: client, useRedisPackage: redisPackage, keyPrefix: prefix, points: 3, duration: 0 });
          const users = Array.from({ length: 9 }, (_, i) => `user${i}`);
          for (const user of users) {
            for (let i = 1; i <= 3; i++) {
              const res = await limiter.consume(user);
              assert.equal(res.consumedPoints, i);
              assert.equal(res.remainingPoints, 3 - i);
              assert.equal(res.isFirstInDuration, i === 1);
              assert.equal(res.msBeforeNext, -1, 'no expiry with duration 0');
            }
          }
          await t.assertSpread('rate limiter keys');
          const over = await rejection(limiter.consume('user0'));
          assert.equal(over.consumedPoints, 4);
          assert.equal(over.remainingPoints, 0);
          assert.equal(await t.text('GET', `${prefix}:user0`), '4', 'the count on the owner node');
          assert.equal((await limiter.get('user1'))?.consumedPoints, 3);
          assert.equal(await limiter.get('nobody'), null);

          assert.equal(await limiter.delete('user0'), true);
          assert.equal(await limiter.delete('user0'), false);
          assert.equal(await limiter.get('user0'), null);
          assert.equal((await limiter.consume('user0')).remainingPoints, 2, 'a deleted key starts again');

          const blocked = await limiter.block('blocked', 10);
          assert.ok(blocked.msBeforeNext > 9_000 && blocked.msBeforeNext <= 10_000, `block(): msBeforeNext ${blocked.msBeforeNext}`);
          const pttl = num(await t.raw('PTTL', `${prefix}:blocked`));
          assert.ok(pttl > 9_000 && pttl <= 10_000, `block() is SET EX 10: PTTL ${pttl}`);
          const refused = await rejection(limiter.consume('blocked'));
          assert.ok(refused.msBeforeNext > 9_000, 'a blocked key refuses until its block ends');

          assert.equal((await limiter.penalty('pen', 2)).consumedPoints, 2);
          assert.equal((await limiter.reward('pen', 1)).consumedPoints, 1);
          assert.equal(await t.text('GET', `${prefix}:pen`), '1');
        } finally {
          close();
        }
      });

      test('consume() with a duration (its Lua script: EVALSHA/EVAL)', T, async () => {
        const t = target(kind);
        const { client, close, redisPackage } = await lc.open(kind);
        try {
          const prefix = `rl-lua-${lc.name}`;
          const limiter = new RateLimiterRedis({ storeClient: client, useRedisPackage: redisPackage, keyPrefix: prefix, points: 2, duration: 5 });
          assert.equal((await limiter.consume('u')).remainingPoints, 1);
          assert.equal((await limiter.consume('u')).remainingPoints, 0);
          await rejection(limiter.consume('u'));
          const pttl = num(await t.raw('PTTL', `${prefix}:u`));
          assert.ok(pttl > 4_000 && pttl <= 5_000, `EX 5: PTTL ${pttl}`);
        } finally {
          close();
        }
      });

      test('RateLimiterRedisNonAtomic (no Lua): points per duration, then the key expires', T, async () => {
        const t = target(kind);
        const { client, close, redisPackage } = await lc.open(kind);
        try {
          const prefix = `rlna-${lc.name}`;
          const limiter = new RateLimiterRedisNonAtomic({ storeClient: client, useRedisPackage: redisPackage, keyPrefix: prefix, points: 2, duration: 2 });
          const first = await limiter.consume('ip');
          assert.equal(first.remainingPoints, 1);
          assert.equal(first.msBeforeNext, 2000);
          const second = await limiter.consume('ip');
          assert.equal(second.remainingPoints, 0);
          assert.ok(second.msBeforeNext > 0 && second.msBeforeNext <= 2000, `the TTL carried over: ${second.msBeforeNext}`);
          const third = await rejection(limiter.consume('ip'));
          assert.equal(third.consumedPoints, 3);
          const pttl = num(await t.raw('PTTL', `${prefix}:ip`));
          assert.ok(pttl > 0 && pttl <= 2000, `PTTL ${pttl}`);
          await sleep(Math.max(pttl, 0) + 100);
          assert.equal(await t.raw('EXISTS', `${prefix}:ip`), 0, 'expired');
          assert.equal((await limiter.consume('ip')).remainingPoints, 1, 'a new window');
        } finally {
          close();
        }
      });
    });
  }
}

// ---- node-redis and ioredis: hashes, lists, sets, sorted sets, MULTI, blocking ----

for (const kind of KINDS) {
  describe(`ioredis data-type APIs: ${kind}`, () => {
    test('hash, list, set, sorted set, multi, watch, blocking pop', T, async () => {
      const t = target(kind);
      await t.flush();
      const r = await ioredis(kind);
      const other = await ioredis(kind);
      try {
        // Hashes, many keys (spread over the nodes of a cluster).
        for (let i = 0; i < 20; i++) assert.equal(await r.hset(`user:${i}`, { name: `u${i}`, visits: '1' }), 2);
        await t.assertSpread('hashes');
        // scanStream with TYPE, per master in a cluster (as ioredis documents for Cluster).
        const masters = t.isCluster ? (r as Cluster).nodes('master') : [r as Redis];
        assert.equal(masters.length, t.ports.length);
        const scanned: string[] = [];
        for (const node of masters) {
          for await (const batch of node.scanStream({ match: 'user:*', type: 'hash', count: 5 })) scanned.push(...(batch as string[]));
        }
        assert.deepEqual([...new Set(scanned)].sort(), Array.from({ length: 20 }, (_, i) => `user:${i}`).sort());
        assert.deepEqual(await r.hgetall('user:3'), { name: 'u3', visits: '1' });
        assert.equal(await r.hincrby('user:3', 'visits', 5), 6);
        assert.equal(await r.hincrbyfloat('user:3', 'score', 1.5), '1.5');
        assert.deepEqual(await r.hmget('user:3', 'name', 'missing', 'visits'), ['u3', null, '6']);
        assert.equal(await r.hsetnx('user:3', 'name', 'other'), 0);
        assert.equal(await r.hdel('user:3', 'score', 'missing'), 1);
        assert.deepEqual((await r.hkeys('user:3')).sort(), ['name', 'visits']);
        assert.equal(await r.hlen('user:3'), 2);
        assert.equal(await r.hexists('user:3', 'name'), 1);
        assert.equal(await r.expire('user:3', 100), 1);
        assert.equal(await t.raw('TTL', 'user:3'), 100);
        assert.equal(await t.text('TYPE', 'user:3'), 'hash');

        // Lists.
        assert.equal(await r.rpush('queue', 'a', 'b', 'c'), 3);
        assert.equal(await r.lpush('queue', 'z'), 4);
        assert.deepEqual(await r.lrange('queue', 0, -1), ['z', 'a', 'b', 'c']);
        assert.equal(await r.lindex('queue', 1), 'a');
        assert.equal(await r.lpop('queue'), 'z');
        assert.deepEqual(await r.rpop('queue', 2), ['c', 'b']);
        assert.equal(await r.llen('queue'), 1);
        assert.equal(await r.lmove('queue', '{queue}:done', 'LEFT', 'RIGHT'), 'a', '{queue}:done hashes as queue: one slot');
        assert.equal(await r.exists('queue'), 0, 'the emptied list is deleted');

        // Sets.
        assert.equal(await r.sadd('tags', 'red', 'green', 'blue'), 3);
        assert.equal(await r.sismember('tags', 'red'), 1);
        assert.deepEqual(await r.smismember('tags', 'red', 'pink'), [1, 0]);
        assert.deepEqual((await r.smembers('tags')).sort(), ['blue', 'green', 'red']);
        assert.equal(await r.srem('tags', 'green'), 1);
        assert.equal(await r.scard('tags'), 2);
        await r.sadd('{s}:a', '1', '2', '3');
        await r.sadd('{s}:b', '2', '3', '4');
        assert.deepEqual((await r.sinter('{s}:a', '{s}:b')).sort(), ['2', '3']);
        assert.deepEqual((await r.sunion('{s}:a', '{s}:b')).sort(), ['1', '2', '3', '4']);
        assert.deepEqual(await r.sdiff('{s}:a', '{s}:b'), ['1']);
        assert.equal(await r.sinterstore('{s}:both', '{s}:a', '{s}:b'), 2);

        // Sorted sets.
        assert.equal(await r.zadd('board', 10, 'ada', 20, 'bob', 15, 'cy'), 3);
        assert.deepEqual(await r.zrange('board', '0', '-1', 'WITHSCORES'), ['ada', '10', 'cy', '15', 'bob', '20']);
        assert.equal(await r.zincrby('board', 7, 'ada'), '17');
        assert.deepEqual(await r.zrevrange('board', 0, 1), ['bob', 'ada']);
        assert.equal(await r.zscore('board', 'cy'), '15');
        assert.equal(await r.zrank('board', 'ada'), 1);
        assert.deepEqual(await r.zrangebyscore('board', 16, '+inf'), ['ada', 'bob']);
        assert.equal(await r.zcount('board', '(15', 20), 2);
        assert.deepEqual(await r.zpopmin('board'), ['cy', '15']);
        assert.equal(await r.zcard('board'), 2);

        // MULTI: one slot per transaction in a cluster (a hash tag), as with Redis Cluster.
        const results = await r.multi().set('{acct}:balance', '10').incrby('{acct}:balance', 5).hset('{acct}:meta', 'owner', 'ada').lpush('{acct}:log', 'credit').exec();
        assert.deepEqual(results, [[null, 'OK'], [null, 15], [null, 1], [null, 1]]);
        const withError = await r.multi().set('{acct}:name', 'x').incr('{acct}:name').get('{acct}:name').exec();
        assert.equal(withError![0]![1], 'OK');
        assert.match(String(withError![1]![0]), /not an integer/, 'a runtime error is per command');
        assert.equal(withError![2]![1], 'x');

        if (!t.isCluster) {
          // WATCH: only on one node (ioredis's Cluster sends WATCH and MULTI over pooled connections).
          const single = r as Redis;
          await single.watch('{acct}:balance');
          await other.set('{acct}:balance', '0');
          assert.equal(await single.multi().incr('{acct}:balance').exec(), null, 'a watched key written by another client aborts EXEC');
          assert.equal(await r.get('{acct}:balance'), '0');
        }

        // Blocking pop, woken by a push from another client (on the key's owner in a cluster).
        const waiting = other.blpop('jobs', 5);
        await sleep(100);
        assert.equal(await r.rpush('jobs', 'job-1'), 1);
        assert.deepEqual(await within(5000, 'BLPOP to wake', waiting), ['jobs', 'job-1']);
        assert.deepEqual(await r.bzpopmin('board', 1), ['board', 'ada', '17']);
      } finally {
        r.disconnect();
        other.disconnect();
      }
    });
  });

  describe(`node-redis data-type APIs: ${kind}`, () => {
    test('hash, list, set, sorted set, multi, watch, blocking pop', T, async () => {
      const t = target(kind);
      await t.flush();
      const r = await nodeRedis(kind);
      const other = await nodeRedis(kind);
      try {
        for (let i = 0; i < 20; i++) assert.equal(await r.hSet(`nuser:${i}`, { name: `u${i}`, visits: '1' }), 2);
        await t.assertSpread('hashes');
        assert.deepEqual({ ...(await r.hGetAll('nuser:3')) }, { name: 'u3', visits: '1' });
        assert.equal(await r.hIncrBy('nuser:3', 'visits', 5), 6);
        assert.equal(String(await r.hIncrByFloat('nuser:3', 'score', 1.5)), '1.5');
        assert.deepEqual(await r.hmGet('nuser:3', ['name', 'missing', 'visits']), ['u3', null, '6']);
        assert.equal(await r.hDel('nuser:3', ['score', 'missing']), 1);
        assert.deepEqual((await r.hKeys('nuser:3')).map(String).sort(), ['name', 'visits']);
        assert.equal(await r.hLen('nuser:3'), 2);
        assert.equal(Number(await r.hExists('nuser:3', 'name')), 1);

        assert.equal(await r.rPush('nqueue', ['a', 'b', 'c']), 3);
        assert.equal(await r.lPush('nqueue', 'z'), 4);
        assert.deepEqual(await r.lRange('nqueue', 0, -1), ['z', 'a', 'b', 'c']);
        assert.equal(await r.lPop('nqueue'), 'z');
        assert.deepEqual(await r.rPopCount('nqueue', 2), ['c', 'b']);
        assert.equal(await r.lLen('nqueue'), 1);
        assert.equal(await r.lRem('nqueue', 0, 'a'), 1);
        assert.equal(await r.exists('nqueue'), 0, 'the emptied list is deleted');

        assert.equal(await r.sAdd('ntags', ['red', 'green', 'blue']), 3);
        assert.equal(Number(await r.sIsMember('ntags', 'red')), 1);
        assert.deepEqual((await r.sMembers('ntags')).map(String).sort(), ['blue', 'green', 'red']);
        assert.equal(await r.sRem('ntags', 'green'), 1);
        assert.equal(await r.sCard('ntags'), 2);
        await r.sAdd('{ns}:a', ['1', '2', '3']);
        await r.sAdd('{ns}:b', ['2', '3', '4']);
        assert.deepEqual((await r.sInter(['{ns}:a', '{ns}:b'])).map(String).sort(), ['2', '3']);
        assert.equal(await r.sUnionStore('{ns}:all', ['{ns}:a', '{ns}:b']), 4);

        assert.equal(await r.zAdd('nboard', [{ score: 10, value: 'ada' }, { score: 20, value: 'bob' }, { score: 15, value: 'cy' }]), 3);
        assert.deepEqual(await r.zRangeWithScores('nboard', 0, -1), [{ value: 'ada', score: 10 }, { value: 'cy', score: 15 }, { value: 'bob', score: 20 }]);
        assert.equal(Number(await r.zIncrBy('nboard', 7, 'ada')), 17);
        assert.deepEqual(await r.zRange('nboard', 0, 1, { REV: true }), ['bob', 'ada']);
        assert.deepEqual(await r.zRange('nboard', 16, '+inf', { BY: 'SCORE' }), ['ada', 'bob']);
        assert.equal(Number(await r.zScore('nboard', 'cy')), 15);
        assert.equal(await r.zRank('nboard', 'ada'), 1);
        assert.deepEqual(await r.zPopMin('nboard'), { value: 'cy', score: 15 });
        assert.equal(await r.zCard('nboard'), 2);

        const results = await r.multi().set('{nacct}:balance', '10').incrBy('{nacct}:balance', 5).hSet('{nacct}:meta', 'owner', 'ada').exec();
        assert.deepEqual(results, ['OK', 15, 1]);
        assert.equal(await t.text('GET', '{nacct}:balance'), '15');

        if (!t.isCluster) {
          // WATCH: node-redis's cluster client has no watch().
          const one = r as ReturnType<typeof createClient>;
          await one.watch('{nacct}:balance');
          await other.set('{nacct}:balance', '0');
          await assert.rejects(one.multi().incr('{nacct}:balance').exec(), WatchError);
          assert.equal(await r.get('{nacct}:balance'), '0');
        }

        const waiting = other.blPop('njobs', 5);
        await sleep(100);
        assert.equal(await r.rPush('njobs', 'job-1'), 1);
        assert.deepEqual({ ...(await within(5000, 'BLPOP to wake', waiting)) }, { key: 'njobs', element: 'job-1' });
      } finally {
        r.destroy();
        other.destroy();
      }
    });
  });
}

// ---- the whole data-type API through both clients, as on redis-server ------------

/**
 * Each client's typed methods for (nearly) every hash, list, set, sorted-set
 * and MULTI command, in RESP2 and RESP3, on redis-server, on one node and on
 * the cluster: what the library hands back must be the same everywhere. The
 * keys of one data type share a hash tag (so multi-key calls work on a
 * cluster, as with Redis Cluster), and the four tags live on different nodes.
 */
const H = '{hash}';
const L = '{list}';
const S = '{set}';
const Z = '{zset}';

let reference: Running | undefined;
before(async () => {
  reference = await startRedis();
});
after(async () => {
  await reference?.stop();
});

type Outcome = unknown;
/** A call's value, or its error's message (so failures compare too); arrays sorted where the order is Redis's hash order. */
async function outcome(p: Promise<unknown>, unordered = false): Promise<Outcome> {
  try {
    const v = await p;
    if (unordered && Array.isArray(v)) return [...v].map((x) => JSON.stringify(x)).sort();
    return v instanceof Map ? Object.fromEntries(v) : v;
  } catch (err) {
    return `error: ${(err as Error).message}`;
  }
}

async function ioredisEverything(r: Redis): Promise<Outcome[]> {
  const out: Outcome[] = [];
  const add = async (p: Promise<unknown>, unordered = false) => out.push(await outcome(p, unordered));
  // Hashes.
  await add(r.hset(`${H}u`, 'name', 'ada', 'lang', 'en', 'visits', '1'));
  await add(r.hmset(`${H}u`, { city: 'London', zip: 'N1' }));
  await add(r.hsetnx(`${H}u`, 'name', 'bob'));
  await add(r.hsetnx(`${H}u`, 'new', 'v'));
  await add(r.hget(`${H}u`, 'name'));
  await add(r.hmget(`${H}u`, 'name', 'nope', 'zip'));
  await add(r.hgetall(`${H}u`));
  await add(r.hstrlen(`${H}u`, 'city'));
  await add(r.hvals(`${H}u`));
  await add(r.hincrby(`${H}u`, 'visits', -3));
  await add(r.hincrbyfloat(`${H}u`, 'visits', '0.25'));
  await add(r.hincrby(`${H}u`, 'name', 1));
  await add(r.hrandfield(`${H}u`, 10), true);
  await add(r.hrandfield(`${H}u`, 10, 'WITHVALUES'), true);
  await add(r.hrandfield(`${H}u`, -3).then((x) => (x as string[]).length));
  await add(r.hscan(`${H}u`, '0', 'MATCH', 'n*'));
  await add(r.hdel(`${H}u`, 'new', 'zip', 'missing'));
  await add(r.hexists(`${H}u`, 'zip'));
  await add(r.hlen(`${H}u`));
  await add(r.hgetall(`${H}none`));
  // Lists.
  await add(r.rpushx(`${L}q`, 'x'));
  await add(r.rpush(`${L}q`, 'a', 'b', 'c', 'b', 'd'));
  await add(r.lpushx(`${L}q`, 'z'));
  await add(r.lset(`${L}q`, 1, 'A'));
  await add(r.lset(`${L}q`, 99, 'A'));
  await add(r.linsert(`${L}q`, 'BEFORE', 'c', 'bc'));
  await add(r.linsert(`${L}q`, 'AFTER', 'missing', 'x'));
  await add(r.lrange(`${L}q`, 0, -1));
  await add(r.lpos(`${L}q`, 'b'));
  await add(r.lpos(`${L}q`, 'b', 'RANK', -1));
  await add(r.lpos(`${L}q`, 'b', 'COUNT', 0));
  await add(r.lindex(`${L}q`, -1));
  await add(r.lrem(`${L}q`, 1, 'b'));
  await add(r.ltrim(`${L}q`, 1, -2));
  await add(r.lrange(`${L}q`, 0, -1));
  await add(r.rpoplpush(`${L}q`, `${L}other`));
  await add(r.lmove(`${L}q`, `${L}other`, 'RIGHT', 'LEFT'));
  await add(r.lmpop(2, `${L}empty`, `${L}q`, 'LEFT', 'COUNT', 5));
  await add(r.lmpop(1, `${L}empty`, 'RIGHT'));
  await add(r.brpop(`${L}empty`, `${L}other`, 1));
  await add(r.blmove(`${L}other`, `${L}q`, 'LEFT', 'RIGHT', 1));
  await add(r.brpoplpush(`${L}q`, `${L}other`, 1));
  await add(r.blmpop(1, 1, `${L}other`, 'RIGHT', 'COUNT', 2));
  await add(r.blpop(`${L}empty`, 0.05));
  await add(r.lpop(`${L}empty`, 2));
  await add(r.llen(`${L}other`));
  await add(r.exists(`${L}q`, `${L}other`));
  // Sets.
  await add(r.sadd(`${S}a`, '1', '2', '3', '4', 'x'));
  await add(r.sadd(`${S}b`, '3', '4', '5'));
  await add(r.sadd(`${S}n`, '10', '2', '33'));
  await add(r.smembers(`${S}n`));
  await add(r.smembers(`${S}a`), true);
  await add(r.smismember(`${S}a`, '1', 'nope', 'x'));
  await add(r.sinter(`${S}a`, `${S}b`), true);
  await add(r.sintercard(2, `${S}a`, `${S}b`));
  await add(r.sintercard(2, `${S}a`, `${S}b`, 'LIMIT', 1));
  await add(r.sunion(`${S}a`, `${S}b`), true);
  await add(r.sdiff(`${S}a`, `${S}b`), true);
  await add(r.sinterstore(`${S}i`, `${S}a`, `${S}b`));
  await add(r.sunionstore(`${S}u`, `${S}a`, `${S}b`));
  await add(r.sdiffstore(`${S}d`, `${S}a`, `${S}b`));
  await add(r.smove(`${S}a`, `${S}b`, 'x'));
  await add(r.smove(`${S}a`, `${S}b`, 'gone'));
  await add(r.srandmember(`${S}u`, 20), true);
  await add(r.srandmember(`${S}u`, -8).then((x) => (x as string[]).length));
  await add(r.sscan(`${S}u`, '0', 'COUNT', 100).then(([cursor, members]) => [cursor, [...members].sort()]));
  await add(r.spop(`${S}d`, 10), true);
  await add(r.exists(`${S}d`));
  await add(r.srem(`${S}b`, '3', 'nope'));
  await add(r.scard(`${S}b`));
  // Sorted sets.
  await add(r.zadd(`${Z}b`, 10, 'ada', 20, 'bob', 15, 'cy', 15, 'cz'));
  await add(r.zadd(`${Z}b`, 'NX', 1, 'ada', 5, 'dan'));
  await add(r.zadd(`${Z}b`, 'XX', 'CH', 11, 'ada', 99, 'nobody'));
  await add(r.zadd(`${Z}b`, 'GT', 'CH', 1, 'bob', 30, 'cy'));
  await add(r.zadd(`${Z}b`, 'LT', 2, 'dan'));
  await add(r.zadd(`${Z}b`, 'INCR', 0.5, 'ada'));
  await add(r.zincrby(`${Z}b`, 1e-1, 'ada'));
  await add(r.zscore(`${Z}b`, 'ada'));
  await add(r.zmscore(`${Z}b`, 'ada', 'nope', 'dan'));
  await add(r.zrange(`${Z}b`, '0', '-1', 'WITHSCORES'));
  await add(r.zrange(`${Z}b`, '(5', '+inf', 'BYSCORE', 'LIMIT', 1, 2));
  await add(r.zrange(`${Z}b`, '+inf', '-inf', 'BYSCORE', 'REV', 'WITHSCORES'));
  await add(r.zrangebyscore(`${Z}b`, '-inf', '15', 'WITHSCORES', 'LIMIT', 0, 10));
  await add(r.zrevrangebyscore(`${Z}b`, '+inf', '(11'));
  await add(r.zrevrange(`${Z}b`, 0, 1, 'WITHSCORES'));
  await add(r.zrank(`${Z}b`, 'cz'));
  await add(r.zrevrank(`${Z}b`, 'cz'));
  await add(r.zcount(`${Z}b`, '(2', '20'));
  await add(r.zcard(`${Z}b`));
  await add(r.zadd(`${Z}lex`, 0, 'a', 0, 'b', 0, 'c', 0, 'd', 0, 'e'));
  await add(r.zrangebylex(`${Z}lex`, '[b', '(e'));
  await add(r.zrevrangebylex(`${Z}lex`, '+', '[c', 'LIMIT', 0, 2));
  await add(r.zlexcount(`${Z}lex`, '-', '[c'));
  await add(r.zrange(`${Z}lex`, '[a', '[c', 'BYLEX'));
  await add(r.zremrangebylex(`${Z}lex`, '[d', '+'));
  await add(r.zrangestore(`${Z}copy`, `${Z}b`, '0', '2'));
  await add(r.zrange(`${Z}copy`, '0', '-1', 'WITHSCORES'));
  await add(r.zadd(`${Z}o`, 1, 'ada', 2, 'eve'));
  await add(r.zunion(2, `${Z}b`, `${Z}o`, 'WITHSCORES'));
  await add(r.zinter(2, `${Z}b`, `${Z}o`, 'WEIGHTS', 2, 3, 'WITHSCORES'));
  await add(r.zdiff(2, `${Z}b`, `${Z}o`, 'WITHSCORES'));
  await add(r.zunionstore(`${Z}us`, 2, `${Z}b`, `${Z}o`, 'AGGREGATE', 'MAX'));
  await add(r.zinterstore(`${Z}is`, 2, `${Z}b`, `${Z}o`, 'AGGREGATE', 'MIN'));
  await add(r.zdiffstore(`${Z}ds`, 2, `${Z}b`, `${Z}o`));
  await add(r.zintercard(2, `${Z}b`, `${Z}o`));
  await add(r.zrandmember(`${Z}b`, 10, 'WITHSCORES'), true);
  await add(r.zscan(`${Z}us`, '0'));
  await add(r.zpopmin(`${Z}us`, 2));
  await add(r.zpopmax(`${Z}us`));
  await add(r.zmpop(2, `${Z}none`, `${Z}us`, 'MIN', 'COUNT', 2));
  await add(r.bzpopmin(`${Z}none`, `${Z}us`, 1));
  await add(r.bzpopmax(`${Z}none`, 0.05));
  await add(r.bzmpop(1, 1, `${Z}is`, 'MAX'));
  await add(r.zremrangebyscore(`${Z}b`, '-inf', '(10'));
  await add(r.zremrangebyrank(`${Z}b`, -1, -1));
  await add(r.zrem(`${Z}b`, 'cz', 'nope'));
  await add(r.zrange(`${Z}b`, '0', '-1', 'WITHSCORES'));
  // Across types.
  await add(r.type(`${H}u`));
  await add(r.type(`${L}other`));
  await add(r.type(`${S}u`));
  await add(r.type(`${Z}b`));
  await add(r.object('ENCODING', `${Z}b`));
  await add(r.object('ENCODING', `${S}n`));
  await add(r.lpush(`${H}u`, 'x'));
  await add(r.copy(`${H}u`, `${H}copy`));
  await add(r.hgetall(`${H}copy`));
  await add(r.rename(`${S}u`, `${S}renamed`));
  await add(r.smembers(`${S}renamed`), true);
  const dumped = await r.dumpBuffer(`${Z}b`);
  await add(r.restore(`${Z}restored`, 0, dumped));
  await add(r.zrange(`${Z}restored`, '0', '-1', 'WITHSCORES'));
  await add(r.expire(`${L}other`, 100));
  await add(r.ttl(`${L}other`));
  await add(r.pexpire(`${S}renamed`, 50_000));
  await add(r.persist(`${S}renamed`));
  await add(r.ttl(`${S}renamed`));
  // Transactions, one slot each.
  await add(r.multi().hset(`${H}t`, 'a', '1').hincrby(`${H}t`, 'a', 2).hgetall(`${H}t`).hlen(`${H}t`).exec());
  await add(r.multi().rpush(`${L}t`, 'a', 'b').lrange(`${L}t`, 0, -1).lpop(`${L}t`).exec());
  await add(r.multi().sadd(`${S}t`, 'a').sismember(`${S}t`, 'a').incr(`${S}t`).scard(`${S}t`).exec());
  await add(r.multi().zadd(`${Z}t`, 1, 'a', 2, 'b').zrange(`${Z}t`, '0', '-1', 'WITHSCORES').zpopmax(`${Z}t`).exec());
  await add(r.multi().set(`${H}s`, 'v').call('HSET', `${H}t`).get(`${H}s`).exec());
  await add(r.exists(`${H}s`));
  return out;
}

for (const resp of [2, 3] as const) {
  describe(`ioredis, every data-type method, RESP${resp}: redis-server, one node, 3-node cluster`, () => {
    test('the same values everywhere', T, async () => {
      const open = async (kind: Kind | 'redis-server'): Promise<Redis> => {
        if (kind !== 'redis-server') {
          const t = target(kind);
          await t.flush();
          const c = t.isCluster
            ? new Cluster(t.ports.map((port) => ({ host: HOST, port })), { clusterRetryStrategy: () => null, redisOptions: { protocol: resp, connectTimeout: CONNECT_MS } })
            : new Redis({ host: HOST, port: t.ports[0]!, protocol: resp, retryStrategy: () => null, maxRetriesPerRequest: 1 });
          c.on('error', () => {});
          await within(CONNECT_MS + 5000, 'ioredis to be ready', new Promise<void>((resolve, reject) => {
            c.once('ready', () => resolve());
            c.once('end', () => reject(new Error('ioredis ended before it was ready')));
          }));
          // Cluster has the same command methods as Redis.
          return c as unknown as Redis;
        }
        const c = new Redis({ host: HOST, port: reference!.port, protocol: resp, retryStrategy: () => null, maxRetriesPerRequest: 1 });
        c.on('error', () => {});
        await c.flushall();
        return c;
      };
      const results: Outcome[][] = [];
      for (const kind of ['redis-server', ...KINDS] as const) {
        const c = await open(kind);
        try {
          results.push(await ioredisEverything(c));
        } finally {
          c.disconnect();
        }
      }
      await target('3-node cluster').assertSpread('the four hash tags');
      const [redis, one, three] = results;
      for (let i = 0; i < redis!.length; i++) {
        assert.deepEqual(one![i], redis![i], `call #${i} on one node`);
        assert.deepEqual(three![i], redis![i], `call #${i} on the cluster`);
      }
    });
  });
}

async function nodeRedisEverything(r: NodeRedis): Promise<Outcome[]> {
  const out: Outcome[] = [];
  const add = async (p: Promise<unknown>, unordered = false) => out.push(await outcome(p, unordered));
  const plain = (x: unknown): unknown => (Array.isArray(x) ? x.map(plain) : x !== null && typeof x === 'object' && !Buffer.isBuffer(x) ? { ...x } : x);
  // Hashes.
  await add(r.hSet(`${H}u`, { name: 'ada', lang: 'en', visits: '1' }));
  await add(r.hSet(`${H}u`, [['city', 'London'], ['zip', 'N1']]));
  await add(r.hSetNX(`${H}u`, 'name', 'bob'));
  await add(r.hGet(`${H}u`, 'name'));
  await add(r.hmGet(`${H}u`, ['name', 'nope', 'zip']));
  await add(r.hGetAll(`${H}u`).then(plain));
  await add(r.hStrLen(`${H}u`, 'city'));
  await add(r.hVals(`${H}u`));
  await add(r.hIncrBy(`${H}u`, 'visits', -3));
  await add(r.hIncrByFloat(`${H}u`, 'visits', 0.25));
  await add(r.hRandFieldCount(`${H}u`, 10), true);
  await add(r.hRandFieldCountWithValues(`${H}u`, 10).then(plain), true);
  await add(r.hRandField(`${H}u`).then((f) => typeof f));
  await add(r.hScan(`${H}u`, '0', { MATCH: 'n*' }).then(plain));
  await add(r.hDel(`${H}u`, ['zip', 'missing']));
  await add(r.hExists(`${H}u`, 'zip'));
  await add(r.hLen(`${H}u`));
  await add(r.hGetAll(`${H}none`).then(plain));
  // Lists.
  await add(r.rPushX(`${L}q`, 'x'));
  await add(r.rPush(`${L}q`, ['a', 'b', 'c', 'b', 'd']));
  await add(r.lPushX(`${L}q`, 'z'));
  await add(r.lSet(`${L}q`, 1, 'A'));
  await add(r.lInsert(`${L}q`, 'BEFORE', 'c', 'bc'));
  await add(r.lRange(`${L}q`, 0, -1));
  await add(r.lPos(`${L}q`, 'b'));
  await add(r.lPos(`${L}q`, 'b', { RANK: -1 }));
  await add(r.lPosCount(`${L}q`, 'b', 0));
  await add(r.lIndex(`${L}q`, -1));
  await add(r.lRem(`${L}q`, 1, 'b'));
  await add(r.lTrim(`${L}q`, 1, -2));
  await add(r.rPopLPush(`${L}q`, `${L}other`));
  await add(r.lMove(`${L}q`, `${L}other`, 'RIGHT', 'LEFT'));
  await add(r.lmPop([`${L}empty`, `${L}q`], 'LEFT', { COUNT: 5 }).then(plain));
  await add(r.lmPop(`${L}empty`, 'RIGHT'));
  await add(r.brPop([`${L}empty`, `${L}other`], 1).then(plain));
  await add(r.blMove(`${L}other`, `${L}q`, 'LEFT', 'RIGHT', 1));
  await add(r.brPopLPush(`${L}q`, `${L}other`, 1));
  await add(r.blmPop(1, `${L}other`, 'RIGHT', { COUNT: 2 }).then(plain));
  await add(r.blPop(`${L}empty`, 0.05));
  await add(r.lPopCount(`${L}empty`, 2));
  await add(r.rPush(`${L}keep`, ['1', '2', '3']));
  await add(r.lLen(`${L}keep`));
  // Sets.
  await add(r.sAdd(`${S}a`, ['1', '2', '3', '4', 'x']));
  await add(r.sAdd(`${S}b`, ['3', '4', '5']));
  await add(r.sAdd(`${S}n`, ['10', '2', '33']));
  await add(r.sMembers(`${S}n`));
  await add(r.sMembers(`${S}a`), true);
  await add(r.smIsMember(`${S}a`, ['1', 'nope', 'x']));
  await add(r.sInter([`${S}a`, `${S}b`]), true);
  await add(r.sInterCard([`${S}a`, `${S}b`]));
  await add(r.sInterCard([`${S}a`, `${S}b`], { LIMIT: 1 }));
  await add(r.sUnion([`${S}a`, `${S}b`]), true);
  await add(r.sDiff([`${S}a`, `${S}b`]), true);
  await add(r.sInterStore(`${S}i`, [`${S}a`, `${S}b`]));
  await add(r.sUnionStore(`${S}u`, [`${S}a`, `${S}b`]));
  await add(r.sDiffStore(`${S}d`, [`${S}a`, `${S}b`]));
  await add(r.sMove(`${S}a`, `${S}b`, 'x'));
  await add(r.sRandMemberCount(`${S}u`, 20), true);
  await add(r.sRandMemberCount(`${S}u`, -8).then((x) => x.length));
  await add(r.sScan(`${S}u`, '0', { COUNT: 100 }).then(({ cursor, members }) => [cursor, [...members].sort()]));
  await add(r.sPop(`${S}d`).then((m) => typeof m));
  await add(r.sPopCount(`${S}d`, 10).then((x) => x.length));
  await add(r.sRem(`${S}b`, ['3', 'nope']));
  await add(r.sCard(`${S}b`));
  // Sorted sets.
  await add(r.zAdd(`${Z}b`, [{ score: 10, value: 'ada' }, { score: 20, value: 'bob' }, { score: 15, value: 'cy' }, { score: 15, value: 'cz' }]));
  await add(r.zAdd(`${Z}b`, [{ score: 1, value: 'ada' }, { score: 5, value: 'dan' }], { condition: 'NX' }));
  await add(r.zAdd(`${Z}b`, [{ score: 11, value: 'ada' }, { score: 99, value: 'nobody' }], { condition: 'XX', CH: true }));
  await add(r.zAdd(`${Z}b`, [{ score: 1, value: 'bob' }, { score: 30, value: 'cy' }], { comparison: 'GT', CH: true }));
  await add(r.zAdd(`${Z}b`, { score: 2, value: 'dan' }, { comparison: 'LT' }));
  await add(r.zAddIncr(`${Z}b`, { score: 0.5, value: 'ada' }));
  await add(r.zIncrBy(`${Z}b`, 0.1, 'ada'));
  await add(r.zScore(`${Z}b`, 'ada'));
  await add(r.zmScore(`${Z}b`, ['ada', 'nope', 'dan']));
  await add(r.zRangeWithScores(`${Z}b`, 0, -1).then(plain));
  await add(r.zRange(`${Z}b`, '(5', '+inf', { BY: 'SCORE', LIMIT: { offset: 1, count: 2 } }));
  await add(r.zRangeWithScores(`${Z}b`, '+inf', '-inf', { BY: 'SCORE', REV: true }).then(plain));
  await add(r.zRangeByScoreWithScores(`${Z}b`, '-inf', 15, { LIMIT: { offset: 0, count: 10 } }).then(plain));
  await add(r.zRangeByScore(`${Z}b`, '(11', '+inf'));
  await add(r.zRank(`${Z}b`, 'cz'));
  await add(r.zRevRank(`${Z}b`, 'cz'));
  await add(r.zCount(`${Z}b`, '(2', 20));
  await add(r.zCard(`${Z}b`));
  await add(r.zAdd(`${Z}lex`, ['a', 'b', 'c', 'd', 'e'].map((value) => ({ score: 0, value }))));
  await add(r.zRangeByLex(`${Z}lex`, '[b', '(e'));
  await add(r.zRange(`${Z}lex`, '+', '[c', { BY: 'LEX', REV: true, LIMIT: { offset: 0, count: 2 } }));
  await add(r.zLexCount(`${Z}lex`, '-', '[c'));
  await add(r.zRemRangeByLex(`${Z}lex`, '[d', '+'));
  await add(r.zRangeStore(`${Z}copy`, `${Z}b`, 0, 2));
  await add(r.zRangeWithScores(`${Z}copy`, 0, -1).then(plain));
  await add(r.zAdd(`${Z}o`, [{ score: 1, value: 'ada' }, { score: 2, value: 'eve' }]));
  await add(r.zUnionWithScores([`${Z}b`, `${Z}o`]).then(plain));
  await add(r.zInterWithScores([{ key: `${Z}b`, weight: 2 }, { key: `${Z}o`, weight: 3 }]).then(plain));
  await add(r.zDiffWithScores([`${Z}b`, `${Z}o`]).then(plain));
  await add(r.zUnionStore(`${Z}us`, [`${Z}b`, `${Z}o`], { AGGREGATE: 'MAX' }));
  await add(r.zInterStore(`${Z}is`, [`${Z}b`, `${Z}o`], { AGGREGATE: 'MIN' }));
  await add(r.zDiffStore(`${Z}ds`, [`${Z}b`, `${Z}o`]));
  await add(r.zInterCard([`${Z}b`, `${Z}o`]));
  await add(r.zRandMemberCountWithScores(`${Z}b`, 10).then(plain), true);
  await add(r.zScan(`${Z}us`, '0').then(plain));
  await add(r.zPopMinCount(`${Z}us`, 2).then(plain));
  await add(r.zPopMax(`${Z}us`).then(plain));
  await add(r.zmPop([`${Z}none`, `${Z}us`], 'MIN', { COUNT: 2 }).then(plain));
  await add(r.bzPopMin([`${Z}none`, `${Z}us`], 1).then(plain));
  await add(r.bzPopMax(`${Z}none`, 0.05));
  await add(r.bzmPop(1, `${Z}is`, 'MAX').then(plain));
  await add(r.zRemRangeByScore(`${Z}b`, '-inf', '(10'));
  await add(r.zRemRangeByRank(`${Z}b`, -1, -1));
  await add(r.zRem(`${Z}b`, ['cz', 'nope']));
  await add(r.zRangeWithScores(`${Z}b`, 0, -1).then(plain));
  // Across types.
  await add(r.type(`${H}u`));
  await add(r.type(`${L}keep`));
  await add(r.type(`${S}u`));
  await add(r.type(`${Z}b`));
  await add(r.objectEncoding(`${Z}b`));
  await add(r.objectEncoding(`${S}n`));
  await add(r.lPush(`${H}u`, 'x'));
  await add(r.copy(`${H}u`, `${H}copy`));
  await add(r.hGetAll(`${H}copy`).then(plain));
  await add(r.rename(`${S}u`, `${S}renamed`));
  await add(r.sMembers(`${S}renamed`), true);
  const dumped = await r.withTypeMapping({ [36]: Buffer }).dump(`${Z}b`);
  await add(r.restore(`${Z}restored`, 0, dumped as unknown as Buffer));
  await add(r.zRangeWithScores(`${Z}restored`, 0, -1).then(plain));
  await add(r.expire(`${L}keep`, 100));
  await add(r.ttl(`${L}keep`));
  await add(r.pExpire(`${S}renamed`, 50_000));
  await add(r.persist(`${S}renamed`));
  await add(r.ttl(`${S}renamed`));
  // Transactions, one slot each.
  await add(r.multi().hSet(`${H}t`, 'a', '1').hIncrBy(`${H}t`, 'a', 2).hGetAll(`${H}t`).hLen(`${H}t`).exec().then(plain));
  await add(r.multi().rPush(`${L}t`, ['a', 'b']).lRange(`${L}t`, 0, -1).lPop(`${L}t`).exec());
  await add(r.multi().sAdd(`${S}t`, 'a').sIsMember(`${S}t`, 'a').incr(`${S}t`).sCard(`${S}t`).exec());
  await add(r.multi().zAdd(`${Z}t`, [{ score: 1, value: 'a' }, { score: 2, value: 'b' }]).zRangeWithScores(`${Z}t`, 0, -1).zPopMax(`${Z}t`).exec().then(plain));
  // A command the server refuses at queue time (HSET without a field): EXECABORT, nothing runs.
  await add(r.multi().set(`${H}s`, 'v').hSet(`${H}t`, {}).get(`${H}s`).exec());
  await add(r.exists(`${H}s`));
  return out;
}

for (const resp of [2, 3] as const) {
  describe(`node-redis, every data-type method, RESP${resp}: redis-server, one node, 3-node cluster`, () => {
    test('the same values everywhere', T, async () => {
      const open = async (kind: Kind | 'redis-server'): Promise<NodeRedis> => {
        const socket = { host: HOST, connectTimeout: CONNECT_MS, reconnectStrategy: false as const };
        let c: NodeRedis;
        if (kind === '3-node cluster') {
          const t = target(kind);
          await t.flush();
          // The cluster client has the same command methods.
          c = createCluster({ rootNodes: t.ports.map((port) => ({ socket: { ...socket, port } })), defaults: { socket }, RESP: resp }) as unknown as NodeRedis;
        } else {
          const port = kind === 'redis-server' ? reference!.port : target(kind).ports[0]!;
          await call(port, 'FLUSHALL');
          c = createClient({ socket: { ...socket, port }, RESP: resp }) as unknown as NodeRedis;
        }
        c.on('error', () => {});
        await within(CONNECT_MS + 5000, 'node-redis to connect', c.connect() as Promise<unknown>);
        return c;
      };
      const results: Outcome[][] = [];
      for (const kind of ['redis-server', ...KINDS] as const) {
        const c = await open(kind);
        try {
          results.push(await nodeRedisEverything(c));
        } finally {
          c.destroy();
        }
      }
      await target('3-node cluster').assertSpread('the four hash tags');
      const [redis, one, three] = results;
      for (let i = 0; i < redis!.length; i++) {
        assert.deepEqual(one![i], redis![i], `call #${i} on one node`);
        assert.deepEqual(three![i], redis![i], `call #${i} on the cluster`);
      }
    });
  });
}

/** Collections past the small encodings, binary members, and the scan streams that page through them. */
async function ioredisLarge(r: Redis): Promise<Outcome[]> {
  const out: Outcome[] = [];
  const add = async (p: Promise<unknown>, unordered = false) => out.push(await outcome(p, unordered));
  const drain = (stream: NodeJS.ReadableStream): Promise<string[]> =>
    new Promise((resolve, reject) => {
      const got: string[] = [];
      stream.on('data', (batch: string[]) => got.push(...batch));
      stream.on('end', () => resolve(got));
      stream.on('error', reject);
    });
  const fields = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`f${i}`, `value-${i}`.repeat(i % 7)]));
  await add(r.hset(`${H}big`, fields));
  await add(r.object('ENCODING', `${H}big`));
  await add(r.hlen(`${H}big`));
  await add(drain(r.hscanStream(`${H}big`, { count: 17 })).then((kv) => kv.length), false);
  await add(drain(r.hscanStream(`${H}big`, { match: 'f1?', count: 50 })).then((kv) => kv.filter((_, i) => i % 2 === 0).sort()));
  await add(r.hrandfield(`${H}big`, -50).then((x) => (x as string[]).length));
  await add(r.hrandfield(`${H}big`, 5).then((x) => new Set(x as string[]).size));
  await add(r.hget(`${H}big`, 'f299'));
  const bin = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  await add(r.hset(`${H}bin`, bin, bin));
  await add(r.hgetallBuffer(`${H}bin`).then((h) => Object.values(h).map((v) => Buffer.compare(v, bin))));
  await add(r.sadd(`${S}big`, ...Array.from({ length: 600 }, (_, i) => `m${i}`)));
  await add(r.sadd(`${S}ints`, ...Array.from({ length: 600 }, (_, i) => i * 3)));
  await add(r.object('ENCODING', `${S}big`));
  await add(r.object('ENCODING', `${S}ints`));
  await add(drain(r.sscanStream(`${S}big`, { count: 33 })).then((m) => [m.length, new Set(m).size]));
  await add(r.sinter(`${S}big`, `${S}ints`));
  await add(r.sintercard(2, `${S}ints`, `${S}ints`));
  await add(r.spop(`${S}ints`, 599).then((x) => x.length));
  await add(r.smembers(`${S}ints`).then((x) => x.length));
  await add(r.sadd(`${S}bin`, bin, Buffer.from([0]), Buffer.alloc(0)));
  await add(r.smembersBuffer(`${S}bin`).then((x) => x.map((b) => b.toString('hex')).sort()));
  const scores = Array.from({ length: 1000 }, (_, i) => [((i * 7919) % 1000) / 10, `z${i}`]).flat();
  await add(r.zadd(`${Z}big`, ...(scores as Array<string | number>)));
  await add(r.object('ENCODING', `${Z}big`));
  await add(r.zrangebyscore(`${Z}big`, '(10', '20', 'WITHSCORES', 'LIMIT', 5, 10));
  await add(r.zrevrangebyscore(`${Z}big`, '+inf', '-inf', 'LIMIT', 990, 20));
  await add(r.zrange(`${Z}big`, '500', '510', 'WITHSCORES'));
  await add(r.zrank(`${Z}big`, 'z999'));
  await add(r.zrevrank(`${Z}big`, 'z0'));
  await add(r.zcount(`${Z}big`, 33.3, 66.6));
  await add(drain(r.zscanStream(`${Z}big`, { count: 100 })).then((m) => m.length));
  await add(r.zremrangebyrank(`${Z}big`, 100, 899));
  await add(r.zrange(`${Z}big`, '95', '105'));
  await add(r.zpopmax(`${Z}big`, 3));
  await add(r.zadd(`${Z}bin`, '1', bin));
  await add(r.zrangeBuffer(`${Z}bin`, '0', '-1').then((x) => x.map((b) => Buffer.compare(b, bin))));
  await add(r.rpush(`${L}big`, ...Array.from({ length: 1000 }, (_, i) => `e${i}`)));
  await add(r.object('ENCODING', `${L}big`));
  await add(r.lrange(`${L}big`, 497, 503));
  await add(r.lindex(`${L}big`, -500));
  await add(r.lpos(`${L}big`, 'e700'));
  await add(r.lset(`${L}big`, 600, 'changed'));
  await add(r.linsert(`${L}big`, 'AFTER', 'changed', 'inserted'));
  await add(r.ltrim(`${L}big`, 550, 650));
  await add(r.lrange(`${L}big`, 48, 53));
  await add(r.llen(`${L}big`));
  await add(r.lrem(`${L}big`, -1, 'inserted'));
  await add(r.rpop(`${L}big`, 3));
  // A pipeline of one slot's commands (a cluster sends it to that slot's node).
  await add(r.pipeline().hset(`${H}p`, 'a', '1').hincrby(`${H}p`, 'a', 4).hget(`${H}p`, 'a').del(`${H}p`).exec());
  return out;
}

for (const resp of [2, 3] as const) {
  describe(`ioredis, large and binary collections and scan streams, RESP${resp}: redis-server, one node, 3-node cluster`, () => {
    test('the same values everywhere', T, async () => {
      const results: Outcome[][] = [];
      for (const kind of ['redis-server', ...KINDS] as const) {
        let c: Redis;
        if (kind === '3-node cluster') {
          const t = target(kind);
          await t.flush();
          const cl = new Cluster(t.ports.map((port) => ({ host: HOST, port })), { clusterRetryStrategy: () => null, redisOptions: { protocol: resp, connectTimeout: CONNECT_MS } });
          cl.on('error', () => {});
          await within(CONNECT_MS + 5000, 'ioredis Cluster to be ready', new Promise<void>((resolve, reject) => {
            cl.once('ready', () => resolve());
            cl.once('end', () => reject(new Error('ioredis ended before it was ready')));
          }));
          c = cl as unknown as Redis;
        } else {
          const port = kind === 'redis-server' ? reference!.port : target(kind).ports[0]!;
          await call(port, 'FLUSHALL');
          c = new Redis({ host: HOST, port, protocol: resp, retryStrategy: () => null, maxRetriesPerRequest: 1 });
          c.on('error', () => {});
        }
        try {
          results.push(await ioredisLarge(c));
        } finally {
          c.disconnect();
        }
      }
      const [redis, one, three] = results;
      for (let i = 0; i < redis!.length; i++) {
        assert.deepEqual(one![i], redis![i], `call #${i} on one node`);
        assert.deepEqual(three![i], redis![i], `call #${i} on the cluster`);
      }
    });
  });
}
