/**
 * A primary's side of replication: the stream of its writes, and one feed per
 * replica that carries it.
 *
 * The stream is made of states, not commands: the store reports every key
 * written, deleted, expired or evicted (a SlotWatch on every slot); at the end
 * of the event-loop turn each such key is sent as it is now (its value, type
 * and absolute expiry, or its deletion), in the entry format slot moves use
 * (src/migration/wire.ts). So a replica never replays a command: expiry and
 * eviction on the primary reach it as deletions, random or time-dependent
 * commands (SPOP, INCRBYFLOAT, EXPIRE) as their outcome, and a turn's writes
 * arrive together. The cost is that a write to a large container resends the
 * container (see the README's replication section).
 *
 * The offset counts the stream's payload bytes since this primary's run
 * began; a replica answers each request with the offset it has applied.
 *
 * A feed's first request is SYNC (the replica empties its store and follows
 * this run); then a walk of every key (bounded slices, as a move's copy) goes
 * out interleaved with the live stream, both in the order they were read from
 * the store, so the replica converges on the primary's state; then SYNCED:
 * from its answer on, the replica is online. A broken link starts over with a
 * full sync. Memory is bounded: a feed whose queue grows past MAX_QUEUE_BYTES
 * (a replica that cannot keep up) is restarted.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { MapNode } from '../cluster/cluster-map.js';
import { SLOT_COUNT } from '../cluster/planner.js';
import type { MoveLink } from '../migration/export.js';
import { KIND_DELETE, KIND_OBJECT, KIND_STRING, PART_SIZE, PART_THRESHOLD, PutBatch, partRequest } from '../migration/wire.js';
import { encodeRequest } from '../protocol/request-encoder.js';
import type { Key, Keyspace, SlotWatch } from '../store/keyspace.js';
import { encodeValue } from '../store/objects/serialize.js';

const BATCH_BYTES = 64 * 1024;
const BATCH_KEYS = 512;
/** Requests sent to a replica and not yet answered. */
const WINDOW = 16;
/** Work per event-loop turn for a full sync's walk (the node's turn budget for client input). */
const SLICE_MS = 2;
const KEYS_PER_SCAN = 128;
/** A feed whose unsent queue exceeds this is restarted (full sync) rather than let it grow. */
const MAX_QUEUE_BYTES = 64 * 1024 * 1024;
/** The stream's last requests kept for a replica that reconnects: it resumes from its offset instead of a full sync. */
const BACKLOG_BYTES = 16 * 1024 * 1024;
/** How long a replica no longer reported in sync stays required (a map naming it may still be on its way). */
const REPORT_GRACE_MS = 2000;
/** An online replica is in sync while its oldest unanswered request is younger than this. */
export const DEFAULT_LAG_BOUND_MS = 1000;
const RETRY_FIRST_MS = 50;
const RETRY_MAX_MS = 1000;

/** A connection to a replica: requests in order, replies in order, and how many times it (re)connected. */
export interface ReplicaLink extends MoveLink {
  readonly connections: number;
}

export interface SourceHost {
  readonly store: Keyspace;
  readonly log: Logger;
  readonly selfId: string;
  /** The epoch of the map this node applies now (a replica refuses a primary its map does not name). */
  epoch(): number;
  connect(node: MapNode): ReplicaLink;
  /** How far an online replica may lag and still count as in sync. */
  lagBoundMs(): number;
}

export interface FeedStatus {
  id: string;
  host: string;
  port: number;
  state: ReplicaFeed['state'];
  /** The offset the replica confirmed. */
  acked: number;
  /** Milliseconds its oldest unanswered request has waited (0: none). */
  lagMs: number;
}

interface Queued {
  req: Buffer;
  /** The stream offset once this request is applied. */
  offset: number;
  /** How far it advanced the offset (stream requests only). */
  payload?: number;
}

function payloadOf(q: Queued): number {
  return q.payload ?? 0;
}

/** Sync mode's wait (see ReplicationSource.confirmTurn), as a connection sees it. */
export interface SyncBarrier {
  /** Grows with every change the store reports: a command that changed it wrote. */
  readonly touches: number;
  /** Resolves true once every in-sync replica confirmed this turn's writes, false if that did not happen in time. */
  confirmTurn(): Promise<boolean>;
}

