/**
 * A node's membership through a coordination store (etcd, or the store that
 * `ringcache dev` serves): it registers the node under a lease, renews the lease
 * itself (so it knows when the last renewal was sent), applies the cluster map
 * in epoch order and acknowledges each version in its member record, and may
 * stand as a controller candidate.
 *
 * Fencing. etcd expires a lease TTL after the last renewal it received, so a
 * node that stops serving at (send time of its last acknowledged renewal) + TTL
 * - margin has stopped before the controller can see its lease go and give its
 * slots away. But a cache must stay up when its coordinator is down for
 * everyone. So when renewals fail, the node asks its peers (CLUSTER
 * COORDINATOR): if any peer still reaches the coordinator, or it cannot reach a
 * majority of the map's nodes, it fences itself (CLUSTERDOWN for its slots);
 * if a majority answer and none reaches the coordinator, it keeps serving the
 * map it holds and changes nothing until the coordinator is back.
 */
import type { Logger } from 'pino';
import { ClusterMap, type ClusterSettings } from '../cluster/cluster-map.js';
import type { MemberRecord } from '../cluster/reconcile.js';
import { PeerLink } from '../cluster/peer-link.js';
import { encodeRequest } from '../protocol/request-encoder.js';
import type { CoordinatorStatus } from '../commands/context.js';
import { Controller } from './controller.js';
import type { KvStore, KvWatch } from './kv.js';
import { clusterKeys, newNodeId } from './layout.js';
import type { MoveProgress } from '../migration/progress.js';
import type { MembershipHost, MembershipProvider, MoveReporter } from './provider.js';

/** Renewals are sent this many times per TTL. */
const RENEWALS_PER_TTL = 4;
/** Fence this long before the lease could expire (clock rates, the peer check's own time). */
const FENCE_MARGIN_MS = 300;
/** Longest a graceful leave waits for its slots (and their keys) to be moved away. */
const LEAVE_TIMEOUT_MS = 120_000;
const PEER_CHECK_TIMEOUT_MS = 250;
/** How often the map is read even without a watch event. */
const MAP_RESYNC_MS = 1000;
/** How often replication's report is looked at; an in-sync change is written at once, an offset at most once a second. */
const REPORT_MS = 100;
const OFFSET_REPORT_MS = 1000;

export interface AgentOptions {
  kv: KvStore;
  /** 'etcd' or 'embedded', for status. */
  kind: string;
  cluster: string;
  host: string;
  port: number;
  weight: number;
  ttlMs: number;
  /** Stand as a controller candidate (etcd mode: every node does). */
  controller: boolean;
  password: () => string;
  log: Logger;
  /** Placement label. */
  zone?: string;
  /** Settings to store if the cluster has none yet (the first node to start creates the cluster with them). */
  settings?: ClusterSettings;
  /** The controller's failover delay (ms), when this node stands as one. */
  failoverAfterMs?: number;
}

export class CoordinatedMembership implements MembershipProvider {
  readonly selfId = newNodeId();
  private readonly keys;
  private host: MembershipHost | undefined;
  private lease = '';
  private ttlMs = 0;
  private lastRenewSent = 0;
  private reachable = true;
  private record: MemberRecord;
  private map: ClusterMap | undefined;
  private watch: KvWatch | undefined;
  private timer: NodeJS.Timeout | undefined;
  private resync: NodeJS.Timeout | undefined;
  private controller: Controller | undefined;
  private stopped = false;
  private wasListed = false;
  private renewing = false;
  /** Fires when the lease could be about to expire with no renewal acknowledged since: the fence check (see fenceDue). */
  private fenceTimer: NodeJS.Timeout | undefined;
  private readonly peerLinks = new Map<string, PeerLink>();

  constructor(private readonly opts: AgentOptions) {
    this.keys = clusterKeys(opts.cluster);
    this.record = { id: this.selfId, host: opts.host, port: opts.port, weight: opts.weight, state: 'up', appliedEpoch: 0, ...(opts.zone ? { zone: opts.zone } : {}) };
  }

