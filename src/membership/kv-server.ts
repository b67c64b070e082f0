/**
 * Serves a MemoryKv (the one `ringcache dev` hosts) over TCP, so node processes
 * reach it through RemoteKv and run the same membership code as against etcd.
 * RESP, with the project's own RequestParser and ReplyWriter (RemoteKv frames
 * replies with replyEnd): no second protocol stack. Loopback only by intent:
 * there is no authentication.
 *
 * Wire protocol (requests are RESP arrays of bulk strings; JSON is UTF-8):
 *   KV.HELLO                 -> bulk JSON {"storeId","revision"}
 *   KV.RANGE <prefix>        -> bulk JSON {"entries":[KvEntry...],"revision"}
 *   KV.GET <key>             -> bulk JSON KvEntry, or null bulk
 *   KV.TXN <json>            -> bulk JSON KvTxnResult; json = {"compares":[...],"ops":[...]}
 *   LEASE.GRANT <ttlMs>      -> bulk JSON {"id","ttlMs"}
 *   LEASE.KEEPALIVE <id>     -> :1 alive, :0 gone
 *   LEASE.REVOKE <id>        -> +OK
 *   WATCH <prefix> <fromRev> -> the connection becomes a watch: bulk JSON
 *                               {"storeId"} first, then one bulk JSON per batch,
 *                               {"events":[KvEvent...]}, or {"error":msg} and close;
 *                               `{}` every HEARTBEAT_MS, so the client can tell a
 *                               hung server from a quiet prefix.
 * Errors: `-UNAVAILABLE msg` when the store is unavailable, `-ERR msg` otherwise
 * (an unknown lease, a malformed request). Replies come in request order.
 */
import net from 'node:net';
import { RequestParser } from '../protocol/parser.js';
import { ReplyWriter } from '../protocol/writer.js';
import { KvUnavailableError, type KvWatch } from './kv.js';
import type { MemoryKv } from './memory-kv.js';

/** Interval of the empty messages on a watch connection (RemoteKv re-connects a watch silent for about 3 of them). */
export const HEARTBEAT_MS = 1000;

export class KvServer {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private readonly watches = new Set<KvWatch>();

  /** The store's id goes out in KV.HELLO and WATCH, so clients can tell a replaced store from a reconnect. */
  constructor(private readonly store: MemoryKv) {}

  /** Starts listening; resolves with the port (useful with port 0). */
  listen(port: number, host = '127.0.0.1'): Promise<number> {
    const server = net.createServer((s) => this.onConnection(s));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve((server.address() as net.AddressInfo).port);
      });
    });
  }

  /** Stops listening and drops every connection and watch (the store itself stays open). */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await Promise.all([...this.watches].map((w) => w.cancel()));
    this.watches.clear();
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }

  private onConnection(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.setNoDelay(true);
    const out = new ReplyWriter();
    /** Sends what was written to `out`; take() copies, so the pieces outlive the next reply. */
    const flush = (): void => {
      const pieces = out.take();
      if (pieces && !socket.destroyed) for (const p of pieces) socket.write(p);
    };
    // The store's calls are async: one chain per connection keeps replies in request order.
    let chain: Promise<void> = Promise.resolve();
    let watch: KvWatch | undefined;
    let watching = false;
    const parser = new RequestParser({
      onCommand: (argv) => {
        if (watching) return; // a watch connection takes no more commands
        const args: string[] = [];
        for (let i = 0; i < argv.length; i++) args.push(argv.utf8(i));
        if (args[0]?.toUpperCase() === 'WATCH') {
          watching = true;
          chain = chain.then(async () => {
            watch = await this.startWatch(socket, out, flush, args);
          });
          return;
        }
        chain = chain.then(async () => {
          await this.execute(args, out);
          flush();
        });
      },
      onProtocolError: (message) => {
        out.error(`ERR ${message}`);
        flush();
        socket.end();
      },
    });
    socket.on('data', (d: Buffer) => parser.feed(d));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      this.sockets.delete(socket);
      parser.stop();
      void chain.then(async () => {
        if (watch) {
          this.watches.delete(watch);
          await watch.cancel();
        }
      });
    });
  }

  private async startWatch(socket: net.Socket, out: ReplyWriter, flush: () => void, args: string[]): Promise<KvWatch | undefined> {
    const fail = (msg: string): undefined => {
      out.bulkText(JSON.stringify({ error: msg }));
      flush();
      socket.end();
      return undefined;
    };
    const [, prefix, from] = args;
    if (args.length !== 3 || prefix === undefined || from === undefined || !/^\d+$/.test(from)) return fail('usage: WATCH prefix fromRevision');
    if (socket.destroyed) return undefined;
    out.bulkText(JSON.stringify({ storeId: this.store.storeId }));
    flush();
    const beat = setInterval(() => {
      out.bulkText('{}');
      flush();
    }, HEARTBEAT_MS);
    beat.unref();
    socket.once('close', () => clearInterval(beat));
    try {
      const w = await this.store.watch(prefix, Number(from), {
        onEvents: (events) => {
          out.bulkText(JSON.stringify({ events }));
          flush();
        },
        onError: (err) => fail(err.message),
      });
      if (socket.destroyed) {
        await w.cancel();
        return undefined;
      }
      this.watches.add(w);
      return w;
    } catch (err) {
      return fail((err as Error).message);
    }
  }

  /** Runs one request and writes its one reply. */
  private async execute(args: string[], out: ReplyWriter): Promise<void> {
    const cmd = (args[0] ?? '').toUpperCase();
    const need = (n: number): void => {
      if (args.length !== n + 1) throw new Error(`wrong number of arguments for '${cmd}'`);
    };
    try {
      switch (cmd) {
        case 'KV.HELLO':
          need(0);
          return out.bulkText(JSON.stringify({ storeId: this.store.storeId, revision: this.store.revision }));
        case 'KV.RANGE':
          need(1);
          return out.bulkText(JSON.stringify(await this.store.range(args[1]!)));
        case 'KV.GET': {
          need(1);
          const e = await this.store.get(args[1]!);
          return e ? out.bulkText(JSON.stringify(e)) : out.nullBulk();
        }
        case 'KV.TXN': {
          need(1);
          let body: { compares?: unknown; ops?: unknown };
          try {
            body = JSON.parse(args[1]!) as typeof body;
          } catch {
            throw new Error('KV.TXN wants JSON {"compares":[...],"ops":[...]}');
          }
          if (!Array.isArray(body.compares) || !Array.isArray(body.ops)) throw new Error('KV.TXN wants JSON {"compares":[...],"ops":[...]}');
          return out.bulkText(JSON.stringify(await this.store.txn(body.compares, body.ops)));
        }
        case 'LEASE.GRANT': {
          need(1);
          const ttl = Number(args[1]);
          if (!Number.isFinite(ttl) || ttl <= 0) throw new Error('LEASE.GRANT wants a positive TTL in ms');
          return out.bulkText(JSON.stringify(await this.store.grantLease(ttl)));
        }
        case 'LEASE.KEEPALIVE':
          need(1);
          return out.integer((await this.store.keepAlive(args[1]!)) ? 1 : 0);
        case 'LEASE.REVOKE':
          need(1);
          await this.store.revokeLease(args[1]!);
          return out.simple('OK');
        default:
          throw new Error(`unknown command '${cmd}'`);
      }
    } catch (err) {
      const msg = (err as Error).message;
      out.error(err instanceof KvUnavailableError ? `UNAVAILABLE ${msg}` : `ERR ${msg}`);
    }
  }
}
