/**
 * A replica's side of replication: it takes the stream (source.ts) only from
 * the primary its map names, for the run that primary started with SYNC.
 * Anything else is refused with NOTPRIMARY, which is how a deposed primary
 * that wakes from a pause learns it was replaced: its stream is refused by
 * the node that replaced it.
 *
 * Two more guards keep one copy from being fed by two streams at once:
 * - SYNC and CONTINUE name the replica they are for. A node killed and
 *   started again at the same address is a new node (a new id) while the map
 *   may still name the old one; the feed meant for the old id must not reach
 *   it (two full syncs into one store, their entries interleaved, left keys
 *   at older values: acknowledged writes lost in sync mode).
 * - The stream is bound to the connection that began it (SYNC or CONTINUE):
 *   requests still buffered from an earlier connection of the same run are
 *   refused, so they cannot land after the newer ones the backlog resent.
 */
import type { ClusterMap } from '../cluster/cluster-map.js';
import { CommandError } from '../commands/errors.js';
import { Pieces, storeEntry } from '../migration/entry.js';
import { KIND_STRING } from '../migration/wire.js';
import type { Clock } from '../store/clock.js';
import type { Key, Keyspace } from '../store/keyspace.js';

export interface SinkHost {
  readonly store: Keyspace;
  readonly clock: Clock;
  readonly selfId: string;
  map(): ClusterMap | undefined;
  /** The replica's copy became complete (SYNCED) or stopped being so. */
  onlineChanged(online: boolean): void;
}

export class ReplicaSink {
  /** The primary whose run this replica follows ('' when none). */
  primary = '';
  private run = '';
  /** The stream offset applied. */
  offset = 0;
  online = false;
  private readonly pieces = new Pieces();
  syncs = 0;
  keysApplied = 0;
  lastApplyAt = 0;

  constructor(private readonly host: SinkHost) {}

  /** The connection (session id) the stream came on; -1 before any. */
  private link = -1;

  /** REPL SYNC: a primary starts a full sync; it must be the primary this node's map names, and this node the replica meant. */
  sync(primaryId: string, replicaId: string, epoch: number, runId: string, offset: number, link: number): void {
    this.checkIdentity(replicaId);
    const map = this.host.map();
    const self = map?.node(this.host.selfId);
    if (map === undefined || map.epoch < epoch) throw new CommandError(`TRYAGAIN this node's map (epoch ${map?.epoch ?? 0}) is older than the primary's (${epoch})`);
    if (self?.role !== 'replica' || self.primary !== primaryId) throw new CommandError(`NOTPRIMARY at epoch ${map.epoch} this node is not a replica of ${primaryId}`);
    this.host.store.flush();
    this.pieces.clear();
    this.primary = primaryId;
    this.run = runId;
    this.link = link;
    this.offset = offset;
    this.syncs++;
    this.setOnline(false);
  }

  /** REPL CONTINUE: the primary whose run this replica follows reconnects; answers the offset applied (a complete copy only). */
  resume(primaryId: string, replicaId: string, epoch: number, runId: string, link: number): number {
    this.checkIdentity(replicaId);
    const map = this.host.map();
    if (map === undefined || map.epoch < epoch) throw new CommandError(`TRYAGAIN this node's map (epoch ${map?.epoch ?? 0}) is older than the primary's (${epoch})`);
    const self = map.node(this.host.selfId);
    if (self?.role !== 'replica' || self.primary !== primaryId) throw new CommandError(`NOTPRIMARY at epoch ${map.epoch} this node is not a replica of ${primaryId}`);
    if (runId !== this.run || !this.online) throw new CommandError('FULLSYNC this node does not hold a complete copy of that run');
    this.link = link;
    return this.offset;
  }

  private checkIdentity(replicaId: string): void {
    if (replicaId !== this.host.selfId) throw new CommandError(`NOTREPLICA this is node ${this.host.selfId}, not ${replicaId} (a node started again at the same address is a new node)`);
  }

  private check(runId: string, link: number): void {
    if (runId !== this.run || this.run === '') throw new CommandError('NOTPRIMARY this node follows no such replication run (its primary changed, or it was never synced)');
    if (link !== this.link) throw new CommandError('NOTPRIMARY this stream continues on a newer connection');
  }

  /** One entry of REPL PUT; the value is the bytes [vs, ve) of vb. */
  put(runId: string, link: number, key: Key, expireAt: number, kind: string, vb: Buffer, vs: number, ve: number): void {
    this.check(runId, link);
    this.pieces.forget(key);
    storeEntry(this.host.store, this.host.clock, key, expireAt, kind, vb, vs, ve);
    this.keysApplied++;
  }

  part(runId: string, link: number, key: Key, expireAt: number, total: number, at: number, bytes: Buffer): void {
    this.check(runId, link);
    const whole = this.pieces.add(key, expireAt, total, at, bytes, 'the replication stream');
    if (whole !== undefined) this.put(runId, link, key, whole.expireAt, KIND_STRING, whole.value, 0, total);
  }

  flushAll(runId: string, link: number): void {
    this.check(runId, link);
    this.host.store.flush();
  }

  synced(runId: string, link: number): void {
    this.check(runId, link);
    this.setOnline(true);
  }

  /** A request applied: its offset is the stream's offset after it. */
  advance(runId: string, link: number, offset: number): number {
    this.check(runId, link);
    if (offset > this.offset) this.offset = offset;
    this.lastApplyAt = this.host.clock.now();
    return this.offset;
  }

  /** The map changed: a replica whose primary changed (or which is no longer a replica) forgets its run. */
  onMap(map: ClusterMap): void {
    const self = map.node(this.host.selfId);
    const primary = self?.role === 'replica' ? self.primary! : '';
    if (primary === this.primary && primary !== '') return;
    this.primary = primary;
    this.run = '';
    this.link = -1;
    this.pieces.clear();
    this.setOnline(false);
  }

  private setOnline(online: boolean): void {
    if (online === this.online) return;
    this.online = online;
    this.host.onlineChanged(online);
  }
}
