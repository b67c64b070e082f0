/**
 * The controller: exactly one active per cluster. Candidates hold a key under
 * `election/` with their lease; the one with the oldest key (lowest create
 * revision) is the controller, as etcd's own election recipe. It watches the
 * members, the map and removal requests, and writes each next map version that
 * reconcile() computes. Every write is fenced: a transaction that checks that
 * its election key still exists with the same create revision and that the map
 * is the version it read, so a deposed controller (two leaders briefly, after an
 * etcd restart) can never write.
 */
import type { Logger } from 'pino';
import { ClusterMap, moveId, settingsSchema, type ClusterSettings } from '../cluster/cluster-map.js';
import { reconcile, type MemberRecord } from '../cluster/reconcile.js';
import type { KvStore, KvWatch } from './kv.js';
import { clusterKeys } from './layout.js';
import { DEFAULT_FAILOVER_AFTER_MS, PrimaryProber } from './probes.js';

/** Changes within this window are decided together (nodes starting at once join in one version). */
const SETTLE_MS = 50;
/**
 * A move's acknowledgement is decided at once: its old owner holds the slots'
 * writes until the next version commits the move, so every millisecond here is
 * a millisecond of write pause.
 */
const ACK_SETTLE_MS = 0;
/** Re-read everything this often even without events (a lost watch event costs at most this). */
const RESYNC_MS = 1000;

export interface ControllerOptions {
  kv: KvStore;
  cluster: string;
  /** The candidate's lease (its election key dies with it). */
  lease: string;
  /** Who this candidate is, for status (a node id, or 'dev'). */
  name: string;
  log: Logger;
  /** Silence of a primary, in ms, after which it is replaced by a replica (without waiting for its lease). */
  failoverAfterMs?: number;
  /** The nodes' password, for the probes. */
  password?: () => string;
}

export class Controller {
  private readonly keys;
  private electionKey = '';
  private electionRevision = 0;
  private active = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private resync: NodeJS.Timeout | undefined;
  private watch: KvWatch | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  /** Versions written while active, for status and tests. */
  written = 0;
  private readonly prober: PrimaryProber;

  constructor(private readonly opts: ControllerOptions) {
    this.keys = clusterKeys(opts.cluster);
    this.prober = new PrimaryProber({
      failoverAfterMs: opts.failoverAfterMs ?? DEFAULT_FAILOVER_AFTER_MS,
      password: opts.password ?? (() => ''),
      onChange: () => this.schedule(ACK_SETTLE_MS),
    });
  }

  get isActive(): boolean {
    return this.active;
  }

