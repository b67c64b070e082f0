/**
 * The coordination store contract (src/membership/kv.ts), run over each
 * backend: MemoryKv, RemoteKv talking to a KvServer in this process, and
 * EtcdKv on a real single-member etcd. Then each backend's own failures: etcd
 * killed with -9 and restarted (calls fail within the timeout, recover, and the
 * watch resumes without losing writes), a KvServer closed and listening again,
 * a replaced store, a compacted history. Every wait is bounded.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { KvUnavailableError, type KvEvent, type KvStore, type KvWatch } from '../../src/membership/kv.js';
import { MemoryKv } from '../../src/membership/memory-kv.js';
import { KvServer } from '../../src/membership/kv-server.js';
import { RemoteKv } from '../../src/membership/remote-kv.js';
import { EtcdKv, parseEtcdEndpoints } from '../../src/membership/etcd-kv.js';
import { startEtcd, type RunningEtcd } from '../helpers/etcd.js';
import { freePort } from '../helpers/processes.js';

async function until<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined | false>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    await sleep(25);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
}

/** A watch that collects its events and errors. */
async function collect(store: KvStore, prefix: string, from: number): Promise<{ events: KvEvent[]; errors: Error[]; watch: KvWatch }> {
  const events: KvEvent[] = [];
  const errors: Error[] = [];
  const watch = await store.watch(prefix, from, { onEvents: (e) => events.push(...e), onError: (e) => errors.push(e) });
  return { events, errors, watch };
}

const put = (key: string, value: string, lease?: string) => ({ put: key, value, ...(lease ? { lease } : {}) });

let unique = 0;

