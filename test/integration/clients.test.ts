/**
 * The real node process against real clients: ioredis and node-redis (each with
 * RESP2 and RESP3), redis-cli and redis-benchmark. What users actually run.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { connectClient, connectionErrors, type ClientKind, type Resp, type SimpleOp, type TestClient } from '../helpers/clients.js';
import { startRingcache, type Running } from '../helpers/processes.js';
import { RawClient, encodeCommand } from '../helpers/raw-client.js';
import { allBytes, infoFields, redisCli, runTool } from '../helpers/tools.js';

const T = { timeout: 20_000 };
const COMBOS: Array<[ClientKind, Resp]> = [
  ['ioredis', 2],
  ['ioredis', 3],
  ['node-redis', 2],
  ['node-redis', 3],
];

describe('real clients against a ringcache node', () => {
  let node: Running;
  const open: TestClient[] = [];
  const connect = async (kind: ClientKind, resp?: Resp): Promise<TestClient> => {
    const c = await connectClient(kind, node.port, { resp });
    open.push(c);
    return c;
  };

  before(async () => {
    node = await startRingcache();
  });
  after(async () => {
    for (const c of open) c.close();
    if (node) assert.equal(await node.stop(), 0, `ringcache did not exit cleanly:\n${node.output()}`);
  });

  for (const [kind, resp] of COMBOS) {
    describe(`${kind} with RESP${resp}`, () => {
      let c: TestClient;
      const p = `${kind}:${resp}:`;
      before(async () => {
        c = await connect(kind, resp);
      });

      test('connects and speaks the requested protocol (CLIENT INFO resp=)', T, async () => {
        const info = await c.clientInfo();
        assert.match(info, new RegExp(`\\bresp=${resp}\\b`), info);
      });

      test('set, get, incr, mset, mget, expire, ttl, del', T, async () => {
        assert.equal(await c.set(`${p}a`, 'hello'), 'OK');
        assert.equal(await c.get(`${p}a`), 'hello');
        assert.equal(await c.get(`${p}missing`), null);
        assert.equal(await c.incr(`${p}n`), 1);
        assert.equal(await c.incr(`${p}n`), 2);
        assert.equal(await c.mset({ [`${p}m1`]: 'x', [`${p}m2`]: 'y' }), 'OK');
        assert.deepEqual(await c.mget([`${p}m1`, `${p}missing`, `${p}m2`, `${p}n`]), ['x', null, 'y', '2']);
        assert.equal(await c.ttl(`${p}a`), -1);
        assert.equal(await c.expire(`${p}a`, 100), 1);
        const ttl = await c.ttl(`${p}a`);
        assert.ok(ttl > 95 && ttl <= 100, `ttl ${ttl}`);
        assert.equal(await c.expire(`${p}missing`, 100), 0);
        assert.equal(await c.ttl(`${p}missing`), -2);
        assert.equal(await c.del([`${p}a`, `${p}m1`, `${p}missing`]), 2);
        assert.equal(await c.get(`${p}a`), null);
      });

      test('SCAN iteration returns every matching key', T, async () => {
        const expected = Array.from({ length: 300 }, (_, i) => `${p}scan:${i}`);
        const pairs: Record<string, string> = {};
        for (const k of expected) pairs[k] = 'v';
        await c.mset(pairs);
        await c.set(`${p}other`, 'not matched');
        const { keys, calls } = await c.scanAll(`${p}scan:*`, 25);
        assert.deepEqual([...new Set(keys)].sort(), [...expected].sort());
        assert.ok(calls > 1, `a COUNT of 25 over 300 keys should take several calls, took ${calls}`);
      });

      test('pipeline of 3000 commands: every reply in order', T, async () => {
        const ops: SimpleOp[] = [];
        for (let i = 0; i < 1000; i++) ops.push(['set', `${p}pl:${i}`, String(i * 7)], ['incr', `${p}pl:${i}`], ['get', `${p}pl:${i}`]);
        const replies = await c.pipeline(ops);
        assert.equal(replies.length, 3000);
        for (let i = 0; i < 1000; i++) {
          assert.deepEqual(replies.slice(i * 3, i * 3 + 3), ['OK', i * 7 + 1, String(i * 7 + 1)], `replies for command group ${i}`);
        }
      });

      test('binary-safe values: every byte 0..255 round-trips', T, async () => {
        const value = allBytes();
        await c.set(`${p}bin`, value);
        const back = await c.getBuffer(`${p}bin`);
        assert.ok(Buffer.isBuffer(back), 'a Buffer reply');
        assert.ok(value.equals(back), 'the same bytes back');
        await c.set(`${p}empty`, Buffer.alloc(0));
        assert.equal((await c.getBuffer(`${p}empty`))?.length, 0);
      });

      test('a 5 MB value round-trips', T, async () => {
        const value = randomBytes(5 * 1024 * 1024);
        assert.equal(await c.set(`${p}large`, value), 'OK');
        const back = await c.getBuffer(`${p}large`);
        assert.equal(back?.length, value.length);
        assert.ok(value.equals(back!), 'the same 5 MB back');
      });
    });
  }

  test('INFO counts clients blocked in BLPOP and clients tracking keys, and forgets them when they leave', T, async () => {
    const clients = async () => infoFields(await redisCli(node.port, ['INFO', 'clients']).then((r) => r.stdout));
    const stats = async () => infoFields(await redisCli(node.port, ['INFO', 'stats']).then((r) => r.stdout));
    const [waiter, tracker] = await Promise.all([RawClient.connect(node.port), RawClient.connect(node.port)]);
    try {
      waiter.write(encodeCommand(['BLPOP', 'info:blocked', '0']));
      tracker.write(Buffer.concat([encodeCommand(['HELLO', '3']), encodeCommand(['CLIENT', 'TRACKING', 'ON']), encodeCommand(['GET', 'info:tracked'])]));
      await tracker.read(3, 5000);
      const during = await clients();
      assert.equal(during.get('blocked_clients'), '1');
      assert.equal(during.get('tracking_clients'), '1');
      assert.equal((await stats()).get('tracking_total_keys'), '1', 'the key the tracking client read');
      assert.equal((await redisCli(node.port, ['RPUSH', 'info:blocked', 'x'])).stdout.trim(), '1');
      await waiter.read(1, 5000);
      assert.equal((await clients()).get('blocked_clients'), '0', 'served, it waits no more');
    } finally {
      waiter.socket.destroy();
      tracker.socket.destroy();
    }
    const deadline = Date.now() + 5000;
    while ((await clients()).get('tracking_clients') !== '0' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal((await clients()).get('tracking_clients'), '0', 'a closed connection stops tracking');
  });

  test('both libraries default to RESP3 (HELLO 3)', T, async () => {
    for (const kind of ['ioredis', 'node-redis'] as const) {
      const c = await connect(kind);
      const info = await c.clientInfo();
      assert.match(info, /\bresp=3\b/, `${kind}: ${info}`);
      assert.equal(await c.incr('default:resp3'), kind === 'ioredis' ? 1 : 2);
    }
  });

  test('60 clients of both libraries in parallel', T, async () => {
    // Connected ten at a time (a loaded machine can starve 60 simultaneous handshakes), then all used at once.
    const clients: TestClient[] = [];
    for (let i = 0; i < 60; i += 10) {
      clients.push(...(await Promise.all(Array.from({ length: 10 }, (_, j) => connect(COMBOS[(i + j) % 4]![0], COMBOS[(i + j) % 4]![1])))));
    }
    await Promise.all(
      clients.map(async (c, i) => {
        for (let j = 0; j < 20; j++) await c.incr('parallel:counter');
        await c.set(`parallel:own:${i}`, `client ${i}`);
        assert.equal(await c.get(`parallel:own:${i}`), `client ${i}`);
      }),
    );
    assert.equal(await clients[0]!.get('parallel:counter'), String(60 * 20));
  });

  describe('redis-cli', () => {
    test('SET, GET and INFO as command-line arguments', T, async () => {
      assert.deepEqual(await redisCli(node.port, ['SET', 'cli:k', 'v']), { code: 0, stdout: 'OK\n', stderr: '' });
      assert.deepEqual(await redisCli(node.port, ['GET', 'cli:k']), { code: 0, stdout: 'v\n', stderr: '' });
      const info = await redisCli(node.port, ['INFO']);
      assert.equal(info.code, 0);
      const fields = infoFields(info.stdout);
      assert.match(fields.get('redis_version') ?? '', /^\d+\.\d+\.\d+$/);
      assert.match(fields.get('db0') ?? '', /^keys=\d+,expires=\d+/);
    });

    test('--raw prints bare values, --no-raw the typed, quoted form', T, async () => {
      await redisCli(node.port, ['SET', 'cli:nl', 'line1\nline2']);
      assert.equal((await redisCli(node.port, ['--raw', 'GET', 'cli:nl'])).stdout, 'line1\nline2\n');
      assert.equal((await redisCli(node.port, ['--no-raw', 'GET', 'cli:nl'])).stdout, '"line1\\nline2"\n');
      assert.equal((await redisCli(node.port, ['--raw', 'INCR', 'cli:ctr'])).stdout, '1\n');
      assert.equal((await redisCli(node.port, ['--no-raw', 'INCR', 'cli:ctr'])).stdout, '(integer) 2\n');
      assert.equal((await redisCli(node.port, ['--no-raw', 'GET', 'cli:none'])).stdout, '(nil)\n');
    });

    test('commands piped through stdin', T, async () => {
      const r = await redisCli(node.port, [], { input: 'SET cli:s 10\nINCRBY cli:s 5\nGET cli:s\nDEL cli:s\nGET cli:s\n' });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'OK\n15\n15\n1\n\n');
    });

    test('--pipe mass insertion of 10,000 keys', T, async () => {
      const n = 10_000;
      const input = Buffer.concat(Array.from({ length: n }, (_, i) => encodeCommand(['SET', `mass:${i}`, `value-${i}`])));
      const r = await redisCli(node.port, ['--pipe'], { input });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /errors: 0, replies: 10000\b/);
      const raw = await RawClient.connect(node.port);
      try {
        assert.equal(await raw.call('EXISTS', ...Array.from({ length: n }, (_, i) => `mass:${i}`)), n);
        assert.deepEqual(await raw.call('GET', 'mass:9999'), Buffer.from('value-9999'));
      } finally {
        raw.close();
      }
    });
  });

  test('redis-benchmark: set, get, incr, mset complete with a positive rate', { timeout: 40_000 }, async () => {
    const r = await runTool('redis-benchmark', ['-h', '127.0.0.1', '-p', String(node.port), '-n', '2000', '-c', '10', '-t', 'set,get,incr,mset', '--csv'], { timeoutMs: 35_000 });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const rates = new Map<string, number>();
    for (const line of r.stdout.split('\n')) {
      const m = /^"([^"]+)","([\d.]+)"/.exec(line);
      if (m) rates.set(m[1]!, Number(m[2]));
    }
    for (const name of ['SET', 'GET', 'INCR', 'MSET (10 keys)']) {
      const rps = rates.get(name);
      assert.ok(rps !== undefined && rps > 0, `${name}: ${rps} requests per second in\n${r.stdout}`);
    }
  });
});

describe('real clients against a node with --requirepass', () => {
  let node: Running;
  before(async () => {
    node = await startRingcache(['--requirepass', 's3cret pass']);
  });
  after(async () => {
    if (node) await node.stop();
  });

  for (const [kind, resp] of COMBOS) {
    test(`${kind} RESP${resp}: connects with the password, gets NOAUTH without it`, T, async () => {
      const c = await connectClient(kind, node.port, { resp, password: 's3cret pass' });
      try {
        await c.set(`auth:${kind}:${resp}`, 'ok');
        assert.equal(await c.get(`auth:${kind}:${resp}`), 'ok');
      } finally {
        c.close();
      }
      const errors = await connectionErrors(kind, node.port, resp);
      assert.ok(errors.some((m) => m.startsWith('NOAUTH')), `expected a NOAUTH error, saw ${JSON.stringify(errors)}`);
    });
  }

  test('redis-cli with -a works, without it gets NOAUTH', T, async () => {
    assert.equal((await redisCli(node.port, ['--no-auth-warning', '-a', 's3cret pass', 'PING'])).stdout, 'PONG\n');
    assert.match((await redisCli(node.port, ['PING'])).stdout, /^NOAUTH /);
  });
});
