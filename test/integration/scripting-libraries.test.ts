/**
 * Libraries that need Lua scripting, unchanged and in their normal use,
 * against one ringcache node and a 3-node static cluster: ioredis's
 * defineCommand (EVALSHA, then EVAL on NOSCRIPT), redlock (acquire, extend,
 * release), rate-limit-redis with express-rate-limit (a real express server
 * hit over HTTP). Each checks what the library hands back and what the
 * server holds afterwards. (rate-limiter-flexible's Lua path is in
 * libraries.test.ts; bullmq, which needs streams, is in the README's list of
 * what is missing.)
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import express from 'express';
import { rateLimit } from 'express-rate-limit';
import { Cluster, Redis } from 'ioredis';
import { RedisStore, type RedisReply } from 'rate-limit-redis';
import { createCluster } from 'redis';
import Redlock from 'redlock';
import { call, fetchOwners, HOST, keySlot, startCluster, type LocalCluster } from '../helpers/cluster.js';
import { startRingcache, type Running } from '../helpers/processes.js';
import type { Reply } from '../helpers/raw-client.js';
import { sleep, within } from '../helpers/tools.js';

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

function target(kind: Kind) {
  const ports = kind === 'one node' ? [single!.port] : cluster!.ports;
  const ownerOf = (key: string): number => (kind === 'one node' ? ports[0]! : owners![keySlot(key)]!);
  /** One command on the node that owns the key. */
  const raw = (...args: string[]): Promise<Reply> => call(ownerOf(args[1]!), ...args);
  /** One command on every node. */
  const all = (...args: string[]): Promise<Reply[]> => Promise.all(ports.map((p) => call(p, ...args)));
  return { ports, raw, all };
}

async function ioredis(kind: Kind): Promise<Redis | Cluster> {
  const { ports } = target(kind);
  const client = kind === '3-node cluster'
    ? new Cluster(ports.map((port) => ({ host: HOST, port })), { clusterRetryStrategy: () => null, redisOptions: { connectTimeout: CONNECT_MS } })
    : new Redis({ host: HOST, port: ports[0]!, connectTimeout: CONNECT_MS, retryStrategy: () => null, maxRetriesPerRequest: 1 });
  client.on('error', () => {});
  await within(CONNECT_MS + 5000, `ioredis to connect to the ${kind}`, new Promise<void>((resolve, reject) => {
    client.once('ready', () => resolve());
    client.once('end', () => reject(new Error(`ioredis ended before it was ready (${kind})`)));
  }));
  return client;
}

type WithCommands = (Redis | Cluster) & {
  getAndSet(key: string, value: string): Promise<string | null>;
  countMembers(key1: string, key2: string): Promise<number>;
};

