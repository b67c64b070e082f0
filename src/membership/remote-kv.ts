/**
 * A KvStore reached over TCP: the client side of kv-server.ts (the protocol is
 * described there). Node processes of `ringcache dev` use it to share the dev
 * process's MemoryKv.
 *
 * Failure behaviour matches what the membership code expects from etcd: every
 * call settles within timeoutMs, failing with KvUnavailableError when the
 * server cannot be reached (a timed-out connection is dropped, so a half-open
 * socket cannot hold later calls); the next call reconnects. A watch keeps its
 * own connection, reconnects every RETRY_MS until cancelled and resumes after
 * the last revision it delivered (also when the server goes silent: it sends
 * a heartbeat every second); a server now hosting a different store
 * (another storeId: revisions restarted) ends the watch with onError.
 */
import net from 'node:net';
import { encodeRequest } from '../protocol/request-encoder.js';
import { replyEnd } from '../protocol/reply-framer.js';
import {
  KvUnavailableError,
  type KvCompare,
  type KvEntry,
  type KvEvent,
  type KvOp,
  type KvStore,
  type KvTxnResult,
  type KvWatch,
  type KvWatchHandlers,
} from './kv.js';

export interface RemoteKvOptions {
  host: string;
  port: number;
  /** Bound on every call, connecting included. */
  timeoutMs?: number;
}

/** Delay between a watch's reconnection attempts. */
const RETRY_MS = 200;
/** A watch connection silent this long (the server sends a heartbeat every second) is dropped and re-made. */
const WATCH_SILENCE_MS = 3500;

type Reply = { kind: 'ok' | 'bulk'; text: string } | { kind: 'int'; n: number } | { kind: 'null' } | { kind: 'err'; text: string };

/** Takes every complete reply (simple types and bulks only: all the server sends) off the front of buf. */
class ReplyReader {
  private buf: Buffer = Buffer.alloc(0);
  push(chunk: Buffer): Reply[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: Reply[] = [];
    let pos = 0;
    while (pos < this.buf.length) {
      const end = replyEnd(this.buf, pos);
      if (end < 0) break;
      const type = this.buf[pos];
      const cr = this.buf.indexOf(13, pos);
      const line = this.buf.toString('utf8', pos + 1, cr);
      if (type === 36) out.push(Number(line) < 0 ? { kind: 'null' } : { kind: 'bulk', text: this.buf.toString('utf8', cr + 2, end - 2) });
      else if (type === 58) out.push({ kind: 'int', n: Number(line) });
      else if (type === 45) out.push({ kind: 'err', text: line });
      else out.push({ kind: 'ok', text: line });
      pos = end;
    }
    this.buf = this.buf.subarray(pos);
    return out;
  }
}

interface Pending {
  resolve(r: Reply): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

export class RemoteKv implements KvStore {
  private readonly host: string;
  private readonly port: number;
  private readonly timeoutMs: number;
  private socket: net.Socket | undefined;
  private queue: Pending[] = [];
  private readonly watches = new Set<KvWatch>();
  private closed = false;

  constructor(opts: RemoteKvOptions) {
    this.host = opts.host;
    this.port = opts.port;
    this.timeoutMs = opts.timeoutMs ?? 1000;
  }

  private unavailable(why: string): KvUnavailableError {
    return new KvUnavailableError(`kv server ${this.host}:${this.port}: ${why}`);
  }

  private connection(): net.Socket {
    if (this.socket && !this.socket.destroyed) return this.socket;
    const s = net.connect({ host: this.host, port: this.port });
    s.setNoDelay(true);
    const reader = new ReplyReader();
    s.on('data', (d: Buffer) => {
      for (const r of reader.push(d)) {
        const p = this.queue.shift();
        if (!p) continue;
        clearTimeout(p.timer);
        p.resolve(r);
      }
    });
    const fail = (why: string): void => {
      if (this.socket === s) this.drop(why);
    };
    s.on('error', (e) => fail(e.message));
    s.on('close', () => fail('connection closed'));
    this.socket = s;
    return s;
  }

  /** Drops the connection and fails every call waiting on it. */
  private drop(why: string): void {
    const s = this.socket;
    this.socket = undefined;
    s?.destroy();
    const q = this.queue;
    this.queue = [];
    for (const p of q) {
      clearTimeout(p.timer);
      p.reject(this.unavailable(why));
    }
  }

  private call(args: string[]): Promise<Reply> {
    if (this.closed) return Promise.reject(this.unavailable('client closed'));
    return new Promise((resolve, reject) => {
      const s = this.connection();
      const timer = setTimeout(() => {
        if (this.socket === s) this.drop(`no reply within ${this.timeoutMs} ms`);
      }, this.timeoutMs);
      timer.unref();
      this.queue.push({ resolve, reject, timer });
      s.write(encodeRequest(args));
    });
  }

