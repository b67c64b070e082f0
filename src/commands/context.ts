/**
 * What a command handler sees: the reply writer, the keyspace, the calling
 * client's session, and the node's services. Handlers are plain functions of
 * (context, argv); the server builds the context, tests can build one by hand.
 */
import type { ReplicationManager } from '../replication/manager.js';
import type { MoveImports } from '../migration/imports.js';
import type { Argv } from '../protocol/argv.js';
import type { ReplyWriter, Protocol } from '../protocol/writer.js';
import type { Clock } from '../store/clock.js';
import type { Keyspace } from '../store/keyspace.js';
import type { MapNode } from '../cluster/cluster-map.js';
import type { ClusterState } from '../cluster/cluster-state.js';
import type { SplitPart } from '../cluster/split.js';
import type { Transaction } from './transactions.js';
import type { ClientPubsub, PubsubHub } from '../pubsub/hub.js';
import type { ClientTracking, Tracker } from '../tracking/tracker.js';

/** Per-connection state that commands read and change. */
export interface Session {
  readonly id: number;
  name: string;
  libName: string;
  libVersion: string;
  protocol: Protocol;
  authenticated: boolean;
  /** Set by QUIT and CLIENT KILL of oneself: close once the pending replies are written. */
  closeAfterReply: boolean;
  /** Wrong passwords (AUTH, HELLO AUTH) in a row; past AUTH_FAILURES_BEFORE_CLOSE the connection is closed. */
  authFailures?: number;
  /** MULTI and WATCH state (transactions.ts), made on the client's first MULTI or WATCH. */
  tx?: Transaction;
  /** READONLY: on a replica, reads of its primary's slots are answered here (READWRITE clears it). */
  readFromReplica?: boolean;
  /** The replication offset after this client's last write on a primary (what WAIT waits for). */
  lastWriteOffset?: number;
  /** Pub/sub subscriptions (src/pubsub), made on the client's first (P|S)SUBSCRIBE. */
  pubsub?: ClientPubsub;
  /** EXEC is running this client's queued commands (Redis's CLIENT_DENY_BLOCKING, for what cares). */
  execing?: boolean;
  /** CLIENT TRACKING state, made on the client's first CLIENT TRACKING ON. */
  tracking?: ClientTracking;
}

/** One runtime setting, as CONFIG GET/SET see it. */
export interface ConfigParam {
  readonly name: string;
  get(): string;
  /** Absent for read-only settings. Throws a CommandError for an invalid value. */
  set?(value: string): void;
}

export interface ClientInfo {
  id: number;
  /** The CLIENT LIST line of this client. */
  describe(): string;
  kill(): void;
  readonly addr: string;
  readonly laddr: string;
}

/** The node-wide services commands may use beyond the keyspace. */
export interface NodeServices {
  readonly config: ReadonlyMap<string, ConfigParam>;
  readonly requirepass: () => string;
  /** The INFO text for the given lower-case section names (empty: the default sections). */
  info(sections: string[]): string;
  clients(): Iterable<ClientInfo>;
  resetStats(): void;
  shutdown(): void;
  readonly version: string;
  readonly runId: string;
  /** CLIENT TRACKING (src/tracking/tracker.ts); undefined where the node has none (tests' hand-made contexts). */
  readonly tracker?: Tracker;
  /** The cluster as this node sees it, or undefined on a standalone node. */
  cluster(): ClusterState | undefined;
  /** What the node knows of its coordinator, for CLUSTER INFO and status (undefined: static membership). */
  coordinator?(): CoordinatorStatus | undefined;
  /** The moves this node receives (undefined unless it is a coordinated cluster member). */
  migration?(): MoveImports | undefined;
  /** This node's replication (undefined unless it is a coordinated cluster member). */
  replication?(): ReplicationManager | undefined;
  /** CLUSTER FAILOVER on this replica: resolves once the request is taken (the failover itself follows). */
  failover?(mode: 'default' | 'force' | 'takeover'): Promise<void>;
  /** The node's pub/sub (absent in harnesses: hubOf() makes one per services object). */
  readonly pubsub?: PubsubHub;
}

export interface CommandContext {
  readonly out: ReplyWriter;
  readonly store: Keyspace;
  readonly session: Session;
  readonly node: NodeServices;
  readonly clock: Clock;
  /**
   * Proxy mode: sends the command to the node that owns its slot; the reply
   * takes this command's place in the connection's reply order.
   */
  readonly forward?: (node: MapNode, argv: Argv) => void;
  /** Proxy mode: runs a multi-key command as one sub-command per owner and combines the replies. */
  readonly forwardSplit?: (name: string, parts: SplitPart[]) => void;
  /**
   * Runs the command again once `until` settles (its slot is being handed to
   * this node); the reply keeps this command's place in the reply order.
   */
  readonly defer?: (argv: Argv, until: Promise<void>) => void;
  /**
   * A blocking command that must wait (blocking.ts): the reply takes this
   * command's place once `reply` settles, and the client's later commands run
   * only then. False where the client cannot wait (inside EXEC): the command
   * then answers as on a timeout.
   */
  readonly block?: (reply: Promise<Buffer>) => boolean;
  /**
   * Writes a complete frame (a pub/sub message, an invalidation) to this
   * client out of band of its replies; absent where nobody can be reached later.
   */
  readonly push?: (frame: Buffer) => void;
}

export interface CoordinatorStatus {
  /** 'etcd' or 'embedded'. */
  readonly kind: string;
  readonly reachable: boolean;
  /** ms since the lease was last renewed. */
  readonly leaseAgeMs: number;
  readonly controller: string;
}

export type Handler = (ctx: CommandContext, argv: Argv) => void;
