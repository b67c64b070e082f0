/**
 * Replies never carry memory the store has since freed and reused (issue #3):
 * slab values are copied into the reply at once, large values are Buffers of
 * their own that the store never changes. Checked on a real node, with a
 * reader that stops reading so that its replies stay queued in the socket
 * while other clients overwrite and delete the keys they came from.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { encodeRequest } from '../../src/protocol/request-encoder.js';
import { RawClient } from '../helpers/raw-client.js';
import { startRingcache, type Running } from '../helpers/processes.js';

const T = { timeout: 60_000 };
let node: Running;

before(async () => {
  node = await startRingcache();
});
after(async () => {
  await node.stop();
});

/** A value whose bytes say which key and version they belong to. */
function value(size: number, tag: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = (tag * 31 + i) & 0xff;
  return b;
}

// Sizes around the slab's largest chunk (16 KiB) and the writer's zero-copy threshold, and far above.
const SIZES = [1, 100, 16_000, 16_377, 16_384, 16_385, 100_000, 1_000_000];

test('a pipeline that reads a key, then overwrites and deletes it, gets the bytes as they were at the read', T, async () => {
  const c = await RawClient.connect(node.port);
  const cmds: Buffer[] = [];
  for (const [i, size] of SIZES.entries()) {
    const key = `k${i}`;
    cmds.push(encodeRequest(['SET', key, value(size, 1)]));
    cmds.push(encodeRequest(['GET', key]));
    cmds.push(encodeRequest(['SET', key, value(size, 2)])); // same size: a slab chunk would be reused at once
    cmds.push(encodeRequest(['DEL', key]));
    cmds.push(encodeRequest(['SET', `other${i}`, value(size, 3)]));
    cmds.push(encodeRequest(['GET', `other${i}`]));
  }
  c.write(Buffer.concat(cmds));
  const replies = await c.read(cmds.length, 30_000);
  for (const [i, size] of SIZES.entries()) {
    assert.deepEqual(replies[i * 6 + 1], value(size, 1), `GET of k${i} (${size} B) before the overwrite`);
    assert.deepEqual(replies[i * 6 + 5], value(size, 3), `GET of other${i} (${size} B)`);
  }
  c.socket.destroy();
});

test('replies queued behind a reader that does not read keep their bytes while other clients rewrite the keys', T, async () => {
  const reader = await RawClient.connect(node.port);
  const writer = await RawClient.connect(node.port);
  for (const [i, size] of SIZES.entries()) assert.equal(await writer.call('SET', `q${i}`, value(size, 10)), 'OK');
  // The reader asks for every key 20 times and stops reading: most replies wait in the node.
  reader.socket.pause();
  const gets: Buffer[] = [];
  for (let r = 0; r < 20; r++) for (const i of SIZES.keys()) gets.push(encodeRequest(['GET', `q${i}`]));
  reader.write(Buffer.concat(gets));
  await new Promise((r) => setTimeout(r, 300));
  // Meanwhile the keys are rewritten with other bytes, deleted, and their memory reused.
  for (let round = 0; round < 5; round++) {
    for (const [i, size] of SIZES.entries()) {
      assert.equal(await writer.call('SET', `q${i}`, value(size, 11 + round)), 'OK');
      assert.equal(await writer.call('DEL', `q${i}`), 1);
      assert.equal(await writer.call('SET', `fill${i}`, value(size, 50 + round)), 'OK');
    }
  }
  reader.socket.resume();
  const replies = await reader.read(gets.length, 30_000);
  for (let r = 0; r < 20; r++) {
    for (const [i, size] of SIZES.entries()) assert.deepEqual(replies[r * SIZES.length + i], value(size, 10), `reply ${r} for q${i} (${size} B)`);
  }
  reader.socket.destroy();
  writer.socket.destroy();
});
