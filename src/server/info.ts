/**
 * The INFO text, with Redis's section and field names so that tools which parse
 * INFO (ioredis's ready check, redis-cli, exporters) read it as they read Redis's.
 * Pure: the node passes in a snapshot of what it reports.
 */
import { humanBytes } from './config.js';

export interface InfoSnapshot {
  version: string;
  redisVersion: string;
  runId: string;
  port: number;
  pid: number;
  startedAt: number;
  now: number;
  hz: number;
  executable: string;
  connectedClients: number;
  maxclients: number;
  /** Clients waiting in a blocking command (BLPOP...). */
  blockedClients: number;
  usedMemory: number;
  usedMemoryPeak: number;
  rss: number;
  maxmemory: number;
  maxmemoryPolicy: string;
  connectionsReceived: number;
  commandsProcessed: number;
  opsPerSec: number;
  netInputBytes: number;
  netOutputBytes: number;
  rejectedConnections: number;
  expiredKeys: number;
  evictedKeys: number;
  hits: number;
  misses: number;
  keys: number;
  expires: number;
  cpuUser: number;
  cpuSys: number;
  clusterEnabled: boolean;
  /** Redis's INFO replication fields, in its order (absent: a standalone node, a master with no replicas). */
  replication?: Array<[string, string | number]>;
  /** Slot moves, when this node is a coordinated cluster member (INFO cluster). */
  migration?: {
    /** 'warm': moves copy the slots' keys (cold: they start empty on the new owner). */
    mode: 'warm';
    outgoing: number;
    incoming: number;
    keysSent: number;
    keysReceived: number;
    movesStarted: number;
    movesAcknowledged: number;
    lastHandoverMs: number;
    lastPauseMs: number;
    maxPauseMs: number;
    /** One line per outgoing move: id, phase, slots, keys sent of total, bytes, rate. */
    moves: string[];
  };
  /** Event-loop delay since start or CONFIG RESETSTAT, in ms (perf_hooks.monitorEventLoopDelay). */
  eventLoopDelayP99: number;
  eventLoopDelayMax: number;
  /** Event-loop turns in which client input ran over the turn budget and the rest waited for a later turn. */
  inputTurnsOverBudget: number;
  /** Pub/sub: active channels, patterns and shard channels; messages delivered; cluster fan-out messages lost. */
  pubsub?: { channels: number; patterns: number; shardChannels: number; delivered: number; fanoutDropped: number };
  /** CLIENT TRACKING: clients with it on; keys, key-client items and BCAST prefixes remembered; invalidation messages sent. */
  tracking?: { clients: number; keys: number; items: number; prefixes: number; invalidations: number };
}

const DEFAULT_SECTIONS = ['server', 'clients', 'memory', 'persistence', 'stats', 'replication', 'cpu', 'cluster', 'keyspace'];

