/**
 * What a client can do to a node, on the wire: malformed and oversized input,
 * odd but legal framing, deep pipelines, random garbage, clients that never
 * read, too many clients, authentication, and how the process stops.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, afterEach, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { startRedis, startRingcache, type Running } from '../helpers/processes.js';
import { encodeCommand, parseReply, RawClient, ReplyError, type Reply } from '../helpers/raw-client.js';
import { eventually, sleep, within } from '../helpers/tools.js';

const T = { timeout: 20_000 };

/** Tracks RawClients so that every test's connections are closed afterwards. */
function clientPool() {
  const open: RawClient[] = [];
  return {
    async connect(port: number): Promise<RawClient> {
      const c = await RawClient.connect(port);
      open.push(c);
      return c;
    },
    closeAll(): void {
      for (const c of open.splice(0)) c.close();
    },
  };
}

function assertError(reply: Reply | undefined, pattern: RegExp): void {
  assert.ok(reply instanceof ReplyError, `expected an error reply matching ${pattern}, got ${String(reply)}`);
  assert.match(reply.message, pattern);
}

const bulk = (s: string) => Buffer.from(s);

/** Whether a new connection is accepted and answers PING (closed again either way). */
async function pingsOnNewConnection(port: number): Promise<boolean> {
  const c = await RawClient.connect(port);
  try {
    return (await c.call('PING')) === 'PONG';
  } catch {
    return false;
  } finally {
    c.close();
  }
}

/** Asserts the client still has a working session on the node. */
async function assertUsable(c: RawClient, key: string, value: string): Promise<void> {
  assert.equal(await c.call('PING'), 'PONG');
  assert.deepEqual(await c.call('GET', key), bulk(value));
}

