/** The ringcache client: `import { RingCache } from 'ringcache/client'` (also exported by 'ringcache'). */
export {
  RingCache,
  type CallOptions, type CommandEvent, type Key, type MetricsHooks, type RingCacheEvents, type RingCacheOptions, type SetOptions,
  type TopologyChange, type Value,
} from './ring-cache.js';
export {
  ClientClosedError, ClusterDownError, ConnectionClosedError, InvalidArgumentError, LoaderError, QueueFullError, RedirectLoopError,
  ReplyError, RingCacheError, TimeoutError,
} from './errors.js';
export type { GetOrSetOptions } from './cache-aside.js';
export { jsonSerializer, type Serializer } from './serializer.js';
export {
  ClusterTopologySource, parseClusterShards, parseClusterSlots, standaloneTopology,
  type NodeAddress, type NodeQuery, type Shard, type TopologySnapshot, type TopologySource,
} from './topology.js';
export type { Arg, Reply } from './resp.js';
export type { Connector, Transport } from './connection.js';
