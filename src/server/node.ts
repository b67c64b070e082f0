/**
 * A ringcache node: the TCP listener, its connections, the keyspace, and the
 * background cycle (active expiry). The I/O edge around the pure protocol,
 * store and command modules.
 */
import { Tracker } from '../tracking/tracker.js';
import { blockedClients } from '../commands/blocking.js';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pino, type Logger } from 'pino';
import type { ConfigParam, CoordinatorStatus, NodeServices } from '../commands/context.js';
import { ClusterState } from '../cluster/cluster-state.js';
import type { ClusterMap } from '../cluster/cluster-map.js';
import { SlotDropper } from '../cluster/slot-dropper.js';
import { PeerLink } from '../cluster/peer-link.js';
import { encodeRequest } from '../protocol/request-encoder.js';
import { keySlotOf } from '../cluster/key-slot.js';
import { MigrationManager } from '../migration/manager.js';
import { ReplicationManager, type ReplicationStatus } from '../replication/manager.js';
import type { SyncBarrier } from '../replication/source.js';
import { SlotWatchers } from '../store/slot-watchers.js';
import type { SlotWatch } from '../store/keyspace.js';
import type { MembershipHost, MembershipProvider } from '../membership/provider.js';
import { Dispatcher } from '../commands/dispatch.js';
import { CommandError } from '../commands/errors.js';
import { REDIS_COMPAT_VERSION } from '../commands/connection.js';
import { ReplyWriter } from '../protocol/writer.js';
import { MAX_MULTIBULK_LENGTH } from '../protocol/parser.js';
import { PeerPool } from '../cluster/peer-pool.js';
import { systemClock, type Clock } from '../store/clock.js';
import { EVICTION_POLICIES, type EvictionPolicy, type Keyspace } from '../store/keyspace.js';
import { SlabKeyspace } from '../store/slab-keyspace.js';
import { ConfigError, parseMemoryValue, type NodeConfig } from './config.js';
import { Connection } from './connection.js';
import { infoText, type InfoSnapshot } from './info.js';
import { commandstatsText } from '../commands/command-stats.js';
import type { MetricsSource } from '../admin/metrics.js';
import { TurnBudget } from './turn-budget.js';
import { PubsubHub } from '../pubsub/hub.js';
import { PubsubFanout, type FanoutPeer } from '../cluster/pubsub-fanout.js';
import type { NodeRuntime, NodeStats } from './runtime.js';

export const VERSION = '0.1.0';

/** Time the active expiry cycle may hold the event loop per call. */
const EXPIRE_BUDGET_MS = 2;
/** How long stop() waits for clients to take their last replies before closing them. */
const STOP_GRACE_MS = 2000;
/** How long a client turned away (maxclients, shutting down) has to read the error before its socket is closed. */
const REJECTED_LINGER_MS = 1000;

export interface NodeOptions {
  clock?: Clock;
  log?: Logger;
  store?: Keyspace;
  /** Called when a client asks for SHUTDOWN (the CLI exits the process). */
  onShutdown?: () => void;
  /** Cluster mode: where the maps come from, and whether to forward for plain clients. */
  cluster?: { membership: MembershipProvider; proxy: boolean; coordinator?: () => CoordinatorStatus | undefined };
  /** Called when the membership removes this node from its cluster (the CLI exits). */
  onLeave?: (reason: string) => void;
}

/**
 * Client input one event-loop turn may process before timers and other clients
 * run. A loop iteration can hold two such turns (input read in the poll phase,
 * then the rest of yielded pipelines in the check phase) plus any GC: at 5 ms
 * the loading phase of bench:memory measured p99 delays of 8.6-9.2 ms, at 2 ms
 * 5.1-6.7 ms, with load rates within the run-to-run noise.
 */
const TURN_BUDGET_MS = 2;
/** Sampling interval of the event-loop delay histogram. */
const LOOP_DELAY_RESOLUTION_MS = 5;

