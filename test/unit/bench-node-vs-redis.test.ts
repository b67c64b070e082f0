import assert from 'node:assert/strict';
import { test } from 'node:test';
import { serverOrder, summarize, type Case, type Run, type ServerName } from '../../bench/lib/node-vs-redis-model.js';
import { parseOptions } from '../../bench/lib/node-vs-redis-options.js';
import { renderTable } from '../../bench/lib/node-vs-redis-report.js';

test('repetitions rotate which server goes first', () => {
  assert.deepEqual(serverOrder(1), ['ringcache', 'redis', 'floor']);
  assert.deepEqual(serverOrder(2), ['redis', 'floor', 'ringcache']);
  assert.deepEqual(serverOrder(3), ['floor', 'ringcache', 'redis']);
  assert.deepEqual(serverOrder(4), ['ringcache', 'redis', 'floor']);
  const two = ['ringcache', 'redis'] as const;
  assert.deepEqual(serverOrder(1, two), ['ringcache', 'redis']);
  assert.deepEqual(serverOrder(2, two), ['redis', 'ringcache']);
  assert.deepEqual(serverOrder(3, two), ['ringcache', 'redis']);
});

const row = (rps: number) => ({ name: 'GET', test: 'get', rps, avgLatencyMs: 1, minLatencyMs: 1, p50LatencyMs: 1, p95LatencyMs: 1, p99LatencyMs: 1, maxLatencyMs: 1 });

test('the Node floor is summarized beside the two, and ringcache compared with it; without it, its columns go', () => {
  const c: Case = { test: 'get', valueSize: 32, pipeline: 1, requests: 1000, target: 0.95 };
  const run = (server: ServerName, rep: number, rps: number): Run => ({
    case: 0, server, rep, order: rep, startedAt: '', durationMs: 1, argv: [], error: null, serverCpuMs: 16, clientCpuMs: null, result: row(rps),
  });
  const runs = [run('ringcache', 1, 90), run('redis', 1, 100), run('floor', 1, 99), run('floor', 2, 95), run('floor', 3, 120)];
  const s = summarize(c, runs);
  assert.equal(s.floor?.rps, 99);
  assert.equal(s.floor?.cpuUsPerRequest, 16);
  assert.equal(s.floorRatio, 90 / 99);
  assert.equal(s.ratio, 0.9, 'the verdict is still against redis');
  const table = renderTable([s]);
  assert.match(table.split('\n')[0]!, /floor ops\/s +rc\/floor/);
  assert.match(table.split('\n')[2]!, / 99 +0\.91x /);

  const without = summarize(c, runs.filter((r) => r.server !== 'floor'));
  assert.equal(without.floor, null);
  assert.ok(Number.isNaN(without.floorRatio));
  assert.doesNotMatch(renderTable([without]), /floor/);
});

test('--no-floor leaves the Node floor out', () => {
  assert.equal(parseOptions([]).floor, true);
  assert.equal(parseOptions(['--no-floor']).floor, false);
});

test('five repetitions per case unless --reps or --quick says otherwise', () => {
  assert.equal(parseOptions([]).reps, 5);
  assert.equal(parseOptions(['--quick']).reps, 1);
  assert.equal(parseOptions(['--reps', '7']).reps, 7);
  assert.throws(() => parseOptions(['--reps', '0']), /reps/);
});

test('a case is judged on the ratio of the two servers\' median ops/s', () => {
  const c: Case = { test: 'get', valueSize: 32, pipeline: 1, requests: 1000, target: 0.95 };
  const run = (server: ServerName, rep: number, rps: number): Run => ({
    case: 0, server, rep, order: rep, startedAt: '', durationMs: 1, argv: [], error: null, serverCpuMs: null, clientCpuMs: null,
    result: { name: 'GET', test: 'get', rps, avgLatencyMs: 1, minLatencyMs: 1, p50LatencyMs: 1, p95LatencyMs: 1, p99LatencyMs: 1, maxLatencyMs: 1 },
  });
  const runs = [run('ringcache', 1, 90), run('redis', 1, 100), run('redis', 2, 120), run('ringcache', 2, 300), run('ringcache', 3, 95), run('redis', 3, 100)];
  const s = summarize(c, runs);
  assert.equal(s.ringcache.rps, 95);
  assert.equal(s.redis.rps, 100);
  assert.equal(s.ratio, 0.95);
  assert.equal(s.status, 'PASS');
  assert.equal(summarize({ ...c, target: 0.96 }, runs).status, 'BELOW');
  assert.equal(summarize(c, runs.filter((r) => r.server === 'redis')).status, 'ERROR');
});

test('CPU per request, of the server and of redis-benchmark, is the median over its runs, and compared as a ratio', () => {
  const c: Case = { test: 'mset', valueSize: 32, pipeline: 1, requests: 2000, target: 0.95 };
  const run = (server: ServerName, rep: number, serverCpuMs: number | null, clientCpuMs: number | null, ok = true): Run => ({
    case: 0, server, rep, order: rep, startedAt: '', durationMs: 1, argv: [], error: ok ? null : 'failed', serverCpuMs, clientCpuMs,
    result: ok ? { name: 'MSET', test: 'mset', rps: 100, avgLatencyMs: 1, minLatencyMs: 1, p50LatencyMs: 1, p95LatencyMs: 1, p99LatencyMs: 1, maxLatencyMs: 1 } : null,
  });
  // 40 ms over 2000 requests = 20 µs each; a failed run's CPU time does not count.
  const runs = [
    run('ringcache', 1, 40, 50), run('ringcache', 2, 36, 60), run('ringcache', 3, 100, 40), run('ringcache', 4, 1, 1, false),
    run('redis', 1, 30, 80), run('redis', 2, 32, null), run('redis', 3, null, 70),
  ];
  const s = summarize(c, runs);
  assert.equal(s.ringcache.cpuUsPerRequest, 20);
  assert.equal(s.redis.cpuUsPerRequest, 15.5);
  assert.equal(s.cpuRatio, 20 / 15.5);
  assert.equal(s.ringcache.clientCpuUsPerRequest, 25);
  assert.equal(s.redis.clientCpuUsPerRequest, 37.5);
  assert.equal(s.clientCpuRatio, 25 / 37.5);
  const unknown = summarize(c, runs.map((r) => ({ ...r, serverCpuMs: null, clientCpuMs: null })));
  assert.ok(Number.isNaN(unknown.ringcache.cpuUsPerRequest));
  assert.ok(Number.isNaN(unknown.cpuRatio));
  assert.ok(Number.isNaN(unknown.clientCpuRatio));
});