/** The contract every backend meets; `make` returns the store under test (shared by the tests, keys are per test). */
function contract(name: string, make: () => Promise<KvStore>, done: () => Promise<void>): void {
  describe(`KvStore contract: ${name}`, () => {
    let kv: KvStore;
    let p: string;
    before(async () => {
      kv = await make();
    });
    after(done);
    const fresh = (): string => (p = `t${unique++}/`);

    test('range and get: sorted entries with revisions, missing keys', async () => {
      fresh();
      const r1 = await kv.txn([], [put(`${p}b`, '2'), put(`${p}a`, '1')]);
      assert.ok(r1.succeeded);
      await kv.txn([], [put(`${p}c/x`, '3')]);
      await kv.txn([], [put(`other${p}a`, 'no')]);
      const r = await kv.range(p);
      assert.deepEqual(r.entries.map((e) => [e.key, e.value]), [[`${p}a`, '1'], [`${p}b`, '2'], [`${p}c/x`, '3']]);
      assert.equal(r.entries[0]!.createRevision, r1.revision);
      assert.equal(r.entries[0]!.modRevision, r1.revision);
      assert.equal(r.entries[0]!.lease, '');
      assert.ok(r.revision >= r1.revision + 2);
      const a = await kv.get(`${p}a`);
      assert.deepEqual(a, r.entries[0]);
      assert.equal(await kv.get(`${p}missing`), undefined);
      assert.deepEqual((await kv.range(`${p}none/`)).entries, []);
    });

    test('txn: compares hold and fail as specified; revisions grow only on change', async () => {
      fresh();
      const k = `${p}k`;
      const created = await kv.txn([{ key: k, modRevision: 0 }], [put(k, 'v1')]);
      assert.ok(created.succeeded);
      const again = await kv.txn([{ key: k, modRevision: 0 }], [put(k, 'x')]);
      assert.deepEqual(again, { succeeded: false, revision: created.revision });
      assert.equal((await kv.get(k))?.value, 'v1');
      assert.ok(!(await kv.txn([{ key: `${p}absent`, createRevision: created.revision }], [put(k, 'x')])).succeeded);
      assert.ok(!(await kv.txn([{ key: k, createRevision: created.revision + 1000 }], [put(k, 'x')])).succeeded);
      const second = await kv.txn([{ key: k, createRevision: created.revision }, { key: k, modRevision: created.revision }], [put(k, 'v2')]);
      assert.ok(second.succeeded);
      assert.ok(second.revision > created.revision);
      const e = await kv.get(k);
      assert.deepEqual([e?.value, e?.createRevision, e?.modRevision], ['v2', created.revision, second.revision]);
      // A stale modRevision fails; the createRevision still holds.
      assert.ok(!(await kv.txn([{ key: k, modRevision: created.revision }], [put(k, 'x')])).succeeded);
      const third = await kv.txn([{ key: k, createRevision: created.revision }], [{ delete: k }, put(`${p}other`, 'o')]);
      assert.ok(third.succeeded);
      assert.equal(await kv.get(k), undefined);
      assert.ok((await kv.txn([{ key: k, modRevision: 0 }], [])).succeeded);
      // Recreated: a new createRevision.
      const re = await kv.txn([], [put(k, 'v3')]);
      assert.equal((await kv.get(k))?.createRevision, re.revision);
      assert.ok(re.revision > third.revision);
    });

    test('a put with an unknown lease rejects (not as unavailability)', async () => {
      fresh();
      const { id } = await kv.grantLease(1000);
      await kv.revokeLease(id);
      await assert.rejects(kv.txn([], [put(`${p}x`, 'v', id)]), (err: Error) => !(err instanceof KvUnavailableError));
      assert.equal(await kv.get(`${p}x`), undefined);
    });

    test('lease: keepAlive holds it, expiry deletes its keys, then keepAlive is false', async () => {
      fresh();
      const lease = await kv.grantLease(1000);
      assert.ok(lease.ttlMs >= 1000, `granted ${lease.ttlMs}`);
      await kv.txn([], [put(`${p}a`, '1', lease.id), put(`${p}b`, '2'), put(`${p}moved`, 'm', lease.id)]);
      assert.equal((await kv.get(`${p}a`))?.lease, lease.id);
      // A put without the lease detaches the key from it: the expiry leaves it alone.
      await kv.txn([], [put(`${p}moved`, 'm2')]);
      assert.equal((await kv.get(`${p}moved`))?.lease, '');
      const w = await collect(kv, p, (await kv.range(p)).revision);
      const t0 = Date.now();
      for (let i = 0; i < 3; i++) {
        await sleep(400);
        assert.equal(await kv.keepAlive(lease.id), true);
      }
      assert.ok((await kv.get(`${p}a`)) !== undefined, 'kept alive for longer than the TTL');
      await until('the lease to expire', 5000, async () => (await kv.get(`${p}a`)) === undefined);
      const took = Date.now() - t0;
      assert.ok(took >= 1000, `expired after ${took} ms`);
      assert.equal((await kv.get(`${p}b`))?.value, '2');
      assert.equal((await kv.get(`${p}moved`))?.value, 'm2');
      assert.equal(await kv.keepAlive(lease.id), false);
      await until('the delete event', 2000, async () => w.events.length > 0);
      assert.deepEqual(w.events.map((e) => [e.type, e.entry.key, e.entry.value]), [['delete', `${p}a`, '']]);
      await w.watch.cancel();
    });

    test('a transaction changing one key twice is refused (not as unavailability)', async () => {
      fresh();
      await assert.rejects(kv.txn([], [put(`${p}k`, '1'), put(`${p}k`, '2')]), (err: Error) => !(err instanceof KvUnavailableError));
      assert.equal(await kv.get(`${p}k`), undefined);
    });

    test('revoke deletes the keys at once', async () => {
      fresh();
      const lease = await kv.grantLease(5000);
      await kv.txn([], [put(`${p}a`, '1', lease.id)]);
      await kv.revokeLease(lease.id);
      assert.equal(await kv.get(`${p}a`), undefined);
      assert.equal(await kv.keepAlive(lease.id), false);
    });

    test('watch: events in order from a revision, past and live, this prefix only', async () => {
      fresh();
      const start = (await kv.range(p)).revision;
      const r1 = await kv.txn([], [put(`${p}a`, '1')]);
      await kv.txn([], [put(`${p}b`, '2')]);
      await kv.txn([], [put(`x${p}`, 'not mine')]);
      const w = await collect(kv, p, r1.revision - 1);
      const wLater = await collect(kv, p, r1.revision); // skips r1
      await kv.txn([], [put(`${p}a`, '1b'), { delete: `${p}b` }]);
      await kv.txn([], [put(`${p}c`, '3')]);
      await until('five events', 3000, async () => w.events.length >= 5 && wLater.events.length >= 4);
      await sleep(50);
      const seen = w.events.map((e) => `${e.type}:${e.entry.key.slice(p.length)}:${e.entry.value}`);
      assert.deepEqual(seen, ['put:a:1', 'put:b:2', 'put:a:1b', 'delete:b:', 'put:c:3']);
      assert.deepEqual(wLater.events.map((e) => e.entry.key.slice(p.length)), ['b', 'a', 'b', 'c']);
      const revs = w.events.map((e) => e.entry.modRevision);
      assert.deepEqual([...revs].sort((a, b) => a - b), revs);
      assert.equal(revs[0], r1.revision);
      assert.ok(revs[0]! > start);
      assert.equal(w.events[2]!.entry.createRevision, r1.revision);
      assert.deepEqual(w.errors, []);
      await w.watch.cancel();
      await wLater.watch.cancel();
      await kv.txn([], [put(`${p}d`, '4')]);
      await sleep(100);
      assert.equal(w.events.length, 5, 'no events after cancel');
    });
  });
}

