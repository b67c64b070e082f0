/**
 * ringcache as a cluster of real node processes on 127.0.0.1 (static
 * membership, `--peers`): the Redis Cluster commands and redirections that
 * cluster-aware clients rely on, ioredis / node-redis / redis-cli /
 * redis-benchmark in cluster mode, proxy mode for plain clients (including an
 * owner that is down), bad cluster configuration, and `ringcache dev`.
 *
 * Clusters are started once per describe (in before hooks) and shared by its
 * tests; tests that need a clean keyspace flush it themselves.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { createCluster } from 'redis';
import {
  call,
  dbsizes,
  fetchOwners,
  flushAll,
  freePortRun,
  freePorts,
  HOST,
  keySlot,
  keysOwnedBy,
  ownerTable,
  parseClusterSlots,
  refusesConnections,
  SLOT_COUNT,
  slotCoverage,
  startCluster,
  waitForOutput,
  withRaw,
  type LocalCluster,
} from '../helpers/cluster.js';
import { assertUsageError, CLI, runCli, track } from '../helpers/processes.js';
import { encodeCommand, ReplyError, type Reply } from '../helpers/raw-client.js';
import { eventually, infoFields, redisCli as redisCliUnbounded, runTool, within } from '../helpers/tools.js';

const T = { timeout: 20_000 };
const BULK = { timeout: 60_000 };
const BULK_KEYS = 100_000;

/** redis-cli, killed after 5 s: a redirection loop fails the test at once rather than at its timeout. */
const redisCli = (port: number, args: string[]) => redisCliUnbounded(port, args, { timeoutMs: 5000 });

// ---- small helpers ---------------------------------------------------------

/** A reply as text: bulk strings decoded, everything else as is (arrays recursively). */
function plain(r: Reply): unknown {
  if (Buffer.isBuffer(r)) return r.toString();
  if (Array.isArray(r)) return r.map(plain);
  return r;
}

function assertErrorReply(reply: Reply, pattern: RegExp, what: string): void {
  assert.ok(reply instanceof ReplyError, `${what}: expected an error matching ${pattern}, got ${JSON.stringify(plain(reply))}`);
  assert.match(reply.message, pattern, what);
}

/** Asserts that every slot is covered exactly once by the ranges. */
function assertCoversEverySlotOnce(ranges: ReadonlyArray<{ start: number; end: number }>, what: string): void {
  const { counts, invalid } = slotCoverage(ranges);
  assert.equal(invalid, 0, `${what}: ranges with invalid bounds`);
  const missing = counts.indexOf(0);
  const twice = counts.findIndex((c) => c > 1);
  assert.equal(missing, -1, `${what}: slot ${missing} is not covered`);
  assert.equal(twice, -1, `${what}: slot ${twice} is covered more than once`);
}

/** The text of a reply that is a bulk or verbatim string. */
async function textReply(port: number, ...args: string[]): Promise<string> {
  const r = await call(port, ...args);
  assert.ok(Buffer.isBuffer(r), `${args.join(' ')} on ${port}: expected a string, got ${JSON.stringify(plain(r))}`);
  return r.toString();
}

/** The fields of a map reply, whether it came as a RESP3 map or a RESP2 flat array. */
function fields(r: Reply): Map<string, Reply> {
  const out = new Map<string, Reply>();
  if (r instanceof Map) for (const [k, v] of r) out.set(String(plain(k)), v);
  else if (Array.isArray(r)) for (let i = 0; i + 1 < r.length; i += 2) out.set(String(plain(r[i]!)), r[i + 1]!);
  else throw new Error(`expected a map, got ${JSON.stringify(plain(r))}`);
  return out;
}

/** A plain (not cluster-aware) ioredis client that never retries, so failures surface at once. */
async function plainIoredis(port: number): Promise<Redis> {
  const r = new Redis({ host: HOST, port, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, connectTimeout: 10_000 });
  r.on('error', () => {});
  await r.connect();
  return r;
}

// ---- cluster-aware clients: 100,000 keys -----------------------------------

interface KeyValueClient {
  set(key: string, value: string): Promise<unknown>;
  get(key: string): Promise<string | null>;
  close(): void;
}

type ClusterClientKind = 'ioredis' | 'node-redis';

async function ioredisCluster(port: number, resp?: 2 | 3): Promise<KeyValueClient> {
  const c = new Redis.Cluster([{ host: HOST, port }], {
    enableAutoPipelining: true,
    clusterRetryStrategy: () => null,
    redisOptions: { ...(resp !== undefined && { protocol: resp }), connectTimeout: 10_000 },
  });
  c.on('error', () => {});
  await within(15_000, 'ioredis Cluster to connect', new Promise<void>((resolve, reject) => {
    c.once('ready', () => resolve());
    c.once('end', () => reject(new Error('ioredis Cluster ended before it was ready')));
  }));
  return { set: (k, v) => c.set(k, v), get: (k) => c.get(k), close: () => c.disconnect() };
}

async function nodeRedisCluster(port: number, resp?: 2 | 3): Promise<KeyValueClient> {
  const c = createCluster({
    rootNodes: [{ socket: { host: HOST, port, connectTimeout: 10_000, reconnectStrategy: false } }],
    defaults: { socket: { connectTimeout: 10_000, reconnectStrategy: false } },
    ...(resp !== undefined && { RESP: resp }),
    // node-redis arms an AbortSignal timer per command by default, which costs more than the
    // command here; the test's own timeout bounds the run instead.
    commandOptions: { timeout: 0 },
  });
  c.on('error', () => {});
  await within(15_000, 'node-redis cluster to connect', c.connect());
  return { set: (k, v) => c.set(k, v), get: async (k) => (await c.get(k)) as string | null, close: () => c.destroy() };
}

const connectClusterClient = (kind: ClusterClientKind, port: number, resp?: 2 | 3) => (kind === 'ioredis' ? ioredisCluster(port, resp) : nodeRedisCluster(port, resp));

/** Runs fn over 0..n-1 in concurrent batches (the clients pipeline each batch); returns the indexes where fn said false. */
async function inBatches(n: number, batch: number, fn: (i: number) => Promise<boolean>): Promise<number[]> {
  const bad: number[] = [];
  for (let start = 0; start < n; start += batch) {
    const ok = await Promise.all(Array.from({ length: Math.min(batch, n - start) }, (_, j) => fn(start + j)));
    ok.forEach((good, j) => good || bad.push(start + j));
  }
  return bad;
}

