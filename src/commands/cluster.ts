/** Redis Cluster commands: CLUSTER SLOTS/SHARDS/NODES/INFO/..., READONLY, READWRITE, ASKING. */
import { keySlot } from '../cluster/key-slot.js';
import type { ClusterMap, MapNode } from '../cluster/cluster-map.js';
import type { ClusterState } from '../cluster/cluster-state.js';
import type { Argv } from '../protocol/argv.js';
import { OK } from '../protocol/writer.js';
import type { CommandContext } from './context.js';
import { CommandError } from './errors.js';
import { argSafeInt } from './numbers.js';
import { command, subcommandDispatcher, type CommandSpec } from './table.js';

function state(ctx: CommandContext): ClusterState {
  const v = ctx.node.cluster();
  if (v === undefined) throw new CommandError('ERR This instance has cluster support disabled');
  return v;
}

function map(ctx: CommandContext): ClusterMap {
  const m = state(ctx).map;
  if (m === undefined) throw new CommandError('CLUSTERDOWN this node has no cluster map yet');
  return m;
}

/**
 * The map to hand a client for routing. A fenced node (cut off from the
 * coordinator) knows its map may already be stale, and that map still names
 * it the owner of slots it will not serve: handing it out sends a client's
 * refresh straight back here until the node exits. An error makes ioredis,
 * node-redis and our client ask the next node instead. CLUSTER NODES and INFO
 * still answer, for people and tools looking at this node.
 */
function routingMap(ctx: CommandContext): ClusterMap {
  const s = state(ctx);
  if (s.fenced !== undefined) throw new CommandError(`CLUSTERDOWN ${s.fenced}: its map may be stale, ask another node`);
  return map(ctx);
}

function writeNode(ctx: CommandContext, n: MapNode): void {
  ctx.out.array(3);
  ctx.out.bulkText(n.host);
  ctx.out.integer(n.port);
  ctx.out.bulkText(n.id);
}

/** Each range with its primary, then the primary's live replicas (what ioredis scaleReads and node-redis replica reads use). */
function slots(ctx: CommandContext): void {
  const m = routingMap(ctx);
  const ranges = m.ranges();
  ctx.out.array(ranges.length);
  for (const r of ranges) {
    const replicas = m.replicasOf(r.node.id);
    ctx.out.array(3 + replicas.length);
    ctx.out.integer(r.start);
    ctx.out.integer(r.end);
    writeNode(ctx, r.node);
    for (const n of replicas) writeNode(ctx, n);
  }
}

/** A replica's offset as this node knows it: its own, or (on its primary) what it confirmed. */
function offsetOf(ctx: CommandContext, n: MapNode): number {
  const r = ctx.node.replication?.()?.status();
  if (r === undefined) return 0;
  if (n.id === state(ctx).selfId) return r.offset;
  return r.replicas.find((f) => f.id === n.id)?.acked ?? 0;
}

function health(n: MapNode): string {
  return n.state === 'failed' ? 'failed' : n.state === 'joining' ? 'loading' : 'online';
}

function shards(ctx: CommandContext): void {
  const m = routingMap(ctx);
  const out = ctx.out;
  const primaries = m.primaries();
  out.array(primaries.length);
  for (const n of primaries) {
    const ranges = m.rangesOf(n.id);
    const members = [n, ...m.replicasOf(n.id)];
    out.map(2);
    out.bulkText('slots');
    out.array(ranges.length * 2);
    for (const r of ranges) {
      out.integer(r.start);
      out.integer(r.end);
    }
    out.bulkText('nodes');
    out.array(members.length);
    for (const x of members) {
      out.fields([
        ['id', x.id],
        ['port', x.port],
        ['ip', x.host],
        ['endpoint', x.host],
        ['role', x.role === 'primary' ? 'master' : 'replica'],
        ['replication-offset', offsetOf(ctx, x)],
        ['health', x.role === 'replica' && x.synced !== true ? 'loading' : health(x)],
      ]);
    }
  }
}

/**
 * CLUSTER NODES text: one line per node, as redis-cli --cluster and other tools
 * parse it. There is no cluster bus, so the bus port is 0.
 */
