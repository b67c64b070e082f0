/**
 * RingCache: the cluster-aware client. Routes each command by its key's slot
 * to the node that owns it over one pipelined connection per node, follows
 * MOVED/ASK, retries transient failures with backoff, and offers typed
 * commands and getOrSet (cache-aside with stampede protection).
 */
import { EventEmitter } from 'node:events';
import { CacheAside, decodeEnvelope, type CacheStore, type GetOrSetOptions } from './cache-aside.js';
import { Connection, type Connector } from './connection.js';
import {
  ClientClosedError, ClusterDownError, ConnectionClosedError, InvalidArgumentError, RedirectLoopError, ReplyError,
} from './errors.js';
import { slotOf } from './lease-key.js';
import { backoffDelay, isTransientClusterError, parseRedirect } from './redirect.js';
import type { Arg, Reply } from './resp.js';
import { jsonSerializer, type Serializer } from './serializer.js';
import {
  addressKey, ClusterTopologySource, parseAddress, sameRouting, UNASSIGNED, type NodeAddress, type TopologySnapshot, type TopologySource,
} from './topology.js';

/** A key: text (sent as UTF-8) or bytes. */
export type Key = string | Buffer;
/** A value the typed commands store as is. Numbers are stored in decimal. */
export type Value = string | Buffer | number;

/** Per-call options. */
export interface CallOptions {
  /** Overrides `commandTimeoutMs` for this call. */
  timeoutMs?: number;
}

/** Options of set. Durations are in milliseconds. */
export interface SetOptions extends CallOptions {
  /** Time to live in milliseconds (SET ... PX). */
  ttl?: number;
  /** Only set if the key does not exist. */
  nx?: boolean;
  /** Only set if the key exists. */
  xx?: boolean;
  /** Keep the key's current TTL (SET ... KEEPTTL). Not with `ttl`. */
  keepTtl?: boolean;
}

/** What onCommand reports about one command. */
export interface CommandEvent {
  /** The command name as sent (`GET`, `SET`...). */
  command: string;
  /** The node that answered last, as `host:port` (undefined if none was reached). */
  node: string | undefined;
  /** From the call to the final reply or error, retries included. */
  durationMs: number;
  /** Set when the command failed. */
  error?: Error;
}

/** Metrics hooks. Called synchronously: keep them cheap. */
export interface MetricsHooks {
  /** A read found its key (get, getBuffer, getValue, mget per key, getOrSet). */
  onHit?(key: string): void;
  /** A read did not find its key. */
  onMiss?(key: string): void;
  /** Every command the client sent, with its latency. */
  onCommand?(event: CommandEvent): void;
}

/** Options of `new RingCache(...)`. Durations are in milliseconds. */
export interface RingCacheOptions {
  /** Addresses (`host:port`) to learn the topology from; any one reachable node is enough. */
  seeds: readonly string[];
  /** Where the slot map comes from (default: CLUSTER SHARDS / SLOTS from the nodes). */
  topologySource?: TopologySource;
  /** How long a command may wait for its reply (default 2000). */
  commandTimeoutMs?: number;
  /** How long to wait for a TCP connection (default 1000). */
  connectTimeoutMs?: number;
  /** Most unanswered commands per node (default 10 000); more fail with QueueFullError. */
  maxQueue?: number;
  /** Retries after a connection loss, TRYAGAIN or CLUSTERDOWN (default 3). */
  maxRetries?: number;
  /** First retry delay, doubled each time, with jitter (default 20). */
  retryDelayMs?: number;
  /** Largest retry delay (default 500). */
  maxRetryDelayMs?: number;
  /** Most MOVED/ASK redirections for one command (default 16, as ioredis). */
  maxRedirections?: number;
  /** Least time between two topology refreshes (default 100). */
  minRefreshIntervalMs?: number;
  /**
   * `replica` sends reads to a replica of the slot's shard when the topology
   * lists one (after READONLY). ringcache nodes advertise no replicas yet, so
   * today every read goes to the primary either way.
   */
  readFrom?: 'primary' | 'replica';
  /** AUTH credentials (ringcache `--requirepass`). */
  password?: string;
  /** AUTH user name (with `password`). */
  username?: string;
  /** Serializer for setValue/getValue/getOrSet (default JSON). */
  serializer?: Serializer;
  /** Metrics hooks (hits, misses, latency). */
  metrics?: MetricsHooks;
  /** Opens connections (default TCP); for tests. */
  connector?: Connector;
}