interface SyncWaiter {
  /** -1 until the turn's flush gives it its offset. */
  offset: number;
  ids: Set<string>;
  done(ok: boolean): void;
}

/** Longest a sync-mode reply waits for its replicas before it is answered with NOTCONFIRMED. */
export const SYNC_TIMEOUT_MS = 10_000;

export class ReplicationSource implements SlotWatch, SyncBarrier {
  /** Every slot: replication follows the whole keyspace (a slot being imported, too: its keys go to the replicas with it). */
  readonly slots = new Uint8Array(SLOT_COUNT).fill(1);
  readonly runId = randomBytes(10).toString('hex');
  offset = 0;
  private readonly dirty = new Set<Key>();
  private flushScheduled = false;
  private readonly feeds = new Map<string, ReplicaFeed>();
  private stopped = false;
  private readonly batch = new PutBatch(['REPL', 'PUT']);
  private readonly backlog: Queued[] = [];
  private backlogBytes = 0;
  resyncs = { full: 0, partial: 0 };
  touches = 0;
  /** The in-sync set of the map in force: sync mode waits for each of them (and for the replicas it is about to report in sync). */
  private mapInSync = new Set<string>();
  /** When each replica was last reported in sync (see required()). */
  private readonly reportedAt = new Map<string, number>();
  private readonly syncWaiters = new Set<SyncWaiter>();
  /** Waiters whose writes are in the dirty set: their offset is set by the next flush. */
  private turnWaiters: SyncWaiter[] = [];
  /** Waiters for an offset to be confirmed by replicas (WAIT, sync mode). */
  private readonly waiters = new Set<{ offset: number; need: number; ids: ReadonlySet<string> | undefined; resolve: () => void }>();

  constructor(private readonly host: SourceHost) {}

  // --- SlotWatch -----------------------------------------------------------------