export class CacheNode implements NodeRuntime {
  readonly writer = new ReplyWriter();
  readonly store: Keyspace;
  readonly clock: Clock;
  readonly dispatcher: Dispatcher;
  readonly services: NodeServices;
  readonly log: Logger;
  readonly peers = new PeerPool(() => this.config.requirepass);
  readonly turn = new TurnBudget(TURN_BUDGET_MS);
  readonly pubsub = new PubsubHub();
  /** In a cluster: PUBLISH to the other members. */
  private fanout: PubsubFanout | undefined;
  readonly stats: NodeStats = { connectionsReceived: 0, rejectedConnections: 0, netInputBytes: 0, netOutputBytes: 0 };
  private readonly connections = new Map<number, Connection>();
  /** Sockets turned away, until they close: stop() must not wait on a client that never ends its side. */
  private readonly rejected = new Set<net.Socket>();
  private readonly server: net.Server;
  private readonly runId = randomBytes(20).toString('hex');
  private readonly startedAt = Date.now();
  private nextClientId = 1;
  private cycle: NodeJS.Timeout | undefined;
  private usedMemoryPeak = 0;
  private opsSample = { at: Date.now(), processed: 0, perSec: 0 };
  /** Event-loop delay, reported by INFO stats: what a client waits behind any one long step. */
  private readonly loopDelay = monitorEventLoopDelay({ resolution: LOOP_DELAY_RESOLUTION_MS });
  private stopping: Promise<void> | undefined;
  /** Set once stop() has left the cluster: new connections are turned away from then on. */
  private closing = false;
  private readonly clusterState: ClusterState | undefined;
  private readonly dropper: SlotDropper;
  /** Slot moves from and to this node (coordinated cluster members only). */
  private readonly migration: MigrationManager | undefined;
  private readonly replication: ReplicationManager | undefined;
  /** The store's watchers of writes: migration (its moving slots) and replication (every slot, on a primary). */
  private readonly watchers: SlotWatchers;
  private replicationWatch: SlotWatch | null = null;
  /** CLIENT TRACKING: who read what, and where invalidations go. */
  readonly tracker: Tracker;

