/**
 * `scale-out` and `scale-in`: membership changes under load on the node
 * manager. scale-out starts --nodes (3) and adds two nodes one at a time
 * (3 -> 4 -> 5); scale-in starts --nodes (5) and takes two out gracefully
 * (SIGTERM, or `ringcache cluster remove` with --remove-with cluster-remove):
 * 5 -> 4 -> 3. Each change goes once the previous one is complete (the node
 * owns its share, or is gone from the map) and no earlier than planned; the
 * load runs on for the recovery grace after the last.
 *
 * The promise, as the system keeps it now:
 * - no error reaches the application during a join or leave (the clients
 *   follow MOVED and retry TRYAGAIN while a slot is handed over): gated;
 * - no acknowledged write is lost unless its slot changes owner between its
 *   acknowledgement and the read that misses it: gated;
 * - keys in moved slots: as the nodes say in INFO cluster's
 *   cluster_migration. `warm` (warm migration copies a slot's keys before
 *   the handover): none may be lost, gated. Absent or `cold` (a cold
 *   handover: the old owner drops them): their loss is reported as expected.
 * - slots do move (through handovers, none reassigned from a dead node), and
 *   the cluster ends with the expected members owning slots.
 */
import type { FaultSpec } from '../faults.js';
import type { FaultDriver, RunResult } from '../run.js';
import type { ScenarioOptions } from '../options.js';
import type { ScenarioContext, ScenarioDefinition, TargetResult } from '../scenario.js';
import { atMost, commonVerdicts, passIf, reported, type Verdict } from '../verdicts.js';
import { RECOVERY_GRACE_S } from './node-failure.js';

/** Nodes added by scale-out, removed by scale-in. */
export const SCALE_STEPS = 2;
/** Least time between one change completing and the next. */
const SETTLE_MS = 1000;

/** When each change is planned: from faultAt, spread over the rest of the load. */
export function scalePlan(kind: 'out' | 'in', steps: number, faultAtMs: number, durationMs: number): FaultSpec[] {
  const spacing = (durationMs - faultAtMs) / (steps + 0.5);
  // scale-in removes the last nodes started (the first one stays the usual seed).
  return Array.from({ length: steps }, (_, i) => {
    const at = Math.round(faultAtMs + i * spacing);
    return kind === 'out' ? { kind: 'add-node' as const, at } : { kind: 'remove-node' as const, node: -1 - i, at };
  });
}

/** Changes one at a time, each no earlier than planned and only once the previous one is complete. */
export function stepDriver(plan: readonly FaultSpec[], resolveNode: (spec: FaultSpec) => FaultSpec): FaultDriver {
  return async (ctl) => {
    let doneAt = -Infinity;
    for (const spec of plan) {
      await sleepUntil(Math.max(ctl.phaseStart + spec.at, doneAt + SETTLE_MS), ctl.now);
      const record = await ctl.inject(resolveNode(spec));
      if (record.error !== null || record.end === null) return;
      doneAt = record.end;
    }
    await sleepUntil(doneAt + (RECOVERY_GRACE_S + 1.5) * 1000, ctl.now);
  };
}

export async function sleepUntil(at: number, now: () => number): Promise<void> {
  for (let left = at - now(); left > 0; left = at - now()) await new Promise((r) => setTimeout(r, Math.min(left, 200)));
}

async function runScale(kind: 'out' | 'in', ctx: ScenarioContext): Promise<TargetResult> {
  const o = ctx.options;
  const cluster = ctx.cluster({ nodes: o.nodes });
  const run = ctx.run('cluster', cluster);
  await run.start();
  await run.preload(ctx.sweep());
  const plan = scalePlan(kind, SCALE_STEPS, o.faultAtMs ?? 0, o.durationMs);
  // Negative node selectors count from the end of the running nodes at injection time.
  const resolve = (spec: FaultSpec): FaultSpec => {
    if (spec.kind !== 'remove-node' || typeof spec.node !== 'number' || spec.node >= 0) return spec;
    const running = cluster.nodes().filter((n) => n.state === 'running');
    return { ...spec, node: running[running.length - 1]!.id };
  };
  await run.load(ctx.workload(o.clients[0]!), 'load', stepDriver(plan, resolve));
  await run.settleFaults();
  await run.finalRead(ctx.sweep());
  const result = await run.finish();
  const pipelineErrors = result.phases.reduce((n, p) => n + Object.entries(p.errorsByType).filter(([t]) => /^All keys in the pipeline/.test(t)).reduce((m, [, c]) => m + c, 0), 0);
  if (o.client === 'ioredis' && pipelineErrors > 0) result.notes.push(`${pipelineErrors} errors are ioredis's own: its auto-pipelining (enabled for every client here) fails commands across a topology change (redis/ioredis#2075); without it, ioredis saw no error in a quick run`);
  const target = kind === 'out' ? o.nodes + SCALE_STEPS : o.nodes - SCALE_STEPS;
  const migration = result.membership?.migration ?? 'cold';
  const how = kind === 'out' ? 'joins' : `graceful leaves (${o.removeWith === 'cluster-remove' ? 'ringcache cluster remove' : 'SIGTERM'})`;
  const promise = `node manager, no replicas, ${migration === 'warm' ? 'warm migration' : 'cold handover'}: no errors reach the application during ${how}; no acknowledged write is lost unless its slot changes owner after it; ` +
    (migration === 'warm' ? 'keys in moved slots keep them too (warm migration)' : 'keys in moved slots are dropped by their old owner (cold handover: loss expected, reported)');
  return { system: ctx.system, description: result.description, promise, runs: [result], verdicts: scaleVerdicts(result, kind, o.nodes, target) };
}

