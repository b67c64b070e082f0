// Replays a key trace against a server as GET-then-SET-on-miss over one
// pipelined connection, for the hit-ratio benchmark.
//
// Batching: the trace is cut into batches of B requests. One write carries the
// SETs for the previous batch's misses followed by this batch's B GETs; the
// server executes them in that order. Compared with strictly sequential
// GET/SET pairs, a key that misses twice in one batch would have hit the
// second time (its SET would have come in between): the client counts such
// repeats as hits and sends one SET. What remains approximate is the order the
// server sees (two GETs, then the SET, instead of GET, SET, GET) and that a
// batch's SETs land B requests late; B = 1 replays strictly in order.
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { encodeRequest } from '../../src/protocol/request-encoder.js';
import { LOOPBACK } from './ports.js';
import { parseReply, RespError, type RespValue } from './resp.js';
import { keyName } from './traces.js';

/** One TCP connection with at most one pipelined request batch in flight. */
export class PipelinedConnection {
  private pending: Buffer = Buffer.alloc(0);
  private offset = 0;
  private replies: RespValue[] = [];
  private expected = 0;
  private waiter: { resolve: (r: RespValue[]) => void; reject: (e: Error) => void; timer: NodeJS.Timeout } | undefined;
  private failure: Error | undefined;

