/**
 * ClusterUnderTest for `--against redis-cluster`: a Redis Cluster of the same
 * shape as the ringcache cluster (redis-server from Debian, masters only, no
 * persistence), created with `redis-cli --cluster create ... --cluster-yes`
 * (or CLUSTER ADDSLOTSRANGE and MEET below 3 nodes, which redis-cli refuses),
 * or one plain redis-server for a standalone comparison.
 *
 * With `replicas` > 0 (the failover scenario), each master gets that many
 * replicas (`redis-cli --cluster create ... --cluster-replicas N`, so at least
 * 3 masters), and the cluster counts as formed once every replica reports
 * master_link_status:up (a replica that never finished its first sync refuses
 * to fail over). A killed node restarted with its nodes.conf rejoins as Redis
 * makes it: a replica of the replica promoted in its place.
 *
 * Settings that differ from Redis's defaults, for a harness: no RDB or AOF
 * (a cache, as ringcache), cluster-node-timeout 2000 ms (default 15000) so a
 * failure is noticed within a quick run, unless nodeTimeoutMs is given (the
 * failover scenario gives Redis's default unless --node-timeout says
 * otherwise). cluster-require-full-coverage stays
 * at its default (yes): once a dead master is marked failed, the whole cluster
 * answers CLUSTERDOWN. A restarted node reads its nodes.conf (kept in a
 * temporary directory) and rejoins with its slots, empty.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { NotSupportedError, refId, type ClusterCapabilities, type ClusterUnderTest, type NodeHandle, type NodeRef, type NodeState } from './cluster-under-test.js';
import { freePorts, runCommand, startProcess, type ManagedProcess } from './processes.js';
import { call, replyText } from './resp-call.js';

const READY_TIMEOUT_MS = 15_000;
const FORM_TIMEOUT_MS = 30_000;
export const REDIS_NODE_TIMEOUT_MS = 2000;
const SLOTS = 16384;

export interface RedisClusterOptions {
  /** Masters (with replicas, each gets `replicas` more nodes). */
  nodes: number;
  /** Replicas per master (default 0). */
  replicas?: number;
  /** cluster-node-timeout (default REDIS_NODE_TIMEOUT_MS). */
  nodeTimeoutMs?: number;
  standalone?: boolean;
  host?: string;
}

interface Member {
  id: string;
  host: string;
  port: number;
  busPort: number;
  proc: ManagedProcess | null;
  state: NodeState;
}

export class RedisClusterUnderTest implements ClusterUnderTest {
  readonly system = 'redis-cluster' as const;
  readonly description: string;
  readonly capabilities: ClusterCapabilities;
  private members: Member[] = [];
  private dir = '';
  private readonly host: string;

  private readonly replicas: number;
  private readonly nodeTimeoutMs: number;

  constructor(private readonly opts: RedisClusterOptions) {
    if (!Number.isInteger(opts.nodes) || opts.nodes < 1) throw new Error('a cluster needs at least one node');
    if (opts.standalone && opts.nodes !== 1) throw new Error('a standalone target has exactly one node');
    this.replicas = opts.replicas ?? 0;
    if (!Number.isInteger(this.replicas) || this.replicas < 0) throw new Error('replicas must be a whole number');
    if (this.replicas > 0 && (opts.standalone || opts.nodes < 3)) throw new Error('a Redis Cluster with replicas needs at least 3 masters (redis-cli --cluster create)');
    this.nodeTimeoutMs = opts.nodeTimeoutMs ?? REDIS_NODE_TIMEOUT_MS;
    this.host = opts.host ?? '127.0.0.1';
    this.capabilities = { membership: opts.standalone ? 'standalone' : 'redis-cluster', replicas: this.replicas, addRemove: false, clustered: !opts.standalone };
    this.description = opts.standalone
      ? 'redis-server, one standalone node'
      : this.replicas === 0
        ? `Redis Cluster, ${opts.nodes} masters, no replicas (cluster-node-timeout ${this.nodeTimeoutMs} ms)`
        : `Redis Cluster, ${opts.nodes} masters + ${opts.nodes * this.replicas} replicas, asynchronous replication (cluster-node-timeout ${this.nodeTimeoutMs} ms)`;
  }

  /** The cluster-node-timeout the nodes run with (ms). */
  get nodeTimeout(): number {
    return this.nodeTimeoutMs;
  }

