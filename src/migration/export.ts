/**
 * The old owner's side of one move: copy every key of the moving slots to the
 * new owner while still serving them, then a short handover.
 *
 * 1. BEGIN: the new owner checks it knows the move and holds nothing in its slots.
 * 2. Copy: slot by slot, the slot is watched (the store reports every key
 *    written, deleted, expired or evicted in it) and its keys are walked in
 *    bounded slices and sent with their absolute expiry. A key written after
 *    its slot's walk began is marked dirty.
 * 3. Catch up: dirty keys are sent again (their value now, or a delete), in
 *    rounds, until few are left.
 * 4. Handover: the slots are held (their commands wait, routing says so), the
 *    last dirty keys go, then DONE; the new owner's OK to DONE means it holds
 *    exactly what this node holds. The move is acknowledged in the coordinator
 *    and the slots stay held until the next map commits the move (they are
 *    then the new owner's: held commands get MOVED or are forwarded) or
 *    cancels it (they run here).
 *
 * Resending whole values instead of replaying commands keeps the new owner's
 * copy equal to this node's without a command log: the last send of a key is
 * made after its last write. Each step is bounded: batches of at most
 * BATCH_BYTES, at most WINDOW batches unanswered (so memory on both sides is
 * bounded whatever the rate), at most SLICE_MS of work per event-loop turn,
 * large strings in PART_SIZE pieces, one per turn.
 *
 * A failure before the handover (the connection breaks, the new owner says
 * TRYAGAIN) releases everything and starts again from BEGIN after a backoff.
 * Once an acknowledgement may have been written, the slots are never released
 * except by a new map: the controller may commit the move at any time.
 */
import type { Logger } from 'pino';
import type { MapNode, SlotMove } from '../cluster/cluster-map.js';
import type { Clock } from '../store/clock.js';
import type { Key, Keyspace } from '../store/keyspace.js';
import { encodeValue } from '../store/objects/serialize.js';
import type { MoveReporter } from '../membership/provider.js';
import type { MoveProgress } from './progress.js';
import { encodeRequest } from '../protocol/request-encoder.js';
import { KIND_DELETE, KIND_OBJECT, KIND_STRING, PART_SIZE, PART_THRESHOLD, PutBatch, partRequest } from './wire.js';

/** Work per event-loop turn before clients get theirs: the node's turn budget for client input (2 ms). */
const SLICE_MS = 2;
const BATCH_BYTES = 64 * 1024;
const BATCH_KEYS = 512;
/** Batches sent and not yet answered. */
const WINDOW = 8;
const KEYS_PER_SCAN = 128;
/** Catch-up rounds stop when this few keys are dirty, or after MAX_ROUNDS. */
const FINAL_DIRTY = 256;
const MAX_ROUNDS = 8;
const PROGRESS_EVERY_MS = 1000;
const RETRY_FIRST_MS = 50;
const RETRY_MAX_MS = 2000;

/** A connection to the new owner: requests in order, replies in order. */
export interface MoveLink {
  send(request: Buffer): Promise<Buffer>;
  close(): void;
}

export interface ExportHost {
  readonly store: Keyspace;
  readonly clock: Clock;
  readonly log: Logger;
  readonly reporter: MoveReporter | undefined;
  /** Most keys per second (0: no limit). */
  rate(): number;
  connect(node: MapNode): MoveLink;
  /** Starts reporting changes of keys in the slot to this export. */
  watch(slot: number, exp: SlotExport): void;
  unwatch(exp: SlotExport): void;
  hold(slots: readonly number[]): void;
  release(slots: readonly number[]): void;
}

class Stopped extends Error {}

export class SlotExport {
  readonly slots: number[] = [];
  phase: MoveProgress['phase'] = 'copying';
  private readonly dirty = new Set<Key>();
  private readonly big: Key[] = [];
  private batch: PutBatch;
  private readonly window: Array<Promise<Buffer>> = [];
  private link: MoveLink | undefined;
  private stopped = false;
  private held = false;
  private sliceStart = 0;
  private copyStarted = 0;
  private progressTimer: NodeJS.Timeout | undefined;
  private readonly startedAt: number;
  slotsDone = 0;
  keysTotal = 0;
  keysSent = 0;
  bytesSent = 0;
  keysResent = 0;
  /** From holding the slots to the new owner's OK to DONE, in ms. */
  handoverMs = 0;
  /** From holding the slots to releasing them (the commit applied here, or a cancel): how long their commands waited at most. */
  pauseMs = 0;
  private heldAt = 0;
  /** Resolves once acknowledged (the copy is complete); never rejects. */
  readonly acknowledged: Promise<void>;
  private onAcknowledged!: () => void;

