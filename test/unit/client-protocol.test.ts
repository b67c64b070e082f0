/**
 * The client's pure parts: RESP encoding and streaming decoding, topology
 * parsing, redirect parsing and backoff, companion (lease) keys, the
 * staleWhileRevalidate envelope, the deque and singleflight.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { decodeEnvelope, encodeEnvelope } from '../../src/client/cache-aside.js';
import { Deque } from '../../src/client/deque.js';
import { ReplyError } from '../../src/client/errors.js';
import { companionKey, slotOf, tagForSlot } from '../../src/client/lease-key.js';
import { backoffDelay, parseRedirect } from '../../src/client/redirect.js';
import { encodeCommand, ReplyDecoder, type Reply } from '../../src/client/resp.js';
import { Singleflight } from '../../src/client/singleflight.js';
import { parseAddress, parseClusterShards, parseClusterSlots, sameRouting, standaloneTopology, UNASSIGNED } from '../../src/client/topology.js';
import { keySlot as referenceSlot } from '../helpers/cluster.js';

function decodeAll(chunks: Buffer[]): Reply[] {
  const out: Reply[] = [];
  const d = new ReplyDecoder((r) => out.push(r));
  for (const c of chunks) d.feed(c);
  assert.equal(d.pending, 0, 'no bytes left over');
  return out;
}

describe('RESP', () => {
  test('encodeCommand: strings and numbers as one string, Buffers as bytes', () => {
    assert.equal(encodeCommand(['SET', 'k', 'é', 5]), '*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\né\r\n$1\r\n5\r\n');
    const b = encodeCommand(['SET', 'k', Buffer.from([0, 13, 10])]);
    assert.ok(Buffer.isBuffer(b));
    assert.deepEqual(b, Buffer.concat([Buffer.from('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\n'), Buffer.from([0, 13, 10]), Buffer.from('\r\n')]));
  });

  const stream = Buffer.from(
    '+OK\r\n-ERR bad thing\r\n:-42\r\n$5\r\nhe\r\nl\r\n$-1\r\n*3\r\n:1\r\n*0\r\n$0\r\n\r\n*-1\r\n' +
      '_\r\n#t\r\n,1.5\r\n(12345678901234567890\r\n%1\r\n+a\r\n:1\r\n~1\r\n+x\r\n=8\r\ntxt:abcd\r\n!3\r\nBAD\r\n',
  );
  const expected: unknown[] = ['OK', 'ERR bad thing', -42, 'he\r\nl', null, [1, [], ''], null, null, true, 1.5, 12345678901234567890n, ['a', 1], ['x'], 'abcd', 'BAD'];
  const plain = (r: Reply): unknown => (Buffer.isBuffer(r) ? r.toString() : r instanceof ReplyError ? r.message : Array.isArray(r) ? r.map(plain) : r);

  test('decodes every RESP2 and RESP3 type, whole or split at every byte', () => {
    assert.deepEqual(decodeAll([stream]).map(plain), expected);
    assert.deepEqual(decodeAll([...stream].map((b) => Buffer.from([b]))).map(plain), expected);
    const errs = decodeAll([stream]).filter((r) => r instanceof ReplyError) as ReplyError[];
    assert.deepEqual(errs.map((e) => e.prefix), ['ERR', 'BAD']);
  });

  test('split at any two points (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: stream.length }), fc.integer({ min: 0, max: stream.length }), (a, b) => {
        const [x, y] = a < b ? [a, b] : [b, a];
        assert.deepEqual(decodeAll([stream.subarray(0, x), stream.subarray(x, y), stream.subarray(y)]).map(plain), expected);
      }),
    );
  });

  test('a 1 MB reply in 64 KiB chunks is decoded once, correctly', () => {
    const n = 20_000;
    const text = `*${n}\r\n` + Array.from({ length: n }, (_, i) => `*3\r\n:${i}\r\n:${i}\r\n*3\r\n$9\r\n127.0.0.1\r\n:7000\r\n$40\r\n${'a'.repeat(40)}\r\n`).join('');
    const buf = Buffer.from(text);
    assert.ok(buf.length > 1_000_000);
    const chunks: Buffer[] = [];
    for (let i = 0; i < buf.length; i += 65536) chunks.push(buf.subarray(i, i + 65536));
    const t0 = performance.now();
    const [reply] = decodeAll(chunks) as Reply[][];
    assert.ok(performance.now() - t0 < 2000, 'linear, not a decode per chunk');
    assert.equal(reply!.length, n);
    assert.deepEqual((reply![n - 1] as Reply[]).slice(0, 2), [n - 1, n - 1]);
  });

  test('a large reply split into chunks of any sizes, followed by more replies (property)', () => {
    const big = `*600\r\n` + Array.from({ length: 600 }, (_, i) => `*2\r\n$${String(i).length + 30}\r\n${'b'.repeat(30)}${i}\r\n:${i}\r\n`).join('');
    const all = Buffer.from(big + '+after\r\n$3\r\nend\r\n');
    assert.ok(all.length > 20_000, 'large enough for the resumable frame scan');
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 3000 }), { minLength: 1, maxLength: 60 }), (sizes) => {
        const chunks: Buffer[] = [];
        let at = 0;
        for (let i = 0; at < all.length; i++) {
          const n = sizes[i % sizes.length]!;
          chunks.push(all.subarray(at, at + n));
          at += n;
        }
        const out = decodeAll(chunks);
        assert.equal(out.length, 3);
        assert.deepEqual((out[0] as Reply[])[599], [Buffer.from(`${'b'.repeat(30)}599`), 599]);
        assert.deepEqual(out.slice(1).map(plain), ['after', 'end']);
      }),
      { numRuns: 200 },
    );
  });

  test('garbage is a protocol error', () => {
    assert.throws(() => decodeAll([Buffer.from('?what\r\n')]), /protocol error/);
  });
});

describe('topology', () => {
  const self = { host: '10.0.0.9', port: 7000 };
  test('CLUSTER SLOTS: many short ranges per node become a 16384-entry table', () => {
    const b = (s: string) => Buffer.from(s);
    const reply: Reply = [];
    for (let s = 0; s < 16384; s += 4) {
      const port = 7000 + ((s / 4) % 3);
      reply.push([s, s + 3, [b('127.0.0.1'), port, b(`id${port}`)]]);
    }
    const t = parseClusterSlots(reply, self);
    assert.equal(t.shards.length, 3);
    assert.equal(t.shards[t.slots[0]!]!.primary.port, 7000);
    assert.equal(t.shards[t.slots[4]!]!.primary.port, 7001);
    assert.equal(t.shards[t.slots[16383]!]!.primary.port, 7000 + (4095 % 3));
    assert.equal(t.slots.indexOf(UNASSIGNED), -1);
    // An empty host means the node that answered.
    const own = parseClusterSlots([[0, 16383, [b(''), 7000, b('x')]]], self);
    assert.equal(own.shards[0]!.primary.host, '10.0.0.9');
    assert.throws(() => parseClusterSlots([[0, 16384, [b('h'), 1, b('x')]]], self), /invalid slot range/);
    assert.throws(() => parseClusterSlots(b('x'), self), /array/);
  });

  test('CLUSTER SHARDS: slots, primary, replicas; unlisted slots are unassigned', () => {
    const b = (s: string) => Buffer.from(s);
    const node = (port: number, role: string) => [b('id'), b(`n${port}`), b('port'), port, b('ip'), b('127.0.0.1'), b('endpoint'), b('127.0.0.1'), b('role'), b(role), b('health'), b('online')];
    const t = parseClusterShards(
      [
        [b('slots'), [0, 99, 200, 299], b('nodes'), [node(7001, 'replica'), node(7000, 'master')]],
        [b('slots'), [100, 199], b('nodes'), [node(7002, 'master')]],
      ],
      self,
    );
    assert.equal(t.shards.length, 2);
    assert.equal(t.shards[t.slots[250]!]!.primary.port, 7000);
    assert.deepEqual(t.shards[0]!.replicas.map((r) => r.port), [7001]);
    assert.equal(t.shards[t.slots[150]!]!.primary.port, 7002);
    assert.equal(t.slots[300], UNASSIGNED);
    assert.equal(sameRouting(t, t), true);
    assert.equal(sameRouting(t, standaloneTopology(self)), false);
    assert.throws(() => parseClusterShards([[b('slots'), [0, 1], b('nodes'), [node(7001, 'replica')]]], self), /no primary/);
  });

  test('standalone: one node, every slot', () => {
    const t = standaloneTopology(self);
    assert.equal(t.slots.length, 16384);
    assert.ok(t.slots.every((s) => s === 0));
  });

  test('addresses', () => {
    assert.deepEqual(parseAddress('127.0.0.1:7000'), { host: '127.0.0.1', port: 7000 });
    assert.deepEqual(parseAddress('[::1]:7000'), { host: '::1', port: 7000 });
    for (const bad of ['127.0.0.1', ':7000', 'h:0', 'h:70000', 'h:x']) assert.throws(() => parseAddress(bad), /invalid node address/);
  });
});

describe('redirects, backoff, lease keys, envelopes', () => {
  test('MOVED and ASK are parsed; other errors are not redirects', () => {
    assert.deepEqual(parseRedirect(new ReplyError('MOVED 3999 127.0.0.1:6381')), { kind: 'moved', slot: 3999, node: { host: '127.0.0.1', port: 6381 } });
    assert.deepEqual(parseRedirect(new ReplyError('ASK 1 :6380')), { kind: 'ask', slot: 1, node: { host: '', port: 6380 } });
    assert.equal(parseRedirect(new ReplyError('ERR MOVED 1 h:1')), undefined);
    assert.equal(parseRedirect(new ReplyError('MOVED garbage')), undefined);
  });

  test('backoff doubles up to the cap, with jitter between half and all of it', () => {
    assert.equal(backoffDelay(1, 20, 500, () => 0), 10);
    assert.equal(backoffDelay(1, 20, 500, () => 1), 20);
    assert.equal(backoffDelay(3, 20, 500, () => 1), 80);
    assert.equal(backoffDelay(10, 20, 500, () => 1), 500);
    assert.equal(backoffDelay(10, 20, 500, () => 0), 250);
  });

  test('slotOf matches the reference CRC16 for text (UTF-8) and bytes', () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme' }), (k) => assert.equal(slotOf(k), referenceSlot(Buffer.from(k)))));
    fc.assert(fc.property(fc.uint8Array(), (k) => assert.equal(slotOf(Buffer.from(k)), referenceSlot(Buffer.from(k)))));
  });

  test('companion keys are always in the key\'s slot (property), and keep its tag', () => {
    assert.equal(companionKey('{user:1}:profile', ':rc-lease'), '{user:1}:profile:rc-lease');
    assert.equal(companionKey('plain', ':rc-lease'), '{plain}:rc-lease');
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', 'b', '{', '}', 'é', ':') }), (k) => {
        assert.equal(slotOf(companionKey(k, ':rc-lease')), slotOf(k));
      }),
      { numRuns: 2000 },
    );
    assert.equal(slotOf(tagForSlot(12345)), 12345);
  });

  test('the staleWhileRevalidate envelope round-trips; a plain value counts as fresh', () => {
    const env = encodeEnvelope(1234, '{"a":1}');
    assert.deepEqual(decodeEnvelope(env), { freshUntil: 1234, payload: Buffer.from('{"a":1}') });
    assert.deepEqual(decodeEnvelope(Buffer.from('plain')), { freshUntil: Infinity, payload: Buffer.from('plain') });
  });
});

describe('deque and singleflight', () => {
  test('Deque keeps FIFO order across growth', () => {
    const d = new Deque<number>();
    const model: number[] = [];
    for (let i = 0; i < 1000; i++) {
      d.push(i);
      model.push(i);
      if (i % 3 === 0) assert.equal(d.shift(), model.shift());
    }
    assert.equal(d.length, model.length);
    assert.equal(d.at(0), model[0]);
    assert.deepEqual(d.drain(), model);
    assert.equal(d.shift(), undefined);
  });

  test('Singleflight: concurrent calls share one run and its error; later calls run again', async () => {
    const sf = new Singleflight<number>();
    let runs = 0;
    const fn = async () => {
      runs++;
      await new Promise((r) => setTimeout(r, 10));
      return runs;
    };
    const all = await Promise.all(Array.from({ length: 10 }, () => sf.do('k', fn)));
    assert.deepEqual(all, Array(10).fill(1));
    assert.equal(sf.size, 0);
    assert.equal(await sf.do('k', fn), 2);
    const err = new Error('x');
    const failing = await Promise.allSettled([sf.do('e', () => Promise.reject(err)), sf.do('e', () => Promise.resolve(1))]);
    assert.deepEqual(failing.map((r) => (r.status === 'rejected' ? r.reason : r.value)), [err, err]);
    await assert.rejects(sf.do('sync', () => { throw err; }), err);
    assert.equal(sf.has('sync'), false, 'a synchronous throw does not leave the key stuck');
  });
});
