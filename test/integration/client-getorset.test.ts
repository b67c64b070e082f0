/**
 * getOrSet against a real 3-node cluster: one loader run per key per TTL for
 * 100 concurrent callers in one process and for callers in 3 processes (child
 * processes), loader failures (every waiter rejected, lease released),
 * staleWhileRevalidate, and the bounded wait on a lease held elsewhere. Loader
 * runs are counted on the cluster with INCR, so runs in any process count.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LoaderError, RingCache, TimeoutError } from '../../src/index.js';
import { LEASE_SUFFIX } from '../../src/client/cache-aside.js';
import { companionKey } from '../../src/client/lease-key.js';
import { HOST, startCluster, type LocalCluster } from '../helpers/cluster.js';
import { ROOT, stopper, track } from '../helpers/processes.js';
import { eventually, sleep, within } from '../helpers/tools.js';

const T = { timeout: 30_000 };
let cluster: LocalCluster;
let cache: RingCache;
let run = 0;
/** Key names unique to one test run, so tests never see each other's values. */
const fresh = (name: string) => `gos:${process.pid}:${++run}:${name}`;
const runs = async (key: string) => Number((await cache.get(`runs:${key}`)) ?? 0);

before(async () => {
  cluster = await startCluster(3);
  cache = new RingCache({ seeds: [`${HOST}:${cluster.ports[0]}`] });
  await within(10_000, 'connect', cache.connect());
});

after(async () => {
  await cache?.close();
  await cluster?.stop();
});

/** A loader that counts its runs on the cluster, waits ms, and returns value(). */
function counted<T>(key: string, ms: number, value: () => T): () => Promise<T> {
  return async () => {
    await cache.incr(`runs:${key}`);
    await sleep(ms);
    return value();
  };
}

describe('getOrSet in one process', () => {
  test('100 concurrent callers for each of 20 keys: the loader runs once per key, everyone gets its value', T, async () => {
    const keys = Array.from({ length: 20 }, (_, i) => fresh(`k${i}`));
    const all = await Promise.all(keys.flatMap((key) => Array.from({ length: 100 }, () => cache.getOrSet(key, counted(key, 50, () => ({ key })), { ttl: 30_000 }))));
    all.forEach((v, i) => assert.deepEqual(v, { key: keys[Math.floor(i / 100)] }));
    for (const key of keys) assert.equal(await runs(key), 1, `loader runs for ${key}`);
    // Later calls within the TTL are hits: no more runs.
    await Promise.all(keys.map((key) => cache.getOrSet(key, counted(key, 0, () => ({ key: 'other' })), { ttl: 30_000 })));
    for (const key of keys) assert.equal(await runs(key), 1);
    assert.deepEqual(await cache.getValue(keys[0]!), { key: keys[0] }, 'getValue reads a getOrSet value');
  });

  test('after the TTL the loader runs again, once', T, async () => {
    const key = fresh('ttl');
    let n = 0;
    const load = counted(key, 10, () => ++n);
    assert.equal(await cache.getOrSet(key, load, { ttl: 150 }), 1);
    assert.equal(await cache.getOrSet(key, load, { ttl: 150 }), 1);
    await sleep(250);
    const again = await Promise.all(Array.from({ length: 50 }, () => cache.getOrSet(key, load, { ttl: 150 })));
    assert.deepEqual(new Set(again), new Set([2]));
    assert.equal(await runs(key), 2);
  });

  test('a loader that throws rejects every waiter with its error and releases the lease', T, async () => {
    const key = fresh('fail');
    const boom = new Error('loader exploded');
    const results = await Promise.allSettled(
      Array.from({ length: 100 }, () =>
        cache.getOrSet(key, async () => {
          await cache.incr(`runs:${key}`);
          await sleep(30);
          throw boom;
        }, { ttl: 10_000 }),
      ),
    );
    assert.ok(results.every((r) => r.status === 'rejected' && r.reason === boom), 'all 100 rejected with the same error');
    assert.equal(await runs(key), 1);
    assert.equal(await cache.get(companionKey(key, LEASE_SUFFIX)), null, 'lease released');
    assert.equal(await cache.getOrSet(key, counted(key, 0, () => 'ok'), { ttl: 10_000 }), 'ok', 'the next call loads');
    assert.equal(await runs(key), 2);
  });

  test('staleWhileRevalidate: a stale value is returned at once and refreshed in the background', T, async () => {
    const key = fresh('swr');
    let version = 0;
    const load = counted(key, 100, () => ++version);
    const opts = { ttl: 150, staleWhileRevalidate: 10_000 };
    assert.equal(await cache.getOrSet(key, load, opts), 1);
    await sleep(250); // stale now, still stored
    const t0 = Date.now();
    const stale = await Promise.all(Array.from({ length: 20 }, () => cache.getOrSet(key, load, opts)));
    assert.ok(Date.now() - t0 < 100, 'stale values did not wait for the 100 ms loader');
    assert.deepEqual(new Set(stale), new Set([1]));
    await eventually(async () => (await cache.getOrSet(key, load, opts)) === 2, 'the background refresh stored version 2', 3000);
    assert.equal(await runs(key), 2, 'one background refresh for 20 stale reads');
    const ttl = await cache.ttl(key);
    assert.ok(ttl > 9000 && ttl <= 10_150, `hard TTL = ttl + staleWhileRevalidate, got ${ttl}`);
  });

  test('a lease held elsewhere: callers wait at most waitMs, and load once it expires', T, async () => {
    const key = fresh('held');
    const lease = companionKey(key, LEASE_SUFFIX);
    await cache.set(lease, 'someone-else', { ttl: 5000 });
    const t0 = Date.now();
    await assert.rejects(cache.getOrSet(key, counted(key, 0, () => 'x'), { ttl: 1000, waitMs: 300 }), TimeoutError);
    const waited = Date.now() - t0;
    assert.ok(waited >= 290 && waited < 1500, `waited ${waited} ms`);
    assert.equal(await runs(key), 0, 'the loader did not run while the lease was held');

    await cache.set(lease, 'someone-else', { ttl: 300 });
    const t1 = Date.now();
    assert.equal(await cache.getOrSet(key, counted(key, 0, () => 'mine'), { ttl: 1000, waitMs: 3000 }), 'mine');
    assert.ok(Date.now() - t1 >= 250, 'loaded only after the lease expired');
    assert.equal(await runs(key), 1);
  });

  test('keys with hash tags and odd braces keep their lease in their own slot', T, async () => {
    for (const name of ['{user:1}:profile', 'a{}b', 'x}y{', 'plain']) {
      const key = fresh(name);
      assert.equal(await cache.getOrSet(key, counted(key, 0, () => name), { ttl: 10_000 }), name);
      assert.equal(cache.nodeFor(companionKey(key, LEASE_SUFFIX)), cache.nodeFor(key));
    }
  });
});

