/**
 * Chunks of memory in 1 MiB pages outside the V8 heap, in size classes, as
 * memcached's slabs: a page serves one class, a chunk is addressed by one u32
 * (page and offset in 8-byte units), and freeing a chunk puts it on its page's
 * free list, threaded through the free chunks themselves, so the allocator's
 * own bookkeeping is a few typed arrays indexed by page.
 *
 * Per-page (not per-class) free lists are what make compaction possible: to
 * empty a sparse page, its live chunks are moved into other pages of the class
 * and the page is released whole.
 *
 * Byte 0 of every chunk is its owner's to use, except that bit 0 must be set
 * while the chunk is allocated: the allocator clears it on free, and compaction
 * walks a page by that bit.
 */
export const PAGE_SIZE = 1 << 20;
const GRAIN_SHIFT = 3;
const OFFSET_UNITS = PAGE_SIZE >>> GRAIN_SHIFT; // 2^17
export const MAX_PAGES = 1 << 15; // 32 GiB of pages at most
/** Largest chunk; bigger allocations are the caller's (own Buffers). */
export const MAX_CHUNK = 16 * 1024;
export const CHUNK_LIVE = 1;

/** Chunk sizes: every 8 bytes up to 256, then steps of about 12.5%, to MAX_CHUNK. */
export const CLASS_SIZES: readonly number[] = (() => {
  const sizes: number[] = [];
  for (let s = 16; s <= 256; s += 8) sizes.push(s);
  let s = 256;
  while (s < MAX_CHUNK) {
    s = Math.min(MAX_CHUNK, (Math.ceil((s * 1.125) / 8) * 8));
    sizes.push(s);
  }
  return sizes;
})();

/** Class of each size in 8-byte units, so classOf is one array read. */
const CLASS_BY_UNITS = (() => {
  const t = new Uint8Array((MAX_CHUNK >>> GRAIN_SHIFT) + 1);
  let c = 0;
  for (let u = 0; u < t.length; u++) {
    while (CLASS_SIZES[c]! < u << GRAIN_SHIFT) c++;
    t[u] = c;
  }
  return t;
})();

export function classOf(size: number): number {
  return CLASS_BY_UNITS[(size + 7) >>> GRAIN_SHIFT]!;
}

export class SlabAllocator {
  /** Page memory; undefined for released page numbers. */
  readonly pages: (Buffer | undefined)[] = [];
  private readonly pageClass = new Int16Array(MAX_PAGES).fill(-1);
  private readonly pageLive = new Int32Array(MAX_PAGES);
  /** Offset of the first free chunk of a page, or -1. */
  private readonly pageFree = new Int32Array(MAX_PAGES).fill(-1);
  /** Offset of the first never-used chunk of a page. */
  private readonly pageBump = new Int32Array(MAX_PAGES);
  /** Position of a page in its class's `partial` list, or -1. */
  private readonly partialPos = new Int32Array(MAX_PAGES).fill(-1);
  /** Per class: pages with room, the one to allocate from last. */
  private readonly partial: number[][] = CLASS_SIZES.map(() => []);
  private readonly classPages = new Int32Array(CLASS_SIZES.length);
  private readonly classLive = new Float64Array(CLASS_SIZES.length);
  private readonly releasedPages: number[] = [];
  /** Bytes of live chunks (class sizes): what the data occupies. */
  liveBytes = 0;
  /** Pages currently held. */
  pageCount = 0;
  /** Chunks moved by compaction since the start (a counter for INFO and tests). */
  moved = 0;
  /** A page being emptied by compaction, and where its walk resumes. */
  private victim = -1;
  private victimAt = 0;

  /** A chunk of at least `size` bytes (size <= MAX_CHUNK); throws when out of page numbers. */
  alloc(size: number): number {
    const c = classOf(size);
    const list = this.partial[c]!;
    const p = list.length > 0 ? list[list.length - 1]! : this.newPage(c);
    return this.take(p, c);
  }

  private take(p: number, c: number): number {
    const size = CLASS_SIZES[c]!;
    const buf = this.pages[p]!;
    let off = this.pageFree[p]!;
    if (off >= 0) {
      this.pageFree[p] = buf.readInt32LE(off + 4);
    } else {
      off = this.pageBump[p]!;
      this.pageBump[p] = off + size;
    }
    buf[off] = CHUNK_LIVE;
    this.pageLive[p]!++;
    this.classLive[c]!++;
    this.liveBytes += size;
    if (this.pageFree[p] === -1 && this.pageBump[p]! + size > PAGE_SIZE) this.unlistPartial(p, c);
    return p * OFFSET_UNITS + (off >>> GRAIN_SHIFT);
  }

