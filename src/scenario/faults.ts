/**
 * Faults at set times on the run's clock, each undone at its end time and
 * recorded with when it really started and ended:
 *
 * - kill9 (SIGKILL), undone by a restart after `restartAfter` ms, or once
 *   `restartWhen` resolves (the failover scenario: once writes are accepted
 *   again), if given;
 * - terminate (SIGTERM, a graceful stop), undone the same way;
 * - pause (SIGSTOP) for `duration` ms, undone by SIGCONT;
 * - add-node / remove-node, through the ClusterUnderTest (static membership
 *   rejects them: the fault is recorded with its error);
 * - proxy: a FaultProxy in front of a node switches to a mode (delay, drop,
 *   blackhole, reset) for `duration` ms, then back to pass;
 * - isolate: the node's link to its coordinator is cut (the node manager's
 *   backend: a blackhole in its own coordinator proxy) for `duration` ms,
 *   undone by healing it (the link back, and a node that learnt its lease
 *   was gone started again as a new member);
 * - restart: starts a node that is not running again (one that exited by
 *   itself, e.g. after a pause past its lease).
 *
 * A fault's window, for the checker and the charts, runs from the moment it
 * took effect to the moment its undo completed (a restarted node is ready
 * again), or to the end of the run when it is never undone. Every timer is
 * tracked: abort() cancels what has not happened and undoes what is active
 * (resumes paused nodes, puts proxies back to pass).
 */
import type { FaultWindow } from './checker.js';
import { NotSupportedError, type ClusterUnderTest, type NodeHandle } from './cluster-under-test.js';
import { describeMode, type FaultProxy, type ProxyMode } from './fault-proxy.js';

/** A node by its index in cluster.nodes() (at injection time) or by id. */
export type NodeSelector = number | string;

export type FaultSpec =
  | { kind: 'kill9'; node: NodeSelector; at: number; restartAfter?: number; restartWhen?: Promise<unknown> }
  | { kind: 'terminate'; node: NodeSelector; at: number; restartAfter?: number }
  | { kind: 'pause'; node: NodeSelector; at: number; duration: number }
  | { kind: 'add-node'; at: number }
  | { kind: 'remove-node'; node: NodeSelector; at: number }
  | { kind: 'proxy'; node: NodeSelector; at: number; duration: number; mode: ProxyMode }
  | { kind: 'isolate'; node: NodeSelector; at: number; duration: number }
  | { kind: 'restart'; node: NodeSelector; at: number; why?: string };

export interface FaultRecord {
  id: string;
  kind: FaultSpec['kind'];
  /** e.g. "kill -9 127.0.0.1:7001, restart after 3 s". */
  label: string;
  node: string | null;
  /** ms on the run clock. */
  plannedAt: number;
  start: number | null;
  /** When the undo completed; null if never undone (or not yet). */
  end: number | null;
  /** When the undo began (a restart takes time). */
  undoStartedAt: number | null;
  error: string | null;
}

