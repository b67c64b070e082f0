/**
 * The scenario runner's pure parts: option validation and defaults, key
 * distributions, the per-second recorder, verdicts and the exit code, the
 * progress line, the terminal summary and the HTML report's rendering.
 */
import assert from 'node:assert/strict';
import test from 'node:test';
import { Checker } from '../../src/scenario/checker.js';
import { errorType } from '../../src/scenario/clients.js';
import { keyPicker, Rng, scatter } from '../../src/scenario/keys.js';
import { Recorder } from '../../src/scenario/metrics.js';
import { OptionError, parseDuration, resolveOptions } from '../../src/scenario/options.js';
import { Progress } from '../../src/scenario/progress.js';
import { formatSummary, renderHtml, scriptJson, sweepPoints, type ScenarioReport } from '../../src/scenario/report.js';
import type { RunResult } from '../../src/scenario/run.js';
import { nodeFailureVerdicts } from '../../src/scenario/scenarios/node-failure.js';
import { restartPlan } from '../../src/scenario/scenarios/rolling-restart.js';
import { asComparison, exitCodeFor } from '../../src/scenario/verdicts.js';
import { ReplyError, TimeoutError } from '../../src/client/index.js';

const defaults = { durationMs: 8000, clients: [4], rate: 1000, keys: 2000, faultAtMs: 2000, restartAfterMs: 2500 };

test('options: defaults apply under explicit flags; durations take units', () => {
  const o = resolveOptions('node-failure', { clients: '8', duration: '500ms', valueSize: '32-128', rate: 'max', seed: '42' }, { defaults, now: new Date('2026-01-02T03:04:05.678Z') });
  assert.deepEqual(o.clients, [8]);
  assert.equal(o.durationMs, 500);
  assert.deepEqual(o.valueSize, { min: 32, max: 128 });
  assert.equal(o.rate, null);
  assert.equal(o.seed, 42);
  assert.equal(o.keys, 2000);
  assert.equal(o.faultAtMs, 2000);
  assert.match(o.out, /scenario-results\/node-failure-2026-01-02T03-04-05Z$/);
  assert.equal(parseDuration('2m'), 120_000);
  assert.equal(parseDuration('1.5'), 1500);
  assert.equal(parseDuration('soon'), undefined);
});

test('options: each bad value is one line naming the flag', () => {
  const bad: Array<[Record<string, string>, RegExp]> = [
    [{ clients: '1,x' }, /^invalid --clients '1,x': /],
    [{ clients: '5,5' }, /--clients '5,5': lists a concurrency twice/],
    [{ readRatio: '1.5' }, /^invalid --read-ratio '1.5'/],
    [{ valueSize: '100-10' }, /^invalid --value-size/],
    [{ duration: 'forever' }, /^invalid --duration 'forever': must be a duration/],
    [{ distribution: 'pareto' }, /^invalid --distribution 'pareto': must be one of uniform, zipf, hotset/],
    [{ against: 'memcached' }, /^invalid --against/],
    [{ zipfSkew: '0' }, /^invalid --zipf-skew/],
    [{ rate: '-3' }, /^invalid --rate/],
  ];
  for (const [raw, pattern] of bad) {
    assert.throws(() => resolveOptions('load', raw, { defaults }), (err: Error) => err instanceof OptionError && pattern.test(err.message) && !err.message.includes('\n'), JSON.stringify(raw));
  }
});

test('keys: uniform covers the space, zipf favours a few keys, hotset sends 90% to 10%; scatter is a bijection', () => {
  const n = 1000;
  const count = (distribution: 'uniform' | 'zipf' | 'hotset') => {
    const pick = keyPicker({ keys: n, distribution, zipfSkew: 1.2, hotFraction: 0.1, hotShare: 0.9 });
    const rng = new Rng(3);
    const c = new Uint32Array(n);
    for (let i = 0; i < 100_000; i++) c[pick(rng)]!++;
    return [...c].sort((a, b) => b - a);
  };
  const uniform = count('uniform');
  assert.ok(uniform[n - 1]! > 40 && uniform[0]! < 170, `uniform spread ${uniform[0]}..${uniform[n - 1]}`);
  const zipf = count('zipf');
  assert.ok(zipf[0]! > 20_000, `the hottest zipf key got ${zipf[0]}`);
  const hot = count('hotset');
  const top = hot.slice(0, 100).reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(top / 100_000 - 0.9) < 0.02, `hot share ${top / 100_000}`);
  for (const size of [1, 7, 1000, 65_537]) {
    const f = scatter(size);
    const seen = new Set(Array.from({ length: size }, (_, i) => f(i)));
    assert.equal(seen.size, size);
  }
});

