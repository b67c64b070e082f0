/**
 * MULTI/EXEC/WATCH in-process, with a manual clock: what the wire comparison
 * with Redis cannot show (eviction, active expiry, the store's watch signal
 * detached when nothing is watched, state dropped with the connection).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { endTransaction } from '../../src/commands/transactions.js';
import { CommandHarness } from '../helpers/command-harness.js';
import { ReplyError } from '../helpers/raw-client.js';

const execPing = (h: CommandHarness) => {
  assert.equal(h.run('MULTI'), 'OK');
  assert.equal(h.run('PING'), 'QUEUED');
  return h.run('EXEC');
};

test('the store has no watch signal unless a key is watched', () => {
  const h = new CommandHarness();
  assert.equal(h.store.watch, null);
  h.run('WATCH', 'a', 'b');
  assert.notEqual(h.store.watch, null);
  h.run('UNWATCH');
  assert.equal(h.store.watch, null);
  h.run('WATCH', 'a');
  assert.deepEqual(execPing(h), ['PONG']);
  assert.equal(h.store.watch, null, 'EXEC unwatches');
  h.run('WATCH', 'a');
  h.run('MULTI');
  h.run('DISCARD');
  assert.equal(h.store.watch, null, 'DISCARD unwatches');
  h.run('WATCH', 'a');
  h.run('MULTI');
  h.run('RESET');
  assert.equal(h.store.watch, null, 'RESET unwatches');
  assert.ok(h.run('EXEC') instanceof ReplyError, 'RESET left MULTI');
});

test('a closed connection (endTransaction) leaves MULTI and unwatches', () => {
  const h = new CommandHarness();
  h.run('WATCH', 'a');
  h.run('MULTI');
  h.run('SET', 'a', '1');
  endTransaction(h.session);
  assert.equal(h.store.watch, null);
  assert.equal(h.text('GET', 'a'), null, 'the queued SET never ran');
});

test('WATCH: expiry on the clock, whether read, actively expired, or untouched', () => {
  const h = new CommandHarness();
  h.run('SET', 'a', '1', 'PX', '100');
  h.run('WATCH', 'a');
  h.clock.advance(100);
  assert.equal(execPing(h), null, 'expired, never read');
  h.run('SET', 'a', '1', 'PX', '100');
  h.run('WATCH', 'a');
  h.clock.advance(150);
  h.store.activeExpire(10);
  assert.equal(h.run('EXISTS', 'a'), 0);
  assert.equal(execPing(h), null, 'actively expired');
  h.run('SET', 'a', '1', 'PX', '100');
  h.run('WATCH', 'a');
  h.clock.advance(99);
  assert.deepEqual(execPing(h), ['PONG'], 'not yet expired');
});

test('WATCH: an evicted key fails EXEC', () => {
  const h = new CommandHarness();
  h.limits.maxmemoryPolicy = 'allkeys-lru';
  const keys = Array.from({ length: 200 }, (_, i) => `k${i}`);
  for (const k of keys) h.run('SET', k, 'x'.repeat(100));
  h.run('WATCH', ...keys);
  h.limits.maxmemory = Math.floor(h.store.usedMemory / 2);
  h.run('SET', 'trigger', 'v');
  assert.ok(h.store.stats.evicted > 0, 'something was evicted');
  h.limits.maxmemory = 0; // so that MULTI's own OOM check (any command, over the limit) stays out of it
  assert.equal(execPing(h), null);
});

test('EXEC runs the queue in one go; errors inside are replies in its array', () => {
  const h = new CommandHarness();
  h.run('SET', 's', 'x');
  h.run('MULTI');
  for (const c of [['INCR', 's'], ['SET', 'a', '1'], ['INCR', 'a'], ['GET', 'a']]) assert.equal(h.run(...c), 'QUEUED');
  const r = h.run('EXEC') as unknown[];
  assert.ok(r[0] instanceof ReplyError && /not an integer/.test(r[0].message));
  assert.deepEqual(r.slice(1).map((x) => (Buffer.isBuffer(x) ? x.toString() : x)), ['OK', 2, '2']);
});

test('queued arguments are copies: later input does not change them', () => {
  const h = new CommandHarness();
  const key = Buffer.from('key');
  const value = Buffer.from('one');
  h.run('MULTI');
  h.run('SET', key, value);
  value.write('two');
  key.write('xyz');
  h.run('EXEC');
  assert.equal(h.text('GET', 'key'), 'one');
});