export function clusterNodesText(s: ClusterState, m: ClusterMap): string {
  return m.nodes
    .map((n) => {
      const role = n.role === 'primary' ? 'master' : 'slave';
      const flags = [...(n.id === s.selfId ? ['myself'] : []), role, ...(n.state === 'failed' ? ['fail'] : [])].join(',');
      const slots = m.rangesOf(n.id).map((r) => (r.start === r.end ? String(r.start) : `${r.start}-${r.end}`));
      const link = n.state === 'failed' ? 'disconnected' : 'connected';
      const fields = [n.id, `${n.host}:${n.port}@0`, flags, n.role === 'replica' ? n.primary! : '-', '0', '0', String(m.epoch), link, ...slots];
      return fields.join(' ') + '\n';
    })
    .join('');
}

/** CLUSTER INFO's fields, from the map this node holds (also INFO's cluster section). */
export function clusterInfoFields(s: ClusterState): Array<[string, string | number]> {
  const m = s.map;
  const assigned = m?.assignedSlots() ?? 0;
  const failed = m?.failedSlots() ?? 0;
  const ok = assigned === 16384 && failed === 0 && s.fenced === undefined;
  return [
    ['cluster_state', ok ? 'ok' : 'fail'],
    ['cluster_slots_assigned', assigned],
    ['cluster_slots_ok', assigned - failed],
    ['cluster_slots_pfail', 0],
    ['cluster_slots_fail', failed],
    ['cluster_known_nodes', m?.nodes.length ?? 0],
    ['cluster_size', m === undefined ? 0 : new Set(m.ranges().map((r) => r.node.id)).size],
    ['cluster_current_epoch', s.epoch],
    ['cluster_my_epoch', s.epoch],
    ['cluster_stats_messages_sent', 0],
    ['cluster_stats_messages_received', 0],
    ['total_cluster_links_buffer_limit_exceeded', 0],
  ];
}

function info(ctx: CommandContext): void {
  const lines = clusterInfoFields(state(ctx)).map(([k, v]) => `${k}:${v}`);
  ctx.out.verbatim(lines.join('\r\n') + '\r\n');
}

function slotArg(argv: Argv, i: number): number {
  const slot = argSafeInt(argv, i, 'ERR Invalid slot');
  if (slot < 0 || slot >= 16384) throw new CommandError('ERR Invalid slot');
  return slot;
}

/**
 * Up to `limit` keys of one slot. A cluster node's store tracks slots
 * (node.ts builds it with keySlotOf), so this walks that slot only; a store
 * given without slots (embedding, tests) is walked whole: O(keys).
 */
function keysInSlot(ctx: CommandContext, slot: number, limit: number): string[] {
  const out: string[] = [];
  if (limit <= 0) return out;
  const store = ctx.store;
  if (store.slotted) {
    // A call may look at expired keys (collecting them) without visiting them: go on until enough or the slot's end.
    let cursor = 0;
    do cursor = store.scanSlot(slot, cursor, limit - out.length, (k) => out.push(k));
    while (cursor !== 0 && out.length < limit);
    return out;
  }
  for (const k of store.keys()) {
    if (out.length >= limit) break;
    if (keySlot(k) === slot) out.push(k);
  }
  return out;
}

/** Keys in one slot: O(1) on a store that tracks slots (which may count keys whose TTL passed but are not yet collected, as Redis does). */
function countInSlot(ctx: CommandContext, slot: number): number {
  return ctx.store.slotted ? ctx.store.countInSlot(slot) : keysInSlot(ctx, slot, Infinity).length;
}

const group = 'cluster';