export function infoText(requested: string[], s: InfoSnapshot): string {
  const all = requested.length === 0 || requested.some((r) => r === 'all' || r === 'everything' || r === 'default');
  const sections = all ? DEFAULT_SECTIONS : requested.filter((r) => DEFAULT_SECTIONS.includes(r));
  const uptime = Math.floor((s.now - s.startedAt) / 1000);
  const body: Record<string, Array<[string, string | number]>> = {
    server: [
      ['redis_version', s.redisVersion],
      ['ringcache_version', s.version],
      ['redis_mode', s.clusterEnabled ? 'cluster' : 'standalone'],
      ['os', `${process.platform} ${process.arch}`],
      ['arch_bits', 64],
      ['multiplexing_api', 'libuv'],
      ['process_id', s.pid],
      ['run_id', s.runId],
      ['tcp_port', s.port],
      ['server_time_usec', s.now * 1000],
      ['uptime_in_seconds', uptime],
      ['uptime_in_days', Math.floor(uptime / 86400)],
      ['hz', s.hz],
      ['executable', s.executable],
      ['config_file', ''],
    ],
    clients: [
      ['connected_clients', s.connectedClients],
      ['maxclients', s.maxclients],
      ['blocked_clients', s.blockedClients],
      ...(s.tracking === undefined ? [] : ([['tracking_clients', s.tracking.clients]] as Array<[string, number]>)),
    ],
    memory: [
      ['used_memory', s.usedMemory],
      ['used_memory_human', humanBytes(s.usedMemory)],
      ['used_memory_rss', s.rss],
      ['used_memory_rss_human', humanBytes(s.rss)],
      ['used_memory_peak', s.usedMemoryPeak],
      ['used_memory_peak_human', humanBytes(s.usedMemoryPeak)],
      ['maxmemory', s.maxmemory],
      ['maxmemory_human', humanBytes(s.maxmemory)],
      ['maxmemory_policy', s.maxmemoryPolicy],
      ['mem_fragmentation_ratio', s.usedMemory > 0 ? (s.rss / s.usedMemory).toFixed(2) : '0.00'],
      ['mem_allocator', 'v8'],
    ],
    persistence: [
      ['loading', 0],
      ['rdb_changes_since_last_save', 0],
      ['rdb_bgsave_in_progress', 0],
      ['aof_enabled', 0],
    ],
    stats: [
      ['total_connections_received', s.connectionsReceived],
      ['total_commands_processed', s.commandsProcessed],
      ['instantaneous_ops_per_sec', s.opsPerSec],
      ['total_net_input_bytes', s.netInputBytes],
      ['total_net_output_bytes', s.netOutputBytes],
      ['rejected_connections', s.rejectedConnections],
      ['expired_keys', s.expiredKeys],
      ['evicted_keys', s.evictedKeys],
      ['keyspace_hits', s.hits],
      ['keyspace_misses', s.misses],
      ...(s.pubsub === undefined ? [] : ([
        ['pubsub_channels', s.pubsub.channels],
        ['pubsub_patterns', s.pubsub.patterns],
        ['pubsubshard_channels', s.pubsub.shardChannels],
        ['pubsub_messages_delivered', s.pubsub.delivered],
        ['pubsub_fanout_dropped', s.pubsub.fanoutDropped],
      ] as Array<[string, number]>)),
      ...(s.tracking === undefined ? [] : ([
        ['tracking_total_keys', s.tracking.keys],
        ['tracking_total_items', s.tracking.items],
        ['tracking_total_prefixes', s.tracking.prefixes],
        ['tracking_invalidations_sent', s.tracking.invalidations],
      ] as Array<[string, number]>)),
      ['eventloop_delay_p99_ms', s.eventLoopDelayP99.toFixed(3)],
      ['eventloop_delay_max_ms', s.eventLoopDelayMax.toFixed(3)],
      ['input_turns_over_budget', s.inputTurnsOverBudget],
    ],
    replication: s.replication ?? [
      ['role', 'master'],
      ['connected_slaves', 0],
    ],
    cpu: [
      ['used_cpu_sys', s.cpuSys.toFixed(6)],
      ['used_cpu_user', s.cpuUser.toFixed(6)],
    ],
    cluster: [
      ['cluster_enabled', s.clusterEnabled ? 1 : 0],
      ...(s.migration === undefined ? [] : [
        ['cluster_migration', s.migration.mode],
        ['migrations_outgoing', s.migration.outgoing],
        ['migrations_incoming', s.migration.incoming],
        ['migrations_started', s.migration.movesStarted],
        ['migrations_acknowledged', s.migration.movesAcknowledged],
        ['migration_keys_sent', s.migration.keysSent],
        ['migration_keys_received', s.migration.keysReceived],
        ['migration_last_handover_ms', s.migration.lastHandoverMs.toFixed(1)],
        ['migration_last_pause_ms', s.migration.lastPauseMs.toFixed(1)],
        ['migration_max_pause_ms', s.migration.maxPauseMs.toFixed(1)],
        ...s.migration.moves.map((m, i): [string, string] => [`migration${i}`, m]),
      ] as Array<[string, string | number]>),
    ],
    keyspace: s.keys > 0 ? [['db0', `keys=${s.keys},expires=${s.expires},avg_ttl=0`]] : [],
  };
  const out: string[] = [];
  for (const name of sections) {
    if (out.length > 0) out.push('');
    out.push(`# ${name[0]!.toUpperCase()}${name.slice(1)}`);
    for (const [k, v] of body[name]!) out.push(`${k}:${v}`);
  }
  return out.length === 0 ? '' : out.join('\r\n') + '\r\n';
}