test('recorder: seconds from the run start, phases with their own totals, gaps between phases left out', () => {
  const r = new Recorder();
  r.beginPhase('a', 0, { clients: 1 });
  r.ok('read', 100, 500, true);
  r.ok('write', 200, 1500);
  r.ok('read', 1100, 2000, false);
  r.error(1200, 'TIMEOUT', 'n1');
  r.endPhase(2000);
  r.advance(5000); // nothing ran in seconds 2-4
  r.beginPhase('b', 5000);
  r.ok('read', 5500, 100, true);
  r.finish(6000);
  const s = r.series();
  assert.deepEqual(s.map((x) => x.t), [0, 1, 5]);
  assert.deepEqual([s[0]!.ops, s[0]!.hits, s[0]!.writes], [2, 1, 1]);
  assert.deepEqual([s[1]!.misses, s[1]!.errors, s[1]!.errorsByType, s[1]!.errorsByOwner], [1, 1, { TIMEOUT: 1 }, { n1: 1 }]);
  assert.equal(s[0]!.latency.max, 1.5);
  const [a, b] = r.phaseSummaries();
  assert.deepEqual([a!.ops, a!.errors, a!.opsPerSec, a!.params['clients']], [3, 1, 2, 1]);
  assert.equal(a!.latency.p50, 1.5);
  assert.equal(b!.ops, 1);
  assert.deepEqual(r.errorTimes, [1200]);
});