  private reportTimer: NodeJS.Timeout | undefined;
  private lastOffsetReport = 0;

  reportNow(): void {
    this.report();
  }

  async requestFailover(mode: 'force' | 'takeover'): Promise<void> {
    await this.opts.kv.txn([], [{ put: this.keys.failover(this.selfId), value: mode, lease: this.lease }]);
  }

  /** Writes the member record again when replication's report changed (see REPORT_MS). */
  private report(): void {
    const r = this.host?.replicationReport?.();
    if (r === undefined || this.stopped) return;
    const urgent = r.inSync?.join(',') !== this.record.inSync?.join(',') || r.handoff !== this.record.handoff;
    const now = Date.now();
    const offsetDue = r.replOffset !== undefined && r.replOffset !== this.record.replOffset && now - this.lastOffsetReport >= OFFSET_REPORT_MS;
    if (!urgent && !offsetDue) return;
    const { inSync: _i, replOffset: _o, handoff: _h, ...rest } = this.record;
    this.record = {
      ...rest,
      ...(r.inSync !== undefined ? { inSync: r.inSync } : {}),
      ...(r.replOffset !== undefined ? { replOffset: r.replOffset } : {}),
      ...(r.handoff !== undefined ? { handoff: r.handoff } : {}),
    };
    if (offsetDue) this.lastOffsetReport = now;
    void this.putRecord().catch(() => {});
  }

  readonly moves: MoveReporter = {
    ack: async (moveId) => {
      await this.opts.kv.txn([], [{ put: this.keys.ack(moveId), value: this.selfId, lease: this.lease }]);
    },
    progress: async (p: MoveProgress) => {
      await this.opts.kv.txn([], [{ put: this.keys.progressOf(p.moveId), value: JSON.stringify(p), lease: this.lease }]);
    },
  };

  status(): CoordinatorStatus {
    return {
      kind: this.opts.kind,
      reachable: this.reachable,
      leaseAgeMs: this.lastRenewSent === 0 ? -1 : Date.now() - this.lastRenewSent,
      controller: this.controller?.isActive ? 'self' : '',
    };
  }

  async start(host: MembershipHost): Promise<void> {
    this.host = host;
    const { kv } = this.opts;
    const sent = Date.now();
    const granted = await kv.grantLease(this.opts.ttlMs);
    this.lease = granted.id;
    this.ttlMs = granted.ttlMs;
    this.lastRenewSent = sent;
    host.setServingDeadline(sent + this.ttlMs - FENCE_MARGIN_MS);
    // A second live member at the same address is refused: one of them is misconfigured.
    const { entries } = await kv.range(this.keys.members);
    const clash = entries.map((e) => JSON.parse(e.value) as MemberRecord).find((m) => m.host === this.opts.host && m.port === this.opts.port);
    if (clash !== undefined) {
      await kv.revokeLease(this.lease).catch(() => {});
      throw new Error(`another live member (${clash.id}) already has the address ${this.opts.host}:${this.opts.port}`);
    }
    if (this.opts.settings !== undefined) {
      // Created with these settings if nobody created the cluster before (a later node's flags do not change it: `ringcache cluster set` does).
      await kv.txn([{ key: this.keys.settings, modRevision: 0 }], [{ put: this.keys.settings, value: JSON.stringify(this.opts.settings) }]);
    }
    await this.putRecord();
    await this.watchMap();
    this.reportTimer = setInterval(() => this.report(), REPORT_MS);
    this.reportTimer.unref();
    this.timer = setInterval(() => void this.renew(), Math.max(100, Math.floor(this.ttlMs / RENEWALS_PER_TTL)));
    this.armFence();
    this.timer.unref();
    // A watch can stall without an error (a process paused past the stream's keepalive): read the map now and then too.
    this.resync = setInterval(() => void this.opts.kv.get(this.keys.map).then((e) => e && this.onMap(e.value), () => {}), MAP_RESYNC_MS);
    this.resync.unref();
    if (this.opts.controller) {
      this.controller = new Controller({
        kv,
        cluster: this.opts.cluster,
        lease: this.lease,
        name: this.selfId,
        log: this.opts.log,
        password: this.opts.password,
        ...(this.opts.failoverAfterMs !== undefined ? { failoverAfterMs: this.opts.failoverAfterMs } : {}),
      });
      await this.controller.start();
    }
  }