describe('robustness of a node against its clients', () => {
  let node: Running;
  const pool = clientPool();
  before(async () => {
    node = await startRingcache(['--proto-max-bulk-len', '1mb', '--client-output-limit', '8mb']);
  });
  afterEach(() => pool.closeAll());
  after(async () => {
    if (node) assert.equal(await node.stop(), 0, node.output());
  });

  describe('malformed protocol: -ERR Protocol error, that connection closed, others unaffected', () => {
    const cases: Array<[string, string, RegExp]> = [
      ['a non-numeric multibulk count', '*abc\r\n', /^ERR Protocol error: invalid multibulk length$/],
      ['a non-numeric bulk length', '*2\r\n$x\r\n', /^ERR Protocol error: invalid bulk length$/],
      ['a simple string where a bulk string belongs', '*1\r\n+foo\r\n', /^ERR Protocol error: expected '\$', got '\+'$/],
      ['a negative bulk length', '*1\r\n$-5\r\n', /^ERR Protocol error: invalid bulk length$/],
      ['a valid command, then a broken one in the same write', '*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n:1\r\n', /^ERR Protocol error: expected '\$', got ':'$/],
    ];
    for (const [what, bytes, pattern] of cases) {
      test(what, T, async () => {
        const bystander = await pool.connect(node.port);
        assert.equal(await bystander.call('SET', 'bystander', what), 'OK');
        const c = await pool.connect(node.port);
        c.write(bytes);
        const replies = await c.read(bytes.startsWith('*1\r\n$4\r\nPING') ? 2 : 1);
        assertError(replies.at(-1), pattern);
        assert.ok(await c.waitClosed(), 'the node closes the connection after a protocol error');
        assert.equal(c.pending.length, 0, 'nothing after the error reply');
        await assertUsable(bystander, 'bystander', what);
      });
    }
  });

  test('a bulk length over --proto-max-bulk-len is rejected before its bytes arrive', T, async () => {
    const c = await pool.connect(node.port);
    c.write('*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$2000000\r\n'); // 2 MB declared, limit 1 MB, no payload sent
    assertError((await c.read(1))[0], /^ERR Protocol error: invalid bulk length$/);
    assert.ok(await c.waitClosed());
    const ok = await pool.connect(node.port);
    // Just under the limit is accepted.
    assert.equal(await ok.call('SET', 'nearlimit', Buffer.alloc(1024 * 1024, 'x')), 'OK');
    assert.equal(await ok.call('STRLEN', 'nearlimit'), 1024 * 1024);
  });

  test('an inline request of more than 64 KB without a newline is rejected', T, async () => {
    const c = await pool.connect(node.port);
    c.write('SET k ' + 'a'.repeat(70 * 1024));
    assertError((await c.read(1))[0], /^ERR Protocol error: too big inline request$/);
    assert.ok(await c.waitClosed());
  });

  test('a multibulk header line of more than 64 KB without CRLF is rejected', T, async () => {
    const c = await pool.connect(node.port);
    c.write('*' + '1'.repeat(70 * 1024));
    assertError((await c.read(1))[0], /^ERR Protocol error: /);
    assert.ok(await c.waitClosed());
  });

  test('unknown commands, wrong arity and bad arguments get errors; the connection stays usable', T, async () => {
    const c = await pool.connect(node.port);
    assert.equal(await c.call('SET', 'errs', 'v'), 'OK');
    assertError(await c.call('NOSUCHCOMMAND', 'a', 'b'), /^ERR unknown command 'NOSUCHCOMMAND', with args beginning with: 'a' 'b'/);
    assertError(await c.call('GET'), /^ERR wrong number of arguments for 'get' command$/);
    assertError(await c.call('GET', 'a', 'b'), /^ERR wrong number of arguments for 'get' command$/);
    assertError(await c.call('INCR', 'errs'), /^ERR value is not an integer or out of range$/);
    assertError(await c.call('EXPIRE', 'errs', 'soon'), /^ERR value is not an integer or out of range$/);
    assertError(await c.call('SET', 'errs', 'v', 'EX', '-1'), /^ERR invalid expire time in 'set' command$/);
    assertError(await c.call('SET', 'errs', 'v', 'BOGUS'), /^ERR syntax error$/);
    assertError(await c.call('CLIENT', 'NOSUCH'), /^ERR unknown subcommand 'NOSUCH'/);
    assertError(await c.call('SELECT', '1'), /^ERR DB index is out of range$/);
    assert.equal(c.closed, false);
    await assertUsable(c, 'errs', 'v');
  });

  describe('inline commands', () => {
    test('PING and a quoted argument with a space', T, async () => {
      const c = await pool.connect(node.port);
      c.write('PING\r\n');
      assert.deepEqual(await c.read(1), ['PONG']);
      c.write('SET inl "hello world"\r\nGET inl\n');
      assert.deepEqual(await c.read(2), ['OK', bulk('hello world')]);
      c.write("SET inl2 'it\\'s' \r\nGET inl2\r\nSET inl3 \"a\\x41\\n\"\r\nGET inl3\r\n");
      assert.deepEqual(await c.read(4), ['OK', bulk("it's"), 'OK', bulk('aA\n')]);
    });

    test('unbalanced quotes are a protocol error', T, async () => {
      const c = await pool.connect(node.port);
      c.write('SET inl "oops\r\n');
      assertError((await c.read(1))[0], /^ERR Protocol error: unbalanced quotes in request$/);
      assert.ok(await c.waitClosed());
    });
  });

  test('10,000 pipelined commands in one write: all replies, in order', T, async () => {
    const c = await pool.connect(node.port);
    const parts: Buffer[] = [];
    for (let i = 0; i < 5000; i++) parts.push(encodeCommand(['INCR', 'deep']), encodeCommand(['ECHO', `m${i}`]));
    c.write(Buffer.concat(parts));
    const replies = await c.read(10_000, 15_000);
    for (let i = 0; i < 5000; i++) {
      assert.equal(replies[2 * i], i + 1);
      assert.deepEqual(replies[2 * i + 1], bulk(`m${i}`));
    }
  });

  // The node cuts such a flood into slices of one turn's budget, also inside a
  // 64 KiB chunk (parser yield/resume): this checks the replies across those
  // cuts, and INFO's count of turns cut shows that the budget did cut. That the
  // other client gets in is also owed to TCP delivering the flood in pieces.
  test('a 1 MB pipeline of INCRs: every reply in order, cut at the turn budget, and another client is answered before it ends', T, async () => {
    const flooder = await pool.connect(node.port);
    const other = await pool.connect(node.port);
    await other.call('DEL', 'flood');
    await other.call('CONFIG', 'RESETSTAT');
    const turnsCut = async (): Promise<number> =>
      Number(/input_turns_over_budget:(\d+)/.exec(String(await other.call('INFO', 'stats')))?.[1] ?? NaN);
    assert.equal(await turnsCut(), 0);
    const n = 100_000;
    // 1 MB of inline INCRs in one write: far more than one turn's budget of work.
    flooder.write(Buffer.from('INCR flood\r\n'.repeat(n)));
    assert.equal((await flooder.read(1, 15_000))[0], 1, 'the flood has started');
    const seen = Number((await other.call('GET', 'flood')) as Buffer);
    assert.ok(seen >= 1 && seen < n, `the other client was answered mid-flood (it saw ${seen} of ${n})`);
    const rest = await flooder.read(n - 1, 15_000);
    for (let i = 0; i < n - 1; i++) if (rest[i] !== i + 2) assert.fail(`reply ${i + 2} was ${String(rest[i])}`);
    assert.ok((await turnsCut()) >= 1, 'the flood ran over at least one turn\'s budget and was cut');
  });

  test('a pipeline sent with a half-close (write, then end): every reply arrives before the node closes', T, async () => {
    const c = await pool.connect(node.port);
    const n = 100_000;
    // Far more than one turn of work: the node runs it in slices after the client's FIN has arrived.
    c.socket.end(Buffer.from('INCR halfclose\r\n'.repeat(n)));
    const replies = await c.read(n, 15_000);
    assert.equal(replies[n - 1], n);
  });

  test('after a half-close the node ends its side too, whether the last request was complete or not', T, async () => {
    for (const input of ['PING\r\n', 'PING\r\n*2\r\n$3\r\nGET']) {
      const socket = net.connect(node.port, '127.0.0.1');
      const received: Buffer[] = [];
      socket.on('data', (d: Buffer) => received.push(d));
      const ended = new Promise<void>((resolve) => socket.once('end', () => resolve()));
      socket.end(input);
      await within(5000, 'the node ends the connection after the client\'s FIN', ended);
      assert.equal(Buffer.concat(received).toString(), '+PONG\r\n');
      socket.destroy();
    }
  });

  describe('a request split at any byte works', () => {
    const pipeline = Buffer.concat([
      encodeCommand(['SET', 'split', 'va\r\nlue']),
      Buffer.from('GET split\r\n'),
      encodeCommand(['INCR', 'splitctr']),
      Buffer.from('ECHO "a b"\n'),
      encodeCommand(['GET', 'split']),
    ]);
    const check = (replies: Reply[], n: number) => assert.deepEqual(replies, ['OK', bulk('va\r\nlue'), n, bulk('a b'), bulk('va\r\nlue')]);

    test('in two writes, split at every position', T, async () => {
      const c = await pool.connect(node.port);
      c.socket.setNoDelay(true); // each write leaves as its own segment
      for (let at = 1; at < pipeline.length; at++) {
        c.write(pipeline.subarray(0, at));
        await sleep(2);
        c.write(pipeline.subarray(at));
        check(await c.read(5), at);
      }
    });

    test('one byte per write', T, async () => {
      const c = await pool.connect(node.port);
      c.socket.setNoDelay(true);
      const before = (await c.call('GET', 'splitctr')) as Buffer | null;
      for (const byte of pipeline) {
        c.write(Buffer.from([byte]));
        await sleep(1);
      }
      check(await c.read(5), Number(before?.toString() ?? 0) + 1);
    });
  });

  test('random garbage never takes the node down', { timeout: 40_000 }, async () => {
    const token = fc.constantFrom('*', '$', '\r\n', '\n', '\r', '-1', '0', '3', '99999999999', '"', "'", '\\x4', ' ', 'SET', 'GET', 'PING', 'ECHO', 'INCR', 'k');
    const fragment = fc.oneof(fc.uint8Array({ maxLength: 64 }), token.map((s) => Buffer.from(s)));
    const garbage = fc.array(fragment, { maxLength: 40 }).map((parts) => Buffer.concat(parts));
    await fc.assert(
      fc.asyncProperty(garbage, async (bytes) => {
        const c = await RawClient.connect(node.port);
        try {
          c.write(bytes);
          await Promise.race([c.waitClosed(30), sleep(30)]);
          // Whatever came back is well-formed RESP.
          let pos = 0;
          for (let r = parseReply(c.pending, pos); r; r = parseReply(c.pending, pos)) pos = r[1];
        } finally {
          c.close();
        }
        assert.equal(node.proc.exitCode, null, 'the node process is alive');
        const fresh = await RawClient.connect(node.port);
        try {
          assert.equal(await fresh.call('PING'), 'PONG');
        } finally {
          fresh.close();
        }
      }),
      { numRuns: 150, interruptAfterTimeLimit: 30_000 },
    );
    assert.doesNotMatch(node.output(), /command handler failed|"level":(50|60)/, 'no internal errors logged');
  });

  test('a client that never reads is disconnected past --client-output-limit', T, async () => {
    const setter = await pool.connect(node.port);
    assert.equal(await setter.call('SET', 'big', Buffer.alloc(1024 * 1024, 'b')), 'OK');
    // A socket that is paused takes nothing from the kernel: the node's output piles up.
    const greedy = net.connect(node.port, '127.0.0.1');
    greedy.on('error', () => {});
    await new Promise<void>((resolve) => greedy.once('connect', resolve));
    greedy.pause();
    let received = 0;
    const closed = new Promise<void>((resolve) => greedy.once('close', () => resolve()));
    try {
      greedy.write(Buffer.concat(Array.from({ length: 200 }, () => encodeCommand(['GET', 'big']))));
      await sleep(300);
      greedy.on('data', (d: Buffer) => (received += d.length));
      greedy.resume();
      await within(10_000, 'the node to close the greedy connection', closed);
      assert.ok(received < 200 * 1024 * 1024, `the connection was closed before all 200 MB of replies were sent (got ${received} bytes)`);
    } finally {
      greedy.destroy();
    }
    const other = await pool.connect(node.port);
    assert.equal(await other.call('STRLEN', 'big'), 1024 * 1024);
    assert.equal(await setter.call('PING'), 'PONG');
  });

  test('one reply larger than --client-output-limit is delivered whole (issue 20, finding 2: a value past the limit could be written but never read)', T, async () => {
    // ioredis, not the raw client (which parses its whole buffer again on every chunk of 12 MB).
    const c = new Redis({ port: node.port, lazyConnect: true, maxRetriesPerRequest: 0 });
    try {
      const piece = Buffer.alloc(1024 * 1024, 'x'); // --proto-max-bulk-len is 1mb here: build it by APPEND
      for (let i = 0; i < 12; i++) assert.equal(await c.append('huge', piece), (i + 1) * piece.length);
      const value = await c.getBuffer('huge');
      assert.equal(value?.length, 12 * piece.length, 'GET returned the whole value');
      assert.ok(value!.every((b) => b === 0x78), 'byte for byte');
      assert.equal(await c.ping(), 'PONG', 'and the connection goes on');
      assert.equal(await c.del('huge'), 1);
    } finally {
      c.disconnect();
    }
  });

  test('QUIT replies +OK and closes the connection', T, async () => {
    const c = await pool.connect(node.port);
    c.write(Buffer.concat([encodeCommand(['QUIT']), encodeCommand(['PING'])]));
    assert.deepEqual(await c.read(1), ['OK']);
    assert.ok(await c.waitClosed(), 'closed after QUIT');
    assert.equal(c.pending.length, 0, 'no reply to commands after QUIT');
  });
});

