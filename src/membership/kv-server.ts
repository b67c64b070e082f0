/**
 * Serves a KvStore (the MemoryKv `ringcache dev` hosts) over TCP with RESP, so
 * node processes reach it through RemoteKv and run the same membership code as
 * against etcd. Loopback only by intent: there is no authentication.
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
 *                               {"events":[KvEvent...]}, or {"error":msg} and close.
 * Errors: `-UNAVAILABLE msg` when the store is unavailable, `-ERR msg` otherwise
 * (an unknown lease, a malformed request). Replies come in request order.
 */
import net from 'node:net';
import { RequestParser } from '../protocol/parser.js';
import { KvUnavailableError, type KvStore, type KvWatch } from './kv.js';

export class KvServer {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private readonly watches = new Set<KvWatch>();

  constructor(
    private readonly store: KvStore,
    /** Sent in KV.HELLO and WATCH so clients can detect a replaced store. */
    private readonly storeId: string = (store as { storeId?: string }).storeId ?? 'store',
  ) {}

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
    let chain: Promise<void> = Promise.resolve();
    let watch: KvWatch | undefined;
    let watching = false;
    const send = (b: string): void => {
      if (!socket.destroyed) socket.write(b);
    };
    const parser = new RequestParser({
      onCommand: (argv) => {
        const args: string[] = [];
        for (let i = 0; i < argv.length; i++) args.push(argv.view(i).toString('utf8'));
        if (watching) return; // a watch connection takes no more commands
        if (args[0]?.toUpperCase() === 'WATCH') {
          watching = true;
          chain = chain.then(async () => {
            watch = await this.startWatch(socket, args);
          });
          return;
        }
        chain = chain.then(async () => send(await this.execute(args)));
      },
      onProtocolError: (message) => {
        send(`-ERR ${message}\r\n`);
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

  private async startWatch(socket: net.Socket, args: string[]): Promise<KvWatch | undefined> {
    const fail = (msg: string): undefined => {
      if (!socket.destroyed) socket.end(bulk(JSON.stringify({ error: msg })));
      return undefined;
    };
    const [, prefix, from] = args;
    if (prefix === undefined || from === undefined || !/^\d+$/.test(from)) return fail('usage: WATCH prefix fromRevision');
    if (socket.destroyed) return undefined;
    socket.write(bulk(JSON.stringify({ storeId: this.storeId })));
    try {
      const w = await this.store.watch(prefix, Number(from), {
        onEvents: (events) => {
          if (!socket.destroyed) socket.write(bulk(JSON.stringify({ events })));
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

  private async execute(args: string[]): Promise<string> {
    const cmd = (args[0] ?? '').toUpperCase();
    const need = (n: number): void => {
      if (args.length !== n + 1) throw new Error(`wrong number of arguments for '${cmd}'`);
    };
    try {
      switch (cmd) {
        case 'KV.HELLO': {
          const { revision } = await this.store.range('\u0000none\u0000');
          return bulk(JSON.stringify({ storeId: this.storeId, revision }));
        }
        case 'KV.RANGE':
          need(1);
          return bulk(JSON.stringify(await this.store.range(args[1]!)));
        case 'KV.GET': {
          need(1);
          const e = await this.store.get(args[1]!);
          return e ? bulk(JSON.stringify(e)) : '$-1\r\n';
        }
        case 'KV.TXN': {
          need(1);
          const body = JSON.parse(args[1]!) as { compares?: unknown; ops?: unknown };
          if (!Array.isArray(body.compares) || !Array.isArray(body.ops)) throw new Error('KV.TXN wants {"compares":[],"ops":[]}');
          return bulk(JSON.stringify(await this.store.txn(body.compares, body.ops)));
        }
        case 'LEASE.GRANT': {
          need(1);
          const ttl = Number(args[1]);
          if (!Number.isFinite(ttl) || ttl <= 0) throw new Error('LEASE.GRANT wants a positive TTL in ms');
          return bulk(JSON.stringify(await this.store.grantLease(ttl)));
        }
        case 'LEASE.KEEPALIVE':
          need(1);
          return (await this.store.keepAlive(args[1]!)) ? ':1\r\n' : ':0\r\n';
        case 'LEASE.REVOKE':
          need(1);
          await this.store.revokeLease(args[1]!);
          return '+OK\r\n';
        default:
          throw new Error(`unknown command '${cmd}'`);
      }
    } catch (err) {
      const msg = oneLine((err as Error).message);
      return err instanceof KvUnavailableError ? `-UNAVAILABLE ${msg}\r\n` : `-ERR ${msg}\r\n`;
    }
  }
}

function bulk(s: string): string {
  return `$${Buffer.byteLength(s)}\r\n${s}\r\n`;
}

function oneLine(s: string): string {
  return s.replace(/[\r\n]+/g, ' ');
}
