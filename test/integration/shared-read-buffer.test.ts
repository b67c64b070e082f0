/**
 * The node reads every client into one shared buffer (src/server/shared-read-buffer.ts),
 * which relies on two private parts of Node's net module. These tests check
 * that those parts behave as the module assumes on the Node running the
 * tests, and that nothing the node sends back still points into the buffer
 * once the next read overwrites it.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { adoptAccepted } from '../../src/server/shared-read-buffer.js';
import { encodeRequest } from '../../src/protocol/request-encoder.js';
import { startRingcache, type Running } from '../helpers/processes.js';
import { eventually, sleep, within } from '../helpers/tools.js';

const T = { timeout: 30_000 };

describe('adoptAccepted on a real socket', () => {
  test('reads into the shared buffer, pauses and resumes, and keeps the server\'s connection count right', T, async () => {
    const chunks: string[] = [];
    let adopted: ReturnType<typeof adoptAccepted> | undefined;
    const server = net.createServer({ pauseOnConnect: true, allowHalfOpen: true }, (s) => {
      adopted = adoptAccepted(s, true, { onChunk: (chunk) => void chunks.push(chunk.toString()) });
      adopted.socket.on('end', () => adopted!.socket.end('bye'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    const client = net.connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    client.on('data', (d: Buffer) => received.push(d));
    try {
      client.write('hello');
      await eventually(() => chunks.join('') === 'hello', 'the first bytes to arrive');
      assert.equal(adopted!.reused, true, 'this Node supports reading an accepted socket into a caller\'s buffer');

      adopted!.socket.pause();
      client.write('world');
      await sleep(150);
      assert.equal(chunks.join(''), 'hello', 'nothing is read while paused');
      adopted!.socket.resume();
      await eventually(() => chunks.join('') === 'helloworld', 'the bytes sent while paused, after resume');

      const counted = () => new Promise<number>((resolve, reject) => server.getConnections((err, n) => (err ? reject(err) : resolve(n))));
      assert.equal(await counted(), 1);
      // Half-close: the server sees 'end', answers, and the socket closes.
      client.end();
      await eventually(() => Buffer.concat(received).toString() === 'bye', 'the reply to the FIN');
      await eventually(async () => (await counted()) === 0, 'the connection count back to 0');
      await within(5000, 'server.close() once the connection is gone', new Promise<void>((resolve) => server.close(() => resolve())));
    } finally {
      client.destroy();
      server.close();
    }
  });
});

test('a socket without the handle it needs is read the ordinary way', () => {
  const socket = new net.Socket(); // not connected: no handle yet
  try {
    const adopted = adoptAccepted(socket, true, { onChunk: () => {} });
    assert.equal(adopted.reused, false);
    assert.equal(adopted.socket, socket);
    assert.equal(socket.listenerCount('data'), 1, 'read through \'data\' events');
  } finally {
    socket.destroy();
  }
});

describe('replies never refer to the shared read buffer', () => {
  let node: Running;
  before(async () => {
    node = await startRingcache(['--client-output-limit', '256mb']);
  });
  after(async () => {
    await node?.stop();
  });

  test('large ECHO, PING and COMMAND GETKEYS replies to a client that reads only after sending everything', T, async () => {
    // Arguments of 20-60 KiB: above the writer's zero-copy threshold (16 KiB)
    // and small enough for a whole request to sit in one 64 KiB read. The
    // client reads nothing for a while, so the node's writes back up past
    // the socket buffers and stay queued while later reads overwrite the
    // shared buffer.
    const requests: Buffer[] = [];
    const expected: Buffer[] = [];
    for (let i = 0; i < 600; i++) {
      const arg = Buffer.alloc(20_000 + ((i * 7919) % 40_000), 97 + (i % 26));
      arg.write(`#${i}#`);
      const kind = i % 3;
      requests.push(encodeRequest(kind === 0 ? ['ECHO', arg] : kind === 1 ? ['PING', arg] : ['COMMAND', 'GETKEYS', 'GET', arg]));
      const bulk = Buffer.concat([Buffer.from(`$${arg.length}\r\n`), arg, Buffer.from('\r\n')]);
      expected.push(kind === 2 ? Buffer.concat([Buffer.from('*1\r\n'), bulk]) : bulk);
    }
    const want = Buffer.concat(expected);

    const client = net.connect(node.port, '127.0.0.1');
    client.on('error', () => {});
    try {
      await new Promise<void>((resolve, reject) => {
        client.once('connect', resolve);
        client.once('error', reject);
      });
      client.pause();
      // One request per write, paced, so that each arrives in a read of its
      // own and is parsed in place in the shared buffer (a request split
      // across reads is copied out of it). Not waiting for the writes to
      // finish: the node stops reading this client once 4 MB of its replies
      // are unsent, until it reads them.
      for (const r of requests) {
        client.write(r);
        await sleep(1);
      }
      await sleep(500);
      const got: Buffer[] = [];
      let bytes = 0;
      await within(20_000, `all ${want.length} bytes of replies`, new Promise<void>((resolve, reject) => {
        client.on('data', (d: Buffer) => {
          got.push(d);
          bytes += d.length;
          if (bytes >= want.length) resolve();
        });
        client.once('close', () => reject(new Error(`connection closed after ${bytes} of ${want.length} bytes`)));
        client.resume();
      }));
      const all = Buffer.concat(got);
      assert.equal(all.length, want.length);
      let offset = 0;
      for (const [i, e] of expected.entries()) {
        assert.ok(all.subarray(offset, offset + e.length).equals(e), `reply ${i} has the bytes that were sent`);
        offset += e.length;
      }
    } finally {
      client.destroy();
    }
  });
});