describe('--maxclients 2', () => {
  let node: Running;
  const pool = clientPool();
  before(async () => {
    node = await startRingcache(['--maxclients', '2']);
  });
  after(async () => {
    pool.closeAll();
    if (node) await node.stop();
  });

  test('the third connection gets -ERR max number of clients reached and is closed', T, async () => {
    const a = await pool.connect(node.port);
    const b = await pool.connect(node.port);
    assert.equal(await a.call('PING'), 'PONG');
    assert.equal(await b.call('PING'), 'PONG');
    const third = await pool.connect(node.port);
    assertError((await third.read(1))[0], /^ERR max number of clients reached$/);
    assert.ok(await third.waitClosed());
    assert.equal(await a.call('PING'), 'PONG', 'the accepted clients are unaffected');
    // A freed slot can be taken again.
    b.close();
    await eventually(() => pingsOnNewConnection(node.port), 'a new client to be accepted once one left');
  });
});

test('a turned-away client that never ends its side is closed after a second and does not hold up SIGTERM', T, async () => {
  const node = await startRingcache(['--maxclients', '1']);
  const sockets: net.Socket[] = [];
  try {
    const first = await RawClient.connect(node.port);
    assert.equal(await first.call('PING'), 'PONG');
    // allowHalfOpen: the client keeps its side open after the server's FIN, as a stuck client would.
    const connectStuck = () =>
      new Promise<{ socket: net.Socket; got: Buffer[]; closed: Promise<void> }>((resolve, reject) => {
        const socket = net.connect({ port: node.port, host: '127.0.0.1', allowHalfOpen: true });
        sockets.push(socket);
        const got: Buffer[] = [];
        socket.on('data', (d: Buffer) => got.push(d));
        const closed = new Promise<void>((r) => socket.once('close', () => r()));
        socket.once('connect', () => resolve({ socket, got, closed }));
        socket.once('error', reject);
      });
    const stuck = await connectStuck();
    stuck.socket.on('error', () => {});
    await eventually(() => Buffer.concat(stuck.got).toString() === '-ERR max number of clients reached\r\n', 'the error reply');
    // The node has sent its FIN; a second later it closes the socket for good:
    // the client's next bytes get a reset, and the write after that fails.
    await sleep(1500);
    stuck.socket.write('PING\r\n');
    await sleep(300);
    stuck.socket.write('PING\r\n');
    await within(3000, 'the node to have closed the turned-away client', stuck.closed);

    await connectStuck(); // another, still open when SIGTERM comes
    await sleep(100);
    const started = Date.now();
    const code = await node.stop();
    assert.equal(code, 0, 'a clean exit, not the SIGKILL after 5 s');
    assert.ok(Date.now() - started < 4000, `stopped in ${Date.now() - started} ms`);
    first.close();
  } finally {
    for (const s of sockets) s.destroy();
    await node.stop();
  }
});