  private constructor(private readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new Error('connection closed by the server')));
  }

  static connect(port: number, timeoutMs = 5000): Promise<PipelinedConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host: LOOPBACK });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connect to ${LOOPBACK}:${port} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new PipelinedConnection(socket));
      });
    });
  }

  /** Writes `payload` (which holds `count` commands) and resolves with their `count` replies. */
  request(payload: Buffer, count: number, timeoutMs = 30_000): Promise<RespValue[]> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.waiter) return Promise.reject(new Error('PipelinedConnection: a request is already in flight'));
    return new Promise((resolve, reject) => {
      this.replies = [];
      this.expected = count;
      const timer = setTimeout(
        () => this.fail(new Error(`${count - this.replies.length} of ${count} replies missing after ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.waiter = { resolve, reject, timer };
      if (count === 0) this.settle();
      else this.socket.write(payload);
    });
  }

  close(): void {
    this.failure ??= new Error('connection closed');
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.pending = this.offset < this.pending.length ? Buffer.concat([this.pending.subarray(this.offset), chunk]) : chunk;
    this.offset = 0;
    try {
      for (;;) {
        const parsed = parseReply(this.pending, this.offset);
        if (!parsed) break;
        this.replies.push(parsed.value);
        this.offset = parsed.next;
      }
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    if (this.replies.length > this.expected) this.fail(new Error(`${this.replies.length} replies for ${this.expected} commands`));
    else if (this.waiter && this.replies.length === this.expected) this.settle();
  }

  private settle(): void {
    const w = this.waiter;
    if (!w) return;
    this.waiter = undefined;
    clearTimeout(w.timer);
    w.resolve(this.replies);
  }

  private fail(err: Error): void {
    this.failure ??= err;
    const w = this.waiter;
    this.waiter = undefined;
    if (w) {
      clearTimeout(w.timer);
      w.reject(err);
    }
    this.socket.destroy();
  }
}

/** Fixed-shape RESP commands with the 14 key digits patched in place (no per-command allocation). */
class CommandTemplate {
  private readonly template: Buffer;
  private readonly digitsAt: number;

  constructor(args: (string | Buffer)[]) {
    this.template = encodeRequest(args);
    this.digitsAt = this.template.indexOf(keyName(0)) + 2;
  }

  get size(): number {
    return this.template.length;
  }

  /** Encodes the command for key `id` into `out` at `at`. */
  writeTo(out: Buffer, at: number, id: number): void {
    this.template.copy(out, at);
    out.write(String(id).padStart(14, '0'), at + this.digitsAt, 14, 'latin1');
  }
}

export interface ReplayOptions {
  /** Requests to replay (the iterator may end earlier). */
  requests: number;
  /** The first `warmup` requests are replayed but not counted. */
  warmup: number;
  /** GETs per pipelined batch (1 = strictly sequential). */
  batch: number;
  valueSize: number;
  /** Counted requests are also split into this many equal windows, to show the miss ratio over time. */
  windows?: number;
  timeoutMs?: number;
  /** Called after every batch with the number of requests replayed so far. */
  onProgress?: (done: number) => void;
}

export interface ReplayResult {
  requests: number;
  warmup: number;
  counted: number;
  countedHits: number;
  countedMisses: number;
  /** countedMisses / counted. */
  missRatio: number;
  /** All requests, warm-up included. */
  totalMisses: number;
  /** Misses of a key that already missed earlier in the same batch, counted as hits (see the file header). */
  inBatchRepeats: number;
  sets: number;
  /** Replies that were neither a hit of the right size, a miss, nor OK. */
  errors: number;
  firstErrors: string[];
  /** Miss ratio of each window of counted requests, in order. */
  windowMissRatios: number[];
  durationMs: number;
}

export async function replayTrace(conn: PipelinedConnection, keys: Iterator<number>, opts: ReplayOptions): Promise<ReplayResult> {
  const value = Buffer.alloc(opts.valueSize, 'v');
  const get = new CommandTemplate(['GET', keyName(0)]);
  const set = new CommandTemplate(['SET', keyName(0), value]);
  const batch = Math.max(1, Math.floor(opts.batch));
  const windows = Math.max(1, opts.windows ?? 20);
  const countedTotal = Math.max(0, opts.requests - opts.warmup);
  const windowSize = Math.max(1, Math.ceil(countedTotal / windows));
  const windowReq = new Array<number>(windows).fill(0);
  const windowMiss = new Array<number>(windows).fill(0);

  const r: ReplayResult = {
    requests: 0, warmup: opts.warmup, counted: 0, countedHits: 0, countedMisses: 0, missRatio: NaN, totalMisses: 0,
    inBatchRepeats: 0, sets: 0, errors: 0, firstErrors: [], windowMissRatios: [], durationMs: 0,
  };
  const error = (what: string): void => {
    r.errors++;
    if (r.firstErrors.length < 5) r.firstErrors.push(what);
  };
  const started = performance.now();
  const ids: number[] = [];
  let toSet: number[] = [];
  const missedThisBatch = new Set<number>();
  for (;;) {
    ids.length = 0;
    while (ids.length < batch && r.requests + ids.length < opts.requests) {
      const next = keys.next();
      if (next.done) break;
      ids.push(next.value);
    }
    if (ids.length === 0 && toSet.length === 0) break;

    const payload = Buffer.allocUnsafe(toSet.length * set.size + ids.length * get.size);
    let at = 0;
    for (const id of toSet) {
      set.writeTo(payload, at, id);
      at += set.size;
    }
    for (const id of ids) {
      get.writeTo(payload, at, id);
      at += get.size;
    }
    const replies = await conn.request(payload, toSet.length + ids.length, opts.timeoutMs);
    for (let i = 0; i < toSet.length; i++) {
      const reply = replies[i];
      if (reply !== 'OK') error(`SET ${keyName(toSet[i]!)}: ${describe(reply)}`);
    }
    r.sets += toSet.length;

    const base = toSet.length;
    toSet = [];
    missedThisBatch.clear();
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      const reply = replies[base + i];
      let miss: boolean;
      if (reply === null) {
        if (missedThisBatch.has(id)) {
          r.inBatchRepeats++;
          miss = false;
        } else {
          missedThisBatch.add(id);
          toSet.push(id);
          miss = true;
        }
      } else if (typeof reply === 'string' && reply.length === opts.valueSize) {
        miss = false;
      } else {
        error(`GET ${keyName(id)}: ${describe(reply)}`);
        continue;
      }
      const index = r.requests + i;
      if (miss) r.totalMisses++;
      if (index >= opts.warmup) {
        r.counted++;
        const w = Math.min(windows - 1, Math.floor((index - opts.warmup) / windowSize));
        windowReq[w]!++;
        if (miss) {
          r.countedMisses++;
          windowMiss[w]!++;
        } else r.countedHits++;
      }
    }
    r.requests += ids.length;
    opts.onProgress?.(r.requests);
  }
  r.durationMs = performance.now() - started;
  r.missRatio = r.counted > 0 ? r.countedMisses / r.counted : NaN;
  r.windowMissRatios = windowReq.map((n, i) => (n > 0 ? windowMiss[i]! / n : NaN));
  return r;
}

function describe(reply: RespValue | undefined): string {
  if (reply instanceof RespError) return `-${reply.message}`;
  const s = JSON.stringify(reply) ?? 'undefined';
  return s.length > 60 ? `${s.slice(0, 60)}...` : s;
}
