/**
 * The node manager's scenarios, their pure parts: the options that choose
 * the backend (--static, --etcd, --lease-ttl, --remove-with) and refuse what
 * the nodes cannot do yet (--replicas N>0, --consistency), the plans, and the
 * verdicts of scale-out/scale-in, node-failure, partition and chaos against
 * their promise: each broken promise fails (exit 1), and the loss in moved
 * slots is only reported under a cold handover but gated once nodes say warm.
 */
import assert from 'node:assert/strict';
import test from 'node:test';
import { Checker } from '../../src/scenario/checker.js';
import type { MapVersion, SlotFate } from '../../src/scenario/cluster-under-test.js';
import type { FaultRecord } from '../../src/scenario/faults.js';
import { OptionError, resolveOptions } from '../../src/scenario/options.js';
import { worstChange, type RunResult } from '../../src/scenario/run.js';
import { chaosVerdicts } from '../../src/scenario/scenarios/chaos.js';
import { dynamicNodeFailureVerdicts, secondsToReassigned } from '../../src/scenario/scenarios/node-failure.js';
import { partitionVerdicts } from '../../src/scenario/scenarios/partition.js';
import { scalePlan, scaleVerdicts } from '../../src/scenario/scenarios/scale.js';
import { exitCodeFor, type Verdict } from '../../src/scenario/verdicts.js';

const defaults = { durationMs: 6000, clients: [4], rate: 1000, keys: 2000, faultAtMs: 1000, restartAfterMs: 4000 };

test('options: the node manager by default, --static, --etcd with or without an endpoint, lease TTL, removal, the start size', () => {
  const o = resolveOptions('scale-in', {}, { defaults: { ...defaults, nodes: 5 } });
  assert.equal(o.membership, 'dynamic');
  assert.equal(o.etcd, null);
  assert.equal(o.nodes, 5, "the scenario's own start size");
  assert.equal(o.leaseTtlMs, 2000);
  assert.equal(o.removeWith, 'sigterm');
  assert.equal(o.replicas, 0);
  assert.equal(resolveOptions('scale-in', { nodes: '7' }, { defaults: { ...defaults, nodes: 5 } }).nodes, 7);
  assert.equal(resolveOptions('load', { static: true }, { defaults }).membership, 'static');
  assert.equal(resolveOptions('load', {}, { defaults: { ...defaults, membership: 'static' } }).membership, 'static');
  assert.equal(resolveOptions('load', { etcd: true }, { defaults }).etcd, '', 'no endpoint: the runner starts one');
  assert.equal(resolveOptions('load', { etcd: '127.0.0.1:2379, 127.0.0.1:2380' }, { defaults }).etcd, '127.0.0.1:2379,127.0.0.1:2380');
  assert.equal(resolveOptions('load', { leaseTtl: '1s' }, { defaults }).leaseTtlMs, 1000);
  assert.equal(resolveOptions('load', { removeWith: 'cluster-remove' }, { defaults }).removeWith, 'cluster-remove');
  assert.equal(resolveOptions('load', { replicas: '0' }, { defaults }).replicas, 0);
  for (const [raw, pattern] of [
    [{ replicas: '1' }, /^--replicas 1: not available yet/],
    [{ consistency: 'sync' }, /^--consistency sync: not available yet/],
    [{ static: true, etcd: true }, /exclude each other/],
    [{ etcd: 'localhost' }, /^invalid --etcd 'localhost'/],
    [{ leaseTtl: '500ms' }, /^invalid --lease-ttl '500ms': must be from 1 s to 60 s/],
    [{ removeWith: 'drain' }, /^invalid --remove-with 'drain'/],
    [{ replicas: 'two' }, /^invalid --replicas 'two'/],
  ] as const) {
    assert.throws(() => resolveOptions('load', raw, { defaults }), (err: Error) => err instanceof OptionError && pattern.test(err.message) && !err.message.includes('\n'), JSON.stringify(raw));
  }
});

test('scale plans: two changes spread over the load; scale-in takes the last running nodes', () => {
  const out = scalePlan('out', 2, 1000, 6000);
  assert.deepEqual(out.map((f) => f.kind), ['add-node', 'add-node']);
  assert.deepEqual(out.map((f) => f.at), [1000, 3000]);
  const inPlan = scalePlan('in', 2, 1000, 6000);
  assert.deepEqual(inPlan.map((f) => ('node' in f ? f.node : null)), [-1, -2]);
});

const version = (at: number, epoch: number, owners: Array<[string, string, number]>, moves: MapVersion['moves'] = []): MapVersion => ({
  at, epoch, nodes: owners.map(([address, member, slots]) => ({ address, member, state: 'up', slots })), moves,
});

interface Shape {
  errors?: number[];
  lost?: Partial<Record<SlotFate, number>>;
  slots?: Partial<Record<SlotFate, number>>;
  migration?: 'warm' | 'cold';
  faults?: FaultRecord[];
  history?: MapVersion[];
  wrong?: number;
  stale?: number;
}