  private async putRecord(): Promise<void> {
    await this.opts.kv.txn([], [{ put: this.keys.member(this.selfId), value: JSON.stringify(this.record), lease: this.lease }]);
  }

  private async watchMap(): Promise<void> {
    const { kv } = this.opts;
    const current = await kv.get(this.keys.map);
    const { revision } = await kv.range(this.keys.map);
    if (current !== undefined) await this.onMap(current.value);
    this.watch = await kv.watch(this.keys.map, Math.max(revision, current?.modRevision ?? 0), {
      onEvents: (events) => {
        const last = events.filter((e) => e.type === 'put').pop();
        if (last !== undefined) void this.onMap(last.entry.value);
      },
      onError: (err) => {
        this.opts.log.warn({ err: err.message }, 'map watch lost; reading the map again');
        void this.watch?.cancel().catch(() => {});
        if (!this.stopped) setTimeout(() => void this.watchMap().catch(() => {}), 200).unref();
      },
    });
  }

  private async onMap(json: string): Promise<void> {
    let map: ClusterMap;
    try {
      map = ClusterMap.parse(json);
    } catch (err) {
      this.opts.log.error({ err: (err as Error).message }, 'ignoring an invalid cluster map');
      return;
    }
    if (this.map !== undefined && map.epoch <= this.map.epoch) return;
    this.map = map;
    this.host?.applyMap(map);
    const listed = map.node(this.selfId) !== undefined;
    if (listed) this.wasListed = true;
    else if (this.wasListed && !this.stopped && this.record.state !== 'leaving') {
      // Dropped from the map while not leaving: an operator removed it.
      this.host?.leave('removed from the cluster by the controller');
    }
    this.record = { ...this.record, appliedEpoch: map.epoch };
    await this.putRecord().catch((err: Error) => this.opts.log.warn({ err: err.message }, 'could not acknowledge the map'));
  }

  private async renew(): Promise<void> {
    if (this.renewing || this.stopped) return;
    this.renewing = true;
    const sent = Date.now();
    try {
      const alive = await this.opts.kv.keepAlive(this.lease);
      if (!alive) {
        // The coordinator forgot us (we were paused or cut off past the TTL): our slots are gone.
        this.host?.setFenced('this node lost its membership lease');
        this.host?.leave('lost its membership lease; a restarted node joins as a new member');
        return;
      }
      this.lastRenewSent = sent;
      this.reachable = true;
      this.host?.setServingDeadline(sent + this.ttlMs - FENCE_MARGIN_MS);
      this.host?.setFenced(undefined);
      this.armFence();
    } catch {
      this.reachable = false;
      if (Date.now() >= this.lastRenewSent + this.ttlMs - FENCE_MARGIN_MS) await this.checkPeers();
    } finally {
      this.renewing = false;
    }
  }

  /**
   * The fence must not wait for a renewal call to fail: against a peer that
   * swallows packets (a partition) the call hangs until its own deadline, by
   * when the controller may have given the slots away. So a timer is armed
   * from each acknowledged renewal's send time, early enough for the peer
   * check to finish within the margin.
   */
  private armFence(): void {
    if (this.fenceTimer) clearTimeout(this.fenceTimer);
    const due = this.lastRenewSent + this.ttlMs - FENCE_MARGIN_MS - PEER_CHECK_TIMEOUT_MS - Date.now();
    this.fenceTimer = setTimeout(() => void this.fenceDue(), Math.max(0, due));
    this.fenceTimer.unref();
  }

