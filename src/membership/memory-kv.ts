/**
 * The in-memory coordination store: etcd's semantics (one global revision,
 * create/mod revisions per key, leases whose expiry deletes their keys,
 * compare-and-put transactions, prefix watches replayed from a revision) in one
 * process. It is the embedded default and what `ringcache dev` serves to its
 * node processes over TCP (kv-server.ts), so the membership code above the
 * KvStore seam runs unchanged against it and against etcd.
 *
 * A lease's time runs only while this store runs: a stall of its own event
 * loop (CPU starvation, a long GC) longer than STALL_MS is added to every
 * lease, and a lease is expired only after the input waiting behind the stall
 * (renewals already sent) has been read. Otherwise the coordinator's own
 * pause would expire every member at once, each of which had renewed in time
 * (etcd extends its leases on a leader change for the same reason).
 *
 * Watches replay from a bounded history (the last HISTORY_LIMIT events, whole
 * revisions at a time); a watch from before it fails as a compacted etcd watch
 * does. Events reach handlers asynchronously (a microtask), in revision order.
 */
import { randomUUID } from 'node:crypto';
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

/** Events kept for watches that start from a past revision. */
export const HISTORY_LIMIT = 10_000;

/** How often the store checks that its own event loop runs. */
const BEAT_MS = 100;
/** A beat this much later than due is a stall of this store, not of its lease holders. */
export const STALL_MS = 250;

interface Lease {
  id: string;
  ttlMs: number;
  /** Expiry (Date.now() ms); a renewal moves it, the timer checks it. */
  deadline: number;
  timer: NodeJS.Timeout;
  keys: Set<string>;
}

interface Watcher {
  prefix: string;
  handlers: KvWatchHandlers;
  pending: KvEvent[];
  scheduled: boolean;
  cancelled: boolean;
}

/** Thrown for a watch from a revision older than the history kept. */
export class KvCompactedError extends Error {
  readonly code = 'KV_COMPACTED';
}

export class MemoryKv implements KvStore {
  /** Random per store, so a remote client can tell a restarted store (all revisions reset) from a reconnect. */
  readonly storeId = randomUUID();
  private readonly keys = new Map<string, KvEntry>();
  private readonly leases = new Map<string, Lease>();
  private readonly watchers = new Set<Watcher>();
  private history: KvEvent[] = [];
  /** Events at this revision or before are no longer in the history. */
  private compactedRevision = 0;
  private rev = 0;
  private nextLease = 1;
  private closed = false;
  private lastBeat = Date.now();
  private readonly beat = setInterval(() => this.absorbStall(), BEAT_MS).unref();
  /** Time added to the leases for this store's own stalls (ms, for tests and logs). */
  stalledMs = 0;

  constructor(private readonly historyLimit = HISTORY_LIMIT) {}

  /** The store's current revision. */
  get revision(): number {
    return this.rev;
  }

  private check(): void {
    if (this.closed) throw new KvUnavailableError('the memory store is closed');
  }

  async range(prefix: string): Promise<{ entries: KvEntry[]; revision: number }> {
    this.check();
    const entries = [...this.keys.values()].filter((e) => e.key.startsWith(prefix)).map((e) => ({ ...e }));
    entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return { entries, revision: this.rev };
  }

  async get(key: string): Promise<KvEntry | undefined> {
    this.check();
    const e = this.keys.get(key);
    return e ? { ...e } : undefined;
  }

  private holds(c: KvCompare): boolean {
    const e = this.keys.get(c.key);
    if ('createRevision' in c) return e !== undefined && e.createRevision === c.createRevision;
    return (e?.modRevision ?? 0) === c.modRevision;
  }

  async txn(compares: KvCompare[], ops: KvOp[]): Promise<KvTxnResult> {
    this.check();
    // etcd refuses a transaction that changes one key twice, whatever its compares say.
    const touched = new Set<string>();
    for (const op of ops) {
      const key = 'put' in op ? op.put : op.delete;
      if (touched.has(key)) throw new Error(`duplicate key '${key}' in one transaction`);
      touched.add(key);
    }
    if (!compares.every((c) => this.holds(c))) return { succeeded: false, revision: this.rev };
    for (const op of ops) {
      if ('put' in op && op.lease && !this.leases.has(op.lease)) {
        throw new Error(`lease ${op.lease} not found (expired or revoked)`);
      }
    }
    const next = this.rev + 1;
    const events: KvEvent[] = [];
    for (const op of ops) {
      if ('put' in op) {
        const prev = this.keys.get(op.put);
        const lease = op.lease ?? '';
        if (prev?.lease && prev.lease !== lease) this.leases.get(prev.lease)?.keys.delete(op.put);
        if (lease) this.leases.get(lease)!.keys.add(op.put);
        const entry: KvEntry = { key: op.put, value: op.value, createRevision: prev?.createRevision ?? next, modRevision: next, lease };
        this.keys.set(op.put, entry);
        events.push({ type: 'put', entry: { ...entry } });
      } else {
        const ev = this.deleteKey(op.delete, next);
        if (ev) events.push(ev);
      }
    }
    if (events.length > 0) this.commit(events);
    return { succeeded: true, revision: this.rev };
  }

