/**
 * One run: a cluster's lifetime inside a scenario, on one clock. It starts the
 * cluster, learns which node owns each key (so errors and losses can be put on
 * nodes), watches the nodes once a second (DBSIZE per node, the progress line),
 * carries the workload's phases, the faults and the checker, and at the end
 * stops the cluster and returns everything measured as a RunResult.
 *
 * A run registers its own teardown with the scenario's Cleanup, so a Ctrl-C
 * or a crash in the middle still stops its processes.
 */
import { RingCache } from '../client/index.js';
import { slotOf } from '../client/lease-key.js';
import { Checker, type CheckResult } from './checker.js';
import type { Cleanup } from './cleanup.js';
import { SLOT_FATES, type ClusterUnderTest, type MapVersion, type NodeHandle, type SlotFate } from './cluster-under-test.js';
import { FaultProxy } from './fault-proxy.js';
import { FaultInjector, type FaultRecord, type FaultSpec } from './faults.js';
import { keyName, Rng } from './keys.js';
import { Recorder, type PhaseSummary, type SecondSample } from './metrics.js';
import type { Progress } from './progress.js';
import { call } from './resp-call.js';
import { newRunTag } from './values.js';
import { finalRead, preload, runWorkload, type SweepConfig, type WorkloadConfig, type WorkloadHost } from './workload.js';

/** How much longer than --duration a fault driver may keep the load going. */
const MAX_EXTENSION_MS = 60_000;

/** Injects faults itself (paced on recovery); resolves when done. */
export type FaultDriver = (ctl: { phaseStart: number; now(): number; inject(spec: FaultSpec, timeoutMs?: number): Promise<FaultRecord> }) => Promise<void>;

/**
 * The runner sees a map version a little after the nodes can act on it (its watch, its own busy event loop): a
 * change seen up to this long after the read that missed a write still explains the loss.
 */
const SEEN_LAG_MS = 1000;

/**
 * The worst change of a slot's owner (an index into SLOT_FATES; 0: none) seen after `ackedAt` and up to
 * SEEN_LAG_MS after `repliedAt` (performance.now() values): what may explain a write acknowledged at the one and
 * missed by a read answered at the other. The reply's time, not the send's: a read sent to a paused owner is
 * retried by the client after its timeout and may be answered by the node its slot was given to meanwhile.
 */
export function worstChange(changes: ReadonlyArray<{ at: number; fates: Uint8Array }>, slot: number, ackedAt: number, repliedAt: number): number {
  let worst = 0;
  for (const c of changes) if (c.at > ackedAt && c.at <= repliedAt + SEEN_LAG_MS && c.fates[slot]! > worst) worst = c.fates[slot]!;
  return worst;
}

/** Keys above this many are not mapped to owners (errors and losses by node are then not reported). */
const MAX_OWNED_KEYS = 2_000_000;

export interface KeysSample {
  t: number;
  /** DBSIZE by node id; null when the node did not answer. */
  counts: Record<string, number | null>;
}

export interface RunResult {
  /** e.g. "cluster" or "one node". */
  name: string;
  description: string;
  system: ClusterUnderTest['system'];
  nodes: NodeHandle[];
  startedAt: string;
  durationMs: number;
  phases: PhaseSummary[];
  series: SecondSample[];
  keysPerNode: KeysSample[];
  faults: FaultRecord[];
  check: CheckResult;
  /** ms of the errors, in order (bounded), for recovery measures. */
  errorTimes: number[];
  preload: { written: number; failed: number } | null;
  finalRead: { read: number; failed: number } | null;
  notes: string[];
  /** Backends with a versioned slot map (the node manager): what the map did, and the keys by what happened to their slot. */
  membership?: MembershipResult;
}

