/**
 * CLIENT TRACKING over raw RESP, differential: every scenario runs on a real
 * redis-server (7.0) and on a ringcache node, on named connections, and each
 * connection's whole transcript (every byte received: replies and
 * invalidation pushes, in order) must be the same on both. Client ids are
 * named ($a, $b...) so the two servers' numbering does not matter.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { encodeRequest } from '../../src/protocol/request-encoder.js';
import { startRedis, startRingcache, type Running } from '../helpers/processes.js';

type Side = 'redis' | 'ringcache';
const SIDES: readonly Side[] = ['redis', 'ringcache'];

/** Time for a command's reply and the pushes it causes to arrive (both servers are local). */
const SETTLE_MS = 25;

type Step =
  /** Sends the command on the named connection; `$x` arguments become connection x's client id. */
  | { on: string; cmd: string[] }
  | { sleep: number }
  | { close: string };

interface Scenario {
  name: string;
  /** Connection names and their protocol (HELLO 3 for 3). */
  conns: Record<string, 2 | 3>;
  steps: Step[];
}

const on = (conn: string, line: string): Step => ({ on: conn, cmd: line.split(' ') });

class Conn {
  received = Buffer.alloc(0);
  id = 0;
  private constructor(readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => (this.received = Buffer.concat([this.received, d])));
    socket.on('error', () => {});
  }
  static open(port: number): Promise<Conn> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new Conn(s)));
      s.once('error', reject);
    });
  }
  send(args: string[]): void {
    this.socket.write(encodeRequest(args));
  }
}

const servers: Partial<Record<Side, Running>> = {};

before(async () => {
  [servers.redis, servers.ringcache] = await Promise.all([startRedis(), startRingcache()]);
  // Client ids from 20 up on both servers, so that naming them in transcripts cannot hit a small integer reply.
  for (const s of SIDES) for (let i = 0; i < 20; i++) (await Conn.open(servers[s]!.port)).socket.destroy();
});