  private async json<T>(args: string[]): Promise<T> {
    const r = await this.call(args);
    if (r.kind === 'bulk') return JSON.parse(r.text) as T;
    if (r.kind === 'null') return undefined as T;
    throw this.replyError(r);
  }

  private replyError(r: Reply): Error {
    if (r.kind === 'err') {
      if (r.text.startsWith('UNAVAILABLE ')) return this.unavailable(r.text.slice(12));
      return new Error(r.text.replace(/^ERR /, ''));
    }
    return new Error(`unexpected reply ${JSON.stringify(r)}`);
  }

  /** The id of the store the server hosts. */
  async hello(): Promise<{ storeId: string; revision: number }> {
    return this.json(['KV.HELLO']);
  }

  range(prefix: string): Promise<{ entries: KvEntry[]; revision: number }> {
    return this.json(['KV.RANGE', prefix]);
  }

  get(key: string): Promise<KvEntry | undefined> {
    return this.json(['KV.GET', key]);
  }

  txn(compares: KvCompare[], ops: KvOp[]): Promise<KvTxnResult> {
    return this.json(['KV.TXN', JSON.stringify({ compares, ops })]);
  }

  grantLease(ttlMs: number): Promise<{ id: string; ttlMs: number }> {
    return this.json(['LEASE.GRANT', String(ttlMs)]);
  }

  async keepAlive(lease: string): Promise<boolean> {
    const r = await this.call(['LEASE.KEEPALIVE', lease]);
    if (r.kind === 'int') return r.n === 1;
    throw this.replyError(r);
  }

  async revokeLease(lease: string): Promise<void> {
    const r = await this.call(['LEASE.REVOKE', lease]);
    if (r.kind !== 'ok') throw this.replyError(r);
  }

  /**
   * Resolves once the server has accepted the watch (rejects with
   * KvUnavailableError when it cannot within timeoutMs); after that the watch
   * reconnects by itself until cancelled.
   */
  watch(prefix: string, fromRevision: number, handlers: KvWatchHandlers): Promise<KvWatch> {
    if (this.closed) return Promise.reject(this.unavailable('client closed'));
    let lastRevision = fromRevision;
    let storeId: string | undefined;
    let socket: net.Socket | undefined;
    let retry: NodeJS.Timeout | undefined;
    let done = false;
    const watches = this.watches;
    const w: KvWatch = {
      cancel: async () => {
        done = true;
        watches.delete(w);
        clearTimeout(retry);
        socket?.destroy();
      },
    };
    const end = (err: Error): void => {
      if (done) return;
      void w.cancel();
      handlers.onError(err);
    };
    return new Promise((resolve, reject) => {
      let settled = false;
      const attempt = (): void => {
        if (done) return;
        const s = net.connect({ host: this.host, port: this.port });
        socket = s;
        s.setNoDelay(true);
        const reader = new ReplyReader();
        let greeted = false;
        // Until the greeting: timeoutMs; after it, WATCH_SILENCE_MS without any message.
        let timer = setTimeout(() => s.destroy(), this.timeoutMs);
        timer.unref();
        s.on('data', (d: Buffer) => {
          if (greeted) timer.refresh();
          for (const r of reader.push(d)) {
            if (done || socket !== s) return;
            if (r.kind !== 'bulk') return end(this.replyError(r));
            let msg: { storeId?: string; events?: KvEvent[]; error?: string };
            try {
              msg = JSON.parse(r.text) as typeof msg;
            } catch {
              return end(new Error(`malformed watch message from the kv server: ${r.text.slice(0, 80)}`));
            }
            if (!greeted) {
              greeted = true;
              clearTimeout(timer);
              timer = setTimeout(() => s.destroy(), WATCH_SILENCE_MS);
              timer.unref();
              if (storeId !== undefined && msg.storeId !== storeId) {
                return end(new Error(`the kv server now hosts another store (${msg.storeId ?? '?'}, was ${storeId}): re-read and watch again`));
              }
              storeId = msg.storeId;
              if (!settled) {
                settled = true;
                watches.add(w);
                resolve(w);
              }
            } else if (msg.error !== undefined) {
              return end(new Error(msg.error));
            } else if (msg.events && msg.events.length > 0) {
              lastRevision = Math.max(lastRevision, ...msg.events.map((e) => e.entry.modRevision));
              handlers.onEvents(msg.events);
            }
          }
        });
        s.on('error', () => s.destroy());
        s.on('close', () => {
          clearTimeout(timer);
          if (done || socket !== s) return;
          if (!settled) {
            settled = true;
            done = true;
            reject(this.unavailable('cannot start a watch'));
            return;
          }
          retry = setTimeout(attempt, RETRY_MS);
          retry.unref();
        });
        s.write(encodeRequest(['WATCH', prefix, String(lastRevision)]));
      };
      attempt();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.drop('client closed');
    await Promise.all([...this.watches].map((w) => w.cancel()));
  }
}