export class FaultInjector {
  private readonly list: FaultRecord[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly active = new Map<string, { run: () => Promise<void>; restart: boolean }>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly injecting = new Set<string>();
  private aborted = false;

  /**
   * @param now ms on the run clock
   * @param proxies FaultProxy per node id, for proxy faults
   */
  constructor(private readonly cluster: ClusterUnderTest, private readonly now: () => number, private readonly proxies: ReadonlyMap<string, FaultProxy> = new Map()) {}

  /** Schedules faults at their `at` times (ms on the run clock; past times run at once). */
  schedule(specs: readonly FaultSpec[]): void {
    for (const spec of specs) {
      const record: FaultRecord = { id: `f${this.list.length + 1}`, kind: spec.kind, label: this.describe(spec), node: null, plannedAt: spec.at, start: null, end: null, undoStartedAt: null, error: null };
      this.list.push(record);
      this.later(spec.at, () => this.inject(spec, record));
    }
  }

  private later(at: number, fn: () => Promise<void>): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.aborted) return;
      const p = fn().finally(() => this.inFlight.delete(p));
      this.inFlight.add(p);
    }, Math.max(0, at - this.now()));
    this.timers.add(timer);
  }

  private describe(spec: FaultSpec): string {
    const node = 'node' in spec ? (typeof spec.node === 'number' ? `node ${spec.node + 1}` : spec.node) : '';
    const s = (ms: number) => `${+(ms / 1000).toFixed(2)} s`;
    switch (spec.kind) {
      case 'kill9':
        return `kill -9 ${node}${spec.restartAfter !== undefined ? `, restart after ${s(spec.restartAfter)}` : spec.restartWhen !== undefined ? ', restart on recovery' : ''}`;
      case 'terminate':
        return `SIGTERM ${node}${spec.restartAfter !== undefined ? `, restart after ${s(spec.restartAfter)}` : ''}`;
      case 'pause':
        return `pause ${node} for ${s(spec.duration)}`;
      case 'add-node':
        return 'add a node';
      case 'remove-node':
        return `remove ${node}`;
      case 'proxy':
        return `proxy ${describeMode(spec.mode)} in front of ${node} for ${s(spec.duration)}`;
      case 'isolate':
        return `cut ${node} off from the coordinator for ${s(spec.duration)}`;
      case 'restart':
        return `restart ${node}${spec.why !== undefined ? ` (${spec.why})` : ''}`;
    }
  }

  private resolve(sel: NodeSelector): NodeHandle {
    const nodes = this.cluster.nodes();
    const n = typeof sel === 'number' ? nodes[sel] : nodes.find((x) => x.id === sel);
    if (n === undefined) throw new Error(`no node ${typeof sel === 'number' ? `#${sel + 1}` : sel} (the cluster has ${nodes.length})`);
    return n;
  }

  private async inject(spec: FaultSpec, r: FaultRecord): Promise<void> {
    this.injecting.add(r.id);
    try {
      const node = 'node' in spec ? this.resolve(spec.node) : undefined;
      r.node = node?.id ?? null;
      if (node !== undefined) r.label = r.label.replace(`node ${(spec as { node: number }).node + 1}`, node.id);
      const c = this.cluster;
      switch (spec.kind) {
        case 'kill9':
        case 'terminate': {
          r.start = this.now();
          if (spec.kind === 'kill9') await c.kill9(node!);
          else await c.terminate(node!);
          if (spec.restartAfter !== undefined) this.undoAt(r, r.start + spec.restartAfter, () => c.restart(node!), true);
          else if (spec.kind === 'kill9' && spec.restartWhen !== undefined) this.undoWhen(r, spec.restartWhen, () => c.restart(node!));
          return;
        }
        case 'pause':
          await c.pause(node!);
          r.start = this.now();
          this.undoAt(r, r.start + spec.duration, () => c.resume(node!));
          return;
        case 'restart':
          r.start = this.now();
          await c.restart(node!);
          r.end = this.now();
          return;
        case 'add-node': {
          r.start = this.now();
          const added = await c.addNode();
          r.node = added.id;
          r.end = this.now();
          return;
        }
        case 'remove-node':
          r.start = this.now();
          await c.removeNode(node!);
          r.end = this.now();
          return;
        case 'isolate': {
          if (c.isolate === undefined || c.heal === undefined) throw new NotSupportedError(`${c.description}: cutting a node off from its coordinator needs the node manager`);
          await c.isolate(node!);
          r.start = this.now();
          this.undoAt(r, r.start + spec.duration, () => c.heal!(node!));
          return;
        }
        case 'proxy': {
          const proxy = this.proxies.get(node!.id);
          if (proxy === undefined) throw new Error(`no fault proxy in front of ${node!.id}`);
          proxy.setMode(spec.mode);
          r.start = this.now();
          this.undoAt(r, r.start + spec.duration, async () => proxy.setMode({ kind: 'pass' }));
          return;
        }
      }
    } catch (err) {
      r.error = (err as Error).message;
      if (r.start !== null && r.end === null && !this.active.has(r.id)) r.end = this.now();
    } finally {
      this.injecting.delete(r.id);
    }
  }

  private undoAt(r: FaultRecord, at: number, undo: () => Promise<void>, restart = false): void {
    const run = async () => {
      if (!this.active.has(r.id)) return;
      this.active.delete(r.id);
      r.undoStartedAt = this.now();
      try {
        await undo();
      } catch (err) {
        r.error = `undo failed: ${(err as Error).message}`;
      }
      r.end = this.now();
    };
    this.active.set(r.id, { run, restart });
    this.later(at, run);
  }

  /** A restart once `when` resolves (or rejects); aborted like any restart. */
  private undoWhen(r: FaultRecord, when: Promise<unknown>, undo: () => Promise<void>): void {
    const run = async () => {
      if (!this.active.has(r.id)) return;
      this.active.delete(r.id);
      r.undoStartedAt = this.now();
      try {
        await undo();
      } catch (err) {
        r.error = `undo failed: ${(err as Error).message}`;
      }
      r.end = this.now();
    };
    this.active.set(r.id, { run, restart: true });
    void when.catch(() => {}).then(() => {
      if (this.aborted) return;
      const p = run().finally(() => this.inFlight.delete(p));
      this.inFlight.add(p);
    });
  }

  /**
   * Injects a fault now and resolves with its record once it has ended (its
   * undo completed) or failed, bounded by timeoutMs. For scenarios that pace
   * faults on the cluster's recovery rather than on a clock (rolling restart).
   */
  async injectNow(spec: FaultSpec, timeoutMs = 60_000): Promise<FaultRecord> {
    const index = this.list.length;
    this.schedule([{ ...spec, at: this.now() }]);
    const r = this.list[index]!;
    const deadline = Date.now() + timeoutMs;
    const pending = () => r.error === null && (r.start === null || this.injecting.has(r.id) || this.active.has(r.id) || (r.undoStartedAt !== null && r.end === null));
    while (!this.aborted && Date.now() < deadline && pending()) await new Promise((res) => setTimeout(res, 20));
    return { ...r };
  }

  /** Resolves once every fault has happened and every planned undo is done (bounded by timeoutMs). */
  async settle(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((this.timers.size > 0 || this.inFlight.size > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  }

  /**
   * Cancels what has not happened yet and undoes what is still active: paused
   * nodes are resumed and proxies put back to pass (killed nodes are not
   * restarted: the cluster is about to be stopped).
   */
  async abort(): Promise<void> {
    this.aborted = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.allSettled([...this.inFlight]);
    await Promise.allSettled([...this.active.values()].filter((u) => !u.restart).map((u) => u.run()));
  }

  records(): FaultRecord[] {
    return this.list.map((r) => ({ ...r }));
  }

  /** The windows of the faults that took effect, for the checker and the charts. */
  windows(): FaultWindow[] {
    return this.list.filter((r) => r.start !== null).map((r) => ({ id: r.id, label: r.label, start: r.start!, end: r.end }));
  }
}
