/**
 * `node-failure`: a cluster under load loses a node to kill -9 at --fault-at,
 * and the node is started again --restart-after later. The promise of the mode
 * in use is what the verdicts check.
 *
 * On the node manager (default), no replicas: the dead node's keys fail until
 * its lease expires and the controller gives its slots to the live nodes,
 * empty (the loss is expected and reported, not hidden); they are served again
 * within the lease TTL + 1 s (gated, measured from the kill to the last error
 * on its keys, and to the map version that reassigned them). The restarted
 * process joins as a new member and takes slots by handovers: no error, and
 * keys in those slots are dropped while handovers are cold (reported; none
 * lost once the nodes say their migration is warm). Keys whose slot never
 * moved keep every write; the other nodes' keys are served throughout.
 *
 * With --static (membership from --peers): the dead node's keys fail until it
 * is back and are then gone (reported), the other nodes' keys are served
 * throughout and keep their values, errors stop soon after the node is back.
 * Never a wrong value, in either mode.
 */
import type { ScenarioContext, ScenarioDefinition, TargetResult } from '../scenario.js';
import type { RunResult } from '../run.js';
import { atMost, commonVerdicts, errorsBetween, errorsOnOtherNodes, lostByNode, passIf, reported, secondsToLastError, withinSeconds, type Verdict } from '../verdicts.js';

/** Errors this long after the node is back count against recovery. */
export const RECOVERY_GRACE_S = 2;
/** The node killed: the second one (any would do; the first is the usual seed). */
const VICTIM = 1;

async function runNodeFailure(ctx: ScenarioContext): Promise<TargetResult> {
  const o = ctx.options;
  const run = ctx.run('cluster', ctx.cluster({ nodes: o.nodes }));
  await run.start();
  await run.preload(ctx.sweep());
  await run.load(ctx.workload(o.clients[0]!), 'load', [{ kind: 'kill9', node: VICTIM, at: o.faultAtMs!, restartAfter: o.restartAfterMs! }]);
  await run.settleFaults();
  await run.finalRead(ctx.sweep());
  const result = await run.finish();
  const ttl = o.leaseTtlMs / 1000;
  const promise = ctx.system !== 'ringcache'
    ? 'Redis Cluster, masters only: once the dead master is marked failed (node timeout), the whole cluster refuses commands (cluster-require-full-coverage yes) until it is back; its keys are lost'
    : result.membership !== undefined
      ? `node manager, no replicas: the dead node's slots are given to the live nodes once its lease expires, empty (loss expected, reported), and served again within the lease TTL + 1 s (${ttl + 1} s); the restarted node joins by handovers, with no error (${result.membership.migration === 'warm' ? 'warm migration: no loss' : 'cold: keys in its new slots are dropped, reported'}); no acknowledged write is lost unless its slot changes owner after it; no wrong values`
      : "static membership, no replicas: the dead node's keys fail until it is back and are lost (loss expected, reported); the other nodes' keys are served and kept; no wrong values";
  return { system: ctx.system, description: result.description, promise, runs: [result], verdicts: result.membership !== undefined ? dynamicNodeFailureVerdicts(result, o.leaseTtlMs) : nodeFailureVerdicts(result) };
}

/** From the kill to the first map version in which the killed member owns no slot (null: never seen). */
export function secondsToReassigned(r: RunResult, node: string, killedAt: number): number | null {
  const history = r.membership?.history ?? [];
  const before = history.filter((v) => v.at <= killedAt).at(-1);
  const member = before?.nodes.find((n) => n.address === node && n.slots > 0)?.member;
  if (member === undefined) return null;
  const after = history.find((v) => v.at > killedAt && !v.nodes.some((n) => n.member === member && n.slots > 0));
  return after === undefined ? null : (after.at - killedAt) / 1000;
}

