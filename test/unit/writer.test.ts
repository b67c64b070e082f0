import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReplyWriter } from '../../src/protocol/writer.js';

const text = (w: ReplyWriter): string => Buffer.concat(w.take() ?? []).toString('latin1');

test('encodes RESP2 replies', () => {
  const w = new ReplyWriter();
  w.simple('OK');
  w.error('ERR bad\r\nthing');
  w.integer(0);
  w.integer(-1234567890123);
  w.integer(9223372036854775807n);
  w.bulk(Buffer.from('hello'));
  w.bulkLatin1('k\u00ff');
  w.nullBulk();
  w.nullArray();
  w.map(1);
  w.double(1.5);
  w.verbatim('a');
  assert.equal(text(w), '+OK\r\n-ERR bad  thing\r\n:0\r\n:-1234567890123\r\n:9223372036854775807\r\n$5\r\nhello\r\n$2\r\nk\xff\r\n$-1\r\n*-1\r\n*2\r\n$3\r\n1.5\r\n$1\r\na\r\n');
});

test('encodes RESP3 replies', () => {
  const w = new ReplyWriter();
  w.protocol = 3;
  w.nullBulk();
  w.map(2);
  w.set(3);
  w.double(Infinity);
  w.verbatim('hi');
  assert.equal(text(w), '_\r\n%2\r\n~3\r\n,inf\r\n=6\r\ntxt:hi\r\n');
});

test('writes every integer digit correctly', () => {
  const w = new ReplyWriter();
  const values = [0, 7, 9, 10, 99, 100, 1000000, 2 ** 53 - 1, -(2 ** 53 - 1), -10];
  for (const v of values) w.integer(v);
  assert.equal(text(w), values.map((v) => `:${v}\r\n`).join(''));
});

test('large values go out by reference, small ones are copied', () => {
  const w = new ReplyWriter();
  const big = Buffer.alloc(100_000, 'b');
  w.simple('x');
  w.bulk(big);
  w.simple('y');
  const pieces = w.take()!;
  assert.ok(pieces.includes(big), 'the large value itself is one of the pieces');
  assert.equal(Buffer.concat(pieces).toString('latin1'), `+x\r\n$100000\r\n${'b'.repeat(100_000)}\r\n+y\r\n`);
  assert.equal(w.take(), null);
});

test('grows past its initial buffer and keeps order', () => {
  const w = new ReplyWriter();
  const value = Buffer.alloc(10_000, 'v');
  for (let i = 0; i < 20; i++) w.bulk(value);
  assert.equal(w.length, 20 * (10_000 + 10));
  assert.equal(Buffer.concat(w.take()!).length, 20 * (10_000 + 10));
});

test('rollback drops a half-written reply, also across a cut', () => {
  const w = new ReplyWriter();
  w.simple('kept');
  const mark = w.mark();
  w.array(3);
  w.bulk(Buffer.alloc(70_000, 'z')); // forces a cut and a referenced segment
  w.rollback(mark);
  w.error('ERR replaced');
  assert.equal(text(w), '+kept\r\n-ERR replaced\r\n');
});

test('takeLent lends its buffer: reused when given back free, left to the holder when still held', () => {
  const w = new ReplyWriter();
  w.simple('ONE');
  // The array is the writer's (reused from call to call): hold the pieces.
  const [first] = w.takeLent()!;
  assert.equal(first!.toString(), '+ONE\r\n');
  w.returned(false); // the write completed: the bytes may be overwritten
  w.simple('TWO');
  const [second] = w.takeLent()!;
  assert.equal(second!.buffer, first!.buffer, 'a buffer given back free is reused');
  w.returned(true); // a pending write still holds it
  w.simple('XXX');
  assert.equal(second!.toString(), '+TWO\r\n', 'a held buffer is never written again');
  assert.notEqual(w.takeLent()![0]!.buffer, second!.buffer);
  w.returned(false);
  // A large value goes by reference between the bytes before and after it, in order.
  const big = Buffer.alloc(70_000, 'v');
  w.simple('A');
  w.bulk(big);
  w.simple('B');
  const pieces = [...w.takeLent()!];
  w.returned(false);
  assert.equal(Buffer.concat(pieces).toString(), `+A\r\n$70000\r\n${big.toString()}\r\n+B\r\n`);
  w.simple('C');
  assert.equal(Buffer.concat(w.takeLent()!).toString(), '+C\r\n', 'nothing of the last chunk comes again');
  w.returned(false);
  assert.equal(w.takeLent(), null, 'nothing written, nothing lent');
});

test('takeLent hands out views of the right length whichever of the recent lengths comes back', () => {
  const w = new ReplyWriter();
  const replies = ['+A', '+BB', '+A', '+A', '+BB', '+CCC', '+A', '+BB', '+BB', '+CCC'];
  for (const r of replies) {
    w.simple(r.slice(1));
    const pieces = w.takeLent()!;
    assert.equal(Buffer.concat(pieces).toString(), `${r}\r\n`);
    w.returned(false);
  }
  // A buffer left to a pending write: the next views are of the new buffer.
  w.simple('A');
  const [held] = w.takeLent()!;
  w.returned(true);
  w.simple('Z');
  const [next] = w.takeLent()!;
  w.returned(false);
  assert.notEqual(next!.buffer, held!.buffer);
  assert.equal(held!.toString(), '+A\r\n');
  assert.equal(next!.toString(), '+Z\r\n');
});
