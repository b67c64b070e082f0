/**
 * `partition`: under load, one node is cut off from the coordinator alone
 * (its own fault proxy on the way to the coordinator goes blackhole; clients
 * and the other nodes still reach it) for --restart-after, which must exceed
 * the lease TTL + 1 s. What the node manager promises, and the verdicts gate:
 *
 * - the cut-off node fences itself (CLUSTERDOWN for its slots) before the
 *   controller can give its slots away (its lease expires a TTL after the
 *   last renewal etcd received; the node stops at its last renewal + TTL -
 *   300 ms): a probe reads one of its keys from it every 50 ms;
 * - the others take its slots within the lease TTL + 1 s of the cut, and the
 *   application is served again on its keys within that bound;
 * - no split brain: no wrong value and no stale read (a fenced node serves
 *   nothing), and no error on the other nodes' keys;
 * - its keys are lost (given away empty, no replicas: reported); keys whose
 *   slot did not change owner after the write keep every acknowledged write
 *   (a write the cut-off node acknowledged after its slots were given away
 *   and that is then lost counts there: that is a split brain's cost).
 *
 * When the link comes back the node learns its lease is gone and exits; it is
 * started again and joins as a new member (by handovers: no error).
 */
import type { ClusterUnderTest } from '../cluster-under-test.js';
import { keyName } from '../keys.js';
import type { ScenarioOptions } from '../options.js';
import { call } from '../resp-call.js';
import type { FaultDriver, Run, RunResult } from '../run.js';
import type { ScenarioContext, ScenarioDefinition, TargetResult } from '../scenario.js';
import { atMost, commonVerdicts, errorsBetween, errorsOnOtherNodes, passIf, reported, secondsToLastError, withinSeconds, type Verdict } from '../verdicts.js';
import { RECOVERY_GRACE_S, secondsToReassigned } from './node-failure.js';
import { mapVerdicts, sleepUntil } from './scale.js';

/** The node cut off: the second (the first is the usual seed). */
const VICTIM = 1;
const PROBE_EVERY_MS = 50;

export interface FenceProbe {
  /** ms on the run clock of the first CLUSTERDOWN from the cut-off node on its own key; null: never seen. */
  fencedAt: number | null;
  /** The last successful read from it before that. */
  lastServedAt: number | null;
  probes: number;
}

/** Reads one of the victim's keys from the victim itself until it answers CLUSTERDOWN (or the time is up). */
async function probeFence(run: Run, host: string, port: number, key: string, untilMs: number, probe: FenceProbe): Promise<void> {
  while (run.now() < untilMs && probe.fencedAt === null) {
    const sent = run.now();
    try {
      await call(host, port, ['GET', key], 300);
      probe.lastServedAt = sent;
    } catch (err) {
      if (/^CLUSTERDOWN/.test((err as Error).message)) probe.fencedAt = sent;
    }
    probe.probes++;
    await new Promise((r) => setTimeout(r, PROBE_EVERY_MS));
  }
}

function partitionDriver(run: Run, cluster: ClusterUnderTest, o: ScenarioOptions, probe: FenceProbe): FaultDriver {
  return async (ctl) => {
    await sleepUntil(ctl.phaseStart + (o.faultAtMs ?? 0), ctl.now);
    const victim = cluster.nodes()[VICTIM]!;
    let key: string | undefined;
    for (let k = 0; k < o.keys && key === undefined; k++) if (run.ownerOf(k) === victim.id) key = keyName(k);
    const probing = key === undefined ? Promise.resolve() : probeFence(run, victim.host, victim.port, key, ctl.now() + o.restartAfterMs!, probe);
    const record = await ctl.inject({ kind: 'isolate', node: victim.id, at: 0, duration: o.restartAfterMs! });
    await probing;
    if (record.end !== null) await sleepUntil(record.end + (RECOVERY_GRACE_S + 1.5) * 1000, ctl.now);
  };
}

async function runPartition(ctx: ScenarioContext): Promise<TargetResult> {
  const o = ctx.options;
  const cluster = ctx.cluster({ nodes: o.nodes, coordinatorProxies: true });
  const run = ctx.run('cluster', cluster);
  await run.start();
  await run.preload(ctx.sweep());
  const probe: FenceProbe = { fencedAt: null, lastServedAt: null, probes: 0 };
  await run.load(ctx.workload(o.clients[0]!), 'load', partitionDriver(run, cluster, o, probe));
  await run.settleFaults();
  await run.finalRead(ctx.sweep());
  run.notes.push(`fence probe: ${probe.probes} reads of the cut-off node's key from it; last served at ${fmt(probe.lastServedAt)}, first CLUSTERDOWN at ${fmt(probe.fencedAt)}`);
  const result = await run.finish();
  const ttl = o.leaseTtlMs / 1000;
  const promise = `node manager, no replicas: a node cut off from the coordinator fences itself before its lease can expire, the others take its slots within the lease TTL + 1 s (${ttl + 1} s), empty (loss expected, reported); no split brain (no wrong or stale value); the other nodes' keys are served throughout`;
  return { system: ctx.system, description: result.description, promise, runs: [result], verdicts: partitionVerdicts(result, o.leaseTtlMs, probe) };
}