  async start(): Promise<void> {
    this.dir = await mkdtemp(path.join(os.tmpdir(), 'ringcache-scenario-redis-'));
    const total = this.opts.nodes * (1 + this.replicas);
    const ports = await freePorts(total * 2, this.host);
    this.members = Array.from({ length: total }, (_, i) => ({
      id: `${this.host}:${ports[i]}`,
      host: this.host,
      port: ports[i]!,
      busPort: ports[total + i]!,
      proc: null,
      state: 'stopped' as NodeState,
    }));
    try {
      await Promise.all(this.members.map((m) => this.launch(m)));
      if (!this.opts.standalone) await this.form();
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  private serverArgs(m: Member): string[] {
    const common = ['--port', String(m.port), '--bind', m.host, '--save', '', '--appendonly', 'no', '--protected-mode', 'no', '--dir', this.dir];
    if (this.opts.standalone) return common;
    return [...common, '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${m.port}.conf`, '--cluster-port', String(m.busPort), '--cluster-node-timeout', String(this.nodeTimeoutMs)];
  }

  private async launch(m: Member): Promise<void> {
    m.proc = await startProcess({ name: `redis-server ${m.id}`, command: 'redis-server', args: this.serverArgs(m), ready: /Ready to accept connections/, readyTimeoutMs: READY_TIMEOUT_MS });
    m.state = 'running';
    const proc = m.proc;
    void proc.exited.then(({ signal }) => {
      if (m.proc !== proc) return;
      m.proc = null;
      m.state = signal === 'SIGKILL' ? 'killed' : 'stopped';
    });
  }

  /** Assigns the slots and joins the nodes, then waits until every node reports cluster_state:ok. */
  private async form(): Promise<void> {
    const n = this.members.length;
    if (n >= 3) {
      const r = await runCommand('redis-cli', ['--cluster', 'create', ...this.members.map((m) => m.id), '--cluster-replicas', String(this.replicas), '--cluster-yes'], FORM_TIMEOUT_MS);
      if (r.code !== 0) throw new Error(`redis-cli --cluster create failed (${r.code}): ${r.output.trim().slice(-500)}`);
    } else {
      for (let i = 0; i < n; i++) {
        const m = this.members[i]!;
        const start = Math.floor((i * SLOTS) / n);
        const end = Math.floor(((i + 1) * SLOTS) / n) - 1;
        await call(m.host, m.port, ['CLUSTER', 'ADDSLOTSRANGE', start, end], 5000);
        if (i > 0) await call(m.host, m.port, ['CLUSTER', 'MEET', this.members[0]!.host, this.members[0]!.port, this.members[0]!.busPort], 5000);
      }
    }
    await this.waitUntilServing(FORM_TIMEOUT_MS);
  }

  /** Waits until every running node says cluster_state:ok and knows every member (standalone: at once). */
  async waitUntilServing(timeoutMs: number): Promise<void> {
    if (this.opts.standalone) return;
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      const states = await Promise.all(this.members.filter((m) => m.state === 'running').map(async (m) => {
        try {
          return replyText(await call(m.host, m.port, ['CLUSTER', 'INFO'], 1000));
        } catch (err) {
          return (err as Error).message;
        }
      }));
      last = states.join(' | ').replace(/\r\n/g, ' ');
      const ok = states.every((s) => /cluster_state:ok/.test(s) && new RegExp(`cluster_known_nodes:${this.members.length}\\b`).test(s) && /cluster_slots_assigned:16384/.test(s));
      if (ok && this.replicas > 0) {
        // Every running replica has finished its sync (its link to its master is up).
        const links = await Promise.all(this.members.filter((m) => m.state === 'running').map(async (m) => {
          try {
            const info = replyText(await call(m.host, m.port, ['INFO', 'replication'], 1000));
            return /^role:slave/m.test(info) && !/^master_link_status:up\s*$/m.test(info) ? `${m.id} ${/^master_link_status:\w+/m.exec(info)?.[0] ?? 'no link status'}` : undefined;
          } catch (err) {
            return `${m.id}: ${(err as Error).message}`;
          }
        }));
        const down = links.filter((l) => l !== undefined);
        if (down.length === 0) return;
        last = `replicas not in sync: ${down.join(', ')}`;
      } else if (ok) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`the Redis Cluster did not become healthy within ${timeoutMs} ms: ${last.slice(0, 400)}`);
  }

  nodes(): NodeHandle[] {
    return this.members.map((m) => ({ id: m.id, host: m.host, port: m.port, pid: m.proc?.pid ?? null, state: m.state }));
  }

  seeds(): string[] {
    const running = this.members.filter((m) => m.state === 'running');
    return (running.length > 0 ? running : this.members).map((m) => m.id);
  }

  private running(node: NodeRef, what: string): Member & { proc: ManagedProcess } {
    const m = this.member(node);
    if (m.proc === null || !m.proc.isRunning()) throw new Error(`cannot ${what} node ${m.id}: it is ${m.state}`);
    return m as Member & { proc: ManagedProcess };
  }

  private member(node: NodeRef): Member {
    const id = refId(node);
    const m = this.members.find((x) => x.id === id);
    if (m === undefined) throw new Error(`no node ${id} in this cluster`);
    return m;
  }

  async kill9(node: NodeRef): Promise<void> {
    const m = this.running(node, 'kill');
    m.state = 'killed';
    await m.proc.kill();
  }

  async pause(node: NodeRef): Promise<void> {
    const m = this.running(node, 'pause');
    m.proc.signal('SIGSTOP');
    m.state = 'paused';
  }

  async resume(node: NodeRef): Promise<void> {
    const m = this.running(node, 'resume');
    m.proc.signal('SIGCONT');
    m.state = 'running';
  }

  async terminate(node: NodeRef): Promise<void> {
    const m = this.running(node, 'terminate');
    m.state = 'stopped';
    await m.proc.stop();
  }

  async restart(node: NodeRef): Promise<void> {
    const m = this.member(node);
    if (m.proc !== null && m.proc.isRunning()) throw new Error(`cannot restart node ${m.id}: it is still running`);
    await this.launch(m);
  }

  async addNode(): Promise<NodeHandle> {
    throw new NotSupportedError('adding a node to the Redis Cluster comparison is not implemented yet (it comes with the scale-out scenario)');
  }

  async removeNode(): Promise<void> {
    throw new NotSupportedError('removing a node from the Redis Cluster comparison is not implemented yet (it comes with the scale-in scenario)');
  }

  async stop(): Promise<void> {
    await Promise.all(this.members.map(async (m) => {
      if (m.proc !== null) await m.proc.stop();
    }));
    if (this.dir !== '') await rm(this.dir, { recursive: true, force: true }).catch(() => {});
  }
}
