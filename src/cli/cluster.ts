/**
 * `ringcache cluster status|remove|rebalance`: the operator's view of a cluster
 * managed through a coordinator (etcd, or a `ringcache dev` process). Reads and
 * requests go through the coordination store, never through a node, so they
 * work while nodes are down.
 */
import type { Command } from 'commander';
import { ClusterMap, DEFAULT_SETTINGS, moveId, settingsSchema, type ClusterSettings, type NodeState } from '../cluster/cluster-map.js';
import { etaSeconds, type MoveProgress } from '../migration/progress.js';
import { planSlots, movedSlots } from '../cluster/planner.js';
import type { MemberRecord } from '../cluster/reconcile.js';
import { EtcdKv, parseEtcdEndpoints } from '../membership/etcd-kv.js';
import type { KvStore } from '../membership/kv.js';
import { clusterKeys } from '../membership/layout.js';
import { RemoteKv } from '../membership/remote-kv.js';
import { ConfigError } from '../server/config.js';

interface StoreFlags {
  etcd?: string;
  coordinator?: string;
  cluster: string;
  json?: boolean;
}

function openStore(flags: StoreFlags): KvStore {
  if (flags.etcd !== undefined) {
    try {
      return new EtcdKv({ endpoints: parseEtcdEndpoints(flags.etcd) });
    } catch (err) {
      throw new ConfigError(`invalid --etcd: ${(err as Error).message}`);
    }
  }
  const addr = flags.coordinator ?? '127.0.0.1:6999';
  const m = /^([^\s:]+):(\d{1,5})$/.exec(addr);
  if (!m) throw new ConfigError(`invalid --coordinator '${addr}' (expected host:port)`);
  return new RemoteKv({ host: m[1]!, port: Number(m[2]) });
}

export interface ClusterStatus {
  cluster: string;
  epoch: number;
  controller: string;
  nodes: Array<{ id: string; address: string; role: string; state: NodeState | 'registered'; weight: number; slots: number; alive: boolean; replicaOf?: string; synced?: boolean }>;
  /** Moves in flight, with the old owner's last progress report (about once a second) when there is one. */
  moves: Array<{ id: string; from: string; to: string; slots: number; acknowledged: boolean; progress?: MoveProgress }>;
  unassignedSlots: number;
}

export async function readStatus(kv: KvStore, cluster: string): Promise<ClusterStatus> {
  const keys = clusterKeys(cluster);
  const { entries } = await kv.range(keys.root);
  const mapEntry = entries.find((e) => e.key === keys.map);
  const map = mapEntry ? ClusterMap.parse(mapEntry.value) : undefined;
  const members = entries.filter((e) => e.key.startsWith(keys.members)).map((e) => JSON.parse(e.value) as MemberRecord);
  const leader = entries.filter((e) => e.key.startsWith(keys.election)).sort((a, b) => a.createRevision - b.createRevision)[0];
  const nodes: ClusterStatus['nodes'] = (map?.nodes ?? []).map((n) => ({
    id: n.id, address: `${n.host}:${n.port}`, role: n.role, state: n.state, weight: n.weight, slots: map!.slotCount(n.id), alive: members.some((m) => m.id === n.id),
    ...(n.role === 'replica' ? { replicaOf: `${map!.node(n.primary!)!.host}:${map!.node(n.primary!)!.port}`, synced: n.synced === true } : {}),
  }));
  for (const m of members) {
    if (!nodes.some((n) => n.id === m.id)) nodes.push({ id: m.id, address: `${m.host}:${m.port}`, role: 'primary', state: 'registered', weight: m.weight, slots: 0, alive: true });
  }
  return {
    cluster,
    epoch: map?.epoch ?? 0,
    controller: leader?.value ?? '',
    nodes,
    moves: (map?.moves ?? []).map((m) => {
      const id = moveId(m);
      const report = entries.find((e) => e.key === keys.progressOf(id));
      let progress: MoveProgress | undefined;
      try {
        progress = report === undefined ? undefined : (JSON.parse(report.value) as MoveProgress);
      } catch {
        progress = undefined; // a torn or foreign value: shown without progress
      }
      return { id, from: m.from, to: m.to, slots: m.ranges.reduce((n, [a, b]) => n + b - a + 1, 0), acknowledged: entries.some((e) => e.key === keys.ack(id)), ...(progress && { progress }) };
    }),
    unassignedSlots: map === undefined ? 16384 : 16384 - map.assignedSlots(),
  };
}