/**
 * Registers a test per client: flush the cluster, write BULK_KEYS keys through
 * the cluster client, read every one back, and check that the keys are spread
 * over every node (each DBSIZE > 0, total = BULK_KEYS).
 */
function bulkClientTests(cluster: () => LocalCluster, cases: Array<[ClusterClientKind, 2 | 3 | undefined]>): void {
  for (const [kind, resp] of cases) {
    test(`${kind} cluster client (RESP${resp ?? '3, the default'}) writes and reads back ${BULK_KEYS} keys spread over every node`, BULK, async () => {
      const { ports } = cluster();
      await flushAll(ports);
      const client = await connectClusterClient(kind, ports[0]!, resp);
      try {
        const key = (i: number) => `bulk:${kind}:${i}`;
        const value = (i: number) => `value-${i}-${kind}`;
        const failedSets = await inBatches(BULK_KEYS, 10_000, async (i) => (await client.set(key(i), value(i))) === 'OK');
        assert.deepEqual(failedSets.slice(0, 5), [], `${failedSets.length} SETs did not reply OK`);
        const wrongGets = await inBatches(BULK_KEYS, 10_000, async (i) => (await client.get(key(i))) === value(i));
        assert.deepEqual(wrongGets.slice(0, 5).map(key), [], `${wrongGets.length} keys read back wrong`);
      } finally {
        client.close();
      }
      const sizes = await dbsizes(ports);
      assert.ok(sizes.every((s) => s > 0), `every node holds keys: DBSIZE ${sizes.join(', ')}`);
      assert.equal(sizes.reduce((a, b) => a + b, 0), BULK_KEYS, `DBSIZE total over ${sizes.join(' + ')}`);
    });
  }
}

/** Registers the slot-map agreement test: CLUSTER SLOTS from every node covers all slots once, identically. */
function slotsAgreementTest(cluster: () => LocalCluster): void {
  test('CLUSTER SLOTS from every node covers all 16384 slots exactly once, names only members, and every node agrees', T, async () => {
    const { ports } = cluster();
    const replies = await Promise.all(ports.map((p) => call(p, 'CLUSTER', 'SLOTS')));
    const first = parseClusterSlots(replies[0]!);
    assertCoversEverySlotOnce(first, `CLUSTER SLOTS of ${ports[0]}`);
    for (const r of first) {
      assert.equal(r.host, HOST, 'entries name the host');
      assert.ok(ports.includes(r.port), `slot range ${r.start}-${r.end} is owned by ${r.port}, not a member`);
      assert.match(r.id, /^[0-9a-f]{40}$/, 'a 40-hex-digit node id');
    }
    assert.deepEqual(new Set(first.map((r) => r.port)), new Set(ports), 'every node owns some slots');
    replies.forEach((r, i) => assert.deepEqual(plain(r), plain(replies[0]!), `node ${ports[i]} and node ${ports[0]} disagree`));
  });
}

// ---- the tests --------------------------------------------------------------

