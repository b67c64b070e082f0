/**
 * A FIFO of entry ids in linked blocks of typed arrays: push and pop are O(1),
 * growth never copies (so no step is proportional to the queue's length), and
 * ids removed lazily are dropped by `sweep`, one block at a time, in order.
 */
const BLOCK = 4096;

interface Block {
  ids: Uint32Array;
  head: number;
  tail: number;
}

export class IdQueue {
  private blocks: Block[] = [];
  private first = 0;
  private sweepAt = 0;
  /** Ids in the queue, including ones not yet swept. */
  length = 0;

  push(id: number): void {
    let b = this.blocks[this.blocks.length - 1];
    if (b === undefined || b.tail === BLOCK || this.blocks.length === this.first) {
      b = { ids: new Uint32Array(BLOCK), head: 0, tail: 0 };
      this.blocks.push(b);
    }
    b.ids[b.tail++] = id;
    this.length++;
  }

  /** The oldest id, or -1 when empty. */
  pop(): number {
    while (this.first < this.blocks.length) {
      const b = this.blocks[this.first]!;
      if (b.head < b.tail) {
        this.length--;
        const id = b.ids[b.head++]!;
        if (b.head === b.tail) this.dropFirst();
        return id;
      }
      this.dropFirst();
    }
    return -1;
  }

  private dropFirst(): void {
    this.first++;
    // Shift the array only now and then: amortised O(1) per block.
    if (this.first >= 64 && this.first * 2 >= this.blocks.length) {
      this.blocks = this.blocks.slice(this.first);
      this.sweepAt = Math.max(0, this.sweepAt - this.first);
      this.first = 0;
    }
  }

  /**
   * Compacts up to `maxBlocks` blocks, keeping the ids for which keep(id) is
   * true in their order; an emptied block is removed, a block whose ids fit
   * in its predecessor's free space is merged into it. Returns ids dropped.
   */
  sweep(maxBlocks: number, keep: (id: number) => boolean): number {
    let dropped = 0;
    for (let n = 0; n < maxBlocks && this.blocks.length > this.first; n++) {
      if (this.sweepAt < this.first || this.sweepAt >= this.blocks.length) this.sweepAt = this.first;
      const b = this.blocks[this.sweepAt]!;
      let w = b.head;
      for (let r = b.head; r < b.tail; r++) {
        const id = b.ids[r]!;
        if (keep(id)) b.ids[w++] = id;
        else dropped++;
      }
      b.tail = w;
      const prev = this.sweepAt > this.first ? this.blocks[this.sweepAt - 1]! : undefined;
      const live = b.tail - b.head;
      // The last block stays (pushes go there); others go once empty or merged.
      const isLast = this.sweepAt === this.blocks.length - 1;
      if (!isLast && (live === 0 || (prev !== undefined && BLOCK - prev.tail >= live))) {
        if (live > 0) {
          prev!.ids.set(b.ids.subarray(b.head, b.tail), prev!.tail);
          prev!.tail += live;
        }
        this.blocks.splice(this.sweepAt, 1);
      } else {
        this.sweepAt++;
      }
    }
    this.length -= dropped;
    return dropped;
  }

  /** Bytes held by the blocks. */
  get bytes(): number {
    return (this.blocks.length - this.first) * BLOCK * 4;
  }

  clear(): void {
    this.blocks = [];
    this.first = 0;
    this.sweepAt = 0;
    this.length = 0;
  }
}
