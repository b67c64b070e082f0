/**
 * Blocking commands across clients, on ringcache and on redis-server side by
 * side: each scenario runs on both, and what every client saw must be the
 * same (wake-up order, multi-key waits, pipelined commands behind a blocked
 * one, timeouts, BLMOVE feeding another waiter, closed waiters, keys that
 * get data by RENAME, keys of another type).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startRedis, startRingcache, type Running } from '../helpers/processes.js';
import { RawClient, encodeCommand, type Reply } from '../helpers/raw-client.js';
import { show } from './differential-cases.js';

const servers: { redis?: Running; ringcache?: Running } = {};

before(async () => {
  [servers.redis, servers.ringcache] = await Promise.all([startRedis(), startRingcache()]);
});
after(async () => {
  await Promise.all([servers.redis?.stop(), servers.ringcache?.stop()]);
});

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs a scenario on one server and returns what it recorded. */
type Scenario = (connect: () => Promise<RawClient>, log: (what: string, r: Reply | Reply[]) => void) => Promise<void>;

async function runOn(port: number, scenario: Scenario): Promise<string[]> {
  const opened: RawClient[] = [];
  const lines: string[] = [];
  const connect = async () => {
    const c = await RawClient.connect(port);
    opened.push(c);
    return c;
  };
  const admin = await connect();
  await admin.call('FLUSHALL');
  try {
    await scenario(connect, (what, r) => lines.push(`${what}: ${Array.isArray(r) && what.endsWith('*') ? r.map(show).join(' | ') : show(r as Reply)}`));
  } finally {
    for (const c of opened) c.close();
  }
  return lines;
}

function both(name: string, scenario: Scenario): void {
  test(name, { timeout: 30_000 }, async () => {
    const [redis, ringcache] = await Promise.all([runOn(servers.redis!.port, scenario), runOn(servers.ringcache!.port, scenario)]);
    assert.deepEqual(ringcache, redis);
  });
}

/** Sends a command without waiting for its reply. */
const send = (c: RawClient, ...args: string[]) => c.write(encodeCommand(args));

both('waiters on one key are served in the order they blocked, one element each', async (connect, log) => {
  const [a, b, c] = await Promise.all([connect(), connect(), connect()]);
  send(a, 'BLPOP', 'q', '0');
  await pause(50);
  send(b, 'BLPOP', 'q', '0');
  await pause(50);
  log('rpush', await c.call('RPUSH', 'q', 'x', 'y', 'z'));
  log('a', (await a.read(1))[0]!);
  log('b', (await b.read(1))[0]!);
  log('left', await c.call('LRANGE', 'q', '0', '-1'));
});

both('a waiter on several keys is served by the first that gets data', async (connect, log) => {
  const [a, c] = await Promise.all([connect(), connect()]);
  send(a, 'BRPOP', 'q1', 'q2', 'q3', '0');
  await pause(50);
  log('push', await c.call('LPUSH', 'q3', 'v'));
  log('a', (await a.read(1))[0]!);
  log('q3', await c.call('EXISTS', 'q3'));
});

both('commands pipelined behind a blocked one wait for it', async (connect, log) => {
  const [a, c] = await Promise.all([connect(), connect()]);
  a.write(Buffer.concat([encodeCommand(['BLPOP', 'q', '0']), encodeCommand(['LLEN', 'q']), encodeCommand(['PING'])]));
  await pause(100);
  log('before the push', a.pending.length);
  log('push', await c.call('RPUSH', 'q', 'a', 'b'));
  log('a*', await a.read(3));
});

both('a timeout answers nil, and the client goes on', async (connect, log) => {
  const a = await connect();
  const t = Date.now();
  log('blpop', await a.call('BLPOP', 'q', '0.2'));
  log('waited 200 ms', Date.now() - t >= 190 ? 1 : 0);
  log('ping', await a.call('PING'));
  log('blmove', await a.call('BLMOVE', 'q', 'd', 'LEFT', 'LEFT', '0.1'));
});

both('BLMOVE served by a push feeds a client waiting on its destination', async (connect, log) => {
  const [a, b, c] = await Promise.all([connect(), connect(), connect()]);
  send(a, 'BLMOVE', 'src', 'dst', 'LEFT', 'RIGHT', '0');
  await pause(50);
  send(b, 'BLPOP', 'dst', '0');
  await pause(50);
  log('push', await c.call('RPUSH', 'src', 'v'));
  log('a', (await a.read(1))[0]!);
  log('b', (await b.read(1))[0]!);
  log('keys', await c.call('EXISTS', 'src', 'dst'));
});

both('a closed waiter takes nothing', async (connect, log) => {
  const [a, c] = await Promise.all([connect(), connect()]);
  send(a, 'BLPOP', 'q', '0');
  await pause(50);
  a.close();
  await pause(50);
  log('push', await c.call('RPUSH', 'q', 'v'));
  log('llen', await c.call('LLEN', 'q'));
});

both('a key of another type does not wake a waiter; RENAME of a list does', async (connect, log) => {
  const [a, c] = await Promise.all([connect(), connect()]);
  send(a, 'BLPOP', 'q', '0');
  await pause(50);
  log('set', await c.call('SET', 'q', 'x'));
  await pause(50);
  log('nothing yet', a.pending.length);
  log('del', await c.call('DEL', 'q'));
  log('tmp', await c.call('RPUSH', 'tmp', 'v1', 'v2'));
  log('rename', await c.call('RENAME', 'tmp', 'q'));
  log('a', (await a.read(1))[0]!);
  log('left', await c.call('LRANGE', 'q', '0', '-1'));
});

both('BLMPOP takes COUNT elements from the key that got data', async (connect, log) => {
  const [a, c] = await Promise.all([connect(), connect()]);
  send(a, 'BLMPOP', '0', '2', 'x', 'y', 'RIGHT', 'COUNT', '2');
  await pause(50);
  log('push', await c.call('RPUSH', 'y', '1', '2', '3'));
  log('a', (await a.read(1))[0]!);
  log('left', await c.call('LRANGE', 'y', '0', '-1'));
});

both('RESP3: a served waiter and a timed-out one', async (connect, log) => {
  const [a, c] = await Promise.all([connect(), connect()]);
  await a.call('HELLO', '3');
  send(a, 'BLPOP', 'q', '0');
  await pause(50);
  await c.call('RPUSH', 'q', 'v');
  log('a', (await a.read(1))[0]!);
  log('timeout', await a.call('BRPOP', 'q', '0.05'));
});

both('BZPOPMIN and BZMPOP are woken by ZADD, in blocking order', async (connect, log) => {
  const [a, b, c] = await Promise.all([connect(), connect(), connect()]);
  send(a, 'BZPOPMIN', 'z', '0');
  await pause(50);
  send(b, 'BZMPOP', '0', '1', 'z', 'MAX', 'COUNT', '2');
  await pause(50);
  log('zadd', await c.call('ZADD', 'z', '1', 'x', '2', 'y', '3', 'w', '4', 'v'));
  log('a', (await a.read(1))[0]!);
  log('b', (await b.read(1))[0]!);
  log('left', await c.call('ZRANGE', 'z', '0', '-1', 'WITHSCORES'));
});