describe('a 3-node cluster (redirections: MOVED, CROSSSLOT)', () => {
  let cluster: LocalCluster;
  let owners: Int32Array;
  before(async () => {
    cluster = await startCluster(3);
    owners = await fetchOwners(cluster.ports[0]!);
  });
  after(async () => {
    await cluster?.stop();
  });
  const ports = () => cluster.ports;

  slotsAgreementTest(() => cluster);

  test('CLUSTER SHARDS covers every slot once, with the same owners as CLUSTER SLOTS', T, async () => {
    for (const port of ports()) {
      const shards = await call(port, 'CLUSTER', 'SHARDS');
      assert.ok(Array.isArray(shards) && shards.length === 3, `3 shards, got ${JSON.stringify(plain(shards))}`);
      const ranges: Array<{ start: number; end: number; port: number }> = [];
      for (const shard of shards) {
        const f = fields(shard);
        const nodes = f.get('nodes');
        assert.ok(Array.isArray(nodes) && nodes.length >= 1, 'a shard lists its nodes');
        const primary = fields(nodes[0]!);
        assert.equal(String(plain(primary.get('role')!)), 'master');
        assert.equal(String(plain(primary.get('ip')!)), HOST);
        const owner = Number(primary.get('port'));
        const bounds = f.get('slots');
        assert.ok(Array.isArray(bounds) && bounds.length % 2 === 0, 'slots is a list of start, end pairs');
        for (let i = 0; i < bounds.length; i += 2) ranges.push({ start: Number(bounds[i]), end: Number(bounds[i + 1]), port: owner });
      }
      assertCoversEverySlotOnce(ranges, `CLUSTER SHARDS of ${port}`);
      const fromShards = ownerTable(ranges.map((r) => ({ ...r, host: HOST, id: '' })));
      assert.ok(fromShards.every((p, slot) => p === owners[slot]), `CLUSTER SHARDS of ${port} and CLUSTER SLOTS name the same owners`);
    }
  });

  test('CLUSTER NODES lists 3 nodes, one of them myself, with the slots CLUSTER SLOTS gives them', T, async () => {
    for (const port of ports()) {
      const lines = (await textReply(port, 'CLUSTER', 'NODES')).split('\n').filter((l) => l !== '');
      assert.equal(lines.length, 3, `3 lines:\n${lines.join('\n')}`);
      const mine = lines.filter((l) => l.split(' ')[2]!.split(',').includes('myself'));
      assert.equal(mine.length, 1, 'exactly one line is flagged myself');
      assert.ok(mine[0]!.includes(` ${HOST}:${port}@`), `the myself line is this node (${port}): ${mine[0]}`);
      const ranges: Array<{ start: number; end: number }> = [];
      for (const line of lines) {
        const [id, addr, flags, master, , , , link, ...slots] = line.split(' ');
        assert.match(id!, /^[0-9a-f]{40}$/, line);
        const m = /^127\.0\.0\.1:(\d+)@\d+$/.exec(addr!);
        assert.ok(m && ports().includes(Number(m[1])), `address of a member: ${line}`);
        assert.match(flags!, /(^|,)master$/, line);
        assert.equal(master, '-');
        assert.equal(link, 'connected');
        for (const s of slots) {
          const [start, end = start] = s.split('-').map(Number);
          ranges.push({ start: start!, end: end! });
          assert.equal(owners[start!], Number(m[1]), `CLUSTER NODES gives slot ${start} to ${m[1]}, CLUSTER SLOTS to ${owners[start!]}`);
        }
      }
      assertCoversEverySlotOnce(ranges, `CLUSTER NODES of ${port}`);
    }
  });

  test('CLUSTER INFO says cluster_state:ok and 3 known nodes; INFO cluster says cluster_enabled:1', T, async () => {
    for (const port of ports()) {
      const info = infoFields(await textReply(port, 'CLUSTER', 'INFO'));
      assert.equal(info.get('cluster_state'), 'ok');
      assert.equal(info.get('cluster_known_nodes'), '3');
      assert.equal(info.get('cluster_slots_assigned'), String(SLOT_COUNT));
      assert.equal(infoFields(await textReply(port, 'INFO', 'cluster')).get('cluster_enabled'), '1');
    }
  });

  test('CLUSTER KEYSLOT follows the Redis Cluster spec (CRC16, hash tags)', T, async () => {
    const vectors: Array<[string | Buffer, number]> = [
      ['123456789', 12739], // CRC16-XMODEM("123456789") = 0x31C3
      ['foo', 12182],
      ['somekey', 11058],
      ['foo{hash_tag}', 2515],
      ['{user1000}.following', keySlot('user1000')],
      ['{user1000}.followers', keySlot('user1000')],
      ['foo{}{bar}', keySlot('foo{}{bar}')], // an empty {} is no tag: the whole key
      ['foo{{bar}}zap', keySlot('{bar')], // the tag is between the first { and the next }
      ['foo{bar}{zap}', keySlot('bar')], // only the first tag counts
      ['{}', keySlot('{}')],
      ['', 0],
      [Buffer.from([0xff, 0x00, 0xc3, 0x28, 0x7b, 0x80, 0x7d]), keySlot(Buffer.from([0x80]))], // binary, tag {\x80}
    ];
    assert.notEqual(keySlot('foo{}{bar}'), keySlot('bar'), 'the vectors distinguish a wrong tag rule');
    assert.notEqual(keySlot('foo{{bar}}zap'), keySlot('bar'));
    await withRaw(ports()[0]!, async (c) => {
      for (const [key, slot] of vectors) assert.equal(await c.call('CLUSTER', 'KEYSLOT', key), slot, `CLUSTER KEYSLOT ${JSON.stringify(key.toString())}`);
    });
  });

  test('node-redis (which follows the spec for an empty {} tag) can write and read keys like "k{}{tag}"', T, async () => {
    // Only keys where an empty {} followed by a later {tag} matters: the spec's slot (whole key)
    // and the slot of the later tag's text are owned by different nodes.
    const keys: string[] = [];
    for (let i = 0; keys.length < 3; i++) {
      const key = `k${i}{}{t${i}}`;
      if (owners[keySlot(key)] !== owners[keySlot(`{t${i}`)]) keys.push(key);
    }
    const client = await nodeRedisCluster(ports()[0]!);
    try {
      for (const key of keys) {
        assert.equal(await client.set(key, `v-${key}`), 'OK', `SET ${key}`);
        assert.equal(await client.get(key), `v-${key}`, `GET ${key}`);
      }
    } finally {
      client.close();
    }
  });

  test('a key sent to a node that does not own it gets MOVED naming its owner, which then serves it', T, async () => {
    const keys = keysOwnedBy(owners, ports(), 'moved:');
    for (const entry of ports()) {
      for (const [owner, [key]] of keys) {
        if (owner === entry) continue;
        const moved = `MOVED ${keySlot(key!)} ${HOST}:${owner}`;
        assertErrorReply(await call(entry, 'SET', key!, `v-${key}`), new RegExp(`^${moved}$`), `SET ${key} on ${entry}`);
        assert.equal(await call(owner, 'SET', key!, `v-${key}`), 'OK', `SET ${key} on its owner ${owner}`);
        assert.deepEqual(plain(await call(owner, 'GET', key!)), `v-${key}`, 'the owner has the key');
        assertErrorReply(await call(entry, 'GET', key!), new RegExp(`^${moved}$`), `GET ${key} on ${entry} after the write`);
        assertErrorReply(await call(entry, 'EXPIRE', key!, '100'), new RegExp(`^${moved}$`), `EXPIRE ${key} on ${entry}`);
      }
      const own = keys.get(entry)![0]!;
      assert.equal(await call(entry, 'SET', own, 'mine'), 'OK', 'a node serves its own keys');
    }
  });

  test('subcommands with a key (OBJECT ENCODING, MEMORY USAGE) of a key owned elsewhere get MOVED, not a nil from the wrong node', T, async () => {
    const [p0, p1] = ports();
    const key = keysOwnedBy(owners, ports(), 'sub:').get(p1!)![0]!;
    assert.equal(await call(p1!, 'SET', key, '12345'), 'OK');
    assert.notEqual(await call(p1!, 'OBJECT', 'ENCODING', key), null, 'the owner knows the key');
    const moved = new RegExp(`^MOVED ${keySlot(key)} ${HOST}:${p1}$`);
    assertErrorReply(await call(p0!, 'OBJECT', 'ENCODING', key), moved, `OBJECT ENCODING ${key} on ${p0}`);
    assertErrorReply(await call(p0!, 'MEMORY', 'USAGE', key), moved, `MEMORY USAGE ${key} on ${p0}`);
  });

  test('multi-key commands across slots get CROSSSLOT; keys sharing a hash tag work on their owner', T, async () => {
    const [p0, p1] = ports();
    const local = keysOwnedBy(owners, ports(), 'cross:', 2).get(p0!)!;
    assert.notEqual(keySlot(local[0]!), keySlot(local[1]!), 'two slots of the same node');
    const remote = keysOwnedBy(owners, ports(), 'cross2:').get(p1!)![0]!;
    for (const pair of [local, [local[0]!, remote]]) {
      for (const cmd of [['MSET', pair[0]!, 'a', pair[1]!, 'b'], ['MGET', ...pair], ['DEL', ...pair], ['EXISTS', ...pair]]) {
        assertErrorReply(await call(p0!, ...cmd), /^CROSSSLOT /, `${cmd.join(' ')} on ${p0}`);
      }
    }
    const tag = 'user1000';
    const tagOwner = owners[keySlot(tag)]!;
    const tagged = [`{${tag}}.a`, `{${tag}}.b`, `{${tag}}.c`];
    await withRaw(tagOwner, async (c) => {
      assert.equal(await c.call('MSET', tagged[0]!, '1', tagged[1]!, '2'), 'OK');
      assert.deepEqual(plain(await c.call('MGET', ...tagged)), ['1', '2', null]);
      assert.equal(await c.call('EXISTS', ...tagged), 2);
      assert.equal(await c.call('DEL', ...tagged), 2);
    });
    const other = ports().find((p) => p !== tagOwner)!;
    assertErrorReply(await call(other, 'MGET', ...tagged), new RegExp(`^MOVED ${keySlot(tag)} ${HOST}:${tagOwner}$`), 'tagged keys on another node');
  });

  test('redis-cli -c follows MOVED to the owner', T, async () => {
    const [p0, p1] = ports();
    const key = keysOwnedBy(owners, ports(), 'cli:').get(p1!)![0]!;
    const without = await redisCli(p0!, ['GET', key]);
    assert.match(without.stdout, /MOVED/, 'without -c the node answers MOVED (the key is elsewhere)');
    const set = await redisCli(p0!, ['-c', 'SET', key, 'followed']);
    assert.equal(set.code, 0, set.stderr);
    assert.equal(set.stdout.trim(), 'OK');
    const get = await redisCli(p0!, ['-c', 'GET', key]);
    assert.equal(get.stdout.trim(), 'followed');
    assert.deepEqual(plain(await call(p1!, 'GET', key)), 'followed', 'the owner holds the key');
  });

  test('redis-benchmark --cluster runs SET and GET to completion at a positive rate', { timeout: 40_000 }, async () => {
    const r = await runTool('redis-benchmark', ['--cluster', '-h', HOST, '-p', String(ports()[0]), '-n', '20000', '-c', '20', '-t', 'set,get', '--csv'], { timeoutMs: 35_000 });
    assert.equal(r.code, 0, `redis-benchmark failed:\n${r.stdout}\n${r.stderr}`);
    const rates = new Map<string, number>();
    for (const line of r.stdout.split('\n')) {
      const m = /^"(\w+)","([\d.]+)"/.exec(line);
      if (m) rates.set(m[1]!, Number(m[2]));
    }
    for (const name of ['SET', 'GET']) assert.ok((rates.get(name) ?? 0) > 0, `${name} rate in:\n${r.stdout}`);
  });

  bulkClientTests(() => cluster, [
    ['ioredis', undefined],
    ['node-redis', undefined],
  ]);
});