  constructor(
    readonly config: NodeConfig,
    private readonly options: NodeOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.store = options.store ?? new SlabKeyspace(this.clock, Math.random, options.cluster ? { slotOf: keySlotOf } : {});
    this.log = options.log ?? pino({ level: 'warn' }, pino.destination(2));
    this.dispatcher = new Dispatcher(config, (err, spec) => this.log.error({ err, command: spec.name }, 'command handler failed'));
    this.clusterState = options.cluster ? new ClusterState(options.cluster.membership.selfId, options.cluster.proxy) : undefined;
    this.watchers = new SlotWatchers(this.store);
    this.tracker = new Tracker(this.store, { peer: (id) => this.connections.get(id) });
    this.dropper = new SlotDropper(this.store, (slots) => this.clusterState?.dropDone(slots));
    const moves = options.cluster?.membership.moves;
    if (this.clusterState !== undefined && moves !== undefined) {
      const state = this.clusterState;
      this.migration = new MigrationManager({
        store: this.store,
        clock: this.clock,
        state,
        log: this.log,
        reporter: moves,
        password: () => this.config.requirepass,
        rate: () => this.config.migrationRate,
        drop: (slots) => {
          state.dropStarted(slots);
          this.dropper.drop(slots);
        },
        attachWatch: (w, on) => (on ? this.watchers.attach(w) : this.watchers.detach(w)),
      });
      this.replication = new ReplicationManager({
        store: this.store,
        clock: this.clock,
        state,
        log: this.log,
        password: () => this.config.requirepass,
        reportNow: () => this.options.cluster?.membership.reportNow?.(),
        watch: (source) => {
          if (this.replicationWatch !== null) this.watchers.detach(this.replicationWatch);
          this.replicationWatch = source;
          if (source !== null) this.watchers.attach(source);
        },
      });
    }
    this.services = this.makeServices();
    if (this.clusterState !== undefined) this.joinClusterPubsub(this.clusterState);
    // Half-open: a client's FIN must not close the connection while its last
    // input still waits to run (a yielded pipeline); Connection ends it then.
    this.server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => this.accept(socket));
  }

  /** Listens on config.bind:config.port; resolves with the port actually bound (0 picks a free one). */
  async start(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => {
        reject(new ConfigError(`cannot listen on ${this.config.bind}:${this.config.port}: ${err.code ?? err.message}`));
      };
      this.server.once('error', onError);
      this.server.listen(this.config.port, this.config.bind, () => {
        this.server.off('error', onError);
        resolve();
      });
    });
    this.server.on('error', (err) => this.log.error({ err }, 'listener error'));
    // Listening first: a dynamic member registers its address, and must answer once it is listed.
    if (this.options.cluster) {
      try {
        await this.options.cluster.membership.start(this.membershipHost());
      } catch (err) {
        this.server.close();
        throw err;
      }
    }
    this.loopDelay.enable();
    this.cycle = setInterval(() => this.backgroundCycle(), Math.max(1, Math.floor(1000 / this.config.hz)));
    this.cycle.unref();
    return this.port;
  }

  get port(): number {
    const a = this.server.address();
    return typeof a === 'object' && a !== null ? a.port : this.config.port;
  }

  /** Stops accepting, lets clients take the replies already written, then closes everything. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      if (this.cycle) clearInterval(this.cycle);
      this.loopDelay.disable();
      // A graceful leave moves this node's slots away first: the node serves them, to new connections
      // too (clients follow MOVED to it), and migration runs, until the membership is done.
      await this.options.cluster?.membership.stop();
      this.closing = true;
      this.migration?.stop();
      this.replication?.stop();
      this.peers.close();
      this.fanout?.close();
      const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
      for (const s of this.rejected) s.destroy();
      for (const c of this.connections.values()) c.end();
      const deadline = Date.now() + STOP_GRACE_MS;
      while (this.connections.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      for (const c of [...this.connections.values()]) c.kill();
      await closed;
    })();
    return this.stopping;
  }

  private membershipHost(): MembershipHost {
    return {
      applyMap: (map) => this.applyMap(map),
      setServingDeadline: (at) => this.clusterState?.setServingDeadline(at),
      setFenced: (reason) => {
        if (reason !== this.clusterState?.fenced) this.log.warn({ reason }, reason === undefined ? 'serving again' : 'fenced: not serving this node\'s slots');
        this.clusterState?.setFenced(reason);
      },
      replicationReport: () => {
        const r = this.replication;
        if (r === undefined) return {};
        const inSync = r.inSync();
        const handoff = r.handoffTarget();
        return inSync !== undefined ? { inSync, ...(handoff !== undefined ? { handoff } : {}) } : { replOffset: r.sink.offset };
      },
      leave: (reason) => {
        this.log.warn({ reason }, 'leaving the cluster');
        if (this.options.onLeave) this.options.onLeave(reason);
        else void this.stop();
      },
    };
  }

  /** Takes a newer map: routing follows it at once; keys of slots no longer served are dropped in the background. */
  private applyMap(map: ClusterMap): void {
    const state = this.clusterState!;
    const lost = state.apply(map);
    if (lost === undefined) return;
    if (lost.length > 0) {
      state.dropStarted(lost);
      this.dropper.drop(lost);
    }
    // In the same turn as routing's change: a slot received incompletely is marked dropping before anything can read it.
    this.migration?.onMap(map);
    this.replication?.onMap(map);
    this.log.info({ epoch: map.epoch, nodes: map.nodes.length, slots: map.slotCount(state.selfId), dropping: lost.length }, 'cluster map applied');
  }

  get syncBarrier(): SyncBarrier | null {
    return this.replication?.syncBarrier ?? null;
  }

  /** The cluster as this node sees it (undefined on a standalone node). */
  get cluster(): ClusterState | undefined {
    return this.clusterState;
  }

  private accept(socket: net.Socket): void {
    this.stats.connectionsReceived++;
    if (this.closing || this.connections.size >= this.config.maxclients) {
      this.stats.rejectedConnections++;
      this.rejected.add(socket);
      socket.on('close', () => this.rejected.delete(socket));
      socket.on('error', () => {});
      // Closed once idle for a while even if the client never ends its side (the server is half-open).
      socket.setTimeout(REJECTED_LINGER_MS, () => socket.destroy());
      // A stopping node (a graceful leave moving its slots away) says so: "max clients" misled client logs.
      socket.end(this.closing ? '-ERR the node is shutting down\r\n' : '-ERR max number of clients reached\r\n');
      socket.resume(); // accepted paused: read (and drop) whatever it sends meanwhile
      return;
    }
    const id = this.nextClientId++;
    this.connections.set(id, new Connection(id, socket, this, {
      maxBulkLength: this.config.protoMaxBulkLen,
      maxMultibulkLength: MAX_MULTIBULK_LENGTH,
      maxInlineLength: 64 * 1024,
      maxQueryBuffer: this.config.clientQueryBufferLimit,
    }));
  }

  forget(conn: Connection): void {
    this.connections.delete(conn.id);
  }

  private backgroundCycle(): void {
    // Active expiry: a bounded slice per tick; if it used its whole budget there
    // is more to do, so take a few more slices, yielding to clients in between.
    let rounds = 0;
    const slice = () => {
      const before = performance.now();
      this.store.activeExpire(EXPIRE_BUDGET_MS);
      this.store.maintain(EXPIRE_BUDGET_MS);
      // Eviction that writes left unfinished (they evict for a bounded time each).
      if (this.config.maxmemory > 0) this.store.evict(this.config.maxmemory, this.config.maxmemoryPolicy, EXPIRE_BUDGET_MS);
      if (performance.now() - before >= EXPIRE_BUDGET_MS && ++rounds < 10) setImmediate(slice);
    };
    slice();
    this.usedMemoryPeak = Math.max(this.usedMemoryPeak, this.store.usedMemory);
    const now = Date.now();
    if (now - this.opsSample.at >= 1000) {
      const processed = this.dispatcher.processed;
      this.opsSample = { at: now, processed, perSec: Math.round(((processed - this.opsSample.processed) * 1000) / (now - this.opsSample.at)) };
    }
  }

  /**
   * In a cluster: PUBLISH reaches every other node's subscribers (as Redis
   * Cluster broadcasts it on its bus), fire-and-forget over links of their own
   * (src/cluster/pubsub-fanout.ts). Shard channels whose slot moved away are
   * unsubscribed, with Redis 7's `sunsubscribe` push.
   */
  private joinClusterPubsub(state: ClusterState): void {
    // Recomputed only when the map changes: PUBLISH reads it on every call.
    let seen: ClusterState['map'];
    let members: FanoutPeer[] = [];
    const others = (): FanoutPeer[] => {
      if (state.map !== seen) {
        seen = state.map;
        members = (seen?.nodes ?? []).filter((n) => n.id !== state.selfId && n.state !== 'failed');
      }
      return members;
    };
    const fanout = (this.fanout = new PubsubFanout(others, () => this.config.requirepass));
    this.pubsub.fanout = (channel, message) => fanout.publish(channel, message);
    state.onChange(() => {
      const map = state.map;
      if (map === undefined) return;
      fanout.retain(others());
      this.pubsub.dropShardChannels((name) => {
        const b = Buffer.from(name, 'latin1');
        return map.ownerOf(keySlotOf(b, 0, b.length))?.id === state.selfId;
      });
    });
  }

  private makeServices(): NodeServices {
    const cfg = this.config;
    const params: ConfigParam[] = [
      { name: 'maxmemory', get: () => String(cfg.maxmemory), set: (v) => (cfg.maxmemory = configValue(() => parseMemoryValue(v), 'maxmemory')) },
      { name: 'maxmemory-policy', get: () => cfg.maxmemoryPolicy, set: (v) => {
        const p = v.toLowerCase() as EvictionPolicy;
        if (!EVICTION_POLICIES.includes(p)) throw new CommandError(`ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - argument(s) must be one of the following: ${EVICTION_POLICIES.join(', ')}`);
        cfg.maxmemoryPolicy = p;
      } },
      { name: 'maxclients', get: () => String(cfg.maxclients), set: (v) => (cfg.maxclients = configValue(() => positiveInt(v), 'maxclients')) },
      { name: 'requirepass', get: () => cfg.requirepass, set: (v) => (cfg.requirepass = v) },
      { name: 'hz', get: () => String(cfg.hz), set: (v) => (cfg.hz = configValue(() => Math.min(500, positiveInt(v)), 'hz')) },
      { name: 'migration-rate', get: () => String(cfg.migrationRate), set: (v) => (cfg.migrationRate = configValue(() => (v === '0' ? 0 : positiveInt(v)), 'migration-rate')) },
      { name: 'tracking-table-max-keys', get: () => String(this.tracker.table.maxKeys), set: (v) => {
        this.tracker.table.maxKeys = configValue(() => (v === '0' ? 0 : positiveInt(v)), 'tracking-table-max-keys');
        if (this.tracker.table.maxKeys > 0) this.tracker.trim();
      } },
      { name: 'proto-max-bulk-len', get: () => String(cfg.protoMaxBulkLen) },
      { name: 'port', get: () => String(this.port) },
      { name: 'bind', get: () => cfg.bind },
      { name: 'databases', get: () => '1' },
      { name: 'save', get: () => '' },
      { name: 'appendonly', get: () => 'no' },
      { name: 'timeout', get: () => '0' },
      { name: 'maxmemory-samples', get: () => '5' },
      // A script running longer is aborted (src/scripting/engine.ts); lua-time-limit is its old name, as in Redis 7.
      ...['busy-reply-threshold', 'lua-time-limit'].map((name) => ({ name, get: () => String(this.dispatcher.scriptTimeLimitMs), set: (v: string) => (this.dispatcher.scriptTimeLimitMs = configValue(() => positiveInt(v), name)) })),
    ];
    return {
      config: new Map(params.map((p) => [p.name, p])),
      requirepass: () => cfg.requirepass,
      info: (sections) => this.info(sections),
      clients: () => this.connections.values(),
      resetStats: () => {
        Object.assign(this.store.stats, { hits: 0, misses: 0, expired: 0, evicted: 0 });
        Object.assign(this.stats, { connectionsReceived: 0, rejectedConnections: 0, netInputBytes: 0, netOutputBytes: 0 });
        this.dispatcher.processed = 0;
        this.dispatcher.commandStats.reset();
        this.turn.overBudget = 0;
        this.loopDelay.reset();
      },
      shutdown: () => setImmediate(() => (this.options.onShutdown ? this.options.onShutdown() : void this.stop())),
      version: VERSION,
      runId: this.runId,
      cluster: () => this.clusterState,
      coordinator: () => this.options.cluster?.coordinator?.(),
      migration: () => this.migration?.imports,
      replication: () => this.replication,
      failover: (mode) => this.failover(mode),
      pubsub: this.pubsub,
      tracker: this.tracker,
    };
  }

  /** CLUSTER FAILOVER on a replica: a handoff asked of its primary, or (FORCE, TAKEOVER) a promotion asked of the controller. */
  private async failover(mode: 'default' | 'force' | 'takeover'): Promise<void> {
    const state = this.clusterState;
    const self = state?.self;
    if (state === undefined || self?.role !== 'replica') throw new CommandError('ERR You should send CLUSTER FAILOVER to a replica');
    if (mode !== 'default') {
      const membership = this.options.cluster?.membership;
      if (membership?.requestFailover === undefined) throw new CommandError('ERR this node has no coordinator to ask');
      await membership.requestFailover(mode);
      return;
    }
    const primary = state.map!.node(self.primary!)!;
    const link = new PeerLink({ host: primary.host, port: primary.port, protocol: 2, password: this.config.requirepass, timeoutMs: 2000 });
    try {
      const reply = await link.send(encodeRequest(['REPL', 'HANDOFF', self.id]));
      if (reply[0] === 45) throw new CommandError(reply.toString('latin1').slice(1).trim());
    } finally {
      link.close();
    }
  }

  private migrationInfo() {
    const m = this.migration;
    if (m === undefined) return undefined;
    const out = m.outgoing();
    return {
      mode: 'warm' as const,
      outgoing: out.length,
      incoming: m.imports.stats.active,
      keysSent: m.stats.keysSent + out.reduce((n, p) => n + p.keysSent, 0),
      keysReceived: m.imports.stats.keysReceived,
      movesStarted: m.stats.exportsStarted,
      movesAcknowledged: m.stats.exportsAcknowledged,
      lastHandoverMs: m.stats.lastHandoverMs,
      lastPauseMs: m.stats.lastPauseMs,
      maxPauseMs: m.stats.maxPauseMs,
      moves: out.map((p) => `id=${p.moveId},to=${p.to},phase=${p.phase},slots=${p.slotsDone}/${p.slots},keys=${p.keysSent}/${p.keysTotal},bytes=${p.bytesSent},resent=${p.keysResent},rate=${p.rate}`),
    };
  }

  /**
   * A delay from the histogram (ns) in ms. Each sample includes the sampling
   * timer's own interval (an idle loop reads about the resolution), so that is
   * taken off: what is left is how long the loop was held up.
   */
  private loopDelayMs(ns: number): number {
    if (this.loopDelay.count === 0) return 0; // before the first sample the histogram holds placeholders
    return Math.max(0, ns / 1e6 - LOOP_DELAY_RESOLUTION_MS);
  }

  private info(sections: string[]): string {
    const text = infoText(sections, this.snapshot());
    // Not in the default sections, as in Redis: only asked for, or with all / everything.
    const stats = sections.some((r) => r === 'commandstats' || r === 'all' || r === 'everything');
    if (!stats) return text;
    const block = commandstatsText(this.dispatcher.commandStats.list());
    return text === '' ? block : `${text}\r\n${block}`;
  }

  /** What the metrics endpoint reads (src/admin/metrics.ts). */
  metricsSource(): MetricsSource {
    return {
      snapshot: () => this.snapshot(),
      commandStats: () => this.dispatcher.commandStats.list(),
      cluster: () => {
        const c = this.clusterState;
        const map = c?.map;
        if (c === undefined || map === undefined) return undefined;
        return { epoch: c.epoch, slotsOwned: map.slotCount(c.selfId), fenced: c.fenced !== undefined, role: c.self?.role === 'replica' ? 'replica' : 'primary' };
      },
      replication: () => this.replication?.status(),
    };
  }

  /** What INFO and the metrics endpoint report, read now. */
  snapshot(): InfoSnapshot {
    const cpu = process.cpuUsage();
    const used = this.store.usedMemory;
    this.usedMemoryPeak = Math.max(this.usedMemoryPeak, used);
    return {
      version: VERSION,
      redisVersion: REDIS_COMPAT_VERSION,
      runId: this.runId,
      port: this.port,
      pid: process.pid,
      startedAt: this.startedAt,
      now: Date.now(),
      hz: this.config.hz,
      executable: process.argv[1] ?? '',
      connectedClients: this.connections.size,
      maxclients: this.config.maxclients,
      blockedClients: blockedClients(),
      usedMemory: used,
      usedMemoryPeak: this.usedMemoryPeak,
      rss: process.memoryUsage.rss(),
      maxmemory: this.config.maxmemory,
      maxmemoryPolicy: this.config.maxmemoryPolicy,
      connectionsReceived: this.stats.connectionsReceived,
      commandsProcessed: this.dispatcher.processed,
      opsPerSec: this.opsSample.perSec,
      netInputBytes: this.stats.netInputBytes,
      netOutputBytes: this.stats.netOutputBytes,
      rejectedConnections: this.stats.rejectedConnections,
      expiredKeys: this.store.stats.expired,
      evictedKeys: this.store.stats.evicted,
      hits: this.store.stats.hits,
      misses: this.store.stats.misses,
      pubsub: { channels: this.pubsub.registry.channelCount, patterns: this.pubsub.registry.patternCount, shardChannels: this.pubsub.registry.shardCount, delivered: this.pubsub.delivered, fanoutDropped: this.fanout?.dropped ?? 0 },
      tracking: { clients: this.tracker.trackingClients, keys: this.tracker.table.keys, items: this.tracker.table.items, prefixes: this.tracker.prefixTable.size, invalidations: this.tracker.invalidations },
      keys: this.store.size,
      expires: this.store.volatileSize,
      cpuUser: cpu.user / 1e6,
      cpuSys: cpu.system / 1e6,
      clusterEnabled: this.clusterState !== undefined,
      migration: this.migrationInfo(),
      ...(this.replication ? { replication: replicationFields(this.replication.status()) } : {}),
      eventLoopDelayP99: this.loopDelayMs(this.loopDelay.percentile(99)),
      eventLoopDelayMax: this.loopDelayMs(this.loopDelay.max),
      inputTurnsOverBudget: this.turn.overBudget,
    };
  }
}