  private deleteKey(key: string, revision: number): KvEvent | undefined {
    const prev = this.keys.get(key);
    if (!prev) return undefined;
    this.keys.delete(key);
    if (prev.lease) this.leases.get(prev.lease)?.keys.delete(key);
    return { type: 'delete', entry: { key, value: '', createRevision: 0, modRevision: revision, lease: '' } };
  }

  /** Raises the revision once for these events, records them and hands them to the watchers. */
  private commit(events: KvEvent[]): void {
    this.rev++;
    for (const ev of events) this.history.push(ev);
    if (this.history.length > this.historyLimit) {
      // Drop whole revisions, so a watch never sees part of one.
      let cut = this.history.length - this.historyLimit;
      const lastDropped = this.history[cut - 1]!.entry.modRevision;
      while (cut < this.history.length && this.history[cut]!.entry.modRevision === lastDropped) cut++;
      this.history = this.history.slice(cut);
      this.compactedRevision = lastDropped;
    }
    for (const w of this.watchers) {
      const mine = events.filter((e) => e.entry.key.startsWith(w.prefix));
      if (mine.length > 0) this.enqueue(w, mine);
    }
  }

  private enqueue(w: Watcher, events: KvEvent[]): void {
    for (const e of events) w.pending.push({ type: e.type, entry: { ...e.entry } });
    if (w.scheduled) return;
    w.scheduled = true;
    queueMicrotask(() => {
      w.scheduled = false;
      if (w.cancelled || w.pending.length === 0) return;
      const batch = w.pending;
      w.pending = [];
      w.handlers.onEvents(batch);
    });
  }

  async grantLease(ttlMs: number): Promise<{ id: string; ttlMs: number }> {
    this.check();
    const ttl = Math.max(1, Math.ceil(ttlMs));
    const id = String(this.nextLease++);
    const lease: Lease = { id, ttlMs: ttl, deadline: Date.now() + ttl, timer: this.leaseTimer(id, ttl), keys: new Set() };
    this.leases.set(id, lease);
    return { id, ttlMs: ttl };
  }

  /** Checks the lease when it may be due; the check waits for the input already received (setImmediate runs after the poll phase). */
  private leaseTimer(id: string, inMs: number): NodeJS.Timeout {
    const t = setTimeout(() => setImmediate(() => this.checkLease(id)), Math.max(1, inMs));
    t.unref();
    return t;
  }

  private checkLease(id: string): void {
    if (this.closed) return;
    this.absorbStall();
    const lease = this.leases.get(id);
    if (!lease) return;
    const left = lease.deadline - Date.now();
    if (left > 0) lease.timer = this.leaseTimer(id, left);
    else this.dropLease(id);
  }

  /** A beat late by more than STALL_MS: this store did not run meanwhile, so its leases get that time back. */
  private absorbStall(): void {
    const now = Date.now();
    const gap = now - this.lastBeat - BEAT_MS;
    this.lastBeat = now;
    if (gap <= STALL_MS) return;
    this.stalledMs += gap;
    for (const l of this.leases.values()) l.deadline += gap;
  }

  /** Ends a lease and deletes its keys in one revision (as etcd does). */
  private dropLease(id: string): void {
    const lease = this.leases.get(id);
    if (!lease) return;
    clearTimeout(lease.timer);
    this.leases.delete(id);
    const keys = [...lease.keys].sort();
    const events: KvEvent[] = [];
    for (const k of keys) {
      const ev = this.deleteKey(k, this.rev + 1);
      if (ev) events.push(ev);
    }
    if (events.length > 0) this.commit(events);
  }

  async keepAlive(lease: string): Promise<boolean> {
    this.check();
    const l = this.leases.get(lease);
    if (!l) return false;
    // The timer stays: when it fires, checkLease finds the new deadline and re-arms.
    l.deadline = Date.now() + l.ttlMs;
    return true;
  }

  /** Revokes a lease, deleting its keys; a lease already gone is not an error. */
  async revokeLease(lease: string): Promise<void> {
    this.check();
    this.dropLease(lease);
  }

  async watch(prefix: string, fromRevision: number, handlers: KvWatchHandlers): Promise<KvWatch> {
    this.check();
    const w: Watcher = { prefix, handlers, pending: [], scheduled: false, cancelled: false };
    const cancel = async (): Promise<void> => {
      w.cancelled = true;
      this.watchers.delete(w);
    };
    if (fromRevision < this.compactedRevision) {
      w.cancelled = true;
      queueMicrotask(() =>
        handlers.onError(new KvCompactedError(`revision ${fromRevision} has been compacted (history starts after ${this.compactedRevision})`)),
      );
      return { cancel };
    }
    this.watchers.add(w);
    const replay = this.history.filter((e) => e.entry.modRevision > fromRevision && e.entry.key.startsWith(prefix));
    if (replay.length > 0) this.enqueue(w, replay);
    return { cancel };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.beat);
    for (const l of this.leases.values()) clearTimeout(l.timer);
    for (const w of this.watchers) w.cancelled = true;
    this.watchers.clear();
  }
}
