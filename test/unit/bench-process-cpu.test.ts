import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { spawn } from 'node:child_process';
import { cpuDeltaMs, parseSchedstat, parseStatChildrenCpuNs, parseStatCpuNs, processCpuNs, reapedChildrenCpuNs } from '../../bench/lib/process-cpu.js';

/** A /proc/<pid>/stat line with the given utime and stime (ticks); field 2 has spaces and a ')'. */
const statLine = (utime: number, stime: number, cutime = 0, cstime = 0): string =>
  `4242 (a b) c) ${['S', '1', '1', '1', '0', '-1', '4194560', '0', '0', '0', '0', String(utime), String(stime), String(cutime), String(cstime), '20'].join(' ')}\n`;

test('schedstat: the first field is the time on a CPU in ns', () => {
  assert.equal(parseSchedstat('4600212020 248518939 4600\n'), 4600212020);
  assert.equal(parseSchedstat(''), null);
  assert.equal(parseSchedstat('x 1 2'), null);
});

test('stat: utime + stime (and cutime + cstime for reaped children) in ticks of 10 ms, counted after the last parenthesis of the name', () => {
  assert.equal(parseStatCpuNs(statLine(123, 45, 7, 9)), 168 * 1e7);
  assert.equal(parseStatChildrenCpuNs(statLine(123, 45, 7, 9)), 16 * 1e7);
  assert.equal(parseStatChildrenCpuNs('4242 (x) S 1 2 3 4 5 6 7 8 9 10 11 12 13'), null);
  assert.equal(parseStatCpuNs('4242 no-parens S 1'), null);
  assert.equal(parseStatCpuNs('4242 (x) S 1 2'), null);
});

test('a fake /proc: threads summed; all-zero schedstats (accounting off) and a missing one fall back to stat', () => {
  const proc = mkdtempSync(join(tmpdir(), 'proc-'));
  try {
    const write = (path: string, text: string): void => {
      mkdirSync(join(proc, path, '..'), { recursive: true });
      writeFileSync(join(proc, path), text);
    };
    write('7/stat', statLine(300, 100));
    write('7/schedstat', '10 0 1\n');
    write('7/task/7/schedstat', '1000 5 3\n');
    write('7/task/8/schedstat', '2500 5 3\n');
    assert.equal(processCpuNs(7, proc), 3500);
    write('7/task/7/schedstat', '0 0 0\n');
    write('7/task/8/schedstat', '0 0 0\n');
    assert.equal(processCpuNs(7, proc), 400 * 1e7, 'zeros everywhere: the kernel keeps no schedstats');
    rmSync(join(proc, '7/schedstat'));
    assert.equal(processCpuNs(7, proc), 400 * 1e7, 'no schedstat at all');
    assert.equal(processCpuNs(8, proc), null, 'no such process');
    assert.equal(processCpuNs(undefined, proc), null);
  } finally {
    rmSync(proc, { recursive: true, force: true });
  }
});

test('a delta is in ms, and unknown when a reading is missing or goes backwards', () => {
  assert.equal(cpuDeltaMs(1_000_000, 3_500_000), 2.5);
  assert.equal(cpuDeltaMs(0, 1_234_567_891), 1234.568);
  assert.equal(cpuDeltaMs(null, 5), null);
  assert.equal(cpuDeltaMs(5, null), null);
  assert.equal(cpuDeltaMs(10, 5), null);
});

test('processCpuNs counts the CPU time of every thread, not just the main one', { skip: process.platform !== 'linux', timeout: 30_000 }, async () => {
  const before = processCpuNs(process.pid);
  assert.ok(before !== null && before > 0);
  // A worker thread burns at least 200 ms of its own CPU (bounded at 10 s of
  // wall time) while this thread waits.
  const burner = `
    const { parentPort } = require('node:worker_threads');
    const start = process.cpuUsage(); const deadline = Date.now() + 10000; let sum = 0;
    const threadMs = () => { const u = process.cpuUsage(start); return (u.user + u.system) / 1000; };
    while (Date.now() < deadline && threadMs() < 200 * 1.5) for (let i = 0; i < 1e5; i++) sum += i;
    parentPort.postMessage(sum);`;
  const worker = new Worker(burner, { eval: true });
  await new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  // Read while the worker's thread still exists: an exited thread's time is gone from /proc.
  const measuredMs = (processCpuNs(process.pid)! - before) / 1e6;
  await worker.terminate();
  // process.cpuUsage in the worker is the whole process's, so its loop may stop
  // early while this thread also runs; 200 ms is still far above what the
  // waiting main thread alone uses.
  assert.ok(measuredMs >= 200, `/proc says ${measuredMs} ms for a process whose worker burned about 300 ms`);
});

test('reapedChildrenCpuNs grows by the CPU time of a child once it has exited', { skip: process.platform !== 'linux', timeout: 30_000 }, async () => {
  const before = reapedChildrenCpuNs();
  assert.ok(before !== null);
  // A child that burns about 300 ms of CPU (bounded at 10 s of wall time), then exits.
  const burner = 'const s = process.cpuUsage(); const d = Date.now() + 10000; let x = 0; ' +
    'while (Date.now() < d) { const u = process.cpuUsage(s); if (u.user + u.system > 300000) break; for (let i = 0; i < 1e5; i++) x += i; } ' +
    'process.exit(x > 0 ? 0 : 1);';
  const child = spawn(process.execPath, ['-e', burner], { stdio: 'ignore' });
  const code = await new Promise((resolve) => child.once('close', resolve));
  assert.equal(code, 0);
  const ms = cpuDeltaMs(before, reapedChildrenCpuNs());
  assert.ok(ms !== null && ms >= 250, `reaped children's CPU grew by ${ms} ms for a child that burned about 300 ms`);
});