/** Nodes owning slots in a history version. */
const owning = (v: { nodes: Array<{ slots: number }> }) => v.nodes.filter((n) => n.slots > 0).length;

/** The verdicts on the map and the keys every membership scenario shares. */
export function mapVerdicts(r: RunResult): Verdict[] {
  const m = r.membership;
  if (m === undefined) return [passIf('the map was observed (node manager)', 'no', 'yes', false)];
  const cold = m.migration !== 'warm';
  const movedLost = m.lostWritesBySlotFate['handed-over'];
  return [
    atMost("acknowledged writes lost with no owner change of their slot after the ack", m.lostWritesBySlotFate.kept, 0),
    cold
      ? reported('cold handover: acknowledged writes lost in handed-over slots', String(movedLost), `keys in moved slots are lost (cold handover; ${m.keysBySlotFate['handed-over']} keys were in them): reported`)
      : atMost('warm migration: acknowledged writes lost in handed-over slots', movedLost, 0),
    reported('slots handed over / reassigned from a dead node', `${m.slotsByFate['handed-over']} / ${m.slotsByFate.reassigned}`, `${m.history.filter((v) => v.at >= 0).length} map versions during the run`),
  ];
}

export function scaleVerdicts(r: RunResult, kind: 'out' | 'in', start: number, target: number): Verdict[] {
  const verdicts = commonVerdicts([r]);
  const m = r.membership;
  const done = r.faults.filter((f) => f.start !== null && f.end !== null && f.error === null);
  verdicts.push(passIf(kind === 'out' ? 'nodes added' : 'nodes removed', `${done.length} of ${r.faults.length}`, `${SCALE_STEPS}`, done.length === SCALE_STEPS && r.faults.length === SCALE_STEPS));
  const errors = r.phases.reduce((n, p) => n + p.errors, 0);
  verdicts.push(atMost(`errors surfaced to the application during ${kind === 'out' ? 'joins' : 'leaves'}`, errors, 0));
  verdicts.push(...mapVerdicts(r));
  if (m !== undefined) {
    const last = m.history.at(-1);
    const path = [start, ...done.map((_, i) => (kind === 'out' ? start + i + 1 : start - i - 1))].join(' -> ');
    verdicts.push(
      passIf('nodes owning slots at the end', String(last === undefined ? 0 : owning(last)), `${path}`, last !== undefined && owning(last) === target),
      passIf('slots moved through handovers', String(m.slotsByFate['handed-over']), '> 0', m.slotsByFate['handed-over'] > 0),
      atMost('slots reassigned from a dead node (none should die)', m.slotsByFate.reassigned, 0),
    );
    if (last !== undefined) {
      const slots = last.nodes.filter((n) => n.slots > 0).map((n) => n.slots);
      verdicts.push(reported('slots per node at the end', `${Math.min(...slots)}..${Math.max(...slots)}`, 'balance, measured'));
    }
  }
  for (const f of done) verdicts.push(reported(`${f.label}${f.kind === 'add-node' && f.node !== null ? ` (${f.node})` : ''}: to ${kind === 'out' ? 'owning its share' : 'gone from the map'}`, `${((f.end! - f.start!) / 1000).toFixed(2)} s`, 'measured'));
  verdicts.push(reported('stale reads', String(r.check.staleReads), 'no replicas: none expected'));
  return verdicts;
}

const validate = (name: string, min: number) => (o: ScenarioOptions): string | undefined => {
  if (o.membership === 'static') return `${name} changes membership: it runs on the node manager, not with --static`;
  if (o.against !== null) return `${name} has no Redis Cluster counterpart yet (drop --against)`;
  if (o.nodes < min) return `${name} needs at least ${min} nodes (--nodes)`;
  if (o.clients.length !== 1) return `--clients takes one number for ${name} (a list sweeps concurrency in load)`;
  if ((o.faultAtMs ?? 0) >= o.durationMs) return `--fault-at (${(o.faultAtMs ?? 0) / 1000} s) must be within --duration (${o.durationMs / 1000} s)`;
  return undefined;
};

export const scaleOut: ScenarioDefinition = {
  name: 'scale-out',
  summary: 'add two nodes one at a time under load (3 -> 4 -> 5); errors during joins, moves, loss in moved slots',
  defaults: (quick) => ({ durationMs: quick ? 6000 : 30_000, clients: [quick ? 4 : 10], rate: quick ? 1000 : 2000, keys: quick ? 2000 : 10_000, faultAtMs: quick ? 1000 : 5000, nodes: 3 }),
  nodeManagerOnly: true,
  noComparison: true,
  validate: validate('scale-out', 1),
  run: (ctx) => runScale('out', ctx),
};

export const scaleIn: ScenarioDefinition = {
  name: 'scale-in',
  summary: 'take two nodes out gracefully under load (5 -> 4 -> 3); errors during leaves, moves, loss in moved slots',
  defaults: (quick) => ({ durationMs: quick ? 6000 : 30_000, clients: [quick ? 4 : 10], rate: quick ? 1000 : 2000, keys: quick ? 2000 : 10_000, faultAtMs: quick ? 1000 : 5000, nodes: 5 }),
  nodeManagerOnly: true,
  noComparison: true,
  validate: validate('scale-in', SCALE_STEPS + 1),
  run: (ctx) => runScale('in', ctx),
};