export interface MembershipResult {
  /** What a handover did with a slot's keys, as the nodes said at the start (INFO cluster's cluster_migration). */
  migration: 'warm' | 'cold';
  /** Every map version seen; `at` in ms on the run clock (negative: during start-up). */
  history: MapVersion[];
  /** Keys (of --keys) by what happened to their slot during the run. */
  keysBySlotFate: Record<SlotFate, number>;
  /** Lost writes: 'kept' when no owner change of their slot after the acknowledgement explains them, else by their slot's fate over the run. */
  lostWritesBySlotFate: Record<SlotFate, number>;
  /** Slots by what happened to them. */
  slotsByFate: Record<SlotFate, number>;
  /** The first lost writes that no owner change explains (at most 50), with their slot's owner as the runner saw it when each was acknowledged and when the read that missed it was answered (detectedAt: that read's send time): where to start looking. */
  unexplained: Array<{ key: string; slot: number; ackedAt: number; detectedAt: number; repliedAt: number; ownerAtAck?: string; ownerAtDetection?: string }>;
}

export interface RunEnv {
  progress: Progress;
  cleanup: Cleanup;
  seed: number;
  /** Key count, for owners. */
  keys: number;
}

export class Run {
  readonly checker: Checker;
  readonly recorder = new Recorder();
  readonly faults: FaultInjector;
  readonly notes: string[] = [];
  private t0 = performance.now();
  private readonly startedAt = new Date();
  private monitor: NodeJS.Timeout | undefined;
  private readonly keysPerNode: KeysSample[] = [];
  private owners: { names: string[]; index: Uint8Array } | undefined;
  private phase = 'starting';
  private preloaded: RunResult['preload'] = null;
  private finalReadResult: RunResult['finalRead'] = null;
  private readonly unregister: () => void;
  private finished = false;
  private readonly proxies = new Map<string, FaultProxy>();
  private migration: 'warm' | 'cold' = 'cold';

  constructor(readonly name: string, readonly cluster: ClusterUnderTest, private readonly env: RunEnv) {
    this.checker = new Checker({ tag: newRunTag(() => new Rng(env.seed + name.length).next()) });
    this.faults = new FaultInjector(cluster, () => this.now(), this.proxies);
    this.unregister = env.cleanup.add(`${cluster.description} (${name})`, async () => {
      this.stopMonitor();
      await this.faults.abort();
      await this.stopProxies();
      await cluster.stop();
    });
  }

  /** ms since the run began (the cluster was started). */
  now(): number {
    return performance.now() - this.t0;
  }

  async start(): Promise<void> {
    this.env.progress.log(`[${this.label}] starting ${this.cluster.description}`);
    await this.cluster.start();
    this.t0 = performance.now();
    if (this.cluster.migrationMode !== undefined) this.migration = await this.cluster.migrationMode();
    this.owners = await this.learnOwners().catch((err: Error) => {
      this.notes.push(`owners of keys unknown: ${err.message}`);
      return undefined;
    });
    this.monitor = setInterval(() => void this.tick(), 1000);
  }

  get label(): string {
    return `${this.cluster.system}/${this.name}`;
  }

  /** What a workload needs: where to connect, the checker, the recorder, the clock, key owners. */
  host(): WorkloadHost {
    const owners = this.owners;
    return {
      target: { seeds: this.cluster.seeds(), clustered: this.cluster.capabilities.clustered },
      checker: this.checker,
      recorder: this.recorder,
      now: () => this.now(),
      ...(owners !== undefined && { ownerOf: (key: number) => (key < owners.index.length ? owners.names[owners.index[key]!]! : 'unknown') }),
    };
  }

  /**
   * A fault proxy in front of a node, for `proxy` faults on it (FaultSpec kind
   * 'proxy'). Clients must be pointed at proxy.address: today that works for a
   * standalone or proxy-mode target; cluster clients follow the addresses the
   * nodes advertise, which bypass the proxy until the dynamic cluster can
   * advertise it (the partition scenario).
   */
  async proxy(nodeId: string): Promise<FaultProxy> {
    const existing = this.proxies.get(nodeId);
    if (existing !== undefined) return existing;
    const node = this.cluster.nodes().find((n) => n.id === nodeId);
    if (node === undefined) throw new Error(`no node ${nodeId}`);
    const proxy = new FaultProxy({ host: node.host, port: node.port });
    await proxy.listen();
    this.proxies.set(nodeId, proxy);
    return proxy;
  }

  private async stopProxies(): Promise<void> {
    await Promise.all([...this.proxies.values()].map((p) => p.stop()));
    this.proxies.clear();
  }

  /** The node id that owns a key (when known). */
  ownerOf(key: number): string | undefined {
    const o = this.owners;
    return o !== undefined && key < o.index.length ? o.names[o.index[key]!] : undefined;
  }

