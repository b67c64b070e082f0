/**
 * Faults with real sockets and processes: every mode of the TCP fault proxy
 * against an echo server, ringcache's client through the proxy to a real node,
 * and the fault injector pausing, killing and restarting a real node at set
 * times, with each fault undone and recorded.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { RingCache, TimeoutError } from '../../src/client/index.js';
import { FaultProxy } from '../../src/scenario/fault-proxy.js';
import { FaultInjector } from '../../src/scenario/faults.js';
import { StaticCluster } from '../../src/scenario/static-cluster.js';
import { call } from '../../src/scenario/resp-call.js';

const HOST = '127.0.0.1';

/** An echo server that counts the connections it accepted. */
async function echoServer(): Promise<{ port: number; accepted(): number; close(): Promise<void> }> {
  let accepted = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    accepted++;
    sockets.add(s);
    s.on('data', (d) => s.write(d));
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    accepted: () => accepted,
    close: () => new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

/** A client connection that collects what it receives and how it ended. */
async function connect(port: number): Promise<{ socket: net.Socket; received(): string; ended(): string | null; roundTrip(text: string, timeoutMs: number): Promise<number | null> }> {
  const socket = net.connect(port, HOST);
  let data = '';
  let end: string | null = null;
  socket.on('data', (d: Buffer) => (data += d.toString()));
  socket.on('error', (err: NodeJS.ErrnoException) => (end = err.code ?? err.message));
  socket.on('close', () => (end ??= 'closed'));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return {
    socket,
    received: () => data,
    ended: () => end,
    async roundTrip(text, timeoutMs) {
      const before = data.length;
      const t0 = performance.now();
      socket.write(text);
      while (performance.now() - t0 < timeoutMs) {
        if (data.length - before >= text.length) return performance.now() - t0;
        if (end !== null) return null;
        await new Promise((r) => setTimeout(r, 5));
      }
      return null;
    },
  };
}

const waitUntil = async (check: () => boolean, timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs;
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  return check();
};

describe('fault proxy', () => {
  let echo: Awaited<ReturnType<typeof echoServer>>;
  let proxy: FaultProxy;
  before(async () => {
    echo = await echoServer();
    proxy = new FaultProxy({ host: HOST, port: echo.port });
    await proxy.listen();
  });
  after(async () => {
    await proxy.stop();
    await echo.close();
  });

  test('pass forwards both ways', async () => {
    proxy.setMode({ kind: 'pass' });
    const c = await connect(Number(proxy.address.split(':')[1]));
    assert.notEqual(await c.roundTrip('hello', 1000), null);
    assert.equal(c.received(), 'hello');
    c.socket.destroy();
  });

  test('delay holds every chunk for the delay, in order, and pass ends it', async () => {
    const c = await connect(Number(proxy.address.split(':')[1]));
    proxy.setMode({ kind: 'delay', ms: 150 });
    const slow = await c.roundTrip('a'.repeat(10), 2000);
    assert.ok(slow !== null && slow >= 290, `round trip ${slow} ms through 150 ms each way`);
    c.socket.write('1');
    c.socket.write('2');
    proxy.setMode({ kind: 'pass' });
    c.socket.write('3'); // sent in pass mode, still after the delayed ones
    assert.ok(await waitUntil(() => c.received().endsWith('123'), 2000), c.received());
    const fast = await c.roundTrip('b', 1000);
    assert.ok(fast !== null && fast < 100, `round trip ${fast} ms after the delay ended`);
    c.socket.destroy();
  });

  test('drop discards bytes; a connection that lost bytes is reset when it ends, new ones work', async () => {
    const c = await connect(Number(proxy.address.split(':')[1]));
    proxy.setMode({ kind: 'drop' });
    assert.equal(await c.roundTrip('lost', 300), null);
    const droppedBefore = proxy.stats().bytesDropped;
    assert.ok(droppedBefore >= 4);
    proxy.setMode({ kind: 'pass' });
    assert.ok(await waitUntil(() => c.ended() !== null, 1000), 'the cut connection was closed');
    const fresh = await connect(Number(proxy.address.split(':')[1]));
    assert.notEqual(await fresh.roundTrip('ok', 1000), null);
    fresh.socket.destroy();
  });

  test('blackhole accepts but never reaches the node; untouched connections go through once it ends', async () => {
    proxy.setMode({ kind: 'blackhole' });
    const accepted = echo.accepted();
    const quiet = await connect(Number(proxy.address.split(':')[1]));
    const talker = await connect(Number(proxy.address.split(':')[1]));
    assert.equal(await talker.roundTrip('anyone?', 300), null);
    assert.equal(echo.accepted(), accepted, 'no connection was opened to the node');
    proxy.setMode({ kind: 'pass' });
    assert.ok(await waitUntil(() => talker.ended() !== null, 1000), 'the connection that lost bytes was reset');
    assert.notEqual(await quiet.roundTrip('now', 1000), null, 'the quiet connection works after the blackhole');
    assert.equal(echo.accepted(), accepted + 1);
    quiet.socket.destroy();
  });

  test('reset sends RST on existing connections and resets new ones', async () => {
    proxy.setMode({ kind: 'pass' });
    const c = await connect(Number(proxy.address.split(':')[1]));
    assert.notEqual(await c.roundTrip('x', 1000), null);
    proxy.setMode({ kind: 'reset' });
    assert.ok(await waitUntil(() => c.ended() !== null, 1000));
    assert.equal(c.ended(), 'ECONNRESET');
    const late = net.connect(Number(proxy.address.split(':')[1]), HOST);
    const how = await new Promise<string>((resolve) => {
      late.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
      late.once('close', () => resolve('closed'));
    });
    assert.match(how, /ECONNRESET|closed/);
    proxy.setMode({ kind: 'pass' });
  });
});

describe('faults on a real node', () => {
  let node: StaticCluster;
  before(async () => {
    node = new StaticCluster({ nodes: 1, standalone: true });
    await node.start();
  });
  after(() => node.stop());

  test("ringcache's client through the proxy: served, timed out in a blackhole, served again", async () => {
    const n = node.nodes()[0]!;
    const proxy = new FaultProxy({ host: n.host, port: n.port });
    await proxy.listen();
    const cache = new RingCache({ seeds: [proxy.address], commandTimeoutMs: 300 });
    try {
      assert.equal(await cache.set('through', 'proxy'), true);
      proxy.setMode({ kind: 'blackhole' });
      await assert.rejects(cache.get('through'), TimeoutError);
      proxy.setMode({ kind: 'pass' });
      let value: string | null | undefined;
      for (let i = 0; i < 20 && value === undefined; i++) value = await cache.get('through').catch(() => undefined);
      assert.equal(value, 'proxy');
    } finally {
      await cache.close();
      await proxy.stop();
    }
  });

  test('the injector pauses, kills and restarts at set times, undoes each and records it', async () => {
    const t0 = performance.now();
    const now = () => performance.now() - t0;
    const id = node.nodes()[0]!.id;
    const injector = new FaultInjector(node, now);
    injector.schedule([
      { kind: 'pause', node: 0, at: 100, duration: 600 },
      { kind: 'kill9', node: id, at: 900, restartAfter: 300 },
      { kind: 'add-node', at: 50 },
    ]);
    await new Promise((r) => setTimeout(r, 250));
    assert.equal(node.nodes()[0]!.state, 'paused');
    await assert.rejects(call(node.nodes()[0]!.host, node.nodes()[0]!.port, ['PING'], 150), /no reply/, 'a paused node does not answer');
    await injector.settle(15_000);
    const [pause, kill, add] = injector.records();
    // Node's timers may fire a millisecond early against performance.now(): 5 ms of slack.
    assert.ok(pause!.start! >= 95 && pause!.end! >= pause!.start! + 595, JSON.stringify(pause));
    assert.equal(pause!.error, null);
    assert.equal(pause!.node, id);
    assert.ok(kill!.start! >= 895 && kill!.undoStartedAt! >= kill!.start! + 295 && kill!.end! > kill!.undoStartedAt!, JSON.stringify(kill));
    assert.equal(kill!.label, `kill -9 ${id}, restart after 0.3 s`);
    assert.match(add!.error ?? '', /not supported by static membership/);
    assert.equal(node.nodes()[0]!.state, 'running');
    assert.equal(await call(node.nodes()[0]!.host, node.nodes()[0]!.port, ['PING'], 1000), 'PONG');
    const windows = injector.windows();
    assert.deepEqual(windows.map((w) => w.id), ['f1', 'f2', 'f3']);
  });

  test('a proxy fault switches the proxy in front of the node for its duration, then back to pass', async () => {
    const n = node.nodes()[0]!;
    const proxy = new FaultProxy({ host: n.host, port: n.port });
    await proxy.listen();
    const t0 = performance.now();
    const injector = new FaultInjector(node, () => performance.now() - t0, new Map([[n.id, proxy]]));
    try {
      injector.schedule([{ kind: 'proxy', node: 0, at: 50, duration: 300, mode: { kind: 'delay', ms: 100 } }, { kind: 'proxy', node: 0, at: 500, duration: 100, mode: { kind: 'reset' } }]);
      await waitUntil(() => proxy.mode.kind === 'delay', 2000);
      const [host, port] = proxy.address.split(':');
      const t = performance.now();
      assert.equal(await call(host!, Number(port), ['PING'], 2000), 'PONG');
      assert.ok(performance.now() - t >= 190, 'delayed both ways');
      await injector.settle(5000);
      assert.equal(proxy.mode.kind, 'pass');
      const records = injector.records();
      assert.deepEqual(records.map((r) => [r.label, r.error]), [[`proxy delay 100 ms in front of ${n.id} for 0.3 s`, null], [`proxy reset in front of ${n.id} for 0.1 s`, null]]);
      assert.ok(records.every((r) => r.end! - r.start! >= 95));
    } finally {
      await proxy.stop();
    }
  });

  test('abort cancels planned faults and resumes a paused node', async () => {
    const t0 = performance.now();
    const injector = new FaultInjector(node, () => performance.now() - t0);
    injector.schedule([{ kind: 'pause', node: 0, at: 0, duration: 60_000 }, { kind: 'kill9', node: 0, at: 5000 }]);
    await waitUntil(() => node.nodes()[0]!.state === 'paused', 2000);
    await injector.abort();
    assert.equal(node.nodes()[0]!.state, 'running');
    assert.equal(await call(node.nodes()[0]!.host, node.nodes()[0]!.port, ['PING'], 1000), 'PONG');
    assert.equal(injector.records()[1]!.start, null, 'the kill never happened');
  });
});