  touch(key: Key): void {
    this.touches++;
    this.dirty.add(key);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flushTurn);
    }
  }

  flushed(): void {
    this.touches++;
    this.dirty.clear();
    this.offset += 1;
    this.emit(encodeRequest(['REPL', 'FLUSH', this.runId, String(this.offset)]), 1);
  }

  // --- the stream --------------------------------------------------------------------

  private readonly flushTurn = (): void => {
    this.flushScheduled = false;
    this.flushNow();
  };

  /** Sends every key changed since the last flush (also used by WAIT, so its offset covers the caller's writes). */
  flushNow(): void {
    if (this.stopped || this.dirty.size === 0) return;
    const store = this.host.store;
    for (const key of this.dirty) {
      const type = store.typeOf(key);
      if (type === undefined) this.batch.add(key, 0, KIND_DELETE, null);
      else if (type === 'string') {
        const v = store.peek(key)!;
        if (v.length >= PART_THRESHOLD) {
          this.takeBatch();
          this.emitPieces(key, store.expireAt(key)!, v);
          continue;
        }
        this.batch.add(key, store.expireAt(key)!, KIND_STRING, v);
      } else this.batch.add(key, store.expireAt(key)!, KIND_OBJECT, encodeValue(store.peekObject(key)!));
      if (this.batch.bytes >= BATCH_BYTES || this.batch.count >= BATCH_KEYS) this.takeBatch();
    }
    this.dirty.clear();
    this.takeBatch();
    if (this.turnWaiters.length > 0) {
      for (const w of this.turnWaiters) w.offset = this.offset;
      this.turnWaiters = [];
      this.settleWaiters();
    }
  }

  // --- sync mode -----------------------------------------------------------------------

  /** The map's in-sync set changed: waiters need only those still in it (a replica leaves it before writes go on without it). */
  setRequired(ids: ReadonlySet<string>): void {
    this.mapInSync = new Set(ids);
    this.pruneWaiters();
  }

  /** Waiters stop waiting for a replica that is neither in the map's in-sync set nor about to be reported in it. */
  private pruneWaiters(): void {
    const required = this.required();
    for (const w of this.syncWaiters) for (const id of [...w.ids]) if (!required.has(id)) w.ids.delete(id);
    this.settleWaiters();
  }

  /**
   * Whom a write waits for: the map's in-sync set, and the replicas this
   * primary requires already but has not reported yet. A replica is reported
   * in sync only once it confirmed the offset from which every write waited
   * for it, so the map never names a replica that lacks an acknowledged write.
   */
  private required(): Set<string> {
    const out = new Set(this.mapInSync);
    for (const f of this.feeds.values()) if (f.requiredFrom >= 0) out.add(f.node.id);
    // A replica reported in sync lately may be named so by a map this node has not applied yet (the
    // controller acts on the report): it stays required for a while after it leaves the report.
    const now = performance.now();
    for (const [id, at] of this.reportedAt) if (now - at < REPORT_GRACE_MS) out.add(id);
    return out;
  }

  /** Whether the map in force names this replica in sync. */
  namedInSync(id: string): boolean {
    return this.mapInSync.has(id);
  }

  confirmTurn(): Promise<boolean> {
    const required = this.required();
    if (required.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const w: SyncWaiter = { offset: -1, ids: required, done: () => {} };
      const timer = setTimeout(() => w.done(false), SYNC_TIMEOUT_MS);
      w.done = (ok) => {
        clearTimeout(timer);
        this.syncWaiters.delete(w);
        resolve(ok);
      };
      this.syncWaiters.add(w);
      if (this.dirty.size > 0) this.turnWaiters.push(w);
      else {
        w.offset = this.offset;
        this.settleWaiters();
      }
    });
  }

  private confirmedBy(ids: ReadonlySet<string>, offset: number): boolean {
    for (const id of ids) {
      const f = this.feeds.get(id);
      if (f === undefined || f.state !== 'online' || f.acked < offset) return false;
    }
    return true;
  }

  private takeBatch(): void {
    if (this.batch.count === 0) return;
    const bytes = this.batch.bytes;
    this.offset += bytes;
    this.emit(this.batch.takeWith([this.runId, String(this.offset)]), bytes);
  }

  private emitPieces(key: Key, expireAt: number, value: Buffer): void {
    for (let off = 0; off < value.length; off += PART_SIZE) {
      const piece = value.subarray(off, Math.min(value.length, off + PART_SIZE));
      this.offset += piece.length;
      this.emit(partRequest(['REPL', 'PART', this.runId, String(this.offset)], key, expireAt, value.length, off, piece), piece.length);
    }
  }

  private emit(req: Buffer, payload: number): void {
    const q = { req, offset: this.offset, payload };
    this.backlog.push(q);
    this.backlogBytes += req.length;
    while (this.backlogBytes > BACKLOG_BYTES && this.backlog.length > 1) this.backlogBytes -= this.backlog.shift()!.req.length;
    for (const f of this.feeds.values()) f.stream(q);
  }

  /**
   * The stream after `offset`, if the backlog still holds all of it (a
   * replica that reconnects resumes there); undefined when it does not.
   */
  backlogAfter(offset: number): Queued[] | undefined {
    if (offset === this.offset) return [];
    const first = this.backlog[0];
    if (first === undefined || offset > this.offset) return undefined;
    // The first entry's start is unknown once older ones were dropped: it must begin at or before offset.
    const firstStart = this.backlogStart;
    if (offset < firstStart) return undefined;
    return this.backlog.filter((q) => q.offset > offset);
  }

  /** The offset the oldest backlog entry starts at. */
  private get backlogStart(): number {
    return this.backlog.length === 0 ? this.offset : this.backlog[0]!.offset - payloadOf(this.backlog[0]!);
  }

  // --- replicas ----------------------------------------------------------------------

  /** The replicas the map gives this primary now: feeds start for new ones and stop for those gone. */
  setReplicas(nodes: readonly MapNode[]): void {
    if (this.stopped) return;
    const want = new Map(nodes.filter((n) => n.state !== 'failed').map((n) => [n.id, n]));
    for (const [id, f] of this.feeds) {
      const n = want.get(id);
      if (n === undefined || n.host !== f.node.host || n.port !== f.node.port) {
        f.stop();
        this.feeds.delete(id);
      }
    }
    for (const [id, n] of want) {
      if (this.feeds.has(id)) continue;
      const f = new ReplicaFeed(n, this, this.host);
      this.feeds.set(id, f);
      void f.run();
    }
    this.settleWaiters();
  }

  /** The replicas that have everything streamed, give or take the lag bound: the in-sync set this primary reports. */
  inSync(): string[] {
    const bound = this.host.lagBoundMs();
    const out: string[] = [];
    let dropped = false;
    for (const f of this.feeds.values()) {
      if (f.requiredFrom >= 0 && !f.inSync(bound)) {
        // Too far behind: no longer required here; the map drops it next, and waiters then let go of it.
        f.requiredFrom = -1;
        dropped = true;
      }
      if (f.requiredFrom < 0 && f.state === 'online' && f.inSync(bound)) {
        this.flushNow();
        f.requiredFrom = this.offset;
      }
      if (f.requiredFrom >= 0 && f.acked >= f.requiredFrom) out.push(f.node.id);
    }
    const now = performance.now();
    for (const id of out) this.reportedAt.set(id, now);
    for (const [id, at] of this.reportedAt) if (now - at >= REPORT_GRACE_MS) this.reportedAt.delete(id);
    // Waiters let go of a replica only once nothing requires it any more (the map in force, the report, the grace).
    if (dropped || this.syncWaiters.size > 0) this.pruneWaiters();
    return out.sort();
  }

  status(): FeedStatus[] {
    return [...this.feeds.values()].map((f) => f.status());
  }

  /** How many of the replicas (all, or those in ids) confirmed offset. */
  confirmed(offset: number, ids?: ReadonlySet<string>): number {
    let n = 0;
    for (const f of this.feeds.values()) if ((ids === undefined || ids.has(f.node.id)) && f.state === 'online' && f.acked >= offset) n++;
    return n;
  }

  /** Resolves once `need` replicas (of ids, when given) confirmed offset, or after timeoutMs (0: no limit); returns how many did. */
  waitFor(offset: number, need: number, timeoutMs: number, ids?: ReadonlySet<string>): Promise<number> {
    if (this.confirmed(offset, ids) >= need) return Promise.resolve(this.confirmed(offset, ids));
    return new Promise((resolve) => {
      const w = { offset, need, ids, resolve: () => {} };
      const timer = timeoutMs > 0 ? setTimeout(() => w.resolve(), timeoutMs) : undefined;
      w.resolve = () => {
        if (timer) clearTimeout(timer);
        this.waiters.delete(w);
        resolve(this.confirmed(offset, ids));
      };
      this.waiters.add(w);
    });
  }

  /** A feed's confirmed offset moved (or a feed came or went). */
  settleWaiters(): void {
    for (const w of [...this.waiters]) if (this.confirmed(w.offset, w.ids) >= w.need) w.resolve();
    for (const w of [...this.syncWaiters]) if (w.offset >= 0 && this.confirmedBy(w.ids, w.offset)) w.done(true);
  }

  stop(): void {
    this.stopped = true;
    for (const f of this.feeds.values()) f.stop();
    this.feeds.clear();
    for (const w of [...this.waiters]) w.resolve();
    for (const w of [...this.syncWaiters]) w.done(false);
  }
}

