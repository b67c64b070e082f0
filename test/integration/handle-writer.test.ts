/**
 * HandleWriter (src/server/handle-writer.ts) writes to a socket's libuv handle,
 * private Node API, beside the socket's own Writable. These tests run it on real
 * loopback sockets: the bytes arrive whole and in order whichever path each
 * chunk takes, a write the kernel cannot take at once is accounted for and
 * reported when done, and end() and destroy() behave as with socket.write;
 * and in the node, a client paused by a pending direct write is resumed.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { encodeRequest } from '../../src/protocol/request-encoder.js';
import { HandleWriter } from '../../src/server/handle-writer.js';
import { startRingcache, type Running } from '../helpers/processes.js';
import { eventually, sleep, within } from '../helpers/tools.js';

const T = { timeout: 30_000 };
const MIB = 1024 * 1024;

interface Pair {
  server: net.Server;
  accepted: net.Socket;
  client: net.Socket;
  close(): void;
}

async function connectedPair(): Promise<Pair> {
  const server = net.createServer();
  const acceptedP = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  const accepted = await within(5000, 'the connection', acceptedP);
  accepted.on('error', () => {});
  client.on('error', () => {});
  return {
    server,
    accepted,
    client,
    close() {
      client.destroy();
      accepted.destroy();
      server.close();
    },
  };
}

/** A chunk whose every byte says which chunk and where it is, so order shows. */
function numbered(index: number, bytes: number): Buffer {
  const b = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i += 4) b.writeUInt32BE((index * 0x1000000 + i / 4) >>> 0, i);
  return b;
}

/** Lets a client that read nothing so far read on, and resolves with all it gets once it has `bytes`. */
async function readOn(client: net.Socket, bytes: number): Promise<Buffer> {
  const received: Buffer[] = [];
  let length = 0;
  client.on('data', (d: Buffer) => {
    received.push(d);
    length += d.length;
  });
  client.resume();
  await eventually(() => length >= bytes, `${bytes} bytes`, 10_000);
  return Buffer.concat(received);
}

test('small writes go straight to the handle and arrive in order', T, async () => {
  const pair = await connectedPair();
  try {
    const writer = new HandleWriter(pair.accepted, () => {});
    assert.equal(writer.direct, true, 'this Node exposes the handle API HandleWriter uses');
    let viaWritable = 0;
    const write = pair.accepted.write.bind(pair.accepted);
    pair.accepted.write = ((...args: Parameters<typeof write>) => (viaWritable++, write(...args))) as typeof write;
    const received: Buffer[] = [];
    pair.client.on('data', (d: Buffer) => received.push(d));
    const expected: Buffer[] = [];
    for (let i = 0; i < 1000; i++) {
      const chunk = Buffer.from(`reply ${i}\r\n`);
      expected.push(chunk);
      writer.write(chunk);
      assert.equal(writer.queuedBytes, 0, 'a small write completes at once');
    }
    const want = Buffer.concat(expected);
    await eventually(() => Buffer.concat(received).length >= want.length, 'all replies');
    assert.deepEqual(Buffer.concat(received), want);
    assert.equal(viaWritable, 0, 'none went through socket.write');
  } finally {
    pair.close();
  }
});

test('a write the kernel cannot take at once stays accounted until done; later chunks queue behind it', T, async () => {
  const pair = await connectedPair();
  try {
    let drained = 0;
    const writer = new HandleWriter(pair.accepted, () => drained++);
    pair.client.pause(); // the client reads nothing until all is written
    const chunks = Array.from({ length: 12 }, (_, i) => numbered(i + 1, MIB));
    let firstPending = -1;
    for (const [i, chunk] of chunks.entries()) {
      writer.write(chunk);
      if (firstPending < 0 && writer.queuedBytes > 0) firstPending = i;
    }
    assert.ok(firstPending >= 0, '12 MiB to a client that does not read cannot all be taken at once');
    assert.ok(writer.queuedBytes >= MIB, `queued ${writer.queuedBytes} bytes`);

    const want = Buffer.concat(chunks);
    assert.ok((await readOn(pair.client, want.length)).equals(want), 'every byte, in order');
    await eventually(() => writer.queuedBytes === 0, 'nothing queued once the client has read it all');
    assert.equal(drained, 1, 'the direct write that waited was reported done once');
  } finally {
    pair.close();
  }
});

