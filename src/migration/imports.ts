/**
 * The new owner's side of a move: what it has received for each move, and
 * what becomes of it when the map changes. The received keys sit in slots
 * this node does not serve yet (routing holds their commands), so nobody reads
 * them before the move commits; and they are kept only if the copy finished
 * (DONE) before the commit. A move that ends any other way (cancelled, or
 * committed because the old owner died mid-copy) leaves keys that may be
 * older than what the old owner acknowledged to clients: they are dropped
 * before the slots are served.
 */
import { moveId, type ClusterMap } from '../cluster/cluster-map.js';
import { SLOT_COUNT } from '../cluster/planner.js';
import { CommandError } from '../commands/errors.js';
import type { Clock } from '../store/clock.js';
import type { Key, Keyspace } from '../store/keyspace.js';
import { Pieces, storeEntry } from './entry.js';
import { KIND_STRING } from './wire.js';

interface Incoming {
  readonly id: string;
  readonly from: string;
  readonly slots: readonly number[];
  /** 1 for the move's slots: a key outside them is refused. */
  readonly member: Uint8Array;
  complete: boolean;
  keys: number;
  bytes: number;
  /** Large strings being received in pieces. */
  readonly partial: Pieces;
}

export interface ImportHost {
  readonly store: Keyspace;
  readonly clock: Clock;
  readonly selfId: string;
  map(): ClusterMap | undefined;
  isDropping(slot: number): boolean;
  /** Drops the keys of these slots in the background (routing holds their commands meanwhile if this node serves them). */
  drop(slots: number[]): void;
}

export interface ImportStats {
  active: number;
  keysReceived: number;
  bytesReceived: number;
  completed: number;
  discarded: number;
}

export class MoveImports {
  private readonly moves = new Map<string, Incoming>();
  readonly stats: ImportStats = { active: 0, keysReceived: 0, bytesReceived: 0, completed: 0, discarded: 0 };

  constructor(private readonly host: ImportHost) {}

  /** SLOTMOVE BEGIN: the move must be in this node's map, and its slots empty here. */
  begin(id: string): void {
    const map = this.host.map();
    const move = map?.moves.find((m) => moveId(m) === id);
    if (move === undefined || move.to !== this.host.selfId) throw new CommandError(`TRYAGAIN this node does not know the move ${id} (yet)`);
    const existing = this.moves.get(id);
    if (existing !== undefined) {
      // A retry after a broken copy: what the first attempt sent may be stale.
      this.moves.delete(id);
      this.discard(existing);
    }
    const slots: number[] = [];
    for (const [start, end] of move.ranges) for (let s = start; s <= end; s++) slots.push(s);
    const store = this.host.store;
    const leftover = slots.filter((s) => this.host.isDropping(s) || store.countInSlot(s) > 0);
    if (leftover.length > 0) {
      const notDropping = leftover.filter((s) => !this.host.isDropping(s));
      if (notDropping.length > 0) this.host.drop(notDropping);
      throw new CommandError(`TRYAGAIN ${leftover.length} of the move's slots still hold keys here; they are being dropped`);
    }
    const member = new Uint8Array(SLOT_COUNT);
    for (const s of slots) member[s] = 1;
    this.moves.set(id, { id, from: move.from, slots, member, complete: false, keys: 0, bytes: 0, partial: new Pieces() });
    this.stats.active = this.moves.size;
  }

  private receiving(id: string): Incoming {
    const m = this.moves.get(id);
    if (m === undefined) throw new CommandError(`ERR no move ${id} in progress on this node`);
    if (m.complete) throw new CommandError(`ERR the move ${id} is already complete`);
    return m;
  }

  private checkSlot(m: Incoming, key: Key): void {
    if (m.member[this.host.store.slotOfKey(key)] !== 1) throw new CommandError(`ERR key is not in the slots of move ${m.id}`);
  }

  /** One entry of SLOTMOVE PUT. The value's bytes are [vs, ve) of vb. */
  put(id: string, key: Key, expireAt: number, kind: string, vb: Buffer, vs: number, ve: number): void {
    const m = this.receiving(id);
    this.checkSlot(m, key);
    m.partial.forget(key);
    m.keys++;
    m.bytes += ve - vs;
    this.stats.keysReceived++;
    this.stats.bytesReceived += ve - vs;
    storeEntry(this.host.store, this.host.clock, key, expireAt, kind, vb, vs, ve);
  }

  /** SLOTMOVE PART: a piece of a large string; stored once the last piece is in. */
  part(id: string, key: Key, expireAt: number, total: number, offset: number, bytes: Buffer): void {
    const m = this.receiving(id);
    this.checkSlot(m, key);
    const whole = m.partial.add(key, expireAt, total, offset, bytes, `move ${id}`);
    m.bytes += bytes.length;
    this.stats.bytesReceived += bytes.length;
    if (whole === undefined) return;
    this.put(id, key, whole.expireAt, KIND_STRING, whole.value, 0, total);
    m.bytes -= total; // counted piece by piece already
    this.stats.bytesReceived -= total;
  }

  /** SLOTMOVE DONE: the old owner sent everything and holds the slots. */
  done(id: string, keysSent: number): void {
    const m = this.receiving(id);
    if (m.partial.size > 0) throw new CommandError(`ERR move ${id} ended with ${m.partial.size} large values incomplete`);
    if (keysSent !== m.keys) throw new CommandError(`ERR move ${id}: ${keysSent} keys sent but ${m.keys} received`);
    m.complete = true;
  }

  abort(id: string): void {
    const m = this.moves.get(id);
    if (m === undefined) return;
    this.moves.delete(id);
    this.discard(m);
  }

  /**
   * After a new map is applied: moves no longer in it are over. A complete one
   * whose slots this node now owns is kept; anything else is dropped.
   */
  onMap(map: ClusterMap): void {
    const inFlight = new Set(map.moves.map(moveId));
    for (const m of [...this.moves.values()]) {
      if (inFlight.has(m.id)) continue;
      this.moves.delete(m.id);
      const owned = m.slots.every((s) => map.ownerOf(s)?.id === this.host.selfId);
      if (m.complete && owned) this.stats.completed++;
      else this.discard(m);
    }
    this.stats.active = this.moves.size;
  }

  private discard(m: Incoming): void {
    this.stats.discarded++;
    this.stats.active = this.moves.size;
    this.host.drop([...m.slots]);
  }
}