class Restart extends Error {}

/** One replica's link: SYNC, the walk and the live stream, in order, with a bounded window. */
class ReplicaFeed {
  state: 'connecting' | 'syncing' | 'online' | 'stopped' = 'connecting';
  acked = 0;
  /** The offset from which every write waits for this replica (sync mode), -1 while it is not required (see ReplicationSource.required). */
  requiredFrom = -1;
  /** It completed a full sync of this run once: a reconnect tries the backlog first. */
  private wasOnline = false;
  private link: ReplicaLink | undefined;
  /** The link's connection this attempt runs on: a request never goes out on another (it would follow a gap). */
  private linkGen = -1;
  private readonly queue: Queued[] = [];
  private queueBytes = 0;
  /** Sent and not yet answered, in order, with when they were sent. */
  private readonly inflight: Array<{ offset: number; sentAt: number }> = [];
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  /** The current attempt's generation: replies of an older attempt are ignored. */
  private attemptNo = 0;

  constructor(
    readonly node: MapNode,
    private readonly source: ReplicationSource,
    private readonly host: SourceHost,
  ) {}

  inSync(boundMs: number): boolean {
    if (this.state !== 'online') return false;
    const oldest = this.inflight[0];
    return oldest === undefined || performance.now() - oldest.sentAt < boundMs;
  }

  status(): FeedStatus {
    const oldest = this.inflight[0];
    return { id: this.node.id, host: this.node.host, port: this.node.port, state: this.state, acked: this.acked, lagMs: oldest === undefined ? 0 : Math.round(performance.now() - oldest.sentAt) };
  }

