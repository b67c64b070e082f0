/**
 * The membership seam: a provider gives the node its identity in the cluster
 * and feeds it cluster maps (and, for a lease-based provider, whether it may
 * serve). Static membership (`--peers`) and the coordinator agent (etcd or the
 * embedded store) both implement this one interface; routing only sees maps.
 */
import type { ClusterMap } from '../cluster/cluster-map.js';
import type { MoveProgress } from '../migration/progress.js';

/** What a provider may do to the node it serves. */
export interface MembershipHost {
  /** Applies a map (ignored unless newer); returns once routing follows it. */
  applyMap(map: ClusterMap): void;
  /** Stops (reason) or resumes (undefined) serving this node's slots. */
  setFenced(reason: string | undefined): void;
  /**
   * The node may serve its slots until this time (ms since the epoch) unless
   * told again: a lease-based provider moves it forward with every renewal.
   * Checked on every command, so a node resumed after a pause longer than
   * its lease fences itself before it runs what waited in its sockets,
   * without waiting for a timer.
   */
  setServingDeadline(at: number): void;
  /** The node was removed from the cluster, or must leave: the node process exits. */
  leave(reason: string): void;
  /** What replication reports in the member record: a primary's in-sync replicas, a replica's applied offset. */
  replicationReport?(): { inSync?: string[]; replOffset?: number; handoff?: string };
}

export interface MembershipProvider {
  /** This node's id in the map. */
  readonly selfId: string;
  /** Starts; static membership delivers its map before resolving. */
  start(host: MembershipHost): Promise<void>;
  /** Leaves gracefully where the provider can (hand slots over), within a bounded time. */
  stop(): Promise<void>;
  /** CLUSTER FAILOVER FORCE|TAKEOVER on this replica: asks the controller to promote it. */
  requestFailover?(mode: 'force' | 'takeover'): Promise<void>;
  /** Writes what replicationReport says now, instead of at the next periodic look. */
  reportNow?(): void;
  /** Where a node reports its outgoing moves (a provider without a controller has none). */
  readonly moves?: MoveReporter;
}

/** A move's old owner tells the controller through this. */
export interface MoveReporter {
  /** The copy is complete and the slots' writes are held: the controller may commit the move. */
  ack(moveId: string): Promise<void>;
  /** Progress for status; best effort. */
  progress(p: MoveProgress): Promise<void>;
}
