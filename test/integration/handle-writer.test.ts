/**
 * HandleWriter (src/server/handle-writer.ts) writes to a socket's libuv handle,
 * private Node API, beside the socket's own Writable. These tests run it on real
 * loopback sockets: the bytes arrive whole and in order whichever path each
 * chunk takes, a write the kernel cannot take at once is accounted for and
 * reported when done, and end() and destroy() behave as with socket.write.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { HandleWriter } from '../../src/server/handle-writer.js';
import { eventually, within } from '../helpers/tools.js';

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

    const received: Buffer[] = [];
    pair.client.on('data', (d: Buffer) => received.push(d));
    pair.client.resume();
    const want = Buffer.concat(chunks);
    await eventually(() => Buffer.concat(received).length >= want.length, 'all 12 MiB', 10_000);
    assert.ok(Buffer.concat(received).equals(want), 'every byte, in order');
    await eventually(() => writer.queuedBytes === 0, 'nothing queued once the client has read it all');
    assert.equal(drained, 1, 'the direct write that waited was reported done once');
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