/** The 'topology' event's payload. */
export interface TopologyChange {
  /** The map before (undefined for the first one). */
  previous: TopologySnapshot | undefined;
  /** The map now in use. */
  current: TopologySnapshot;
}

/** Events: `topology` (TopologyChange), `nodeError` ({ node, error }), `refreshError` (Error), `backgroundError` ({ key, error }: a staleWhileRevalidate refresh failed). */
export interface RingCacheEvents {
  /** The slot map changed (and once when it is first learned). */
  topology: [TopologyChange];
  /** A node's connection failed or closed. */
  nodeError: [{ node: string; error: Error }];
  /** A background topology refresh failed. */
  refreshError: [Error];
  /** A staleWhileRevalidate background refresh failed. */
  backgroundError: [{ key: string; error: unknown }];
}

/** Commands the client never retries once written: running them twice changes the result. */
const NOT_IDEMPOTENT = new Set(['INCR', 'DECR', 'INCRBY', 'DECRBY', 'INCRBYFLOAT', 'APPEND', 'SETRANGE', 'GETDEL', 'GETSET', 'RENAME', 'RENAMENX', 'MSETNX', 'SETNX']);
const READ_ONLY = new Set(['GET', 'MGET', 'EXISTS', 'TTL', 'PTTL', 'STRLEN', 'GETRANGE', 'TYPE', 'EXPIRETIME', 'PEXPIRETIME']);
/** Commands without keys, sent to one node (the first primary) by command(). */
const KEYLESS = new Set([
  'PING', 'ECHO', 'INFO', 'DBSIZE', 'TIME', 'CLUSTER', 'COMMAND', 'CONFIG', 'CLIENT', 'FLUSHALL', 'FLUSHDB', 'KEYS', 'SCAN', 'RANDOMKEY', 'HELLO', 'AUTH', 'SELECT', 'MEMORY', 'LASTSAVE', 'ROLE',
]);

const noop = () => {};

function checkKey(key: unknown): asserts key is Key {
  if (typeof key !== 'string' && !Buffer.isBuffer(key)) throw new InvalidArgumentError(`a key must be a string or a Buffer, got ${key === null ? 'null' : typeof key}`);
}

function checkValue(value: unknown): asserts value is Value {
  if (typeof value === 'string' || Buffer.isBuffer(value)) return;
  if (typeof value === 'number' && Number.isFinite(value)) return;
  throw new InvalidArgumentError(`a value must be a string, a Buffer or a finite number, got ${value === null ? 'null' : typeof value} (use setValue for objects)`);
}

function checkDuration(name: string, ms: unknown): asserts ms is number {
  if (typeof ms !== 'number' || !Number.isInteger(ms) || ms <= 0) throw new InvalidArgumentError(`${name} must be a positive integer number of milliseconds, got ${String(ms)}`);
}

const keyText = (k: Key): string => (typeof k === 'string' ? k : k.toString());
const bulkText = (r: Reply): string | null => (r === null ? null : Buffer.isBuffer(r) ? r.toString() : String(r));
const bulkBuffer = (r: Reply): Buffer | null => (r === null ? null : Buffer.isBuffer(r) ? Buffer.from(r) : Buffer.from(String(r)));

/**
 * The ringcache client.
 *
 * @example
 * const cache = new RingCache({ seeds: ['127.0.0.1:7000'] });
 * await cache.set('greeting', 'hello', { ttl: 60_000 });
 * console.log(await cache.get('greeting'));
 * await cache.close();
 */
