/**
 * Connection (pipelining, reply matching, timeouts, bounded queue, failures)
 * over an in-memory transport, and getOrSet's lease protocol over an in-memory
 * store with a fake clock: several CacheAside instances stand for processes.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, test } from 'node:test';
import { CacheAside, encodeEnvelope, type CacheStore } from '../../src/client/cache-aside.js';
import { Connection, type Transport } from '../../src/client/connection.js';
import { ConnectionClosedError, LoaderError, QueueFullError, TimeoutError } from '../../src/client/errors.js';
import { jsonSerializer } from '../../src/client/serializer.js';

class FakeTransport extends EventEmitter implements Transport {
  writes: string[] = [];
  destroyed = false;
  write(data: string | Buffer): boolean {
    this.writes.push(data.toString());
    return true;
  }
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    queueMicrotask(() => this.emit('close'));
  }
  reply(text: string): void {
    this.emit('data', Buffer.from(text));
  }
}

function open(options: { maxQueue?: number; connect?: boolean } = {}): { conn: Connection; t: FakeTransport; closed: Error[] } {
  const t = new FakeTransport();
  const closed: Error[] = [];
  const conn = new Connection({ host: 'h', port: 1, maxQueue: options.maxQueue ?? 100, connectTimeoutMs: 1000, connector: () => t, onClose: (e) => closed.push(e) });
  if (options.connect !== false) t.emit('connect');
  return { conn, t, closed };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('Connection', () => {
  test('commands of one tick go out in one write; replies resolve in order', async () => {
    const { conn, t } = open();
    const p = [conn.send(['GET', 'a'], 1000), conn.send(['GET', 'b'], 1000), conn.send(['INCR', 'c'], 1000)];
    await tick();
    assert.deepEqual(t.writes, ['*2\r\n$3\r\nGET\r\n$1\r\na\r\n*2\r\n$3\r\nGET\r\n$1\r\nb\r\n*2\r\n$4\r\nINCR\r\n$1\r\nc\r\n']);
    t.reply('$1\r\nA\r\n$-1\r\n:');
    t.reply('7\r\n');
    const [a, b, c] = await Promise.all(p);
    assert.deepEqual([String(a), b, c], ['A', null, 7]);
    conn.send(['PING'], 1000).catch(() => {});
    await tick();
    assert.equal(t.writes.length, 2, 'a later tick is a second write');
    conn.close();
  });

  test('commands sent before the connection is up are written once it is', async () => {
    const { conn, t } = open({ connect: false });
    const p = conn.send(['PING'], 1000);
    await tick();
    assert.equal(t.writes.length, 0);
    t.emit('connect');
    assert.equal(t.writes.length, 1);
    t.reply('+PONG\r\n');
    assert.equal(await p, 'PONG');
    conn.close();
  });

  test('a command past its timeout rejects with TimeoutError; a late reply goes to it, not to the next one', async () => {
    const { conn, t } = open();
    const slow = conn.send(['GET', 'slow'], 30);
    await tick();
    t.reply('$4\r\ns'); // the node is alive, just slow: part of the reply arrives
    await assert.rejects(slow, TimeoutError);
    assert.equal(conn.closed, false);
    const next = conn.send(['GET', 'next'], 1000);
    t.reply('low\r\n$4\r\nnext\r\n');
    assert.equal(String(await next), 'next');
    conn.close();
  });

  test('a connection that answers nothing is dropped after timing commands out', async () => {
    const { conn, closed } = open();
    await assert.rejects(conn.send(['GET', 'x'], 30), TimeoutError);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(conn.closed, true);
    assert.match(closed[0]!.message, /stopped answering/);
  });

  test('the queue is bounded', async () => {
    const { conn } = open({ maxQueue: 2 });
    const a = conn.send(['GET', 'a'], 1000);
    const b = conn.send(['GET', 'b'], 1000);
    await assert.rejects(conn.send(['GET', 'c'], 1000), QueueFullError);
    conn.close();
    await Promise.allSettled([a, b]);
  });

  test('a lost connection rejects waiting commands with ConnectionClosedError, saying whether they were written', async () => {
    const { conn, t, closed } = open();
    const written = conn.send(['GET', 'a'], 1000);
    await tick();
    const unwritten = conn.send(['GET', 'b'], 1000);
    t.emit('error', new Error('ECONNRESET'));
    await assert.rejects(written, (e: unknown) => e instanceof ConnectionClosedError && e.written && e.node === 'h:1');
    await assert.rejects(unwritten, (e: unknown) => e instanceof ConnectionClosedError && !e.written);
    await assert.rejects(conn.send(['GET', 'c'], 1000), ConnectionClosedError);
    assert.equal(closed.length, 1);
    assert.equal(t.destroyed, true);
  });
});

/** An in-memory CacheStore with expiry on a fake clock, shared by several CacheAside "processes". */
class MemoryStore implements CacheStore {
  data = new Map<string, { value: Buffer; expiresAt: number }>();
  constructor(private readonly clock: { now: number }) {}
  private read(key: string): Buffer | null {
    const e = this.data.get(key);
    if (e === undefined || e.expiresAt <= this.clock.now) return null;
    return e.value;
  }
  async get(key: string) {
    return this.read(key);
  }
  async set(key: string, value: Buffer, ttlMs: number) {
    this.data.set(key, { value, expiresAt: this.clock.now + ttlMs });
  }
  async tryLease(lease: string, token: string, leaseMs: number, key: string) {
    const acquired = this.read(lease) === null;
    if (acquired) this.data.set(lease, { value: Buffer.from(token), expiresAt: this.clock.now + leaseMs });
    return { acquired, value: this.read(key) };
  }
  async poll(lease: string, key: string, failure: string): Promise<[Buffer | null, Buffer | null, Buffer | null]> {
    return [this.read(lease), this.read(key), this.read(failure)];
  }
  async release(lease: string, token: string) {
    if (this.read(lease)?.toString() === token) this.data.delete(lease);
  }
  async setFailure(failure: string, token: string, message: string, ttlMs: number) {
    this.data.set(failure, { value: Buffer.from(`${token}\n${message}`), expiresAt: this.clock.now + ttlMs });
  }
}