const subcommands: CommandSpec[] = [
  command({ name: 'cluster|slots', arity: 2, flags: ['stale'], group, summary: 'Returns the mapping of cluster slots to nodes.', since: '3.0.0', handler: slots }),
  command({ name: 'cluster|shards', arity: 2, flags: ['stale'], group, summary: 'Returns the mapping of cluster slots to shards.', since: '7.0.0', handler: shards }),
  command({ name: 'cluster|nodes', arity: 2, flags: ['stale'], group, summary: 'Returns the cluster configuration for a node.', since: '3.0.0', handler: (ctx) => ctx.out.verbatim(clusterNodesText(state(ctx), map(ctx))) }),
  command({ name: 'cluster|info', arity: 2, flags: ['stale'], group, summary: 'Returns information about the state of a node.', since: '3.0.0', handler: info }),
  command({ name: 'cluster|myid', arity: 2, flags: ['stale'], group, summary: 'Returns the ID of a node.', since: '3.0.0', handler: (ctx) => ctx.out.bulkText(state(ctx).selfId) }),
  command({ name: 'cluster|coordinator', arity: 2, flags: ['stale'], group, summary: 'ringcache: whether this node reaches its coordinator (reachable, ms since its lease was renewed, kind).', since: '0.1.0', handler: (ctx) => {
    state(ctx);
    const c = ctx.node.coordinator?.();
    ctx.out.array(3);
    ctx.out.integer(c === undefined ? 0 : c.reachable ? 1 : 0);
    ctx.out.integer(c?.leaseAgeMs ?? -1);
    ctx.out.bulkText(c?.kind ?? 'static');
  } }),
  command({ name: 'cluster|failover', arity: -2, flags: ['admin', 'stale'], group, summary: 'Forces a replica to perform a manual failover of its master.', since: '3.0.0', handler: (ctx, argv) => {
    const s = state(ctx);
    if (argv.length > 3) throw new CommandError('ERR syntax error');
    const option = argv.length === 3 ? argv.str(2).toLowerCase() : 'default';
    if (option !== 'default' && option !== 'force' && option !== 'takeover') throw new CommandError('ERR syntax error');
    if (s.self?.role !== 'replica' || ctx.node.failover === undefined) throw new CommandError('ERR You should send CLUSTER FAILOVER to a replica');
    const reply = ctx.node.failover(option).then(() => OK, (err: Error) => Buffer.from(`-${err.message.replace(/^-/, '').replace(/[\r\n]+/g, ' ')}\r\n`));
    if (ctx.block === undefined || !ctx.block(reply)) throw new CommandError('ERR CLUSTER FAILOVER cannot run here (inside MULTI)');
  } }),
  command({ name: 'cluster|keyslot', arity: 3, flags: ['stale'], group, summary: 'Returns the hash slot for a key.', since: '3.0.0', handler: (ctx, argv) => ctx.out.integer(keySlot(argv.view(2))) }),
  command({ name: 'cluster|countkeysinslot', arity: 3, flags: ['stale'], group, summary: 'Returns the number of keys in a hash slot.', since: '3.0.0', handler: (ctx, argv) => {
    state(ctx);
    ctx.out.integer(countInSlot(ctx, slotArg(argv, 2)));
  } }),
  command({ name: 'cluster|getkeysinslot', arity: 4, flags: ['stale'], group, summary: 'Returns the key names in a hash slot.', since: '3.0.0', handler: (ctx, argv) => {
    state(ctx);
    const slot = slotArg(argv, 2);
    const count = argSafeInt(argv, 3, 'ERR Invalid number of keys');
    if (count < 0) throw new CommandError('ERR Invalid number of keys');
    const keys = keysInSlot(ctx, slot, count);
    ctx.out.array(keys.length);
    for (const k of keys) ctx.out.bulkLatin1(k);
  } }),
];

export const clusterCommands: CommandSpec[] = [
  command({ name: 'cluster', arity: -2, flags: [], group, summary: 'A container for Redis Cluster commands.', since: '3.0.0', subcommands, handler: subcommandDispatcher('cluster', subcommands) }),
  command({ name: 'readonly', arity: 1, flags: ['fast'], group, summary: 'Enables read-only queries for a connection to a Redis Cluster replica node.', since: '3.0.0', handler: (ctx) => {
    state(ctx);
    ctx.session.readFromReplica = true;
    ctx.out.raw(OK);
  } }),
  command({ name: 'readwrite', arity: 1, flags: ['fast'], group, summary: 'Enables read-write queries for a connection to a Redis Cluster replica node.', since: '3.0.0', handler: (ctx) => {
    state(ctx);
    ctx.session.readFromReplica = false;
    ctx.out.raw(OK);
  } }),
  command({ name: 'asking', arity: 1, flags: ['fast'], group, summary: 'Signals that a cluster client is following an -ASK redirect.', since: '3.0.0', handler: (ctx) => ctx.out.raw(OK) }),
];

