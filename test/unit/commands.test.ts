/** Command semantics in-process, with a manual clock (the wire-level comparison with Redis is in test/integration). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CommandHarness } from '../helpers/command-harness.js';
import { ReplyError } from '../helpers/raw-client.js';

const isError = (r: unknown, text: string | RegExp) => {
  assert.ok(r instanceof ReplyError, `expected an error, got ${String(r)}`);
  if (typeof text === 'string') assert.equal(r.message, text);
  else assert.match(r.message, text);
};

test('SET EX / PX expire at their millisecond; KEEPTTL keeps it', () => {
  const h = new CommandHarness();
  assert.equal(h.run('SET', 'a', '1', 'PX', '1500'), 'OK');
  assert.equal(h.run('PTTL', 'a'), 1500);
  assert.equal(h.run('TTL', 'a'), 2); // rounded as Redis does
  h.clock.advance(1000);
  assert.equal(h.run('SET', 'a', '2', 'KEEPTTL'), 'OK');
  assert.equal(h.run('PTTL', 'a'), 500);
  h.clock.advance(499);
  assert.equal(h.text('GET', 'a'), '2');
  h.clock.advance(1);
  assert.equal(h.text('GET', 'a'), null);
  assert.equal(h.run('TTL', 'a'), -2);
});

test('an expire time in the past deletes the key', () => {
  const h = new CommandHarness();
  h.run('SET', 'a', '1');
  assert.equal(h.run('EXPIREAT', 'a', '1'), 1);
  assert.equal(h.run('EXISTS', 'a'), 0);
  h.run('SET', 'b', '1');
  assert.equal(h.run('PEXPIRE', 'b', '-5'), 1);
  assert.equal(h.run('EXISTS', 'b'), 0);
  assert.equal(h.run('SET', 'c', '1', 'PXAT', String(h.clock.now() - 1)), 'OK');
  assert.equal(h.run('EXISTS', 'c'), 0);
});

test('EXPIRE NX XX GT LT follow Redis 7 rules', () => {
  const h = new CommandHarness();
  h.run('SET', 'k', 'v');
  assert.equal(h.run('EXPIRE', 'k', '100', 'XX'), 0);
  assert.equal(h.run('EXPIRE', 'k', '100', 'GT'), 0, 'no TTL counts as infinite');
  assert.equal(h.run('EXPIRE', 'k', '100', 'LT'), 1);
  assert.equal(h.run('EXPIRE', 'k', '50', 'NX'), 0);
  assert.equal(h.run('EXPIRE', 'k', '200', 'GT'), 1);
  assert.equal(h.run('TTL', 'k'), 200);
  isError(h.run('EXPIRE', 'k', '1', 'NX', 'XX'), 'ERR NX and XX, GT or LT options at the same time are not compatible');
  isError(h.run('EXPIRE', 'k', '1', 'GT', 'LT'), 'ERR GT and LT options at the same time are not compatible');
  assert.equal(h.run('PERSIST', 'k'), 1);
  assert.equal(h.run('TTL', 'k'), -1);
});

test('GETEX sets and removes expiries; EXPIRETIME reports them', () => {
  const h = new CommandHarness();
  h.run('SET', 'k', 'v');
  assert.equal(h.text('GETEX', 'k', 'EXAT', String(Math.floor(h.clock.now() / 1000) + 60)), 'v');
  assert.equal(h.run('EXPIRETIME', 'k'), Math.floor(h.clock.now() / 1000) + 60);
  assert.equal(h.text('GETEX', 'k', 'PERSIST'), 'v');
  assert.equal(h.run('PEXPIRETIME', 'k'), -1);
  isError(h.run('GETEX', 'k', 'EX', '10', 'PX', '10'), 'ERR syntax error');
});

test('SET options: NX, XX, GET and conflicts', () => {
  const h = new CommandHarness();
  assert.equal(h.run('SET', 'k', '1', 'XX'), null);
  assert.equal(h.run('SET', 'k', '1', 'NX'), 'OK');
  assert.equal(h.run('SET', 'k', '2', 'NX'), null);
  assert.equal(h.text('SET', 'k', '3', 'GET'), '1');
  assert.equal(h.text('SET', 'missing', 'x', 'GET'), null);
  isError(h.run('SET', 'k', 'v', 'NX', 'XX'), 'ERR syntax error');
  isError(h.run('SET', 'k', 'v', 'EX', '10', 'PX', '10'), 'ERR syntax error');
  isError(h.run('SET', 'k', 'v', 'EX', '0'), "ERR invalid expire time in 'set' command");
  isError(h.run('SET', 'k', 'v', 'EX', 'x'), 'ERR value is not an integer or out of range');
  assert.equal(h.text('GET', 'k'), '3', 'failed SETs changed nothing');
});

test('counters: INCR family, overflow, non-integers, INCRBYFLOAT', () => {
  const h = new CommandHarness();
  assert.equal(h.run('INCR', 'n'), 1);
  assert.equal(h.run('INCRBY', 'n', '41'), 42);
  assert.equal(h.run('DECRBY', 'n', '50'), -8);
  h.run('SET', 'big', '9223372036854775806');
  assert.equal(h.run('INCR', 'big'), 9223372036854775807n);
  isError(h.run('INCR', 'big'), 'ERR increment or decrement would overflow');
  isError(h.run('DECRBY', 'n', '-9223372036854775808'), 'ERR decrement would overflow');
  h.run('SET', 's', '1.5');
  isError(h.run('INCR', 's'), 'ERR value is not an integer or out of range');
  assert.equal(h.text('INCRBYFLOAT', 's', '0.25'), '1.75');
  assert.equal(h.text('INCRBYFLOAT', 's', '1e2'), '101.75');
  isError(h.run('INCRBYFLOAT', 's', 'inf'), 'ERR increment would produce NaN or Infinity');
  h.run('SET', 't', '10', 'EX', '100');
  h.run('INCR', 't');
  assert.equal(h.run('TTL', 't'), 100, 'INCR keeps the TTL');
});

test('ranges: GETRANGE negative indices, SETRANGE padding, APPEND', () => {
  const h = new CommandHarness();
  h.run('SET', 's', 'Hello World');
  assert.equal(h.text('GETRANGE', 's', '0', '4'), 'Hello');
  assert.equal(h.text('GETRANGE', 's', '-5', '-1'), 'World');
  assert.equal(h.text('GETRANGE', 's', '5', '1'), '');
  assert.equal(h.text('GETRANGE', 's', '0', '100'), 'Hello World');
  assert.equal(h.run('SETRANGE', 'p', '3', 'x'), 4);
  assert.equal(h.text('GET', 'p'), '\0\0\0x');
  assert.equal(h.run('SETRANGE', 'q', '0', ''), 0);
  assert.equal(h.run('EXISTS', 'q'), 0, 'an empty SETRANGE on a missing key creates nothing');
  isError(h.run('SETRANGE', 'p', '-1', 'x'), 'ERR offset is out of range');
  assert.equal(h.run('APPEND', 's', '!'), 12);
  assert.equal(h.run('STRLEN', 's'), 12);
});

test('MSET / MSETNX / MGET', () => {
  const h = new CommandHarness();
  assert.equal(h.run('MSET', 'a', '1', 'b', '2'), 'OK');
  isError(h.run('MSET', 'a', '1', 'b'), "ERR wrong number of arguments for 'mset' command");
  assert.equal(h.run('MSETNX', 'b', '3', 'c', '4'), 0);
  assert.equal(h.run('EXISTS', 'c'), 0);
  assert.deepEqual(h.run('MGET', 'a', 'c', 'b'), [Buffer.from('1'), null, Buffer.from('2')]);
});

test('unknown commands, wrong arity and auth errors use Redis texts', () => {
  const h = new CommandHarness();
  isError(h.run('NOPE', 'a', 'b'), "ERR unknown command 'NOPE', with args beginning with: 'a' 'b' ");
  isError(h.run('GET'), "ERR wrong number of arguments for 'get' command");
  isError(h.run('CLIENT', 'NOPE'), "ERR unknown subcommand 'NOPE'. Try CLIENT HELP.");
  isError(h.run('CLIENT', 'SETNAME'), "ERR wrong number of arguments for 'client|setname' command");
  const locked = new CommandHarness('secret');
  isError(locked.run('GET', 'a'), 'NOAUTH Authentication required.');
  isError(locked.run('AUTH', 'wrong'), 'WRONGPASS invalid username-password pair or user is disabled.');
  assert.equal(locked.run('AUTH', 'secret'), 'OK');
  assert.equal(locked.run('GET', 'a'), null);
});

test('an unknown command\'s error quotes its bytes as Redis does: not UTF-8 too, cut at 128 bytes and at a NUL', () => {
  const h = new CommandHarness();
  const bytes = (...parts: Array<string | Buffer>) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : p)));
  assert.deepEqual(h.raw(bytes('fo\xffo'), bytes('\xfe\xfd'), 'a\r\nb'), bytes("-ERR unknown command 'fo\xffo', with args beginning with: '\xfe\xfd' 'a  b' \r\n"));
  assert.deepEqual(h.raw(bytes('ab\x00cd'), bytes('x\x00y')), bytes("-ERR unknown command 'ab', with args beginning with: 'x' \r\n"));
  // 127 ASCII bytes then a 2-byte character: the name is cut inside it, at 128 bytes.
  const name = Buffer.from('n'.repeat(127) + 'é');
  assert.deepEqual(h.raw(name), bytes(`-ERR unknown command '${'n'.repeat(127)}`, Buffer.from('é').subarray(0, 1), "', with args beginning with: \r\n"));
  h.run('MULTI');
  assert.deepEqual(h.raw(bytes('\xff')), bytes("-ERR unknown command '\xff', with args beginning with: \r\n"), 'inside MULTI too');
  isError(h.run('EXEC'), 'EXECABORT Transaction discarded because of previous errors.');
});

test('HELLO before AUTH: Redis 7.0\'s NOAUTH text', () => {
  const h = new CommandHarness('secret');
  isError(h.run('HELLO', '3'), 'NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time');
});

test('10 wrong passwords in a row (AUTH or HELLO AUTH) close the connection after the last WRONGPASS; a success starts the count again', () => {
  const h = new CommandHarness('secret');
  const wrong = 'WRONGPASS invalid username-password pair or user is disabled.';
  for (let i = 0; i < 9; i++) isError(h.run('AUTH', 'guess'), wrong);
  assert.equal(h.session.closeAfterReply, false);
  assert.equal(h.run('AUTH', 'secret'), 'OK');
  for (let i = 0; i < 5; i++) isError(h.run('AUTH', 'default', 'guess'), wrong);
  for (let i = 0; i < 4; i++) isError(h.run('HELLO', '3', 'AUTH', 'default', 'guess'), wrong);
  assert.equal(h.session.closeAfterReply, false, '9 in a row since the success');
  isError(h.run('AUTH', 'guess'), wrong);
  assert.equal(h.session.closeAfterReply, true, 'the 10th in a row closes once replied');
});

test('maxmemory: a write whose arguments alone are over the limit is refused with OOM before any key is evicted', () => {
  const h = new CommandHarness();
  h.limits.maxmemoryPolicy = 'allkeys-s3fifo';
  for (let i = 0; i < 100; i++) h.run('SET', `k${i}`, 'v');
  h.limits.maxmemory = h.store.usedMemory + 64 * 1024;
  const huge = Buffer.alloc(h.limits.maxmemory + 1, 'x');
  isError(h.run('SET', 'mid', huge), "OOM command not allowed when used memory > 'maxmemory'.");
  isError(h.run('APPEND', 'k1', huge), /^OOM /);
  isError(h.run('HSET', 'h', 'f', huge), /^OOM /);
  assert.equal(h.run('DBSIZE'), 100, 'nothing evicted');
  assert.equal(h.run('EXISTS', 'mid'), 0);
  h.run('MULTI');
  isError(h.run('SET', 'mid', huge), /^OOM /);
  isError(h.run('EXEC'), /^EXECABORT /);
  assert.equal(h.run('DBSIZE'), 100, 'nothing evicted for a queued one either');
  // One that fits once others are evicted is still written.
  assert.equal(h.run('SET', 'fits', Buffer.alloc(60 * 1024, 'y')), 'OK');
  assert.equal(h.run('STRLEN', 'fits'), 60 * 1024);
});

test('maxmemory: noeviction answers OOM to writes but serves reads and deletes', () => {
  const h = new CommandHarness();
  h.run('SET', 'a', 'x'.repeat(1000));
  // Below what is in use now; the engine's fixed overhead (index, id blocks) counts too.
  const limit = h.store.usedMemory - 500;
  h.limits.maxmemory = limit;
  isError(h.run('SET', 'b', 'y'), /^OOM command not allowed/);
  assert.equal(h.run('STRLEN', 'a'), 1000);
  assert.equal(h.run('DEL', 'a'), 1);
  assert.equal(h.run('SET', 'b', 'y'), 'OK');
  h.limits.maxmemoryPolicy = 'allkeys-lru';
  for (let i = 0; i < 20; i++) assert.equal(h.run('SET', `k${i}`, 'z'.repeat(100)), 'OK');
  assert.ok(h.store.usedMemory <= limit, 'eviction after each write brings memory back under the limit');
  assert.ok(h.store.stats.evicted > 0);
});

test('HELLO switches protocol and replies a map in RESP3', () => {
  const h = new CommandHarness();
  const r = h.run('HELLO', '3');
  assert.ok(r instanceof Map, 'a RESP3 map');
  const fields = Object.fromEntries([...r].map(([k, v]) => [String(k), Buffer.isBuffer(v) ? v.toString() : v]));
  assert.equal(fields.proto, 3);
  assert.equal(fields.server, 'redis');
  assert.equal(fields.mode, 'standalone');
  assert.equal(h.run('GET', 'nothing'), null);
  isError(h.run('HELLO', '4'), 'NOPROTO unsupported protocol version');
});

test('DUMP and RESTORE round-trip every type, with TTLs, REPLACE and ABSTTL', () => {
  const h = new CommandHarness();
  h.run('SET', 's', '12345');
  h.run('HSET', 'h', 'a', '1', 'b', '2');
  h.run('RPUSH', 'l', 'x', 'y', 'x');
  h.run('SADD', 'set', 'm', 'n');
  h.run('ZADD', 'z', '1.5', 'p', '-inf', 'q');
  const reads: Record<string, string[]> = { s: ['GET', 's'], h: ['HGETALL', 'h'], l: ['LRANGE', 'l', '0', '-1'], set: ['SMEMBERS', 'set'], z: ['ZRANGE', 'z', '0', '-1', 'WITHSCORES'] };
  for (const [k, read] of Object.entries(reads)) {
    const payload = h.run('DUMP', k);
    assert.ok(Buffer.isBuffer(payload));
    const before = JSON.stringify(h.run(...read));
    isError(h.run('RESTORE', k, '0', payload), 'BUSYKEY Target key name already exists.');
    assert.equal(h.run('RESTORE', `${k}2`, '5000', payload), 'OK');
    assert.equal(JSON.stringify(h.run(read[0]!, `${k}2`, ...read.slice(2))), before, `${k} restored`);
    assert.equal(h.run('PTTL', `${k}2`), 5000);
    assert.equal(h.run('TYPE', `${k}2`), h.run('TYPE', k));
    // A corrupted byte is refused.
    const bad = Buffer.from(payload);
    bad[8] = bad[8]! ^ 1;
    isError(h.run('RESTORE', `${k}3`, '0', bad), 'ERR DUMP payload version or checksum are wrong');
  }
  const payload = h.run('DUMP', 'h') as Buffer;
  assert.equal(h.run('RESTORE', 's', '0', payload, 'REPLACE'), 'OK');
  assert.equal(h.run('TYPE', 's'), 'hash');
  assert.equal(h.run('RESTORE', 'gone', String(h.clock.now() - 1), payload, 'ABSTTL'), 'OK');
  assert.equal(h.run('EXISTS', 'gone'), 0, 'a past absolute TTL stores nothing');
  assert.equal(h.run('RESTORE', 'later', String(h.clock.now() + 100), payload, 'ABSTTL', 'IDLETIME', '5'), 'OK');
  assert.equal(h.run('PTTL', 'later'), 100);
  assert.equal(h.run('DUMP', 'nokey'), null);
});