function result(p: Shape): RunResult {
  const check = new Checker({ tag: 'x' }).analyze();
  check.reads.checked = 100;
  check.wrongValues = p.wrong ?? 0;
  check.staleReads = p.stale ?? 0;
  const errorTimes = p.errors ?? [];
  return {
    name: 'cluster', description: 'test', system: 'ringcache', nodes: [], startedAt: '', durationMs: 12_000, series: [], keysPerNode: [], check, errorTimes, preload: null, finalRead: null, notes: [],
    phases: [{ name: 'load', params: {}, start: 0, end: 12_000, ops: 1000, opsPerSec: 100, errors: errorTimes.length, errorsByType: {}, hitRatio: 1, latency: { count: 0, p50: 0, p99: 0, p999: 0, max: 0, mean: 0 } }] as unknown as RunResult['phases'],
    faults: p.faults ?? [],
    membership: {
      migration: p.migration ?? 'cold',
      history: p.history ?? [],
      keysBySlotFate: { kept: 1000, 'handed-over': 800, reassigned: 200 },
      lostWritesBySlotFate: { kept: 0, 'handed-over': 0, reassigned: 0, ...p.lost },
      slotsByFate: { kept: 9000, 'handed-over': 7384, reassigned: 0, ...p.slots },
      unexplained: [],
    },
  };
}

const fault = (kind: FaultRecord['kind'], node: string, start: number, end: number | null, undoStartedAt: number | null = null): FaultRecord =>
  ({ id: `f-${kind}-${start}`, kind, label: kind, node, plannedAt: start, start, end, undoStartedAt, error: null });

const failed = (v: Verdict[]) => v.filter((x) => x.status === 'FAIL').map((x) => x.name);

test('scale-out verdicts: zero errors and no loss on unmoved keys gated; moved keys reported when cold, gated when warm', () => {
  const history = [
    version(-100, 5, [['a', 'a1', 5462], ['b', 'b1', 5461], ['c', 'c1', 5461]]),
    version(1500, 6, [['a', 'a1', 5462], ['b', 'b1', 5461], ['c', 'c1', 5461], ['d', 'd1', 0]], [{ from: 'a', to: 'd', slots: 1365 }]),
    version(1600, 7, [['a', 'a1', 4096], ['b', 'b1', 4096], ['c', 'c1', 4096], ['d', 'd1', 4096]]),
    version(4000, 9, [['a', 'a1', 3277], ['b', 'b1', 3277], ['c', 'c1', 3277], ['d', 'd1', 3277], ['e', 'e1', 3276]]),
  ];
  const faults = [fault('add-node', 'd', 1000, 2000), fault('add-node', 'e', 3000, 4100)];
  const good = scaleVerdicts(result({ history, faults, lost: { 'handed-over': 600 } }), 'out', 3, 5);
  assert.deepEqual(failed(good), []);
  assert.equal(exitCodeFor(good), 0);
  assert.ok(good.some((v) => v.status === 'INFO' && /^cold handover: acknowledged writes lost/.test(v.name) && v.value === '600'));
  assert.ok(good.some((v) => v.status === 'PASS' && v.name === 'nodes owning slots at the end' && v.bound === '3 -> 4 -> 5'));
  for (const [p, name] of [
    [{ errors: [2500] }, /errors surfaced to the application during joins/],
    [{ lost: { kept: 1 } }, /lost with no owner change of their slot after the ack/],
    [{ migration: 'warm', lost: { 'handed-over': 600 } }, /warm migration: acknowledged writes lost/],
    [{ slots: { reassigned: 100 } }, /reassigned from a dead node/],
    [{ slots: { 'handed-over': 0 } }, /slots moved through handovers/],
    [{ history: history.slice(0, 3) }, /nodes owning slots at the end/],
    [{ faults: faults.slice(0, 1) }, /nodes added/],
    [{ wrong: 1 }, /no wrong values/],
  ] as Array<[Shape, RegExp]>) {
    const v = scaleVerdicts(result({ history, faults, ...p }), 'out', 3, 5);
    assert.equal(failed(v).length, 1, `${JSON.stringify(p)}: ${failed(v)}`);
    assert.match(failed(v)[0]!, name);
    assert.equal(exitCodeFor(v), 1);
  }
  assert.deepEqual(failed(scaleVerdicts(result({ history, faults, migration: 'warm' }), 'out', 3, 5)), [], 'warm and nothing lost: passes');
});