  private async fenceDue(): Promise<void> {
    if (this.stopped) return;
    this.reachable = false;
    await this.checkPeers();
    // Still no renewal: look again (a majority may stop answering later).
    if (!this.stopped && Date.now() - this.lastRenewSent >= this.ttlMs - FENCE_MARGIN_MS - PEER_CHECK_TIMEOUT_MS) {
      this.fenceTimer = setTimeout(() => void this.fenceDue(), PEER_CHECK_TIMEOUT_MS);
      this.fenceTimer.unref();
    }
  }

  /** Renewals fail: fence unless a majority of the map's nodes answer and none of them reaches the coordinator. */
  private async checkPeers(): Promise<void> {
    const map = this.map;
    const others = (map?.nodes ?? []).filter((n) => n.id !== this.selfId && n.state !== 'failed');
    const renewedBefore = this.lastRenewSent;
    const answers = await Promise.all(others.map((n) => this.askPeer(n.host, n.port)));
    // A renewal acknowledged meanwhile settles it: the lease is good.
    if (this.lastRenewSent !== renewedBefore) return;
    const answered = answers.filter((a) => a !== undefined);
    const someoneReaches = answered.some((a) => a === true);
    const majority = answered.length + 1 > ((others.length + 1) / 2);
    if (someoneReaches || !majority) this.host?.setFenced(`this node cannot reach the coordinator (${this.opts.kind}) while ${someoneReaches ? 'other nodes can' : 'it cannot reach most of the cluster either'}`);
    else {
      // The coordinator is down for everyone: nothing can be reassigned, so serving is safe, for as long
      // as these checks keep confirming it (they run every PEER_CHECK_TIMEOUT_MS while renewals fail).
      this.host?.setServingDeadline(Date.now() + 4 * PEER_CHECK_TIMEOUT_MS);
      this.host?.setFenced(undefined);
    }
  }

  /** Whether a peer reaches the coordinator (undefined when it does not answer in time). */
  private async askPeer(host: string, port: number): Promise<boolean | undefined> {
    const key = `${host}:${port}`;
    let link = this.peerLinks.get(key);
    if (link === undefined) {
      link = new PeerLink({ host, port, protocol: 2, password: this.opts.password(), timeoutMs: PEER_CHECK_TIMEOUT_MS });
      this.peerLinks.set(key, link);
    }
    try {
      const reply = (await link.send(encodeRequest(['CLUSTER', 'COORDINATOR']))).toString();
      // *3 :reachable :leaseAgeMs $kind
      const m = /^\*\d+\r\n:(\d)\r\n/.exec(reply);
      return m === null ? undefined : m[1] === '1';
    } catch {
      return undefined;
    }
  }

  /** Graceful leave: mark the record leaving, wait (bounded) until the controller handed every slot over, then go. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    const owns = () => (this.map?.slotCount(this.selfId) ?? 0) > 0 || (this.map?.moves.some((m) => m.from === this.selfId) ?? false);
    if (this.reachable && this.map?.node(this.selfId) !== undefined) {
      this.record = { ...this.record, state: 'leaving' };
      this.opts.log.info({ slots: this.map.slotCount(this.selfId) }, 'leaving: moving this node\'s slots to the others');
      try {
        await this.putRecord();
        const deadline = Date.now() + LEAVE_TIMEOUT_MS;
        while (Date.now() < deadline && (owns() || this.map?.node(this.selfId) !== undefined)) await new Promise((r) => setTimeout(r, 50));
      } catch (err) {
        this.opts.log.warn({ err: (err as Error).message }, 'could not leave gracefully');
      }
    }
    this.stopped = true;
    if (this.reportTimer) clearInterval(this.reportTimer);
    if (this.timer) clearInterval(this.timer);
    if (this.fenceTimer) clearTimeout(this.fenceTimer);
    if (this.resync) clearInterval(this.resync);
    await this.controller?.stop();
    await this.watch?.cancel().catch(() => {});
    await this.opts.kv.revokeLease(this.lease).catch(() => {});
    for (const l of this.peerLinks.values()) l.close();
    await this.opts.kv.close().catch(() => {});
  }
}