export class RingCache extends EventEmitter<RingCacheEvents> {
  private readonly opts: Required<Pick<RingCacheOptions, 'commandTimeoutMs' | 'connectTimeoutMs' | 'maxQueue' | 'maxRetries' | 'retryDelayMs' | 'maxRetryDelayMs' | 'maxRedirections' | 'minRefreshIntervalMs' | 'readFrom'>>;
  private readonly seeds: NodeAddress[];
  private readonly source: TopologySource;
  private readonly serializer: Serializer;
  private readonly metrics: MetricsHooks | undefined;
  private readonly connector: Connector | undefined;
  private readonly connections = new Map<string, Connection>();
  private readonly init: Arg[][] = [];
  private readonly cacheAside: CacheAside;
  private topology: TopologySnapshot | undefined;
  /** slot -> primary address key, derived from the topology (one array lookup per command). */
  private primaryBySlot: Array<NodeAddress | undefined> = [];
  private refreshing: Promise<void> | undefined;
  private refreshAgain = false;
  private lastRefreshAt = 0;
  private refreshTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private replicaTurn = 0;

  /** Creates the client and starts learning the topology; see RingCacheOptions. */
  constructor(options: RingCacheOptions) {
    super();
    if (!options || !Array.isArray(options.seeds) || options.seeds.length === 0) throw new InvalidArgumentError('RingCache needs at least one seed address (host:port)');
    try {
      this.seeds = options.seeds.map(parseAddress);
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message);
    }
    this.opts = {
      commandTimeoutMs: options.commandTimeoutMs ?? 2000,
      connectTimeoutMs: options.connectTimeoutMs ?? 1000,
      maxQueue: options.maxQueue ?? 10_000,
      maxRetries: options.maxRetries ?? 3,
      retryDelayMs: options.retryDelayMs ?? 20,
      maxRetryDelayMs: options.maxRetryDelayMs ?? 500,
      maxRedirections: options.maxRedirections ?? 16,
      minRefreshIntervalMs: options.minRefreshIntervalMs ?? 100,
      readFrom: options.readFrom ?? 'primary',
    };
    for (const name of ['commandTimeoutMs', 'connectTimeoutMs', 'maxQueue'] as const) checkDuration(name, this.opts[name]);
    this.connector = options.connector;
    this.serializer = options.serializer ?? jsonSerializer;
    this.metrics = options.metrics;
    if (options.password !== undefined) this.init.push(options.username !== undefined ? ['AUTH', options.username, options.password] : ['AUTH', options.password]);
    if (this.opts.readFrom === 'replica') this.init.push(['READONLY']);
    this.source = options.topologySource ?? new ClusterTopologySource(this.seeds, (node, args) => this.query(node, args), () => this.topology?.shards.map((s) => s.primary) ?? []);
    this.cacheAside = new CacheAside({
      store: this.cacheStore(),
      serializer: this.serializer,
      onOutcome: (key, outcome) => (outcome === 'miss' ? this.metrics?.onMiss?.(key) : this.metrics?.onHit?.(key)),
      onBackgroundError: (key, error) => this.emit('backgroundError', { key, error }),
    });
    // Learn the topology now; a failure is retried by the first command.
    this.refreshing = this.refresh().catch(noop);
  }

  /** Resolves once the client knows the topology; rejects (ClusterDownError) if no seed answers. Optional: commands wait for it themselves. */
  async connect(): Promise<void> {
    await this.ensureTopology();
  }

  /** The current slot map (undefined until it is known). */
  get currentTopology(): TopologySnapshot | undefined {
    return this.topology;
  }

  /** The address (`host:port`) of the node that serves a key, per the current topology. */
  nodeFor(key: Key): string | undefined {
    checkKey(key);
    const n = this.primaryBySlot[slotOf(key)];
    return n === undefined ? undefined : addressKey(n);
  }

  /** Closes every connection. Commands still waiting fail with ConnectionClosedError; later calls fail with ClientClosedError. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.refreshTimer);
    for (const c of this.connections.values()) c.close();
    this.connections.clear();
  }

  // ---- typed commands ------------------------------------------------------

  /** GET as text (UTF-8); null if the key does not exist. */
  async get(key: Key, options?: CallOptions): Promise<string | null> {
    checkKey(key);
    const r = bulkText(await this.exec(['GET', key], slotOf(key), options));
    this.countRead(key, r !== null);
    return r;
  }

  /** GET as bytes; null if the key does not exist. */
  async getBuffer(key: Key, options?: CallOptions): Promise<Buffer | null> {
    checkKey(key);
    const r = bulkBuffer(await this.exec(['GET', key], slotOf(key), options));
    this.countRead(key, r !== null);
    return r;
  }

  /**
   * SET. Resolves true if the value was stored, false if `nx`/`xx` prevented it.
   * @example await cache.set('session:1', token, { ttl: 30_000, nx: true })
   */
  async set(key: Key, value: Value, options: SetOptions = {}): Promise<boolean> {
    checkKey(key);
    checkValue(value);
    return this.setRaw(key, value, options);
  }

  /** Stores any value through the serializer (JSON by default). Same options and result as set. */
  async setValue(key: Key, value: unknown, options: SetOptions = {}): Promise<boolean> {
    checkKey(key);
    let data: string | Buffer;
    try {
      data = this.serializer.serialize(value);
    } catch (err) {
      throw new InvalidArgumentError(`cannot serialize the value of ${keyText(key)}: ${(err as Error).message}`);
    }
    return this.setRaw(key, data, options);
  }

  /** Reads a value stored by setValue (or getOrSet) through the serializer; undefined if the key does not exist. */
  async getValue<T = unknown>(key: Key, options?: CallOptions): Promise<T | undefined> {
    const raw = await this.getBuffer(key, options);
    if (raw === null) return undefined;
    return this.serializer.deserialize(decodeEnvelope(raw).payload) as T;
  }

  /** DEL: resolves with how many of the keys existed. Keys in different slots are deleted per slot, in parallel (not atomically). */
  async del(...keys: Key[]): Promise<number> {
    return this.countPerSlot('DEL', keys);
  }

  /** EXISTS: how many of the keys exist (a key named twice counts twice). */
  async exists(...keys: Key[]): Promise<number> {
    return this.countPerSlot('EXISTS', keys);
  }

  /** MGET as text: one entry per key, in order; keys are split by slot and fetched from their owners in parallel. */
  async mget(keys: readonly Key[], options?: CallOptions): Promise<Array<string | null>> {
    return (await this.mgetReplies(keys, options)).map(bulkText);
  }

  /** MGET as bytes. */
  async mgetBuffer(keys: readonly Key[], options?: CallOptions): Promise<Array<Buffer | null>> {
    return (await this.mgetReplies(keys, options)).map(bulkBuffer);
  }

  /**
   * MSET: entries as an object or as [key, value] pairs. Split by slot and sent
   * in parallel: each slot's part is atomic, the whole is not.
   */
  async mset(entries: Record<string, Value> | ReadonlyArray<readonly [Key, Value]>, options?: CallOptions): Promise<void> {
    const pairs: ReadonlyArray<readonly [Key, Value]> = Array.isArray(entries) ? entries : Object.entries(entries as Record<string, Value>);
    for (const [k, v] of pairs) {
      checkKey(k);
      checkValue(v);
    }
    const groups = new Map<number, Arg[]>();
    for (const [k, v] of pairs) {
      const slot = slotOf(k);
      let g = groups.get(slot);
      if (g === undefined) groups.set(slot, (g = ['MSET']));
      g.push(k, v);
    }
    await Promise.all([...groups].map(([slot, args]) => this.exec(args, slot, options)));
  }

  /** INCR, or INCRBY when `by` is given. Resolves with the new value. Not retried once written. */
  async incr(key: Key, by?: number, options?: CallOptions): Promise<number> {
    checkKey(key);
    if (by !== undefined && !Number.isSafeInteger(by)) throw new InvalidArgumentError(`incr: by must be a safe integer, got ${by}`);
    return Number(await this.exec(by === undefined ? ['INCR', key] : ['INCRBY', key, by], slotOf(key), options));
  }

  /** DECR, or DECRBY when `by` is given. Resolves with the new value. Not retried once written. */
  async decr(key: Key, by?: number, options?: CallOptions): Promise<number> {
    checkKey(key);
    if (by !== undefined && !Number.isSafeInteger(by)) throw new InvalidArgumentError(`decr: by must be a safe integer, got ${by}`);
    return Number(await this.exec(by === undefined ? ['DECR', key] : ['DECRBY', key, by], slotOf(key), options));
  }

  /** PEXPIRE: sets a key's time to live in milliseconds; false if the key does not exist. */
  async expire(key: Key, ttl: number, options?: CallOptions): Promise<boolean> {
    checkKey(key);
    checkDuration('ttl', ttl);
    return (await this.exec(['PEXPIRE', key, ttl], slotOf(key), options)) === 1;
  }

  /** PTTL: milliseconds to live; -1 if the key has no TTL, -2 if it does not exist. */
  async ttl(key: Key, options?: CallOptions): Promise<number> {
    checkKey(key);
    return Number(await this.exec(['PTTL', key], slotOf(key), options));
  }

  /**
   * Any command. It is routed by its first argument after the name (the key),
   * except for keyless commands (PING, INFO, DBSIZE, ...), which go to one node.
   * Error replies reject with ReplyError.
   * @example await cache.command('APPEND', 'log', 'line\n')
   */
  async command(name: string, ...args: Arg[]): Promise<Reply> {
    if (typeof name !== 'string' || name === '') throw new InvalidArgumentError('command needs a command name');
    const upper = name.toUpperCase();
    if (KEYLESS.has(upper) || args.length === 0) {
      const topo = await this.ensureTopology();
      return this.exec([name, ...args], firstSlotOf(topo), undefined, upper);
    }
    const key = args[0]!;
    return this.exec([name, ...args], slotOf(typeof key === 'number' ? String(key) : key), undefined, upper);
  }

  /** Sends a keyless command to every primary; resolves with each node's reply, keyed by `host:port` (for FLUSHALL, DBSIZE, INFO...). */
  async commandOnEveryNode(name: string, ...args: Arg[]): Promise<Map<string, Reply>> {
    const topo = await this.ensureTopology();
    const out = new Map<string, Reply>();
    await Promise.all(
      topo.shards.map(async (s, i) => {
        const slot = topo.slots.indexOf(i);
        const node = s.primary;
        if (slot < 0) {
          out.set(addressKey(node), await this.query(node, [name, ...args].map(String)));
          return;
        }
        out.set(addressKey(node), await this.exec([name, ...args], slot));
      }),
    );
    return out;
  }

  /**
   * Cache-aside with stampede protection: returns the cached value, or runs the
   * loader once (per key, across this process and, through a lease on the
   * key's node, across processes), stores its result for `ttl` ms and returns it.
   * See docs/client.md for the lease protocol.
   * @example const user = await cache.getOrSet(`user:${id}`, () => db.user(id), { ttl: 60_000 })
   */
  async getOrSet<T>(key: string, loader: () => Promise<T> | T, options: GetOrSetOptions): Promise<T> {
    if (typeof key !== 'string') throw new InvalidArgumentError('getOrSet: the key must be a string');
    if (typeof loader !== 'function') throw new InvalidArgumentError('getOrSet: the loader must be a function');
    checkDuration('ttl', options?.ttl);
    if (options.staleWhileRevalidate !== undefined && options.staleWhileRevalidate !== 0) checkDuration('staleWhileRevalidate', options.staleWhileRevalidate);
    if (options.leaseMs !== undefined) checkDuration('leaseMs', options.leaseMs);
    if (options.waitMs !== undefined) checkDuration('waitMs', options.waitMs);
    return this.cacheAside.getOrSet(key, loader, options);
  }

  // ---- internals -----------------------------------------------------------

  private countRead(key: Key, hit: boolean): void {
    if (this.metrics === undefined) return;
    if (hit) this.metrics.onHit?.(keyText(key));
    else this.metrics.onMiss?.(keyText(key));
  }

  private async setRaw(key: Key, value: Value, o: SetOptions): Promise<boolean> {
    const args: Arg[] = ['SET', key, value];
    if (o.ttl !== undefined) {
      checkDuration('ttl', o.ttl);
      args.push('PX', o.ttl);
    }
    if (o.nx && o.xx) throw new InvalidArgumentError('set: nx and xx cannot both be set');
    if (o.keepTtl && o.ttl !== undefined) throw new InvalidArgumentError('set: keepTtl and ttl cannot both be set');
    if (o.nx) args.push('NX');
    if (o.xx) args.push('XX');
    if (o.keepTtl) args.push('KEEPTTL');
    return (await this.exec(args, slotOf(key), o)) === 'OK';
  }

  private async mgetReplies(keys: readonly Key[], options?: CallOptions): Promise<Reply[]> {
    if (!Array.isArray(keys)) throw new InvalidArgumentError('mget takes an array of keys');
    keys.forEach(checkKey);
    const groups = new Map<number, number[]>();
    for (let i = 0; i < keys.length; i++) {
      const slot = slotOf(keys[i]!);
      let g = groups.get(slot);
      if (g === undefined) groups.set(slot, (g = []));
      g.push(i);
    }
    const out: Reply[] = new Array(keys.length);
    await Promise.all(
      [...groups].map(async ([slot, idx]) => {
        const r = await this.exec(['MGET', ...idx.map((i) => keys[i]!)], slot, options);
        if (!Array.isArray(r) || r.length !== idx.length) throw new ReplyError(`ERR unexpected MGET reply for ${idx.length} keys`);
        idx.forEach((i, j) => (out[i] = r[j]!));
      }),
    );
    if (this.metrics !== undefined) keys.forEach((k, i) => this.countRead(k, out[i] !== null));
    return out;
  }

  private async countPerSlot(cmd: 'DEL' | 'EXISTS', keys: Key[]): Promise<number> {
    if (keys.length === 0) throw new InvalidArgumentError(`${cmd.toLowerCase()} needs at least one key`);
    keys.forEach(checkKey);
    const groups = new Map<number, Arg[]>();
    for (const k of keys) {
      const slot = slotOf(k);
      let g = groups.get(slot);
      if (g === undefined) groups.set(slot, (g = [cmd]));
      g.push(k);
    }
    const counts = await Promise.all([...groups].map(([slot, args]) => this.exec(args, slot)));
    return counts.reduce<number>((sum, n) => sum + Number(n), 0);
  }

  /** Sends one command straight to a node (topology queries, keyless commands). */
  private query(node: NodeAddress, args: string[]): Promise<Reply> {
    if (this.closed) return Promise.reject(new ClientClosedError());
    return this.connection(node).send(args, this.opts.commandTimeoutMs);
  }

  private connection(node: NodeAddress): Connection {
    const key = addressKey(node);
    let c = this.connections.get(key);
    if (c === undefined || c.closed) {
      const conn: Connection = new Connection({
        host: node.host,
        port: node.port,
        maxQueue: this.opts.maxQueue,
        connectTimeoutMs: this.opts.connectTimeoutMs,
        init: this.init,
        ...(this.connector ? { connector: this.connector } : {}),
        onClose: (error) => {
          if (this.connections.get(key) === conn) this.connections.delete(key);
          if (this.closed) return;
          this.emit('nodeError', { node: key, error });
          this.requestRefresh();
        },
      });
      c = conn;
      this.connections.set(key, c);
    }
    return c;
  }

  private async ensureTopology(): Promise<TopologySnapshot> {
    if (this.topology !== undefined) return this.topology;
    if (this.closed) throw new ClientClosedError();
    await (this.refreshing ?? this.refresh());
    if (this.topology === undefined) await this.refresh();
    return this.topology!;
  }

  /** Fetches the topology now (joining a fetch already running). Rejects if no node answers. */
  private refresh(): Promise<void> {
    if (this.refreshing !== undefined) return this.refreshing;
    this.lastRefreshAt = Date.now();
    const run = (async () => {
      try {
        const next = await this.source.fetch();
        if (this.closed) return;
        const previous = this.topology;
        this.install(next);
        if (previous === undefined || !sameRouting(previous, next)) this.emit('topology', { previous, current: next });
      } finally {
        this.refreshing = undefined;
      }
    })();
    this.refreshing = run;
    return run;
  }

  /** Asks for a refresh soon: at most one runs at a time, and at most one per minRefreshIntervalMs. */
  private requestRefresh(): void {
    if (this.closed || this.refreshTimer !== undefined) return;
    if (this.refreshing !== undefined) {
      this.refreshAgain = true;
      const again = () => {
        if (this.refreshAgain) {
          this.refreshAgain = false;
          this.requestRefresh();
        }
      };
      this.refreshing.then(again, again);
      return;
    }
    const wait = Math.max(0, this.lastRefreshAt + this.opts.minRefreshIntervalMs - Date.now());
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      this.refresh().catch((err: Error) => this.emit('refreshError', err));
    }, wait);
    this.refreshTimer.unref();
  }

  private install(t: TopologySnapshot): void {
    this.topology = t;
    const bySlot: Array<NodeAddress | undefined> = new Array(t.slots.length);
    for (let s = 0; s < t.slots.length; s++) {
      const i = t.slots[s]!;
      bySlot[s] = i === UNASSIGNED ? undefined : t.shards[i]!.primary;
    }
    this.primaryBySlot = bySlot;
  }

  private nodeForSlot(slot: number, read: boolean): NodeAddress | undefined {
    if (read && this.opts.readFrom === 'replica' && this.topology !== undefined) {
      const i = this.topology.slots[slot]!;
      const replicas = i === UNASSIGNED ? [] : this.topology.shards[i]!.replicas;
      if (replicas.length > 0) return replicas[this.replicaTurn++ % replicas.length];
    }
    return this.primaryBySlot[slot];
  }

  /**
   * Sends a command to the owner of `slot` and follows the cluster's answers:
   * MOVED (repoint the slot, retry there, refresh in the background), ASK
   * (ASKING + the command on the target, once), TRYAGAIN/CLUSTERDOWN and
   * connection loss (retry with backoff, up to maxRetries; a command that was
   * written and is not idempotent is not retried after a connection loss).
   * Other error replies reject with ReplyError.
   */
  private async exec(args: Arg[], slot: number, options?: CallOptions, name?: string): Promise<Reply> {
    if (this.closed) throw new ClientClosedError();
    if (this.topology === undefined) await this.ensureTopology();
    const timeoutMs = options?.timeoutMs ?? this.opts.commandTimeoutMs;
    const started = this.metrics?.onCommand !== undefined ? performance.now() : 0;
    const cmd = name ?? String(args[0]).toUpperCase();
    let node: NodeAddress | undefined;
    try {
      const reply = await this.attempt(args, slot, timeoutMs, cmd, (n) => (node = n));
      if (started) this.metrics!.onCommand!({ command: cmd, node: node && addressKey(node), durationMs: performance.now() - started });
      return reply;
    } catch (err) {
      if (started) this.metrics!.onCommand!({ command: cmd, node: node && addressKey(node), durationMs: performance.now() - started, error: err as Error });
      throw err;
    }
  }

  private async attempt(args: Arg[], slot: number, timeoutMs: number, cmd: string, visit: (n: NodeAddress) => void): Promise<Reply> {
    let redirects = 0;
    let retries = 0;
    let ask: NodeAddress | undefined;
    let moved: NodeAddress | undefined;
    const read = READ_ONLY.has(cmd);
    for (;;) {
      if (this.closed) throw new ClientClosedError();
      const node = ask ?? moved ?? this.nodeForSlot(slot, read);
      if (node === undefined) {
        if (retries++ >= this.opts.maxRetries) throw new ClusterDownError(`no node serves slot ${slot}`);
        await this.pause(retries);
        await this.refresh().catch(noop);
        continue;
      }
      visit(node);
      const conn = this.connection(node);
      let reply: Reply;
      try {
        if (ask !== undefined) conn.send(['ASKING'], timeoutMs).catch(noop);
        reply = await conn.send(args, timeoutMs);
      } catch (err) {
        const retryable = err instanceof ConnectionClosedError && (!err.written || !NOT_IDEMPOTENT.has(cmd));
        if (!retryable || retries >= this.opts.maxRetries || this.closed) throw this.closed ? new ClientClosedError() : err;
        retries++;
        ask = moved = undefined;
        await this.pause(retries);
        continue;
      }
      if (!(reply instanceof ReplyError)) return reply;
      const redirect = parseRedirect(reply);
      if (redirect !== undefined) {
        if (++redirects > this.opts.maxRedirections) throw new RedirectLoopError(`${cmd} for slot ${slot} was redirected more than ${this.opts.maxRedirections} times (last: ${reply.message})`);
        const target = redirect.node.host === '' ? { host: node.host, port: redirect.node.port } : redirect.node;
        if (redirect.kind === 'ask') {
          ask = target;
        } else {
          ask = undefined;
          moved = target;
          this.repoint(redirect.slot, target);
          this.requestRefresh();
        }
        continue;
      }
      if (isTransientClusterError(reply)) {
        if (retries >= this.opts.maxRetries) throw new ClusterDownError(`${cmd}: ${reply.message}`, { cause: reply });
        retries++;
        if (reply.prefix === 'CLUSTERDOWN') this.requestRefresh();
        ask = moved = undefined;
        await this.pause(retries);
        continue;
      }
      throw reply;
    }
  }

  /** After MOVED: the slot is served by `node` until the next refresh says otherwise. */
  private repoint(slot: number, node: NodeAddress): void {
    if (slot >= 0 && slot < this.primaryBySlot.length) this.primaryBySlot[slot] = node;
  }

  private pause(attempt: number): Promise<void> {
    return new Promise((r) => setTimeout(r, backoffDelay(attempt, this.opts.retryDelayMs, this.opts.maxRetryDelayMs)));
  }

  /** getOrSet's node operations: companion keys share the key's slot, so each pair goes to one connection in order. */
  private cacheStore(): CacheStore {
    return {
      get: async (key) => bulkBuffer(await this.exec(['GET', key], slotOf(key))),
      set: async (key, value, ttlMs) => {
        await this.exec(['SET', key, value, 'PX', ttlMs], slotOf(key));
      },
      tryLease: async (lease, token, leaseMs, key) => {
        const slot = slotOf(key);
        const [taken, value] = await Promise.all([this.exec(['SET', lease, token, 'NX', 'PX', leaseMs], slot), this.exec(['GET', key], slot)]);
        return { acquired: taken === 'OK', value: bulkBuffer(value) };
      },
      poll: async (lease, key, failure) => {
        const slot = slotOf(key);
        const r = await Promise.all([this.exec(['GET', lease], slot), this.exec(['GET', key], slot), this.exec(['GET', failure], slot)]);
        return [bulkBuffer(r[0]), bulkBuffer(r[1]), bulkBuffer(r[2])];
      },
      release: async (lease, token) => {
        const slot = slotOf(lease);
        const holder = bulkText(await this.exec(['GET', lease], slot));
        if (holder === token) await this.exec(['DEL', lease], slot);
      },
      setFailure: async (failure, token, message, ttlMs) => {
        await this.exec(['SET', failure, `${token}\n${message}`, 'PX', ttlMs], slotOf(failure));
      },
    };
  }
}

/** A slot served by the first shard (where keyless commands go). */
function firstSlotOf(t: TopologySnapshot): number {
  const s = t.slots.indexOf(0);
  return s < 0 ? 0 : s;
}