let memory: MemoryKv | undefined;
contract('MemoryKv', async () => (memory = new MemoryKv()), async () => memory?.close());

let served: { store: MemoryKv; server: KvServer; remote: RemoteKv } | undefined;
contract(
  'RemoteKv via KvServer',
  async () => {
    const store = new MemoryKv();
    const server = new KvServer(store);
    const port = await server.listen(0, '127.0.0.1');
    served = { store, server, remote: new RemoteKv({ host: '127.0.0.1', port }) };
    return served.remote;
  },
  async () => {
    await served?.remote.close();
    await served?.server.close();
    await served?.store.close();
  },
);

let etcd: RunningEtcd | undefined;
let etcdKv: EtcdKv | undefined;
contract(
  'EtcdKv on etcd',
  async () => {
    etcd = await startEtcd();
    etcdKv = new EtcdKv({ endpoints: [etcd.endpoint] });
    return etcdKv;
  },
  async () => {
    await etcdKv?.close();
    await etcd?.stop();
  },
);

describe('MemoryKv specifics', () => {
  test('a watch from before the kept history fails as compacted; a new store id per store', async () => {
    const kv = new MemoryKv(5);
    for (let i = 0; i < 10; i++) await kv.txn([], [put(`k${i}`, 'v')]);
    const w = await collect(kv, 'k', 1);
    await until('the compaction error', 1000, async () => w.errors.length > 0);
    assert.match(w.errors[0]!.message, /compacted/);
    const ok = await collect(kv, 'k', 5);
    await until('the replay', 1000, async () => ok.events.length === 5);
    assert.notEqual(kv.storeId, new MemoryKv().storeId);
    await kv.close();
  });

  test('a stall of the store\'s own event loop longer than a lease does not expire it; unrenewed afterwards, it still expires', async () => {
    const kv = new MemoryKv();
    const lease = await kv.grantLease(300);
    await kv.txn([], [put('stall/a', '1', lease.id)]);
    // The holder renewed in time; the store (this process) then does not run for three TTLs.
    const until = Date.now() + 900;
    while (Date.now() < until) {
      // busy: no timer, no I/O
    }
    // Timers run first after a stall: without the stall taken out, the lease would be gone here.
    await new Promise((r) => setTimeout(r, 20));
    assert.ok(kv.stalledMs >= 800, `stall measured: ${kv.stalledMs} ms`);
    assert.equal((await kv.get('stall/a'))?.value, '1', 'the key of a lease renewed in time survives the store\'s stall');
    assert.equal(await kv.keepAlive(lease.id), true, 'the renewal after the stall is accepted');
    const gone = Date.now() + 2000;
    while ((await kv.get('stall/a')) !== undefined && Date.now() < gone) await new Promise((r) => setTimeout(r, 20));
    assert.equal(await kv.get('stall/a'), undefined, 'not renewed again, the lease expires');
    assert.equal(await kv.keepAlive(lease.id), false);
    await kv.close();
  });
});

