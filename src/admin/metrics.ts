/**
 * The node's Prometheus metrics, read at scrape time from what the node
 * already counts (the INFO snapshot, the per-command stats, the cluster map,
 * replication): nothing on the command path is added for them. prom-client
 * owns the registry, the text format and the process metrics (CPU, heap, GC,
 * event-loop lag); each ringcache metric is a small object whose get() reads
 * the source, so a scrape costs one snapshot.
 */
import { Registry, collectDefaultMetrics } from 'prom-client';
import { LATENCY_BUCKETS_S, type CommandStat } from '../commands/command-stats.js';
import type { InfoSnapshot } from '../server/info.js';
import type { ReplicationStatus } from '../replication/manager.js';

/** What the metrics read: the node, behind one seam. */
export interface MetricsSource {
  snapshot(): InfoSnapshot;
  commandStats(): CommandStat[];
  /** This node in its cluster map (undefined: not a coordinated member). */
  cluster(): { epoch: number; slotsOwned: number; fenced: boolean; role: 'primary' | 'replica' } | undefined;
  replication(): ReplicationStatus | undefined;
}

type Labels = Record<string, string | number>;
interface Sample {
  value: number;
  labels?: Labels;
  metricName?: string;
}

/** The shape prom-client's Registry reads from a metric (registerMetric / get). */
interface ReadMetric {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  aggregator: 'sum';
  get(): { name: string; help: string; type: string; aggregator: 'sum'; values: Sample[] };
  reset(): void;
}

function metric(name: string, help: string, type: ReadMetric['type'], read: () => Sample[]): ReadMetric {
  return {
    name,
    help,
    type,
    aggregator: 'sum',
    get: () => ({ name, help, type, aggregator: 'sum', values: read() }),
    reset: () => {},
  };
}

/** The scrape's snapshot, taken once per scrape and shared by every metric read in it. */
class PerScrape<T> {
  private value: T | undefined;
  private at = -1;
  constructor(private readonly read: () => T) {}
  get(): T {
    // One scrape reads every metric within the same tick: a tick-old value is this scrape's.
    const now = performance.now();
    if (this.value === undefined || now - this.at > 5) {
      this.value = this.read();
      this.at = now;
    }
    return this.value;
  }
}