  /** Joins the election and starts reacting to changes; returns at once. */
  async start(): Promise<void> {
    this.electionKey = `${this.keys.election}${this.opts.lease}`;
    await this.opts.kv.txn([{ key: this.electionKey, modRevision: 0 }], [{ put: this.electionKey, value: this.opts.name, lease: this.opts.lease }]);
    const mine = await this.opts.kv.get(this.electionKey);
    if (mine === undefined) throw new Error('could not register as a controller candidate');
    this.electionRevision = mine.createRevision;
    const { revision } = await this.opts.kv.range(this.keys.root);
    this.watch = await this.opts.kv.watch(this.keys.root, revision, {
      onEvents: (events) => {
        // Progress reports change nothing the controller decides on.
        const relevant = events.filter((e) => !e.entry.key.startsWith(this.keys.progress));
        if (relevant.length === 0) return;
        // An acknowledged move or a handoff waits on this step with its writes held: decided at once.
        const urgent = relevant.some((e) => e.type === 'put' && (e.entry.key.startsWith(this.keys.acks) || e.entry.key.startsWith(this.keys.failovers) || (e.entry.key.startsWith(this.keys.members) && e.entry.value.includes('"handoff"'))));
        this.schedule(urgent ? ACK_SETTLE_MS : SETTLE_MS);
      },
      onError: () => this.schedule(), // the periodic resync re-reads; the watch is re-made there
    });
    this.resync = setInterval(() => this.schedule(), RESYNC_MS);
    this.resync.unref();
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.resync) clearInterval(this.resync);
    this.prober.stop();
    await this.watch?.cancel().catch(() => {});
    await this.running?.catch(() => {});
  }

  private schedule(settleMs = SETTLE_MS): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer && settleMs >= SETTLE_MS) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.step()
        .catch((err: Error) => this.opts.log.warn({ err: err.message }, 'controller step failed; retrying'))
        .finally(() => {
          this.running = undefined;
          if (this.again) {
            this.again = false;
            this.schedule(ACK_SETTLE_MS);
          }
        });
    }, settleMs);
  }

  /** The stored settings, or undefined (none stored, or unreadable: logged). */
  private settings(json: string | undefined): ClusterSettings | undefined {
    if (json === undefined) return undefined;
    try {
      return settingsSchema.parse(JSON.parse(json));
    } catch (err) {
      this.opts.log.warn({ err: (err as Error).message }, 'ignoring unreadable cluster settings');
      return undefined;
    }
  }

  /** One round: am I the controller? If so, write the next version when there is one. */
  private async step(): Promise<void> {
    const { kv } = this.opts;
    const { entries } = await kv.range(this.keys.root);
    const candidates = entries.filter((e) => e.key.startsWith(this.keys.election)).sort((a, b) => a.createRevision - b.createRevision);
    const leader = candidates[0];
    const wasActive = this.active;
    this.active = leader !== undefined && leader.key === this.electionKey && leader.createRevision === this.electionRevision;
    if (this.active !== wasActive) this.opts.log.info({ controller: this.opts.name }, this.active ? 'became the controller' : 'no longer the controller');
    if (!this.active) {
      this.prober.stop();
      return;
    }
    const mapEntry = entries.find((e) => e.key === this.keys.map);
    const map = mapEntry === undefined ? undefined : ClusterMap.parse(mapEntry.value);
    const members: MemberRecord[] = [];
    for (const e of entries) {
      if (!e.key.startsWith(this.keys.members)) continue;
      try {
        members.push(JSON.parse(e.value) as MemberRecord);
      } catch {
        this.opts.log.warn({ key: e.key }, 'ignoring an unreadable member record');
      }
    }
    const removals = new Set(entries.filter((e) => e.key.startsWith(this.keys.removals)).map((e) => e.key.slice(this.keys.removals.length)));
    const acks = new Set(entries.filter((e) => e.key.startsWith(this.keys.acks)).map((e) => e.key.slice(this.keys.acks.length)));
    const settings = this.settings(entries.find((e) => e.key === this.keys.settings)?.value);
    // Probes only while this candidate is the controller, and only of the map's primaries.
    if (map !== undefined && (settings ?? map.settings).replicas > 0) this.prober.track(map);
    const unreachable = this.prober.unreachable();
    const forced = new Map<string, 'force' | 'takeover'>();
    for (const e of entries) if (e.key.startsWith(this.keys.failovers)) forced.set(e.key.slice(this.keys.failovers.length), e.value === 'takeover' ? 'takeover' : 'force');
    const next = reconcile({ cluster: this.opts.cluster, map, members, removals, acks, ...(settings ? { settings } : {}), unreachable, forced });
    if (next !== undefined && map !== undefined && next.primaries().some((p) => map.node(p.id)?.role === 'replica')) {
      const promoted = next.primaries().filter((p) => map.node(p.id)?.role === 'replica').map((p) => `${p.host}:${p.port}`);
      this.opts.log.warn({ epoch: next.epoch, promoted, unreachable: [...unreachable] }, 'failover: replicas promoted');
    }
    // A removal is done once the node is gone from the map and its record is gone: forget the request.
    const done = [...removals].filter((id) => !members.some((m) => m.id === id) && (next ?? map)?.node(id) === undefined);
    // Acknowledgements and progress of moves no longer in the map (committed or cancelled) are forgotten with the version.
    const inFlight = new Set((next ?? map)?.moves.map(moveId) ?? []);
    const stale = entries.filter((e) => (e.key.startsWith(this.keys.acks) || e.key.startsWith(this.keys.progress)) && !inFlight.has(e.key.slice(e.key.lastIndexOf('/') + 1)));
    // A forced failover is done once its replica is no longer a replica in the map.
    const forcedDone = [...forced.keys()].filter((id) => (next ?? map)?.node(id)?.role !== 'replica');
    const ops = [
      ...(next ? [{ put: this.keys.map, value: next.serialize() }] : []),
      ...forcedDone.map((id) => ({ delete: this.keys.failover(id) })),
      ...done.map((id) => ({ delete: this.keys.removal(id) })),
      ...stale.map((e) => ({ delete: e.key })),
    ];
    if (ops.length === 0) return;
    const fenced = await kv.txn(
      [{ key: this.electionKey, createRevision: this.electionRevision }, { key: this.keys.map, modRevision: mapEntry?.modRevision ?? 0 }],
      ops,
    );
    if (!fenced.succeeded) {
      this.schedule(); // deposed, or the map changed under us: look again
      return;
    }
    if (next) {
      this.written++;
      this.opts.log.info({ epoch: next.epoch, nodes: next.nodes.length, moves: next.moves.length }, 'cluster map written');
      this.schedule(ACK_SETTLE_MS); // a direct assignment may allow the next step at once
    }
  }
}
