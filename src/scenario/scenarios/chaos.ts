/**
 * `chaos`: random faults on the node manager under load for --duration, from
 * a seeded generator (--seed repeats the same choices): kill -9 (restarted
 * after 0.5-3 s), SIGSTOP (resumed after 0.3 s up to twice the lease TTL; a
 * node paused past its lease learns it is gone and exits, and is started
 * again), a join, and a graceful leave (SIGTERM or `ringcache cluster
 * remove`), keeping between --nodes - 1 (at least 2) and --nodes + 1 running
 * nodes. One fault at a time: each is undone and the cluster serves every
 * slot again before the next, after a random pause; at the end the cluster
 * is brought back to --nodes. Every fault is recorded with its times.
 *
 * Verdicts, against what holds now: no wrong value and no stale read (no
 * split brain) at any point; no write lost unless its slot changed owner after it; no
 * error during joins and leaves; after each kill -9 the dead node's keys are
 * served again within the lease TTL + 1 s; no error once the last fault is
 * undone (after the recovery grace); every fault undone. Loss on the keys of
 * killed nodes and in handed-over slots (cold) is reported.
 */
import type { FaultRecord, FaultSpec } from '../faults.js';
import { Rng } from '../keys.js';
import type { ScenarioOptions } from '../options.js';
import type { FaultDriver, RunResult } from '../run.js';
import type { ScenarioContext, ScenarioDefinition, TargetResult } from '../scenario.js';
import type { ClusterUnderTest } from '../cluster-under-test.js';
import { atMost, commonVerdicts, errorsBetween, passIf, reported, secondsToLastError, withinSeconds, type Verdict } from '../verdicts.js';
import { RECOVERY_GRACE_S } from './node-failure.js';
import { mapVerdicts, sleepUntil } from './scale.js';

const KINDS = ['kill9', 'pause', 'add-node', 'remove-node'] as const;

function chaosDriver(cluster: ClusterUnderTest, o: ScenarioOptions, notes: string[]): FaultDriver {
  return async (ctl) => {
    const rng = new Rng((o.seed ^ 0x0c4a05) >>> 0);
    const min = Math.max(2, o.nodes - 1);
    const max = o.nodes + 1;
    const ttl = o.leaseTtlMs;
    const end = ctl.phaseStart + o.durationMs - 1000;
    const running = () => cluster.nodes().filter((n) => n.state === 'running');
    const settle = async () => {
      try {
        await cluster.waitUntilServing(ttl + 15_000);
      } catch (err) {
        notes.push(`chaos: at ${(ctl.now() / 1000).toFixed(1)} s the cluster did not serve every slot again: ${(err as Error).message}`);
      }
    };
    const gap = async () => sleepUntil(ctl.now() + 300 + rng.int(1200), ctl.now);
    await sleepUntil(ctl.phaseStart + (o.faultAtMs ?? 0), ctl.now);
    while (ctl.now() < end) {
      const up = running();
      const allowed = KINDS.filter((k) => (k === 'add-node' ? up.length < max : k === 'remove-node' ? up.length > min : up.length > 1));
      const kind = allowed[rng.int(allowed.length)]!;
      const victim = up[rng.int(up.length)]!.id;
      const spec: FaultSpec =
        kind === 'kill9' ? { kind, node: victim, at: 0, restartAfter: 500 + rng.int(2500) }
          : kind === 'pause' ? { kind, node: victim, at: 0, duration: 300 + rng.int(2 * ttl) }
            : kind === 'add-node' ? { kind, at: 0 }
              : { kind, node: victim, at: 0 };
      const record = await ctl.inject(spec);
      if (record.error !== null) notes.push(`chaos: ${record.label}: ${record.error}`);
      if (kind === 'pause') await afterPause(victim, ttl, ctl.inject, () => cluster.nodes().find((n) => n.id === victim)?.state, cluster);
      await settle();
      await gap();
    }
    // Back to the starting size.
    for (let n = running().length; n < o.nodes; n++) await ctl.inject({ kind: 'add-node', at: 0 });
    for (let n = running().length; n > o.nodes; n--) await ctl.inject({ kind: 'remove-node', node: running().at(-1)!.id, at: 0 });
    await settle();
    await sleepUntil(ctl.now() + (RECOVERY_GRACE_S + 1.5) * 1000, ctl.now);
  };
}

/** A node resumed after a pause past its lease exits by itself: start it again once it has (bounded). */
export async function afterPause(node: string, ttl: number, inject: (spec: FaultSpec) => Promise<FaultRecord>, state: () => string | undefined, cluster: ClusterUnderTest): Promise<void> {
  const deadline = Date.now() + ttl + 5000;
  const exited = () => state() === 'stopped' || state() === 'killed';
  while (Date.now() < deadline) {
    if (exited()) {
      await inject({ kind: 'restart', node, at: 0, why: 'it exited after its pause: its lease had expired' });
      return;
    }
    try {
      await cluster.waitUntilServing(200);
      // Served by the running nodes; if it is still one of them, it stayed a member.
      if (!exited()) return;
    } catch {
      // not settled yet: it may be about to exit
    }
  }
}

