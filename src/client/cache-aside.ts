/**
 * getOrSet: cache-aside with stampede protection.
 *
 * - In one process, concurrent callers for a key share one call (singleflight).
 * - Across processes, a caller that misses takes a short-lived lease on the
 *   key's owner node (`SET <lease> <token> NX PX <leaseMs>`) before it runs the
 *   loader; the others poll the lease and the key until the value appears, the
 *   holder reports a failure, the lease goes away (they then try to take it), or
 *   `waitMs` passes.
 * - staleWhileRevalidate: values are stored in an envelope carrying the time
 *   until which they are fresh, with a hard TTL of ttl + staleWhileRevalidate.
 *   A stale value is returned at once and refreshed in the background by
 *   whoever gets the lease.
 *
 * ringcache has no EVAL, so a lease is released with GET + DEL: if the lease
 * expired and another caller took it between the two, that caller's lease is
 * deleted. The loader then may run twice; leases are sized to make that rare
 * (leaseMs should exceed the loader's run time).
 *
 * The node I/O is behind CacheStore and time behind a clock, so the protocol
 * can be tested deterministically without a network.
 */
import { LoaderError, TimeoutError } from './errors.js';
import { companionKey } from './lease-key.js';
import type { Serializer } from './serializer.js';
import { Singleflight } from './singleflight.js';

/** The node operations getOrSet needs. Pairs of operations on companion keys must run in order on the key's node. */
export interface CacheStore {
  get(key: string): Promise<Buffer | null>;
  /** SET key value PX ttlMs. */
  set(key: string, value: Buffer, ttlMs: number): Promise<void>;
  /** SET lease token NX PX leaseMs, then GET key; resolves with whether the lease was taken and the key's value. */
  tryLease(lease: string, token: string, leaseMs: number, key: string): Promise<{ acquired: boolean; value: Buffer | null }>;
  /** GET lease, GET key, GET failure key, in this order. */
  poll(lease: string, key: string, failure: string): Promise<[Buffer | null, Buffer | null, Buffer | null]>;
  /** Deletes the lease if it still holds token (GET then DEL: not atomic). */
  release(lease: string, token: string): Promise<void>;
  /** SET failure `<token>\n<message>` PX ttlMs. */
  setFailure(failure: string, token: string, message: string, ttlMs: number): Promise<void>;
}

/** Options of getOrSet. Durations are in milliseconds. */
export interface GetOrSetOptions {
  /** How long a loaded value is fresh (required, > 0). */
  ttl: number;
  /** How long after `ttl` a stale value may still be returned while it is refreshed in the background (default 0). */
  staleWhileRevalidate?: number;
  /** Lease duration: should exceed the loader's run time (default 10 000). */
  leaseMs?: number;
  /** How long a caller waits for another process's loader before it fails with TimeoutError (default leaseMs + 1000). */
  waitMs?: number;
}

/** What getOrSet did, for metrics hooks. */
export type CacheOutcome = 'hit' | 'stale' | 'miss';

/** What CacheAside needs: injectable so tests can use an in-memory store and a fake clock. */
export interface CacheAsideDeps {
  store: CacheStore;
  serializer: Serializer;
  /** Clock, ms since epoch (default Date.now). */
  now?: () => number;
  /** Waiting between polls (default setTimeout). */
  sleep?: (ms: number) => Promise<void>;
  /** Randomness for the owner id (default Math.random). */
  random?: () => number;
  /** A string unique to this process (tokens are `<owner>:<n>`). */
  owner?: string;
  /** Called once per getOrSet that read the node, with what it found. */
  onOutcome?: (key: string, outcome: CacheOutcome) => void;
  /** A staleWhileRevalidate refresh failed. */
  onBackgroundError?: (key: string, err: unknown) => void;
}

const MAGIC = Buffer.from('\u0000rc1 ');

/** Wraps a serialized value with the time (ms since epoch) until which it is fresh. */
export function encodeEnvelope(freshUntil: number, payload: string | Buffer): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  return Buffer.concat([MAGIC, Buffer.from(`${freshUntil}\n`), body]);
}

/** The fresh-until time and payload of a stored value; a value without an envelope (written by set) counts as always fresh. */
export function decodeEnvelope(raw: Buffer): { freshUntil: number; payload: Buffer } {
  if (raw.length > MAGIC.length && raw.subarray(0, MAGIC.length).equals(MAGIC)) {
    const nl = raw.indexOf(10, MAGIC.length);
    const t = Number(raw.toString('latin1', MAGIC.length, nl));
    if (nl > 0 && Number.isFinite(t)) return { freshUntil: t, payload: raw.subarray(nl + 1) };
  }
  return { freshUntil: Infinity, payload: raw };
}

/** Lease suffix and failure suffix of companion keys. */
export const LEASE_SUFFIX = ':rc-lease';
export const FAILURE_SUFFIX = ':rc-failed';
/** How long a loader failure stays visible to callers that were waiting on that lease. */
const FAILURE_TTL_MS = 2000;

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** getOrSet's protocol (see the file comment), independent of the transport. */
export class CacheAside {
  private readonly flights = new Singleflight<unknown>();
  private readonly refreshes = new Singleflight<void>();
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly owner: string;
  private seq = 0;