  /** A request of the live stream: queued once the replica follows this run (before that, the walk reads the key anyway). */
  stream(q: Queued): void {
    if (this.state !== 'syncing' && this.state !== 'online') return;
    this.queue.push(q);
    this.queueBytes += q.req.length;
    if (this.queueBytes > MAX_QUEUE_BYTES) this.fail(new Restart(`replica ${this.node.host}:${this.node.port} fell more than ${MAX_QUEUE_BYTES} bytes behind; starting a full sync again`));
    else this.pump();
  }

  async run(): Promise<void> {
    let backoff = RETRY_FIRST_MS;
    while (!this.isStopped()) {
      const attempt = ++this.attemptNo;
      try {
        await this.attempt(attempt);
        return;
      } catch (err) {
        if (this.isStopped()) return;
        const quiet = /TRYAGAIN/.test((err as Error).message);
        this.host.log[quiet ? 'debug' : 'warn']({ replica: `${this.node.host}:${this.node.port}`, err: (err as Error).message, retryInMs: backoff }, 'replica feed failed; starting over with a full sync');
        this.reset();
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(RETRY_MAX_MS, backoff * 2);
      }
    }
  }

  stop(): void {
    this.state = 'stopped';
    this.link?.close();
    this.wake?.();
  }

  /** A method, not a field test: the state changes behind awaits, which TypeScript's narrowing does not see. */
  private isStopped(): boolean {
    return this.state === 'stopped';
  }

  private reset(): void {
    this.link?.close();
    this.link = undefined;
    this.queue.length = 0;
    this.queueBytes = 0;
    this.inflight.length = 0;
    this.failure = undefined;
    this.requiredFrom = -1;
    if (this.state !== 'stopped') this.state = 'connecting';
    this.source.settleWaiters();
  }

  private fail(err: Error): void {
    if (this.failure !== undefined) return;
    this.failure = err;
    this.link?.close();
    this.wake?.();
  }

  private check(): void {
    if (this.state === 'stopped') throw new Restart('stopped');
    if (this.failure !== undefined) throw this.failure;
  }

  private async attempt(attempt: number): Promise<void> {
    const s = this.source;
    this.link = this.host.connect(this.node);
    this.linkGen = -1;
    if (this.wasOnline && (await this.resume())) return this.live();
    // A full sync empties the replica first: never while the map still names it in sync, or a failover
    // meanwhile could promote an empty copy. This feed is not reported in sync now; wait for the map to say so.
    for (let waited = 0; s.namedInSync(this.node.id); waited += 50) {
      if (waited >= 10_000) throw new Error('the map still names this replica in sync; a full sync must wait for it to leave the in-sync set');
      await new Promise((r) => setTimeout(r, 50));
      this.check();
    }
    const reply = await this.link.send(encodeRequest(['REPL', 'SYNC', this.host.selfId, this.node.id, String(this.host.epoch()), s.runId, String(s.offset)]));
    if (reply[0] === 45) throw new Error(`the replica answered: ${reply.toString('latin1').trim().slice(1)}`);
    this.check();
    this.linkGen = this.link.connections;
    this.acked = s.offset;
    this.state = 'syncing';
    await this.walk(attempt);
    s.resyncs.full++;
    this.send({ req: encodeRequest(['REPL', 'SYNCED', s.runId, String(s.offset)]), offset: s.offset }, attempt, () => {
      if (this.state === 'syncing') this.state = 'online';
      this.wasOnline = true;
      this.host.log.info({ replica: `${this.node.host}:${this.node.port}`, offset: s.offset }, 'replica in sync');
    });
    await this.live();
  }

  /** The feed now lives on its queue; waits here until it fails or stops. */
  private async live(): Promise<void> {
    while (!this.isStopped() && this.failure === undefined) await new Promise<void>((r) => (this.wake = r));
    this.check();
  }

  /**
   * A replica that was online reconnects: it says which offset of this run it
   * applied, and the backlog sends what followed. False (a full sync follows)
   * when it follows another run, or the backlog no longer reaches back.
   */
  private async resume(): Promise<boolean> {
    const s = this.source;
    const reply = await this.link!.send(encodeRequest(['REPL', 'CONTINUE', this.host.selfId, this.node.id, String(this.host.epoch()), s.runId]));
    this.check();
    this.linkGen = this.link!.connections;
    const m = /^:(\d+)\r\n/.exec(reply.toString('latin1', 0, Math.min(reply.length, 32)));
    if (m === null) return false;
    const rest = s.backlogAfter(Number(m[1]));
    if (rest === undefined) return false;
    this.acked = Number(m[1]);
    this.state = 'online';
    for (const q of rest) this.enqueue(q);
    s.resyncs.partial++;
    this.host.log.info({ replica: `${this.node.host}:${this.node.port}`, from: Number(m[1]), requests: rest.length }, 'replica resumed from the backlog');
    return true;
  }

