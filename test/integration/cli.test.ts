/**
 * The `ringcache` command line as users run it: help, every way a flag can be
 * wrong, and the memory flags' effect on a running node (CONFIG GET, OOM
 * errors under noeviction, eviction under allkeys-lru).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertUsageError, runCli, startRingcache, type Running } from '../helpers/processes.js';
import { encodeCommand, RawClient, ReplyError, type Reply } from '../helpers/raw-client.js';
import { infoNumber } from '../helpers/tools.js';

const T = { timeout: 20_000 };
const FLAGS = ['--port', '--bind', '--maxmemory', '--maxmemory-policy', '--maxclients', '--requirepass'];

/** Whether help text documents a flag (not just a longer flag that starts with its name). */
const documents = (help: string, flag: string) => new RegExp(`(^|\\s)${flag}(?![\\w-])`, 'm').test(help);

/** Starts a node, runs fn with a connected RawClient, and stops both. */
async function withNode(args: string[], fn: (c: RawClient, node: Running) => Promise<void>): Promise<void> {
  const node = await startRingcache(args);
  let c: RawClient | undefined;
  try {
    c = await RawClient.connect(node.port);
    await fn(c, node);
  } finally {
    c?.close();
    await node.stop();
  }
}

/** Writes n SETs of a value in one pipeline and returns the n replies. */
async function pipelinedSets(c: RawClient, prefix: string, n: number, value: Buffer): Promise<Reply[]> {
  c.write(Buffer.concat(Array.from({ length: n }, (_, i) => encodeCommand(['SET', `${prefix}${i}`, value]))));
  return c.read(n, 15_000);
}

describe('ringcache --help', () => {
  for (const args of [['--help'], ['server', '--help']]) {
    test(`ringcache ${args.join(' ')} documents every flag and exits 0`, T, async () => {
      const r = await runCli(args);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, '');
      for (const flag of FLAGS) assert.ok(documents(r.stdout, flag), `${flag} is not documented in:\n${r.stdout}`);
    });
  }
});

describe('bad flags and values: one line on stderr, exit code 2, no stack trace', () => {
  let busy: Running;
  before(async () => {
    busy = await startRingcache();
  });
  after(async () => {
    if (busy) await busy.stop();
  });

  const cases: Array<[string, () => string[], RegExp]> = [
    ['an unknown flag', () => ['server', '--no-such-flag'], /unknown option '--no-such-flag'/],
    ['an unknown top-level flag', () => ['--no-such-flag'], /unknown option '--no-such-flag'/],
    ['an unknown command', () => ['frobnicate'], /unknown command 'frobnicate'/],
    ['no command at all', () => [], /missing command/],
    ['--port abc', () => ['server', '--port', 'abc'], /--port/],
    ['--port 70000', () => ['server', '--port', '70000'], /--port.*65535/],
    ['--port -1', () => ['server', '--port', '-1'], /--port/],
    ['--port with no value', () => ['server', '--port'], /--port/],
    ['--maxmemory 12xb', () => ['server', '--maxmemory', '12xb'], /--maxmemory.*12xb/],
    ['--maxmemory-policy foo', () => ['server', '--maxmemory-policy', 'foo'], /--maxmemory-policy.*foo/],
    ['--maxclients 0', () => ['server', '--maxclients', '0'], /--maxclients/],
    ['--maxclients 1.5', () => ['server', '--maxclients', '1.5'], /--maxclients: must be a whole number/],
    ['a port already in use', () => ['server', '--port', String(busy.port)], /EADDRINUSE/],
  ];
  for (const [what, args, pattern] of cases) {
    test(what, T, async () => {
      assertUsageError(await runCli(args()), pattern);
    });
  }
});

describe('memory flags on a running node', () => {
  test('--maxmemory 100mb shows up in CONFIG GET maxmemory as 104857600', T, async () => {
    await withNode(['--maxmemory', '100mb'], async (c) => {
      assert.deepEqual(await c.call('CONFIG', 'GET', 'maxmemory'), [Buffer.from('maxmemory'), Buffer.from('104857600')]);
      assert.equal(infoNumber(String(await c.call('INFO', 'memory')), 'maxmemory'), 104857600);
    });
  });

  test('noeviction: writes past the limit get -OOM, reads and deletes still work', T, async () => {
    await withNode(['--maxmemory', '1mb', '--maxmemory-policy', 'noeviction'], async (c) => {
      const value = Buffer.alloc(10 * 1024, 'n');
      const replies = await pipelinedSets(c, 'oom:', 200, value); // 2 MB into 1 MB
      const firstOom = replies.findIndex((r) => r instanceof ReplyError);
      assert.ok(firstOom > 50, `the first ~100 writes fit (first error at ${firstOom})`);
      for (const r of replies.slice(0, firstOom)) assert.equal(r, 'OK');
      for (const r of replies.slice(firstOom)) {
        assert.ok(r instanceof ReplyError, 'every write after the first OOM fails too');
        assert.equal(r.message, "OOM command not allowed when used memory > 'maxmemory'.");
      }
      assert.deepEqual(await c.call('GET', 'oom:0'), value, 'reads still work');
      assert.equal(await c.call('DBSIZE'), firstOom, 'nothing was evicted');
      const dels = Array.from({ length: 20 }, (_, i) => `oom:${i}`);
      assert.equal(await c.call('DEL', ...dels), 20, 'deletes still work');
      assert.equal(await c.call('SET', 'oom:again', value), 'OK', 'freed memory can be written again');
    });
  });

  test('allkeys-lru: writing well past the limit evicts and keeps used_memory within maxmemory', T, async () => {
    const limit = 2 * 1024 * 1024;
    await withNode(['--maxmemory', String(limit), '--maxmemory-policy', 'allkeys-lru'], async (c) => {
      const value = Buffer.alloc(10 * 1024, 'l');
      assert.equal(await c.call('SET', 'hot', 'keep me'), 'OK');
      // 1000 writes of 10 KB (5x the limit), reading the hot key before each: LRU keeps it.
      const parts: Buffer[] = [];
      for (let i = 0; i < 1000; i++) parts.push(encodeCommand(['GET', 'hot']), encodeCommand(['SET', `lru:${i}`, value]));
      c.write(Buffer.concat(parts));
      const replies = await c.read(2000, 15_000);
      for (let i = 0; i < 1000; i++) {
        assert.deepEqual(replies[2 * i], Buffer.from('keep me'), `the hot key survives write ${i}`);
        assert.equal(replies[2 * i + 1], 'OK', `write ${i} succeeds`);
      }
      const memory = String(await c.call('INFO', 'memory'));
      const used = infoNumber(memory, 'used_memory');
      assert.ok(used > limit / 2, `used_memory ${used} is near the limit`);
      assert.ok(used <= limit, `used_memory ${used} is at or under maxmemory ${limit}`);
      assert.ok(infoNumber(String(await c.call('INFO', 'stats')), 'evicted_keys') > 0, 'evicted_keys > 0');
      assert.ok(((await c.call('DBSIZE')) as number) < 1000, 'keys were evicted');
      assert.deepEqual(await c.call('GET', 'lru:999'), value, 'the newest key is there');
    });
  });
});