/** INFO replication as Redis names its fields (master_link_status up once the replica's copy is complete). */
function replicationFields(r: ReplicationStatus): Array<[string, string | number]> {
  if (r.role === 'slave') {
    return [
      ['role', 'slave'],
      ['master_host', r.primary?.host ?? '?'],
      ['master_port', r.primary?.port ?? 0],
      ['master_link_status', r.online ? 'up' : 'down'],
      ['master_last_io_seconds_ago', r.lastApplyAgoMs < 0 ? -1 : Math.floor(r.lastApplyAgoMs / 1000)],
      ['master_sync_in_progress', r.online ? 0 : 1],
      ['slave_read_repl_offset', r.offset],
      ['slave_repl_offset', r.offset],
      ['slave_priority', 100],
      ['slave_read_only', 1],
      ['replica_announced', 1],
      ['connected_slaves', 0],
      ['master_replid', r.runId || '0'.repeat(40)],
      ['master_repl_offset', r.offset],
      ['full_syncs_received', r.syncs],
    ];
  }
  return [
    ['role', 'master'],
    ['connected_slaves', r.replicas.length],
    ...r.replicas.map((f, i): [string, string] => [`slave${i}`, `ip=${f.host},port=${f.port},state=${f.state === 'online' ? 'online' : 'wait_bgsave'},offset=${f.acked},lag=${Math.floor(f.lagMs / 1000)},lag_ms=${f.lagMs}`]),
    ['master_replid', r.runId.padEnd(40, '0')],
    ['master_repl_offset', r.offset],
    // Redis has these two in INFO stats: here they sit with the replication they describe.
    ['sync_full', r.resyncs.full],
    ['sync_partial_ok', r.resyncs.partial],
  ];
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < 1) throw new Error('argument must be a positive integer');
  return n;
}

/** Runs a parser of a CONFIG SET value, turning its failure into Redis's error text. */
function configValue<T>(parse: () => T, name: string): T {
  try {
    return parse();
  } catch (err) {
    throw new CommandError(`ERR CONFIG SET failed (possibly related to argument '${name}') - ${(err as Error).message}`);
  }
}
