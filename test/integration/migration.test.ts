/**
 * Warm slot migration with real processes on a real etcd: keys (strings with
 * and without TTLs, hashes, lists, sorted sets) move with their slots when a
 * node joins or leaves, under a writing ioredis client; a new owner killed
 * mid-move, and an old owner that is also the controller killed mid-move.
 * Checked: values (every key read back), keys on exactly one node (DBSIZE
 * and COUNTKEYSINSLOT over every slot of every node), errors surfaced to the
 * application, and what each node's INFO says about its moves.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Cluster, Redis } from 'ioredis';
import { keySlot } from '../../src/cluster/key-slot.js';
import { spawn } from 'node:child_process';
import { RingCache } from '../../src/client/index.js';
import { freePortRun } from '../helpers/cluster.js';
import { startEtcd, type RunningEtcd } from '../helpers/etcd.js';
import { CLI, runCli, track } from '../helpers/processes.js';
import { clusterStatus, settledOn, startMember, type Member } from '../helpers/members.js';
import { eventually, infoNumber, redisCli, runTool, sleep } from '../helpers/tools.js';

const T = { timeout: 120_000 };
const STRINGS = 20_000;
const HASHES = 200;
const WRITTEN = 1000;

/** The value a writer last had acknowledged per key, and the one in flight (which may or may not have landed). */
class Writer {
  readonly acked = new Map<string, string>();
  readonly inFlight = new Map<string, string>();
  /** Values whose write failed: it may still have landed (a timeout, a connection lost after the write). */
  readonly maybe = new Map<string, Set<string>>();
  readonly errors: string[] = [];
  private stopped = false;
  private done: Promise<void> | undefined;
  private seq = 0;

  constructor(private readonly client: Cluster, private readonly prefix: string) {}

