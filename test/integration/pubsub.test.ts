/**
 * Pub/sub against real processes: raw RESP2/RESP3, ioredis and node-redis on
 * one node; then a 3-node cluster (PUBLISH reaches every node, shard channels
 * live with their slot's owner, ioredis Cluster and node-redis cluster
 * clients). A slow subscriber is closed at the output limit without slowing
 * the publisher. Every wait is bounded.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import net from 'node:net';
import { Redis } from 'ioredis';
import { createClient, createCluster } from 'redis';
import { startRingcache, type Running } from '../helpers/processes.js';
import { HOST, call, fetchOwners, keySlot, startCluster, type LocalCluster } from '../helpers/cluster.js';
import { RawClient, ReplyError, encodeCommand, type Reply } from '../helpers/raw-client.js';

const str = (r: Reply): unknown => (Buffer.isBuffer(r) ? r.toString() : Array.isArray(r) ? r.map(str) : r);

async function until(what: string, timeoutMs: number, fn: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await fn()) return;
    await sleep(20);
  }
  assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, reject) => (t = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)))]).finally(() => clearTimeout(t));
}

describe('pub/sub on one node', () => {
  let node: Running;
  before(async () => {
    node = await startRingcache(['--client-output-limit', '2mb']);
  });
  after(() => node.stop());

  test('raw RESP2: subscribe, message and pmessage, subscriber mode, RESET', async () => {
    const sub = await RawClient.connect(node.port);
    const pub = await RawClient.connect(node.port);
    try {
      sub.write(encodeCommand(['SUBSCRIBE', 'r2a', 'r2b']));
      assert.deepEqual(str(await sub.read(2)), [['subscribe', 'r2a', 1], ['subscribe', 'r2b', 2]]);
      assert.deepEqual(str(await sub.call('PSUBSCRIBE', 'r2*')), ['psubscribe', 'r2*', 3]);
      assert.equal(await pub.call('PUBLISH', 'r2a', 'hello'), 2);
      assert.deepEqual(str(await sub.read(2)), [['message', 'r2a', 'hello'], ['pmessage', 'r2*', 'r2a', 'hello']]);
      assert.deepEqual(str(await sub.call('PING')), ['pong', '']);
      const refused = await sub.call('GET', 'x');
      assert.ok(refused instanceof ReplyError && /Can't execute 'get'/.test(refused.message));
      assert.deepEqual(str(await pub.call('PUBSUB', 'NUMSUB', 'r2a', 'none')), ['r2a', 1, 'none', 0]);
      assert.equal(await pub.call('PUBSUB', 'NUMPAT'), 1);
      assert.equal(await sub.call('RESET'), 'RESET');
      assert.equal(await pub.call('PUBLISH', 'r2a', 'after'), 0, 'RESET dropped the subscriptions');
      assert.equal(await sub.call('GET', 'x'), null);
    } finally {
      sub.close();
      pub.close();
    }
  });

  test('raw RESP3: pushes on a normal connection, commands still answered', async () => {
    const c = await RawClient.connect(node.port);
    const pub = await RawClient.connect(node.port);
    try {
      assert.ok((await c.call('HELLO', '3')) instanceof Map);
      c.write(encodeCommand(['SUBSCRIBE', 'r3']));
      assert.deepEqual(str((await c.read(1))[0]!), ['subscribe', 'r3', 1]);
      assert.equal(await c.call('SET', 'r3k', 'v'), 'OK');
      assert.equal(await pub.call('PUBLISH', 'r3', 'm'), 1);
      await until('the push', 2000, () => c.pending.length > 0);
      assert.ok(c.pending.toString().startsWith('>3\r\n$7\r\nmessage\r\n'), 'a RESP3 push frame');
      assert.deepEqual(str((await c.read(1))[0]!), ['message', 'r3', 'm']);
      assert.equal(str(await c.call('GET', 'r3k')), 'v');
    } finally {
      c.close();
      pub.close();
    }
  });

  test('a closed subscriber is forgotten', async () => {
    const sub = await RawClient.connect(node.port);
    assert.deepEqual(str(await sub.call('SUBSCRIBE', 'gone')), ['subscribe', 'gone', 1]);
    sub.close();
    await until('the subscription to go', 2000, async () => (await call(node.port, 'PUBLISH', 'gone', 'x')) === 0);
  });

  test('a subscriber that does not read is closed at the output limit; the publisher is not slowed', async () => {
    // A socket that never reads: the node's output to it piles up.
    const slow = net.connect(node.port, HOST);
    await new Promise<void>((resolve) => slow.once('connect', () => resolve()));
    slow.pause();
    slow.write(encodeCommand(['SUBSCRIBE', 'flood']));
    let closed = false;
    slow.on('close', () => (closed = true));
    slow.on('error', () => {});
    await until('the subscription', 2000, async () => (str(await call(node.port, 'PUBSUB', 'NUMSUB', 'flood')) as unknown[])[1] === 1);
    const pub = await RawClient.connect(node.port);
    try {
      const payload = 'x'.repeat(64 * 1024);
      const started = Date.now();
      let sent = 0;
      // 2mb limit, plus what the kernel buffers take: 64 MB is far past it, and bounded.
      while (sent < 1000 && (str(await call(node.port, 'PUBSUB', 'NUMSUB', 'flood')) as unknown[])[1] === 1) {
        const batch = Array.from({ length: 20 }, () => encodeCommand(['PUBLISH', 'flood', payload]));
        pub.write(Buffer.concat(batch));
        await pub.read(20, 5000);
        sent += 20;
      }
      assert.ok(sent < 1000, 'the slow subscriber was dropped');
      assert.ok(Date.now() - started < 20_000, 'publishing stayed fast');
      // The node closed it: once the client reads again, it sees the end.
      slow.resume();
      await until('the slow socket to be closed', 10_000, () => closed);
      assert.equal(await pub.call('PUBLISH', 'flood', 'x'), 0);
      assert.equal(await pub.call('PING'), 'PONG');
    } finally {
      pub.close();
      slow.destroy();
    }
  });

  test('CLIENT LIST and INFO show subscriptions', async () => {
    const sub = await RawClient.connect(node.port);
    try {
      sub.write(encodeCommand(['SUBSCRIBE', 'cl1', 'cl2']));
      await sub.read(2);
      await sub.call('PSUBSCRIBE', 'cl*');
      await sub.call('SSUBSCRIBE', 'cls');
      const list = String(await call(node.port, 'CLIENT', 'LIST'));
      assert.match(list, /flags=P .*sub=2 psub=1 ssub=1/);
      const info = String(await call(node.port, 'INFO', 'stats'));
      assert.match(info, /pubsub_channels:[1-9]/);
      assert.match(info, /pubsub_patterns:[1-9]/);
      assert.match(info, /pubsubshard_channels:[1-9]/);
    } finally {
      sub.close();
    }
  });

  test('ioredis: subscribe, psubscribe, ssubscribe (RESP2 and RESP3)', async () => {
    for (const protocol of [2, 3] as const) {
      const sub = new Redis({ port: node.port, host: HOST, protocol, lazyConnect: true });
      const pub = new Redis({ port: node.port, host: HOST, protocol, lazyConnect: true });
      try {
        await Promise.all([sub.connect(), pub.connect()]);
        const got: string[] = [];
        sub.on('message', (ch: string, m: string) => got.push(`message ${ch} ${m}`));
        sub.on('pmessage', (p: string, ch: string, m: string) => got.push(`pmessage ${p} ${ch} ${m}`));
        sub.on('smessage', (ch: string, m: string) => got.push(`smessage ${ch} ${m}`));
        assert.equal(await sub.subscribe('io-a', 'io-b'), 2);
        assert.equal(await sub.psubscribe('io-*'), 3);
        assert.equal(await sub.ssubscribe('io-s'), 1);
        assert.equal(await pub.publish('io-a', 'one'), 2);
        assert.equal(await pub.spublish('io-s', 'two'), 1);
        await until('ioredis messages', 3000, () => got.length === 3);
        assert.deepEqual(got.sort(), ['message io-a one', 'pmessage io-* io-a one', 'smessage io-s two']);
        await sub.unsubscribe('io-a');
        assert.equal(await pub.publish('io-a', 'three'), 1);
      } finally {
        sub.disconnect();
        pub.disconnect();
      }
    }
  });

  test('node-redis: subscribe, pSubscribe, sSubscribe (RESP2 and RESP3)', async () => {
    for (const RESP of [2, 3] as const) {
      const pub = createClient({ socket: { host: HOST, port: node.port, reconnectStrategy: false }, RESP });
      pub.on('error', () => {});
      await pub.connect();
      const sub = pub.duplicate();
      sub.on('error', () => {});
      await sub.connect();
      try {
        const got: string[] = [];
        await sub.subscribe('nr-a', (m, ch) => got.push(`message ${ch} ${m}`));
        await sub.pSubscribe('nr-*', (m, ch) => got.push(`pmessage ${ch} ${m}`));
        await sub.sSubscribe('nr-s', (m, ch) => got.push(`smessage ${ch} ${m}`));
        assert.equal(await pub.publish('nr-a', 'one'), 2);
        assert.equal(await pub.sPublish('nr-s', 'two'), 1);
        await until('node-redis messages', 3000, () => got.length === 3);
        assert.deepEqual(got.sort(), ['message nr-a one', 'pmessage nr-a one', 'smessage nr-s two']);
        if (RESP === 3) assert.equal(await sub.get('nr-nokey'), null, 'a RESP3 subscriber still runs commands');
        await sub.unsubscribe('nr-a');
        await sub.pUnsubscribe('nr-*');
        assert.equal(await pub.publish('nr-a', 'three'), 0);
      } finally {
        sub.destroy();
        pub.destroy();
      }
    }
  });
});

describe('pub/sub in a 3-node cluster', () => {
  let cluster: LocalCluster;
  let owners: Int32Array;
  before(async () => {
    cluster = await startCluster(3);
    owners = await fetchOwners(cluster.ports[0]!);
  });
  after(() => cluster.stop());

  /** A shard channel name whose slot the node at ports[i] owns. */
  const shardOn = (i: number, prefix: string): string => {
    for (let n = 0; n < 100_000; n++) if (owners[keySlot(`${prefix}${n}`)] === cluster.ports[i]) return `${prefix}${n}`;
    throw new Error('no channel found');
  };

  test('PUBLISH on any node reaches subscribers on every node', async () => {
    const subs = await Promise.all(cluster.ports.map((p) => RawClient.connect(p)));
    try {
      for (const s of subs) assert.deepEqual(str(await s.call('SUBSCRIBE', 'cl-news')), ['subscribe', 'cl-news', 1]);
      await subs[0]!.call('PSUBSCRIBE', 'cl-*');
      for (const [i, port] of cluster.ports.entries()) {
        assert.equal(await call(port, 'PUBLISH', 'cl-news', `from ${i}`), i === 0 ? 2 : 1, 'the count is the local one, as in Redis Cluster');
        for (const [j, s] of subs.entries()) {
          const expected = j === 0 ? [['message', 'cl-news', `from ${i}`], ['pmessage', 'cl-*', 'cl-news', `from ${i}`]] : [['message', 'cl-news', `from ${i}`]];
          assert.deepEqual(str(await s.read(expected.length, 5000)), expected, `node ${j} got node ${i}'s message`);
        }
      }
    } finally {
      for (const s of subs) s.close();
    }
  });

  test('shard channels: SSUBSCRIBE on a non-owner is MOVED; SPUBLISH reaches the owner\'s subscribers', async () => {
    const ch = shardOn(1, 'shard-');
    const wrong = await RawClient.connect(cluster.ports[0]!);
    const right = await RawClient.connect(cluster.ports[1]!);
    try {
      const moved = await wrong.call('SSUBSCRIBE', ch);
      assert.ok(moved instanceof ReplyError && moved.message === `MOVED ${keySlot(ch)} ${HOST}:${cluster.ports[1]}`, String((moved as ReplyError).message));
      const spub = await call(cluster.ports[0]!, 'SPUBLISH', ch, 'x');
      assert.ok(spub instanceof ReplyError && spub.message.startsWith('MOVED'));
      assert.deepEqual(str(await right.call('SSUBSCRIBE', ch)), ['ssubscribe', ch, 1]);
      assert.equal(await call(cluster.ports[1]!, 'SPUBLISH', ch, 'hi'), 1);
      assert.deepEqual(str((await right.read(1))[0]!), ['smessage', ch, 'hi']);
      const cross = await right.call('SSUBSCRIBE', ch, shardOn(2, 'other-'));
      assert.ok(cross instanceof ReplyError && /CROSSSLOT/.test(cross.message));
    } finally {
      wrong.close();
      right.close();
    }
  });

  test('ioredis Cluster: subscribe and ssubscribe', async () => {
    const sub = new Redis.Cluster([{ host: HOST, port: cluster.ports[0]! }], { clusterRetryStrategy: () => null, shardedSubscribers: true });
    const pub = new Redis.Cluster([{ host: HOST, port: cluster.ports[2]! }], { clusterRetryStrategy: () => null });
    sub.on('error', () => {});
    pub.on('error', () => {});
    try {
      await within(15_000, 'ioredis Cluster ready', Promise.all([new Promise((r) => sub.once('ready', r)), new Promise((r) => pub.once('ready', r))]));
      const got: string[] = [];
      sub.on('message', (ch: string, m: string) => got.push(`message ${ch} ${m}`));
      sub.on('smessage', (ch: string, m: string) => got.push(`smessage ${ch} ${m}`));
      await sub.subscribe('ioc-a');
      const shards = [shardOn(0, 'iocs-'), shardOn(1, 'iocs-'), shardOn(2, 'iocs-')];
      for (const s of shards) await sub.ssubscribe(s);
      await pub.publish('ioc-a', 'one');
      for (const s of shards) assert.equal(await pub.spublish(s, `to ${s}`), 1);
      await until('ioredis Cluster messages', 5000, () => got.length === 4);
      assert.deepEqual(got.sort(), ['message ioc-a one', ...shards.map((s) => `smessage ${s} to ${s}`)].sort());
    } finally {
      sub.disconnect();
      pub.disconnect();
    }
  });

  test('node-redis cluster: subscribe and sSubscribe (RESP3)', async () => {
    const opts = { rootNodes: [{ socket: { host: HOST, port: cluster.ports[1]!, reconnectStrategy: false as const } }], defaults: { socket: { reconnectStrategy: false as const } }, RESP: 3 as const };
    const sub = createCluster(opts);
    const pub = createCluster(opts);
    sub.on('error', () => {});
    pub.on('error', () => {});
    try {
      await within(15_000, 'node-redis cluster connect', Promise.all([sub.connect(), pub.connect()]));
      const got: string[] = [];
      await sub.subscribe('nrc-a', (m, ch) => got.push(`message ${ch} ${m}`));
      const shards = [shardOn(0, 'nrcs-'), shardOn(2, 'nrcs-')];
      for (const s of shards) await sub.sSubscribe(s, (m, ch) => got.push(`smessage ${ch} ${m}`));
      await pub.publish('nrc-a', 'one');
      for (const s of shards) await pub.sPublish(s, `to ${s}`);
      await until('node-redis cluster messages', 5000, () => got.length === 3);
      assert.deepEqual(got.sort(), ['message nrc-a one', ...shards.map((s) => `smessage ${s} to ${s}`)].sort());
    } finally {
      sub.destroy();
      pub.destroy();
    }
  });
});
