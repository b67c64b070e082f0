/**
 * ClusterUnderTest for today's ringcache: N `ringcache server` processes (the
 * compiled CLI, bin/ringcache.js, as users run it) on free loopback ports, with
 * static membership (every node gets the same --peers list), or one standalone
 * node (no --peers). Membership cannot change, so addNode/removeNode reject
 * until the dynamic cluster (issue 14) brings its own backend. A restarted node
 * comes back on its port, empty (ringcache has no persistence or replicas).
 */
import { fileURLToPath } from 'node:url';
import { NotSupportedError, refId, type ClusterCapabilities, type ClusterUnderTest, type NodeHandle, type NodeRef, type NodeState } from './cluster-under-test.js';
import { freePorts, startProcess, type ManagedProcess } from './processes.js';

const CLI = fileURLToPath(new URL('../../bin/ringcache.js', import.meta.url));
const READY_TIMEOUT_MS = 20_000;
const START_ATTEMPTS = 3;

export interface StaticClusterOptions {
  nodes: number;
  /** One node without --peers (nodes must be 1). */
  standalone?: boolean;
  /** Start the nodes with --proxy. */
  proxy?: boolean;
  /** Extra flags for every node (--maxmemory ...). */
  nodeArgs?: string[];
  host?: string;
}

interface Member {
  id: string;
  host: string;
  port: number;
  proc: ManagedProcess | null;
  state: NodeState;
}

export class StaticCluster implements ClusterUnderTest {
  readonly system = 'ringcache' as const;
  readonly description: string;
  readonly capabilities: ClusterCapabilities;
  private members: Member[] = [];
  private args: string[] = [];
  private readonly starting = new Set<string>();
  private readonly host: string;

  constructor(private readonly opts: StaticClusterOptions) {
    if (!Number.isInteger(opts.nodes) || opts.nodes < 1) throw new Error('a cluster needs at least one node');
    if (opts.standalone && opts.nodes !== 1) throw new Error('a standalone target has exactly one node');
    this.host = opts.host ?? '127.0.0.1';
    this.capabilities = { membership: opts.standalone ? 'standalone' : 'static', replicas: 0, addRemove: false, clustered: !opts.standalone };
    this.description = opts.standalone
      ? 'ringcache, one standalone node'
      : `ringcache, ${opts.nodes} nodes, static membership, no replicas${opts.proxy ? ', proxy mode' : ''}`;
  }

  async start(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const ports = await freePorts(this.opts.nodes, this.host);
      const peers = ports.map((p) => `${this.host}:${p}`).join(',');
      this.args = [
        '--bind', this.host,
        ...(this.opts.standalone ? [] : ['--peers', peers]),
        ...(this.opts.proxy ? ['--proxy'] : []),
        ...(this.opts.nodeArgs ?? []),
      ];
      this.members = ports.map((port) => ({ id: `${this.host}:${port}`, host: this.host, port, proc: null, state: 'stopped' }));
      const started = await Promise.allSettled(this.members.map((m) => this.launch(m)));
      const failure = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (failure === undefined) return;
      await this.stop();
      if (!/EADDRINUSE/.test(String((failure.reason as Error).message)) || attempt >= START_ATTEMPTS) throw failure.reason;
    }
  }

  private async launch(m: Member): Promise<void> {
    this.starting.add(m.id);
    try {
      m.proc = await startProcess({
        name: `ringcache node ${m.id}`,
        command: process.execPath,
        args: [CLI, 'server', '--port', String(m.port), ...this.args],
        ready: / ready on /,
        readyTimeoutMs: READY_TIMEOUT_MS,
      });
    } finally {
      this.starting.delete(m.id);
    }
    m.state = 'running';
    const proc = m.proc;
    void proc.exited.then(({ signal }) => {
      if (m.proc !== proc) return;
      m.proc = null;
      if (m.state !== 'removed') m.state = signal === 'SIGKILL' ? 'killed' : 'stopped';
    });
  }

  /** Static membership: a node serves its slots as soon as it is ready, so only nodes still starting are waited for. */
  async waitUntilServing(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.starting.size > 0) {
      if (Date.now() > deadline) throw new Error(`${this.starting.size} node(s) still starting after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  nodes(): NodeHandle[] {
    return this.members.map((m) => ({ id: m.id, host: m.host, port: m.port, pid: m.proc?.pid ?? null, state: m.state }));
  }

  seeds(): string[] {
    const running = this.members.filter((m) => m.state === 'running');
    return (running.length > 0 ? running : this.members).map((m) => m.id);
  }

  private member(node: NodeRef): Member {
    const id = refId(node);
    const m = this.members.find((x) => x.id === id);
    if (m === undefined) throw new Error(`no node ${id} in this cluster`);
    return m;
  }

  private running(node: NodeRef, what: string): Member & { proc: ManagedProcess } {
    const m = this.member(node);
    if (m.proc === null || !m.proc.isRunning()) throw new Error(`cannot ${what} node ${m.id}: it is ${m.state}`);
    return m as Member & { proc: ManagedProcess };
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
    throw new NotSupportedError('adding a node is not supported by static membership (it needs the dynamic cluster, issue 14)');
  }

  async removeNode(): Promise<void> {
    throw new NotSupportedError('removing a node is not supported by static membership (it needs the dynamic cluster, issue 14)');
  }

  async stop(): Promise<void> {
    await Promise.all(this.members.map(async (m) => {
      if (m.proc !== null) await m.proc.stop();
    }));
  }
}