for (const kind of KINDS) {
  describe(`ioredis defineCommand: ${kind}`, () => {
    test('EVALSHA, EVAL after NOSCRIPT (a flushed cache), keys routed to their owner', T, async () => {
      const t = target(kind);
      const client = (await ioredis(kind)) as WithCommands;
      try {
        client.defineCommand('getAndSet', { numberOfKeys: 1, lua: "local old = redis.call('GET', KEYS[1]) redis.call('SET', KEYS[1], ARGV[1]) return old" });
        client.defineCommand('countMembers', { numberOfKeys: 2, lua: "return redis.call('SCARD', KEYS[1]) + redis.call('SCARD', KEYS[2])" });
        const keys = Array.from({ length: 12 }, (_, i) => `dc:${i}`);
        for (const k of keys) assert.equal(await client.getAndSet(k, 'one'), null);
        for (const k of keys) assert.equal(await client.getAndSet(k, 'two'), 'one');
        for (const k of keys) assert.equal(await t.raw('GET', k).then(String), 'two', `${k} on its owner`);
        // A flushed cache: ioredis's EVALSHA gets NOSCRIPT and it falls back to EVAL.
        await t.all('SCRIPT', 'FLUSH');
        for (const k of keys) assert.equal(await client.getAndSet(k, 'three'), 'two');
        await client.sadd('{s}a', 'x', 'y');
        await client.sadd('{s}b', 'z');
        assert.equal(await client.countMembers('{s}a', '{s}b'), 3);
        if (kind === '3-node cluster') {
          // Keys of two slots in one script: CROSSSLOT, as Redis Cluster.
          await assert.rejects(client.countMembers('a1', 'b2'), /CROSSSLOT/);
          // Inside a script, a key of another slot than its KEYS, or (keyless) of another node's slot: refused, as Redis 7.
          await assert.rejects(client.eval("return redis.call('GET', ARGV[1])", 1, '{s}a', 'elsewhere'), /ERR Script attempted to access keys that do not hash to the same slot/);
          const key = 'dc:0';
          const notOwner = t.ports.find((p) => p !== owners![keySlot(key)])!;
          const r = await call(notOwner, 'EVAL', "return redis.call('GET', ARGV[1])", '0', key);
          assert.match(String((r as { message?: string }).message), /^ERR Script attempted to access a non local key in a cluster node script: /);
          assert.match(String(((await call(notOwner, 'EVAL', 'return 1', '1', key)) as { message?: string }).message), /^MOVED \d+ /, 'EVAL routes by its first key');
          assert.equal(String(await call(owners![keySlot(key)]!, 'EVAL', "return redis.call('GET', ARGV[1])", '0', key)), 'three', 'a keyless script on the owner');
        }
        // A script error reaches the caller as Redis words it.
        client.defineCommand('broken', { numberOfKeys: 1, lua: "return redis.call('INCR', KEYS[1])" });
        await client.set('notanumber', 'x');
        await assert.rejects((client as unknown as { broken(k: string): Promise<unknown> }).broken('notanumber'), /ERR value is not an integer or out of range script: [0-9a-f]{40}, on @user_script:1\./);
      } finally {
        client.disconnect();
      }
    });
  });

  describe(`redlock: ${kind}`, () => {
    test('acquire, extend, release; a held lock is refused to another', T, async () => {
      const t = target(kind);
      const client = await ioredis(kind);
      const other = await ioredis(kind);
      try {
        const redlock = new Redlock([client], { retryCount: 0 });
        const rival = new Redlock([other], { retryCount: 0 });
        const resources = Array.from({ length: 6 }, (_, i) => `lock:${i}`);
        for (const resource of resources) {
          const lock = await redlock.lock(resource, 2000);
          const held = String(await t.raw('GET', resource));
          assert.equal(held, lock.value, 'the lock value on the owner node');
          const pttl = Number(await t.raw('PTTL', resource));
          assert.ok(pttl > 1000 && pttl <= 2000, `PTTL ${pttl}`);
          await assert.rejects(rival.lock(resource, 2000), /unable to achieve a lock|LockError/i);
          const extended = await lock.extend(10_000);
          const pttl2 = Number(await t.raw('PTTL', resource));
          assert.ok(pttl2 > 9000 && pttl2 <= 10_000, `extended: PTTL ${pttl2}`);
          await extended.unlock();
          assert.equal(await t.raw('EXISTS', resource), 0, 'released');
          // Releasing with another value (the rival's) leaves a lock alone.
          const again = await rival.lock(resource, 2000);
          await assert.rejects(lock.unlock(), /unable|LockError/i);
          assert.equal(String(await t.raw('GET', resource)), again.value);
          await again.unlock();
        }
      } finally {
        client.disconnect();
        other.disconnect();
      }
    });
  });

  describe(`rate-limit-redis with express-rate-limit: ${kind}`, () => {
    test('an express server limits by IP over HTTP; the count lives on the owner node', T, async () => {
      const t = target(kind);
      // One node: ioredis's call(); the cluster: node-redis's cluster sendCommand by key, the documented sendCommandCluster.
      const client = await ioredis(kind);
      const nodeCluster = kind === '3-node cluster' ? createCluster({ rootNodes: t.ports.map((port) => ({ socket: { host: HOST, port, reconnectStrategy: false as const } })) }) : undefined;
      nodeCluster?.on('error', () => {});
      await nodeCluster?.connect();
      const prefix = `rlr-${kind === 'one node' ? 'one' : 'cluster'}:`;
      const app = express();
      app.use(rateLimit({
        windowMs: 10_000,
        limit: 3,
        standardHeaders: 'draft-7',
        legacyHeaders: false,
        store: nodeCluster === undefined
          ? new RedisStore({ prefix, sendCommand: (command: string, ...args: string[]) => client.call(command, ...args) as Promise<RedisReply> })
          : new RedisStore({ prefix, sendCommandCluster: ({ key, isReadOnly, command }) => nodeCluster.sendCommand(key, isReadOnly, command) as Promise<RedisReply> }),
      }));
      app.get('/', (_req, res) => {
        res.send('ok');
      });
      const server = http.createServer(app);
      await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
      const port = (server.address() as AddressInfo).port;
      try {
        const statuses: number[] = [];
        let lastHeader = '';
        for (let i = 0; i < 5; i++) {
          const res = await fetch(`http://${HOST}:${port}/`);
          statuses.push(res.status);
          lastHeader = res.headers.get('ratelimit') ?? '';
          await res.text();
        }
        assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
        assert.match(lastHeader, /remaining=0/);
        const key = `${prefix}${HOST}`;
        const [hits] = [String(await t.raw('GET', key))];
        assert.equal(hits, '5', 'hits counted on the owner node');
        const pttl = Number(await t.raw('PTTL', key));
        assert.ok(pttl > 5000 && pttl <= 10_000, `PTTL ${pttl}`);
        // After a reset the client may go again.
        await t.raw('DEL', key);
        await sleep(10);
        const res = await fetch(`http://${HOST}:${port}/`);
        assert.equal(res.status, 200);
        await res.text();
      } finally {
        await new Promise<void>((resolve) => server.close(() => resolve()));
        client.disconnect();
        await nodeCluster?.close();
      }
    });
  });
}