describe('--requirepass', () => {
  let node: Running;
  const pool = clientPool();
  before(async () => {
    node = await startRingcache(['--requirepass', 'hunter2']);
  });
  afterEach(() => pool.closeAll());
  after(async () => {
    if (node) await node.stop();
  });

  test('NOAUTH before AUTH, WRONGPASS for a bad password, commands after AUTH', T, async () => {
    const c = await pool.connect(node.port);
    assertError(await c.call('GET', 'k'), /^NOAUTH Authentication required\.$/);
    assertError(await c.call('SET', 'k', 'v'), /^NOAUTH Authentication required\.$/);
    assertError(await c.call('AUTH', 'wrong'), /^WRONGPASS invalid username-password pair/);
    assertError(await c.call('AUTH', 'default', 'wrong'), /^WRONGPASS /);
    assertError(await c.call('GET', 'k'), /^NOAUTH /);
    assert.equal(await c.call('AUTH', 'hunter2'), 'OK');
    assert.equal(await c.call('SET', 'k', 'v'), 'OK');
    assert.deepEqual(await c.call('GET', 'k'), bulk('v'));
    const d = await pool.connect(node.port);
    assert.equal(await d.call('AUTH', 'default', 'hunter2'), 'OK');
    assert.deepEqual(await d.call('GET', 'k'), bulk('v'));
  });

  test('before AUTH: more than 10 arguments or a bulk over 16 KB is a protocol error and closes, as Redis 7', T, async () => {
    for (const [wire, error] of [
      ['*1000000\r\n', 'unauthenticated multibulk length'],
      ['*1\r\n$536870912\r\n', 'unauthenticated bulk length'],
      ['*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$16385\r\n', 'unauthenticated bulk length'],
    ]) {
      const c = await pool.connect(node.port);
      c.write(wire!);
      assertError((await c.read(1))[0], new RegExp(`^ERR Protocol error: ${error}$`));
      assert.ok(await c.waitClosed(), `closed after ${JSON.stringify(wire)}`);
    }
    const c = await pool.connect(node.port);
    assert.equal(await c.call('AUTH', 'hunter2'), 'OK');
    assert.equal(await c.call('SET', 'big', Buffer.alloc(100_000, 'b')), 'OK', 'no such limit once authenticated');
    assert.equal(await c.call('DEL', ...Array.from({ length: 20 }, (_, i) => `k${i}`)), 0);
  });

  test('a connection is closed after 10 wrong passwords in a row, logged once at warn', T, async () => {
    const c = await pool.connect(node.port);
    c.write(Buffer.concat(Array.from({ length: 1000 }, () => encodeCommand(['AUTH', 'guess']))));
    const replies = await c.read(10);
    for (const r of replies) assertError(r, /^WRONGPASS /);
    assert.ok(await c.waitClosed(), 'closed after the 10th');
    assert.equal(c.pending.length, 0, 'nothing after the 10th reply: the rest was not run');
    await eventually(() => /closing the connection after 10 wrong passwords in a row/.test(node.output()), 'the warning');
    assert.equal(node.output().match(/wrong passwords in a row/g)?.length, 1);
    assert.equal(await pingsOnNewConnection(node.port), false, 'a new connection still needs AUTH');
  });

  test('HELLO 3 AUTH default <pass> authenticates and switches to RESP3', T, async () => {
    const c = await pool.connect(node.port);
    assertError(await c.call('HELLO', '3'), /^NOAUTH /);
    assertError(await c.call('HELLO', '3', 'AUTH', 'default', 'nope'), /^WRONGPASS /);
    const hello = await c.call('HELLO', '3', 'AUTH', 'default', 'hunter2');
    assert.ok(hello instanceof Map, 'a RESP3 map');
    const fields = new Map([...hello].map(([k, v]) => [String(k), v]));
    assert.equal(fields.get('proto'), 3);
    assert.deepEqual(fields.get('server'), bulk('redis'));
    c.write(encodeCommand(['GET', 'missing']));
    await eventually(() => c.pending.length >= 3, 'the RESP3 null reply');
    assert.equal(c.pending.toString('latin1'), '_\r\n', 'RESP3 null');
  });
});