/** A fake clock whose sleep advances time, so waits take no real time. */
function world() {
  const clock = { now: 1_000_000 };
  const store = new MemoryStore(clock);
  const sleep = async (ms: number) => {
    clock.now += ms;
    await tick();
  };
  const instance = (owner: string) => new CacheAside({ store, serializer: jsonSerializer, now: () => clock.now, sleep, owner });
  return { clock, store, instance };
}

describe('CacheAside lease protocol (fake clock, in-memory store)', () => {
  test('three "processes": the loader runs once, the others read its value', async () => {
    const { instance } = world();
    let runs = 0;
    const loader = async () => {
      runs++;
      await tick();
      await tick();
      return 'v';
    };
    const got = await Promise.all(['p1', 'p2', 'p3'].flatMap((p) => Array.from({ length: 5 }, () => instance(p).getOrSet('k', loader, { ttl: 1000 }))));
    assert.deepEqual(new Set(got), new Set(['v']));
    assert.equal(runs, 1);
  });

  test('a failing loader: waiters of other processes get LoaderError with its message; new callers load again', async () => {
    const { instance, store } = world();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const a = instance('a').getOrSet('k', async () => {
      await gate;
      throw new Error('db down');
    }, { ttl: 1000 });
    await tick();
    const b = instance('b').getOrSet('k', async () => 'never', { ttl: 1000 });
    await tick();
    await tick();
    release();
    await assert.rejects(a, /db down/);
    await assert.rejects(b, (e: unknown) => e instanceof LoaderError && e.message === 'db down');
    assert.equal(await store.get('{k}:rc-lease'), null, 'lease released');
    assert.equal(await instance('c').getOrSet('k', async () => 'ok', { ttl: 1000 }), 'ok');
  });

  test('waiting is bounded by waitMs; an expired lease is taken over', async () => {
    const { instance, store, clock } = world();
    await store.set('{k}:rc-lease', Buffer.from('ghost'), 5000);
    const t0 = clock.now;
    await assert.rejects(instance('a').getOrSet('k', async () => 'x', { ttl: 1000, waitMs: 300 }), TimeoutError);
    assert.ok(clock.now - t0 >= 300 && clock.now - t0 < 400);
    assert.equal(await instance('a').getOrSet('k', async () => 'mine', { ttl: 1000, waitMs: 10_000 }), 'mine', 'after the ghost lease expired');
    assert.ok(clock.now - t0 >= 5000);
  });

  test('staleWhileRevalidate: stale value at once, one background refresh, hard TTL = ttl + swr', async () => {
    const { instance, store, clock } = world();
    const p = instance('a');
    let v = 0;
    const loader = async () => ++v;
    const opts = { ttl: 100, staleWhileRevalidate: 1000 };
    assert.equal(await p.getOrSet('k', loader, opts), 1);
    assert.equal(store.data.get('k')!.expiresAt - clock.now, 1100);
    clock.now += 150;
    const both = await Promise.all([p.getOrSet('k', loader, opts), instance('b').getOrSet('k', loader, opts)]);
    assert.deepEqual(both, [1, 1], 'stale value in both processes');
    for (let i = 0; i < 5; i++) await tick();
    assert.equal(v, 2, 'one refresh');
    assert.equal(await p.getOrSet('k', loader, opts), 2);
    clock.now += 2000;
    assert.equal(await p.getOrSet('k', loader, opts), 3, 'past the hard TTL: a plain miss');
  });

  test('a value stored without an envelope (plain set) is fresh', async () => {
    const { instance, store } = world();
    await store.set('k', Buffer.from('"plain"'), 1000);
    assert.equal(await instance('a').getOrSet('k', async () => 'loaded', { ttl: 1000 }), 'plain');
    await store.set('j', encodeEnvelope(0, '"old"'), 1000);
    assert.equal(await instance('a').getOrSet('j', async () => 'new', { ttl: 1000 }), 'old', 'stale is still returned');
  });
});