  async preload(cfg: SweepConfig): Promise<void> {
    this.phase = 'preload';
    this.preloaded = await preload(cfg, this.host());
    if (this.preloaded.failed > 0) this.notes.push(`preload: ${this.preloaded.failed} of ${cfg.keys} writes failed`);
  }

  /**
   * Runs the workload as a phase. Faults are either a plan (at = offsets from
   * the phase's start) or a driver that injects them itself, paced on the
   * cluster's recovery; with a driver the load lasts at least cfg.durationMs
   * and until the driver is done (at most maxExtensionMs longer, default
   * MAX_EXTENSION_MS).
   */
  async load(cfg: WorkloadConfig, phase: string, faults: readonly FaultSpec[] | FaultDriver = [], maxExtensionMs = MAX_EXTENSION_MS): Promise<void> {
    this.phase = phase;
    const start = this.now();
    if (typeof faults !== 'function') {
      this.faults.schedule(faults.map((f) => ({ ...f, at: start + f.at })));
      await runWorkload(cfg, this.host(), phase);
      return;
    }
    const minimum = new Promise<void>((resolve) => setTimeout(resolve, cfg.durationMs));
    const driven = faults({ phaseStart: start, now: () => this.now(), inject: (spec, timeoutMs) => this.faults.injectNow(spec, timeoutMs) }).catch((err: Error) => {
      this.notes.push(`fault driver failed: ${err.message}`);
    });
    await runWorkload({ ...cfg, durationMs: cfg.durationMs + maxExtensionMs }, this.host(), phase, Promise.all([minimum, driven]).then(() => {}));
  }

  /** Waits (bounded) for the faults to end, e.g. a restart still in progress. */
  async settleFaults(timeoutMs = 30_000): Promise<void> {
    this.phase = 'waiting for faults to end';
    await this.faults.settle(timeoutMs);
  }

  /** Reads every key once more, after waiting (bounded) for the cluster to serve all its slots again. */
  async finalRead(cfg: SweepConfig, servingTimeoutMs = 30_000): Promise<void> {
    this.phase = 'waiting for the cluster to serve';
    const waitStart = this.now();
    try {
      await this.cluster.waitUntilServing(servingTimeoutMs);
      const waited = this.now() - waitStart;
      if (waited > 1000) this.notes.push(`final read: waited ${(waited / 1000).toFixed(1)} s for the cluster to serve every slot again`);
    } catch (err) {
      this.notes.push(`final read: ${(err as Error).message}; read anyway`);
    }
    this.phase = 'final read';
    this.finalReadResult = await finalRead(cfg, this.host());
    if (this.finalReadResult.failed > 0) this.notes.push(`final read: ${this.finalReadResult.failed} of ${cfg.keys} reads failed (not checked)`);
  }

