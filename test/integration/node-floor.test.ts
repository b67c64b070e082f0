/**
 * The Node floor (bench/lib/node-floor-server.ts), the control server of
 * `npm run bench`, as its own process: it must answer every request
 * redis-benchmark sends with a reply of the right type and size, or the
 * benchmark would measure something else (redis-benchmark only counts replies).
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { sendCommands } from '../../bench/lib/resp.js';
import { startNodeFloor, type ServerHandle } from '../../bench/lib/servers.js';
import { runTool, within } from '../helpers/tools.js';

const T = { timeout: 30_000 };

describe('the Node floor', () => {
  let floor: ServerHandle;
  before(async () => {
    floor = await startNodeFloor();
  });
  after(async () => {
    const exit = await floor?.stop();
    assert.equal(exit?.code, 0, 'SIGTERM stops it with exit code 0');
  });

  test('answers the benchmark\'s commands with constants of the right type; GET as long as the last value written', T, async () => {
    const value = 'v'.repeat(100);
    const replies = await sendCommands(floor.port, [
      ['PING'], ['SET', 'k', value], ['GET', 'k'], ['INCR', 'n'], ['INCR', 'n'], ['MSET', 'a', 'xyz', 'b', 'xyz'], ['GET', 'a'], ['CONFIG', 'GET', 'save'], ['CONFIG', 'GET', 'appendonly'],
    ]);
    assert.deepEqual(replies, ['PONG', 'OK', 'x'.repeat(100), 1, 1, 'OK', 'xxx', ['save', ''], ['appendonly', '']]);
  });

  test('answers every command of a long pipeline', T, async () => {
    const commands = Array.from({ length: 2000 }, (_, i) => ['SET', `key:${i}`, 'x'.repeat(i % 50)]);
    const replies = await sendCommands(floor.port, commands, 10_000);
    assert.equal(replies.length, 2000);
    assert.ok(replies.every((r) => r === 'OK'));
  });

  test('a protocol error gets -ERR and the connection is closed', T, async () => {
    const socket = net.connect(floor.port, '127.0.0.1');
    const received: Buffer[] = [];
    socket.on('data', (d: Buffer) => received.push(d));
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.write('*1\r\n$abc\r\n');
    await within(5000, 'the close after a protocol error', closed);
    assert.match(Buffer.concat(received).toString(), /^-ERR Protocol error/);
  });

  test('redis-benchmark runs against it at pipelines 1 and 16, with values in one piece and in several', T, async () => {
    for (const [pipeline, size] of [['1', '32'], ['16', '32'], ['16', '40000']] as const) {
      const r = await runTool('redis-benchmark', ['-p', String(floor.port), '-t', 'set,get,incr,mset', '-n', '2000', '-c', '5', '-P', pipeline, '-d', size, '--csv'], { timeoutMs: 20_000 });
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stderr + r.stdout, /WARNING/, 'redis-benchmark reads the CONFIG answer');
      for (const name of ['SET', 'GET', 'INCR', 'MSET (10 keys)']) assert.match(r.stdout, new RegExp(`^"${name.replace(/[()]/g, '\\$&')}","[0-9.]+"`, 'm'));
    }
  });
});
