/**
 * `load`: concurrency and throughput, no faults. For each concurrency level of
 * --clients (1,10,50,200 sweeps), the workload runs for --duration against the
 * cluster (--nodes) and then against one standalone node, so the report charts
 * ops/s and latency against concurrency for both. With no fault, the promise
 * is strict: no errors, no acknowledged write lost, no wrong or stale value.
 */
import type { RunResult } from '../run.js';
import type { ScenarioContext, ScenarioDefinition, TargetResult } from '../scenario.js';
import { atMost, commonVerdicts, reported, type Verdict } from '../verdicts.js';

async function runLoad(ctx: ScenarioContext): Promise<TargetResult> {
  const o = ctx.options;
  const shapes = [{ name: 'cluster', nodes: o.nodes }, { name: 'one node', nodes: 1, standalone: true }];
  const runs: RunResult[] = [];
  for (const shape of shapes) {
    const run = ctx.run(shape.name, ctx.cluster(shape));
    await run.start();
    await run.preload(ctx.sweep());
    for (const clients of o.clients) await run.load(ctx.workload(clients), `${clients} clients`);
    await run.finalRead(ctx.sweep());
    runs.push(await run.finish());
  }
  return { system: ctx.system, description: runs.map((r) => r.description).join('; '), promise: 'no faults: no errors, every acknowledged write readable, no wrong or stale values', runs, verdicts: loadVerdicts(runs) };
}

export function loadVerdicts(runs: readonly RunResult[]): Verdict[] {
  const sum = (f: (r: RunResult) => number) => runs.reduce((n, r) => n + f(r), 0);
  const verdicts = [
    ...commonVerdicts(runs),
    atMost('acknowledged writes lost (no faults)', sum((r) => r.check.lostWrites), 0),
    atMost('stale reads (no faults)', sum((r) => r.check.staleReads), 0),
    atMost('errors (no faults)', sum((r) => r.phases.reduce((n, p) => n + p.errors, 0)), 0),
  ];
  for (const r of runs) {
    // No fault: the node manager must not change the map either (a lease lost under load would).
    if (r.membership !== undefined) verdicts.push(atMost(`map versions during the run, ${r.name} (no faults)`, r.membership.history.filter((v) => v.at >= 0).length, 0));
    const best = [...r.phases].sort((a, b) => b.opsPerSec - a.opsPerSec)[0];
    if (best !== undefined) verdicts.push(reported(`peak throughput, ${r.name}`, `${best.opsPerSec.toLocaleString('en-US')} ops/s at ${best.name}`, 'measured'));
  }
  return verdicts;
}

export const load: ScenarioDefinition = {
  name: 'load',
  summary: 'concurrency sweep (--clients 1,10,50,200) against the cluster and one node; no faults',
  defaults: (quick) => ({ durationMs: quick ? 2000 : 10_000, clients: quick ? [1, 4] : [1, 10, 50], rate: null, keys: quick ? 2000 : 10_000 }),
  run: runLoad,
};