  /** Stops the cluster and returns the run's results. */
  async finish(): Promise<RunResult> {
    if (this.finished) throw new Error('run already finished');
    this.finished = true;
    this.stopMonitor();
    await this.faults.abort();
    const end = this.now();
    this.recorder.finish(end);
    const nodes = this.cluster.nodes();
    const fates = this.cluster.slotFates?.();
    const changes = this.cluster.slotChanges?.();
    const history = this.cluster.mapHistory?.();
    const ownerAt = this.cluster.ownerAt?.bind(this.cluster);
    this.notes.push(...(this.cluster.notes?.() ?? []));
    await this.stopProxies();
    await this.cluster.stop();
    this.unregister();
    const check = this.checker.analyze(this.faults.windows(), this.owners === undefined ? undefined : (k) => this.ownerOf(k) ?? 'unknown');
    let membership: MembershipResult | undefined;
    if (fates !== undefined && history !== undefined) {
      const fateOf = (k: number): SlotFate => SLOT_FATES[fates[slotOf(keyName(k))]!]!;
      const count = (): Record<SlotFate, number> => ({ kept: 0, 'handed-over': 0, reassigned: 0 });
      const keysBySlotFate = count();
      for (let k = 0; k < this.env.keys; k++) keysBySlotFate[fateOf(k)]++;
      const slotsByFate = count();
      for (const f of fates) slotsByFate[SLOT_FATES[f]!]++;
      // A lost write counts as 'kept' when its slot did not change owner between its acknowledgement and the read
      // that missed it: nothing explains the loss (its owner lost it, or a node acknowledged it for a slot it no
      // longer owned). Otherwise it counts under the worst that happened to its slot in the run: a write acknowledged
      // by a former owner and then handed over with the slot is not blamed on the handover when the slot was also
      // reassigned from a dead or cut-off node.
      const t0 = this.t0;
      const unexplained: MembershipResult['unexplained'] = [];
      const lostFate = (k: number, w?: { ackedAt: number; detectedAt: number; repliedAt: number }): SlotFate => {
        if (w === undefined || changes === undefined) return fateOf(k);
        const slot = slotOf(keyName(k));
        if (worstChange(changes, slot, w.ackedAt + t0, w.repliedAt + t0) !== 0) return fateOf(k);
        if (unexplained.length < 50) {
          unexplained.push({
            key: keyName(k), slot, ackedAt: Math.round(w.ackedAt), detectedAt: Math.round(w.detectedAt), repliedAt: Math.round(w.repliedAt),
            ownerAtAck: ownerAt?.(slot, w.ackedAt + t0), ownerAtDetection: ownerAt?.(slot, w.repliedAt + t0),
          });
        }
        return 'kept';
      };
      const lostWritesBySlotFate = { ...count(), ...this.checker.analyze(this.faults.windows(), lostFate).lostWritesByOwner };
      membership = { migration: this.migration, history: history.map((v) => ({ ...v, at: Math.round(v.at - this.t0) })), keysBySlotFate, lostWritesBySlotFate, slotsByFate, unexplained };
    }
    return {
      name: this.name,
      description: this.cluster.description,
      system: this.cluster.system,
      nodes,
      startedAt: this.startedAt.toISOString(),
      durationMs: Math.round(end),
      phases: this.recorder.phaseSummaries(),
      series: this.recorder.series(),
      keysPerNode: this.keysPerNode,
      faults: this.faults.records(),
      check,
      errorTimes: this.recorder.errorTimes,
      preload: this.preloaded,
      finalRead: this.finalReadResult,
      notes: [...this.notes, ...check.notes],
      ...(membership !== undefined && { membership }),
    };
  }

  private stopMonitor(): void {
    clearInterval(this.monitor);
    this.monitor = undefined;
  }

  /** Once a second: closes the recorder's second, samples DBSIZE per node, shows progress. */
  private async tick(): Promise<void> {
    const t = this.now();
    this.recorder.advance(t);
    const live = this.recorder.live();
    this.env.progress.update({ run: this.label, phase: this.phase, t: t / 1000, opsPerSec: live.opsPerSec, errors: live.errors, p99: live.p99 });
    const counts: Record<string, number | null> = {};
    await Promise.all(this.cluster.nodes().map(async (n) => {
      if (n.state !== 'running') {
        counts[n.id] = null;
        return;
      }
      try {
        counts[n.id] = Number(await call(n.host, n.port, ['DBSIZE'], 500));
      } catch {
        counts[n.id] = null;
      }
    }));
    if (this.monitor !== undefined) this.keysPerNode.push({ t: Math.round(t) / 1000, counts });
  }

  /** Which node owns each key, from the slot map the cluster advertises (a standalone node owns all). */
  private async learnOwners(): Promise<{ names: string[]; index: Uint8Array }> {
    const nodes = this.cluster.nodes();
    const keys = Math.min(this.env.keys, MAX_OWNED_KEYS);
    const index = new Uint8Array(keys);
    if (!this.cluster.capabilities.clustered) return { names: [nodes[0]!.id], index };
    const client = new RingCache({ seeds: this.cluster.seeds(), commandTimeoutMs: 5000 });
    try {
      await client.connect();
      const topo = client.currentTopology!;
      const names = topo.shards.map((s) => `${s.primary.host}:${s.primary.port}`);
      if (names.length > 255) throw new Error('more than 255 shards');
      for (let k = 0; k < keys; k++) index[k] = topo.slots[slotOf(keyName(k))]!;
      return { names, index };
    } finally {
      await client.close();
    }
  }
}
