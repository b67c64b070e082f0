/**
 * `rolling-restart`: under load, each node in turn is stopped with SIGTERM
 * (a graceful stop: it delivers the replies in flight) and started again at
 * once; the next node goes only once the previous one is back, at the
 * planned time (spread over --duration from --fault-at) or a second after
 * the previous node is ready, whichever is later. The load lasts until the
 * last node has been back for the recovery grace and a little more.
 *
 * On the node manager (default), SIGTERM is a graceful leave: the node hands
 * its slots over before it exits, and the restarted process joins as a new
 * member and takes slots back by handovers. So no error may reach the
 * application at any point (gated), no slot may wait for a lease to expire,
 * and no write is lost unless its slot changes owner after it; keys in moved slots are
 * dropped while handovers are cold (reported), and must be kept once the
 * nodes say their migration is warm.
 *
 * With --static and no replicas, each restarted node comes back empty: its
 * keys fail while it is down and are lost (reported). The other nodes' keys
 * must be served throughout, errors must stop soon after the last node is
 * back. No wrong value may appear in either mode.
 */
import type { FaultSpec } from '../faults.js';
import type { FaultDriver, RunResult } from '../run.js';
import type { ScenarioContext, ScenarioDefinition, TargetResult } from '../scenario.js';
import { atMost, commonVerdicts, errorsBetween, errorsOnOtherNodes, passIf, reported, type Verdict } from '../verdicts.js';
import { RECOVERY_GRACE_S } from './node-failure.js';
import { mapVerdicts } from './scale.js';

/** When each node is planned to be stopped: from faultAt, spread evenly over the rest of the load. */
export function restartPlan(nodes: number, faultAtMs: number, durationMs: number): FaultSpec[] {
  const spacing = (durationMs - faultAtMs) / (nodes + 0.5);
  return Array.from({ length: nodes }, (_, i) => ({ kind: 'terminate' as const, node: i, at: Math.round(faultAtMs + i * spacing), restartAfter: 0 }));
}

/** Least time between one node being ready again and the next SIGTERM. */
const SETTLE_MS = 1000;

/** Restarts the nodes one at a time, each no earlier than planned and only once the previous one is back. */
export function rollingDriver(plan: readonly FaultSpec[]): FaultDriver {
  return async (ctl) => {
    let readyAt = -Infinity;
    for (const spec of plan) {
      const at = Math.max(ctl.phaseStart + spec.at, readyAt + SETTLE_MS);
      await sleepUntil(at, ctl.now);
      const record = await ctl.inject(spec);
      if (record.error !== null || record.end === null) return;
      readyAt = record.end;
    }
    await sleepUntil(readyAt + (RECOVERY_GRACE_S + 1.5) * 1000, ctl.now);
  };
}

async function sleepUntil(at: number, now: () => number): Promise<void> {
  for (let left = at - now(); left > 0; left = at - now()) await new Promise((r) => setTimeout(r, Math.min(left, 200)));
}

async function runRollingRestart(ctx: ScenarioContext): Promise<TargetResult> {
  const o = ctx.options;
  const run = ctx.run('cluster', ctx.cluster({ nodes: o.nodes }));
  await run.start();
  await run.preload(ctx.sweep());
  await run.load(ctx.workload(o.clients[0]!), 'load', rollingDriver(restartPlan(o.nodes, o.faultAtMs ?? 0, o.durationMs)));
  await run.settleFaults();
  await run.finalRead(ctx.sweep());
  const result = await run.finish();
  const migration = result.membership?.migration;
  const promise = ctx.system !== 'ringcache'
    ? 'Redis Cluster, masters only, no persistence: a restarting master loses its keys; the cluster may refuse commands while it is marked failed'
    : migration !== undefined
      ? `node manager, no replicas: each SIGTERM is a graceful leave and each restart a join, both by handovers: no errors reach the application; no acknowledged write is lost unless its slot changes owner after it; ${migration === 'warm' ? 'keys in moved slots too (warm migration)' : 'keys in moved slots are dropped (cold handover: loss expected, reported)'}; no wrong values`
      : "static membership, no replicas: a restarting node's keys fail while it is down and come back empty (loss expected, reported); the other nodes' keys are served throughout; no wrong values";
  return { system: ctx.system, description: result.description, promise, runs: [result], verdicts: migration !== undefined ? dynamicRollingRestartVerdicts(result) : rollingRestartVerdicts(result) };
}