// ---- count-prefixed keys (ZUNIONSTORE dst numkeys k..., SINTERCARD, LMPOP...) against Redis Cluster 7 ----

/** A real Redis Cluster of n masters (redis-server from Debian, no persistence), formed by redis-cli --cluster create. */
async function startRedisCluster(n: number): Promise<{ ports: number[]; stop(): Promise<void> }> {
  const ports = await freePorts(n);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ringcache-redis-cluster-'));
  const procs = ports.map((port) => {
    const proc = spawn('redis-server', ['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no', '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    return { proc, output: track(proc) };
  });
  const stop = async () => {
    await Promise.all(procs.map(({ proc }) => new Promise<void>((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
      proc.once('exit', () => resolve());
      proc.kill('SIGKILL');
    })));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const { proc, output } of procs) await waitForOutput(proc, output, /Ready to accept connections/, 'redis-server');
    const created = await runTool('redis-cli', ['--cluster', 'create', ...ports.map((p) => `${HOST}:${p}`), '--cluster-yes'], { timeoutMs: 20_000 });
    assert.equal(created.code, 0, created.stdout + created.stderr);
    await eventually(async () => {
      const infos = await Promise.all(ports.map((p) => redisCli(p, ['CLUSTER', 'INFO'])));
      return infos.every((i) => /cluster_state:ok/.test(i.stdout));
    }, 'the Redis Cluster to be ok', 15_000);
    return { ports, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

describe('a 3-node cluster: commands whose keys follow a count are routed by all of them, as Redis Cluster 7 routes them', () => {
  let cluster: LocalCluster;
  let redis: { ports: number[]; stop(): Promise<void> };
  before(async () => {
    // One after the other, so that after() stops whatever started if the other fails.
    redis = await startRedisCluster(3);
    cluster = await startCluster(3);
  });
  after(async () => {
    await Promise.all([cluster?.stop(), redis?.stop()]);
  });

  test('ioredis Cluster: ZUNIONSTORE {t}a 2 {t}b {t}c and friends run on the owner; keys in two slots get CROSSSLOT', T, async () => {
    const c = new Redis.Cluster([{ host: HOST, port: cluster.ports[0]! }], { clusterRetryStrategy: () => null, redisOptions: { connectTimeout: 10_000 } });
    c.on('error', () => {});
    try {
      await c.zadd('{t}b', 1, 'x', 2, 'y');
      await c.zadd('{t}c', 3, 'y', 4, 'z');
      assert.equal(await c.zunionstore('{t}a', 2, '{t}b', '{t}c'), 3);
      assert.deepEqual(await c.zrange('{t}a', '0', '-1', 'WITHSCORES'), ['x', '1', 'z', '4', 'y', '5']);
      assert.equal(await c.zinterstore('{t}i', 2, '{t}b', '{t}c', 'WEIGHTS', 1, 10), 1);
      assert.deepEqual(await c.zrange('{t}i', '0', '-1', 'WITHSCORES'), ['y', '32']);
      assert.equal(await c.zdiffstore('{t}d', 2, '{t}b', '{t}c'), 1);
      // Commands whose first argument is the count: whatever node ioredis picks, the keys' owner answers.
      assert.equal(await c.call('ZINTERCARD', '2', '{t}b', '{t}c'), 1);
      await c.sadd('{t}s1', 'p', 'q');
      await c.sadd('{t}s2', 'q', 'r');
      assert.equal(await c.call('SINTERCARD', '2', '{t}s1', '{t}s2'), 1);
      await c.rpush('{t}l', 'one', 'two');
      assert.deepEqual(await c.call('LMPOP', '2', '{t}none', '{t}l', 'LEFT'), ['{t}l', ['one']]);
      assert.deepEqual(await c.call('ZMPOP', '1', '{t}b', 'MIN'), ['{t}b', [['x', '1']]]);
      for (const args of [['ZUNIONSTORE', '{t}a', '2', '{t}b', '{u}c'], ['ZUNIONSTORE', '{u}a', '2', '{t}b', '{t}c'], ['SINTERCARD', '2', '{t}s1', '{u}s2'], ['LMPOP', '2', '{t}l', '{u}l', 'LEFT']]) {
        await assert.rejects(c.call(args[0]!, ...args.slice(1)), (err: Error) => err.message === "CROSSSLOT Keys in request don't hash to the same slot", args.join(' '));
      }
    } finally {
      c.disconnect();
    }
  });

  test('every node of each cluster answers the same: MOVED to the keys\' owner, CROSSSLOT, or the command\'s own error for a bad count', { timeout: 60_000 }, async () => {
    const calls = [
      'ZUNIONSTORE {t}a 2 {t}b {t}c', 'ZUNIONSTORE {t}a 2 {t}b {u}c', 'ZUNIONSTORE {u}a 2 {t}b {t}c', 'ZUNIONSTORE {t}a 1 {t}b WEIGHTS 1',
      'ZUNIONSTORE {t}a 3 {t}b WEIGHTS 1', 'ZUNIONSTORE {t}a 2 {t}b', 'ZUNIONSTORE {t}a 0 {t}b', 'ZUNIONSTORE {t}a x {t}b', 'ZUNIONSTORE {t}a 1.5 {t}b',
      'ZINTERSTORE {t}a 2 {t}b {u}c', 'ZDIFFSTORE {t}a 2 {t}b {t}c', 'ZUNION 2 {t}b {u}c', 'ZINTER 2 {t}b {t}c', 'ZDIFF 1 {u}b', 'ZUNION 0 {t}b',
      'ZINTERCARD 2 {t}b {t}c LIMIT 5', 'ZINTERCARD 2 {t}b {u}c', 'SINTERCARD 1 {u}b', 'SINTERCARD 2 {t}b {u}c', 'SINTERCARD 3 {t}b {t}c',
      'LMPOP 2 {t}b {t}c LEFT', 'LMPOP 2 {t}b {u}c LEFT', 'LMPOP 0 {t}b LEFT', 'BLMPOP 0.01 2 {u}b {u}c LEFT', 'BLMPOP 0.01 2 {t}b {u}c LEFT',
      'ZMPOP 1 {u}b MIN', 'ZMPOP 2 {t}b {u}c MIN', 'BZMPOP 0.01 1 {t}b MAX', 'BZMPOP 0.01 2 {u}b {t}c MAX',
      'COMMAND GETKEYS ZUNIONSTORE {t}a 2 {t}b {u}c', 'COMMAND GETKEYS SINTERCARD 2 {t}b {t}c', 'COMMAND GETKEYS LMPOP 0 {t}b LEFT',
    ].map((s) => s.split(' '));
    await flushAll(cluster.ports); // both clusters start empty, and run the same writes
    // One node's reply, with MOVED's address replaced by whether it names the owner of the slot (per that cluster's CLUSTER SLOTS).
    const answers = async (ports: number[], args: string[]) => {
      const owners = await fetchOwners(ports[0]!);
      return Promise.all(ports.map(async (port) => {
        const r = await call(port, ...args);
        if (!(r instanceof ReplyError)) return { port, reply: JSON.stringify(plain(r)) };
        const moved = /^MOVED (\d+) (.+):(\d+)$/.exec(r.message);
        if (moved === null) return { port, reply: r.message };
        const [slot, host, to] = [Number(moved[1]), moved[2]!, Number(moved[3])];
        return { port, reply: `MOVED ${slot} ${host === HOST && owners[slot] === to && to !== port ? 'to-the-owner' : `${host}:${to}`}` };
      }));
    };
    for (const args of calls) {
      const [ours, theirs] = await Promise.all([answers(cluster.ports, args), answers(redis.ports, args)]);
      // The node that owns the keys runs the command (its reply is the command's), the others say MOVED; the same
      // number of each, and the same texts, in both clusters.
      const summary = (xs: Array<{ reply: string }>) => xs.map((x) => x.reply).sort();
      assert.deepEqual(summary(ours), summary(theirs), `${args.join(' ')}: ringcache ${JSON.stringify(ours)} vs Redis ${JSON.stringify(theirs)}`);
    }
  });
});

describe('a 5-node cluster', () => {
  let cluster: LocalCluster;
  before(async () => {
    cluster = await startCluster(5);
  });
  after(async () => {
    await cluster?.stop();
  });

  slotsAgreementTest(() => cluster);
  bulkClientTests(() => cluster, [
    ['ioredis', 2],
    ['node-redis', 2],
  ]);
});

/** 1000 commands touching keys of every node, interleaved with local keyless ones, and their expected replies. */
function mixedPipeline(keys: string[], owners: Int32Array): { commands: string[][]; expected: unknown[] } {
  const values = new Map<string, string>();
  const counters = new Map<string, number>();
  const commands: string[][] = [];
  const expected: unknown[] = [];
  for (let i = 0; i < 1000; i++) {
    const key = keys[i % keys.length]!;
    const counter = `${key}:n`;
    switch (i % 5) {
      case 0:
        commands.push(['SET', key, `v${i}`]);
        expected.push('OK');
        values.set(key, `v${i}`);
        break;
      case 1:
        commands.push(['GET', key]);
        expected.push(values.get(key) ?? null);
        break;
      case 2:
        commands.push(['INCR', counter]);
        counters.set(counter, (counters.get(counter) ?? 0) + 1);
        expected.push(counters.get(counter));
        break;
      case 3:
        commands.push(['ECHO', `echo-${i}-${owners[keySlot(key)]}`]);
        expected.push(`echo-${i}-${owners[keySlot(key)]}`);
        break;
      default:
        commands.push(['EXISTS', key]);
        expected.push(values.has(key) ? 1 : 0);
    }
  }
  return { commands, expected };
}

describe('a 3-node cluster in proxy mode (plain clients, any node)', () => {
  let cluster: LocalCluster;
  let owners: Int32Array;
  let client: Redis;
  let entry: number;
  before(async () => {
    cluster = await startCluster(3, { proxy: true });
    entry = cluster.ports[0]!;
    owners = await fetchOwners(entry);
    client = await plainIoredis(entry);
  });
  after(async () => {
    client?.disconnect();
    await cluster?.stop();
  });
  const ports = () => cluster.ports;
  /** One key (or n) owned by each node, in node order. */
  const keysOfEveryNode = (prefix: string, n = 1) => [...keysOwnedBy(owners, ports(), prefix, n).values()].flat();

  test('single-key commands (SET GET INCR DEL EXPIRE TTL) on keys of every node work through one node, and the data lives with the owner', T, async () => {
    for (const key of keysOfEveryNode('single:')) {
      const owner = owners[keySlot(key)]!;
      assert.equal(await client.set(key, `v-${key}`), 'OK');
      assert.equal(await client.get(key), `v-${key}`);
      assert.deepEqual(plain(await call(owner, 'GET', key)), `v-${key}`, `the owner ${owner} holds ${key}`);
      assert.equal(await call(owner, 'CLUSTER', 'COUNTKEYSINSLOT', String(keySlot(key))), 1, 'stored on the owner');
      if (owner !== entry) assert.equal(await call(entry, 'CLUSTER', 'COUNTKEYSINSLOT', String(keySlot(key))), 0, 'not stored on the node that forwarded it');
      assert.equal(await client.incr(`${key}:n`), 1);
      assert.equal(await client.incr(`${key}:n`), 2);
      assert.equal(await client.expire(key, 100), 1);
      const ttl = await client.ttl(key);
      assert.ok(ttl > 90 && ttl <= 100, `TTL ${ttl}`);
      assert.equal(await client.del(key), 1);
      assert.equal(await client.get(key), null);
      assert.equal(await client.ttl(key), -2);
    }
  });

  test('a pipeline of 1000 mixed commands touching every node gets its replies in request order (ioredis RESP3, raw RESP2)', T, async () => {
    const io = mixedPipeline(keysOfEveryNode('pipe-io:', 5), owners);
    // ioredis looks pipeline commands up by their lower-case method names.
    const results = (await client.pipeline(io.commands.map(([name, ...args]) => [name!.toLowerCase(), ...args])).exec()) ?? [];
    assert.deepEqual(results.map(([err, value]) => err?.message ?? value), io.expected);

    const raw = mixedPipeline(keysOfEveryNode('pipe-raw:', 5), owners);
    const replies = await withRaw(entry, async (c) => {
      c.write(Buffer.concat(raw.commands.map((cmd) => encodeCommand(cmd))));
      return c.read(raw.commands.length, 15_000);
    });
    assert.deepEqual(replies.map(plain), raw.expected);
  });

  test('plain redis-cli (no -c) works for keys of every node', T, async () => {
    for (const key of keysOfEveryNode('plaincli:')) {
      assert.equal((await redisCli(entry, ['SET', key, `cli-${key}`])).stdout.trim(), 'OK');
      assert.equal((await redisCli(entry, ['GET', key])).stdout.trim(), `cli-${key}`);
      assert.equal((await redisCli(entry, ['INCR', `${key}:n`])).stdout.trim(), '1');
    }
  });

  test('subcommands with a key (OBJECT ENCODING, MEMORY USAGE) are answered by the key\'s owner', T, async () => {
    const key = keysOfEveryNode('psub:').find((k) => owners[keySlot(k)] !== entry)!;
    const owner = owners[keySlot(key)]!;
    assert.equal(await client.set(key, '12345'), 'OK');
    assert.deepEqual(plain(await call(entry, 'OBJECT', 'ENCODING', key)), plain(await call(owner, 'OBJECT', 'ENCODING', key)));
    assert.equal(await call(entry, 'MEMORY', 'USAGE', key), await call(owner, 'MEMORY', 'USAGE', key));
    assert.notEqual(await call(entry, 'MEMORY', 'USAGE', key), null);
  });

  test('multi-key commands whose keys share a hash tag owned by another node are forwarded', T, async () => {
    const tag = keysOfEveryNode('tag').find((k) => owners[keySlot(k)] !== entry)!;
    const keys = [`{${tag}}a`, `{${tag}}b`];
    assert.equal(await client.mset(keys[0]!, '1', keys[1]!, '2'), 'OK');
    assert.deepEqual(await client.mget(keys), ['1', '2']);
    assert.equal(await client.del(keys), 2);
  });

  // Splitting a multi-key command across owners (proxy mode): expected Redis semantics.
  test('MGET across nodes returns the values in argument order', T, async () => {
    const keys = keysOfEveryNode('mget:', 2);
    for (const k of keys) await client.set(k, `v-${k}`);
    const asked = [keys[5]!, 'mget:missing', keys[0]!, keys[3]!, keys[1]!, keys[4]!, keys[2]!, keys[0]!];
    assert.deepEqual(await client.mget(asked), asked.map((k) => (k === 'mget:missing' ? null : `v-${k}`)));
  });

  test('MSET across nodes returns OK and every key is readable from every node', T, async () => {
    const keys = keysOfEveryNode('mset:', 2);
    assert.equal(await client.mset(Object.fromEntries(keys.map((k) => [k, `m-${k}`]))), 'OK');
    for (const port of ports()) {
      for (const k of keys) assert.deepEqual(plain(await call(port, 'GET', k)), `m-${k}`, `GET ${k} on ${port}`);
    }
  });

  test('DEL and UNLINK across nodes return the total number of keys removed', T, async () => {
    for (const cmd of ['del', 'unlink'] as const) {
      const keys = keysOfEveryNode(`${cmd}:`, 2);
      for (const k of keys) await client.set(k, '1');
      assert.equal(await client[cmd]([...keys, `${cmd}:missing`]), keys.length, `${cmd.toUpperCase()} count`);
      assert.equal(await client.exists(keys), 0, `${cmd.toUpperCase()} removed every key`);
    }
  });

  test('EXISTS and TOUCH across nodes count every existing key (repeats counted again)', T, async () => {
    const keys = keysOfEveryNode('exists:', 2);
    for (const k of keys) await client.set(k, '1');
    const asked = [...keys, 'exists:missing', keys[0]!, keys[5]!];
    assert.equal(await client.exists(asked), keys.length + 2, 'EXISTS');
    assert.equal(await client.touch(...asked), keys.length + 2, 'TOUCH');
  });

  test('MSET across nodes with a key but no value is refused with the arity error and writes nothing', T, async () => {
    const keys = keysOfEveryNode('oddmset:');
    const reply = await call(entry, 'MSET', keys[0]!, 'v0', keys[1]!, 'v1', keys[2]!);
    assertErrorReply(reply, /^ERR wrong number of arguments for 'mset' command$/, `MSET ${keys.join(' ')} with the last value missing`);
    assert.equal(await client.exists(keys), 0, 'no key was written');
  });

  test('with an owner stopped (SIGSTOP), its keys get TRYAGAIN or CLUSTERDOWN within 3 s, in order, and it serves them again once continued', { timeout: 30_000 }, async () => {
    const stopped = cluster.nodes[1]!;
    const keys = keysOwnedBy(owners, ports(), 'stop:');
    const [remote, local] = [keys.get(stopped.port)![0]!, keys.get(entry)![0]!];
    assert.equal(await call(entry, 'SET', remote, 'before'), 'OK');
    stopped.proc.kill('SIGSTOP');
    try {
      const replies = await withRaw(entry, async (c) => {
        c.write(Buffer.concat([encodeCommand(['GET', remote]), encodeCommand(['SET', local, 'local']), encodeCommand(['ECHO', 'last'])]));
        return within(3000, 'replies while the owner is stopped', c.read(3, 3000));
      });
      assertErrorReply(replies[0]!, /^(CLUSTERDOWN|TRYAGAIN)\b/, 'GET of a key owned by the stopped node');
      assert.deepEqual(replies.slice(1).map(plain), ['OK', 'last'], 'the commands after it still reply, in order');
    } finally {
      stopped.proc.kill('SIGCONT');
    }
    await eventually(async () => plain(await call(entry, 'GET', remote)) === 'before', 'the continued owner to serve its key through the proxy again', 8000);
  });

  test('a write forwarded to a stopped owner is answered INDOUBT (never TRYAGAIN: it may have run), and it did run once continued; an MSET split over it is INDOUBT too', { timeout: 30_000 }, async () => {
    const stopped = cluster.nodes[1]!;
    const keys = keysOwnedBy(owners, ports(), 'doubt:');
    const [remote, local] = [keys.get(stopped.port)![0]!, keys.get(entry)![0]!];
    assert.equal(await call(entry, 'SET', remote, 'before'), 'OK');
    assert.equal(await call(entry, 'SET', `{${remote}}:n`, '0'), 'OK');
    stopped.proc.kill('SIGSTOP');
    try {
      const replies = await withRaw(entry, async (c) => {
        c.write(Buffer.concat([
          encodeCommand(['SET', remote, 'new']),
          encodeCommand(['INCR', `{${remote}}:n`]),
          encodeCommand(['MSET', local, 'l', remote, 'r']),
          encodeCommand(['GET', remote]),
        ]));
        return within(6000, 'replies while the owner is stopped', c.read(4, 6000));
      });
      assertErrorReply(replies[0]!, /^INDOUBT .*may have run/, 'SET forwarded to the stopped owner');
      assertErrorReply(replies[1]!, /^INDOUBT /, 'INCR forwarded to the stopped owner');
      assertErrorReply(replies[2]!, /^INDOUBT /, 'MSET whose local part ran and whose remote part is stuck');
      assertErrorReply(replies[3]!, /^(CLUSTERDOWN|TRYAGAIN)\b/, 'a read stays retryable');
    } finally {
      stopped.proc.kill('SIGCONT');
    }
    // The in-doubt writes did land: the reply must not have said they failed.
    await eventually(async () => plain(await call(entry, 'GET', remote)) === 'r', 'the continued owner to have run SET then MSET', 8000);
    assert.equal(plain(await call(entry, 'GET', `{${remote}}:n`)), '1', 'INCR ran exactly once (no retry behind the client\'s back)');
    assert.equal(plain(await call(entry, 'GET', local)), 'l');
  });

  test('a client pipelining to a stopped owner is held at 1024 waiting replies (the node stops reading it), other clients are served, and every reply arrives once it continues', { timeout: 40_000 }, async () => {
    const stopped = cluster.nodes[1]!;
    const missing = keysOwnedBy(owners, ports(), 'held:', 1).get(stopped.port)![0]!;
    const rssKb = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${cluster.nodes[0]!.proc.pid}/status`, 'utf8'))![1]);
    const COUNT = 100_000;
    const request = encodeCommand(['GET', missing]);
    const socket = net.connect({ host: HOST, port: entry });
    await new Promise((r) => socket.once('connect', r));
    let received = 0;
    socket.on('data', (d: Buffer) => (received += d.length));
    const before = rssKb();
    stopped.proc.kill('SIGSTOP');
    try {
      socket.write(Buffer.concat(Array.from({ length: COUNT }, () => request)));
      await new Promise((r) => setTimeout(r, 1500));
      const grownMb = (rssKb() - before) / 1024;
      assert.ok(grownMb < 64, `the entry node grew ${grownMb.toFixed(1)} MB holding a stopped owner's pipeline`);
      assert.equal(await within(1000, 'PING on another connection', call(entry, 'PING')), 'PONG');
    } finally {
      stopped.proc.kill('SIGCONT');
    }
    // Each GET of a missing key is $-1 (5 bytes), or an error while the owner was stopped: all arrive.
    await eventually(async () => received >= COUNT * 5, `all ${COUNT} replies (${received} bytes so far)`, 20_000);
    socket.destroy();
  });

  // Kills a node: keep this the last test of this describe.
  test('with an owner killed, its keys get CLUSTERDOWN or TRYAGAIN within 3 s and the other nodes keep working', { timeout: 30_000 }, async () => {
    const victim = ports()[2]!;
    const survivors = ports().filter((p) => p !== victim);
    const keys = keysOwnedBy(owners, ports(), 'down:');
    const current = new Map<string, string>();
    for (const [, [k]] of keys) {
      assert.equal(await client.set(k!, `before-${k}`), 'OK', 'written before the kill');
      current.set(k!, `before-${k}`);
    }
    await cluster.kill(2);
    const lost = keys.get(victim)![0]!;
    for (const port of survivors) {
      await withRaw(port, async (c) => {
        for (let attempt = 0; attempt < 3; attempt++) {
          const started = Date.now();
          const reply = await within(3000, `GET ${lost} on ${port} (attempt ${attempt + 1})`, c.call('GET', lost));
          assertErrorReply(reply, /^(CLUSTERDOWN|TRYAGAIN)\b/, `GET of a key owned by the dead node, on ${port}`);
          assert.ok(Date.now() - started < 3000);
        }
        for (const alive of survivors) {
          const key = keys.get(alive)![0]!;
          assert.deepEqual(plain(await c.call('GET', key)), current.get(key), `a key of ${alive}, through ${port}`);
          assert.equal(await c.call('SET', key, `after-${port}-${key}`), 'OK');
          current.set(key, `after-${port}-${key}`);
        }
        const split = await within(3000, `MGET across the dead node and live ones on ${port}`, c.call('MGET', ...survivors.map((p) => keys.get(p)![0]!), lost));
        assertErrorReply(split, /^(CLUSTERDOWN|TRYAGAIN)\b/, 'MGET split over a dead owner');
        // A pipeline mixing the dead owner and live ones: every reply arrives, in order.
        c.write(Buffer.concat([encodeCommand(['SET', lost, 'x']), ...survivors.map((p) => encodeCommand(['GET', keys.get(p)![0]!])), encodeCommand(['PING'])]));
        const replies = await c.read(survivors.length + 2, 3000);
        assertErrorReply(replies[0]!, /^(CLUSTERDOWN|TRYAGAIN)\b/, 'SET of a key owned by the dead node, pipelined');
        assert.deepEqual(replies.slice(1).map(plain), [...survivors.map((p) => current.get(keys.get(p)![0]!)), 'PONG']);
      });
    }
  });
});


describe('bad cluster configuration: one `ringcache:` line on stderr, exit code 2', { concurrency: 4 }, () => {
  let p: number;
  let q: number;
  before(async () => {
    [p, q] = await freePorts(2);
  });
  const cases: Array<[string, () => string[], RegExp]> = [
    ['--peers with a non-numeric port', () => ['server', '--port', String(p), '--peers', `${HOST}:${p},127.0.0.1:abc`], /--peers.*127\.0\.0\.1:abc/],
    ['--peers with an entry without a port', () => ['server', '--port', String(p), '--peers', `${HOST}:${p},nohost`], /--peers.*nohost/],
    ['--peers with a duplicate entry', () => ['server', '--port', String(p), '--peers', `${HOST}:${p},${HOST}:${q},${HOST}:${p}`], /--peers.*twice|duplicate/],
    ['--peers that does not include this node', () => ['server', '--port', String(p), '--peers', `${HOST}:${q}`], /--peers.*(not include|this node)/],
    ['--peers with --port 0', () => ['server', '--port', '0', '--peers', `${HOST}:${p}`], /--port/],
    ['--proxy without --peers', () => ['server', '--port', String(p), '--proxy'], /--proxy.*--peers/],
    ['ringcache dev --nodes 0', () => ['dev', '--nodes', '0', '--base-port', String(p)], /--nodes/],
    ['ringcache dev --nodes abc', () => ['dev', '--nodes', 'abc', '--base-port', String(p)], /--nodes/],
  ];
  for (const [what, args, pattern] of cases) {
    test(what, T, async () => {
      assertUsageError(await runCli(args()), pattern);
    });
  }
});

describe('ringcache dev', () => {
  let dev: ChildProcess;
  let output: () => string;
  let base: number;
  before(async () => {
    base = await freePortRun(3);
    // Its own process group, so that cleanup can reach the nodes even if `dev` itself misbehaves.
    dev = spawn(process.execPath, [CLI, 'dev', '--nodes', '3', '--base-port', String(base)], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    output = track(dev);
  });
  after(() => {
    if (dev?.pid !== undefined) {
      try {
        process.kill(-dev.pid, 'SIGKILL');
      } catch {
        // the group is gone already
      }
    }
  });

  test('starts 3 nodes, prints "nodes ready" and the redis-cli -c hint, works with redis-cli -c, and exits 0 on SIGINT with every node gone', { timeout: 40_000 }, async () => {
    await waitForOutput(dev, output, /nodes ready/, 'ringcache dev');
    const ports = [base, base + 1, base + 2];
    assert.match(output(), new RegExp(`redis-cli -c -p ${base}\\b`), output());
    const owners = await fetchOwners(base);
    for (const [owner, [key]] of keysOwnedBy(owners, ports, 'dev:')) {
      const set = await redisCli(base, ['-c', 'SET', key!, `dev-${owner}`]);
      assert.equal(set.stdout.trim(), 'OK', set.stderr);
      assert.equal((await redisCli(base, ['-c', 'GET', key!])).stdout.trim(), `dev-${owner}`);
      assert.deepEqual(plain(await call(owner, 'GET', key!)), `dev-${owner}`, `node ${owner} owns ${key}`);
    }
    const exited = new Promise<number | null>((resolve) => dev.once('exit', (code) => resolve(code)));
    dev.kill('SIGINT');
    assert.equal(await within(15_000, 'ringcache dev to exit after SIGINT', exited), 0, output());
    for (const port of ports) assert.ok(await refusesConnections(port), `node ${port} is gone`);
  });

  test('started by npx, it stops with its nodes when npx gets SIGTERM (npm does not pass the signal on)', { timeout: 40_000 }, async () => {
    const npxBase = await freePortRun(2);
    const npx = spawn('npx', ['ringcache', 'dev', '--nodes', '2', '--base-port', String(npxBase)], { cwd: path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..'), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const npxOutput = track(npx);
    try {
      await waitForOutput(npx, npxOutput, /nodes ready/, 'npx ringcache dev');
      npx.kill('SIGTERM');
      const ports = [npxBase, npxBase + 1];
      await eventually(async () => (await Promise.all(ports.map((p) => refusesConnections(p)))).every(Boolean), 'every node gone after SIGTERM to npx', 15_000);
    } finally {
      try {
        process.kill(-npx.pid!, 'SIGKILL');
      } catch {
        // the group is gone already
      }
    }
  });
});
