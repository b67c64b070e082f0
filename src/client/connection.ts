/**
 * One connection to one node: commands are queued in order, written together
 * once per tick (automatic pipelining), and matched to replies in order (RESP
 * replies come back in request order). The transport is injectable so tests can
 * run without a network.
 */
import net from 'node:net';
import { Deque } from './deque.js';
import { ConnectionClosedError, QueueFullError, ReplyError, TimeoutError } from './errors.js';
import { encodeCommand, ReplyDecoder, type Arg, type Reply } from './resp.js';

/** The socket surface a Connection needs: net.Socket satisfies it. */
export interface Transport {
  write(data: string | Buffer): boolean;
  destroy(err?: Error): void;
  setNoDelay?(noDelay: boolean): unknown;
  on(event: 'connect' | 'close', listener: () => void): unknown;
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
}

/** Opens a transport to host:port; it must emit 'connect' once it can be written to. */
export type Connector = (host: string, port: number) => Transport;

/** The default Connector: a TCP connection. */
export const tcpConnector: Connector = (host, port) => net.connect({ host, port });

/** Options of a Connection. */
export interface ConnectionOptions {
  host: string;
  port: number;
  /** Most commands waiting for a reply (or to be written) at once; more are refused with QueueFullError. */
  maxQueue: number;
  /** How long to wait for the TCP connection. */
  connectTimeoutMs: number;
  /** Commands sent first on the connection (AUTH, READONLY); an error reply to one closes it. */
  init?: readonly Arg[][];
  /** Opens the transport (default TCP). */
  connector?: Connector;
  /** The clock for timeouts (default Date.now). */
  now?: () => number;
  /** Called once when the connection is gone for good, with the reason. */
  onClose?: (err: Error) => void;
}

interface Pending {
  resolve: (r: Reply) => void;
  reject: (e: Error) => void;
  sentAt: number;
  timeoutMs: number;
  /** Answered, timed out or failed: a reply that still arrives is discarded. */
  done: boolean;
  written: boolean;
}

/** A pipelined connection to one node (see the file comment). */
export class Connection {
  /** `host:port`. */
  readonly address: string;
  private readonly transport: Transport;
  private readonly queue = new Deque<Pending>();
  private readonly decoder: ReplyDecoder;
  private readonly now: () => number;
  private outbox: Array<string | Buffer> = [];
  private unwritten: Pending[] = [];
  private flushScheduled = false;
  private state: 'connecting' | 'ready' | 'closed' = 'connecting';
  private sweepTimer: NodeJS.Timeout | undefined;
  private connectTimer: NodeJS.Timeout | undefined;
  private minTimeoutMs = Infinity;
  private lastDataAt = 0;
  private closeReason: Error | undefined;

  constructor(private readonly options: ConnectionOptions) {
    this.address = `${options.host}:${options.port}`;
    this.now = options.now ?? Date.now;
    this.decoder = new ReplyDecoder((r) => this.onReply(r));
    this.transport = (options.connector ?? tcpConnector)(options.host, options.port);
    this.transport.setNoDelay?.(true);
    this.connectTimer = setTimeout(() => this.fail(new ConnectionClosedError(this.address, `connect to ${this.address} timed out after ${options.connectTimeoutMs} ms`)), options.connectTimeoutMs);
    this.transport.on('connect', () => {
      clearTimeout(this.connectTimer);
      if (this.state !== 'connecting') return;
      this.state = 'ready';
      this.flush();
    });
    this.transport.on('data', (chunk) => {
      this.lastDataAt = this.now();
      try {
        this.decoder.feed(chunk);
      } catch (err) {
        this.fail(new ConnectionClosedError(this.address, `protocol error from ${this.address}: ${(err as Error).message}`));
      }
    });
    this.transport.on('error', (err) => this.fail(new ConnectionClosedError(this.address, `connection to ${this.address} failed: ${err.message}`, { cause: err })));
    this.transport.on('close', () => this.fail(new ConnectionClosedError(this.address, `connection to ${this.address} closed`)));
    for (const args of options.init ?? []) {
      this.send(args, options.connectTimeoutMs).then((r) => {
        if (r instanceof ReplyError) this.fail(new ConnectionClosedError(this.address, `${String(args[0])} on ${this.address} failed: ${r.message}`));
      }, () => {});
    }
  }

  /** True once the connection failed or was closed; a new Connection is needed. */
  get closed(): boolean {
    return this.state === 'closed';
  }