  constructor(private readonly deps: CacheAsideDeps) {
    this.now = deps.now ?? Date.now;
    this.sleep = deps.sleep ?? defaultSleep;
    const random = deps.random ?? Math.random;
    this.owner = deps.owner ?? `${process.pid}-${Math.floor(random() * 2 ** 48).toString(36)}`;
  }

  /** The cached value of key, or the loader's (run once per key at a time, here and across processes). */
  getOrSet<T>(key: string, loader: () => Promise<T> | T, options: GetOrSetOptions): Promise<T> {
    return this.flights.do(key, () => this.resolve(key, loader, options)) as Promise<T>;
  }

  private async resolve<T>(key: string, loader: () => Promise<T> | T, o: GetOrSetOptions): Promise<T> {
    const raw = await this.deps.store.get(key);
    if (raw !== null) {
      const { freshUntil, payload } = decodeEnvelope(raw);
      const value = this.deps.serializer.deserialize(payload) as T;
      if (this.now() < freshUntil) {
        this.deps.onOutcome?.(key, 'hit');
        return value;
      }
      this.deps.onOutcome?.(key, 'stale');
      this.refreshInBackground(key, loader, o);
      return value;
    }
    this.deps.onOutcome?.(key, 'miss');
    return this.loadOrWait(key, loader, o);
  }

  private refreshInBackground<T>(key: string, loader: () => Promise<T> | T, o: GetOrSetOptions): void {
    if (this.refreshes.has(key)) return;
    this.refreshes
      .do(key, async () => {
        const lease = companionKey(key, LEASE_SUFFIX);
        const token = this.token();
        const { acquired } = await this.deps.store.tryLease(lease, token, o.leaseMs ?? 10_000, key);
        if (!acquired) return; // someone else is refreshing it
        await this.runLoader(key, lease, token, loader, o);
      })
      .catch((err: unknown) => this.deps.onBackgroundError?.(key, err));
  }

  private async loadOrWait<T>(key: string, loader: () => Promise<T> | T, o: GetOrSetOptions): Promise<T> {
    const { store, serializer } = this.deps;
    const leaseMs = o.leaseMs ?? 10_000;
    const deadline = this.now() + (o.waitMs ?? leaseMs + 1000);
    const lease = companionKey(key, LEASE_SUFFIX);
    const failure = companionKey(key, FAILURE_SUFFIX);
    const seenHolders = new Set<string>();
    for (let round = 0; ; round++) {
      const token = this.token();
      const taken = await store.tryLease(lease, token, leaseMs, key);
      if (taken.value !== null) {
        // Someone stored it between our miss and our lease request.
        if (taken.acquired) await store.release(lease, token);
        return serializer.deserialize(decodeEnvelope(taken.value).payload) as T;
      }
      if (taken.acquired) return this.runLoader(key, lease, token, loader, o);
      // Another caller holds the lease: wait for its result.
      for (let i = 0; ; i++) {
        if (this.now() >= deadline) throw new TimeoutError(`getOrSet(${key}): another caller held the lease for longer than ${o.waitMs ?? leaseMs + 1000} ms`);
        await this.sleep(Math.min(50, 5 * 2 ** Math.min(i, 4)));
        const [holder, value, failed] = await store.poll(lease, key, failure);
        if (value !== null) return serializer.deserialize(decodeEnvelope(value).payload) as T;
        if (holder !== null) {
          seenHolders.add(holder.toString());
          continue;
        }
        if (failed !== null) {
          const text = failed.toString();
          const nl = text.indexOf('\n');
          if (seenHolders.has(text.slice(0, nl))) throw new LoaderError(text.slice(nl + 1));
        }
        break; // the lease is free and the key still missing: try to take it
      }
      if (round > 1000) throw new TimeoutError(`getOrSet(${key}): gave up after ${round} lease rounds`);
    }
  }

  private async runLoader<T>(key: string, lease: string, token: string, loader: () => Promise<T> | T, o: GetOrSetOptions): Promise<T> {
    const { store, serializer } = this.deps;
    let value: T;
    try {
      value = await loader();
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      // Written before the lease is released, so a waiter that sees the lease gone also sees why.
      await store.setFailure(companionKey(key, FAILURE_SUFFIX), token, message, FAILURE_TTL_MS).catch(() => {});
      await store.release(lease, token).catch(() => {});
      throw err;
    }
    const swr = o.staleWhileRevalidate ?? 0;
    try {
      await store.set(key, encodeEnvelope(this.now() + o.ttl, serializer.serialize(value)), o.ttl + swr);
    } finally {
      await store.release(lease, token).catch(() => {});
    }
    return value;
  }

  private token(): string {
    return `${this.owner}:${++this.seq}`;
  }
}