  free(addr: number): void {
    const p = addr >>> 17;
    const off = (addr & (OFFSET_UNITS - 1)) << GRAIN_SHIFT;
    const c = this.pageClass[p]!;
    const buf = this.pages[p]!;
    buf[off] = 0;
    buf.writeInt32LE(this.pageFree[p]!, off + 4);
    this.pageFree[p] = off;
    this.pageLive[p]!--;
    this.classLive[c]!--;
    this.liveBytes -= CLASS_SIZES[c]!;
    if (p === this.victim) return; // compaction releases it when done
    if (this.pageLive[p] === 0 && this.partial[c]!.length > 1) {
      this.release(p, c);
      return;
    }
    if (this.partialPos[p] === -1) this.listPartial(p, c);
  }

  /** The page buffer and byte offset of a chunk. */
  buffer(addr: number): Buffer {
    return this.pages[addr >>> 17]!;
  }

  static offset(addr: number): number {
    return (addr & (OFFSET_UNITS - 1)) << GRAIN_SHIFT;
  }

  classOfChunk(addr: number): number {
    return this.pageClass[addr >>> 17]!;
  }

  chunkSize(addr: number): number {
    return CLASS_SIZES[this.pageClass[addr >>> 17]!]!;
  }

  private newPage(c: number): number {
    const p = this.releasedPages.length > 0 ? this.releasedPages.pop()! : this.pages.length;
    if (p >= MAX_PAGES) throw new RangeError('slab allocator: out of pages');
    // allocUnsafeSlow: memory of its own, outside Node's shared pool and the V8 heap.
    this.pages[p] = Buffer.allocUnsafeSlow(PAGE_SIZE);
    this.pageClass[p] = c;
    this.pageLive[p] = 0;
    this.pageFree[p] = -1;
    this.pageBump[p] = 0;
    this.classPages[c]!++;
    this.pageCount++;
    this.listPartial(p, c);
    return p;
  }

  private release(p: number, c: number): void {
    this.unlistPartial(p, c);
    this.pages[p] = undefined;
    this.pageClass[p] = -1;
    this.classPages[c]!--;
    this.pageCount--;
    this.releasedPages.push(p);
  }

  private listPartial(p: number, c: number): void {
    const list = this.partial[c]!;
    this.partialPos[p] = list.length;
    list.push(p);
  }

  private unlistPartial(p: number, c: number): void {
    const i = this.partialPos[p]!;
    if (i === -1) return;
    const list = this.partial[c]!;
    const last = list.pop()!;
    if (last !== p) {
      list[i] = last;
      this.partialPos[last] = i;
    }
    this.partialPos[p] = -1;
  }

  /**
   * One slice of compaction: empties the sparsest page of a class whose pages
   * are less than 3/4 full (and that has at least two pages to spare), moving
   * up to `maxChunks` live chunks into other pages and calling moved(from, to)
   * for each, so the owner can repoint its entry. Returns chunks moved.
   */
  compact(maxChunks: number, onMove: (from: number, to: number) => void): number {
    if (this.victim === -1 && !this.pickVictim()) return 0;
    const p = this.victim;
    const c = this.pageClass[p]!;
    const size = CLASS_SIZES[c]!;
    const buf = this.pages[p]!;
    let n = 0;
    while (this.victimAt < this.pageBump[p]! && n < maxChunks) {
      const off = this.victimAt;
      this.victimAt += size;
      if ((buf[off]! & CHUNK_LIVE) === 0) continue;
      const list = this.partial[c]!;
      const to = list.length > 0 ? this.take(list[list.length - 1]!, c) : this.take(this.newPage(c), c);
      const toOff = SlabAllocator.offset(to);
      buf.copy(this.pages[to >>> 17]!, toOff, off, off + size);
      const from = p * OFFSET_UNITS + (off >>> GRAIN_SHIFT);
      onMove(from, to);
      this.free(from);
      this.moved++;
      n++;
    }
    if (this.victimAt >= this.pageBump[p]!) {
      this.victim = -1;
      this.release(p, c);
    }
    return n;
  }

  private pickVictim(): boolean {
    for (let c = 0; c < CLASS_SIZES.length; c++) {
      const perPage = Math.floor(PAGE_SIZE / CLASS_SIZES[c]!);
      const pages = this.classPages[c]!;
      if (pages < 3 || this.classLive[c]! > pages * perPage * 0.75) continue;
      if ((pages - 2) * perPage < this.classLive[c]!) continue;
      let best = -1;
      for (const p of this.partial[c]!) if (best === -1 || this.pageLive[p]! < this.pageLive[best]!) best = p;
      if (best === -1) continue;
      this.unlistPartial(best, c);
      this.victim = best;
      this.victimAt = 0;
      return true;
    }
    return false;
  }

  /** Whether compaction has work it could do now. */
  get fragmented(): boolean {
    return this.victim !== -1 || this.liveBytes < this.pageCount * PAGE_SIZE * 0.75;
  }

  /** Bytes of pages held (what the process holds for data, beyond liveBytes). */
  get pageBytes(): number {
    return this.pageCount * PAGE_SIZE;
  }
}
