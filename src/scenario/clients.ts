/**
 * The clients a scenario's workload can drive, behind one small interface:
 * ringcache's own client (the default), ioredis (Cluster, or a plain client for
 * a standalone node) and node-redis (createCluster / createClient). ioredis and
 * node-redis are devDependencies of ringcache, so they are loaded on demand and
 * a missing package is a clear option error, not a crash.
 *
 * Each client is one connection per node, created by the workload for each of
 * its concurrent clients. Commands issued in the same tick are pipelined by all
 * three (ringcache's client coalesces a tick's commands; ioredis with
 * enableAutoPipelining; node-redis writes its queue per tick).
 */
import { RingCache } from '../client/index.js';

export const CLIENT_KINDS = ['ringcache', 'ioredis', 'node-redis'] as const;
export type ClientKind = (typeof CLIENT_KINDS)[number];

export interface KvClient {
  get(key: string): Promise<string | Buffer | null>;
  set(key: string, value: string): Promise<unknown>;
  close(): Promise<void>;
}

export interface ClientTarget {
  /** host:port addresses to connect to. */
  seeds: string[];
  /** A cluster (Redis Cluster protocol) rather than one standalone node. */
  clustered: boolean;
}

export interface ClientSettings {
  commandTimeoutMs: number;
  connectTimeoutMs: number;
}

const PACKAGE: Record<Exclude<ClientKind, 'ringcache'>, string> = { ioredis: 'ioredis', 'node-redis': 'redis' };

/** Why a client kind cannot be used here (its package is not installed), or undefined when it can. */
export async function clientUnavailable(kind: ClientKind): Promise<string | undefined> {
  if (kind === 'ringcache') return undefined;
  try {
    await import(PACKAGE[kind]);
    return undefined;
  } catch {
    return `--client ${kind} needs the '${PACKAGE[kind]}' package, which is a devDependency of ringcache and is not installed here (npm install ${PACKAGE[kind]})`;
  }
}

const hostPort = (seed: string) => {
  const at = seed.lastIndexOf(':');
  return { host: seed.slice(0, at), port: Number(seed.slice(at + 1)) };
};

export async function connectClient(kind: ClientKind, target: ClientTarget, s: ClientSettings): Promise<KvClient> {
  switch (kind) {
    case 'ringcache':
      return ringcacheClient(target, s);
    case 'ioredis':
      return ioredisClient(target, s);
    case 'node-redis':
      return nodeRedisClient(target, s);
  }
}

async function ringcacheClient(target: ClientTarget, s: ClientSettings): Promise<KvClient> {
  const c = new RingCache({ seeds: target.seeds, commandTimeoutMs: s.commandTimeoutMs, connectTimeoutMs: s.connectTimeoutMs });
  c.on('refreshError', () => {}); // counted through the commands that fail
  await c.connect();
  return { get: (k) => c.get(k), set: (k, v) => c.set(k, v), close: () => c.close() };
}

async function ioredisClient(target: ClientTarget, s: ClientSettings): Promise<KvClient> {
  const { Redis, Cluster } = await import('ioredis');
  const options = { commandTimeout: s.commandTimeoutMs, connectTimeout: s.connectTimeoutMs };
  if (target.clustered) {
    const c = new Cluster(target.seeds.map(hostPort), { enableAutoPipelining: true, redisOptions: options });
    c.on('error', () => {});
    await withTimeout(new Promise<void>((resolve, reject) => {
      c.once('ready', () => resolve());
      c.once('end', () => reject(new Error('ioredis Cluster ended before it was ready')));
    }), s.connectTimeoutMs * 10, 'ioredis Cluster to be ready', () => c.disconnect());
    return { get: (k) => c.get(k), set: (k, v) => c.set(k, v), close: async () => c.disconnect() };
  }
  const r = new Redis({ ...hostPort(target.seeds[0]!), ...options, enableAutoPipelining: true, lazyConnect: true });
  r.on('error', () => {});
  await withTimeout(r.connect(), s.connectTimeoutMs * 10, 'ioredis to connect', () => r.disconnect());
  return { get: (k) => r.get(k), set: (k, v) => r.set(k, v), close: async () => r.disconnect() };
}

async function nodeRedisClient(target: ClientTarget, s: ClientSettings): Promise<KvClient> {
  const { createClient, createCluster } = await import('redis');
  const socket = { connectTimeout: s.connectTimeoutMs };
  if (target.clustered) {
    const c = createCluster({ rootNodes: target.seeds.map((seed) => ({ socket: { ...hostPort(seed), ...socket } })), defaults: { socket }, commandOptions: { timeout: s.commandTimeoutMs } });
    c.on('error', () => {});
    await withTimeout(c.connect(), s.connectTimeoutMs * 10, 'node-redis cluster to connect', () => c.destroy());
    return { get: (k) => c.get(k) as Promise<string | null>, set: (k, v) => c.set(k, v), close: async () => c.destroy() };
  }
  const c = createClient({ socket: { ...hostPort(target.seeds[0]!), ...socket }, commandOptions: { timeout: s.commandTimeoutMs } });
  c.on('error', () => {});
  await withTimeout(c.connect(), s.connectTimeoutMs * 10, 'node-redis to connect', () => c.destroy());
  return { get: (k) => c.get(k) as Promise<string | null>, set: (k, v) => c.set(k, v), close: async () => c.destroy() };
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string, onTimeout: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => {
      onTimeout();
      reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
    }, ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A short, stable name for an error, for the errors-by-type series: a Redis
 * error reply's prefix (CLUSTERDOWN, MOVED, ERR...), ringcache client codes
 * (TIMEOUT, CONNECTION_CLOSED), Node's system codes (ECONNREFUSED), or the
 * error's class. Numbers are masked so addresses do not make new types.
 */
export function errorType(err: unknown): string {
  const e = (err ?? {}) as { code?: unknown; prefix?: unknown; name?: unknown; message?: unknown };
  const message = typeof e.message === 'string' ? e.message : String(err);
  if (typeof e.prefix === 'string' && e.prefix !== '') return e.prefix;
  if (typeof e.code === 'string' && e.code !== '' && e.code !== 'REPLY') return e.code;
  const m = /^([A-Z][A-Z_]+)(\s|$)/.exec(message);
  if (m) return m[1]!;
  if (typeof e.name === 'string' && e.name !== '' && e.name !== 'Error') return e.name;
  // node-redis's TimeoutError keeps the name 'Error' and an empty message: its class says what it is.
  const ctor = (err as { constructor?: { name?: unknown } } | null)?.constructor?.name;
  if (typeof ctor === 'string' && ctor !== '' && ctor !== 'Error' && ctor !== 'Object') return ctor;
  return message.replace(/\d+/g, 'N').slice(0, 40) || 'Error';
}
