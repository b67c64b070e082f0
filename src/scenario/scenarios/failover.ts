/**
 * `failover`: primaries with replicas under load (3 primaries + 3 replicas
 * by default), a kill -9 of a primary at a time, and how long until the
 * killed primary's slots accept writes again.
 *
 * The run, on one cluster and one load phase:
 * 1. a pause trial: SIGSTOP of a primary for 500 ms, then SIGCONT; the set
 *    of primaries (ids and addresses, from every running node's CLUSTER
 *    NODES) must be the same a few seconds later: a change is a false
 *    failover;
 * 2. --trials (10; --quick 3) kill trials: the cluster must have its shape
 *    first (the primaries serve every slot, each with its replicas, every
 *    replica's link up, no node flagged failed; bounded wait), a primary is
 *    picked round-robin (the one killed least so far) from what the nodes
 *    say, killed with SIGKILL, and a probe sends SET of a key in its slots to
 *    every running node every 20 ms (following MOVED) until one accepts it:
 *    the trial's figure is the time from the kill to that acceptance. Then
 *    the killed process is started again (Redis: with its nodes.conf, so it
 *    rejoins as a replica; ringcache: a new member) and the next trial waits
 *    for the shape again.
 *
 * Reported: median / p90 / max of kill -> writes accepted, false failovers,
 * the checker's acknowledged writes lost per kill (counted in the kill's
 * fault windows), and how long each restarted node took until the cluster
 * had its shape again. Gated on ringcache: writes accepted again in every
 * trial, median <= 2 s (issue 16's target), no false failover, the shape
 * back before every trial, no wrong value, no loss that no owner change
 * explains, and in --consistency sync no acknowledged write lost at all;
 * in async mode the loss is reported. Redis Cluster's figures are the
 * comparison (shown, not gating), at its default cluster-node-timeout 15000
 * unless --node-timeout is given.
 */
import { DEFAULT_FAILOVER_AFTER_MS } from '../../membership/probes.js';
import type { ClusterUnderTest, NodeHandle } from '../cluster-under-test.js';
import type { ScenarioOptions, TrialFault } from '../options.js';
import type { FaultSpec } from '../faults.js';
import type { FaultDriver, Run, RunResult } from '../run.js';
import type { FigureTable, ScenarioContext, ScenarioDefinition, TargetResult } from '../scenario.js';
import { agreedPrimaries, clusterShapeProblem, keyInRanges, probeWrites, views, type NodeLine } from '../topology.js';
import { atMost, commonVerdicts, passIf, reported, withinSeconds, type Verdict } from '../verdicts.js';
import { sleepUntil } from './scale.js';
import { afterPause } from './chaos.js';

/** Issue 16's target: median kill -9 -> writes accepted. */
export const FAILOVER_TARGET_S = 2;
export const PAUSE_MS = 500;
/** How long after SIGCONT the primaries are read again. */
const PAUSE_SETTLE_MS = 3000;
const PROBE_EVERY_MS = 20;

export interface KillTrial {
  trial: number;
  /** What was done to the primary (--trial-faults, in turn); the trial's times count from it. */
  fault: TrialFault;
  victim: string;
  faultId: string | null;
  /** ms on the run clock. */
  killedAt: number | null;
  acceptedAt: number | null;
  /** kill -> a write to its slots accepted (ms); null: not within the bound. */
  ms: number | null;
  acceptedBy: string | null;
  probeAttempts: number;
  probeOutcomes: Record<string, number>;
  restartedAt: number | null;
  /** When the cluster had its shape again after the restart (ms on the run clock). */
  shapeBackAt: number | null;
  /** Acknowledged writes lost, detected in this kill's fault windows. */
  lostWrites: number;
  error: string | null;
}

export interface PauseTrial {
  victim: string;
  faultId: string | null;
  before: string[];
  after: string[];
  falseFailover: boolean;
  error: string | null;
}

