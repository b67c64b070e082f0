/**
 * MULTI/EXEC/WATCH through the real node process: ioredis's and node-redis's
 * multi() APIs (RESP2 and RESP3), WATCH conflicts caused by another
 * connection, EXEC's atomicity seen from a second client, and transactions in
 * a 3-node cluster (keys of other nodes' slots refused at queue time, never
 * half-run). The command-by-command comparison with Redis is in the
 * differential suite.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { createClient, WatchError } from 'redis';
import { startRingcache, type Running } from '../helpers/processes.js';
import { RawClient, encodeCommand, ReplyError, type Reply } from '../helpers/raw-client.js';
import { call, fetchOwners, keysOwnedBy, keySlot, startCluster, withRaw, type LocalCluster } from '../helpers/cluster.js';

const T = { timeout: 30_000 };
const text = (r: Reply): unknown => (Buffer.isBuffer(r) ? r.toString() : Array.isArray(r) ? r.map(text) : r instanceof ReplyError ? `-${r.message}` : r);

describe('transactions on one node', () => {
  let node: Running;
  const closers: Array<() => unknown> = [];

  before(async () => {
    node = await startRingcache();
  });
  after(async () => {
    for (const close of closers) await close();
    if (node) assert.equal(await node.stop(), 0, `ringcache did not exit cleanly:\n${node.output()}`);
  });

  const ioredis = async (protocol: 2 | 3): Promise<Redis> => {
    const r = new Redis({ host: '127.0.0.1', port: node.port, protocol, lazyConnect: true, maxRetriesPerRequest: 0 });
    await r.connect();
    closers.push(() => r.disconnect());
    return r;
  };
  const nodeRedis = async (RESP: 2 | 3) => {
    const c = createClient({ socket: { host: '127.0.0.1', port: node.port, reconnectStrategy: false }, RESP });
    await c.connect();
    closers.push(() => c.destroy());
    return c;
  };
  const raw = async (): Promise<RawClient> => {
    const c = await RawClient.connect(node.port);
    closers.push(() => c.close());
    return c;
  };

  for (const resp of [2, 3] as const) {
    test(`ioredis RESP${resp}: multi().set().get().exec(), runtime errors per command, WATCH conflict from another connection`, T, async () => {
      const p = `io${resp}:`;
      const a = await ioredis(resp);
      const b = await ioredis(resp);
      assert.deepEqual(await a.multi().set(`${p}k`, 'v').get(`${p}k`).incr(`${p}n`).exec(), [[null, 'OK'], [null, 'v'], [null, 1]]);
      const mixed = await a.multi().set(`${p}s`, 'x').incr(`${p}s`).set(`${p}after`, '1').exec();
      assert.equal(mixed!.length, 3);
      assert.deepEqual(mixed![0], [null, 'OK']);
      assert.match(String((mixed![1]![0] as Error).message), /not an integer/);
      assert.deepEqual(mixed![2], [null, 'OK']);
      // An unknown command at queue time: ioredis rejects exec with EXECABORT; nothing ran.
      await assert.rejects(a.multi().set(`${p}never`, '1').call('NOSUCHCMD').exec(), /EXECABORT/);
      assert.equal(await a.exists(`${p}never`), 0);
      // WATCH, another client writes, EXEC answers a null array: ioredis resolves null.
      assert.equal(await a.watch(`${p}w`), 'OK');
      assert.equal(await b.set(`${p}w`, 'theirs'), 'OK');
      assert.equal(await a.multi().set(`${p}w`, 'mine').exec(), null);
      assert.equal(await a.get(`${p}w`), 'theirs');
      // Without a conflict the watched transaction runs.
      await a.watch(`${p}w`);
      assert.deepEqual(await a.multi().set(`${p}w`, 'mine').exec(), [[null, 'OK']]);
      assert.equal(await b.get(`${p}w`), 'mine');
    });

    test(`node-redis RESP${resp}: multi().set().get().exec(), WatchError on a conflict from another connection`, T, async () => {
      const p = `nr${resp}:`;
      const a = await nodeRedis(resp);
      const b = await nodeRedis(resp);
      assert.deepEqual(await a.multi().set(`${p}k`, 'v').get(`${p}k`).incr(`${p}n`).exec(), ['OK', 'v', 1]);
      await a.watch(`${p}w`);
      await b.expire(`${p}k`, 100); // another key: no conflict
      assert.deepEqual(await a.multi().set(`${p}w`, '1').exec(), ['OK']);
      await a.watch(`${p}w`);
      await b.del(`${p}w`);
      await assert.rejects(a.multi().set(`${p}w`, '2').exec(), WatchError);
      assert.equal(await a.get(`${p}w`), null);
    });
  }

  test('queued commands run only at EXEC: another client sees nothing before it', T, async () => {
    const a = await raw();
    const b = await raw();
    assert.equal(await a.call('MULTI'), 'OK');
    assert.equal(await a.call('SET', 'q:k', '1'), 'QUEUED');
    assert.equal(await b.call('GET', 'q:k'), null);
    assert.deepEqual(text(await a.call('EXEC')), ['OK']);
    assert.equal(text(await b.call('GET', 'q:k')), '1');
  });

  test('EXEC is atomic: a second client reads the counters all before or all after', T, async () => {
    const a = await raw();
    const b = await raw();
    const N = 2000;
    const cmds = [encodeCommand(['MULTI'])];
    for (let i = 0; i < N; i++) cmds.push(encodeCommand(['INCR', `at:${i % 10}`]));
    cmds.push(encodeCommand(['EXEC']));
    a.write(Buffer.concat(cmds));
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const r = text(await b.call('MGET', ...Array.from({ length: 10 }, (_, j) => `at:${j}`))) as Array<string | null>;
      seen.add(JSON.stringify(r));
    }
    const replies = await a.read(N + 2, 20_000);
    assert.equal((replies.at(-1) as unknown[]).length, N);
    for (const s of seen) {
      const values = JSON.parse(s) as Array<string | null>;
      assert.ok(values.every((v) => v === null) || values.every((v) => v === String(N / 10)), `a half-run transaction was visible: ${s}`);
    }
  });

  test('WATCH: a key expiring, renamed or flushed by another client fails EXEC; a closed watcher leaves no trace', T, async () => {
    const a = await raw();
    const b = await raw();
    await a.call('SET', 'wx:t', '1', 'PX', '100');
    await a.call('WATCH', 'wx:t');
    await new Promise((r) => setTimeout(r, 200));
    await a.call('MULTI');
    await a.call('PING');
    assert.equal(await a.call('EXEC'), null, 'expired since WATCH');
    for (const change of [['RENAME', 'wx:src', 'wx:dst'], ['FLUSHALL']]) {
      await a.call('SET', 'wx:src', '1');
      await a.call('WATCH', 'wx:dst');
      if (change[0] === 'FLUSHALL') await a.call('SET', 'wx:dst', '1');
      if (change[0] === 'FLUSHALL') await a.call('WATCH', 'wx:dst');
      await b.call(...change);
      await a.call('MULTI');
      await a.call('PING');
      assert.equal(await a.call('EXEC'), null, `${change[0]} of a watched key`);
    }
    // A client that closes while watching and in MULTI: its state goes with it.
    const c = await RawClient.connect(node.port);
    await c.call('WATCH', 'wx:gone');
    await c.call('MULTI');
    await c.call('SET', 'wx:gone', '1');
    c.close();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(await b.call('SET', 'wx:gone', '2'), 'OK');
    assert.equal(text(await b.call('GET', 'wx:gone')), '2');
    const list = text(await b.call('CLIENT', 'LIST')) as string;
    assert.doesNotMatch(list, /multi=[0-9]/, 'no client left in MULTI');
  });
});

describe('transactions in a 3-node cluster', () => {
  for (const proxy of [false, true]) {
    describe(proxy ? 'proxy mode' : 'redirect mode', () => {
      let cluster: LocalCluster;
      let owned: Map<number, string[]>;
      before(async () => {
        cluster = await startCluster(3, { proxy });
        owned = keysOwnedBy(await fetchOwners(cluster.ports[0]!), cluster.ports, `tx${proxy ? 'p' : 'r'}:`, 2);
      });
      after(async () => {
        await cluster?.stop();
      });

      test('one slot of this node: runs; another node\'s key: MOVED at queue time and EXECABORT, nothing runs', T, async () => {
        const [here, there] = [cluster.ports[0]!, cluster.ports[1]!];
        const local = owned.get(here)![0]!;
        const remote = owned.get(there)![0]!;
        await withRaw(here, async (c) => {
          assert.equal(await c.call('MULTI'), 'OK');
          assert.equal(await c.call('SET', `{${local}}a`, '1'), 'QUEUED');
          assert.equal(await c.call('INCR', `{${local}}b`), 'QUEUED');
          assert.deepEqual(text(await c.call('EXEC')), ['OK', 1]);

          assert.equal(await c.call('MULTI'), 'OK');
          assert.equal(await c.call('SET', local, 'half'), 'QUEUED');
          const moved = text(await c.call('SET', remote, 'x')) as string;
          assert.match(moved, new RegExp(`^-MOVED ${keySlot(remote)} `), 'never forwarded inside MULTI');
          assert.match(text(await c.call('MSET', `{${local}}a`, '1', remote, '2')) as string, /^-(CROSSSLOT|MOVED)/);
          assert.match(text(await c.call('EXEC')) as string, /^-EXECABORT/);
          // WATCH is never forwarded: the transaction it guards runs on this node.
          assert.match(text(await c.call('WATCH', remote)) as string, new RegExp(`^-MOVED ${keySlot(remote)} `));
          assert.equal(await c.call('WATCH', local), 'OK');
        });
        assert.equal(await call(here, 'GET', local), null, 'the local half did not run');
        assert.equal(await call(there, 'GET', remote), null, 'the remote half did not run');
      });

      test('queued commands over two slots of this node: EXEC answers CROSSSLOT and runs nothing', T, async () => {
        const here = cluster.ports[0]!;
        const [k1, k2] = owned.get(here)!;
        assert.notEqual(keySlot(k1!), keySlot(k2!));
        await withRaw(here, async (c) => {
          await c.call('MULTI');
          assert.equal(await c.call('SET', k1!, '1'), 'QUEUED');
          assert.equal(await c.call('SET', k2!, '1'), 'QUEUED');
          assert.match(text(await c.call('EXEC')) as string, /^-CROSSSLOT/);
          assert.match(text(await c.call('EXEC')) as string, /EXEC without MULTI/, 'the transaction was discarded');
        });
        for (const k of [k1!, k2!]) assert.equal(await call(here, 'EXISTS', k), 0);
      });
    });
  }
});