  /** Every key of the store, in bounded slices, into the queue between the stream's requests. */
  private async walk(attempt: number): Promise<void> {
    const store = this.host.store;
    const batch = new PutBatch(['REPL', 'PUT']);
    const s = this.source;
    const put = () => {
      if (batch.count > 0) this.enqueue({ req: batch.takeWith([s.runId, String(s.offset)]), offset: s.offset });
    };
    let sliceStart = performance.now();
    const found: Key[] = [];
    for (let slot = 0; slot < SLOT_COUNT; slot++) {
      if (store.countInSlot(slot) === 0) continue;
      let cursor = 0;
      do {
        cursor = store.scanSlot(slot, cursor, KEYS_PER_SCAN, (k) => found.push(k));
        for (const key of found) {
          const type = store.typeOf(key);
          if (type === undefined) continue;
          const at = store.expireAt(key)!;
          if (type === 'string') {
            const v = store.peek(key)!;
            if (v.length >= PART_THRESHOLD) {
              put();
              for (let off = 0; off < v.length; off += PART_SIZE) {
                this.enqueue({ req: partRequest(['REPL', 'PART', s.runId, String(s.offset)], key, at, v.length, off, v.subarray(off, Math.min(v.length, off + PART_SIZE))), offset: s.offset });
              }
              continue;
            }
            batch.add(key, at, KIND_STRING, v);
          } else batch.add(key, at, KIND_OBJECT, encodeValue(store.peekObject(key)!));
          if (batch.bytes >= BATCH_BYTES || batch.count >= BATCH_KEYS) put();
        }
        found.length = 0;
        // Values read in this turn go into the queue before any await: the live stream queues a key
        // written meanwhile, and a value read before it and queued after it would undo that write on the
        // replica (acknowledged writes lost in sync mode, the key back at an older value).
        const waits = this.queue.length >= WINDOW || performance.now() - sliceStart >= SLICE_MS;
        if (waits) put();
        // Bounded: wait while the replica has a window's worth unsent, and yield when the slice is spent.
        while (this.queue.length >= WINDOW) {
          await new Promise<void>((r) => (this.wake = r));
          this.check();
        }
        if (performance.now() - sliceStart >= SLICE_MS) {
          await new Promise((r) => setImmediate(r));
          this.check();
          if (attempt !== this.attemptNo) throw new Restart('superseded');
          sliceStart = performance.now();
        }
      } while (cursor !== 0);
    }
    put();
  }

  private enqueue(q: Queued): void {
    this.queue.push(q);
    this.queueBytes += q.req.length;
    this.pump();
  }

  private pump(): void {
    const attempt = this.attemptNo;
    while (this.failure === undefined && this.link !== undefined && this.inflight.length < WINDOW && this.queue.length > 0) {
      const q = this.queue.shift()!;
      this.queueBytes -= q.req.length;
      this.send(q, attempt);
    }
  }

  private send(q: Queued, attempt: number, onOk?: () => void): void {
    if (this.link!.connections !== this.linkGen) {
      // The connection broke (its failure may not have reached us yet): nothing more on a new one.
      this.fail(new Error('the link to the replica broke'));
      return;
    }
    this.inflight.push({ offset: q.offset, sentAt: performance.now() });
    this.link!.send(q.req).then(
      (reply) => {
        if (attempt !== this.attemptNo || this.state === 'stopped') return;
        this.inflight.shift();
        if (reply[0] === 45) {
          this.fail(new Error(`the replica answered: ${reply.toString('latin1').trim().slice(1)}`));
          return;
        }
        if (q.offset > this.acked) this.acked = q.offset;
        onOk?.();
        this.source.settleWaiters();
        this.pump();
        this.wake?.();
      },
      (err: Error) => {
        if (attempt === this.attemptNo) this.fail(err);
      },
    );
  }
}
