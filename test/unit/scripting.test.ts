/**
 * Lua scripting in-process (the real dispatcher and store): conversions both
 * ways, Redis 7's error texts, the sandbox, the time limit, the script cache.
 * The side-by-side comparison with redis-server is in the differential suite.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_EVAL_SCRIPTS, sha1hex } from '../../src/scripting/engine.js';
import { CommandHarness } from '../helpers/command-harness.js';
import { ReplyError, type Reply } from '../helpers/raw-client.js';

const text = (r: Reply): unknown => (Buffer.isBuffer(r) ? r.toString() : Array.isArray(r) ? r.map(text) : r instanceof ReplyError ? `ERROR ${r.message}` : r);
const evalIn = (h: CommandHarness, script: string, keys: string[] = [], args: string[] = []) => text(h.run('EVAL', script, String(keys.length), ...keys, ...args));

test('EVAL: redis.call reads and writes the store; KEYS and ARGV', () => {
  const h = new CommandHarness();
  assert.equal(evalIn(h, "return redis.call('SET', KEYS[1], ARGV[1])", ['k'], ['v']), 'OK');
  assert.equal(h.text('GET', 'k'), 'v');
  assert.equal(evalIn(h, "return redis.call('GET', KEYS[1])", ['k']), 'v');
  assert.deepEqual(evalIn(h, 'return {KEYS[1], KEYS[2], ARGV[1], #ARGV}', ['a', 'b'], ['x', 'y']), ['a', 'b', 'x', 2]);
  assert.equal(evalIn(h, "return redis.call('INCRBY', KEYS[1], 5)", ['n']), 5);
  // A binary value round-trips byte for byte.
  const bin = Buffer.from([0, 255, 13, 10, 128]);
  h.run('SET', 'bin', bin);
  assert.deepEqual(h.run('EVAL', "return redis.call('GET', KEYS[1])", '1', 'bin'), bin);
});

test('conversions: Redis replies to Lua values', () => {
  const h = new CommandHarness();
  h.run('RPUSH', 'l', 'a', 'b');
  assert.equal(evalIn(h, "return type(redis.call('GET', 'nokey'))"), 'boolean', 'nil bulk -> false');
  assert.equal(evalIn(h, "return redis.call('GET', 'nokey') == false and 1 or 0"), 1);
  assert.equal(evalIn(h, "return type(redis.call('LLEN', 'l'))"), 'number');
  assert.deepEqual(evalIn(h, "return redis.call('LRANGE', 'l', 0, -1)"), ['a', 'b']);
  assert.equal(evalIn(h, "return redis.call('PING').ok"), 'PONG', 'status -> {ok=}');
  assert.equal(evalIn(h, "return redis.pcall('LPUSH', 'nokey_is_fine', 'x') + redis.pcall('INCR', 'l').err:len()"), 1 + 'WRONGTYPE Operation against a key holding the wrong kind of value'.length);
  // setresp(3): maps and doubles as RESP3 types.
  h.run('HSET', 'h', 'f', 'v');
  assert.equal(evalIn(h, "redis.setresp(3); return redis.call('HGETALL', 'h').map.f"), 'v');
  assert.equal(evalIn(h, "redis.setresp(3); return redis.call('ZSCORE', 'nozset', 'm') == nil and 1 or 0"), 1);
});

test('conversions: Lua values to Redis replies', () => {
  const h = new CommandHarness();
  assert.equal(evalIn(h, 'return 3.99'), 3, 'numbers truncate to integers');
  assert.equal(evalIn(h, 'return -3.99'), -3);
  assert.deepEqual(evalIn(h, "return {1, 2, 3.5, 'x', nil, 4}"), [1, 2, 3, 'x'], 'arrays stop at the first nil');
  assert.deepEqual(evalIn(h, 'return {false, true}'), [null, 1]);
  assert.equal(evalIn(h, 'return true'), 1);
  assert.equal(evalIn(h, 'return false'), null);
  assert.equal(evalIn(h, 'return nil'), null);
  assert.equal(evalIn(h, "return {ok='FINE'}"), 'FINE');
  assert.equal(evalIn(h, "return redis.status_reply('FINE')"), 'FINE');
  assert.equal(evalIn(h, "return {err='MYERR bad'}"), 'ERROR MYERR bad');
  assert.equal(evalIn(h, "return redis.error_reply('-MYERR bad')"), 'ERROR MYERR bad');
  assert.equal(evalIn(h, 'return 2^53'), 9007199254740992n);
  assert.equal(evalIn(h, 'local t = {} t[1] = t return t'), 'ERROR ERR reached lua stack limit', 'a table that holds itself');
});

test('Lua 5.1 number semantics where Redis scripts rely on them', () => {
  const h = new CommandHarness();
  assert.equal(evalIn(h, 'return tostring(10/2)'), '5');
  assert.equal(evalIn(h, "return tostring(tonumber('1733320000000') + 1)"), '1733320000001', 'no 32-bit wrap');
  assert.equal(evalIn(h, "return tostring(tonumber('1733320000000') * 1000)"), '1.73332e+15', "Lua 5.1's %.14g");
  assert.equal(evalIn(h, 'return tostring(1/0) .. tostring(0.1 + 0.2)'), 'inf0.3');
  assert.equal(evalIn(h, 'return tostring(2147483647 + 1)'), '2147483648');
  assert.equal(evalIn(h, "return redis.call('SET', 'k', 1733320000000 + 1)"), 'OK');
  assert.equal(h.text('GET', 'k'), '1733320000001', 'a number argument is sent as an integer');
  assert.equal(evalIn(h, 'return type(unpack)'), 'function');
  assert.equal(evalIn(h, 'return unpack({1, 2, 3})'), 1);
  assert.equal(evalIn(h, 'return table.getn({1, 2, 3})'), 3);
});

test("errors as Redis 7 words them", () => {
  const h = new CommandHarness();
  const sha = (s: string) => sha1hex(s);
  const e = (script: string) => evalIn(h, script);
  assert.equal(e("error('boom')"), `ERROR ERR user_script:1: boom script: ${sha("error('boom')")}, on @user_script:1.`);
  assert.equal(e('return x'), `ERROR ERR user_script:1: Script attempted to access nonexistent global variable 'x' script: ${sha('return x')}, on @user_script:1.`);
  assert.equal(e('x = 1'), `ERROR ERR user_script:1: Attempt to modify a readonly table script: ${sha('x = 1')}, on @user_script:1.`);
  assert.equal(e("return redis.call('nope')"), `ERROR ERR Unknown Redis command called from script script: ${sha("return redis.call('nope')")}, on @user_script:1.`);
  assert.equal(e("return redis.call('get')"), `ERROR ERR Wrong number of args calling Redis command from script script: ${sha("return redis.call('get')")}, on @user_script:1.`);
  assert.equal(e("return redis.pcall('get')"), 'ERROR ERR Wrong number of args calling Redis command from script');
  assert.equal(e("return redis.call('multi')"), `ERROR ERR This Redis command is not allowed from script script: ${sha("return redis.call('multi')")}, on @user_script:1.`);
  assert.equal(e("return redis.call('eval', 'return 1', 0)"), `ERROR ERR This Redis command is not allowed from script script: ${sha("return redis.call('eval', 'return 1', 0)")}, on @user_script:1.`);
  assert.equal(e("error({err='My Error'})"), `ERROR My Error script: ${sha("error({err='My Error'})")}, on @user_script:1.`);
  assert.equal(e('return 1 +'), "ERROR ERR Error compiling script (new function): user_script:1: unexpected symbol near '<eof>'");
  assert.equal(text(h.run('EVALSHA', 'ffffffffffffffffffffffffffffffffffffffff', '0')), 'ERROR NOSCRIPT No matching script. Please use EVAL.');
  assert.equal(text(h.run('EVALSHA', 'short', '0')), 'ERROR NOSCRIPT No matching script. Please use EVAL.');
  assert.equal(text(h.run('EVAL_RO', "return redis.call('set', 'a', '1')", '0')), `ERROR ERR Write commands are not allowed from read-only scripts. script: ${sha("return redis.call('set', 'a', '1')")}, on @user_script:1.`);
  assert.equal(text(h.run('EVAL', 'return 1', '2', 'a')), "ERROR ERR Number of keys can't be greater than number of args");
  assert.equal(text(h.run('EVAL', 'return 1', '-1')), "ERROR ERR Number of keys can't be negative");
  assert.equal(text(h.run('EVAL', 'return 1', 'x')), 'ERROR ERR value is not an integer or out of range');
  assert.match(String(text(h.run('EVAL', "#!lua flags=no-writes\nreturn redis.call('set', 'a', '1')", '0'))), /^ERROR ERR Write commands are not allowed from read-only scripts\./);
  assert.equal(text(h.run('EVAL', '#!lua flags=bogus\nreturn 1', '0')), 'ERROR ERR Unexpected flag in script shebang: bogus');
  assert.equal(h.text('GET', 'a'), null);
});

test('sandbox: no host access, globals and libraries read-only', () => {
  const h = new CommandHarness();
  for (const name of ['os', 'io', 'require', 'dofile', 'loadfile', 'print', 'debug', 'package']) {
    assert.match(String(evalIn(h, `return ${name}`)), /nonexistent global variable/, name);
  }
  assert.match(String(evalIn(h, 'string.format = nil')), /Attempt to modify a readonly table/);
  assert.match(String(evalIn(h, "rawset(_G, 'y', 1)")), /Attempt to modify a readonly table/);
  assert.match(String(evalIn(h, "rawset(redis, 'call', 1)")), /Attempt to modify a readonly table/);
  assert.match(String(evalIn(h, "setmetatable(_G, nil)")), /protected metatable/);
  assert.match(String(evalIn(h, "getmetatable('').__index = nil")), /ERR/);
  assert.equal(evalIn(h, "return loadstring('return 7')()"), 7);
  assert.equal(evalIn(h, "local f, err = loadstring(string.char(27) .. 'Lua') return err"), 'attempt to load a binary chunk');
  // Nothing a script did is seen by the next one.
  assert.equal(evalIn(h, "return type(string.format)"), 'function');
  assert.equal(evalIn(h, 'local t = {} return #t'), 0);
});

test('libraries: cjson, cmsgpack, bit, redis.sha1hex', () => {
  const h = new CommandHarness();
  assert.equal(evalIn(h, "return cjson.encode({1, 2, 'x'})"), '[1,2,"x"]');
  assert.equal(evalIn(h, 'return cjson.encode({})'), '{}');
  assert.equal(evalIn(h, "return cjson.encode({a = 'b/c'})"), '{"a":"b\\/c"}');
  assert.equal(evalIn(h, "return cjson.decode('{\"a\":[1,null,3]}').a[3]"), 3);
  assert.equal(evalIn(h, "return cjson.decode('[1,null]')[2] == cjson.null and 1 or 0"), 1);
  assert.deepEqual(evalIn(h, "local t = cmsgpack.unpack(cmsgpack.pack({1, 'two', {x = 3}, 2.5, -7, 70000})) return {t[1], t[2], t[3].x, tostring(t[4]), t[5], t[6]}"), [1, 'two', 3, '2.5', -7, 70000]);
  assert.deepEqual(h.run('EVAL', 'return cmsgpack.pack({1, 2})', '0'), Buffer.from([0x92, 1, 2]), 'as Redis packs it');
  assert.deepEqual(evalIn(h, "return {bit.band(7, 3), bit.bor(1, 2), bit.bxor(3, 1), bit.lshift(1, 4), bit.tohex(255), bit.bnot(0)}"), [3, 3, 2, 16, '000000ff', -1]);
  assert.equal(evalIn(h, "return redis.sha1hex('')"), 'da39a3ee5e6b4b0d3255bfef95601890afd80709');
});

test('SCRIPT LOAD, EXISTS, FLUSH, KILL and EVALSHA', () => {
  const h = new CommandHarness();
  const sha = text(h.run('SCRIPT', 'LOAD', 'return 42'));
  assert.equal(sha, sha1hex('return 42'));
  assert.equal(text(h.run('EVALSHA', String(sha), '0')), 42);
  assert.equal(text(h.run('EVALSHA', String(sha).toUpperCase(), '0')), 42);
  assert.equal(text(h.run('EVALSHA_RO', String(sha), '0')), 42);
  assert.deepEqual(text(h.run('SCRIPT', 'EXISTS', String(sha), 'ffffffffffffffffffffffffffffffffffffffff')), [1, 0]);
  assert.equal(text(h.run('SCRIPT', 'KILL')), 'ERROR NOTBUSY No scripts in execution right now.');
  assert.equal(text(h.run('SCRIPT', 'FLUSH')), 'OK');
  assert.deepEqual(text(h.run('SCRIPT', 'EXISTS', String(sha))), [0]);
  assert.match(String(text(h.run('EVALSHA', String(sha), '0'))), /^ERROR NOSCRIPT/);
  assert.match(String(text(h.run('SCRIPT', 'LOAD', 'return +'))), /^ERROR ERR Error compiling script/);
});

test('the EVAL script cache is bounded; SCRIPT LOAD scripts stay', () => {
  const h = new CommandHarness();
  const pinned = String(text(h.run('SCRIPT', 'LOAD', 'return 0')));
  for (let i = 1; i <= MAX_EVAL_SCRIPTS + 50; i++) assert.equal(evalIn(h, `return ${i}`), i);
  assert.equal(h.dispatcher.scripting.scripts.size, MAX_EVAL_SCRIPTS + 1);
  assert.deepEqual(text(h.run('SCRIPT', 'EXISTS', pinned, sha1hex('return 1'), sha1hex(`return ${MAX_EVAL_SCRIPTS + 50}`))), [1, 0, 1]);
});

test('a runaway script is aborted at the time limit and the node goes on', () => {
  const h = new CommandHarness();
  h.dispatcher.scriptTimeLimitMs = 200;
  const started = performance.now();
  assert.match(String(evalIn(h, 'local i = 0 while true do i = i + 1 end')), /^ERROR ERR Script killed: it ran past busy-reply-threshold \(200 ms\)/);
  const took = performance.now() - started;
  assert.ok(took >= 190 && took < 2000, `aborted after ${took} ms`);
  // pcall cannot swallow the abort.
  assert.match(String(evalIn(h, 'while true do pcall(function() while true do end end) end')), /^ERROR ERR Script killed/);
  assert.equal(h.dispatcher.scripting.timeouts, 2);
  // Deep recursion is a Lua error, not a crash.
  h.dispatcher.scriptTimeLimitMs = 5000;
  assert.match(String(evalIn(h, 'local function f(n) return f(n + 1) + 1 end return f(1)')), /^ERROR ERR user_script:1: stack overflow/);
  assert.equal(evalIn(h, 'return 1'), 1, 'the VM still runs scripts');
});

test('a script that takes too much memory is aborted; a huge reply is written', () => {
  const h = new CommandHarness();
  h.dispatcher.scripting.heapGrowthLimit = 32 * 1024 * 1024;
  h.dispatcher.scriptTimeLimitMs = 60_000; // the memory limit, not the time limit, must stop it
  assert.match(String(evalIn(h, "local t = {} for i = 1, 1e8 do t[i] = 'some text that takes room ' .. i end return #t")), /^ERROR ERR Script killed: it used more memory than a script may/);
  assert.equal(evalIn(h, 'return 1'), 1);
  h.dispatcher.scripting.heapGrowthLimit = 1024 * 1024 * 1024;
  const big = h.run('EVAL', 'local t = {} for i = 1, 200000 do t[i] = i end return t', '0');
  assert.ok(Array.isArray(big) && big.length === 200000 && big[199999] === 200000);
});

test('scripts are atomic inside MULTI/EXEC and see their own writes', () => {
  const h = new CommandHarness();
  h.run('MULTI');
  h.run('EVAL', "redis.call('SET', KEYS[1], 'a') return redis.call('APPEND', KEYS[1], 'b')", '1', 'k');
  h.run('EVAL', "return redis.call('GET', KEYS[1])", '1', 'k');
  assert.deepEqual(text(h.run('EXEC')), [2, 'ab']);
});

test('FUNCTION: libraries survive SCRIPT FLUSH (a new VM), DUMP/RESTORE round-trip, a runaway load is stopped', () => {
  const h = new CommandHarness();
  const lib = "#!lua name=lib1\nredis.register_function('incr2', function(keys) return redis.call('INCRBY', keys[1], 2) end)";
  assert.equal(text(h.run('FUNCTION', 'LOAD', lib)), 'lib1');
  assert.equal(text(h.run('FCALL', 'incr2', '1', 'n')), 2);
  assert.equal(text(h.run('SCRIPT', 'FLUSH')), 'OK');
  assert.equal(text(h.run('FCALL', 'incr2', '1', 'n')), 4, 'loaded again in the new VM');
  const payload = h.run('FUNCTION', 'DUMP');
  assert.ok(Buffer.isBuffer(payload));
  assert.equal(text(h.run('FUNCTION', 'FLUSH')), 'OK');
  assert.equal(text(h.run('FCALL', 'incr2', '1', 'n')), 'ERROR ERR Function not found');
  assert.equal(text(h.run('FUNCTION', 'RESTORE', payload)), 'OK');
  assert.equal(text(h.run('FCALL', 'incr2', '1', 'n')), 6);
  assert.match(String(text(h.run('FUNCTION', 'RESTORE', payload))), /^ERROR ERR Library lib1 already exists/);
  assert.equal(text(h.run('FUNCTION', 'RESTORE', payload, 'REPLACE')), 'OK');
  const started = performance.now();
  assert.equal(text(h.run('FUNCTION', 'LOAD', '#!lua name=spin\nwhile true do end')), 'ERROR ERR FUNCTION LOAD timeout');
  assert.ok(performance.now() - started < 3000);
  assert.equal(text(h.run('FCALL', 'incr2', '1', 'n')), 8, 'the node goes on');
});