export interface FailoverFigures {
  primaries: number;
  replicas: number;
  consistency: 'async' | 'sync' | null;
  /** What detects a dead primary: Redis Cluster's cluster-node-timeout, or ringcache's lease TTL and failover delay. */
  detection: string;
  /** The shape at the start: null when it was reached, otherwise why not. */
  initialShapeProblem: string | null;
  /** Why the trials stopped early, if they did. */
  stoppedEarly: string | null;
  /** Kill trials planned (--trials). */
  planned: number;
  pause: PauseTrial | null;
  trials: KillTrial[];
  /** Over the trials that were accepted: seconds. */
  medianS: number | null;
  p90S: number | null;
  maxS: number | null;
  falseFailovers: number;
  lostWritesTotal: number;
  /** Acknowledged writes found missing before any kill could explain them (between trials). */
  lostBetweenKills: number;
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** The current primaries (serving slots, not flagged failed) as the first answering running node sees them. */
async function currentPrimaries(cluster: ClusterUnderTest): Promise<NodeLine[]> {
  for (const v of await views(cluster.nodes())) if ('lines' in v) return v.lines.filter((l) => l.role === 'primary' && l.slots > 0 && !l.failed);
  throw new Error('no running node answered CLUSTER NODES');
}

const handleOf = (cluster: ClusterUnderTest, address: string): NodeHandle | undefined => cluster.nodes().find((n) => `${n.host}:${n.port}` === address);

/** Round-robin over processes: the current primary killed least so far (ties: the cluster's node order). */
export function pickVictim(primaries: readonly NodeLine[], order: readonly string[], kills: ReadonlyMap<string, number>): NodeLine | undefined {
  const rank = (a: string) => {
    const i = order.indexOf(a);
    return i < 0 ? order.length : i;
  };
  return [...primaries].sort((a, b) => (kills.get(a.address) ?? 0) - (kills.get(b.address) ?? 0) || rank(a.address) - rank(b.address))[0];
}

async function waitForShape(cluster: ClusterUnderTest, primaries: number, replicas: number, timeoutMs: number): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const problem = await clusterShapeProblem(cluster.nodes(), primaries, replicas).catch((err: Error) => err.message);
    if (problem === undefined) return undefined;
    last = problem;
    if (Date.now() > deadline) return `not ${primaries} primaries each with ${replicas} replica(s) within ${timeoutMs / 1000} s: ${last}`;
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Bounds {
  probeMs: number;
  shapeMs: number;
}

function bounds(system: ClusterUnderTest['system'], o: ScenarioOptions): Bounds {
  const detect = system === 'redis-cluster' ? o.redisNodeTimeoutMs : o.leaseTtlMs;
  return { probeMs: 2 * detect + 15_000, shapeMs: 2 * detect + 30_000 };
}

function failoverDriver(run: Run, cluster: ClusterUnderTest, o: ScenarioOptions, b: Bounds, fig: FailoverFigures): FaultDriver {
  const P = fig.primaries;
  const R = fig.replicas;
  const kills = new Map<string, number>();
  const order = cluster.nodes().map((n) => `${n.host}:${n.port}`);
  // A cut from the coordinator needs the node manager: on Redis Cluster those trials are kills.
  const faults = o.trialFaults.map((f) => (f === 'isolate' && cluster.isolate === undefined ? 'kill9' : f));
  // "Past the lease": twice what detects a dead primary (ringcache's lease, Redis's cluster-node-timeout).
  const faultMs = 2 * (cluster.system === 'redis-cluster' ? o.redisNodeTimeoutMs : o.leaseTtlMs);
  return async (ctl) => {
    await sleepUntil(ctl.phaseStart + (o.faultAtMs ?? 0), ctl.now);
    // 1. The pause trial: no failover may follow a 500 ms stop.
    const before = await agreedPrimaries(cluster.nodes());
    const paused = pickVictim(await currentPrimaries(cluster), order, new Map());
    const pausedHandle = paused === undefined ? undefined : handleOf(cluster, paused.address);
    if (pausedHandle === undefined) {
      fig.stoppedEarly = 'no primary to pause';
      return;
    }
    const pr = await ctl.inject({ kind: 'pause', node: pausedHandle.id, at: 0, duration: PAUSE_MS });
    await new Promise((r) => setTimeout(r, PAUSE_SETTLE_MS));
    const after = await agreedPrimaries(cluster.nodes());
    fig.pause = { victim: pausedHandle.id, faultId: pr.id, before, after, falseFailover: before.join('; ') !== after.join('; '), error: pr.error };
    // 2. The kill trials.
    for (let i = 1; i <= o.trials; i++) {
      const problem = await waitForShape(cluster, P, R, b.shapeMs);
      if (problem !== undefined) {
        fig.stoppedEarly = `before trial ${i}: ${problem}`;
        return;
      }
      if (i > 1) fig.trials.at(-1)!.shapeBackAt = ctl.now();
      const victim = pickVictim(await currentPrimaries(cluster), order, kills);
      const handle = victim === undefined ? undefined : handleOf(cluster, victim.address);
      if (victim === undefined || handle === undefined) {
        fig.stoppedEarly = `before trial ${i}: no primary of this cluster to kill`;
        return;
      }
      kills.set(victim.address, (kills.get(victim.address) ?? 0) + 1);
      const key = keyInRanges(victim.ranges);
      let release = () => {};
      const recovered = new Promise<void>((r) => (release = r));
      const fault = faults[(i - 1) % faults.length]!;
      const trial: KillTrial = { trial: i, fault, victim: handle.id, faultId: null, killedAt: null, acceptedAt: null, ms: null, acceptedBy: null, probeAttempts: 0, probeOutcomes: {}, restartedAt: null, shapeBackAt: null, lostWrites: 0, error: null };
      fig.trials.push(trial);
      const probing = (async () => {
        try {
          // After a kill, the probe starts once the process is gone (before, its own SET would be accepted).
          // A paused or cut-off primary keeps its process; the probe never asks it (excluded below), and the
          // others answer MOVED to it until the failover.
          const until = Date.now() + 10_000;
          while (fault === 'kill9' && Date.now() < until && cluster.nodes().find((n) => n.id === handle.id)?.pid !== null) await new Promise((r) => setTimeout(r, 2));
          const p = await probeWrites({ key, nodes: () => cluster.nodes(), exclude: new Set([victim.address]), everyMs: PROBE_EVERY_MS, timeoutMs: b.probeMs });
          trial.acceptedAt = p.acceptedAt === null ? null : run.now() - (performance.now() - p.acceptedAt);
          trial.acceptedBy = p.acceptedBy;
          trial.probeAttempts = p.attempts;
          trial.probeOutcomes = p.outcomes;
        } finally {
          release();
        }
      })();
      const spec: FaultSpec = fault === 'kill9' ? { kind: 'kill9', node: handle.id, at: 0, restartWhen: recovered }
        : { kind: fault, node: handle.id, at: 0, duration: faultMs };
      const rec = await ctl.inject(spec, b.probeMs + b.shapeMs + 10_000);
      await probing;
      // A node resumed past its lease exits by itself (a restart joins it as a new member); a cut-off one is
      // restarted by the heal. Either way the next trial waits for the shape.
      if (fault === 'pause' && rec.error === null) await afterPause(handle.id, o.leaseTtlMs, ctl.inject, () => cluster.nodes().find((n) => n.id === handle.id)?.state, cluster);
      trial.faultId = rec.id;
      trial.killedAt = rec.start;
      trial.restartedAt = rec.undoStartedAt;
      trial.error = rec.error;
      if (trial.acceptedAt !== null && trial.killedAt !== null) trial.ms = Math.round(trial.acceptedAt - trial.killedAt);
      if (rec.error !== null) {
        fig.stoppedEarly = `trial ${i}: ${rec.error}`;
        return;
      }
    }
    const problem = await waitForShape(cluster, P, R, b.shapeMs);
    if (problem !== undefined) fig.stoppedEarly = `after the last trial: ${problem}`;
    else if (fig.trials.length > 0) fig.trials.at(-1)!.shapeBackAt = ctl.now();
  };
}

const unknownOption = (message: string) => /unknown option '?(--replicas|--consistency)'?/.exec(message)?.[0];

async function runFailover(ctx: ScenarioContext): Promise<TargetResult> {
  const o = ctx.options;
  const ringcache = ctx.system === 'ringcache';
  const cluster = ctx.cluster({ nodes: o.nodes, replicas: o.replicas, coordinatorProxies: o.trialFaults.includes('isolate') });
  const fig: FailoverFigures = {
    primaries: o.nodes,
    replicas: o.replicas,
    consistency: ringcache ? o.consistency : null,
    detection: ringcache ? `lease TTL ${o.leaseTtlMs} ms, failover after ${DEFAULT_FAILOVER_AFTER_MS} ms of silence (the nodes' default)` : `cluster-node-timeout ${o.redisNodeTimeoutMs} ms`,
    initialShapeProblem: null,
    stoppedEarly: null,
    planned: o.trials,
    pause: null,
    trials: [],
    medianS: null,
    p90S: null,
    maxS: null,
    falseFailovers: 0,
    lostWritesTotal: 0,
    lostBetweenKills: 0,
  };
  const promise = ringcache
    ? `ringcache, ${o.nodes} primaries + ${o.nodes * o.replicas} replicas, --consistency ${o.consistency} (issue 16): after a kill -9 of a primary its slots accept writes again within a median of ${FAILOVER_TARGET_S} s; a ${PAUSE_MS} ms SIGSTOP causes no failover; ${o.consistency === 'sync' ? 'sync: no acknowledged write is lost' : 'async: acknowledged writes may be lost in a failover (reported per kill)'}; no wrong values`
    : `Redis Cluster, ${o.nodes} masters + ${o.nodes * o.replicas} replicas, asynchronous replication, cluster-node-timeout ${o.redisNodeTimeoutMs} ms: a replica is promoted once the master is marked failed (node timeout, then an election); acknowledged writes may be lost`;
  const run = ctx.run('cluster', cluster);
  try {
    await run.start();
  } catch (err) {
    const message = (err as Error).message;
    const option = ringcache ? unknownOption(message) : undefined;
    if (option === undefined) throw err;
    const result = await run.finish();
    const answer = `the nodes refuse ${option.replace(/^unknown option '?|'$/g, '')} ("${option}"): this build has no replication yet (issue 16), so there is nothing to fail over to`;
    result.notes.push(answer);
    return {
      system: ctx.system, description: result.description, promise, runs: [result], figures: { ...fig, unavailable: answer },
      verdicts: [passIf(`ringcache server starts with --replicas ${o.replicas} --consistency ${o.consistency}`, `no: ${option}`, 'it starts (replication, issue 16)', false)],
    };
  }
  await run.preload(ctx.sweep());
  const b = bounds(ctx.system, o);
  fig.initialShapeProblem = (await waitForShape(cluster, fig.primaries, fig.replicas, b.shapeMs)) ?? null;
  if (fig.initialShapeProblem === null) {
    const perTrial = b.probeMs + b.shapeMs + 10_000;
    await run.load(ctx.workload(o.clients[0]!), 'failover', failoverDriver(run, cluster, o, b, fig), PAUSE_SETTLE_MS + b.shapeMs + o.trials * perTrial);
    await run.settleFaults();
    await run.finalRead(ctx.sweep());
  }
  const result = await run.finish();
  summarize(fig, result, run.checker.analyze(run.faults.windows(), (_k, lost) => (lost === undefined ? 'unknown' : trialOfAck(fig.trials, lost.ackedAt, lost.detectedAt))).lostWritesByOwner);
  return { system: ctx.system, description: result.description, promise, runs: [result], verdicts: failoverVerdicts(result, fig, ringcache), tables: failoverTables(fig), figures: { ...fig } };
}

/**
 * Which trial a lost write is put on, by its acknowledgement time: trial i
 * owns the writes acknowledged after trial i-1's slots accepted writes again
 * and up to its own (a write lost in a failover was acknowledged by the old
 * primary before or as it died, and not yet replicated). Not the checker's
 * fault windows, which count a loss where the read that found it was sent
 * (often a later trial's, or the final read).
 */
export function trialOfAck(trials: readonly KillTrial[], ackedAt: number, detectedAt?: number): string {
  for (const t of trials) {
    const end = t.acceptedAt ?? t.restartedAt;
    if (end === null || ackedAt <= end) {
      // Found missing before this trial's kill: no kill explains it.
      if (detectedAt !== undefined && t.killedAt !== null && detectedAt < t.killedAt) return BETWEEN;
      return `trial ${t.trial}`;
    }
  }
  return 'after the last trial';
}

/** Lost writes found missing before the kill of the trial they would be put on. */
export const BETWEEN = 'between kills';

/** Fills the per-kill losses (lostByTrial: lost writes by trialOfAck label) and the statistics from the run's checker result. */
export function summarize(fig: FailoverFigures, r: RunResult, lostByTrial: Record<string, number>): void {
  for (const t of fig.trials) t.lostWrites = lostByTrial[`trial ${t.trial}`] ?? 0;
  fig.lostBetweenKills = lostByTrial[BETWEEN] ?? 0;
  const ms = fig.trials.filter((t) => t.ms !== null).map((t) => t.ms!).sort((a, b) => a - b);
  const s = (v: number | null) => (v === null ? null : v / 1000);
  fig.medianS = s(ms.length === 0 ? null : ms.length % 2 === 1 ? ms[(ms.length - 1) / 2]! : (ms[ms.length / 2 - 1]! + ms[ms.length / 2]!) / 2);
  fig.p90S = s(percentile(ms, 90));
  fig.maxS = s(ms.at(-1) ?? null);
  fig.falseFailovers = fig.pause?.falseFailover === true ? 1 : 0;
  fig.lostWritesTotal = r.check.lostWrites;
}

const sec = (v: number | null) => (v === null ? 'never' : `${v.toFixed(2)} s`);

export function failoverVerdicts(r: RunResult, fig: FailoverFigures, ringcache: boolean): Verdict[] {
  const verdicts = commonVerdicts([r]);
  verdicts.push(passIf(`${fig.primaries} primaries each with ${fig.replicas} replica(s) in sync at the start`, fig.initialShapeProblem ?? 'yes', 'yes', fig.initialShapeProblem === null));
  if (fig.initialShapeProblem !== null) return verdicts;
  const accepted = fig.trials.filter((t) => t.ms !== null).length;
  // "kill -9" when every trial killed (the default), "fault" when --trial-faults mixed in pauses and cuts.
  const what = fig.trials.every((t) => t.fault === 'kill9') ? 'kill -9' : 'fault';
  const list = fig.trials.map((t) => (t.ms === null ? 'never' : (t.ms / 1000).toFixed(2))).join(', ');
  verdicts.push(
    passIf(`${what === 'kill -9' ? 'kill' : 'fault'} trials run, the cluster back to its shape after each`, `${fig.trials.length} of ${fig.planned}${fig.stoppedEarly === null ? '' : ` (stopped ${fig.stoppedEarly})`}`, 'all', fig.stoppedEarly === null && fig.trials.length === fig.planned),
    passIf(`${what} -> writes to the ${what === 'kill -9' ? 'killed' : 'stricken'} primary's slots accepted again, in every trial`, `${accepted} of ${fig.trials.length}`, 'all', accepted === fig.trials.length && accepted > 0),
    withinSeconds(`${what} -> writes accepted: median of ${accepted}`, fig.medianS, FAILOVER_TARGET_S),
    reported(`${what} -> writes accepted: p90 / max`, `${sec(fig.p90S)} / ${sec(fig.maxS)}`, `per trial (s): ${list || '-'}; detection: ${fig.detection}`),
    atMost(`false failovers (a primary stopped for ${PAUSE_MS} ms)`, fig.pause === null ? 1 : fig.falseFailovers, 0),
  );
  const perKill = fig.trials.map((t) => t.lostWrites).join(', ');
  const killLost = fig.trials.reduce((n, t) => n + t.lostWrites, 0);
  if (ringcache && fig.consistency === 'sync') verdicts.push(atMost('sync mode: acknowledged writes lost', r.check.lostWrites, 0));
  else verdicts.push(reported('acknowledged writes lost per kill', `${fig.trials.length === 0 ? '-' : (killLost / fig.trials.length).toFixed(1)} (${perKill || '-'}; ${r.check.lostWrites} in the whole run)`, 'asynchronous replication: loss in a failover expected, reported'));
  verdicts.push(reported('acknowledged writes lost between kills (found missing before the next kill)', String(fig.lostBetweenKills), 'no kill explains them'));
  if (ringcache && r.membership !== undefined) verdicts.push(atMost('acknowledged writes lost with no owner change of their slot after the ack', r.membership.lostWritesBySlotFate.kept, 0));
  const recovery = fig.trials.filter((t) => t.restartedAt !== null && t.shapeBackAt !== null).map((t) => (t.shapeBackAt! - t.restartedAt!) / 1000).sort((a, b) => a - b);
  verdicts.push(
    reported('restart of the killed node -> shape back (rejoined as a replica, in sync): median / max', recovery.length === 0 ? '-' : `${sec(percentile(recovery, 50))} / ${sec(recovery.at(-1)!)}`, 'measured'),
    reported('stale reads', String(r.check.staleReads), 'reads go to primaries: none expected'),
  );
  return verdicts;
}

const FAULT_LABEL: Record<TrialFault, string> = { kill9: 'kill -9', pause: 'SIGSTOP past the lease', isolate: 'cut from the coordinator' };

export function failoverTables(fig: FailoverFigures): FigureTable[] {
  const s = (ms: number | null) => (ms === null ? '-' : (ms / 1000).toFixed(2));
  const rows: string[][] = fig.trials.map((t) => [
    String(t.trial), `${FAULT_LABEL[t.fault]} ${t.victim}`, t.ms === null ? 'never' : s(t.ms), t.acceptedBy ?? '-',
    t.restartedAt !== null && t.shapeBackAt !== null ? s(t.shapeBackAt - t.restartedAt) : '-', String(t.lostWrites), t.error ?? '',
  ]);
  if (fig.pause !== null) rows.unshift(['pause', `SIGSTOP ${fig.pause.victim} for ${PAUSE_MS} ms`, fig.pause.falseFailover ? 'FAILED OVER' : 'no failover', '-', '-', '-', fig.pause.falseFailover ? `before: ${fig.pause.before.join('; ')} / after: ${fig.pause.after.join('; ')}` : (fig.pause.error ?? '')]);
  return [{
    title: `failover trials (${fig.primaries} primaries + ${fig.primaries * fig.replicas} replicas, ${fig.detection}${fig.consistency === null ? '' : `, --consistency ${fig.consistency}`}): median ${sec(fig.medianS)}, p90 ${sec(fig.p90S)}, max ${sec(fig.maxS)}`,
    columns: ['trial', 'fault', 'fault -> writes accepted (s)', 'accepted by', 'restart -> shape back (s)', 'lost writes', 'note'],
    rows,
  }];
}

export const failover: ScenarioDefinition = {
  name: 'failover',
  summary: 'primaries with replicas (3 + 3): kill -9 a primary per trial, time until its slots accept writes; a 500 ms SIGSTOP must not fail over',
  defaults: (quick) => ({ durationMs: quick ? 5000 : 10_000, clients: [quick ? 4 : 10], rate: quick ? 1000 : 2000, keys: quick ? 2000 : 10_000, faultAtMs: quick ? 1500 : 3000, replication: true, replicas: 1, trials: quick ? 3 : 10, redisNodeTimeoutMs: 15_000 }),
  nodeManagerOnly: true,
  validate: (o) => {
    if (o.membership === 'static') return 'failover needs replicas, which static membership (--static) has none of: run it on the node manager';
    if (o.replicas < 1) return 'failover needs --replicas 1 or more (default 1)';
    if (o.nodes < 3) return 'failover needs at least 3 primaries (--nodes; Redis Cluster with replicas needs 3 masters)';
    if (o.clients.length !== 1) return '--clients takes one number for failover (a list sweeps concurrency in load)';
    return undefined;
  },
  run: runFailover,
};
