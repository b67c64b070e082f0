/**
 * Several SlotWatch users on one store (its slotWatch field holds one): slot
 * migration watches the slots it copies, replication every slot. Each is told
 * only of keys in its own slots; the store sees one watcher, and none at all
 * (a null check per write) when nobody watches.
 */
import type { Key, Keyspace, SlotWatch } from './keyspace.js';

/** As many slots as any slot function the store is built with may return (Redis Cluster's 16384; the store stays free of cluster imports). */
const EVERY_SLOT = new Uint8Array(16384).fill(1);

export class SlotWatchers implements SlotWatch {
  private readonly members: SlotWatch[] = [];

  constructor(private readonly store: Keyspace) {}

  /**
   * The store reads this on every write: with one watcher its own array (which
   * it changes in place), with several every slot (touch filters per watcher).
   */
  get slots(): Uint8Array {
    return this.members.length === 1 ? this.members[0]!.slots : EVERY_SLOT;
  }

  attach(w: SlotWatch): void {
    if (!this.members.includes(w)) this.members.push(w);
    this.store.slotWatch = this;
  }

  detach(w: SlotWatch): void {
    const i = this.members.indexOf(w);
    if (i >= 0) this.members.splice(i, 1);
    if (this.members.length === 0) this.store.slotWatch = null;
  }

  touch(key: Key, slot: number): void {
    for (const w of this.members) if (w.slots[slot] === 1) w.touch(key, slot);
  }

  flushed(): void {
    for (const w of this.members) w.flushed();
  }
}