const fmt = (t: number | null) => (t === null ? 'never' : `${(t / 1000).toFixed(2)} s`);

export function partitionVerdicts(r: RunResult, leaseTtlMs: number, probe: FenceProbe): Verdict[] {
  const verdicts = commonVerdicts([r]);
  const f = r.faults[0];
  const m = r.membership;
  if (f === undefined || f.start === null || f.node === null) return [...verdicts, passIf('the node was cut off', 'no', 'yes', false)];
  if (m === undefined) return [...verdicts, passIf('the map was observed (node manager)', 'no', 'yes', false)];
  const bound = leaseTtlMs / 1000 + 1;
  const healAt = f.undoStartedAt ?? r.durationMs;
  const reassigned = secondsToReassigned(r, f.node, f.start);
  const fenced = probe.fencedAt === null ? null : (probe.fencedAt - f.start) / 1000;
  verdicts.push(
    passIf('the cut-off node fenced itself before its slots were given away', `fenced ${fenced === null ? 'never' : `${fenced.toFixed(2)} s`}, reassigned ${reassigned === null ? 'never' : `${reassigned.toFixed(2)} s`} after the cut`, 'fenced first', fenced !== null && reassigned !== null && fenced < reassigned),
    withinSeconds('cut to the map giving its slots to the others', reassigned, bound),
    withinSeconds("served again: cut to the last error on its keys", secondsToLastError(r, f.start, healAt), bound),
    atMost("errors on the other nodes' keys while it was cut off", errorsOnOtherNodes(r, f.node, f.start, healAt), 0),
    reported('errors while it was cut off', String(errorsBetween(r, f.start, healAt)), "expected on its keys, from the fence until clients follow the new owners"),
    atMost('stale reads (no split brain)', r.check.staleReads, 0),
    reported("acknowledged writes lost on the cut-off node's keys", String(m.lostWritesBySlotFate.reassigned), 'given away empty, no replicas: loss expected, reported'),
    ...mapVerdicts(r).filter((v) => !/slots handed over/.test(v.name)),
    reported('slots reassigned / handed over', `${m.slotsByFate.reassigned} / ${m.slotsByFate['handed-over']}`, 'reassigned from the cut-off node; handed over to it when it rejoined'),
  );
  if (f.end === null) verdicts.push(passIf('the node rejoined after the link came back', 'no', 'a new member owning slots', false));
  else {
    verdicts.push(
      atMost('errors while it rejoined and after', errorsBetween(r, healAt + 500), 0),
      reported('link back to owning its share again (exit, restart, join)', `${((f.end - healAt) / 1000).toFixed(2)} s`, 'measured'),
    );
  }
  return verdicts;
}

export const partition: ScenarioDefinition = {
  name: 'partition',
  summary: 'cut one node off from the coordinator under load: it fences itself, the others take its slots; it rejoins',
  nodeManagerOnly: true,
  noComparison: true,
  defaults: (quick) => ({ durationMs: quick ? 8000 : 30_000, clients: [quick ? 4 : 10], rate: quick ? 1000 : 2000, keys: quick ? 2000 : 10_000, faultAtMs: quick ? 1500 : 5000, restartAfterMs: quick ? 4000 : 10_000 }),
  validate: (o) => {
    if (o.membership === 'static') return 'partition cuts a node off from its coordinator: it runs on the node manager, not with --static';
    if (o.against !== null) return 'partition cuts a node off from the node manager\'s coordinator: there is no Redis Cluster counterpart yet (drop --against)';
    if (o.nodes < 3) return 'partition needs at least 3 nodes (--nodes): the cut-off node asks its peers whether they reach the coordinator';
    if (o.clients.length !== 1) return '--clients takes one number for partition (a list sweeps concurrency in load)';
    if (o.restartAfterMs! < o.leaseTtlMs + 1000) return `--restart-after (how long the node stays cut off, ${o.restartAfterMs! / 1000} s) must be at least the lease TTL + 1 s (${o.leaseTtlMs / 1000 + 1} s)`;
    if ((o.faultAtMs ?? 0) >= o.durationMs) return `--fault-at (${(o.faultAtMs ?? 0) / 1000} s) must be within --duration (${o.durationMs / 1000} s)`;
    return undefined;
  },
  run: runPartition,
};
