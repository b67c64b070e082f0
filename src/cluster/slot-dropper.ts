/**
 * Drops the keys of slots this node no longer serves, in slices of bounded time
 * so clients keep being served meanwhile. Until a slot's pass is complete the
 * node does not serve it again (ClusterState holds its commands), so keys left
 * from an earlier ownership can never reappear.
 */
import type { Keyspace } from '../store/keyspace.js';
import { keySlot } from './key-slot.js';
import { SLOT_COUNT } from './planner.js';

/** Time one slice may hold the event loop. */
const SLICE_MS = 2;
const KEYS_PER_SCAN = 256;

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

  /** One full scan of the keyspace for the slots pending when it starts; slots added meanwhile get another pass. */
  private pass(): void {
    const slots = new Uint8Array(this.pending);
    this.pending.fill(0);
    const done: number[] = [];
    for (let s = 0; s < SLOT_COUNT; s++) if (slots[s] === 1) done.push(s);
    let cursor = 0;
    const slice = () => {
      const until = performance.now() + SLICE_MS;
      do {
        const doomed: string[] = [];
        cursor = this.store.scan(cursor, KEYS_PER_SCAN, (key) => {
          if (slots[keySlot(key)] === 1) doomed.push(key);
        });
        for (const k of doomed) if (this.store.delete(k)) this.dropped++;
      } while (cursor !== 0 && performance.now() < until);
      if (cursor !== 0) return void setImmediate(slice);
      this.onDone(done.filter((s) => this.pending[s] === 0));
      if (this.pending.includes(1)) setImmediate(() => this.pass());
      else this.running = false;
    };
    slice();
  }
}