  constructor(
    readonly id: string,
    readonly move: SlotMove,
    private readonly target: MapNode,
    private readonly host: ExportHost,
  ) {
    for (const [start, end] of move.ranges) for (let s = start; s <= end; s++) this.slots.push(s);
    this.batch = new PutBatch(['SLOTMOVE', 'PUT', id]);
    this.startedAt = host.clock.now();
    this.acknowledged = new Promise((resolve) => (this.onAcknowledged = resolve));
  }

  /** Runs the move until it is acknowledged or stopped; never rejects. */
  async run(): Promise<void> {
    this.progressTimer = setInterval(() => this.report(), PROGRESS_EVERY_MS);
    this.progressTimer.unref();
    let backoff = RETRY_FIRST_MS;
    while (!this.stopped) {
      try {
        await this.attempt();
        return;
      } catch (err) {
        if (this.stopped || err instanceof Stopped) return;
        // TRYAGAIN is the new owner not ready yet (its map is behind, or it still drops old keys): expected, quiet.
        const expected = (err as Error).message.includes('answered: TRYAGAIN');
        this.host.log[expected ? 'debug' : 'warn']({ move: this.id, err: (err as Error).message, retryInMs: backoff }, 'slot move attempt failed; retrying');
        this.reset();
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(RETRY_MAX_MS, backoff * 2);
      }
    }
  }

