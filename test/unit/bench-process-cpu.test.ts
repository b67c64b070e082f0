import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSchedstat, parseStatCpuNs, processCpuNs } from '../../bench/lib/process-cpu.js';

test('schedstat: the first field is the time on a CPU in ns', () => {
  assert.equal(parseSchedstat('4600212020 248518939 4600\n'), 4600212020);
  assert.equal(parseSchedstat(''), null);
  assert.equal(parseSchedstat('x 1 2'), null);
});

test('stat: utime + stime in ticks of 10 ms, counted after the last parenthesis of the name', () => {
  // Field 2 is "(a b) c)": spaces and a ')' inside the name must not shift the fields.
  const fields = ['S', '1', '1', '1', '0', '-1', '4194560', '0', '0', '0', '0', '123', '45', '0', '0', '20'];
  assert.equal(parseStatCpuNs(`4242 (a b) c) ${fields.join(' ')}\n`), 168 * 1e7);
  assert.equal(parseStatCpuNs('4242 no-parens S 1'), null);
  assert.equal(parseStatCpuNs('4242 (x) S 1 2'), null);
});

test('processCpuNs follows the CPU time the process itself reports', { skip: process.platform !== 'linux' }, () => {
  assert.equal(processCpuNs(undefined), null);
  const before = processCpuNs(process.pid);
  const usageBefore = process.cpuUsage();
  assert.ok(before !== null && before > 0);
  // Burn at least 100 ms of CPU by our own account (bounded at 10 s of wall time).
  const deadline = Date.now() + 10_000;
  let spent = 0;
  let sum = 0;
  while (spent < 100_000 && Date.now() < deadline) {
    for (let i = 0; i < 1e5; i++) sum += i;
    const u = process.cpuUsage(usageBefore);
    spent = u.user + u.system;
  }
  const after = processCpuNs(process.pid);
  const ownMs = spent / 1000;
  assert.ok(sum > 0 && after !== null);
  const measuredMs = (after - before) / 1e6;
  // Both count every thread; helper threads may add a little on our side, ticks round on theirs.
  assert.ok(measuredMs >= ownMs * 0.8 - 10 && measuredMs <= ownMs * 1.5 + 20, `/proc says ${measuredMs} ms, process.cpuUsage ${ownMs} ms`);
});