describe('--maxmemory 50mb with the default policy', () => {
  let node: Running;
  const pool = clientPool();
  before(async () => {
    node = await startRingcache(['--maxmemory', '50mb']);
  });
  afterEach(() => pool.closeAll());
  after(async () => {
    if (node) await node.stop();
  });

  test('a 60 MB value gets OOM and nothing is evicted (it used to be accepted, then vanish with every other key)', T, async () => {
    const c = await pool.connect(node.port);
    for (let i = 0; i < 100; i++) assert.equal(await c.call('SET', `k${i}`, 'v'), 'OK');
    assertError(await c.call('SET', 'mid', Buffer.alloc(60_000_000, 'x')), /^OOM command not allowed when used memory > 'maxmemory'\.$/);
    assert.equal(await c.call('EXISTS', 'mid'), 0);
    assert.equal(await c.call('DBSIZE'), 100);
    assert.equal(await c.call('SET', 'ten', Buffer.alloc(10_000_000, 'x')), 'OK', 'a value that fits is written');
    assert.equal(await c.call('STRLEN', 'ten'), 10_000_000);
  });
});

describe('stopping the node', () => {
  const pool = clientPool();
  const nodes: Running[] = [];
  after(async () => {
    pool.closeAll();
    for (const n of nodes) await n.stop();
  });

  test('SIGTERM mid-session: exit code 0 and the pending replies are delivered', T, async () => {
    const node = await startRingcache();
    nodes.push(node);
    const c = await pool.connect(node.port);
    const value = Buffer.alloc(1024 * 1024, 'z');
    assert.equal(await c.call('SET', 'big', value), 'OK');
    c.write(Buffer.concat([...Array.from({ length: 30 }, () => encodeCommand(['GET', 'big'])), encodeCommand(['ECHO', 'last'])]));
    // The node has run the commands once their first reply bytes arrive; stop
    // reading so most of the 30 MB is still waiting in the node when it is told to stop.
    await eventually(() => c.pending.length > 0, 'the first reply bytes');
    c.socket.pause();
    const exit = node.stop();
    await sleep(100);
    c.socket.resume();
    const replies = await c.read(31, 10_000);
    for (const r of replies.slice(0, 30)) assert.ok(Buffer.isBuffer(r) && r.equals(value), 'a full 1 MB value');
    assert.deepEqual(replies[30], bulk('last'));
    assert.equal(await within(10_000, 'the node to exit', exit), 0);
    assert.ok(await c.waitClosed());
  });

  test('SHUTDOWN makes the process exit with code 0', T, async () => {
    const node = await startRingcache();
    nodes.push(node);
    const exited = new Promise<number | null>((resolve) => node.proc.once('exit', (code) => resolve(code)));
    const c = await pool.connect(node.port);
    assert.equal(await c.call('SET', 'k', 'v'), 'OK');
    c.write(encodeCommand(['SHUTDOWN']));
    assert.equal(await within(10_000, 'the node to exit after SHUTDOWN', exited), 0);
    assert.ok(await c.waitClosed());
    await assert.rejects(RawClient.connect(node.port), 'nothing listens any more');
  });
});