  /** Commands waiting for a reply or to be written. */
  get inFlight(): number {
    return this.queue.length;
  }

  /**
   * Queues a command; it is written with everything else queued in this tick.
   * Resolves with the reply (error replies included, as ReplyError values) and
   * rejects only on timeout, a full queue, or a connection failure.
   */
  send(args: readonly Arg[], timeoutMs: number): Promise<Reply> {
    if (this.state === 'closed') {
      const err = new ConnectionClosedError(this.address, this.closeReason?.message ?? `connection to ${this.address} closed`);
      return Promise.reject(err);
    }
    if (this.queue.length >= this.options.maxQueue) {
      return Promise.reject(new QueueFullError(`more than ${this.options.maxQueue} commands wait for ${this.address}`));
    }
    const data = encodeCommand(args);
    return new Promise<Reply>((resolve, reject) => {
      const p: Pending = { resolve, reject, sentAt: this.now(), timeoutMs, done: false, written: false };
      this.queue.push(p);
      this.unwritten.push(p);
      this.outbox.push(data);
      if (timeoutMs < this.minTimeoutMs) this.minTimeoutMs = timeoutMs;
      if (this.sweepTimer === undefined) this.armSweep();
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        process.nextTick(() => this.flush());
      }
    });
  }

  /** Closes the connection; commands still waiting fail with ConnectionClosedError. */
  close(): void {
    this.fail(new ConnectionClosedError(this.address, `connection to ${this.address} was closed by the client`));
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.state !== 'ready' || this.outbox.length === 0) return;
    const out = this.outbox;
    this.outbox = [];
    let data: string | Buffer;
    if (out.length === 1) data = out[0]!;
    else if (out.every((x) => typeof x === 'string')) data = out.join('');
    else data = Buffer.concat(out.map((x) => (typeof x === 'string' ? Buffer.from(x) : x)));
    for (const p of this.unwritten) p.written = true;
    this.unwritten = [];
    this.transport.write(data);
  }

  private onReply(reply: Reply): void {
    const p = this.queue.shift();
    if (p === undefined) {
      this.fail(new ConnectionClosedError(this.address, `unexpected reply from ${this.address}`));
      return;
    }
    if (p.done) return;
    p.done = true;
    p.resolve(reply);
  }

  /*
   * One timer per connection instead of one per command. Replies come in send
   * order, so scanning from the oldest command can stop at the first one sent
   * less than the smallest timeout ago: every later one is younger still.
   */
  private armSweep(): void {
    const every = Math.max(5, Math.min(100, Math.floor(this.minTimeoutMs / 4)));
    // Not unref'd: a command waiting for its reply keeps the process alive until it times out.
    this.sweepTimer = setTimeout(() => this.sweep(), every);
  }

  private sweep(): void {
    this.sweepTimer = undefined;
    if (this.state === 'closed') return;
    const now = this.now();
    let expired = 0;
    for (let i = 0; i < this.queue.length; i++) {
      const p = this.queue.at(i)!;
      if (p.sentAt + this.minTimeoutMs > now) break;
      if (!p.done && now - p.sentAt >= p.timeoutMs) {
        p.done = true;
        expired++;
        p.reject(new TimeoutError(`no reply from ${this.address} within ${p.timeoutMs} ms`));
      }
    }
    // A connection that timed commands out and has received nothing since the
    // oldest was sent is stuck (a hung or unreachable node): drop it, so the
    // queue does not fill with commands that will never be answered.
    const head = this.queue.at(0);
    if (expired > 0 && head !== undefined && this.lastDataAt < head.sentAt) {
      this.fail(new ConnectionClosedError(this.address, `connection to ${this.address} stopped answering`));
      return;
    }
    if (this.queue.length === 0) this.minTimeoutMs = Infinity;
    else this.armSweep();
  }

  private fail(err: ConnectionClosedError): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.closeReason = err;
    clearTimeout(this.connectTimer);
    clearTimeout(this.sweepTimer);
    this.sweepTimer = undefined;
    this.transport.destroy();
    this.decoder.reset();
    this.outbox = [];
    this.unwritten = [];
    for (const p of this.queue.drain()) {
      if (p.done) continue;
      p.done = true;
      p.reject(new ConnectionClosedError(this.address, err.message, { cause: err.cause, written: p.written }));
    }
    this.options.onClose?.(err);
  }
}
