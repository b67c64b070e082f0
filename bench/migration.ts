/**
 * `npm run bench:migration` (issue #15's targets), side by side in one run:
 *
 * 1. ringcache: a real etcd (test/helpers/etcd.ts) and 3 `ringcache server
 *    --etcd` nodes; N keys of 100 B loaded (pipelined, each owner its own keys);
 *    a 4th node is spawned and the warm move runs. Move time: from the first
 *    map with moves to the map settled (no moves, 4 owners, every member applied
 *    it); settle time: from the spawn. Keys moved: the sum of the nodes'
 *    `migration_keys_sent` deltas (and the new node's DBSIZE).
 * 2. Redis Cluster (redis-server 7, 3 primaries, no replicas, no persistence),
 *    the same N keys, a 4th empty primary added (`redis-cli --cluster
 *    add-node`), then `redis-cli --cluster reshard --cluster-from all
 *    --cluster-slots 4096 --cluster-pipeline 1000` timed; keys moved: the new
 *    node's DBSIZE.
 * 3. During both, a fixed-rate open-loop GET/SET load through ioredis Cluster
 *    (default options, the same client for both systems), latency from each
 *    operation's intended send time into HDR histograms per phase (steady,
 *    during the move, after); errors counted; hit ratio on a sample of the
 *    moved slots' keys right after the move against the same keys before.
 * 4. ringcache: SIGTERM of one of the first 3 nodes (about N/4 keys after the
 *    join): from SIGTERM to its exit, and the keys over the survivors after.
 *
 * Flags: --keys 1000000 --rounds 1 --rate 2000 --steady 5 (seconds per
 * phase) --value-size 100 --hit-sample 100000 --pipeline 1000 --no-redis.
 * Writes bench/results/migration-latest.json and .svg.
 */
import os from 'node:os';
import path from 'node:path';
import { writeFileSync, mkdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Cluster } from 'ioredis';
import { ClusterMap } from '../src/cluster/cluster-map.js';
import type { MemberRecord } from '../src/cluster/reconcile.js';
import { EtcdKv } from '../src/membership/etcd-kv.js';
import { clusterKeys } from '../src/membership/layout.js';
import { startEtcd, type RunningEtcd } from '../test/helpers/etcd.js';
import {
  commandVersion, formatTable, freePort, installCleanupHandlers, LOOPBACK, machineInfo, median, REPO_ROOT, startServerProcess,
  writeBarChartSvg, type ServerHandle,
} from './lib/index.js';
import { benchValue } from './lib/bulk-load.js';
import { infoNumber, readInfo } from './lib/info.js';
import { benchKeySlots, countHits, dbsize, FixedRateLoad, loadCluster, sampleIndices, slotOwners, SLOTS, type PhaseSummary } from './lib/migration-load.js';
import { RedisClusterBench } from './lib/migration-redis.js';
import { jsonNumbers } from './lib/output.js';

const { values: flags } = parseArgs({
  options: {
    keys: { type: 'string', default: '1000000' },
    rounds: { type: 'string', default: '1' },
    rate: { type: 'string', default: '2000' },
    steady: { type: 'string', default: '5' },
    'value-size': { type: 'string', default: '100' },
    'hit-sample': { type: 'string', default: '100000' },
    pipeline: { type: 'string', default: '1000' },
    'no-redis': { type: 'boolean', default: false },
  },
});
const N = Number(flags.keys);
const ROUNDS = Number(flags.rounds);
const RATE = Number(flags.rate);
const PHASE_S = Number(flags.steady);
const VALUE_SIZE = Number(flags['value-size']);
const HIT_SAMPLE = Number(flags['hit-sample']);
const PIPELINE = Number(flags.pipeline);
const CLI = path.join(REPO_ROOT, 'bin', 'ringcache.js');
const SETTLE_TIMEOUT_MS = 30 * 60_000;

