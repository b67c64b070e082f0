/**
 * A node's replication, driven by the maps it applies: as a primary it runs a
 * ReplicationSource (watching every write) with a feed per replica the map
 * gives it; as a replica it takes its primary's stream (ReplicaSink). A
 * promoted replica keeps its keys and starts its own source; a deposed
 * primary stops its source and waits for the new primary's full sync.
 */
import type { Logger } from 'pino';
import type { ClusterMap, MapNode } from '../cluster/cluster-map.js';
import type { ClusterState } from '../cluster/cluster-state.js';
import { PeerLink } from '../cluster/peer-link.js';
import type { Clock } from '../store/clock.js';
import type { Keyspace } from '../store/keyspace.js';
import { CommandError } from '../commands/errors.js';
import { DEFAULT_LAG_BOUND_MS, ReplicationSource, type FeedStatus, type ReplicaLink, type SyncBarrier } from './source.js';
import { ReplicaSink } from './sink.js';

const LINK_TIMEOUT_MS = 10_000;
/** Longest a handoff waits for its replica to confirm the last writes (the slots' commands wait meanwhile). */
const HANDOFF_CONFIRM_MS = 2000;

export interface ReplicationOptions {
  store: Keyspace;
  clock: Clock;
  state: ClusterState;
  log: Logger;
  password: () => string;
  /** Attaches (or detaches, null) the source as a watcher of every write. */
  watch(source: ReplicationSource | null): void;
  connect?: (node: MapNode) => ReplicaLink;
  lagBoundMs?: () => number;
  /** Asks the membership to write the member record now (a handoff's writes are held until the controller sees it). */
  reportNow?: () => void;
}

/** What INFO replication and the member record show. */
export interface ReplicationStatus {
  role: 'master' | 'slave';
  offset: number;
  runId: string;
  replicas: FeedStatus[];
  primary: MapNode | undefined;
  online: boolean;
  syncs: number;
  lastApplyAgoMs: number;
  /** On a primary: full syncs done and reconnects resumed from the backlog. */
  resyncs: { full: number; partial: number };
}

export class ReplicationManager {
  private source: ReplicationSource | undefined;
  readonly sink: ReplicaSink;
  private role: 'primary' | 'replica' | 'none' = 'none';
  /** Set while this node is a primary in sync mode: connections wait on it after each write. */
  syncBarrier: SyncBarrier | null = null;
  /** A planned handoff (SIGTERM on a primary with an in-sync replica): the slots held, and the replica chosen once it has everything. */
  private handoff: { slots: number[]; to: string; started: number } | undefined;
  private handoffRunning = false;
  /** The last handoff's write pause (slots held until the map gave them away), ms. */
  lastHandoffPauseMs = 0;

  constructor(private readonly opts: ReplicationOptions) {
    const { state } = opts;
    this.sink = new ReplicaSink({
      store: opts.store,
      clock: opts.clock,
      selfId: state.selfId,
      map: () => state.map,
      onlineChanged: (online) => state.setReplicaOnline(online),
    });
  }

  /** The running source (this node is a primary), for WAIT and sync mode. */
  get primarySource(): ReplicationSource | undefined {
    return this.source;
  }

  onMap(map: ClusterMap): void {
    const self = map.node(this.opts.state.selfId);
    const role = self === undefined ? 'none' : self.role;
    // The handoff is over once the map gave the slots away: the held commands now go to the new owner.
    if (this.handoff !== undefined && this.handoff.slots.every((s) => map.ownerOf(s)?.id !== this.opts.state.selfId)) this.endHandoff();
    this.sink.onMap(map);
    // Without replicas (setting 0 and none listed) no source runs: writes pay nothing for replication.
    const replicated = role === 'primary' && (map.settings.replicas > 0 || map.replicasOf(self!.id).length > 0);
    if (role === 'primary' && replicated) {
      if (this.source === undefined) {
        this.source = new ReplicationSource({
          store: this.opts.store,
          log: this.opts.log,
          selfId: this.opts.state.selfId,
          epoch: () => this.opts.state.epoch,
          connect: this.opts.connect ?? ((n) => new PeerLink({ host: n.host, port: n.port, protocol: 2, password: this.opts.password(), timeoutMs: LINK_TIMEOUT_MS })),
          lagBoundMs: this.opts.lagBoundMs ?? (() => DEFAULT_LAG_BOUND_MS),
        });
        this.opts.watch(this.source);
        if (this.role === 'replica') this.opts.log.info({ epoch: map.epoch }, 'promoted: this node is a primary now');
      }
      const replicas = map.replicasOf(self!.id);
      this.source.setReplicas(replicas);
      this.source.setRequired(new Set(replicas.filter((r) => r.synced === true).map((r) => r.id)));
      this.syncBarrier = map.settings.consistency === 'sync' ? this.source : null;
      if (self!.state === 'leaving' && replicas.some((r) => r.synced === true) && !this.handoffRunning && this.handoff === undefined) void this.handOff(map, undefined);
    } else if (this.source !== undefined) {
      this.stopSource();
      if (role === 'replica') this.opts.log.warn({ epoch: map.epoch, primary: self!.primary }, 'this node is a replica now (it was replaced as primary)');
    }
    this.role = role;
  }

