/**
 * `ringcache scenario` end to end, through the compiled CLI as users run it:
 * option errors and unavailable scenarios (exit 2, one line), the --quick
 * forms of load, node-failure (with the Redis Cluster comparison) and
 * rolling-restart (exit 0, with what each must show), and the HTML report
 * opened in headless Chromium: charts drawn, verdicts listed, no network,
 * a screenshot in the test's temporary directory; and no node outliving a
 * runner stopped with Ctrl-C or killed outright.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright-core';
import type { ScenarioReport } from '../../src/scenario/report.js';
import { assertUsageError, CLI, runCli } from '../helpers/processes.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let dir: string;
before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'ringcache-scenario-test-'));
});
after(() => rm(dir, { recursive: true, force: true }));

const readReport = async (out: string): Promise<ScenarioReport> => JSON.parse(await readFile(path.join(out, 'report.json'), 'utf8')) as ScenarioReport;

test('bad options, and what the nodes cannot do yet (replicas, consistency modes): exit 2 with one ringcache: line', async () => {
  assertUsageError(await runCli(['scenario', 'load', '--clients', '0']), /invalid --clients '0'/);
  assertUsageError(await runCli(['scenario', 'load', '--read-ratio', 'most']), /invalid --read-ratio 'most'/);
  assertUsageError(await runCli(['scenario', 'node-failure', '--nodes', '1']), /node-failure needs at least 2 nodes/);
  assertUsageError(await runCli(['scenario', 'node-failure', '--fault-at', '9', '--duration', '5']), /--fault-at \(9 s\) must be within --duration \(5 s\)/);
  assertUsageError(await runCli(['scenario', 'meltdown']), /'meltdown' is invalid/);
  // What the nodes cannot do yet, and combinations that make no sense, are refused before anything starts.
  assertUsageError(await runCli(['scenario', 'node-failure', '--quick', '--replicas', '1']), /--replicas 1: not available yet: ringcache has no replicas/);
  assertUsageError(await runCli(['scenario', 'scale-out', '--quick', '--consistency', 'sync']), /--consistency sync: not available yet/);
  assertUsageError(await runCli(['scenario', 'scale-out', '--quick', '--static']), /scale-out changes membership: it runs on the node manager, not with --static/);
  assertUsageError(await runCli(['scenario', 'load', '--static', '--etcd']), /--static .* and --etcd .* exclude each other/);
  assertUsageError(await runCli(['scenario', 'partition', '--quick', '--restart-after', '1s']), /--restart-after .* must be at least the lease TTL \+ 1 s \(3 s\)/);
  assertUsageError(await runCli(['scenario', 'scale-in', '--quick', '--remove-with', 'drain']), /'drain' is invalid/);
  const help = await runCli(['scenario', '--help']);
  assert.equal(help.code, 0);
  for (const name of ['load', 'node-failure', 'scale-out', 'scale-in', 'rolling-restart', 'partition', 'chaos', 'all']) assert.match(help.stdout, new RegExp(`^  ${name} `, 'm'));
});

test('load --quick: a concurrency sweep on the cluster and one node, every verdict passing, a report that opens offline', async () => {
  const out = path.join(dir, 'load');
  const r = await runCli(['scenario', 'load', '--quick', '--out', out, '--seed', '7'], 90_000);
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /concurrency sweep: ops\/s \(p99 ms\)/);
  assert.match(r.stdout, /PASS {2}acknowledged writes lost \(no faults\): 0/);
  assert.match(r.stdout, /result: PASS \(exit 0\); report: /);
  assert.match(r.stdout, /^\[ringcache\/cluster\] 1 clients {2}t=\d+s {2}[\d,]+ ops\/s {2}errors 0 {2}p99 /m, 'a progress line per second off a terminal');

  const report = await readReport(out);
  assert.equal(report.exitCode, 0);
  assert.equal(report.options.seed, 7);
  const [target] = report.targets;
  assert.deepEqual(target!.runs.map((x) => x.name), ['cluster', 'one node']);
  for (const run of target!.runs) {
    assert.deepEqual(run.phases.map((p) => p.params['clients']), [1, 4]);
    assert.ok(run.phases.every((p) => p.ops > 100 && p.errors === 0), JSON.stringify(run.phases.map((p) => [p.ops, p.errors])));
    assert.ok(run.series.length >= 3);
    assert.equal(run.check.lostWrites + run.check.wrongValues + run.check.staleReads, 0);
    assert.equal(run.check.reads.final, report.options.keys);
    assert.ok(run.keysPerNode.length > 0);
  }
  assert.equal(target!.runs[0]!.nodes.length, 3);
  const keysAtEnd = target!.runs[0]!.keysPerNode.at(-1)!.counts;
  assert.equal(Object.values(keysAtEnd).reduce((a: number, b) => a + (b ?? 0), 0), report.options.keys, 'DBSIZE over the nodes adds up to the keys written');

  const verdicts = target!.verdicts;
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const problems: string[] = [];
    const requests: string[] = [];
    page.on('pageerror', (e) => problems.push(String(e)));
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    page.on('request', (req) => requests.push(req.url()));
    await page.goto(`file://${path.join(out, 'report.html')}`);
    await page.waitForSelector('body[data-charts-ready="true"]', { timeout: 15_000 });
    assert.deepEqual(problems, []);
    assert.deepEqual(requests.filter((u) => !u.startsWith('file://')), [], 'the page loads nothing from the network');
    // Per run: ops, errors, latency, hit ratio, keys per node; plus the two sweep charts.
    assert.equal(await page.locator('#charts-ringcache-cluster canvas').count(), 5);
    assert.equal(await page.locator('#charts-ringcache-one_node canvas').count(), 5);
    assert.equal(await page.locator('#sweep-charts canvas').count(), 2);
    const box = await page.locator('#charts-ringcache-cluster .chart').first().boundingBox();
    assert.ok(box !== null && box.width > 300 && box.height > 150, JSON.stringify(box));
    const rows = await page.locator('#verdicts-table tr').allTextContents();
    assert.equal(rows.length, verdicts.length + 1);
    for (const v of verdicts) assert.ok(rows.some((row) => row.includes(v.status) && row.includes(v.name)), `verdict "${v.name}" is listed`);
    assert.equal(await page.locator('#verdicts-table td.FAIL').count(), 0);
    // The node manager's map: every version the runner saw (the joins of start-up here), and the slots' fates.
    assert.equal(await page.locator('#map-table tr').count(), target!.runs[0]!.membership!.history.length + 1);
    assert.match((await page.locator('#slot-fates').textContent()) ?? '', /slots kept 16384, handed over 0, reassigned from a dead node 0/);
    assert.match((await page.locator('#result').textContent()) ?? '', /PASS \(exit 0\)/);
    const shot = path.join(dir, 'load-report.png');
    await page.screenshot({ path: shot, fullPage: true });
    assert.ok((await stat(shot)).size > 20_000, 'the screenshot has content');
  } finally {
    await browser.close();
  }
});

test('node-failure --quick --against redis-cluster: loss on the killed node reported, the rest served, both systems in one report', async () => {
  const out = path.join(dir, 'node-failure');
  const r = await runCli(['scenario', 'node-failure', '--quick', '--against', 'redis-cluster', '--out', out], 100_000);
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /INFO {2}acknowledged writes lost on the killed node's keys: [1-9]\d* \(no replicas: loss expected, reported\)/);
  assert.match(r.stdout, /verdicts, redis-cluster \(comparison: shown, not gating\)/);
  const report = await readReport(out);
  assert.deepEqual(report.targets.map((t) => t.system), ['ringcache', 'redis-cluster']);
  for (const t of report.targets) {
    const [run] = t.runs;
    const [fault] = run!.faults;
    assert.equal(fault!.kind, 'kill9');
    assert.equal(fault!.error, null);
    assert.ok(fault!.start! >= report.options.faultAtMs! && fault!.end! > fault!.start! + report.options.restartAfterMs!, JSON.stringify(fault));
    assert.equal(run!.check.wrongValues, 0, t.system);
    assert.ok((run!.check.lostWritesByOwner[fault!.node!] ?? 0) > 0, `${t.system}: the killed node's keys came back empty`);
    assert.ok(run!.phases[0]!.errors > 0, `${t.system}: the dead node's keys failed`);
    assert.equal(run!.nodes.length, 3);
  }
  const ringcache = report.targets[0]!;
  assert.ok(ringcache.verdicts.every((v) => v.gating && v.status !== 'FAIL'), JSON.stringify(ringcache.verdicts.filter((v) => v.status === 'FAIL')));
  assert.ok(report.targets[1]!.verdicts.every((v) => !v.gating));
  assert.ok(existsSync(path.join(out, 'report.html')));
});

test('rolling-restart --quick: every node SIGTERMed and back in turn on the node manager, no error, handovers only', async () => {
  const out = path.join(dir, 'rolling');
  const r = await runCli(['scenario', 'rolling-restart', '--quick', '--out', out], 90_000);
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  const report = await readReport(out);
  const [run] = report.targets[0]!.runs;
  assert.equal(run!.faults.length, 3);
  assert.deepEqual(new Set(run!.faults.map((f) => f.node)).size, 3, 'each node once');
  assert.ok(run!.faults.every((f) => f.kind === 'terminate' && f.error === null && f.end !== null));
  assert.ok(run!.faults.every((f, i) => i === 0 || f.start! >= run!.faults[i - 1]!.end!), 'one at a time');
  assert.equal(run!.check.wrongValues, 0);
  // On the node manager a SIGTERM is a graceful leave and a restart a join: no error at all reaches the application.
  assert.equal(run!.phases.reduce((n, p) => n + p.errors, 0), 0);
  assert.match(r.stdout, /PASS {2}errors surfaced to the application \(graceful leaves and joins\): 0/);
  assert.ok(run!.membership!.slotsByFate['handed-over'] > 0 && run!.membership!.slotsByFate.reassigned === 0, 'slots moved by handovers only');
});

/** Whether a process is still alive (a zombie, dead but not yet reaped by its new parent, is not). */
async function alive(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Starts a long scenario, waits for its load to run, sends the signal; its exit code and the pids it had started. */
async function interrupt(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; children: number[] }> {
  const proc = spawn(process.execPath, [CLI, 'scenario', 'load', '--duration', '60', '--clients', '2', '--out', path.join(dir, `sig-${signal}`)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  proc.stdout.on('data', (d: Buffer) => (output += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.once('exit', (code, sig) => resolve({ code, signal: sig })));
  const deadline = Date.now() + 30_000;
  while (!/2 clients {2}t=/.test(output) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.match(output, /2 clients {2}t=/, output);
  const ps = await new Promise<string>((resolve) => execFile('ps', ['-o', 'pid=', '--ppid', String(proc.pid)], (_, out) => resolve(out)));
  const children = ps.split('\n').map(Number).filter((n) => n > 0);
  proc.kill(signal);
  return { ...(await exited), children };
}

/** Waits (bounded) until none of the pids is alive; the ones still alive. */
async function survivors(pids: number[], timeoutMs = 5000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = (await Promise.all(pids.map(async (p) => ((await alive(p)) ? p : 0)))).filter((p) => p > 0);
    if (left.length === 0 || Date.now() > deadline) return left;
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('Ctrl-C stops every node the runner started (exit 130); a runner killed outright leaves none behind either', async () => {
  // The children are the nodes and the reaper (which exits once the runner is gone).
  const int = await interrupt('SIGINT');
  assert.equal(int.code, 130);
  assert.ok(int.children.length >= 3, `the runner had started its nodes: ${int.children}`);
  assert.deepEqual(await survivors(int.children), []);

  const kill = await interrupt('SIGKILL');
  assert.equal(kill.signal, 'SIGKILL');
  assert.ok(kill.children.length >= 3);
  assert.deepEqual(await survivors(kill.children), [], 'the reaper killed the nodes of a runner that was SIGKILLed');
});