test('while the socket itself holds bytes, a chunk queues behind them, not beside', T, async () => {
  const pair = await connectedPair();
  try {
    const writer = new HandleWriter(pair.accepted, () => {});
    pair.client.pause();
    const first = numbered(1, 8 * MIB);
    const second = Buffer.alloc(1000, 'B');
    const third = Buffer.alloc(1000, 'C');
    pair.accepted.write(first); // through the Writable: 8 MiB the kernel cannot take at once
    pair.accepted.write(second); // waits in the Writable's own buffer
    assert.ok(pair.accepted.writableLength > 0);
    writer.write(third);
    const want = Buffer.concat([first, second, third]);
    assert.ok((await readOn(pair.client, want.length)).equals(want), 'in the order written');
  } finally {
    pair.close();
  }
});

test('end() after a pending direct write delivers every byte before the FIN', T, async () => {
  const pair = await connectedPair();
  try {
    const writer = new HandleWriter(pair.accepted, () => {});
    pair.client.pause();
    const big = numbered(7, 8 * MIB);
    writer.write(big);
    assert.ok(writer.queuedBytes > 0, 'the write is pending');
    pair.accepted.end();
    const received: Buffer[] = [];
    pair.client.on('data', (d: Buffer) => received.push(d));
    const ended = new Promise<void>((resolve) => pair.client.once('end', resolve));
    pair.client.resume();
    await within(10_000, 'the FIN', ended);
    assert.ok(Buffer.concat(received).equals(big), 'the FIN came after the whole write');
  } finally {
    pair.close();
  }
});

test('destroy() during a pending direct write cancels it without a throw', T, async () => {
  const pair = await connectedPair();
  try {
    let drained = 0;
    const writer = new HandleWriter(pair.accepted, () => drained++);
    pair.client.pause();
    writer.write(numbered(3, 8 * MIB));
    assert.ok(writer.queuedBytes > 0, 'the write is pending');
    const closed = new Promise<void>((resolve) => pair.accepted.once('close', () => resolve()));
    pair.accepted.destroy();
    await within(5000, 'the close', closed);
    await eventually(() => writer.queuedBytes === 0, 'the cancelled write no longer counted');
    assert.equal(drained, 0, 'a cancelled write is not reported as drained');
    writer.write(Buffer.from('late')); // after destroy: dropped by the socket, no throw
  } finally {
    pair.close();
  }
});

test('a stream without a libuv handle is written through write()', () => {
  const stream = new PassThrough();
  const writer = new HandleWriter(stream as unknown as net.Socket, () => {});
  writer.write(Buffer.from('abc'));
  writer.write(Buffer.from('def'));
  assert.equal(String(stream.read()), 'abcdef');
});

describe('in the node', () => {
  let node: Running;
  before(async () => {
    node = await startRingcache(['--proto-max-bulk-len', '16mb']);
  });
  after(async () => {
    await node?.stop();
  });

  test('a client paused by one direct write alone is resumed when libuv finishes it', T, async () => {
    // ECHO's reply is copied into the writer's buffer: one piece of 6 MiB, one
    // direct write the kernel cannot take at once while the client reads
    // nothing. Its 6 MiB pass the 4 MiB pause limit, so the node stops reading
    // this client until that write completes; the socket's own 'drain' never
    // comes, as the socket itself holds nothing.
    const big = 'e'.repeat(6 * MIB);
    const client = net.connect(node.port, '127.0.0.1');
    client.on('error', () => {});
    await within(5000, 'the connection', new Promise<void>((resolve) => client.once('connect', () => resolve())));
    try {
      const received: Buffer[] = [];
      client.on('data', (d: Buffer) => received.push(d));
      client.pause();
      client.write(encodeRequest(['ECHO', big]));
      await sleep(500);
      client.write(encodeRequest(['PING']));
      await sleep(200);
      client.resume();
      const want = `$${big.length}\r\n${big}\r\n+PONG\r\n`;
      await eventually(() => Buffer.concat(received).length >= want.length, 'the echo and then PONG', 10_000);
      assert.ok(Buffer.concat(received).toString() === want, 'the whole echo, then PONG');
    } finally {
      client.destroy();
    }
  });
});