  /** The map committed or cancelled the move: stop, and let the slots' commands go (MOVED, or here). */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.progressTimer) clearInterval(this.progressTimer);
    this.host.unwatch(this);
    this.link?.close();
    if (this.held) {
      this.pauseMs = performance.now() - this.heldAt;
      this.host.release(this.slots);
    }
    this.held = false;
  }

  /** The store reports a change to a key of a watched slot. */
  touched(key: Key): void {
    if (!this.held) this.dirty.add(key);
  }

  /** The keyspace was flushed: what was sent is stale; start again. */
  flushed(): void {
    if (this.held || this.stopped) return;
    this.link?.close(); // the attempt fails and is retried from BEGIN
  }

  progress(): MoveProgress {
    const seconds = Math.max(0.001, (this.host.clock.now() - this.startedAt) / 1000);
    return {
      moveId: this.id,
      from: this.move.from,
      to: this.move.to,
      phase: this.phase,
      slots: this.slots.length,
      slotsDone: this.slotsDone,
      keysTotal: this.keysTotal,
      keysSent: this.keysSent,
      bytesSent: this.bytesSent,
      keysResent: this.keysResent,
      startedAt: this.startedAt,
      rate: Math.round(this.keysSent / seconds),
    };
  }

  private report(): void {
    if (this.stopped) return;
    this.host.reporter?.progress(this.progress()).catch(() => {});
  }

  private reset(): void {
    this.link?.close();
    this.link = undefined;
    this.host.unwatch(this);
    if (this.held) this.host.release(this.slots);
    this.held = false;
    this.dirty.clear();
    this.big.length = 0;
    this.window.length = 0;
    this.batch = new PutBatch(['SLOTMOVE', 'PUT', this.id]);
    this.slotsDone = 0;
    this.keysSent = 0;
    this.bytesSent = 0;
    this.keysResent = 0;
    this.phase = 'copying';
  }

  private async attempt(): Promise<void> {
    const store = this.host.store;
    this.keysTotal = this.slots.reduce((n, s) => n + store.countInSlot(s), 0);
    this.link = this.host.connect(this.target);
    this.check(await this.link.send(encodeRequest(['SLOTMOVE', 'BEGIN', this.id])));
    this.sliceStart = this.copyStarted = performance.now();
    // 2. Copy.
    const found: Key[] = [];
    for (const slot of this.slots) {
      this.host.watch(slot, this);
      let cursor = 0;
      do {
        cursor = store.scanSlot(slot, cursor, KEYS_PER_SCAN, (k) => found.push(k));
        for (const k of found) this.sendKey(k);
        found.length = 0;
        await this.pace();
      } while (cursor !== 0);
      this.slotsDone++;
    }
    await this.sendBig();
    // 3. Catch up.
    this.phase = 'catching-up';
    for (let round = 0; round < MAX_ROUNDS && this.dirty.size > FINAL_DIRTY; round++) await this.resendDirty();
    // Everything sent so far answered before the slots are held: the pause then covers only the last
    // dirty keys and one round trip, not a queue of batches at a busy new owner (measured: up to 600 ms).
    await this.drain();
    // 4. Handover.
    const pausedAt = (this.heldAt = performance.now());
    this.phase = 'handover';
    this.host.hold(this.slots);
    this.held = true;
    await this.resendDirty();
    await this.drain();
    this.check(await this.link.send(encodeRequest(['SLOTMOVE', 'DONE', this.id, String(this.keysSent)])));
    this.handoverMs = performance.now() - pausedAt;
    this.report();
    await this.ack();
  }

  /** Writes the acknowledgement, retrying while the coordinator is unreachable (the slots stay held). */
  private async ack(): Promise<void> {
    for (let wait = 100; !this.stopped; wait = Math.min(1000, wait * 2)) {
      try {
        if (this.host.reporter === undefined) throw new Error('no coordinator to acknowledge to');
        await this.host.reporter.ack(this.id);
        this.onAcknowledged();
        return;
      } catch (err) {
        this.host.log.warn({ move: this.id, err: (err as Error).message }, 'could not acknowledge a finished move; retrying (its slots stay held)');
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  /** Adds one key's current state (or its deletion) to the batch; large strings wait for sendBig. */
  private sendKey(key: Key): void {
    const store = this.host.store;
    const type = store.typeOf(key);
    if (type === undefined) this.batch.add(key, 0, KIND_DELETE, null);
    else {
      const at = store.expireAt(key)!;
      if (type === 'string') {
        const v = store.peek(key)!;
        if (v.length >= PART_THRESHOLD) {
          this.big.push(key);
          return;
        }
        this.batch.add(key, at, KIND_STRING, v);
        this.bytesSent += v.length;
      } else {
        const payload = encodeValue(store.peekObject(key)!);
        this.batch.add(key, at, KIND_OBJECT, payload);
        this.bytesSent += payload.length;
      }
    }
    this.keysSent++;
  }

  /**
   * Large strings, one piece per turn. Such a value is a Buffer of its own that
   * the store never changes (keyspace.ts, ValueSink): holding it across turns
   * is safe, and a write to the key meanwhile marks it dirty for a resend.
   */
  private async sendBig(): Promise<void> {
    while (this.big.length > 0) {
      const key = this.big.shift()!;
      await this.flushBatch();
      const store = this.host.store;
      if (store.typeOf(key) !== 'string' || store.peek(key)!.length < PART_THRESHOLD) {
        this.sendKey(key); // changed since: whatever it is now
        continue;
      }
      const value = store.peek(key)!;
      const at = store.expireAt(key)!;
      for (let off = 0; off < value.length; off += PART_SIZE) {
        const piece = value.subarray(off, Math.min(value.length, off + PART_SIZE));
        await this.sendRequest(partRequest(['SLOTMOVE', 'PART', this.id], key, at, value.length, off, piece));
        this.bytesSent += piece.length;
        await this.yieldTurn();
      }
      this.keysSent++;
    }
  }

  private async resendDirty(): Promise<void> {
    const keys = [...this.dirty];
    this.dirty.clear();
    this.keysResent += keys.length;
    for (const k of keys) {
      this.sendKey(k);
      if (this.batch.bytes >= BATCH_BYTES || this.batch.count >= BATCH_KEYS) await this.pace();
    }
    await this.sendBig();
    await this.flushBatch();
  }

  /** After some keys: send a full batch, respect the window, and yield when the slice is used up. */
  private async pace(): Promise<void> {
    if (this.batch.bytes >= BATCH_BYTES || this.batch.count >= BATCH_KEYS) await this.flushBatch();
    if (performance.now() - this.sliceStart >= SLICE_MS) await this.yieldTurn();
    // Never throttled in the handover: the slots' commands are waiting.
    const rate = this.phase === 'handover' ? 0 : this.host.rate();
    if (rate > 0) {
      const ahead = this.copyStarted + (this.keysSent / rate) * 1000 - performance.now();
      if (ahead > 1) {
        await new Promise((r) => setTimeout(r, Math.min(ahead, 100)));
        if (this.stopped) throw new Stopped();
        this.sliceStart = performance.now();
      }
    }
  }

  private async yieldTurn(): Promise<void> {
    await new Promise((r) => setImmediate(r));
    if (this.stopped) throw new Stopped();
    this.sliceStart = performance.now();
  }

  private async flushBatch(): Promise<void> {
    if (this.batch.count === 0) return;
    await this.sendRequest(this.batch.take());
  }

  private async sendRequest(req: Buffer): Promise<void> {
    if (this.stopped) throw new Stopped();
    const reply = this.link!.send(req);
    reply.catch(() => {}); // handled where it is awaited; the ones after a failure never are
    this.window.push(reply);
    while (this.window.length >= WINDOW) this.check(await this.window.shift()!);
  }

  private async drain(): Promise<void> {
    await this.flushBatch();
    while (this.window.length > 0) this.check(await this.window.shift()!);
  }

  private check(reply: Buffer): void {
    if (this.stopped) throw new Stopped();
    if (reply[0] === 45) throw new Error(`the new owner answered: ${reply.toString('latin1').trim().slice(1)}`);
  }
}
