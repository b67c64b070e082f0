// The Redis Cluster side of bench/migration.ts: Debian's redis-server as
// cluster-enabled primaries (no replicas, no RDB/AOF, nodes.conf in a temp
// dir), formed with `redis-cli --cluster create`, grown with
// `redis-cli --cluster add-node`, and resharded with `redis-cli --cluster reshard`
// (key-by-key MIGRATE, the way an operator moves slots on Redis 7).
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort, LOOPBACK } from './ports.js';
import { sendCommand } from './resp.js';
import { startServerProcess, type ServerHandle } from './servers.js';

export interface RedisClusterNode {
  handle: ServerHandle;
  port: number;
  id: string;
}

export interface RunResult { code: number | null; ms: number; tail: string }

/** Runs a command, keeping the last 8 KiB of its output; bounded in time (SIGKILL at the deadline). */
export function run(cmd: string, args: readonly string[], timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    const keep = (d: Buffer): void => {
      tail = (tail + d.toString()).slice(-8192);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => keep(Buffer.from(String(e))));
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, ms: performance.now() - t0, tail });
    });
  });
}

export class RedisClusterBench {
  readonly nodes: RedisClusterNode[] = [];
  private dir = '';

  async startNode(): Promise<RedisClusterNode> {
    if (this.dir === '') this.dir = await mkdtemp(path.join(os.tmpdir(), 'ringcache-bench-migration-redis-'));
    const port = await freePort();
    let bus = await freePort();
    while (bus === port) bus = await freePort();
    const argv = [
      'redis-server', '--port', String(port), '--bind', LOOPBACK, '--save', '', '--appendonly', 'no', '--protected-mode', 'no',
      '--dir', this.dir, '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--cluster-port', String(bus),
      '--cluster-node-timeout', '5000',
    ];
    const handle = await startServerProcess('redis', argv, port, 10_000);
    this.nodes.push({ handle, port, id: '' });
    const node = this.nodes.at(-1)!;
    node.id = String(await sendCommand(port, ['CLUSTER', 'MYID'], 5000));
    return node;
  }

  async create(nodes: readonly RedisClusterNode[]): Promise<void> {
    const r = await run('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `${LOOPBACK}:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'], 60_000);
    if (r.code !== 0) throw new Error(`redis-cli --cluster create failed (${r.code}): ${r.tail.slice(-600)}`);
    await this.waitConsistent(nodes.length, 60_000);
  }

  async addNode(node: RedisClusterNode, existing: RedisClusterNode): Promise<void> {
    const r = await run('redis-cli', ['--cluster', 'add-node', `${LOOPBACK}:${node.port}`, `${LOOPBACK}:${existing.port}`], 60_000);
    if (r.code !== 0) throw new Error(`redis-cli --cluster add-node failed (${r.code}): ${r.tail.slice(-600)}`);
    await this.waitConsistent(this.nodes.length, 60_000);
  }

  /** Every node: cluster_state ok, knows `count` nodes, and all agree on who owns which slot. */
  async waitConsistent(count: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      try {
        const infos = await Promise.all(this.nodes.map((n) => sendCommand(n.port, ['CLUSTER', 'INFO'], 2000)));
        const views = await Promise.all(this.nodes.map((n) => sendCommand(n.port, ['CLUSTER', 'SLOTS'], 2000)));
        last = infos.map(String).join(' | ').replace(/\r\n/g, ' ');
        const norm = (v: unknown): string => JSON.stringify(((v as unknown[][]) ?? []).map((r) => [r[0], r[1], (r[2] as unknown[])[1]]).sort((a, b) => Number(a[0]) - Number(b[0])));
        const ok = infos.every((s) => /cluster_state:ok/.test(String(s)) && new RegExp(`cluster_known_nodes:${count}\\b`).test(String(s)))
          && views.every((v) => norm(v) === norm(views[0]));
        if (ok) return;
      } catch (err) {
        last = (err as Error).message;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`Redis Cluster not consistent within ${timeoutMs} ms: ${last.slice(0, 400)}`);
  }

  /** `redis-cli --cluster reshard` of `slots` slots from all primaries to `to`. */
  reshard(seed: RedisClusterNode, to: RedisClusterNode, slots: number, pipeline: number): Promise<RunResult> {
    return run('redis-cli', [
      '--cluster', 'reshard', `${LOOPBACK}:${seed.port}`, '--cluster-from', 'all', '--cluster-to', to.id,
      '--cluster-slots', String(slots), '--cluster-yes', '--cluster-pipeline', String(pipeline),
    ], 3_600_000);
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.handle.stop()));
    if (this.dir !== '') await rm(this.dir, { recursive: true, force: true }).catch(() => {});
  }
}