describe('getOrSet across processes', () => {
  interface Outcome {
    key: string;
    value?: { key: string; loadedBy: number };
    error?: string;
  }

  /** Starts n workers, waits until all are connected, starts them together, and collects their outcomes. */
  async function runWorkers(n: number, config: object): Promise<Array<{ pid: number; outcomes: Outcome[] }>> {
    const script = path.join(ROOT, 'test/helpers/client-worker.ts');
    const workers = Array.from({ length: n }, () => {
      const proc = spawn(process.execPath, ['--import', 'tsx', script, `${HOST}:${cluster.ports[1]}`, JSON.stringify(config)], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
      return { proc, output: track(proc), stop: stopper(proc) };
    });
    try {
      await eventually(() => workers.every((w) => w.output().includes('ready\n')), 'workers ready', 20_000);
      for (const w of workers) w.proc.stdin!.write('go\n');
      await eventually(() => workers.every((w) => w.proc.exitCode !== null), 'workers done', 20_000);
      return workers.map((w) => {
        assert.equal(w.proc.exitCode, 0, w.output());
        return JSON.parse(w.output().split('\n').find((l) => l.startsWith('{'))!) as { pid: number; outcomes: Outcome[] };
      });
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
    }
  }

  test('3 processes x 30 callers x 10 keys: one loader run per key, every caller gets that run\'s value', { timeout: 60_000 }, async () => {
    const keys = Array.from({ length: 10 }, (_, i) => fresh(`xp${i}`));
    const results = await runWorkers(3, { keys, callers: 30, ttl: 30_000, loaderMs: 200 });
    for (const key of keys) assert.equal(await runs(key), 1, `loader runs for ${key}`);
    const all = results.flatMap((r) => r.outcomes);
    assert.equal(all.length, 3 * 30 * 10);
    assert.deepEqual(all.filter((o) => o.error !== undefined), []);
    for (const key of keys) {
      const loaders = new Set(all.filter((o) => o.key === key).map((o) => o.value!.loadedBy));
      assert.equal(loaders.size, 1, `every caller of ${key} got the same run's value`);
    }
  });

  test('a loader that throws in one process rejects the waiters in the others with its message', { timeout: 60_000 }, async () => {
    const keys = [fresh('xfail')];
    const results = await runWorkers(3, { keys, callers: 10, ttl: 30_000, loaderMs: 400, fail: true });
    assert.equal(await runs(keys[0]!), 1, 'one loader run in all processes');
    const all = results.flatMap((r) => r.outcomes);
    assert.ok(all.every((o) => o.error !== undefined && /boom from \d+/.test(o.error)), JSON.stringify(all.slice(0, 3)));
    const loaderPid = /boom from (\d+)/.exec(all[0]!.error!)![1];
    for (const r of results) {
      const expected = String(r.pid) === loaderPid ? /^Error: boom/ : /^LoaderError: boom/;
      assert.ok(r.outcomes.every((o) => expected.test(o.error!)), `process ${r.pid}: ${r.outcomes[0]!.error}`);
    }
    assert.ok(new LoaderError('x') instanceof Error);
  });
});