/**
 * What a connection answers to exact bytes, and whether it is then closed:
 * read until the server closes or has been quiet for QUIET_MS.
 */
const QUIET_MS = 150;
async function exchange(port: number, input: ReadonlyArray<string | Buffer>): Promise<{ bytes: string; closed: boolean }> {
  const c = await RawClient.connect(port);
  try {
    for (const part of input) {
      c.write(part);
      await sleep(20);
    }
    let seen = -1;
    while (!c.closed && c.pending.length !== seen) {
      seen = c.pending.length;
      await sleep(QUIET_MS);
    }
    return { bytes: c.pending.toString('latin1'), closed: c.closed };
  } finally {
    c.close();
  }
}

/** Sends each input to both servers at once and asserts the same bytes back and the same close. */
async function sameAsRedis(ports: { redis: number; ringcache: number }, inputs: ReadonlyArray<string | Buffer | ReadonlyArray<string | Buffer>>): Promise<void> {
  const diffs: string[] = [];
  await Promise.all(inputs.map(async (input) => {
    const parts = typeof input === 'string' || Buffer.isBuffer(input) ? [input] : input;
    const [redis, ringcache] = await Promise.all([exchange(ports.redis, parts), exchange(ports.ringcache, parts)]);
    const what = JSON.stringify(parts.map((p) => (typeof p === 'string' ? p : p.toString('latin1'))).join('|').slice(0, 80));
    if (redis.bytes !== ringcache.bytes || redis.closed !== ringcache.closed) {
      diffs.push(`${what}\n  redis:     ${JSON.stringify(redis.bytes)} ${redis.closed ? 'closed' : 'open'}\n  ringcache: ${JSON.stringify(ringcache.bytes)} ${ringcache.closed ? 'closed' : 'open'}`);
    }
  }));
  assert.deepEqual(diffs, []);
}