describe('parseEtcdEndpoints', () => {
  test('host:port lists, and a clear error naming a bad entry', () => {
    assert.deepEqual(parseEtcdEndpoints('127.0.0.1:2379'), ['127.0.0.1:2379']);
    assert.deepEqual(parseEtcdEndpoints('etcd-0:2379, etcd-1.local:2380,[::1]:2379'), ['etcd-0:2379', 'etcd-1.local:2380', '[::1]:2379']);
    assert.throws(() => parseEtcdEndpoints(''), /no etcd endpoints/);
    assert.throws(() => parseEtcdEndpoints('a:1,http://b:2'), /'http:\/\/b:2'/);
    assert.throws(() => parseEtcdEndpoints('a:1,b'), /bad etcd endpoint 'b'/);
    assert.throws(() => parseEtcdEndpoints('a:99999'), /'a:99999'/);
    assert.throws(() => parseEtcdEndpoints('a:1,,b:2'), /bad etcd endpoint ''/);
  });
});

describe('RemoteKv failures', () => {
  // Cleanups registered as things start, so a failing test still stops them.
  let cleanups: Array<() => Promise<unknown>> = [];
  const defer = (fn: () => Promise<unknown>): void => void cleanups.push(fn);
  afterEach(async () => {
    const fns = cleanups.reverse();
    cleanups = [];
    for (const fn of fns) await fn().catch(() => {});
  });
  test('unreachable: calls reject fast with KvUnavailableError', async () => {
    const remote = new RemoteKv({ host: '127.0.0.1', port: await freePort(), timeoutMs: 1000 });
    const t0 = Date.now();
    await assert.rejects(remote.get('x'), KvUnavailableError);
    await assert.rejects(remote.watch('x', 0, { onEvents: () => {}, onError: () => {} }), KvUnavailableError);
    assert.ok(Date.now() - t0 < 500, `took ${Date.now() - t0} ms`);
    await remote.close();
  });

  test('a server that accepts but never answers: calls settle within the timeout', async () => {
    const net = await import('node:net');
    const held: import('node:net').Socket[] = [];
    const silent = net.createServer((s) => held.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const port = (silent.address() as import('node:net').AddressInfo).port;
    const remote = new RemoteKv({ host: '127.0.0.1', port, timeoutMs: 300 });
    defer(async () => {
      await remote.close();
      for (const s of held) s.destroy();
      await new Promise<void>((r) => silent.close(() => r()));
    });
    const t0 = Date.now();
    await assert.rejects(remote.range(''), KvUnavailableError);
    const took = Date.now() - t0;
    assert.ok(took >= 250 && took < 800, `took ${took} ms`);
    const t1 = Date.now();
    await assert.rejects(remote.watch('x', 0, { onEvents: () => {}, onError: () => {} }), KvUnavailableError);
    assert.ok(Date.now() - t1 < 800, `watch took ${Date.now() - t1} ms`);
  });

  test('a watch whose server goes silent after the greeting reconnects, from the last revision delivered', async () => {
    const net = await import('node:net');
    const requests: string[] = [];
    const held: import('node:net').Socket[] = [];
    const hung = net.createServer((s) => {
      held.push(s);
      s.once('data', (d: Buffer) => {
        requests.push(d.toString().split('\r\n').filter((x) => x && !/^[*$]/.test(x)).join(' '));
        const hello = JSON.stringify({ storeId: 'hung' });
        const batch = JSON.stringify({ events: [{ type: 'put', entry: { key: 'h/a', value: '1', createRevision: 7, modRevision: 7, lease: '' } }] });
        // The first connection delivers one event at revision 7, then nothing (no heartbeats).
        s.write(`$${hello.length}\r\n${hello}\r\n` + (requests.length === 1 ? `$${batch.length}\r\n${batch}\r\n` : ''));
      });
    });
    await new Promise<void>((r) => hung.listen(0, '127.0.0.1', () => r()));
    defer(async () => {
      for (const s of held) s.destroy();
      await new Promise<void>((r) => hung.close(() => r()));
    });
    const remote = new RemoteKv({ host: '127.0.0.1', port: (hung.address() as import('node:net').AddressInfo).port });
    defer(() => remote.close());
    const w = await collect(remote, 'h/', 3);
    await until('a second watch connection', 6000, async () => requests.length >= 2);
    assert.deepEqual(requests.slice(0, 2), ['WATCH h/ 3', 'WATCH h/ 7']);
    assert.equal(w.events.length, 1);
    assert.deepEqual(w.errors, []);
  });

  test('server closed: calls reject fast; listening again with the same store: calls and the watch resume', async () => {
    const store = new MemoryKv();
    defer(() => store.close());
    let server = new KvServer(store);
    defer(() => server.close());
    const port = await server.listen(0, '127.0.0.1');
    const remote = new RemoteKv({ host: '127.0.0.1', port, timeoutMs: 1000 });
    defer(() => remote.close());
    const w = await collect(remote, 'r/', 0);
    await remote.txn([], [put('r/1', 'a')]);
    await until('the first event', 2000, async () => w.events.length === 1);
    await server.close();
    const t0 = Date.now();
    await assert.rejects(remote.get('r/1'), KvUnavailableError);
    const failMs = Date.now() - t0;
    assert.ok(failMs < 500, `failed after ${failMs} ms`);
    await store.txn([], [put('r/2', 'while down')]);
    server = new KvServer(store);
    await server.listen(port, '127.0.0.1');
    const t1 = Date.now();
    assert.equal((await until('a call to succeed', 2000, () => remote.get('r/1')))?.value, 'a');
    await remote.txn([], [put('r/3', 'after')]);
    await until('the watch to resume', 3000, async () => w.events.length === 3);
    const resumeMs = Date.now() - t1;
    assert.deepEqual(w.events.map((e) => e.entry.value), ['a', 'while down', 'after']);
    assert.deepEqual(w.errors, []);
    console.log(`# RemoteKv: calls failed after ${failMs} ms with the server closed; watch resumed ${resumeMs} ms after re-listen`);
    await w.watch.cancel();
  });

  test('a watch from before the served store\'s history fails with onError', async () => {
    const store = new MemoryKv(3);
    defer(() => store.close());
    const server = new KvServer(store);
    defer(() => server.close());
    const remote = new RemoteKv({ host: '127.0.0.1', port: await server.listen(0, '127.0.0.1') });
    defer(() => remote.close());
    for (let i = 0; i < 6; i++) await remote.txn([], [put(`c/${i}`, 'v')]);
    const w = await collect(remote, 'c/', 0);
    await until('the compaction error', 2000, async () => w.errors.length > 0);
    assert.match(w.errors[0]!.message, /compacted/);
    assert.deepEqual(w.events, []);
  });

  test('a different store behind the same port ends the watch with onError', async () => {
    const first = new MemoryKv();
    const second = new MemoryKv();
    defer(() => first.close());
    defer(() => second.close());
    let server = new KvServer(first);
    defer(() => server.close());
    const port = await server.listen(0, '127.0.0.1');
    const remote = new RemoteKv({ host: '127.0.0.1', port });
    defer(() => remote.close());
    const w = await collect(remote, 's/', 0);
    await server.close();
    server = new KvServer(second);
    await server.listen(port, '127.0.0.1');
    await until('the watch error', 3000, async () => w.errors.length > 0);
    assert.match(w.errors[0]!.message, /another store/);
  });
});

describe('EtcdKv failures', () => {
  let node: RunningEtcd;
  let kv: EtcdKv;
  before(async () => {
    node = await startEtcd();
    kv = new EtcdKv({ endpoints: [node.endpoint], timeoutMs: 1000 });
  });
  after(async () => {
    await kv?.close();
    await node?.stop();
  });

  test('kill -9: calls reject within the timeout; after restart calls work within ~2 s and the watch resumes', async () => {
    await kv.txn([], [put('e/1', 'before')]);
    const w = await collect(kv, 'e/', 0);
    await until('the first event', 2000, async () => w.events.length === 1);
    const lease = await kv.grantLease(5000);
    await node.kill9();
    const downMs: number[] = [];
    for (const call of [() => kv.get('e/1'), () => kv.txn([], [put('e/x', 'x')]), () => kv.keepAlive(lease.id), () => kv.grantLease(1000), () => kv.range('e/'), () => kv.get('e/1')]) {
      const t0 = Date.now();
      await assert.rejects(call(), KvUnavailableError);
      downMs.push(Date.now() - t0);
      assert.ok(downMs.at(-1)! < 1500, `rejected after ${downMs.at(-1)} ms`);
    }
    await assert.rejects(kv.watch('e/', 0, { onEvents: () => {}, onError: () => {} }), KvUnavailableError);
    const t1 = Date.now();
    await node.restart();
    const readyMs = Date.now() - t1;
    assert.equal((await until('a call to succeed', 5000, () => kv.get('e/1')))?.value, 'before');
    const upMs = Date.now() - t1 - readyMs;
    assert.ok(upMs < 2500, `calls back ${upMs} ms after etcd was ready`);
    await kv.txn([], [put('e/2', 'after')]);
    await until('the watch to resume', 5000, async () => w.events.length >= 2);
    const watchMs = Date.now() - t1;
    assert.deepEqual(w.events.map((e) => e.entry.value), ['before', 'after']);
    assert.deepEqual(w.errors, []);
    console.log(`# EtcdKv: killed -> calls rejected in ${downMs.join('/')} ms; restart: etcd ready in ${readyMs} ms, calls ${upMs} ms later, watch event ${watchMs} ms after the restart began`);
    await w.watch.cancel();
  });

  test('hung etcd (SIGSTOP): every call settles within the timeout; after SIGCONT calls work again', async () => {
    await kv.txn([], [put('h/1', 'x')]);
    const lease = await kv.grantLease(5000);
    await node.pause();
    try {
      const took: number[] = [];
      for (const call of [() => kv.get('h/1'), () => kv.txn([], [put('h/2', 'y')]), () => kv.keepAlive(lease.id), () => kv.grantLease(1000), () => kv.revokeLease(lease.id)]) {
        const t0 = Date.now();
        await assert.rejects(call(), KvUnavailableError);
        took.push(Date.now() - t0);
      }
      const t0 = Date.now();
      await assert.rejects(kv.watch('h/', 0, { onEvents: () => {}, onError: () => {} }), KvUnavailableError);
      took.push(Date.now() - t0);
      for (const ms of took) assert.ok(ms < 1500, `settled after ${ms} ms`);
      console.log(`# EtcdKv: hung etcd -> calls rejected in ${took.join('/')} ms (timeout 1000)`);
    } finally {
      node.resume();
    }
    const t1 = Date.now();
    assert.equal((await until('a call to succeed', 5000, () => kv.get('h/1')))?.value, 'x');
    console.log(`# EtcdKv: after SIGCONT calls back in ${Date.now() - t1} ms`);
  });

  test('kill -9 while a watch catches up on 2500 revisions: after restart every event arrives once, in order', async () => {
    const start = (await kv.range('big/')).revision;
    for (let i = 0; i < 2500; i += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, j) => kv.txn([], [put(`big/${i + j}`, String(i + j))])));
    }
    const events: KvEvent[] = [];
    const errors: Error[] = [];
    let killed: Promise<void> | undefined;
    const watch = await kv.watch('big/', start, {
      onEvents: (batch) => {
        events.push(...batch);
        killed ??= node.kill9(); // right after the first catch-up batch
      },
      onError: (e) => errors.push(e),
    });
    try {
      await until('the first batch', 5000, async () => killed !== undefined);
      await killed;
      await node.restart();
      await until('all 2500 events', 10_000, async () => events.length >= 2500);
      await sleep(100);
      const revs = events.map((e) => e.entry.modRevision);
      assert.equal(revs.length, 2500, 'no duplicates');
      assert.equal(new Set(revs).size, 2500);
      assert.deepEqual(revs, [...revs].sort((a, b) => a - b));
      assert.deepEqual(errors, []);
    } finally {
      await watch.cancel();
    }
  });

  test('a watch from a compacted revision fails with onError', async () => {
    let rev = 0;
    for (let i = 0; i < 5; i++) rev = (await kv.txn([], [put('c/k', String(i))])).revision;
    await kv.compact(rev);
    const w = await collect(kv, 'c/', 1);
    await until('the compaction error', 3000, async () => w.errors.length > 0);
    assert.match(w.errors[0]!.message, /compact/i);
    await w.watch.cancel();
  });
});