const log = (m: string): void => void process.stderr.write(`[migration] ${m}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface MoveRound {
  system: 'ringcache' | 'redis';
  loadMs: number;
  loadKeysPerSec: number;
  /** ringcache: first map with moves -> settled; Redis: the reshard command's run time. */
  moveMs: number;
  /** ringcache: spawn of the 4th node -> settled; Redis: add-node + reshard. */
  settleMs: number;
  keysMoved: number;
  newNodeKeys: number;
  keysPerSec: number;
  keysPerSecFromSpawn: number;
  phases: Record<string, PhaseSummary>;
  p99Ratio: number;
  hitBefore: number;
  hitAfter: number;
  hitSampleSize: number;
  hitRatioOfBefore: number;
  hitProbeErrors: number;
  totalKeysBefore: number;
  totalKeysAfter: number;
  info?: Record<string, unknown>;
  /** ringcache only: INFO cluster migration fields per node after the join, and the moves seen. */
  join?: JoinInfo;
  drain?: DrainResult;
}

interface JoinInfo {
  nodes: Record<string, Record<string, string>>;
  moves: ReturnType<MoveWatch['report']>;
  firstMoveAfterSpawnMs: number | null;
}

interface DrainResult {
  victimKeys: number;
  drainMs: number;
  settleMs: number;
  keysBefore: number;
  keysAfter: number;
  keysLost: number;
  /** Keys the survivors received (the victim's own counters leave with it). */
  keysReceived: number;
  sampleSize: number;
  sampleHits: number;
  probeErrors: number;
  exit: string;
  keysPerSec: number;
}

function loadClient(ports: number[]): Promise<Cluster> {
  const c = new Cluster(ports.map((port) => ({ host: LOOPBACK, port })));
  return new Promise((resolve, reject) => {
    c.once('ready', () => resolve(c));
    c.once('error', reject);
  });
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs: number, everyMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await sleep(everyMs);
  }
  throw new Error(`timed out: ${what}`);
}

async function readMap(kv: EtcdKv, cluster: string): Promise<ClusterMap | undefined> {
  const e = await kv.get(clusterKeys(cluster).map);
  return e === undefined ? undefined : ClusterMap.parse(e.value);
}

/** No move in flight, every slot owned by exactly the `ports`, every member applied the map. */
async function settled(kv: EtcdKv, cluster: string, ports: number[]): Promise<boolean> {
  const map = await readMap(kv, cluster);
  if (map === undefined) return false;
  const owning = map.nodes.filter((n) => map.slotCount(n.id) > 0).map((n) => n.port).sort();
  if (map.moves.length > 0 || map.assignedSlots() !== SLOTS || JSON.stringify(owning) !== JSON.stringify([...ports].sort())) return false;
  const { entries } = await kv.range(clusterKeys(cluster).members);
  return entries.every((e) => (JSON.parse(e.value) as MemberRecord).appliedEpoch >= map.epoch);
}

async function sumInfo(ports: number[], field: string): Promise<number> {
  let total = 0;
  for (const p of ports) total += infoNumber(await readInfo(p, 'cluster'), field);
  return total;
}

async function sumDbsize(ports: number[]): Promise<number> {
  let t = 0;
  for (const p of ports) t += await dbsize(p);
  return t;
}

/** Per-move lines of INFO cluster over time: when each move was first seen in each phase, and its last line. */
class MoveWatch {
  readonly moves = new Map<string, { firstSeenMs: number; phases: Record<string, number>; last: string; node: number }>();
  private stopped = false;
  private loop: Promise<void> | undefined;
  constructor(private readonly ports: () => number[], private readonly t0: number) {}
  start(): void {
    this.loop = (async () => {
      while (!this.stopped) {
        for (const p of this.ports()) {
          const info = await readInfo(p, 'cluster', 2000).catch(() => undefined);
          if (!info) continue;
          for (const [k, v] of Object.entries(info)) {
            if (!/^migration\d+$/.test(k)) continue;
            const id = /id=([^,]+)/.exec(v)?.[1] ?? v;
            const phase = /phase=([^,]+)/.exec(v)?.[1] ?? '?';
            const at = performance.now() - this.t0;
            let m = this.moves.get(id);
            if (!m) this.moves.set(id, (m = { firstSeenMs: at, phases: {}, last: v, node: p }));
            m.phases[phase] ??= Math.round(at);
            m.last = v;
          }
        }
        await sleep(200);
      }
    })();
  }
  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }
  report(): Array<{ id: string; node: number; firstSeenMs: number; phases: Record<string, number>; last: string }> {
    return [...this.moves].map(([id, m]) => ({ id, node: m.node, firstSeenMs: Math.round(m.firstSeenMs), phases: m.phases, last: m.last }));
  }
}

/** Hit flags of the before-sample, and the after ratio over its keys in `slotSet`, relative to before. */
async function hitCheck(client: Cluster, sample: number[], before: Map<number, boolean>, keySlots: Uint16Array, inMoved: (slot: number) => boolean): Promise<{ size: number; before: number; after: number; errors: number }> {
  const subset = sample.filter((i) => inMoved(keySlots[i]!));
  const hitsBefore = subset.filter((i) => before.get(i)).length;
  const r = await countHits(client, subset);
  return { size: subset.length, before: subset.length ? hitsBefore / subset.length : NaN, after: subset.length ? r.hits / subset.length : NaN, errors: r.errors };
}

async function sampleBefore(client: Cluster, sample: number[]): Promise<Map<number, boolean>> {
  const out = new Map<number, boolean>();
  for (let i = 0; i < sample.length; i += 500) {
    const part = sample.slice(i, i + 500);
    const replies = await Promise.allSettled(part.map((k) => client.getBuffer(`key:${String(k).padStart(12, '0')}`)));
    replies.forEach((r, j) => out.set(part[j]!, r.status === 'fulfilled' && r.value !== null));
  }
  return out;
}

function phases(load: FixedRateLoad, names: string[]): Record<string, PhaseSummary> {
  return Object.fromEntries(names.map((n) => [n, load.summary(n)]));
}

async function ringcacheRound(round: number, keySlots: Uint16Array): Promise<MoveRound> {
  const value = benchValue(VALUE_SIZE);
  let etcd: RunningEtcd | undefined;
  let kv: EtcdKv | undefined;
  let client: Cluster | undefined;
  let load: FixedRateLoad | undefined;
  const nodes: ServerHandle[] = [];
  const cluster = `bench-migration-${round}`;
  const start = async (): Promise<ServerHandle> => {
    const port = await freePort();
    const h = await startServerProcess('ringcache', [process.execPath, CLI, 'server', '--port', String(port), '--etcd', etcd!.endpoint, '--cluster', cluster, '--lease-ttl', '2000'], port, 30_000, REPO_ROOT);
    nodes.push(h);
    return h;
  };
  try {
    etcd = await startEtcd();
    kv = new EtcdKv({ endpoints: [etcd.endpoint] });
    for (let i = 0; i < 3; i++) await start();
    const first = nodes.map((n) => n.port);
    await until(() => settled(kv!, cluster, first), '3 ringcache nodes settled', 60_000);
    const owners = await slotOwners(first[0]!);
    log(`ringcache: loading ${N} keys of ${VALUE_SIZE} B`);
    const loaded = await loadCluster(owners, keySlots, VALUE_SIZE);
    const totalBefore = await sumDbsize(first);
    if (totalBefore !== N) throw new Error(`ringcache holds ${totalBefore} keys after loading ${N}`);
    log(`ringcache: loaded in ${(loaded.ms / 1000).toFixed(1)} s (${Math.round(loaded.keysPerSec)} keys/s)`);

    client = await loadClient(first);
    load = new FixedRateLoad(client, N, RATE, value);
    load.start();
    await sleep(2000);
    load.setPhase('probe');
    const sample = sampleIndices(N, HIT_SAMPLE);
    const before = await sampleBefore(client, sample);
    load.setPhase('steady');
    await sleep(PHASE_S * 1000);

    // The join.
    const sentBefore = await sumInfo(first, 'migration_keys_sent');
    load.setPhase('during');
    const t0 = performance.now();
    const watch = new MoveWatch(() => nodes.map((n) => n.port), t0);
    watch.start();
    const joiner = await start();
    const all = nodes.map((n) => n.port);
    let firstMoveAt = NaN;
    await until(async () => {
      if (Number.isNaN(firstMoveAt) && ((await readMap(kv!, cluster))?.moves.length ?? 0) > 0) firstMoveAt = performance.now();
      return settled(kv!, cluster, all);
    }, 'the 4th node owns its share', SETTLE_TIMEOUT_MS);
    const settledAt = performance.now();
    load.setPhase('probe');
    await watch.stop();
    const moveMs = settledAt - (Number.isNaN(firstMoveAt) ? t0 : firstMoveAt);
    const settleMs = settledAt - t0;
    const sentAfter = await sumInfo(all, 'migration_keys_sent');
    const keysMoved = sentAfter - sentBefore;
    const newNodeKeys = await dbsize(joiner.port);
    const owners4 = await slotOwners(joiner.port);
    const hit = await hitCheck(client, sample, before, keySlots, (s) => owners4[s] === joiner.port);
    const totalAfter = await sumDbsize(all);
    const join: JoinInfo = { nodes: {}, moves: watch.report(), firstMoveAfterSpawnMs: Number.isNaN(firstMoveAt) ? null : Math.round(firstMoveAt - t0) };
    for (const p of all) {
      const f = await readInfo(p, 'cluster');
      join.nodes[String(p)] = Object.fromEntries(Object.entries(f).filter(([k]) => k.startsWith('migration') || k === 'cluster_migration'));
    }
    load.setPhase('after');
    await sleep(PHASE_S * 1000);

    // SIGTERM of one of the first three nodes: drain.
    const victim = nodes[1]!;
    const survivors = all.filter((p) => p !== victim.port);
    const victimKeys = await dbsize(victim.port);
    const drainBefore = await sumDbsize(all);
    const drainRecvBefore = await sumInfo(survivors, 'migration_keys_received');
    const victimSlots = await slotOwners(victim.port);
    load.setPhase('drain');
    const d0 = performance.now();
    process.kill(victim.pid!, 'SIGTERM');
    const exit = await Promise.race([victim.exited, sleep(SETTLE_TIMEOUT_MS).then(() => undefined)]);
    const drainMs = performance.now() - d0;
    await until(() => settled(kv!, cluster, survivors), 'the survivors own every slot', 120_000);
    const drainSettleMs = performance.now() - d0;
    load.setPhase('probe');
    const keysAfter = await sumDbsize(survivors);
    const drainSample = sample.filter((i) => victimSlots[keySlots[i]!] === victim.port);
    const drainHits = await countHits(client, drainSample);
    await load.stop();
    const drain: DrainResult = {
      victimKeys, drainMs, settleMs: drainSettleMs, keysBefore: drainBefore, keysAfter, keysLost: drainBefore - keysAfter,
      keysReceived: (await sumInfo(survivors, 'migration_keys_received')) - drainRecvBefore,
      sampleSize: drainSample.length, sampleHits: drainHits.hits, probeErrors: drainHits.errors,
      exit: exit ? `code ${exit.code ?? 'null'} signal ${exit.signal ?? 'none'}` : 'still running',
      keysPerSec: (victimKeys / drainMs) * 1000,
    };
    const ph = phases(load, ['steady', 'during', 'after', 'drain']);
    return {
      system: 'ringcache', loadMs: loaded.ms, loadKeysPerSec: loaded.keysPerSec, moveMs, settleMs, keysMoved, newNodeKeys,
      keysPerSec: (keysMoved / moveMs) * 1000, keysPerSecFromSpawn: (keysMoved / settleMs) * 1000, phases: ph,
      p99Ratio: ph.during!.p99Ms / ph.steady!.p99Ms, hitBefore: hit.before, hitAfter: hit.after, hitSampleSize: hit.size,
      hitRatioOfBefore: hit.after / hit.before, hitProbeErrors: hit.errors, totalKeysBefore: totalBefore, totalKeysAfter: totalAfter, join, drain,
    };
  } finally {
    await load?.stop(2000).catch(() => {});
    load?.destroy();
    client?.disconnect();
    await Promise.all(nodes.map((n) => n.stop()));
    await kv?.close().catch(() => {});
    await etcd?.stop();
  }
}

async function redisRound(keySlots: Uint16Array): Promise<MoveRound> {
  const value = benchValue(VALUE_SIZE);
  const rc = new RedisClusterBench();
  let client: Cluster | undefined;
  let load: FixedRateLoad | undefined;
  try {
    const three = [await rc.startNode(), await rc.startNode(), await rc.startNode()];
    await rc.create(three);
    const owners = await slotOwners(three[0]!.port);
    log(`redis: loading ${N} keys of ${VALUE_SIZE} B`);
    const loaded = await loadCluster(owners, keySlots, VALUE_SIZE);
    const totalBefore = await sumDbsize(three.map((n) => n.port));
    if (totalBefore !== N) throw new Error(`Redis holds ${totalBefore} keys after loading ${N}`);
    log(`redis: loaded in ${(loaded.ms / 1000).toFixed(1)} s (${Math.round(loaded.keysPerSec)} keys/s)`);
    const a0 = performance.now();
    const fourth = await rc.startNode();
    await rc.addNode(fourth, three[0]!);
    const addMs = performance.now() - a0;

    client = await loadClient(three.map((n) => n.port));
    load = new FixedRateLoad(client, N, RATE, value);
    load.start();
    await sleep(2000);
    load.setPhase('probe');
    const sample = sampleIndices(N, HIT_SAMPLE);
    const before = await sampleBefore(client, sample);
    load.setPhase('steady');
    await sleep(PHASE_S * 1000);

    load.setPhase('during');
    log('redis: redis-cli --cluster reshard ...');
    const r = await rc.reshard(three[0]!, fourth, SLOTS / 4, PIPELINE);
    load.setPhase('probe');
    if (r.code !== 0) throw new Error(`redis-cli --cluster reshard failed (${r.code}): ${r.tail.slice(-800)}`);
    const newNodeKeys = await dbsize(fourth.port);
    const all = rc.nodes.map((n) => n.port);
    const owners4 = await slotOwners(fourth.port);
    const hit = await hitCheck(client, sample, before, keySlots, (s) => owners4[s] === fourth.port);
    const totalAfter = await sumDbsize(all);
    load.setPhase('after');
    await sleep(PHASE_S * 1000);
    await load.stop();
    const ph = phases(load, ['steady', 'during', 'after']);
    return {
      system: 'redis', loadMs: loaded.ms, loadKeysPerSec: loaded.keysPerSec, moveMs: r.ms, settleMs: r.ms + addMs, keysMoved: newNodeKeys, newNodeKeys,
      keysPerSec: (newNodeKeys / r.ms) * 1000, keysPerSecFromSpawn: (newNodeKeys / (r.ms + addMs)) * 1000, phases: ph,
      p99Ratio: ph.during!.p99Ms / ph.steady!.p99Ms, hitBefore: hit.before, hitAfter: hit.after, hitSampleSize: hit.size,
      hitRatioOfBefore: hit.after / hit.before, hitProbeErrors: hit.errors, totalKeysBefore: totalBefore, totalKeysAfter: totalAfter,
      info: { addNodeMs: addMs, reshardTail: r.tail.split('\n').filter((l) => l.trim() !== '').slice(-3).join('\n') },
    };
  } finally {
    await load?.stop(2000).catch(() => {});
    load?.destroy();
    client?.disconnect();
    await rc.stop();
  }
}

// ---- report ----

const f0 = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
const f1 = (n: number): string => (Number.isFinite(n) ? n.toFixed(1) : 'n/a');
const f2 = (n: number): string => (Number.isFinite(n) ? n.toFixed(2) : 'n/a');
const pc = (n: number): string => (Number.isFinite(n) ? `${(n * 100).toFixed(3)}%` : 'n/a');
const med = (rs: MoveRound[], f: (r: MoveRound) => number): number => median(rs.map(f));

installCleanupHandlers();
const t = new Date();
const keySlots = benchKeySlots(N);
const ringRounds: MoveRound[] = [];
const redisRounds: MoveRound[] = [];
for (let round = 0; round < ROUNDS; round++) {
  log(`round ${round + 1}/${ROUNDS}: ringcache`);
  ringRounds.push(await ringcacheRound(round, keySlots));
  if (!flags['no-redis']) {
    log(`round ${round + 1}/${ROUNDS}: Redis Cluster`);
    redisRounds.push(await redisRound(keySlots));
  }
}

const systems: Array<[string, MoveRound[]]> = [['ringcache', ringRounds], ['Redis Cluster', redisRounds]].filter(([, rs]) => (rs as MoveRound[]).length > 0) as Array<[string, MoveRound[]]>;
const ringRate = med(ringRounds, (r) => r.keysPerSec);
const redisRate = med(redisRounds, (r) => r.keysPerSec);
const ratio = ringRate / redisRate;
const redisVersion = await commandVersion('redis-server');

const out: string[] = [];
out.push(`migration: ${N.toLocaleString('en-US')} keys of ${VALUE_SIZE} B on 3 nodes, a 4th joins (4096 slots' share); foreground ${RATE} ops/s (80% GET, 20% SET) through ioredis Cluster, latency from intended send time; ${PHASE_S} s per phase; median of ${ROUNDS} round(s); ${machineInfo().cpuCount} CPUs shared by servers, etcd and client (load average at the end ${os.loadavg().map((l) => l.toFixed(1)).join(' ')})`);
out.push('');
out.push(formatTable(
  [{ header: 'system' }, { header: 'keys moved', align: 'right' }, { header: 'move s', align: 'right' }, { header: 'keys/s', align: 'right' }, { header: 'settle s', align: 'right' },
    { header: 'p50 steady/during ms', align: 'right' }, { header: 'p99 steady/during ms', align: 'right' }, { header: 'p999 steady/during ms', align: 'right' },
    { header: 'p99 x', align: 'right' }, { header: 'errors', align: 'right' }, { header: 'moved-slot hits', align: 'right' }],
  systems.map(([name, rs]) => [
    name, f0(med(rs, (r) => r.keysMoved)), f2(med(rs, (r) => r.moveMs / 1000)), f0(med(rs, (r) => r.keysPerSec)), f2(med(rs, (r) => r.settleMs / 1000)),
    `${f2(med(rs, (r) => r.phases.steady!.p50Ms))} / ${f2(med(rs, (r) => r.phases.during!.p50Ms))}`,
    `${f2(med(rs, (r) => r.phases.steady!.p99Ms))} / ${f2(med(rs, (r) => r.phases.during!.p99Ms))}`,
    `${f2(med(rs, (r) => r.phases.steady!.p999Ms))} / ${f2(med(rs, (r) => r.phases.during!.p999Ms))}`,
    `${f2(med(rs, (r) => r.p99Ratio))}x`,
    f0(med(rs, (r) => Object.values(r.phases).reduce((a, p) => a + p.errors, 0) + r.hitProbeErrors)),
    pc(med(rs, (r) => r.hitRatioOfBefore)),
  ]),
));
out.push('');
if (redisRounds.length > 0) out.push(`keys/s ringcache / Redis: ${f1(ratio)}x (target >= 10x: ${ratio >= 10 ? 'met' : 'not met'})`);
for (const [name, rs] of systems) {
  const p = med(rs, (r) => r.p99Ratio);
  const h = med(rs, (r) => r.hitRatioOfBefore);
  out.push(`${name}: client's own event-loop delay p99 steady/during ${f1(med(rs, (r) => r.phases.steady!.clientLoopDelayP99Ms))} / ${f1(med(rs, (r) => r.phases.during!.clientLoopDelayP99Ms))} ms (max ${f1(med(rs, (r) => r.phases.steady!.clientLoopDelayMaxMs))} / ${f1(med(rs, (r) => r.phases.during!.clientLoopDelayMaxMs))} ms); per round keys/s ${rs.map((r) => f0(r.keysPerSec)).join(', ')}, p99 steady/during ${rs.map((r) => `${f1(r.phases.steady!.p99Ms)}/${f1(r.phases.during!.p99Ms)}`).join(', ')} ms`);
  out.push(`${name}: during-move p99 ${f2(p)}x steady (target <= 2x: ${p <= 2 ? 'met' : 'not met'}); moved-slot hit ratio ${pc(h)} of before over ${f0(med(rs, (r) => r.hitSampleSize))} sampled keys (target >= 99.9%: ${h >= 0.999 ? 'met' : 'not met'}); after-move p99 ${f2(med(rs, (r) => r.phases.after!.p99Ms))} ms; keys ${f0(med(rs, (r) => r.totalKeysBefore))} before, ${f0(med(rs, (r) => r.totalKeysAfter))} after`);
  for (const r of rs) {
    const errs = Object.values(r.phases).flatMap((ph) => ph.errorSamples.map((e) => `${ph.phase}: ${e}`));
    if (errs.length > 0) out.push(`  errors seen: ${errs.join(' | ')}`);
  }
}
const dr = ringRounds.map((r) => r.drain!);
if (dr.length > 0) {
  const lost = median(dr.map((d) => d.keysLost));
  out.push(`ringcache SIGTERM of a node holding ${f0(median(dr.map((d) => d.victimKeys)))} keys: exit after ${f2(median(dr.map((d) => d.drainMs)) / 1000)} s (${f0(median(dr.map((d) => d.keysPerSec)))} keys/s), map settled after ${f2(median(dr.map((d) => d.settleMs)) / 1000)} s; keys ${f0(median(dr.map((d) => d.keysBefore)))} before, ${f0(median(dr.map((d) => d.keysAfter)))} after on the survivors: ${f0(lost)} lost (target 0: ${lost === 0 ? 'met' : 'not met'}); read back ${f0(median(dr.map((d) => d.sampleHits)))}/${f0(median(dr.map((d) => d.sampleSize)))} sampled keys of its slots; p99 during the drain ${f2(median(ringRounds.map((r) => r.phases.drain!.p99Ms)))} ms, errors ${f0(median(ringRounds.map((r) => r.phases.drain!.errors)))}`);
}
for (const r of ringRounds) {
  const info = r.join!;
  const handovers = Object.entries(info.nodes).map(([p, f]) => `${p}: ${f.migration_last_handover_ms ?? '?'} ms (pause ${f.migration_last_pause_ms ?? '?'}, max ${f.migration_max_pause_ms ?? '?'})`);
  out.push(`ringcache join: first move in the map ${info.firstMoveAfterSpawnMs ?? 'n/a'} ms after spawn; INFO migration_last_handover_ms per node: ${handovers.join('; ')}`);
  for (const m of info.moves) out.push(`  move ${m.id}: phases first seen at ${Object.entries(m.phases).map(([k, v]) => `${k} ${v} ms`).join(', ')}; last ${m.last}`);
}
const text = out.join('\n');
process.stdout.write(`${text}\n`);

const dir = path.resolve(REPO_ROOT, 'bench', 'results');
mkdirSync(dir, { recursive: true });
const json = path.join(dir, 'migration-latest.json');
writeFileSync(json, JSON.stringify({
  when: t.toISOString(), finished: new Date().toISOString(), machine: machineInfo(), redisVersion,
  options: { keys: N, rounds: ROUNDS, rate: RATE, phaseSeconds: PHASE_S, valueSize: VALUE_SIZE, hitSample: HIT_SAMPLE, reshardPipeline: PIPELINE, client: 'ioredis Cluster (default options)', getRatio: 0.8 },
  summary: {
    ringcacheKeysPerSec: ringRate, redisKeysPerSec: redisRate, ratio,
    ringcacheP99Ratio: med(ringRounds, (r) => r.p99Ratio), redisP99Ratio: med(redisRounds, (r) => r.p99Ratio),
    ringcacheHitRatioOfBefore: med(ringRounds, (r) => r.hitRatioOfBefore), redisHitRatioOfBefore: med(redisRounds, (r) => r.hitRatioOfBefore),
    drainMs: median(dr.map((d) => d.drainMs)), drainKeysLost: median(dr.map((d) => d.keysLost)),
  },
  ringcache: ringRounds, redis: redisRounds, printed: text,
}, jsonNumbers, 2) + '\n');
const svg = path.join(dir, 'migration-latest.svg');
const s = (rs: MoveRound[], f: (r: MoveRound) => number): number | null => (rs.length > 0 ? med(rs, f) : null);
await writeBarChartSvg(svg, {
  title: 'Slot migration: a 4th node joins 3',
  subtitle: `${N.toLocaleString('en-US')} keys of ${VALUE_SIZE} B · ringcache warm move vs redis-cli --cluster reshard (pipeline ${PIPELINE}) · ${RATE} ops/s foreground via ioredis Cluster · ${t.toISOString().slice(0, 16)}Z`,
  yAxisLabel: 'keys/s · ms',
  series: [{ name: 'ringcache', color: '#2563eb' }, { name: 'Redis Cluster', color: '#dc2626' }],
  panels: [
    { title: 'Keys moved per second', note: 'higher is better', groups: [{ label: 'keys/s', values: [s(ringRounds, (r) => r.keysPerSec), s(redisRounds, (r) => r.keysPerSec)], ...(Number.isFinite(ratio) ? { badge: { text: `${f1(ratio)}×`, tone: ratio >= 10 ? 'good' : 'bad' } as const } : {}) }] },
    {
      title: 'Foreground p99 latency (ms)', note: 'steady vs during the move; lower is better',
      groups: [
        { label: 'steady', values: [s(ringRounds, (r) => r.phases.steady!.p99Ms), s(redisRounds, (r) => r.phases.steady!.p99Ms)] },
        { label: 'during move', values: [s(ringRounds, (r) => r.phases.during!.p99Ms), s(redisRounds, (r) => r.phases.during!.p99Ms)] },
      ],
    },
  ],
  footnote: `${machineInfo().cpuCount} CPUs shared by servers, etcd and the client · ${redisVersion ?? 'redis-server'} · median of ${ROUNDS} round(s) · latency from intended send time (coordinated omission corrected), HDR histograms`,
  formatValue: (v) => (v >= 1000 ? `${Number((v / 1000).toPrecision(3))}k` : String(Number(v.toPrecision(3)))),
});
log(`wrote ${path.relative(process.cwd(), json)} and ${path.relative(process.cwd(), svg)}`);
// The etcd and ioredis clients may keep timers alive after close: the results are written, leave.
process.exit(0);