async function runChaos(ctx: ScenarioContext): Promise<TargetResult> {
  const o = ctx.options;
  const cluster = ctx.cluster({ nodes: o.nodes });
  const run = ctx.run('cluster', cluster);
  await run.start();
  await run.preload(ctx.sweep());
  await run.load(ctx.workload(o.clients[0]!), 'load', chaosDriver(cluster, o, run.notes));
  await run.settleFaults();
  await run.finalRead(ctx.sweep());
  const result = await run.finish();
  const promise = `node manager, no replicas, ${result.membership?.migration === 'warm' ? 'warm migration' : 'cold handover'}, seeded random faults one at a time: never a wrong value or a stale read; no acknowledged write is lost unless its slot changes owner after it; no error during joins and leaves; a killed node's keys served again within the lease TTL + 1 s (${o.leaseTtlMs / 1000 + 1} s); no error once every fault is undone; loss on killed nodes' keys and moved slots reported`;
  return { system: ctx.system, description: result.description, promise, runs: [result], verdicts: chaosVerdicts(result, o.leaseTtlMs) };
}

export function chaosVerdicts(r: RunResult, leaseTtlMs: number): Verdict[] {
  const verdicts = commonVerdicts([r]);
  const m = r.membership;
  if (m === undefined) return [...verdicts, passIf('the map was observed (node manager)', 'no', 'yes', false)];
  const faults = r.faults.filter((f) => f.start !== null);
  const counts = new Map<string, number>();
  for (const f of faults) counts.set(f.kind, (counts.get(f.kind) ?? 0) + 1);
  const undone = faults.filter((f) => (f.kind === 'kill9' || f.kind === 'pause') && f.end === null);
  const membership = faults.filter((f) => f.kind === 'add-node' || f.kind === 'remove-node');
  const kills = faults.filter((f) => f.kind === 'kill9');
  const served = kills.map((f) => secondsToLastError(r, f.start!, f.undoStartedAt ?? f.end ?? r.durationMs));
  const lastEnd = Math.max(0, ...faults.map((f) => f.end ?? r.durationMs));
  verdicts.push(
    reported('faults', [...counts].map(([k, n]) => `${k} x${n}`).join(', ') || 'none', 'seeded: the same --seed makes the same choices from the same cluster states'),
    passIf('faults injected', String(faults.length), '> 0', faults.length > 0),
    atMost('kills and pauses never undone', undone.length, 0),
    atMost('stale reads (no split brain)', r.check.staleReads, 0),
    ...mapVerdicts(r),
    reported("acknowledged writes lost on killed or paused nodes' keys", String(m.lostWritesBySlotFate.reassigned), 'given away empty, no replicas: loss expected, reported'),
    atMost('errors during joins and leaves', membership.reduce((n, f) => n + errorsBetween(r, f.start!, f.end ?? r.durationMs), 0), 0),
    withinSeconds("slowest kill -9: kill to the last error before its restart", kills.length === 0 ? 0 : Math.max(...served), leaseTtlMs / 1000 + 1),
    atMost(`errors more than ${RECOVERY_GRACE_S} s after the last fault was undone`, errorsBetween(r, lastEnd + RECOVERY_GRACE_S * 1000), 0),
    reported('errors during the faults', String(errorsBetween(r, faults[0]?.start ?? 0, lastEnd)), "expected on killed and paused nodes' keys"),
  );
  return verdicts;
}

export const chaos: ScenarioDefinition = {
  name: 'chaos',
  summary: 'seeded random kill -9, SIGSTOP, joins and leaves for --duration, one at a time, each undone; no wrong or stale value',
  nodeManagerOnly: true,
  noComparison: true,
  defaults: (quick) => ({ durationMs: quick ? 15_000 : 120_000, clients: [quick ? 4 : 10], rate: quick ? 1000 : 2000, keys: quick ? 2000 : 10_000, faultAtMs: quick ? 1000 : 5000 }),
  validate: (o) => {
    if (o.membership === 'static') return 'chaos adds and removes nodes: it runs on the node manager, not with --static';
    if (o.against !== null) return 'chaos has no Redis Cluster counterpart yet (drop --against)';
    if (o.nodes < 3) return 'chaos needs at least 3 nodes (--nodes)';
    if (o.clients.length !== 1) return '--clients takes one number for chaos (a list sweeps concurrency in load)';
    if ((o.faultAtMs ?? 0) >= o.durationMs) return `--fault-at (${(o.faultAtMs ?? 0) / 1000} s) must be within --duration (${o.durationMs / 1000} s)`;
    return undefined;
  },
  run: runChaos,
};