test('error types: reply prefixes, client codes, system codes, masked messages', () => {
  assert.equal(errorType(new ReplyError('CLUSTERDOWN The cluster is down')), 'CLUSTERDOWN');
  assert.equal(errorType(new TimeoutError('no reply')), 'TIMEOUT');
  assert.equal(errorType(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:7001'), { code: 'ECONNREFUSED' })), 'ECONNREFUSED');
  assert.equal(errorType(new Error('MOVED 12 127.0.0.1:7002')), 'MOVED');
  assert.equal(errorType(new Error('Connection is closed after 3 tries')), 'Connection is closed after N tries');
  class SilentTimeout extends Error {} // as node-redis's TimeoutError: name 'Error', no message
  assert.equal(errorType(new SilentTimeout()), 'SilentTimeout');
});

/** A node-failure run measured as given. */
function run(p: { errorsOnOthers?: number; errorsLate?: number; lostElsewhere?: number; wrong?: number; end?: number | null }): RunResult {
  const killed = '127.0.0.1:2';
  const check = new Checker({ tag: 'x' }).analyze();
  check.wrongValues = p.wrong ?? 0;
  check.reads.checked = 100;
  check.lostWritesByOwner = { [killed]: 40, '127.0.0.1:1': p.lostElsewhere ?? 0 };
  const end = p.end === undefined ? 6000 : p.end;
  const errorTimes = [2500, 3000, ...Array.from({ length: p.errorsLate ?? 0 }, (_, i) => 9000 + i)];
  const series = [2, 3, 4].map((t) => ({ t, ops: 10, reads: 5, writes: 5, hits: 5, misses: 0, errors: 1, errorsByType: {}, errorsByOwner: { [killed]: 1, ...(t === 3 && p.errorsOnOthers ? { '127.0.0.1:1': p.errorsOnOthers } : {}) }, latency: { count: 10, p50: 1, p99: 2, p999: 3, max: 4, mean: 1 } }));
  return {
    name: 'cluster', description: 'test', system: 'ringcache', nodes: [], startedAt: '', durationMs: 12_000, phases: [], series, keysPerNode: [], check, errorTimes, preload: null, finalRead: null, notes: [],
    faults: [{ id: 'f1', kind: 'kill9', label: 'kill -9', node: killed, plannedAt: 2000, start: 2000, end, undoStartedAt: 4500, error: null }],
  };
}

test('verdicts: node failure against its promise; a broken promise fails and sets exit code 1', () => {
  const good = nodeFailureVerdicts(run({}));
  assert.equal(exitCodeFor(good), 0);
  assert.ok(good.some((v) => v.status === 'INFO' && /killed node's keys/.test(v.name) && v.value === '40'));
  for (const [p, name] of [
    [{ errorsOnOthers: 3 }, /other nodes' keys while the node was down/],
    [{ errorsLate: 2 }, /more than 2 s after the node was back/],
    [{ lostElsewhere: 1 }, /lost on the other nodes' keys/],
    [{ wrong: 1 }, /no wrong values/],
    [{ end: null }, /the node came back/],
  ] as const) {
    const v = nodeFailureVerdicts(run(p));
    const failed = v.filter((x) => x.status === 'FAIL');
    assert.equal(failed.length, 1, JSON.stringify(p));
    assert.match(failed[0]!.name, name);
    assert.equal(exitCodeFor(v), 1);
    assert.equal(exitCodeFor(asComparison(v)), 0, 'a comparison system does not gate');
  }
});

test('rolling restart: one SIGTERM per node, spread over the load, the last well before its end', () => {
  const plan = restartPlan(3, 1500, 10_000);
  assert.deepEqual(plan.map((f) => ('node' in f ? f.node : null)), [0, 1, 2]);
  assert.ok(plan.every((f) => f.kind === 'terminate' && f.restartAfter === 0));
  assert.ok(plan[2]!.at < 10_000 - 3000, `last restart at ${plan[2]!.at}`);
});

test('progress: one line per update off a terminal, rewritten in place on one', () => {
  const written: string[] = [];
  const out = { write: (s: string) => written.push(s) > 0, isTTY: false } as unknown as NodeJS.WritableStream;
  const status = { run: 'ringcache/cluster', phase: 'load', t: 3.2, opsPerSec: 12345, errors: 2, p99: 1.234 };
  new Progress(out).update(status);
  assert.deepEqual(written, ['[ringcache/cluster] load  t=3s  12,345 ops/s  errors 2  p99 1.23 ms\n']);
  written.length = 0;
  const tty = new Progress(Object.assign(out, { isTTY: true, columns: 200 }));
  tty.update(status);
  tty.log('done');
  assert.ok(written[0]!.startsWith('\r[ringcache/cluster] load') && written[0]!.endsWith('\x1b[K'), JSON.stringify(written[0]));
  assert.deepEqual(written.slice(1), ['\r\x1b[K', 'done\n']);
});

function report(): ScenarioReport {
  const r = run({});
  r.phases = [1, 4].map((clients, i) => ({ name: `${clients} clients`, start: i * 3000, end: i * 3000 + 2000, params: { clients }, ops: 1000 * clients, reads: 0, writes: 0, hits: 0, misses: 0, errors: 0, errorsByType: {}, errorsByOwner: {}, opsPerSec: 500 * clients, latency: { count: 1, p50: 0.5, p99: 2, p999: 3, max: 4, mean: 1 } }));
  r.description = 'a </script><b>cluster</b>';
  const options = resolveOptions('load', { seed: '1' }, { defaults });
  return { scenario: 'load', version: '0.0.0', command: 'ringcache scenario load', startedAt: 'start', finishedAt: 'end', options, exitCode: 0, targets: [{ system: 'ringcache', description: 'd', promise: 'p', runs: [r], verdicts: nodeFailureVerdicts(r) }] };
}

test('report: summary, sweep, verdict table, escaped text and data that cannot end its script', () => {
  const rep = report();
  assert.deepEqual(sweepPoints(rep.targets).map((p) => [p.clients, p.opsPerSec]), [[1, 500], [4, 2000]]);
  const html = renderHtml(rep, { js: '/* uplot */', css: '/* css */' });
  assert.ok(!html.includes('<b>cluster</b>'), 'text is escaped');
  assert.equal(html.split('</script>').length - 1, 3, 'only the three script elements close');
  assert.match(html, /<table id="verdicts-table">.*<td class="PASS">PASS<\/td>/s);
  assert.match(html, /id="sweep-charts"/);
  assert.match(html, /id="charts-ringcache-cluster"/);
  assert.equal(JSON.parse(scriptJson({ s: '</script>\u2028' }).replace(/\\u003c/g, '<')).s, '</script>\u2028');
  const text = formatSummary(rep, 'out/report.html');
  assert.match(text, /concurrency sweep/);
  assert.match(text, /PASS {2}no wrong values/);
  assert.match(text, /result: PASS \(exit 0\); report: out\/report.html$/);
});
