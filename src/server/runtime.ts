/** What a connection needs from the node that owns it. */
import type { Logger } from 'pino';
import type { NodeServices } from '../commands/context.js';
import type { Dispatcher } from '../commands/dispatch.js';
import type { ReplyWriter } from '../protocol/writer.js';
import type { Clock } from '../store/clock.js';
import type { Keyspace } from '../store/keyspace.js';
import type { NodeConfig } from './config.js';
import type { Connection } from './connection.js';
import type { PeerPool } from '../cluster/peer-pool.js';
import type { TurnBudget } from './turn-budget.js';
import type { SyncBarrier } from '../replication/source.js';

export interface NodeStats {
  connectionsReceived: number;
  rejectedConnections: number;
  netInputBytes: number;
  netOutputBytes: number;
}

export interface NodeRuntime {
  readonly config: NodeConfig;
  readonly writer: ReplyWriter;
  readonly store: Keyspace;
  readonly services: NodeServices;
  readonly clock: Clock;
  readonly dispatcher: Dispatcher;
  readonly stats: NodeStats;
  readonly log: Logger;
  /** How long one event-loop turn may spend on client input. */
  readonly turn: TurnBudget;
  /** Connections to other nodes, for proxy mode. */
  readonly peers: PeerPool;
  /** Sync mode on a primary: replies to writes wait until the in-sync replicas confirm them (null otherwise). */
  readonly syncBarrier: SyncBarrier | null;
  /** Called once when a connection has closed. */
  forget(conn: Connection): void;
}