export function nodeMetrics(source: MetricsSource): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'ringcache_' });
  const snap = new PerScrape(() => source.snapshot());
  const commands = new PerScrape(() => source.commandStats());
  const one = (value: number): Sample[] => [{ value }];
  const add = (m: ReadMetric): void => registry.registerMetric(m as never);

  add(metric('ringcache_commands_total', 'Commands run, by command (INFO commandstats calls).', 'counter', () => commands.get().map((c) => ({ value: c.calls, labels: { command: c.name } }))));
  add(
    metric('ringcache_command_errors_total', 'Commands that failed (replied with an error while running) or were rejected (refused before running: arity, auth, OOM, MOVED...), by command.', 'counter', () =>
      commands.get().flatMap((c) => [
        { value: c.failed, labels: { command: c.name, kind: 'failed' } },
        { value: c.rejected, labels: { command: c.name, kind: 'rejected' } },
      ]),
    ),
  );
  add(
    metric('ringcache_command_duration_seconds', 'Time inside the command handler, by command (the reply\'s write to the socket excluded).', 'histogram', () => {
      const out: Sample[] = [];
      for (const c of commands.get()) {
        let cumulative = 0;
        LATENCY_BUCKETS_S.forEach((le, b) => {
          cumulative += c.buckets[b]!;
          out.push({ metricName: 'ringcache_command_duration_seconds_bucket', value: cumulative, labels: { command: c.name, le } });
        });
        out.push({ metricName: 'ringcache_command_duration_seconds_bucket', value: c.calls, labels: { command: c.name, le: '+Inf' } });
        out.push({ metricName: 'ringcache_command_duration_seconds_sum', value: c.usec / 1e6, labels: { command: c.name } });
        out.push({ metricName: 'ringcache_command_duration_seconds_count', value: c.calls, labels: { command: c.name } });
      }
      return out;
    }),
  );
  add(metric('ringcache_keyspace_hits_total', 'Key lookups that found the key.', 'counter', () => one(snap.get().hits)));
  add(metric('ringcache_keyspace_misses_total', 'Key lookups that did not.', 'counter', () => one(snap.get().misses)));
  add(metric('ringcache_evicted_keys_total', 'Keys evicted by the maxmemory policy.', 'counter', () => one(snap.get().evictedKeys)));
  add(metric('ringcache_expired_keys_total', 'Keys deleted at their expiry.', 'counter', () => one(snap.get().expiredKeys)));
  add(metric('ringcache_keys', 'Keys held.', 'gauge', () => one(snap.get().keys)));
  add(metric('ringcache_keys_with_expiry', 'Keys held that have a TTL.', 'gauge', () => one(snap.get().expires)));
  add(metric('ringcache_used_memory_bytes', 'Memory used by the data (INFO used_memory).', 'gauge', () => one(snap.get().usedMemory)));
  add(metric('ringcache_maxmemory_bytes', 'The maxmemory limit (0: none).', 'gauge', () => one(snap.get().maxmemory)));
  add(metric('ringcache_rss_bytes', 'Resident set size of the process.', 'gauge', () => one(snap.get().rss)));
  add(metric('ringcache_connected_clients', 'Client connections open.', 'gauge', () => one(snap.get().connectedClients)));
  add(metric('ringcache_blocked_clients', 'Clients waiting in a blocking command.', 'gauge', () => one(snap.get().blockedClients)));
  add(metric('ringcache_connections_received_total', 'Client connections accepted.', 'counter', () => one(snap.get().connectionsReceived)));
  add(metric('ringcache_rejected_connections_total', 'Connections refused at maxclients.', 'counter', () => one(snap.get().rejectedConnections)));
  add(metric('ringcache_net_input_bytes_total', 'Bytes read from clients.', 'counter', () => one(snap.get().netInputBytes)));
  add(metric('ringcache_net_output_bytes_total', 'Bytes written to clients.', 'counter', () => one(snap.get().netOutputBytes)));
  add(metric('ringcache_event_loop_delay_p99_seconds', 'p99 of the event loop\'s delay since start or CONFIG RESETSTAT.', 'gauge', () => one(snap.get().eventLoopDelayP99 / 1000)));
  add(metric('ringcache_event_loop_delay_max_seconds', 'Longest event-loop delay since start or CONFIG RESETSTAT.', 'gauge', () => one(snap.get().eventLoopDelayMax / 1000)));
  add(metric('ringcache_pubsub_messages_delivered_total', 'Pub/sub messages written to subscribers.', 'counter', () => one(snap.get().pubsub?.delivered ?? 0)));
  add(metric('ringcache_pubsub_fanout_dropped_total', 'PUBLISH messages not delivered to another cluster node (its link over its bound).', 'counter', () => one(snap.get().pubsub?.fanoutDropped ?? 0)));
  add(metric('ringcache_tracking_invalidations_total', 'CLIENT TRACKING invalidation messages sent.', 'counter', () => one(snap.get().tracking?.invalidations ?? 0)));

  add(metric('ringcache_cluster_epoch', 'The version of the cluster map this node applied (0: not a coordinated member).', 'gauge', () => one(source.cluster()?.epoch ?? 0)));
  add(metric('ringcache_cluster_slots_owned', 'Slots this node owns in its map.', 'gauge', () => one(source.cluster()?.slotsOwned ?? 0)));
  add(metric('ringcache_cluster_fenced', '1 while this node refuses to serve (its lease may have expired).', 'gauge', () => one(source.cluster()?.fenced === true ? 1 : 0)));
  add(metric('ringcache_cluster_role', 'This node\'s role: 1 for the role it has.', 'gauge', () => {
    const c = source.cluster();
    return c === undefined ? [] : (['primary', 'replica'] as const).map((r) => ({ value: c.role === r ? 1 : 0, labels: { role: r } }));
  }));

  add(metric('ringcache_migration_keys_sent_total', 'Keys sent to other nodes by slot moves.', 'counter', () => one(snap.get().migration?.keysSent ?? 0)));
  add(metric('ringcache_migration_keys_received_total', 'Keys received from other nodes by slot moves.', 'counter', () => one(snap.get().migration?.keysReceived ?? 0)));
  add(metric('ringcache_migration_moves_in_progress', 'Slot moves under way, by direction.', 'gauge', () => {
    const m = snap.get().migration;
    return [
      { value: m?.outgoing ?? 0, labels: { direction: 'outgoing' } },
      { value: m?.incoming ?? 0, labels: { direction: 'incoming' } },
    ];
  }));
  add(metric('ringcache_migration_last_pause_seconds', 'How long the last move held its slots\' commands.', 'gauge', () => one((snap.get().migration?.lastPauseMs ?? 0) / 1000)));

  add(metric('ringcache_replication_offset_bytes', 'Replication stream offset: streamed (primary) or applied (replica).', 'gauge', () => {
    const r = source.replication();
    return r === undefined ? [] : one(r.offset);
  }));
  add(metric('ringcache_replica_acked_offset_bytes', 'On a primary: the offset each replica confirmed.', 'gauge', () => (source.replication()?.replicas ?? []).map((f) => ({ value: f.acked, labels: { replica: `${f.host}:${f.port}` } }))));
  add(metric('ringcache_replica_lag_seconds', 'On a primary: how long each replica\'s oldest unanswered request has waited.', 'gauge', () => (source.replication()?.replicas ?? []).map((f) => ({ value: f.lagMs / 1000, labels: { replica: `${f.host}:${f.port}` } }))));
  add(metric('ringcache_replication_full_syncs_total', 'Full syncs: served to replicas (primary) or received (replica).', 'counter', () => {
    const r = source.replication();
    return r === undefined ? [] : one(r.role === 'master' ? r.resyncs.full : r.syncs);
  }));
  add(metric('ringcache_replication_partial_syncs_total', 'On a primary: reconnects resumed from the backlog.', 'counter', () => {
    const r = source.replication();
    return r === undefined || r.role !== 'master' ? [] : one(r.resyncs.partial);
  }));
  return registry;
}
