/**
 * The failover scenario's pieces: CLUSTER NODES parsing and the shape check,
 * the trial statistics, and one real trial on a Redis Cluster of 3 masters +
 * 3 replicas at cluster-node-timeout 1000 (a 500 ms SIGSTOP that must not
 * fail over, then a kill -9 of a master whose slots must accept writes again
 * from a promoted replica, and the killed node back as a replica), through
 * the scenario's own run function. The ringcache side runs the same trial:
 * until the nodes take --replicas it must answer with the unknown option,
 * and once they do it must measure a failover.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { Cleanup } from '../../src/scenario/cleanup.js';
import { replicationArgs } from '../../src/scenario/dynamic-cluster.js';
import { OptionError, resolveOptions, type RawScenarioFlags } from '../../src/scenario/options.js';
import { hasCommand } from '../../src/scenario/processes.js';
import { Progress } from '../../src/scenario/progress.js';
import { formatSummary, renderHtml, type ScenarioReport } from '../../src/scenario/report.js';
import { context } from '../../src/scenario/runner.js';
import type { SystemName, TargetResult } from '../../src/scenario/scenario.js';
import { failover, percentile, pickVictim, trialOfAck, type FailoverFigures, type KillTrial } from '../../src/scenario/scenarios/failover.js';
import { nodeFailure } from '../../src/scenario/scenarios/node-failure.js';
import { parseClusterNodes, primarySet, shardHealth, shapeProblem } from '../../src/scenario/topology.js';

const NODES = `07c37dfeb235213a872192d90877d0cd55635b91 127.0.0.1:30004@31004 slave e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 0 1426238317239 4 connected
67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1 127.0.0.1:30002@31002 master - 0 1426238316232 2 connected 5461-10922
292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f 127.0.0.1:30003@31003,host3 master - 0 1426238318243 3 connected 10923-16383 [10923->-67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1]
6ec23923021cf3ffec47632106199cb7f496ce01 127.0.0.1:30005@31005 slave 67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1 0 1426238316232 5 connected
824fe116063bc5fcf9f4ffd895bc17aee7731ac3 127.0.0.1:30006@31006 slave 292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f 0 1426238317741 6 connected
e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 127.0.0.1:30001@31001 myself,master - 0 0 1 connected 0-5460
`;

test('CLUSTER NODES: roles, primaries, slots and the 3 + 3 shape', () => {
  const lines = parseClusterNodes(NODES);
  assert.equal(lines.length, 6);
  const third = lines.find((l) => l.address === '127.0.0.1:30003')!;
  assert.deepEqual([third.role, third.slots, third.ranges], ['primary', 16384 - 10923, [[10923, 16383]]]);
  const replica = lines.find((l) => l.address === '127.0.0.1:30004')!;
  assert.deepEqual([replica.role, replica.primaryId, replica.slots], ['replica', 'e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca', 0]);
  assert.equal(primarySet(lines).length, 3);
  assert.equal(shapeProblem(lines, 3, 1), undefined);
  assert.match(shapeProblem(lines, 3, 2)!, /has 1 replica/);
  // A dead primary (flagged fail) and its replica promoted with its slots: 3 primaries, one without a replica.
  const failed = NODES.replace('myself,master - 0 0 1 connected 0-5460', 'master,fail - 0 0 1 disconnected')
    .replace('slave e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 0 1426238317239 4 connected', 'master - 0 1426238317239 7 connected 0-5460');
  const after = parseClusterNodes(failed);
  assert.match(shapeProblem(after, 3, 1)!, /30001 flagged failed/);
  assert.notDeepEqual(primarySet(after), primarySet(lines));
  assert.ok(primarySet(after).some((p) => p.endsWith('127.0.0.1:30004')));
});

test('CLUSTER SHARDS: each node with its role and health, from RESP2 field lists', () => {
  const b = (x: string) => Buffer.from(x);
  const node = (port: number, role: string, health: string) => [b('id'), b(`n${port}`), b('port'), port, b('ip'), b('127.0.0.1'), b('endpoint'), b('127.0.0.1'), b('role'), b(role), b('replication-offset'), 10, b('health'), b(health)];
  const reply = [
    [b('slots'), [0, 8191], b('nodes'), [node(30001, 'master', 'online'), node(30004, 'replica', 'loading')]],
    [b('slots'), [8192, 16383], b('nodes'), [node(30002, 'master', 'online'), node(30005, 'replica', 'online')]],
  ];
  const health = shardHealth(reply);
  assert.equal(health.length, 4);
  assert.deepEqual(health.filter((h) => h.health !== 'online'), [{ address: '127.0.0.1:30004', role: 'replica', health: 'loading' }]);
  assert.deepEqual(shardHealth('not an array'), []);
});

test('trial statistics: percentiles, round-robin victims, losses put on trials by acknowledgement time', () => {
  assert.equal(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90), 9);
  assert.equal(percentile([2500], 90), 2500);
  assert.equal(percentile([], 50), null);
  const lines = parseClusterNodes(NODES).filter((l) => l.role === 'primary');
  const order = ['127.0.0.1:30001', '127.0.0.1:30002', '127.0.0.1:30003'];
  assert.equal(pickVictim(lines, order, new Map())!.address, '127.0.0.1:30001');
  assert.equal(pickVictim(lines, order, new Map([['127.0.0.1:30001', 1]]))!.address, '127.0.0.1:30002');
  const trial = (n: number, acceptedAt: number | null, restartedAt: number | null): KillTrial => ({ trial: n, fault: 'kill9', victim: '', faultId: null, killedAt: 0, acceptedAt, ms: null, acceptedBy: null, probeAttempts: 0, probeOutcomes: {}, restartedAt, shapeBackAt: null, lostWrites: 0, error: null });
  const trials = [trial(1, 5000, 5100), trial(2, null, 12_000), trial(3, 20_000, 20_050)];
  assert.equal(trialOfAck(trials, 4999), 'trial 1');
  assert.equal(trialOfAck(trials, 5001), 'trial 2');
  assert.equal(trialOfAck(trials, 12_001), 'trial 3');
  assert.equal(trialOfAck(trials, 20_001), 'after the last trial');
  // Acknowledged after trial 1's failover and found missing before trial 2's kill: no kill explains it.
  const killedLater = [trial(1, 5000, 5100), { ...trial(2, 12_000, 12_100), killedAt: 11_000 }];
  assert.equal(trialOfAck(killedLater, 6000, 9000), 'between kills');
  assert.equal(trialOfAck(killedLater, 6000, 11_500), 'trial 2');
});

test('options: failover takes --replicas, --consistency, --trials and --node-timeout (ms); other scenarios still refuse replicas', () => {
  const o = resolveOptions('failover', { quick: true, trials: '1', nodeTimeout: '1000', consistency: 'sync' }, { defaults: failover.defaults(true) });
  assert.deepEqual([o.replicas, o.consistency, o.trials, o.redisNodeTimeoutMs], [1, 'sync', 1, 1000]);
  const d = resolveOptions('failover', {}, { defaults: failover.defaults(false) });
  assert.deepEqual([d.trials, d.redisNodeTimeoutMs, d.consistency], [10, 15_000, 'async']);
  assert.equal(resolveOptions('failover', { quick: true }, { defaults: failover.defaults(true) }).trials, 3);
  assert.equal(resolveOptions('failover', { nodeTimeout: '2s' }, { defaults: failover.defaults(false) }).redisNodeTimeoutMs, 2000);
  assert.throws(() => resolveOptions('failover', { consistency: 'strong' }, { defaults: failover.defaults(true) }), /--consistency 'strong'/);
  assert.throws(() => resolveOptions('node-failure', { replicas: '1' }, { defaults: nodeFailure.defaults(true) }), OptionError);
  assert.equal(failover.validate!(resolveOptions('failover', { replicas: '0' }, { defaults: failover.defaults(true) })), 'failover needs --replicas 1 or more (default 1)');
  assert.deepEqual(replicationArgs(1, 'sync'), ['--replicas', '1', '--consistency', 'sync']);
  assert.deepEqual(replicationArgs(0, 'sync'), []);
});

const discard = new Writable({ write: (_c, _e, cb) => cb() });

async function runOn(system: SystemName, raw: RawScenarioFlags): Promise<{ target: TargetResult; report: ScenarioReport }> {
  const options = resolveOptions('failover', { quick: true, trials: '1', nodeTimeout: '1000', keys: '1000', rate: '500', clients: '2', out: '/tmp/unused', ...raw }, { defaults: failover.defaults(true) });
  const cleanup = new Cleanup();
  try {
    const target = await failover.run(context(system, options, new Progress(discard, true), cleanup));
    const report: ScenarioReport = { scenario: 'failover', version: 'test', command: 'test', startedAt: '', finishedAt: '', options, targets: [target], exitCode: 0 };
    return { target, report };
  } finally {
    await cleanup.runAll();
  }
}

const refused = (port: number) => new Promise<boolean>((resolve) => {
  const s = net.connect(port, '127.0.0.1');
  s.once('connect', () => {
    s.destroy();
    resolve(false);
  });
  s.once('error', () => resolve(true));
});

test('Redis Cluster 3 + 3 at node timeout 1000: a 500 ms pause fails nothing over, a killed master is replaced and rejoins as a replica', { timeout: 90_000 }, async (t) => {
  if (!(await hasCommand('redis-server')) || !(await hasCommand('redis-cli'))) return t.skip('redis-server and redis-cli are not installed');
  const { target, report } = await runOn('redis-cluster', {});
  const fig = target.figures as unknown as FailoverFigures;
  assert.match(target.description, /3 masters \+ 3 replicas/);
  assert.equal(fig.initialShapeProblem, null);
  assert.equal(fig.stoppedEarly, null, String(fig.stoppedEarly));
  assert.ok(fig.pause !== null && fig.pause.before.length === 3, 'the pause trial read 3 primaries');
  assert.equal(fig.pause.falseFailover, false, `before ${fig.pause.before.join('; ')} after ${fig.pause.after.join('; ')}`);
  assert.equal(fig.trials.length, 1);
  const [trial] = fig.trials as [KillTrial];
  assert.ok(trial.ms !== null, `writes accepted again (probe saw ${JSON.stringify(trial.probeOutcomes)})`);
  // Redis marks a master failed only after the node timeout, and its replica waits at least 500 ms more to be elected.
  assert.ok(trial.ms >= 1000 && trial.ms < 15_000, `kill -> writes accepted ${trial.ms} ms`);
  assert.notEqual(trial.acceptedBy, trial.victim, 'another node (the promoted replica) accepted the write');
  assert.ok(trial.shapeBackAt !== null && trial.restartedAt !== null && trial.shapeBackAt > trial.restartedAt, 'the killed node rejoined and the shape came back');
  assert.equal(fig.medianS, trial.ms / 1000);
  const verdict = (name: RegExp) => target.verdicts.find((v) => name.test(v.name))?.status;
  assert.equal(verdict(/^no wrong values/), 'PASS');
  assert.equal(verdict(/accepted again, in every trial/), 'PASS');
  assert.equal(verdict(/^false failovers/), 'PASS');
  assert.equal(verdict(/^faults injected/), 'PASS');
  // Figures reach the summary and the page.
  assert.match(formatSummary(report), /redis-cluster: failover trials .*median \d+\.\d\d s/);
  assert.match(renderHtml(report, { js: '', css: '' }), /<h2>Figures<\/h2>.*kill -9 127\.0\.0\.1:\d+/s);
  // Everything it started is gone.
  for (const n of target.runs[0]!.nodes) assert.ok(await refused(n.port), `${n.id} still answers`);
});

test('ringcache: the same trial, or a clear answer while the nodes have no --replicas', { timeout: 90_000 }, async () => {
  const { target } = await runOn('ringcache', {});
  const fig = target.figures as unknown as FailoverFigures & { unavailable?: string };
  if (fig.unavailable !== undefined) {
    assert.equal(target.verdicts.length, 1);
    assert.equal(target.verdicts[0]!.status, 'FAIL');
    assert.match(target.verdicts[0]!.value, /unknown option '--replicas'/);
    assert.match(target.description, /6 nodes.*--replicas 1, --consistency async/);
    return;
  }
  // Replication is in: the trial must have measured a failover, by another node, and no false one.
  assert.equal(fig.initialShapeProblem, null);
  assert.equal(fig.pause?.falseFailover, false);
  assert.equal(fig.trials.length, 1);
  const [trial] = fig.trials as [KillTrial];
  assert.ok(trial.ms !== null && trial.ms > 0, `writes accepted again after the kill (probe saw ${JSON.stringify(trial.probeOutcomes)})`);
  assert.notEqual(trial.acceptedBy, trial.victim);
  assert.equal(fig.stoppedEarly, null, String(fig.stoppedEarly));
});