/** node-failure on the node manager (see the file header). */
export function dynamicNodeFailureVerdicts(r: RunResult, leaseTtlMs: number): Verdict[] {
  const verdicts = commonVerdicts([r]);
  const f = r.faults[0];
  const m = r.membership;
  if (f === undefined || f.start === null || f.node === null) return [...verdicts, passIf('the node was killed', 'no', 'yes', false)];
  if (m === undefined) return [...verdicts, passIf('the map was observed (node manager)', 'no', 'yes', false)];
  const bound = leaseTtlMs / 1000 + 1;
  const restartAt = f.undoStartedAt ?? Infinity;
  const back = f.end;
  verdicts.push(
    reported("acknowledged writes lost on the killed node's keys", String(m.lostWritesBySlotFate.reassigned), 'no replicas: loss expected, reported'),
    atMost('acknowledged writes lost with no owner change of their slot after the ack', m.lostWritesBySlotFate.kept, 0),
    m.migration === 'warm'
      ? atMost('warm migration: acknowledged writes lost in slots handed to the restarted node', m.lostWritesBySlotFate['handed-over'], 0)
      : reported('cold handover: acknowledged writes lost in slots handed to the restarted node', String(m.lostWritesBySlotFate['handed-over']), 'keys in moved slots are lost (cold handover): reported'),
    atMost("errors on the other nodes' keys while the node was down", errorsOnOtherNodes(r, f.node, f.start, Math.min(restartAt, r.durationMs)), 0),
    reported('errors while the node was down', String(errorsBetween(r, f.start, restartAt)), "expected until its slots are reassigned"),
  );
  const reassigned = secondsToReassigned(r, f.node, f.start);
  const lastError = restartAt === Infinity && back === null ? null : secondsToLastError(r, f.start, restartAt);
  verdicts.push(
    withinSeconds("served again: kill to the last error on the killed node's keys", lastError, bound),
    withinSeconds('kill to the map giving its slots to live nodes', reassigned, bound),
  );
  if (back === null) verdicts.push(passIf('the node came back (a new member)', 'no', 'restarted, owning slots', false));
  else {
    verdicts.push(
      atMost('errors while the restarted node joined', errorsBetween(r, restartAt, back + RECOVERY_GRACE_S * 1000), 0),
      atMost(`errors more than ${RECOVERY_GRACE_S} s after the node was back`, errorsBetween(r, back + RECOVERY_GRACE_S * 1000), 0),
      reported('restart: start to owning its share', `${((back - restartAt) / 1000).toFixed(2)} s`, 'measured'),
    );
  }
  verdicts.push(reported('stale reads', String(r.check.staleReads), 'no replicas: none expected'));
  return verdicts;
}

/** node-failure with static membership (see the file header). */
export function nodeFailureVerdicts(r: RunResult): Verdict[] {
  const verdicts = commonVerdicts([r]);
  const f = r.faults[0];
  if (f === undefined || f.start === null || f.node === null) return [...verdicts, passIf('the node was killed', 'no', 'yes', false)];
  const back = f.end;
  const lost = lostByNode(r, f.node);
  verdicts.push(
    reported("acknowledged writes lost on the killed node's keys", String(lost.on), 'no replicas: loss expected, reported'),
    atMost("acknowledged writes lost on the other nodes' keys", lost.elsewhere, 0),
    atMost("errors on the other nodes' keys while the node was down", errorsOnOtherNodes(r, f.node, f.start, back ?? r.durationMs), 0),
    reported('errors while the node was down', String(errorsBetween(r, f.start, back ?? Infinity)), "expected: the dead node's keys fail"),
  );
  if (back === null) verdicts.push(passIf('the node came back', 'no', 'restarted and ready', false));
  else {
    verdicts.push(
      atMost(`errors more than ${RECOVERY_GRACE_S} s after the node was back`, errorsBetween(r, back + RECOVERY_GRACE_S * 1000), 0),
      reported('recovery: node back to the last error', `${secondsToLastError(r, back).toFixed(2)} s`, 'measured'),
      reported('restart: kill to node ready', `${((back - f.start) / 1000).toFixed(2)} s`, `--restart-after plus start-up`),
    );
  }
  verdicts.push(reported('stale reads', String(r.check.staleReads), 'no replicas: none expected'));
  return verdicts;
}

export const nodeFailure: ScenarioDefinition = {
  name: 'node-failure',
  summary: 'kill -9 one node under load at --fault-at, restart it --restart-after later; errors, recovery, loss',
  defaults: (quick) => ({ durationMs: quick ? 10_000 : 30_000, clients: [quick ? 4 : 10], rate: quick ? 1000 : 2000, keys: quick ? 2000 : 10_000, faultAtMs: quick ? 2000 : 10_000, restartAfterMs: quick ? 4000 : 10_000 }),
  validate: (o) => {
    if (o.nodes < 2) return 'node-failure needs at least 2 nodes (--nodes)';
    if (o.clients.length !== 1) return '--clients takes one number for node-failure (a list sweeps concurrency in load)';
    if (o.membership === 'dynamic' && o.restartAfterMs! < o.leaseTtlMs + 1000) return `--restart-after (${o.restartAfterMs! / 1000} s) must be at least the lease TTL + 1 s (${o.leaseTtlMs / 1000 + 1} s) on the node manager, so the failover is seen before the node returns`;
    if (o.faultAtMs! >= o.durationMs) return `--fault-at (${o.faultAtMs! / 1000} s) must be within --duration (${o.durationMs / 1000} s)`;
    return undefined;
  },
  run: runNodeFailure,
};
