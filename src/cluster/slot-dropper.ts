/**
 * Drops the keys of slots this node no longer serves, in slices of bounded time
 * so clients keep being served meanwhile. Until a slot's pass is complete the
 * node does not serve it again (ClusterState holds its commands), so keys left
 * from an earlier ownership can never reappear.
 *
 * A store that tracks slots (a cluster node's: see node.ts) deletes a slot's
 * keys straight from that slot's list (Keyspace.dropSlot), so a pass costs the
 * keys dropped, not the keyspace; a store without slots is scanned whole.
 */
import type { Keyspace } from '../store/keyspace.js';
import { keySlot } from './key-slot.js';
import { SLOT_COUNT } from './planner.js';

/** Time one slice may hold the event loop. */
const SLICE_MS = 2;
/** Keys deleted (or, without slots, scanned) between two looks at the clock. */
const KEYS_PER_STEP = 256;

export class SlotDropper {
  private readonly pending = new Uint8Array(SLOT_COUNT);
  private running = false;
  /** Keys dropped since start, for INFO and tests. */
  dropped = 0;

  constructor(
    private readonly store: Keyspace,
    private readonly onDone: (slots: number[]) => void,
  ) {}

  drop(slots: readonly number[]): void {
    if (slots.length === 0) return;
    for (const s of slots) this.pending[s] = 1;
    if (!this.running) {
      this.running = true;
      setImmediate(() => this.pass());
    }
  }

  /** Empties the slots pending when it starts, slice by slice; slots added meanwhile get another pass. */
  private pass(): void {
    const slots = new Uint8Array(this.pending);
    this.pending.fill(0);
    const done: number[] = [];
    for (let s = 0; s < SLOT_COUNT; s++) if (slots[s] === 1) done.push(s);
    const step = this.store.slotted ? this.dropStep(done) : this.scanStep(slots);
    const slice = () => {
      const until = performance.now() + SLICE_MS;
      let more: boolean;
      do more = step();
      while (more && performance.now() < until);
      if (more) return void setImmediate(slice);
      this.onDone(done.filter((s) => this.pending[s] === 0));
      if (this.pending.includes(1)) setImmediate(() => this.pass());
      else this.running = false;
    };
    slice();
  }

  /** One step through the slots' own lists: deletes up to KEYS_PER_STEP keys; false once every slot is empty. */
  private dropStep(slots: readonly number[]): () => boolean {
    let i = 0;
    return () => {
      for (let left = KEYS_PER_STEP; i < slots.length && left > 0; ) {
        const n = this.store.dropSlot(slots[i]!, left);
        this.dropped += n;
        left -= n;
        if (n === 0) i++; // the slot is empty
      }
      return i < slots.length;
    };
  }

  /** One step of a scan of the whole keyspace, deleting the keys of marked slots; false once the scan is done. */
  private scanStep(slots: Uint8Array): () => boolean {
    let cursor = 0;
    return () => {
      const doomed: string[] = [];
      cursor = this.store.scan(cursor, KEYS_PER_STEP, (key) => {
        if (slots[keySlot(key)] === 1) doomed.push(key);
      });
      for (const k of doomed) if (this.store.delete(k)) this.dropped++;
      return cursor !== 0;
    };
  }
}
