import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StallProbe } from '../../bench/lib/stall-probe.js';
import { benchKey, encodeSetBatch, setTemplate } from '../../bench/lib/bulk-load.js';
import { parseInfo } from '../../bench/lib/info.js';
import { compare, keysLabel, type MemoryRun } from '../../bench/lib/memory-report.js';
import { parseMemoryOptions, UsageError } from '../../bench/lib/memory-options.js';
import { encodeRequest } from '../../src/protocol/request-encoder.js';

test('bench keys are 16 bytes in redis-benchmark -r format', () => {
  assert.equal(benchKey(0), 'key:000000000000');
  assert.equal(benchKey(9_999_999), 'key:000009999999');
  assert.equal(benchKey(123).length, 16);
});

test('a SET batch equals the request encoder applied key by key', () => {
  for (const size of [32, 100]) {
    const t = setTemplate(size);
    const batch = encodeSetBatch(t, 998, 5);
    const value = t.template.subarray(t.template.length - size - 2, t.template.length - 2);
    const expected = Buffer.concat([998, 999, 1000, 1001, 1002].map((i) => encodeRequest(['SET', benchKey(i), value])));
    assert.deepEqual(batch, expected);
  }
});

test('options: defaults, --quick, k/m suffixes and errors', () => {
  const d = parseMemoryOptions([], {});
  assert.deepEqual(d.keys, [1_000_000, 10_000_000]);
  assert.deepEqual(d.valueSizes, [32, 100]);
  assert.equal(d.serveKeys, 10_000_000);
  assert.equal(d.maxOldSpaceMb, undefined);
  const q = parseMemoryOptions(['--quick'], {});
  assert.deepEqual(q.keys, [100_000]);
  assert.equal(q.serveKeys, 100_000);
  const o = parseMemoryOptions(['--keys', '10m,1_000_000', '--serve-keys', '0', '--max-old-space-size', '8192'], {});
  assert.deepEqual(o.keys, [1_000_000, 10_000_000]);
  assert.equal(o.serveKeys, 0);
  assert.equal(o.maxOldSpaceMb, 8192);
  assert.throws(() => parseMemoryOptions(['--keys', 'lots'], {}), UsageError);
  assert.throws(() => parseMemoryOptions(['--keys', '1m', '--serve-keys', '2m'], {}), UsageError);
});

test('INFO parsing and the ringcache/Redis comparison', () => {
  assert.deepEqual(parseInfo('# Memory\r\nused_memory:100\r\n\r\n# Stats\r\nx:y:z\r\n'), { used_memory: '100', x: 'y:z' });
  const run = (server: 'ringcache' | 'redis', used: number, maxMs: number | null): MemoryRun => ({
    server, keys: 1000, valueSize: 32, order: 1, startedAt: '', durationMs: 0, argv: [], version: null, nodeOptions: null,
    status: 'ok', failedPhase: null, error: null, baseline: null, loaded: null, dbsize: 1000, load: null,
    perKey: { usedMemory: used, rss: used * 2 },
    loopDelay: maxMs === null ? null : { idle: null, loading: { p99Ms: 5, maxMs }, serving: null },
    machineDelay: null,
    serving: null, exit: null, outputTail: null,
  });
  const c = compare([run('ringcache', 90, 8), run('redis', 100, null)], 1000, 32);
  assert.equal(c.usedRatio, 0.9);
  assert.equal(c.memoryCheck, 'PASS');
  assert.equal(c.pauseCheck, 'PASS');
  const worse = compare([run('ringcache', 150, 12), run('redis', 100, null)], 1000, 32);
  assert.equal(worse.memoryCheck, 'ABOVE');
  assert.equal(worse.pauseCheck, 'ABOVE');
  const failed = compare([{ ...run('ringcache', 0, null), status: 'failed', perKey: null }, run('redis', 100, null)], 1000, 32);
  assert.equal(failed.memoryCheck, 'FAILED');
  assert.equal(failed.pauseCheck, 'FAILED');
  assert.equal(keysLabel(10_000_000), '10M');
  assert.equal(keysLabel(100_000), '100k');
});

test('the stall probe reports the delay of a process that could not run, and starts afresh on reset', { timeout: 20_000 }, async () => {
  const probe = new StallProbe();
  try {
    await new Promise((r) => setTimeout(r, 300)); // the child is up and sampling
    await probe.reset();
    // The first interval after a reset is not recorded (the histogram restarts its clock): let a few pass.
    await new Promise((r) => setTimeout(r, 100));
    // A stopped process runs no timers: its next sample is late by the time it was stopped.
    process.kill(probe.pid, 'SIGSTOP');
    await new Promise((r) => setTimeout(r, 200));
    process.kill(probe.pid, 'SIGCONT');
    await new Promise((r) => setTimeout(r, 50));
    const stalled = await probe.read();
    assert.ok(stalled.maxMs >= 100, `a 200 ms stop shows as a delay of at least 100 ms (got ${stalled.maxMs})`);
    await probe.reset();
    await new Promise((r) => setTimeout(r, 100));
    const after = await probe.read();
    assert.ok(after.maxMs < stalled.maxMs, `reset forgets the stall (${after.maxMs} after, ${stalled.maxMs} before)`);
  } finally {
    probe.stop();
  }
});
