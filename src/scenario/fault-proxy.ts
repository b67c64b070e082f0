/**
 * A user-space TCP fault proxy: listens on a loopback port and forwards every
 * connection to one node, with a mode that can change at any time:
 *
 * - pass: bytes flow both ways.
 * - delay(ms): every chunk, both ways, is delivered ms later (order is kept,
 *   also across mode changes).
 * - drop: bytes arriving either way are discarded; connections stay open (new
 *   ones are still opened to the node). A connection that lost bytes has a cut
 *   RESP stream, so when the fault ends it is reset, as a peer that vanished
 *   would be in the end.
 * - blackhole: a host that stopped answering: new connections are accepted but
 *   never opened to the node, bytes either way are discarded. When it ends,
 *   connections that lost bytes are reset; the others are opened to the node.
 * - reset: existing connections get a TCP RST (both sides), new ones are reset
 *   as soon as they are accepted.
 *
 * Usable today in front of a standalone node or a proxy-mode node, whose
 * clients connect to the address they were given. Cluster clients learn node
 * addresses from CLUSTER SLOTS, so a proxy is bypassed there until a node can
 * advertise the proxy's address (the partition scenario waits for the dynamic
 * cluster for that).
 */
import net from 'node:net';

export type ProxyMode = { kind: 'pass' } | { kind: 'delay'; ms: number } | { kind: 'drop' } | { kind: 'blackhole' } | { kind: 'reset' };

export const PROXY_MODES = ['pass', 'delay', 'drop', 'blackhole', 'reset'] as const;

export const describeMode = (m: ProxyMode): string => (m.kind === 'delay' ? `delay ${m.ms} ms` : m.kind);

export interface ProxyStats {
  connections: number;
  bytesForwarded: number;
  bytesDropped: number;
  resets: number;
}

/** One direction of a connection: chunks waiting for their delivery time, in order. */
class Lane {
  private readonly queue: Array<{ due: number; chunk: Buffer }> = [];
  private timer: NodeJS.Timeout | undefined;
  private lastDue = 0;

  constructor(private readonly deliver: (chunk: Buffer) => void) {}

  push(chunk: Buffer, delayMs: number): void {
    const now = performance.now();
    if (delayMs <= 0 && this.queue.length === 0) {
      this.deliver(chunk);
      return;
    }
    const due = Math.max(now + delayMs, this.lastDue);
    this.lastDue = due;
    this.queue.push({ due, chunk });
    this.arm();
  }

  private arm(): void {
    if (this.timer !== undefined || this.queue.length === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const now = performance.now();
      while (this.queue.length > 0 && this.queue[0]!.due <= now + 0.5) this.deliver(this.queue.shift()!.chunk);
      this.arm();
    }, Math.max(0, this.queue[0]!.due - performance.now()));
  }

  clear(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
  }
}

interface Pair {
  client: net.Socket;
  upstream: net.Socket | null;
  /** Bytes were discarded: the stream is cut. */
  tainted: boolean;
  up: Lane;
  down: Lane;
}

export class FaultProxy {
  private server: net.Server | undefined;
  private readonly pairs = new Set<Pair>();
  private current: ProxyMode = { kind: 'pass' };
  private port = 0;
  private readonly counters: ProxyStats = { connections: 0, bytesForwarded: 0, bytesDropped: 0, resets: 0 };

  constructor(readonly target: { host: string; port: number }, private readonly host = '127.0.0.1') {}

  /** Starts listening (port 0: a free one); resolves with the port. */
  async listen(port = 0): Promise<number> {
    const server = net.createServer((socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.host, () => resolve());
    });
    this.port = (server.address() as net.AddressInfo).port;
    return this.port;
  }

  get address(): string {
    return `${this.host}:${this.port}`;
  }

  get mode(): ProxyMode {
    return this.current;
  }

  stats(): ProxyStats {
    return { ...this.counters };
  }

  setMode(mode: ProxyMode): void {
    const previous = this.current;
    this.current = mode;
    if (mode.kind === 'reset') {
      for (const p of this.pairs) this.reset(p);
      return;
    }
    const wasLossy = previous.kind === 'drop' || previous.kind === 'blackhole';
    const isLossy = mode.kind === 'drop' || mode.kind === 'blackhole';
    if (wasLossy && !isLossy) {
      for (const p of this.pairs) {
        if (p.tainted) this.reset(p);
        else if (p.upstream === null) this.connectUpstream(p);
      }
    }
  }

  private accept(client: net.Socket): void {
    this.counters.connections++;
    client.setNoDelay(true);
    if (this.current.kind === 'reset') {
      this.counters.resets++;
      client.resetAndDestroy();
      return;
    }
    const pair: Pair = {
      client,
      upstream: null,
      tainted: false,
      // Backpressure: a side that cannot take more pauses the other until it drains.
      up: new Lane((chunk) => {
        const u = pair.upstream;
        if (u !== null && !u.write(chunk)) {
          client.pause();
          u.once('drain', () => client.resume());
        }
      }),
      down: new Lane((chunk) => {
        if (!client.write(chunk)) {
          pair.upstream?.pause();
          client.once('drain', () => pair.upstream?.resume());
        }
      }),
    };
    this.pairs.add(pair);
    client.on('data', (chunk: Buffer) => this.carry(pair, chunk, 'up'));
    client.on('error', () => {});
    client.on('close', () => this.forget(pair));
    if (this.current.kind !== 'blackhole') this.connectUpstream(pair);
  }

  private connectUpstream(pair: Pair): void {
    const upstream = net.connect(this.target.port, this.target.host);
    upstream.setNoDelay(true);
    pair.upstream = upstream;
    upstream.on('data', (chunk: Buffer) => this.carry(pair, chunk, 'down'));
    upstream.on('error', () => {});
    upstream.on('close', () => this.forget(pair));
  }

  private carry(pair: Pair, chunk: Buffer, direction: 'up' | 'down'): void {
    const m = this.current;
    if (m.kind === 'drop' || m.kind === 'blackhole' || m.kind === 'reset' || (direction === 'up' && pair.upstream === null)) {
      pair.tainted = true;
      this.counters.bytesDropped += chunk.length;
      return;
    }
    this.counters.bytesForwarded += chunk.length;
    (direction === 'up' ? pair.up : pair.down).push(chunk, m.kind === 'delay' ? m.ms : 0);
  }

  private reset(pair: Pair): void {
    this.counters.resets++;
    pair.up.clear();
    pair.down.clear();
    if (!pair.client.destroyed) pair.client.resetAndDestroy();
    if (pair.upstream !== null && !pair.upstream.destroyed) pair.upstream.resetAndDestroy();
    this.pairs.delete(pair);
  }

  /** Closes both sides of a connection (either side closed). */
  private forget(pair: Pair): void {
    if (!this.pairs.has(pair)) return;
    this.pairs.delete(pair);
    pair.up.clear();
    pair.down.clear();
    pair.client.destroy();
    pair.upstream?.destroy();
  }

  /** Stops listening and closes every connection. */
  async stop(): Promise<void> {
    for (const p of [...this.pairs]) this.forget(p);
    const server = this.server;
    this.server = undefined;
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