function printStatus(s: ClusterStatus): void {
  const lines = [
    `cluster ${s.cluster}  epoch ${s.epoch}  controller ${s.controller === '' ? '(none)' : s.controller.slice(0, 8)}${s.unassignedSlots > 0 ? `  ${s.unassignedSlots} slots unassigned` : ''}`,
    ...s.nodes.map((n) => `  ${n.id.slice(0, 8)}  ${n.address.padEnd(21)}  ${n.role}  ${n.state.padEnd(10)}  weight ${n.weight}  ${n.replicaOf !== undefined ? `replica of ${n.replicaOf}${n.synced ? ' (in sync)' : ' (syncing)'}` : `${String(n.slots).padStart(5)} slots`}${n.alive ? '' : '  (lease gone)'}`),
    ...s.moves.map((m) => `  moving ${m.slots} slots ${m.from.slice(0, 8)} -> ${m.to.slice(0, 8)}  ${moveLine(m, process.stdout.isTTY === true)}`),
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

/** A move's progress: a bar in a terminal, plain figures otherwise (for logs and scripts). */
function moveLine(m: ClusterStatus['moves'][number], tty: boolean): string {
  if (m.acknowledged) return 'copied; handing over';
  const p = m.progress;
  if (p === undefined) return 'starting';
  const share = p.keysTotal === 0 ? 1 : Math.min(1, p.keysSent / p.keysTotal);
  const eta = etaSeconds(p);
  const figures = `${p.phase}  ${p.keysSent}/${p.keysTotal} keys  ${(p.bytesSent / 1e6).toFixed(1)} MB  ${p.rate} keys/s${eta === undefined ? '' : `  ETA ${Math.ceil(eta)} s`}`;
  if (!tty) return figures;
  const width = 20;
  const filled = Math.round(share * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.round(share * 100)).padStart(3)}%  ${figures}`;
}

async function withStore<T>(flags: StoreFlags, run: (kv: KvStore) => Promise<T>): Promise<T> {
  const kv = openStore(flags);
  try {
    return await run(kv);
  } catch (err) {
    throw new ConfigError((err as Error).message);
  } finally {
    await kv.close().catch(() => {});
  }
}

export function registerClusterCommand(program: Command): void {
  const cluster = program.command('cluster').description('Inspect and change a cluster managed through etcd or `ringcache dev`.');
  const common = (c: Command) => c
    .option('--etcd <endpoints>', 'etcd endpoints host:port[,host:port...]')
    .option('--coordinator <host:port>', 'the `ringcache dev` process\'s store (default 127.0.0.1:6999)')
    .option('--cluster <name>', 'cluster name', 'ringcache');
  common(cluster.command('status').description('Epoch, controller, nodes (id, address, role, state, slots) and moves in progress (keys, bytes, rate, ETA).'))
    .option('--json', 'print JSON')
    .option('--watch', 'print again every second while moves are in flight (at most 10 minutes)')
    .action(async (flags: StoreFlags & { watch?: boolean }) => {
      const deadline = Date.now() + 600_000;
      for (;;) {
        const s = await withStore(flags, (kv) => readStatus(kv, flags.cluster));
        if (flags.json) process.stdout.write(JSON.stringify(s, null, 2) + '\n');
        else printStatus(s);
        if (!flags.watch || s.moves.length === 0 || Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 1000));
      }
    });
  common(cluster.command('remove <node-id>').description('Hand a node\'s slots to the others, then forget it (the node exits).'))
    .action(async (prefix: string, flags: StoreFlags) => {
      await withStore(flags, async (kv) => {
        const s = await readStatus(kv, flags.cluster);
        const matches = s.nodes.filter((n) => n.id.startsWith(prefix.toLowerCase()));
        if (prefix.length < 4 || matches.length !== 1) throw new Error(matches.length > 1 ? `node id '${prefix}' is ambiguous` : `no node with id '${prefix}' in cluster ${flags.cluster}`);
        const id = matches[0]!.id;
        await kv.txn([], [{ put: clusterKeys(flags.cluster).removal(id), value: String(Date.now()) }]);
        process.stdout.write(`removing ${id}: its slots are being handed over; see ringcache cluster status\n`);
      });
    });
  common(cluster.command('set <setting> <value>').description('Change a cluster setting: replicas <0-5> (taken by nodes as they join; roles are kept), consistency <async|sync> (from the next map version).'))
    .action(async (setting: string, value: string, flags: StoreFlags) => {
      await withStore(flags, async (kv) => {
        const keys = clusterKeys(flags.cluster);
        const stored = await kv.get(keys.settings);
        const mapEntry = await kv.get(keys.map);
        const current: ClusterSettings = stored !== undefined ? settingsSchema.parse(JSON.parse(stored.value)) : mapEntry !== undefined ? ClusterMap.parse(mapEntry.value).settings : DEFAULT_SETTINGS;
        let next: ClusterSettings;
        if (setting === 'replicas') {
          const n = Number(value);
          if (!/^\d$/.test(value) || n > 5) throw new Error(`invalid replicas '${value}': an integer from 0 to 5`);
          next = { ...current, replicas: n };
        } else if (setting === 'consistency') {
          if (value !== 'async' && value !== 'sync') throw new Error(`invalid consistency '${value}': async or sync`);
          next = { ...current, consistency: value };
        } else throw new Error(`unknown setting '${setting}' (replicas, consistency)`);
        const done = await kv.txn([{ key: keys.settings, modRevision: stored?.modRevision ?? 0 }], [{ put: keys.settings, value: JSON.stringify(next) }]);
        if (!done.succeeded) throw new Error('the settings changed meanwhile; run the command again');
        process.stdout.write(`cluster ${flags.cluster}: replicas ${next.replicas}, consistency ${next.consistency} (was replicas ${current.replicas}, consistency ${current.consistency})\n`);
      });
    });
  common(cluster.command('rebalance').description('Check the map against the planner\'s target (the controller rebalances on every change).'))
    .action(async (flags: StoreFlags) => {
      await withStore(flags, async (kv) => {
        const keys = clusterKeys(flags.cluster);
        const entry = await kv.get(keys.map);
        if (entry === undefined) throw new Error(`cluster ${flags.cluster} has no map yet`);
        const map = ClusterMap.parse(entry.value);
        const live = map.nodes.filter((n) => n.role === 'primary' && (n.state === 'up' || n.state === 'joining'));
        const target = planSlots(map.slotOwners(), live.map((n) => ({ id: n.id, weight: n.weight })));
        const moved = movedSlots(map.slotOwners(), target);
        process.stdout.write(moved === 0 && map.moves.length === 0 ? `balanced: epoch ${map.epoch}, nothing to move\n` : `${moved} slots to move; the controller is moving them (epoch ${map.epoch})\n`);
      });
    });
}