  /**
   * A leaving primary with an in-sync replica: hold its slots' commands, send
   * the last writes, and once the replica confirmed them name it in the member
   * record (replicationReport): the controller promotes it, and the commands
   * held here are redirected to it. Retried while the map still says so.
   */
  /** CLUSTER FAILOVER (no option) on one of this primary's replicas: a handoff to it. */
  handOffTo(replicaId: string): void {
    const map = this.opts.state.map;
    if (map === undefined || this.source === undefined || map.node(replicaId)?.primary !== this.opts.state.selfId) throw new CommandError(`ERR ${replicaId} is not a replica of this primary`);
    if (this.handoffRunning || this.handoff !== undefined) throw new CommandError('ERR a handoff is already in progress');
    void this.handOff(map, replicaId);
  }

  private async handOff(map: ClusterMap, target: string | undefined): Promise<void> {
    const state = this.opts.state;
    const source = this.source;
    if (source === undefined) return;
    this.handoffRunning = true;
    try {
      const slots: number[] = [];
      for (const r of map.rangesOf(state.selfId)) for (let s = r.start; s <= r.end; s++) slots.push(s);
      const started = performance.now();
      state.holdSlots(slots);
      source.flushNow();
      const offset = source.offset;
      const candidates = map.replicasOf(state.selfId).filter((r) => (target === undefined ? r.synced === true : r.id === target));
      const confirmed = await Promise.all(candidates.map((r) => source.waitFor(offset, 1, HANDOFF_CONFIRM_MS, new Set([r.id])).then((n) => (n > 0 ? r.id : undefined))));
      const to = confirmed.find((id) => id !== undefined);
      if (to === undefined || this.source !== source) {
        state.releaseSlots(slots);
        this.opts.log.warn({ offset, target }, 'handoff: no in-sync replica confirmed the last writes in time');
        if (target !== undefined) return; // CLUSTER FAILOVER: the operator may ask again
        setTimeout(() => {
          const m = state.map;
          if (m !== undefined && this.source === source && this.handoff === undefined) void this.handOff(m, undefined);
        }, 500).unref();
        return;
      }
      this.handoff = { slots, to, started };
      this.opts.reportNow?.();
      this.opts.log.info({ to, offset, slots: slots.length }, 'handoff: the replica has everything; asking the controller to promote it');
    } finally {
      this.handoffRunning = false;
    }
  }

  /** What the member record reports for a handoff (the replica to promote). */
  handoffTarget(): string | undefined {
    return this.handoff?.to;
  }

  private endHandoff(): void {
    const h = this.handoff;
    if (h === undefined) return;
    this.handoff = undefined;
    this.lastHandoffPauseMs = performance.now() - h.started;
    this.opts.state.releaseSlots(h.slots);
    this.opts.log.info({ pauseMs: Math.round(this.lastHandoffPauseMs) }, 'handoff done: the slots are the replica\'s');
  }

  private stopSource(): void {
    this.syncBarrier = null;
    this.opts.watch(null);
    this.source?.stop();
    this.source = undefined;
  }

  /** The replicas this primary reports in sync (undefined: not a primary). */
  inSync(): string[] | undefined {
    return this.source?.inSync();
  }

  status(): ReplicationStatus {
    const map = this.opts.state.map;
    const self = map?.node(this.opts.state.selfId);
    const primary = self?.role === 'replica' ? map!.node(self.primary!) : undefined;
    return {
      role: self?.role === 'replica' ? 'slave' : 'master',
      offset: this.source?.offset ?? this.sink.offset,
      runId: this.source?.runId ?? '',
      replicas: this.source?.status() ?? [],
      primary,
      online: this.sink.online,
      syncs: this.sink.syncs,
      resyncs: this.source?.resyncs ?? { full: 0, partial: 0 },
      lastApplyAgoMs: this.sink.lastApplyAt === 0 ? -1 : this.opts.clock.now() - this.sink.lastApplyAt,
    };
  }

  stop(): void {
    this.endHandoff();
    this.stopSource();
  }
}