after(async () => {
  await Promise.all(SIDES.map((s) => servers[s]?.stop()));
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs a scenario on one server; returns each connection's transcript, ids named. */
async function run(side: Side, sc: Scenario): Promise<Record<string, string>> {
  const port = servers[side]!.port;
  const conns: Record<string, Conn> = {};
  for (const [name, proto] of Object.entries(sc.conns)) {
    const c = await Conn.open(port);
    c.send(['CLIENT', 'ID']);
    if (proto === 3) c.send(['HELLO', '3']);
    await sleep(SETTLE_MS);
    c.id = Number(/^:(\d+)\r\n/.exec(c.received.toString('latin1'))![1]);
    c.received = Buffer.alloc(0);
    conns[name] = c;
  }
  const first = Object.values(conns)[0]!;
  first.send(['FLUSHALL']);
  await sleep(SETTLE_MS);
  first.received = Buffer.alloc(0);
  for (const step of sc.steps) {
    if ('sleep' in step) await sleep(step.sleep);
    else if ('close' in step) {
      conns[step.close]!.socket.destroy();
      await sleep(SETTLE_MS);
    } else {
      conns[step.on]!.send(step.cmd.map((a) => (a.startsWith('$') && conns[a.slice(1)] ? String(conns[a.slice(1)]!.id) : a)));
      await sleep(SETTLE_MS);
    }
  }
  await sleep(SETTLE_MS * 2);
  const out: Record<string, string> = {};
  for (const [name, c] of Object.entries(conns)) {
    let text = c.received.toString('latin1');
    for (const [other, o] of Object.entries(conns)) text = text.replaceAll(`:${o.id}\r\n`, `:$${other}\r\n`);
    // The server's name and version in HELLO replies, were any sent, differ; no scenario sends one.
    out[name] = text;
    c.socket.destroy();
  }
  return out;
}

const scenarios: Scenario[] = [
  {
    name: 'default mode: reads remembered, first change invalidates, own writes after the reply, FLUSHALL null',
    conns: { a: 3, b: 3 },
    steps: [
      on('a', 'CLIENT TRACKING ON'),
      on('a', 'GET k'),
      on('b', 'SET k 1'),
      on('b', 'SET k 2'),
      on('a', 'GET k'),
      on('a', 'SET k 3'),
      on('b', 'DEL k'),
      on('a', 'MGET k k2 k3'),
      on('b', 'MSET k 1 k2 2'),
      on('a', 'GET k'),
      on('a', 'STRLEN k2'),
      on('b', 'EXPIRE k 100'),
      on('b', 'APPEND k2 x'),
      on('a', 'EXISTS k'),
      on('b', 'FLUSHALL'),
      on('a', 'CLIENT TRACKINGINFO'),
      on('a', 'CLIENT GETREDIR'),
      on('a', 'CLIENT TRACKING OFF'),
      on('a', 'GET k'),
      on('b', 'SET k 9'),
      on('a', 'CLIENT TRACKINGINFO'),
      on('a', 'CLIENT GETREDIR'),
    ],
  },
  {
    name: 'default mode: containers, RENAME, MULTI (pushes after EXEC), INCR, GETDEL',
    conns: { a: 3, b: 3 },
    steps: [
      on('b', 'HSET h f v'),
      on('b', 'RPUSH l x y'),
      on('b', 'SET n 1'),
      on('a', 'CLIENT TRACKING ON'),
      on('a', 'HGET h f'),
      on('a', 'LRANGE l 0 -1'),
      on('a', 'GET n'),
      on('b', 'HSET h f w'),
      on('b', 'LPOP l'),
      on('b', 'INCR n'),
      on('a', 'GET n'),
      on('a', 'HGETALL h'),
      on('b', 'RENAME n m'),
      on('a', 'GET m'),
      on('a', 'MULTI'),
      on('a', 'SET m 5'),
      on('a', 'HDEL h f'),
      on('a', 'EXEC'),
      on('a', 'GET m'),
      on('b', 'GETDEL m'),
    ],
  },
  {
    name: 'expiry invalidates',
    conns: { a: 3, b: 3 },
    steps: [
      on('b', 'SET k v PX 60'),
      on('a', 'CLIENT TRACKING ON'),
      on('a', 'GET k'),
      { sleep: 150 },
      on('b', 'EXISTS k'),
      on('a', 'GET k'),
    ],
  },
  {
    name: 'BCAST with prefixes: one batch per prefix, own writes included, errors',
    conns: { a: 3, b: 3 },
    steps: [
      on('a', 'CLIENT TRACKING ON BCAST PREFIX user: PREFIX obj:'),
      on('b', 'SET user:1 x'),
      on('b', 'SET other 1'),
      on('b', 'MSET obj:1 a obj:2 b user:3 c'),
      on('a', 'SET user:2 y'),
      on('a', 'CLIENT TRACKINGINFO'),
      on('a', 'CLIENT TRACKING ON'),
      on('a', 'CLIENT TRACKING ON BCAST PREFIX us'),
      on('a', 'CLIENT TRACKING ON BCAST PREFIX zz PREFIX zzz'),
      on('a', 'CLIENT TRACKING ON BCAST PREFIX new:'),
      on('b', 'SET new:1 1'),
      on('a', 'CLIENT TRACKINGINFO'),
      on('b', 'FLUSHALL'),
      on('a', 'CLIENT TRACKING OFF'),
      on('b', 'SET user:9 1'),
      on('a', 'CLIENT TRACKINGINFO'),
    ],
  },
  {
    name: 'BCAST without a prefix, with NOLOOP',
    conns: { a: 3, b: 3 },
    steps: [
      on('a', 'CLIENT TRACKING ON BCAST NOLOOP'),
      on('a', 'SET x 1'),
      on('b', 'SET x 2'),
      on('b', 'DEL x'),
      on('a', 'CLIENT TRACKINGINFO'),
    ],
  },
  {
    name: 'NOLOOP in default mode',
    conns: { a: 3, b: 3 },
    steps: [
      on('a', 'CLIENT TRACKING ON NOLOOP'),
      on('a', 'GET k'),
      on('a', 'SET k 1'),
      on('a', 'GET k'),
      on('b', 'SET k 2'),
      on('a', 'CLIENT TRACKINGINFO'),
    ],
  },
  {
    name: 'OPTIN: only after CLIENT CACHING YES, for one command (CLIENT subcommands keep it)',
    conns: { a: 3, b: 3 },
    steps: [
      on('a', 'CLIENT TRACKING ON OPTIN'),
      on('a', 'GET k'),
      on('b', 'SET k 1'),
      on('a', 'CLIENT CACHING YES'),
      on('a', 'CLIENT TRACKINGINFO'),
      on('a', 'GET k'),
      on('a', 'GET k2'),
      on('b', 'SET k 2'),
      on('b', 'SET k2 2'),
      on('a', 'CLIENT CACHING NO'),
      on('a', 'CLIENT CACHING maybe'),
      on('a', 'CLIENT TRACKING ON OPTOUT'),
      on('a', 'CLIENT CACHING YES'),
      on('a', 'MULTI'),
      on('a', 'GET k'),
      on('a', 'GET k2'),
      on('a', 'EXEC'),
      on('b', 'MSET k 3 k2 3'),
    ],
  },
  {
    name: 'OPTOUT: all but after CLIENT CACHING NO',
    conns: { a: 3, b: 3 },
    steps: [
      on('a', 'CLIENT TRACKING ON OPTOUT'),
      on('a', 'GET k'),
      on('b', 'SET k 1'),
      on('a', 'CLIENT CACHING NO'),
      on('a', 'GET k2'),
      on('a', 'GET k3'),
      on('b', 'MSET k2 2 k3 3'),
      on('a', 'CLIENT CACHING YES'),
      on('a', 'CLIENT TRACKINGINFO'),
      on('a', 'CLIENT TRACKING ON OPTIN'),
    ],
  },
  {
    name: 'REDIRECT to a RESP3 connection, then to one that closed (tracking-redir-broken)',
    conns: { a: 3, b: 3, c: 3 },
    steps: [
      on('a', 'CLIENT TRACKING ON REDIRECT $c'),
      on('a', 'GET k'),
      on('b', 'SET k 1'),
      on('a', 'CLIENT GETREDIR'),
      on('a', 'CLIENT TRACKINGINFO'),
      on('c', 'CLIENT TRACKINGINFO'),
      on('a', 'GET k'),
      { close: 'c' },
      on('b', 'SET k 2'),
      on('a', 'CLIENT TRACKINGINFO'),
      on('a', 'CLIENT TRACKING ON'),
      on('a', 'CLIENT TRACKINGINFO'),
    ],
  },
  {
    name: 'REDIRECT to a RESP2 connection not in pub/sub mode, and RESP2 tracking without redirect: nothing to deliver',
    conns: { a: 2, b: 2, c: 2 },
    steps: [
      on('a', 'CLIENT TRACKING ON REDIRECT $c'),
      on('a', 'GET k'),
      on('b', 'SET k 1'),
      on('b', 'CLIENT TRACKING ON'),
      on('b', 'GET k'),
      on('a', 'SET k 2'),
      on('a', 'CLIENT TRACKINGINFO'),
      on('c', 'PING'),
    ],
  },
  {
    name: 'REDIRECT to a RESP2 connection subscribed to __redis__:invalidate: invalidations arrive as messages, flush as a nil',
    conns: { a: 2, b: 2, c: 2 },
    steps: [
      on('c', 'SUBSCRIBE __redis__:invalidate'),
      on('a', 'CLIENT TRACKING ON REDIRECT $c'),
      on('a', 'GET k'),
      on('a', 'MGET k2 k3'),
      on('b', 'SET k 1'),
      on('b', 'MSET k2 1 k3 1'),
      on('a', 'GET k'),
      on('b', 'FLUSHALL'),
      on('c', 'PING'),
      on('c', 'UNSUBSCRIBE'),
      on('a', 'GET k'),
      on('b', 'SET k 3'),
      on('c', 'PING'),
    ],
  },
  {
    name: 'errors',
    conns: { a: 3, b: 3 },
    steps: [
      on('a', 'CLIENT TRACKING'),
      on('a', 'CLIENT TRACKING maybe'),
      on('a', 'CLIENT TRACKING ON PREFIX x'),
      on('a', 'CLIENT TRACKING ON BCAST OPTIN'),
      on('a', 'CLIENT TRACKING ON OPTIN OPTOUT'),
      on('a', 'CLIENT TRACKING ON REDIRECT 999999'),
      on('a', 'CLIENT TRACKING ON REDIRECT abc'),
      on('a', 'CLIENT TRACKING ON REDIRECT $b REDIRECT $b'),
      on('a', 'CLIENT TRACKING ON REDIRECT'),
      on('a', 'CLIENT TRACKING ON foo'),
      on('a', 'CLIENT TRACKING OFF foo'),
      on('a', 'CLIENT CACHING YES'),
      on('a', 'CLIENT CACHING'),
      on('a', 'CLIENT GETREDIR x'),
      on('a', 'CLIENT TRACKINGINFO x'),
      on('a', 'CLIENT TRACKING ON OPTIN'),
      on('a', 'CLIENT TRACKING ON OPTOUT'),
      on('a', 'CLIENT TRACKING ON BCAST'),
      on('a', 'CLIENT TRACKING OFF'),
      on('a', 'CLIENT TRACKING OFF'),
      on('a', 'CLIENT TRACKINGINFO'),
    ],
  },
];

describe('CLIENT TRACKING, differential against redis-server', () => {
  for (const sc of scenarios) {
    test(sc.name, async () => {
      const [redis, ringcache] = await Promise.all(SIDES.map((s) => run(s, sc)));
      for (const name of Object.keys(sc.conns)) {
        assert.equal(JSON.stringify(ringcache![name]), JSON.stringify(redis![name]), `connection ${name}`);
      }
    });
  }
});
