/**
 * One pipelined connection from a node to a peer, for proxy mode: requests go
 * out in order, replies come back in order as raw bytes. Every request settles
 * within a bounded time: a peer that is down or slow gives a clear error, never
 * a hang.
 *
 * A request that failed after it reached the peer may have run there: its
 * PeerError says so (`inDoubt`), so that the caller does not answer a write
 * with TRYAGAIN ("not done, retry") when it may be done.
 */
import net from 'node:net';
import { encodeRequest } from '../protocol/request-encoder.js';
import { replyEnd } from '../protocol/reply-framer.js';

export interface PeerLinkOptions {
  host: string;
  port: number;
  protocol: 2 | 3;
  password: string;
  /** Longest wait for one reply (and for the connection). */
  timeoutMs: number;
}

interface Pending {
  resolve(reply: Buffer): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
  /** Handshake replies are consumed here, not handed to a client. */
  internal: boolean;
  /** Written to the socket (it reaches the peer once the socket is connected). */
  written: boolean;
}

export class PeerError extends Error {
  /** The request was written on a connected socket: the peer may have run it. */
  readonly inDoubt: boolean;
  constructor(message: string, inDoubt = false) {
    super(message);
    this.inDoubt = inDoubt;
  }
}

export class PeerLink {
  private socket: net.Socket | undefined;
  private readonly pending: Pending[] = [];
  private input: Buffer = Buffer.alloc(0);
  /** After a failure, new requests fail fast until this time (ms), instead of each waiting for a timeout. */
  private downUntil = 0;
  /** Requests of the current tick, written together: one syscall for a whole pipeline. */
  private outbox: Buffer[] = [];
  /** The current socket has connected: what was written to it may have reached the peer. */
  private connected = false;

  constructor(private readonly opts: PeerLinkOptions) {}

  send(request: Buffer): Promise<Buffer> {
    if (Date.now() < this.downUntil) return Promise.reject(new PeerError(`CLUSTERDOWN the node ${this.opts.host}:${this.opts.port} that owns this slot is unreachable`));
    const socket = this.socket ?? this.connect();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.fail(new PeerError(`TRYAGAIN no reply from ${this.opts.host}:${this.opts.port} within ${this.opts.timeoutMs} ms`)), this.opts.timeoutMs);
      this.pending.push({ resolve, reject, timer, internal: false, written: false });
      this.outbox.push(request);
      if (this.outbox.length === 1) process.nextTick(() => this.flushOutbox(socket));
    });
  }

  private flushOutbox(socket: net.Socket): void {
    const batch = this.outbox;
    this.outbox = [];
    // The link failed in between: its requests were already rejected.
    if (this.socket !== socket || batch.length === 0) return;
    // The outbox holds exactly the requests not written yet, the last of the pending ones.
    for (let i = this.pending.length - batch.length; i < this.pending.length; i++) this.pending[i]!.written = true;
    socket.write(batch.length === 1 ? batch[0]! : Buffer.concat(batch));
  }

  /**
   * Connections made so far. A caller whose requests must form one unbroken
   * sequence (the replication stream) checks it did not change: after a
   * failure the next send() reconnects silently, and requests sent then would
   * run after a gap.
   */
  get connections(): number {
    return this.connectCount;
  }

  private connectCount = 0;

  private connect(): net.Socket {
    const socket = net.connect({ host: this.opts.host, port: this.opts.port, noDelay: true });
    this.socket = socket;
    this.connected = false;
    this.connectCount++;
    // Events of a socket this link has already given up on must not touch its successor.
    const current = () => this.socket === socket;
    socket.once('connect', () => current() && (this.connected = true));
    socket.on('data', (chunk: Buffer) => current() && this.onData(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => current() && this.fail(new PeerError(`CLUSTERDOWN the node ${this.opts.host}:${this.opts.port} that owns this slot is unreachable (${err.code ?? err.message})`)));
    socket.on('close', () => current() && this.fail(new PeerError(`TRYAGAIN the connection to ${this.opts.host}:${this.opts.port} closed`)));
    // The handshake is pipelined ahead of the first request: its reply is consumed here.
    const hello = this.opts.password === '' ? ['HELLO', String(this.opts.protocol)] : ['HELLO', String(this.opts.protocol), 'AUTH', 'default', this.opts.password];
    const timer = setTimeout(() => this.fail(new PeerError(`TRYAGAIN no handshake from ${this.opts.host}:${this.opts.port}`)), this.opts.timeoutMs);
    this.pending.push({ resolve: () => {}, reject: () => {}, timer, internal: true, written: true });
    socket.write(encodeRequest(hello));
    return socket;
  }

  private onData(chunk: Buffer): void {
    this.input = this.input.length === 0 ? chunk : Buffer.concat([this.input, chunk]);
    let pos = 0;
    while (this.pending.length > 0) {
      const end = replyEnd(this.input, pos);
      if (end < 0) break;
      const p = this.pending.shift()!;
      clearTimeout(p.timer);
      const reply = this.input.subarray(pos, end);
      // Refused, the handshake leaves the requests behind it unrun (NOAUTH): nothing is in doubt.
      if (p.internal && reply[0] === 45) this.fail(new PeerError(`CLUSTERDOWN the node ${this.opts.host}:${this.opts.port} refused the handshake: ${reply.toString().trim()}`), false);
      else p.resolve(Buffer.from(reply));
      pos = end;
    }
    this.input = pos >= this.input.length ? Buffer.alloc(0) : this.input.subarray(pos);
  }

  /**
   * Fails every request in flight and drops the connection; the next request
   * reconnects. Those written on a connected socket fail in doubt (unless
   * `mayHaveRun` is false: the peer is known to have run none of them).
   */
  private fail(err: Error, mayHaveRun = true): void {
    const socket = this.socket;
    const reached = this.connected && mayHaveRun;
    this.socket = undefined;
    this.connected = false;
    this.input = Buffer.alloc(0);
    this.outbox = [];
    if (err.message.startsWith('CLUSTERDOWN')) this.downUntil = Date.now() + 1000;
    const doubtful = reached ? new PeerError(err.message, true) : err;
    for (const p of this.pending.splice(0)) {
      clearTimeout(p.timer);
      p.reject(p.written && reached ? doubtful : err);
    }
    socket?.destroy();
  }

  close(): void {
    this.fail(new PeerError('TRYAGAIN the node is shutting down'));
  }
}

/**
 * The error a proxied command's client gets when its forwarding failed. A
 * write that may have run on the owner is answered INDOUBT, never TRYAGAIN:
 * clients retry TRYAGAIN blindly (an INCR would run twice) and read it as "not
 * done". A read, or a request the owner never got, keeps its retryable error.
 */
export function forwardError(err: Error, write: boolean): Error {
  if (!write || !(err instanceof PeerError) || !err.inDoubt) return err;
  const what = err.message.replace(/^[A-Z]+ /, '');
  return new Error(`INDOUBT ${what}: the command was sent and may have run there (check before retrying)`);
}