describe('byte for byte as redis-server 7.0', () => {
  const servers: Running[] = [];
  let ports = { redis: 0, ringcache: 0 };
  let locked = { redis: 0, ringcache: 0 };
  before(async () => {
    const pass = ['--requirepass', 'pw'];
    const [redis, ringcache, lockedRedis, lockedRingcache] = await Promise.all([startRedis(), startRingcache(), startRedis(pass), startRingcache(pass)]);
    servers.push(redis, ringcache, lockedRedis, lockedRingcache);
    ports = { redis: redis.port, ringcache: ringcache.port };
    locked = { redis: lockedRedis.port, ringcache: lockedRingcache.port };
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
  });

  test('multibulk and bulk headers: leading zeros, -0, signs, INT_MAX counts, lines that are not bulk headers', T, () =>
    sameAsRedis(ports, [
      '*01\r\n$4\r\nPING\r\n',
      '*1\r\n$04\r\nPING\r\n',
      '*-0\r\n*1\r\n$4\r\nPING\r\n',
      '*00\r\n',
      '*1\r\n$00\r\n\r\n',
      '*1\r\n$-0\r\n',
      '*-1\r\n*-5\r\n*0\r\n*-9223372036854775808\r\n*1\r\n$4\r\nPING\r\n',
      '*-9223372036854775809\r\n',
      '*+1\r\n',
      '*1 \r\n',
      '*\r\n',
      '*1\r\n$\r\n',
      '*2147483647\r\n$4\r\nPING\r\n',
      '*2147483648\r\n',
      '*16777217\r\n$4\r\nPING\r\n',
      '*99999999999999999999\r\n',
      '*1\r\n$9223372036854775807\r\n',
      '*1\r\n+foo',
      ['*1\r\n+foo', '\r\n'],
      '*1\r\n\r\n',
      '*1\r\r\n$4\r\nPING\r\n',
      '*1\x00\r\n$4\r\nPING\r\n',
    ]));

  test('inline commands: sdssplitargs quoting, \\v and \\f, NUL bytes, the 64 KB limit', T, () =>
    sameAsRedis(ports, [
      'ECHO a"b c"\r\n',
      "ECHO a'b c'\r\n",
      'ECHO a"b"c\r\nPING\r\n',
      'ECHO "a""b"\r\n',
      'ECHO "a"x\r\nPING\r\n',
      'ECHO a\vb\r\nECHO a\fb\r\n',
      '\vECHO\v a\r\n',
      'ECHO "a"\v\r\nECHO "a"\vb\r\n',
      'ECHO a\rb\r\n',
      'ECHO "\\x4g" "\\x41"\r\n',
      'ECHO "a\\zb"\r\nECHO \'a\\zb\'\r\nECHO \'a\\\'\'\r\n',
      'ECHO "ab\\\r\n',
      'ECHO ""\r\n\r\n   \r\nPING\n',
      'ECHO a\x00b c\r\nPING\r\n',
      'ECHO "a\x00b" c\r\n',
      ['ECHO a\x00b\r\n', 'x'.repeat(70 * 1024)],
      'ECHO ' + 'A'.repeat(65532) + '\r\n',
      'ECHO ' + 'A'.repeat(80000) + '\r\n',
      'ECHO ' + 'A'.repeat(100000) + '\r\n',
      'ECHO ' + 'A'.repeat(70 * 1024),
    ]));

  test('unknown commands quote their bytes (not UTF-8 too, cut at 128 bytes and at a NUL)', T, () =>
    sameAsRedis(ports, [
      Buffer.from('*2\r\n$4\r\nfo\xffo\r\n$2\r\n\xfe\xfd\r\n', 'latin1'),
      Buffer.from('fo\xffo \xfe\xfd "\\xc3\\x28"\r\n', 'latin1'),
      Buffer.from('*3\r\n$5\r\nab\x00cd\r\n$3\r\nx\x00y\r\n$4\r\na\r\nb\r\n', 'latin1'),
      Buffer.concat([Buffer.from('*2\r\n$129\r\n'), Buffer.from('n'.repeat(127) + 'é'), Buffer.from('\r\n$200\r\n'), Buffer.from('é'.repeat(100)), Buffer.from('\r\n')]),
      'MULTI\r\n\xff\r\nEXEC\r\n',
    ]));

  test('HELLO before AUTH and its errors, with --requirepass', T, () =>
    sameAsRedis(locked, [
      'HELLO 3\r\n',
      'HELLO\r\n',
      'HELLO 3 AUTH default nope\r\n',
      'HELLO 3 AUTH\r\n',
      'HELLO 4\r\n',
    ]));

  test('--requirepass: the limits before AUTH, and none after it', T, () =>
    sameAsRedis(locked, [
      '*11\r\n',
      '*10\r\n',
      '*1000000\r\n',
      '*1\r\n$16385\r\n',
      '*1\r\n$16384\r\n',
      '*1\r\n$536870912\r\n',
      '*2147483648\r\n',
      '*01\r\n',
      'AUTH pw\r\n*11\r\n',
      '*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n*1\r\n$16385\r\n',
      'AUTH nope\r\n*11\r\n',
      'GET k\r\nAUTH nope\r\n*1\r\n$16385\r\n',
    ]));
});
