/**
 * Real Redis clients (ioredis, node-redis) behind one small interface, so the
 * same integration checks run against every client and protocol version. Each
 * method goes through the client's own typed API (not a raw command escape
 * hatch) where that API exists, so the client's reply parsing is exercised too.
 */
import { Redis } from 'ioredis';
import { createClient, RESP_TYPES } from 'redis';

export type Resp = 2 | 3;
export type SimpleOp = ['set', string, string] | ['incr', string] | ['get', string];

export interface TestClient {
  readonly label: string;
  set(key: string, value: string | Buffer): Promise<unknown>;
  get(key: string): Promise<string | null>;
  getBuffer(key: string): Promise<Buffer | null>;
  incr(key: string): Promise<number>;
  mset(pairs: Record<string, string>): Promise<unknown>;
  mget(keys: string[]): Promise<Array<string | null>>;
  expire(key: string, seconds: number): Promise<number>;
  ttl(key: string): Promise<number>;
  del(keys: string[]): Promise<number>;
  /** Iterates SCAN to the end; returns every key seen and the number of SCAN calls. */
  scanAll(match: string, count: number): Promise<{ keys: string[]; calls: number }>;
  /** Sends all ops without waiting for replies in between; the replies in order. */
  pipeline(ops: SimpleOp[]): Promise<unknown[]>;
  /** CLIENT INFO, as text. */
  clientInfo(): Promise<string>;
  close(): void;
}

export interface ClientOptions {
  /** Omitted: the library's default (RESP3 through HELLO 3 for both). */
  resp?: Resp;
  password?: string;
}

export type ClientKind = 'ioredis' | 'node-redis';

/** Connects an ioredis client that never retries, so failures surface at once. */
export async function ioredisClient(port: number, { resp, password }: ClientOptions): Promise<TestClient> {
  const r = new Redis({
    host: '127.0.0.1',
    port,
    ...(resp !== undefined && { protocol: resp }),
    ...(password !== undefined && { password }),
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    connectTimeout: 10_000,
  });
  r.on('error', () => {});
  await r.connect();
  return {
    label: `ioredis RESP${resp ?? 'default'}`,
    set: (k, v) => r.set(k, v),
    get: (k) => r.get(k),
    getBuffer: (k) => r.getBuffer(k),
    incr: (k) => r.incr(k),
    mset: (pairs) => r.mset(pairs),
    mget: (keys) => r.mget(keys),
    expire: (k, s) => r.expire(k, s),
    ttl: (k) => r.ttl(k),
    del: (keys) => r.del(keys),
    async scanAll(match, count) {
      const keys: string[] = [];
      let cursor = '0';
      let calls = 0;
      do {
        const [next, batch] = await r.scan(cursor, 'MATCH', match, 'COUNT', count);
        keys.push(...batch);
        cursor = next;
        calls++;
      } while (cursor !== '0' && calls < 100_000);
      return { keys, calls };
    },
    async pipeline(ops) {
      const results = (await r.pipeline(ops).exec()) ?? [];
      return results.map(([err, value]) => {
        if (err) throw err;
        return value;
      });
    },
    clientInfo: async () => String(await r.client('INFO')),
    close: () => r.disconnect(),
  };
}

/** Connects a node-redis client that never reconnects. */
export async function nodeRedisClient(port: number, { resp, password }: ClientOptions): Promise<TestClient> {
  const c = createClient({
    socket: { host: '127.0.0.1', port, reconnectStrategy: false, connectTimeout: 10_000 },
    ...(resp !== undefined && { RESP: resp }),
    ...(password !== undefined && { password }),
  });
  c.on('error', () => {});
  await c.connect();
  const bin = c.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
  const run = (op: SimpleOp): Promise<unknown> => {
    switch (op[0]) {
      case 'set':
        return c.set(op[1], op[2]);
      case 'incr':
        return c.incr(op[1]);
      case 'get':
        return c.get(op[1]);
    }
  };
  return {
    label: `node-redis RESP${resp ?? 'default'}`,
    set: (k, v) => c.set(k, v),
    get: async (k) => (await c.get(k)) as string | null,
    getBuffer: async (k) => (await bin.get(k)) as Buffer | null,
    incr: (k) => c.incr(k),
    mset: (pairs) => c.mSet(pairs),
    mget: async (keys) => (await c.mGet(keys)) as Array<string | null>,
    expire: async (k, s) => Number(await c.expire(k, s)),
    ttl: (k) => c.ttl(k),
    del: (keys) => c.del(keys),
    async scanAll(match, count) {
      const keys: string[] = [];
      let calls = 0;
      for await (const batch of c.scanIterator({ MATCH: match, COUNT: count })) {
        keys.push(...(batch as string[]));
        calls++;
      }
      return { keys, calls };
    },
    pipeline: (ops) => Promise.all(ops.map(run)),
    clientInfo: async () => String(await c.sendCommand(['CLIENT', 'INFO'])),
    close: () => c.destroy(),
  };
}

export function connectClient(kind: ClientKind, port: number, options: ClientOptions): Promise<TestClient> {
  return kind === 'ioredis' ? ioredisClient(port, options) : nodeRedisClient(port, options);
}

/**
 * Tries to connect and run one GET without credentials; resolves with the error
 * messages seen (the connect/command rejection and the client's 'error' events).
 */
export async function connectionErrors(kind: ClientKind, port: number, resp: Resp): Promise<string[]> {
  const seen: string[] = [];
  if (kind === 'ioredis') {
    const r = new Redis({ host: '127.0.0.1', port, protocol: resp, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    r.on('error', (e: Error) => seen.push(e.message));
    try {
      await r.connect();
      await r.get('k');
    } catch (e) {
      seen.push((e as Error).message);
    } finally {
      r.disconnect();
    }
  } else {
    const c = createClient({ socket: { host: '127.0.0.1', port, reconnectStrategy: false }, RESP: resp });
    c.on('error', (e: Error) => seen.push(e.message));
    try {
      await c.connect();
      await c.get('k');
    } catch (e) {
      seen.push((e as Error).message);
    } finally {
      try {
        c.destroy();
      } catch {
        // already closed
      }
    }
  }
  return seen;
}
