/**
 * The TypeScript client (src/client) against a real local cluster of 3 node
 * processes: every typed command, routing by slot, multi-slot MGET/MSET/DEL,
 * pipelining, MOVED with a wrong topology, a standalone node, bad input,
 * metrics hooks and events. Replies a healthy cluster never sends (ASK, endless
 * MOVED, TRYAGAIN, CLUSTERDOWN, silence) come from scripted fake nodes.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import {
  ClientClosedError, ClusterDownError, InvalidArgumentError, QueueFullError, RedirectLoopError, ReplyError, RingCache, standaloneTopology, TimeoutError,
  type TopologyChange, type TopologySnapshot,
} from '../../src/index.js';
import { call, fetchOwners, flushAll, HOST, keySlot, keysOwnedBy, startCluster, type LocalCluster } from '../helpers/cluster.js';
import { shardsReplyFor, startFakeNode, type FakeNode } from '../helpers/fake-node.js';
import { startRingcache } from '../helpers/processes.js';
import { allBytes, eventually, within } from '../helpers/tools.js';

const T = { timeout: 20_000 };

let cluster: LocalCluster;
let owners: Int32Array;
let cache: RingCache;
const seed = () => `${HOST}:${cluster.ports[0]}`;

before(async () => {
  cluster = await startCluster(3);
  owners = await fetchOwners(cluster.ports[0]!);
  cache = new RingCache({ seeds: [seed()] });
  await within(10_000, 'connect', cache.connect());
});

after(async () => {
  await cache?.close();
  await cluster?.stop();
});

describe('typed commands against a 3-node cluster', () => {
  test('get/set with text, bytes and numbers; set options nx, xx, ttl, keepTtl', T, async () => {
    assert.equal(await cache.set('api:s', 'héllo'), true);
    assert.equal(await cache.get('api:s'), 'héllo');
    assert.equal(await cache.get('api:missing'), null);
    const bytes = allBytes();
    await cache.set('api:b', bytes);
    assert.deepEqual(await cache.getBuffer('api:b'), bytes);
    await cache.set('api:n', 42);
    assert.equal(await cache.get('api:n'), '42');

    assert.equal(await cache.set('api:nx', 'first', { nx: true }), true);
    assert.equal(await cache.set('api:nx', 'second', { nx: true }), false);
    assert.equal(await cache.get('api:nx'), 'first');
    assert.equal(await cache.set('api:xx', 'v', { xx: true }), false);
    assert.equal(await cache.get('api:xx'), null);
    assert.equal(await cache.set('api:nx', 'third', { xx: true }), true);
    assert.equal(await cache.get('api:nx'), 'third');

    await cache.set('api:ttl', 'v', { ttl: 60_000 });
    const ttl = await cache.ttl('api:ttl');
    assert.ok(ttl > 55_000 && ttl <= 60_000, `ttl ${ttl}`);
    await cache.set('api:ttl', 'w', { keepTtl: true });
    assert.ok((await cache.ttl('api:ttl')) > 55_000, 'KEEPTTL kept the TTL');
    await cache.set('api:ttl', 'x');
    assert.equal(await cache.ttl('api:ttl'), -1);
    assert.equal(await cache.ttl('api:missing'), -2);

    await cache.set('api:short', 'v', { ttl: 50 });
    await new Promise((r) => setTimeout(r, 120));
    assert.equal(await cache.get('api:short'), null, 'a 50 ms TTL expired');
  });

  test('each key lands on the node that owns its slot', T, async () => {
    const byNode = keysOwnedBy(owners, cluster.ports, 'api:owned:', 3);
    for (const [port, keys] of byNode) {
      for (const k of keys) {
        await cache.set(k, `v-${k}`);
        assert.equal(cache.nodeFor(k), `${HOST}:${port}`);
        // Read back from the owner directly, without the client.
        assert.equal(String(await call(port, 'GET', k)), `v-${k}`);
      }
    }
  });

  test('incr/decr (with and without by), expire/ttl, del/exists across slots', T, async () => {
    await cache.del('api:ctr');
    assert.equal(await cache.incr('api:ctr'), 1);
    assert.equal(await cache.incr('api:ctr', 10), 11);
    assert.equal(await cache.decr('api:ctr'), 10);
    assert.equal(await cache.decr('api:ctr', 4), 6);

    assert.equal(await cache.expire('api:ctr', 30_000), true);
    assert.ok((await cache.ttl('api:ctr')) > 25_000);
    assert.equal(await cache.expire('api:none', 30_000), false);

    const keys = Array.from({ length: 50 }, (_, i) => `api:del:${i}`);
    assert.ok(new Set(keys.map(keySlot)).size > 40, 'the keys span many slots');
    await cache.mset(keys.map((k) => [k, 'x'] as const));
    assert.equal(await cache.exists(...keys, 'api:del:none'), 50);
    assert.equal(await cache.exists('api:del:0', 'api:del:0'), 2, 'a key named twice counts twice, as in Redis');
    assert.equal(await cache.del(...keys.slice(0, 20), 'api:del:none'), 20);
    assert.equal(await cache.exists(...keys), 30);
  });

  test('mget/mset over 2000 keys in many slots keep the caller order', T, async () => {
    const keys = Array.from({ length: 2000 }, (_, i) => `api:m:${i}`);
    const slots = new Set(keys.map(keySlot));
    assert.ok(slots.size > 1500, `keys span ${slots.size} slots`);
    await cache.mset(keys.map((k, i) => [k, `value-${i}`] as const));
    // Every key is on its owner (checked without the client) ...
    for (const i of [0, 1, 777, 1999]) assert.equal(String(await call(owners[keySlot(keys[i]!)]!, 'GET', keys[i]!)), `value-${i}`);
    // ... and mget returns them in the order asked, with nulls and repeats in place.
    const ask = [...keys].reverse();
    ask.splice(10, 0, 'api:m:missing', keys[5]!);
    const got = await cache.mget(ask);
    assert.equal(got.length, ask.length);
    assert.deepEqual(got, ask.map((k) => (k === 'api:m:missing' ? null : `value-${keys.indexOf(k)}`)));
    const bufs = await cache.mgetBuffer([keys[3]!, 'api:m:missing']);
    assert.deepEqual(bufs, [Buffer.from('value-3'), null]);
    await cache.mset({ 'api:obj:a': '1', 'api:obj:b': Buffer.from('2') });
    assert.deepEqual(await cache.mget(['api:obj:a', 'api:obj:b']), ['1', '2']);
  });

  test('command(): keyed commands are routed by key, keyless ones go to a node, errors reject with ReplyError', T, async () => {
    await cache.del('api:cmd');
    assert.equal(await cache.command('APPEND', 'api:cmd', 'ab'), 2);
    assert.equal(await cache.command('append', 'api:cmd', 'cd'), 4);
    assert.equal(await cache.command('STRLEN', 'api:cmd'), 4);
    assert.equal(await cache.command('PING'), 'PONG');
    await cache.set('api:notnum', 'abc');
    await assert.rejects(cache.incr('api:notnum'), (e: unknown) => e instanceof ReplyError && /not an integer/.test(e.message) && e.prefix === 'ERR');
    await assert.rejects(cache.command('NOSUCHCOMMAND', 'x'), ReplyError);
    const sizes = await cache.commandOnEveryNode('DBSIZE');
    assert.deepEqual([...sizes.keys()].sort(), cluster.ports.map((p) => `${HOST}:${p}`).sort());
    const direct = await Promise.all(cluster.ports.map((p) => call(p, 'DBSIZE')));
    assert.equal([...sizes.values()].reduce<number>((s, n) => s + Number(n), 0), direct.reduce<number>((s, n) => s + Number(n), 0));
  });

  test('setValue/getValue use the serializer (JSON by default, or a custom one)', T, async () => {
    await cache.setValue('api:json', { a: [1, 2], b: 'x' }, { ttl: 10_000 });
    assert.deepEqual(await cache.getValue('api:json'), { a: [1, 2], b: 'x' });
    assert.equal(await cache.get('api:json'), '{"a":[1,2],"b":"x"}', 'JSON text on the node');
    assert.equal(await cache.getValue('api:nojson'), undefined);
    const custom = new RingCache({
      seeds: [seed()],
      serializer: { serialize: (v) => `n:${String(v)}`, deserialize: (b) => Number(b.toString().slice(2)) },
    });
    try {
      await custom.setValue('api:custom', 7);
      assert.equal(await custom.get('api:custom'), 'n:7');
      assert.equal(await custom.getValue<number>('api:custom'), 7);
    } finally {
      await custom.close();
    }
  });

  test('commands issued in one tick go out in one write and resolve in issue order', T, async () => {
    let writes = 0;
    const counting = new RingCache({
      seeds: [seed()],
      connector: (host, port) => {
        const s = net.connect({ host, port });
        const write = s.write.bind(s) as (d: string | Buffer) => boolean;
        (s as unknown as { write: (d: string | Buffer) => boolean }).write = (d) => {
          writes++;
          return write(d);
        };
        return s;
      },
    });
    try {
      await counting.connect();
      await counting.del('api:pipe');
      await counting.get('api:pipe'); // the connection to this key's node is open
      const before = writes;
      const results = await Promise.all(Array.from({ length: 500 }, () => counting.incr('api:pipe')));
      assert.equal(writes - before, 1, '500 commands in one write');
      assert.deepEqual(results, Array.from({ length: 500 }, (_, i) => i + 1), 'replies matched to callers in order');
    } finally {
      await counting.close();
    }
  });

  test('metrics hooks count hits, misses and command latency; events report the topology', T, async () => {
    const hits: string[] = [];
    const misses: string[] = [];
    const commands: Array<{ command: string; node: string | undefined; durationMs: number; error?: Error }> = [];
    const topologies: TopologyChange[] = [];
    const m = new RingCache({ seeds: [seed()], metrics: { onHit: (k) => hits.push(k), onMiss: (k) => misses.push(k), onCommand: (e) => commands.push(e) } });
    m.on('topology', (t) => topologies.push(t));
    try {
      await m.connect();
      assert.equal(topologies.length, 1);
      assert.equal(topologies[0]!.previous, undefined);
      assert.equal(topologies[0]!.current.shards.length, 3);
      await m.set('api:metric', 'v');
      await m.get('api:metric');
      await m.get('api:metric:none');
      await m.mget(['api:metric', 'api:metric:none2']);
      await assert.rejects(m.command('NOSUCHCOMMAND', 'k'));
      assert.deepEqual(hits, ['api:metric', 'api:metric']);
      assert.deepEqual(misses, ['api:metric:none', 'api:metric:none2']);
      assert.deepEqual(commands.map((c) => c.command), ['SET', 'GET', 'GET', 'MGET', 'MGET', 'NOSUCHCOMMAND']);
      assert.ok(commands.every((c) => c.durationMs >= 0 && c.durationMs < 5000 && c.node !== undefined));
      assert.ok(commands[5]!.error instanceof ReplyError);
      assert.equal(commands[0]!.node, m.nodeFor('api:metric'));
    } finally {
      await m.close();
    }
  });
});

describe('cluster redirections and failures', () => {
  test('a wrong topology is corrected by MOVED: every key still reaches its owner', T, async () => {
    // A source that claims node 0 owns every slot: two thirds of the keys get MOVED.
    const wrong: TopologySnapshot = standaloneTopology({ host: HOST, port: cluster.ports[0]! });
    let fetches = 0;
    const c = new RingCache({ seeds: [seed()], topologySource: { fetch: async () => (fetches++, wrong) } });
    try {
      const byNode = keysOwnedBy(owners, cluster.ports, 'api:moved:', 5);
      const keys = [...byNode.values()].flat();
      for (const k of keys) await c.set(k, `m-${k}`);
      for (const k of keys) assert.equal(String(await call(owners[keySlot(k)]!, 'GET', k)), `m-${k}`);
      assert.deepEqual(await c.mget(keys), keys.map((k) => `m-${k}`));
      await eventually(() => fetches >= 2, 'MOVED asked for a topology refresh', 2000);
    } finally {
      await c.close();
    }
  });

  test('ASK: ASKING then the command on the target, without changing the slot map', T, async () => {
    const target = cluster.ports[1]!;
    const key = keysOwnedBy(owners, [target], 'api:ask:', 1).get(target)![0]!;
    const fake = await startFakeNode(() => `-ASK ${keySlot(key)} ${HOST}:${target}\r\n`);
    const c = new RingCache({ seeds: [`${HOST}:${fake.port}`], topologySource: { fetch: async () => standaloneTopology({ host: HOST, port: fake.port }) } });
    try {
      assert.equal(await c.set(key, 'asked'), true);
      assert.equal(String(await call(target, 'GET', key)), 'asked');
      assert.deepEqual(fake.requests.at(-1), ['SET', key, 'asked']);
      assert.equal(c.nodeFor(key), `${HOST}:${fake.port}`, 'ASK does not repoint the slot');
    } finally {
      await c.close();
      await fake.close();
    }
  });

  test('endless MOVED fails with RedirectLoopError after maxRedirections', T, async () => {
    const fake: FakeNode = await startFakeNode((args) => (args[0] === 'CLUSTER' ? shardsReplyFor(fake.port) : `-MOVED 1 ${HOST}:${fake.port}\r\n`));
    const c = new RingCache({ seeds: [`${HOST}:${fake.port}`], maxRedirections: 5 });
    try {
      await assert.rejects(within(5000, 'redirect loop', c.get('x')), RedirectLoopError);
      assert.equal(fake.requests.filter((r) => r[0] === 'GET').length, 6, 'the first try and 5 redirections');
    } finally {
      await c.close();
      await fake.close();
    }
  });

  test('TRYAGAIN is retried; CLUSTERDOWN past maxRetries fails with ClusterDownError', T, async () => {
    let sets = 0;
    const fake = await startFakeNode((args) => {
      if (args[0] === 'SET') return ++sets <= 2 ? '-TRYAGAIN Multiple keys request during rehashing of slot\r\n' : '+OK\r\n';
      return '-CLUSTERDOWN The cluster is down\r\n';
    });
    const c = new RingCache({ seeds: [`${HOST}:${fake.port}`], maxRetries: 3, topologySource: { fetch: async () => standaloneTopology({ host: HOST, port: fake.port }) } });
    try {
      assert.equal(await within(5000, 'TRYAGAIN', c.set('k', 'v')), true);
      assert.equal(sets, 3);
      await assert.rejects(within(5000, 'CLUSTERDOWN', c.get('k')), (e: unknown) => e instanceof ClusterDownError && /CLUSTERDOWN/.test(e.message));
      assert.equal(fake.requests.filter((r) => r[0] === 'GET').length, 4, 'the first try and 3 retries');
    } finally {
      await c.close();
      await fake.close();
    }
  });

  test('a node that does not answer: TimeoutError after the command timeout; a full queue fails at once', T, async () => {
    const fake = await startFakeNode((args) => (args[0] === 'PING' ? '+PONG\r\n' : undefined));
    const c = new RingCache({ seeds: [`${HOST}:${fake.port}`], commandTimeoutMs: 200, maxQueue: 10, topologySource: { fetch: async () => standaloneTopology({ host: HOST, port: fake.port }) } });
    try {
      const t0 = Date.now();
      await assert.rejects(c.get('k'), TimeoutError);
      const took = Date.now() - t0;
      assert.ok(took >= 190 && took < 1000, `timed out after ${took} ms`);
      const t1 = Date.now();
      await assert.rejects(c.get('k', { timeoutMs: 50 }), TimeoutError);
      assert.ok(Date.now() - t1 < 500, 'per-call timeout');
      const calls = Array.from({ length: 15 }, (_, i) => c.get(`q${i}`).then(() => 'ok', (e: Error) => e.constructor.name));
      const outcomes = await within(5000, 'queue', Promise.all(calls));
      assert.equal(outcomes.filter((o) => o === 'QueueFullError').length, 5, outcomes.join());
      assert.equal(outcomes.filter((o) => o === 'TimeoutError').length, 10, outcomes.join());
      assert.ok(new QueueFullError('x') instanceof Error);
    } finally {
      await c.close();
      await fake.close();
    }
  });

  test('no reachable seed: connect() and commands fail with ClusterDownError', T, async () => {
    const fake = await startFakeNode(() => undefined);
    const port = fake.port;
    await fake.close(); // nothing listens on this port now
    const c = new RingCache({ seeds: [`${HOST}:${port}`] });
    try {
      await assert.rejects(within(5000, 'connect', c.connect()), ClusterDownError);
      await assert.rejects(within(5000, 'get', c.get('k')), ClusterDownError);
    } finally {
      await c.close();
    }
  });
});

describe('standalone node, bad input, close', () => {
  test('a standalone node (cluster support disabled) serves every slot', T, async () => {
    const node = await startRingcache();
    const c = new RingCache({ seeds: [`${HOST}:${node.port}`] });
    try {
      await c.connect();
      assert.equal(c.currentTopology!.shards.length, 1);
      const keys = Array.from({ length: 100 }, (_, i) => `solo:${i}`);
      await c.mset(keys.map((k) => [k, k] as const));
      assert.deepEqual(await c.mget(keys), keys);
      assert.equal(Number(await call(node.port, 'DBSIZE')), 100);
    } finally {
      await c.close();
      await node.stop();
    }
  });

  test('bad arguments fail with InvalidArgumentError before anything is sent', T, async () => {
    assert.throws(() => new RingCache({ seeds: [] }), InvalidArgumentError);
    assert.throws(() => new RingCache({ seeds: ['nohostport'] }), InvalidArgumentError);
    assert.throws(() => new RingCache({ seeds: ['127.0.0.1:99999'] }), InvalidArgumentError);
    const bad = (p: Promise<unknown>) => assert.rejects(p, InvalidArgumentError);
    await bad(cache.get(undefined as unknown as string));
    await bad(cache.get(42 as unknown as string));
    await bad(cache.set('k', { a: 1 } as unknown as string));
    await bad(cache.set('k', 'v', { ttl: -5 }));
    await bad(cache.set('k', 'v', { ttl: 1.5 }));
    await bad(cache.set('k', 'v', { nx: true, xx: true }));
    await bad(cache.set('k', 'v', { ttl: 10, keepTtl: true }));
    await bad(cache.expire('k', 0));
    await bad(cache.incr('k', 1.5));
    await bad(cache.del());
    await bad(cache.mget('k' as unknown as string[]));
    await bad(cache.mset([['k', null as unknown as string]]));
    await bad(cache.setValue('k', undefined));
    await bad(cache.getOrSet('k', () => 1, { ttl: 0 }));
    await bad(cache.getOrSet('k', 'x' as unknown as () => number, { ttl: 10 }));
    await bad(cache.command(''));
    assert.equal(await cache.get('k'), null, 'nothing was written by the rejected calls');
  });

  test('after close(), calls fail with ClientClosedError', T, async () => {
    const c = new RingCache({ seeds: [seed()] });
    await c.set('api:closed', 'v');
    await c.close();
    await assert.rejects(c.get('api:closed'), ClientClosedError);
    await c.close(); // twice is fine
  });
});

after(async () => {
  if (cluster) await flushAll(cluster.ports).catch(() => {});
});