  start(): void {
    this.done = (async () => {
      while (!this.stopped && this.seq < 1_000_000) {
        const key = `${this.prefix}:${this.seq % WRITTEN}`;
        const value = `v${this.seq++}`;
        this.inFlight.set(key, value);
        try {
          await this.client.set(key, value);
          this.acked.set(key, value);
          this.maybe.delete(key); // an earlier failed write is overwritten now
          const got = await this.client.get(key);
          if (got !== value) this.errors.push(`read-your-write ${key}: ${got} != ${value}`);
        } catch (err) {
          this.errors.push(`${key}: ${(err as Error).message}`);
          if (!this.maybe.has(key)) this.maybe.set(key, new Set());
          this.maybe.get(key)!.add(value);
        }
        this.inFlight.delete(key);
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }

  get count(): number {
    return this.seq;
  }
}

/** Runs calls 1000 at a time (the bulk client pipelines them per node: enableAutoPipelining), each settled. */
async function settleAll<T>(calls: Array<() => Promise<T>>): Promise<Array<[Error | null, T | null]>> {
  const out: Array<[Error | null, T | null]> = [];
  for (let i = 0; i < calls.length; i += 1000) {
    out.push(...(await Promise.all(calls.slice(i, i + 1000).map((c) => c().then((v): [null, T] => [null, v], (e: Error): [Error, null] => [e, null])))));
  }
  return out;
}

async function fill(client: Cluster): Promise<void> {
  const calls: Array<() => Promise<unknown>> = [];
  for (let i = 0; i < STRINGS; i++) calls.push(() => (i % 10 === 0 ? client.set(`s:${i}`, `value-${i}`, 'PX', 600_000) : client.set(`s:${i}`, `value-${i}`)));
  for (let i = 0; i < HASHES; i++) {
    calls.push(() => client.hset(`h:${i}`, { a: String(i), b: 'x'.repeat(100) }));
    calls.push(() => client.rpush(`l:${i}`, 'one', 'two', String(i)));
    calls.push(() => client.zadd(`z:${i}`, 1, 'a', i, 'b'));
    calls.push(() => client.set(`e:${i}`, 'gone-soon', 'PX', 400)); // expires during the moves: must not come back
  }
  for (const [err] of await settleAll(calls)) if (err) throw err;
}

/** Every filled key reads back as written; the short-lived ones are gone. Returns the keys missing, by prefix. */
async function verify(client: Cluster, lostOk: (key: string) => boolean = () => false): Promise<{ missing: number; wrong: string[] }> {
  let missing = 0;
  const wrong: string[] = [];
  const strings = await settleAll(Array.from({ length: STRINGS }, (_, i) => () => client.get(`s:${i}`)));
  strings.forEach(([err, v], i) => {
    const key = `s:${i}`;
    if (err) wrong.push(`${key}: ${err.message}`);
    else if (v === null) {
      missing++;
      if (!lostOk(key)) wrong.push(`${key} lost`);
    } else if (v !== `value-${i}`) wrong.push(`${key}: ${String(v)}`);
  });
  const calls: Array<() => Promise<unknown>> = [];
  for (let i = 0; i < HASHES; i++) {
    calls.push(() => client.hgetall(`h:${i}`));
    calls.push(() => client.lrange(`l:${i}`, 0, -1));
    calls.push(() => client.call('ZRANGE', `z:${i}`, '0', '-1', 'WITHSCORES'));
    calls.push(() => client.pttl(`s:${i * 10}`));
    calls.push(() => client.exists(`e:${i}`));
  }
  const r = await settleAll(calls);
  for (let i = 0; i < HASHES; i++) {
    const [h, l, z, ttl, e] = r.slice(i * 5, i * 5 + 5).map(([err, v]) => (err ? `error ${err.message}` : v));
    const lost = (key: string, v: unknown) => {
      const empty = v === null || (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && v !== null && Object.keys(v).length === 0) || v === -2;
      if (empty) {
        missing++;
        if (!lostOk(key)) wrong.push(`${key} lost`);
      }
      return empty;
    };
    if (!lost(`h:${i}`, h) && JSON.stringify(h) !== JSON.stringify({ a: String(i), b: 'x'.repeat(100) })) wrong.push(`h:${i}: ${JSON.stringify(h)}`);
    if (!lost(`l:${i}`, l) && JSON.stringify(l) !== JSON.stringify(['one', 'two', String(i)])) wrong.push(`l:${i}: ${JSON.stringify(l)}`);
    // ioredis pairs up WITHSCORES replies.
    const zWant = i < 1 ? [['b', String(i)], ['a', '1']] : [['a', '1'], ['b', String(i)]];
    if (!lost(`z:${i}`, z) && JSON.stringify(z) !== JSON.stringify(zWant)) wrong.push(`z:${i}: ${JSON.stringify(z)}`);
    // The TTL moved to the millisecond: still set, at most the 600 s it started with.
    if (!lost(`s:${i * 10}`, ttl) && !(typeof ttl === 'number' && ttl > 0 && ttl <= 600_000)) wrong.push(`s:${i * 10} ttl ${String(ttl)}`);
    if (e !== 0) wrong.push(`e:${i} came back (${String(e)})`);
  }
  return { missing, wrong };
}

/** The writer's keys hold what it last had acknowledged (or the write in flight when it stopped, which may have landed). */
async function verifyWriter(client: Cluster, w: Writer, lostOk: (key: string) => boolean = () => false): Promise<string[]> {
  const wrong: string[] = [];
  const keys = [...w.acked.keys()];
  const values = await Promise.all(keys.map((k) => client.get(k)));
  keys.forEach((k, i) => {
    const v = values[i];
    if (v === null) {
      if (!lostOk(k)) wrong.push(`${k} lost (acknowledged ${w.acked.get(k)})`);
    } else if (v !== w.acked.get(k) && v !== w.inFlight.get(k) && !w.maybe.get(k)?.has(v)) wrong.push(`${k}: ${v}, acknowledged ${w.acked.get(k)}`);
  });
  return wrong;
}

/** Per node: keys it holds in slots it does not own (must be 0 once drops finish), and its DBSIZE. */
async function placement(ports: number[]): Promise<{ stray: number; total: number }> {
  let stray = 0;
  let total = 0;
  for (const port of ports) {
    const r = new Redis({ port, lazyConnect: true, enableOfflineQueue: true });
    try {
      const own = await ownedSlots(port, r);
      const p = r.pipeline();
      for (let s = 0; s < 16384; s++) if (own[s] === 0) p.call('CLUSTER', 'COUNTKEYSINSLOT', String(s));
      for (const [err, n] of (await p.exec())!) {
        if (err) throw err;
        stray += n as number;
      }
      total += await r.dbsize();
    } finally {
      r.disconnect();
    }
  }
  return { stray, total };
}

/** The slots the node at port owns, as its CLUSTER SLOTS says (1 per owned slot). */
async function ownedSlots(port: number, conn?: Redis): Promise<Uint8Array> {
  const r = conn ?? new Redis({ port });
  try {
    const own = new Uint8Array(16384);
    for (const [start, end, [, p]] of (await r.call('CLUSTER', 'SLOTS')) as Array<[number, number, [string, number]]>) {
      if (p === port) for (let s = start; s <= end; s++) own[s] = 1;
    }
    return own;
  } finally {
    if (conn === undefined) r.disconnect();
  }
}

/** Keys sent so far by the node's moves in progress (its INFO migration<i> lines). */
async function sendingNow(port: number): Promise<number> {
  let n = 0;
  for (const m of (await info(port)).matchAll(/^migration\d+:.*,keys=(\d+)\//gm)) n += Number(m[1]);
  return n;
}

async function info(port: number): Promise<string> {
  return (await redisCli(port, ['INFO', 'cluster'])).stdout;
}

describe('warm slot migration on a real etcd', () => {
  let etcd: RunningEtcd;
  const members: Member[] = [];
  let client: Cluster;
  /**
   * For filling and checking: many calls at once. A new one for each check:
   * ioredis's auto-pipelining surfaces MOVED when one pipeline's replies point
   * to several nodes (a pipeline is retried only when all point to one), so
   * checks start from a fresh slot table instead.
   */
  let bulk: Cluster;
  const freshBulk = () => {
    bulk?.disconnect();
    bulk = new Cluster([{ host: '127.0.0.1', port: members[0]!.port }], { enableAutoPipelining: true, redisOptions: { maxRetriesPerRequest: 20 } });
    return bulk;
  };
  const cluster = 'mig';
  const ports = () => members.map((m) => m.port);
  before(async () => {
    etcd = await startEtcd();
  });
  /** On a failure, what each node logged (its warnings and errors) goes with the error. */
  const logs = (err: Error): never => {
    const tails = members.map((m) => `--- node ${m.port} (exit ${m.proc.exitCode}):\n${m.output().split('\n').filter((l) => !/"level":30/.test(l)).slice(-15).join('\n')}`);
    throw new Error(`${err.message}\n${tails.join('\n')}`);
  };
  after(async () => {
    client?.disconnect();
    bulk?.disconnect();
    await Promise.all(members.map((m) => m.stop()));
    await etcd?.stop();
  });

  test('a join (3 -> 4) and a graceful leave (4 -> 3) move every key, under writes: nothing lost, nothing wrong, no key on two nodes', T, async () => {
    for (let i = 0; i < 3; i++) members.push(await startMember(etcd.endpoint, cluster, { leaseTtlMs: 2000 }));
    await settledOn(etcd.endpoint, cluster, ports());
    client = new Cluster([{ host: '127.0.0.1', port: members[0]!.port }], { redisOptions: { maxRetriesPerRequest: 20 }, retryDelayOnMoved: 20 });
    await fill(freshBulk());
    const writer = new Writer(client, 'w');
    writer.start();
    // redis-cli -c alongside: batches of SET and GET through one process each, following MOVED itself.
    const cliProblems: string[] = [];
    let cliStop = false;
    let cliBatches = 0;
    const cli = (async () => {
      for (let b = 0; !cliStop && b < 500; b++) {
        const lines: string[] = [];
        for (let i = 0; i < 50; i++) lines.push(`SET cli:${i} b${b}`, `GET cli:${i}`);
        const r = await runTool('redis-cli', ['-c', '-h', '127.0.0.1', '-p', String(members[0]!.port)], { input: lines.join('\n') + '\n' });
        const out = r.stdout.trim().split('\n').filter((l) => !l.startsWith('-> Redirected'));
        const want = lines.map((l) => (l.startsWith('SET') ? 'OK' : `b${b}`));
        if (r.code !== 0 || JSON.stringify(out) !== JSON.stringify(want)) cliProblems.push(`batch ${b}: ${r.stdout.slice(0, 300)} ${r.stderr.slice(0, 200)}`);
        cliBatches++;
      }
    })();
    try {
      await sleep(200);
      members.push(await startMember(etcd.endpoint, cluster, { leaseTtlMs: 2000 }));
      await settledOn(etcd.endpoint, cluster, ports(), 30_000).catch(logs);
      const before = writer.count;
      await sleep(300);
      assert.ok(writer.count > before, 'the writer goes on after the join');
      const sent = await Promise.all(members.slice(0, 3).map(async (m) => infoNumber(await info(m.port), 'migration_keys_sent')));
      const received = infoNumber(await info(members[3]!.port), 'migration_keys_received');
      assert.ok(sent.every((n) => n > 1000), `each old node sent its share: ${sent.join(', ')}`);
      assert.ok(received >= sent.reduce((a, b) => a + b, 0) * 0.99, `the new node received what was sent (${received})`);
      assert.equal((await info(members[3]!.port)).includes('cluster_migration:warm'), true);
      // SIGTERM: the node moves its slots away before it exits.
      const leaving = members.pop()!;
      assert.equal(await leaving.stop(), 0, leaving.output());
      await settledOn(etcd.endpoint, cluster, ports(), 30_000);
    } finally {
      await writer.stop();
      cliStop = true;
      await cli;
    }
    assert.deepEqual(writer.errors, [], 'no error surfaced to the application');
    assert.ok(cliBatches > 3, `redis-cli ran through the moves (${cliBatches} batches)`);
    assert.deepEqual(cliProblems, [], 'redis-cli -c saw every SET and GET answered right');
    const { missing, wrong } = await verify(freshBulk());
    assert.deepEqual(wrong, []);
    assert.equal(missing, 0);
    assert.deepEqual(await verifyWriter(bulk, writer), []);
    const expected = STRINGS + HASHES * 3 + WRITTEN + 50;
    await eventually(async () => {
      const p = await placement(ports());
      return p.stray === 0 && p.total === expected;
    }, `every key on exactly one node (${expected} keys)`, 10_000).catch(async (err) => {
      throw new Error(`${(err as Error).message}: ${JSON.stringify(await placement(ports()))}`);
    });
  });

  test('the new owner killed mid-move: the move is cancelled, the old owners keep every key', T, async () => {
    // Slow moves (300 keys/s per move, about 6 s each), so the kill lands in the middle of them.
    await Promise.all(ports().map((p) => redisCli(p, ['CONFIG', 'SET', 'migration-rate', '300'])));
    const joiner = await startMember(etcd.endpoint, cluster, { leaseTtlMs: 2000 });
    try {
      await eventually(async () => {
        const sent = await Promise.all(ports().map(sendingNow));
        return sent.some((n) => n > 100);
      }, 'a move under way', 10_000);
      const status = await clusterStatus(etcd.endpoint, cluster);
      assert.ok(status.moves.length > 0, 'moves in flight when the new owner dies');
      // `cluster status` shows how far each move got (reported by the old owners about once a second).
      await eventually(async () => (await clusterStatus(etcd.endpoint, cluster)).moves.some((m) => (m.progress?.keysSent ?? 0) > 0 && m.progress!.keysTotal > 0), 'move progress in cluster status', 5000);
    } finally {
      joiner.proc.kill('SIGKILL');
    }
    await settledOn(etcd.endpoint, cluster, ports(), 15_000);
    await Promise.all(ports().map((p) => redisCli(p, ['CONFIG', 'SET', 'migration-rate', '0'])));
    const { missing, wrong } = await verify(freshBulk());
    assert.deepEqual(wrong, []);
    assert.equal(missing, 0);
    const p = await placement(ports());
    assert.equal(p.stray, 0);
  });

  test('the controller, an old owner, killed mid-move: the next controller finishes the other moves warm; the dead node\'s keys are lost, none comes back stale', T, async () => {
    await Promise.all(ports().map((p) => redisCli(p, ['CONFIG', 'SET', 'migration-rate', '300'])));
    const status = await clusterStatus(etcd.endpoint, cluster);
    const controller = status.nodes.find((n) => n.id === status.controller);
    assert.ok(controller, `the controller is a member: ${JSON.stringify(status)}`);
    const victim = members.find((m) => controller.address.endsWith(`:${m.port}`))!;
    // Which keys the victim owns now: those are lost when it dies (no replicas yet), all others must survive.
    const victimSlots = new Set<number>();
    const own = await ownedSlots(victim.port);
    for (let s = 0; s < 16384; s++) if (own[s] === 1) victimSlots.add(s);
    const writer = new Writer(client, 'x');
    writer.start();
    const joiner = await startMember(etcd.endpoint, cluster, { leaseTtlMs: 2000 });
    members.push(joiner);
    try {
      await eventually(async () => (await sendingNow(victim.port)) > 100, 'the victim is moving slots', 10_000);
      victim.proc.kill('SIGKILL');
      members.splice(members.indexOf(victim), 1);
      await Promise.all(ports().map((p) => redisCli(p, ['CONFIG', 'SET', 'migration-rate', '0'])));
      await settledOn(etcd.endpoint, cluster, ports(), 30_000);
      await sleep(300);
    } finally {
      await writer.stop();
    }
    const lostOk = (key: string) => victimSlots.has(keySlot(key));
    const { wrong } = await verify(freshBulk(), lostOk);
    assert.deepEqual(wrong, [], 'keys of the survivors all moved warm; the victim\'s are gone or current');
    assert.deepEqual(await verifyWriter(bulk, writer, lostOk), []);
    // Writes to the dead node's slots may fail until they are reassigned; every other write went through.
    assert.deepEqual(writer.errors.filter((e) => !lostOk(e.slice(0, e.indexOf(': ')))), []);
    const p = await placement(ports());
    assert.equal(p.stray, 0);
  });

  test('proxy mode: a plain client on one node sees no error and no lost key through a join, commands held over handovers forwarded', T, async () => {
    const proxied: Member[] = [];
    const name = 'mig-proxy';
    const plain: Redis[] = [];
    try {
      for (let i = 0; i < 3; i++) proxied.push(await startMember(etcd.endpoint, name, { leaseTtlMs: 2000, args: ['--proxy', '--migration-rate', '3000'] }));
      await settledOn(etcd.endpoint, name, proxied.map((m) => m.port));
      const r = new Redis({ port: proxied[0]!.port, maxRetriesPerRequest: 0 });
      plain.push(r);
      const keys = Array.from({ length: 6000 }, (_, i) => `p:${i}`);
      for (let i = 0; i < keys.length; i += 500) await Promise.all(keys.slice(i, i + 500).map((k) => r.set(k, `v-${k}`)));
      const errors: string[] = [];
      const acked = new Map<string, string>();
      let stop = false;
      let seq = 0;
      const writer = (async () => {
        while (!stop && seq < 200_000) {
          const key = `p:${seq % 6000}`;
          const value = `w${seq++}`;
          try {
            await r.set(key, value);
            acked.set(key, value);
            const got = await r.get(key);
            if (got !== value) errors.push(`read-your-write ${key}: ${got} != ${value}`);
          } catch (err) {
            errors.push(`${key}: ${(err as Error).message}`);
          }
        }
      })();
      proxied.push(await startMember(etcd.endpoint, name, { leaseTtlMs: 2000, args: ['--proxy', '--migration-rate', '3000'] }));
      await settledOn(etcd.endpoint, name, proxied.map((m) => m.port), 30_000);
      await sleep(200);
      stop = true;
      await writer;
      assert.deepEqual(errors, [], 'the plain client saw nothing of the moves');
      const values = await Promise.all(keys.map((k) => r.get(k)));
      const wrong = keys.filter((k, i) => values[i] !== (acked.get(k) ?? `v-${k}`));
      assert.deepEqual(wrong, [], 'every key holds its last acknowledged value');
      const moved = infoNumber(await info(proxied[3]!.port), 'migration_keys_received');
      assert.ok(moved > 1000, `keys moved to the new node (${moved})`);
    } finally {
      for (const c of plain) c.disconnect();
      await Promise.all(proxied.map((m) => m.stop()));
    }
  });
});

describe('warm slot migration in ringcache dev (the embedded coordinator)', () => {
  test('a typed add moves keys warm: every key written before the join reads back through the project\'s client', T, async () => {
    const base = await freePortRun(5);
    const dev = spawn(process.execPath, [CLI, 'dev', '--nodes', '3', '--base-port', String(base)], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, RINGCACHE_DEV_COMMANDS: '1' } });
    const output = track(dev);
    const cache = new RingCache({ seeds: [`127.0.0.1:${base}`] });
    try {
      await eventually(() => /nodes ready/.test(output()), 'ringcache dev ready', 20_000);
      const keys = Array.from({ length: 3000 }, (_, i) => `dev:${i}`);
      for (let i = 0; i < keys.length; i += 500) await Promise.all(keys.slice(i, i + 500).map((k) => cache.set(k, `value of ${k}`)));
      dev.stdin.write('add\n');
      await eventually(async () => {
        const r = await runCli(['cluster', 'status', '--coordinator', `127.0.0.1:${base - 1}`, '--json']);
        const s = JSON.parse(r.stdout) as { nodes: Array<{ slots: number }>; moves: unknown[] };
        return s.nodes.filter((n) => n.slots > 0).length === 4 && s.moves.length === 0;
      }, '4 nodes own slots after add', 20_000);
      const values = await Promise.all(keys.map((k) => cache.get(k)));
      const wrong = keys.filter((k, i) => values[i] !== `value of ${k}`);
      assert.deepEqual(wrong, [], 'every key survived the join');
      const received = infoNumber(await info(base + 3), 'migration_keys_received');
      assert.ok(received > 500, `the new node received its share (${received})`);
    } finally {
      await cache.close();
      dev.kill('SIGINT');
      await new Promise((r) => dev.once('exit', r));
    }
  });
});
