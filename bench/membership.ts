/**
 * `npm run bench:membership`: how fast the node manager changes a cluster, on a
 * real etcd (Debian's etcd-server, started here on free loopback ports):
 * - join: from spawning `ringcache server --etcd` as a 4th node to the map
 *   giving it its share of slots with every node having applied that version;
 * - kill -9: from killing a node to a write for one of its slots being
 *   accepted again by the cluster (its slots, empty, on the survivors);
 * for each lease TTL asked for (`--ttl 1000,2000`), several rounds, medians.
 * Writes bench/results/membership-latest.json.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { ClusterMap } from '../src/cluster/cluster-map.js';
import { keySlot } from '../src/cluster/key-slot.js';
import type { MemberRecord } from '../src/cluster/reconcile.js';
import { EtcdKv } from '../src/membership/etcd-kv.js';
import { clusterKeys } from '../src/membership/layout.js';
import { startEtcd } from '../test/helpers/etcd.js';
import { CLI, freePort } from '../test/helpers/processes.js';

const ROUNDS = Number(process.env.ROUNDS ?? 3);
const TTLS = (process.argv.find((a) => a.startsWith('--ttl='))?.slice(6) ?? '1000,2000').split(',').map(Number);

interface Node { port: number; proc: ChildProcess }

function startNode(endpoint: string, cluster: string, ttl: number, port: number): Node {
  const proc = spawn(process.execPath, [CLI, 'server', '--port', String(port), '--etcd', endpoint, '--cluster', cluster, '--lease-ttl', String(ttl)], { stdio: 'ignore' });
  return { port, proc };
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`timed out: ${what}`);
}

/** The map gives slots to exactly `ports`, no move in flight, and every live member applied it. */
async function settled(kv: EtcdKv, cluster: string, ports: number[]): Promise<boolean> {
  const keys = clusterKeys(cluster);
  const entry = await kv.get(keys.map);
  if (entry === undefined) return false;
  const map = ClusterMap.parse(entry.value);
  const owning = map.nodes.filter((n) => map.slotCount(n.id) > 0).map((n) => n.port).sort();
  if (map.moves.length > 0 || map.assignedSlots() !== 16384 || JSON.stringify(owning) !== JSON.stringify([...ports].sort())) return false;
  const { entries } = await kv.range(keys.members);
  return entries.every((e) => (JSON.parse(e.value) as MemberRecord).appliedEpoch >= map.epoch);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const etcd = await startEtcd();
  const kv = new EtcdKv({ endpoints: [etcd.endpoint] });
  const results: Array<{ ttlMs: number; joinMs: number[]; killMs: number[] }> = [];
  const all: Node[] = [];
  try {
    for (const ttl of TTLS) {
      const joinMs: number[] = [];
      const killMs: number[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const cluster = `bench-${ttl}-${round}`;
        const nodes: Node[] = [];
        for (let i = 0; i < 3; i++) nodes.push(startNode(etcd.endpoint, cluster, ttl, await freePort()));
        all.push(...nodes);
        await until(() => settled(kv, cluster, nodes.map((n) => n.port)), '3 nodes settled');
        // Join.
        const joinStart = Date.now();
        const joiner = startNode(etcd.endpoint, cluster, ttl, await freePort());
        nodes.push(joiner);
        all.push(joiner);
        await until(() => settled(kv, cluster, nodes.map((n) => n.port)), '4th node owns its share');
        joinMs.push(Date.now() - joinStart);
        // kill -9 of the first node: time until a write to one of its slots is accepted again.
        const victim = nodes.shift()!;
        const map = ClusterMap.parse((await kv.get(clusterKeys(cluster).map))!.value);
        let key = '';
        for (let i = 0; key === '' && i < 100_000; i++) if (map.ownerOf(keySlot(`k${i}`))?.port === victim.port) key = `k${i}`;
        const clients = nodes.map((n) => new Redis({ port: n.port, lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: true }));
        await Promise.all(clients.map((c) => c.connect()));
        const killStart = Date.now();
        victim.proc.kill('SIGKILL');
        await until(async () => (await Promise.all(clients.map((c) => c.set(key, 'x').then((r) => r === 'OK', () => false)))).some(Boolean), 'a write to the dead node\'s slot accepted');
        killMs.push(Date.now() - killStart);
        for (const c of clients) c.disconnect();
        for (const n of nodes) n.proc.kill('SIGKILL');
        process.stdout.write(`ttl ${ttl} ms round ${round + 1}: join ${joinMs.at(-1)} ms, kill -9 -> served again ${killMs.at(-1)} ms\n`);
      }
      results.push({ ttlMs: ttl, joinMs, killMs });
    }
  } finally {
    for (const n of all) n.proc.kill('SIGKILL');
    await kv.close();
    await etcd.stop();
  }
  process.stdout.write('\nlease TTL | join -> owns slots (median) | kill -9 -> slots served again (median) | target\n');
  for (const r of results) {
    const k = median(r.killMs);
    process.stdout.write(`${r.ttlMs} ms | ${median(r.joinMs)} ms | ${k} ms | ${k <= r.ttlMs + 1000 ? 'met' : 'not met'} (<= TTL + 1 s)\n`);
  }
  const dir = path.resolve('bench/results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'membership-latest.json'), JSON.stringify({ at: new Date().toISOString(), rounds: ROUNDS, results }, null, 2) + '\n');
}

await main();
