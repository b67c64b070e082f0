/**
 * `node-failure`: a cluster under load loses a node to kill -9 at --fault-at,
 * and the node is started again --restart-after later. The promise of the mode
 * in use is what the verdicts check. With static membership and no replicas
 * (today's ringcache): the dead node's keys fail until it is back and are then
 * gone (a cache without replicas: the loss is expected and reported, not
 * hidden), the other nodes' keys are served throughout and keep their values,
 * errors stop soon after the node is back, and no read ever returns a value
 * that was not written. Once replicas and failover exist, their backend states
 * a stronger promise and the same checks turn it into verdicts.
 */
import type { ScenarioContext, ScenarioDefinition, TargetResult } from '../scenario.js';
import type { RunResult } from '../run.js';
import { atMost, commonVerdicts, errorsBetween, errorsOnOtherNodes, lostByNode, passIf, reported, secondsToLastError, type Verdict } from '../verdicts.js';

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
  const promise = ctx.system === 'ringcache'
    ? "static membership, no replicas: the dead node's keys fail until it is back and are lost (loss expected, reported); the other nodes' keys are served and kept; no wrong values"
    : 'Redis Cluster, masters only: once the dead master is marked failed (node timeout), the whole cluster refuses commands (cluster-require-full-coverage yes) until it is back; its keys are lost';
  return { system: ctx.system, description: result.description, promise, runs: [result], verdicts: nodeFailureVerdicts(result) };
}

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
  defaults: (quick) => ({ durationMs: quick ? 8000 : 30_000, clients: [quick ? 4 : 10], rate: quick ? 1000 : 2000, keys: quick ? 2000 : 10_000, faultAtMs: quick ? 2000 : 10_000, restartAfterMs: quick ? 2500 : 10_000, membership: 'static' }),
  validate: (o) => {
    if (o.nodes < 2) return 'node-failure needs at least 2 nodes (--nodes)';
    if (o.clients.length !== 1) return '--clients takes one number for node-failure (a list sweeps concurrency in load)';
    if (o.faultAtMs! >= o.durationMs) return `--fault-at (${o.faultAtMs! / 1000} s) must be within --duration (${o.durationMs / 1000} s)`;
    return undefined;
  },
  run: runNodeFailure,
};