test('node-failure on the node manager: served again within the lease TTL + 1 s, from the errors and from the map', () => {
  const history = [
    version(-100, 3, [['a', 'a1', 5462], ['b', 'b1', 5461], ['c', 'c1', 5461]]),
    version(4100, 4, [['a', 'a1', 8192], ['c', 'c1', 8192]]),
    version(7000, 6, [['a', 'a1', 5462], ['b', 'b2', 5461], ['c', 'c1', 5461]]),
  ];
  const kill = fault('kill9', 'b', 2000, 7200, 6000);
  assert.equal(secondsToReassigned(result({ history }), 'b', 2000), 2.1);
  const good = dynamicNodeFailureVerdicts(result({ history, faults: [kill], errors: [2100, 3900], slots: { reassigned: 5461 }, lost: { reassigned: 300 } }), 2000);
  assert.deepEqual(failed(good), []);
  assert.ok(good.some((v) => v.status === 'INFO' && /killed node's keys/.test(v.name) && v.value === '300'));
  const late = dynamicNodeFailureVerdicts(result({ history, faults: [kill], errors: [2100, 5500] }), 2000);
  assert.deepEqual(failed(late), ["served again: kill to the last error on the killed node's keys"]);
  const slowMap = dynamicNodeFailureVerdicts(result({ history: [history[0]!, { ...history[1]!, at: 5500 }, history[2]!], faults: [kill], errors: [2100] }), 2000);
  assert.deepEqual(failed(slowMap), ['kill to the map giving its slots to live nodes']);
  const rejoinErrors = dynamicNodeFailureVerdicts(result({ history, faults: [kill], errors: [2100, 6500] }), 2000);
  assert.deepEqual(failed(rejoinErrors), ['errors while the restarted node joined']);
});

test('partition verdicts: the cut-off node must fence before its slots go, with no stale read', () => {
  const history = [
    version(-100, 3, [['a', 'a1', 5462], ['b', 'b1', 5461], ['c', 'c1', 5461]]),
    version(3600, 4, [['a', 'a1', 8192], ['c', 'c1', 8192]]),
    version(7000, 6, [['a', 'a1', 5462], ['b', 'b2', 5461], ['c', 'c1', 5461]]),
  ];
  const cut = fault('isolate', 'b', 1500, 7100, 5500);
  const shape = { history, faults: [cut], slots: { reassigned: 5461, 'handed-over': 5461 } };
  assert.deepEqual(failed(partitionVerdicts(result(shape), 2000, { fencedAt: 3300, lastServedAt: 3250, probes: 40 })), []);
  assert.deepEqual(failed(partitionVerdicts(result(shape), 2000, { fencedAt: 4000, lastServedAt: 3950, probes: 50 })), ['the cut-off node fenced itself before its slots were given away']);
  assert.deepEqual(failed(partitionVerdicts(result(shape), 2000, { fencedAt: null, lastServedAt: 5400, probes: 80 })), ['the cut-off node fenced itself before its slots were given away']);
  assert.deepEqual(failed(partitionVerdicts(result({ ...shape, stale: 2 }), 2000, { fencedAt: 3300, lastServedAt: 3250, probes: 40 })), ['stale reads (no split brain)']);
});

test('chaos verdicts: faults undone, no stale reads, no errors in joins and leaves, kills served again in time', () => {
  const faults = [fault('kill9', 'b', 1000, 4000, 3000), fault('pause', 'c', 5000, 6000, 5900), fault('add-node', 'd', 7000, 8000), fault('remove-node', 'a', 9000, 9500)];
  const good = chaosVerdicts(result({ faults, errors: [1200, 2500, 5500] }), 2000);
  assert.deepEqual(failed(good), []);
  assert.ok(good.some((v) => v.name === 'faults' && v.value === 'kill9 x1, pause x1, add-node x1, remove-node x1'));
  assert.deepEqual(failed(chaosVerdicts(result({ faults, errors: [7500] }), 2000)), ['errors during joins and leaves']);
  assert.deepEqual(failed(chaosVerdicts(result({ faults, errors: [1200, 11_600] }), 2000)), ['errors more than 2 s after the last fault was undone']);
  assert.deepEqual(failed(chaosVerdicts(result({ faults: [fault('kill9', 'b', 1000, 6000, 5000)], errors: [4500] }), 2000)), ['slowest kill -9: kill to the last error before its restart']);
  assert.deepEqual(failed(chaosVerdicts(result({ faults: [fault('pause', 'c', 5000, null)] }), 2000)), ['kills and pauses never undone']);
});

test('a lost write is explained only by an owner change of its slot after its acknowledgement (and up to 1 s after the read that missed it)', () => {
  const at = (t: number, slot: number, fate: number) => {
    const fates = new Uint8Array(16384);
    fates[slot] = fate;
    return { at: t, fates };
  };
  const changes = [at(1000, 7, 1), at(5000, 7, 2), at(9000, 8, 2)];
  assert.equal(worstChange(changes, 7, 500, 2000), 1, 'handed over after the ack');
  assert.equal(worstChange(changes, 7, 500, 6000), 2, 'the worst of two');
  assert.equal(worstChange(changes, 7, 1500, 3000), 0, 'acknowledged after the handover, no later change: unexplained');
  assert.equal(worstChange(changes, 7, 1500, 4500), 2, 'a change seen just after the read still counts');
  assert.equal(worstChange(changes, 7, 1500, 3900), 0);
  assert.equal(worstChange(changes, 9, 0, 20_000), 0, 'another slot');
});