/** rolling-restart on the node manager (see the file header). */
export function dynamicRollingRestartVerdicts(r: RunResult): Verdict[] {
  const verdicts = commonVerdicts([r]);
  const done = r.faults.filter((f) => f.start !== null && f.end !== null && f.node !== null && f.error === null);
  if (done.length !== r.faults.length || done.length === 0) return [...verdicts, passIf('every node restarted', `${done.length} of ${r.faults.length}`, 'all', false)];
  const longest = Math.max(...done.map((f) => f.end! - f.start!));
  verdicts.push(
    atMost('errors surfaced to the application (graceful leaves and joins)', r.phases.reduce((n, p) => n + p.errors, 0), 0),
    ...mapVerdicts(r),
    atMost('slots reassigned from a dead node (none should die)', r.membership?.slotsByFate.reassigned ?? 0, 0),
    reported('longest restart: SIGTERM to owning its share again', `${(longest / 1000).toFixed(2)} s`, 'measured'),
    reported('stale reads', String(r.check.staleReads), 'no replicas: none expected'),
  );
  return verdicts;
}

export function rollingRestartVerdicts(r: RunResult): Verdict[] {
  const verdicts = commonVerdicts([r]);
  const done = r.faults.filter((f) => f.start !== null && f.end !== null && f.node !== null);
  if (done.length !== r.faults.length || done.length === 0) return [...verdicts, passIf('every node restarted', `${done.length} of ${r.faults.length}`, 'all', false)];
  const others = done.reduce((n, f) => n + errorsOnOtherNodes(r, f.node!, f.start!, f.end!), 0);
  const lastBack = Math.max(...done.map((f) => f.end!));
  const longest = Math.max(...done.map((f) => f.end! - f.start!));
  verdicts.push(
    reported('acknowledged writes lost (restarted nodes come back empty)', String(r.check.lostWrites), 'no replicas, no persistence: loss expected, reported'),
    atMost("errors on the other nodes' keys while a node restarted", others, 0),
    reported('errors during the restarts', String(errorsBetween(r, done[0]!.start!, lastBack)), "expected: the restarting node's keys fail"),
    atMost(`errors more than ${RECOVERY_GRACE_S} s after the last node was back`, errorsBetween(r, lastBack + RECOVERY_GRACE_S * 1000), 0),
    reported('longest restart: SIGTERM to ready', `${(longest / 1000).toFixed(2)} s`, 'measured'),
  );
  return verdicts;
}

export const rollingRestart: ScenarioDefinition = {
  name: 'rolling-restart',
  summary: 'SIGTERM and restart each node in turn under load; errors per restart, loss, recovery',
  defaults: (quick) => ({ durationMs: quick ? 9000 : 40_000, clients: [quick ? 4 : 10], rate: quick ? 1000 : 2000, keys: quick ? 2000 : 10_000, faultAtMs: quick ? 1500 : 5000 }),
  validate: (o) => {
    if (o.nodes < 2) return 'rolling-restart needs at least 2 nodes (--nodes)';
    if (o.clients.length !== 1) return '--clients takes one number for rolling-restart (a list sweeps concurrency in load)';
    if ((o.faultAtMs ?? 0) >= o.durationMs) return `--fault-at (${(o.faultAtMs ?? 0) / 1000} s) must be within --duration (${o.durationMs / 1000} s)`;
    return undefined;
  },
  run: runRollingRestart,
};
