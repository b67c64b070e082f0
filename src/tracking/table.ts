/**
 * The tables behind CLIENT TRACKING, pure (no I/O, no clients): which clients
 * read which keys (the default mode), and which clients listen to which key
 * prefixes (BCAST), with the keys written under each prefix since the last
 * broadcast. Keys are binary strings (latin1: one char per byte), as the
 * keyspace names them.
 */

/**
 * Default mode: key -> ids of the clients that read it since it last changed.
 * Bounded as Redis's tracking-table-max-keys: past maxKeys (0: no bound) the
 * oldest keys are dropped, and their clients must be told (as if the key had
 * changed), or they would cache it with nobody left to invalidate it.
 */
export class TrackingTable {
  /** Insertion order is age: the first key is the oldest remembered. */
  private readonly byKey = new Map<string, Set<number>>();
  /** Sum of the clients over every key (Redis's tracking_total_items). */
  private itemCount = 0;

  constructor(public maxKeys = 1_000_000) {}

  get keys(): number {
    return this.byKey.size;
  }

  get items(): number {
    return this.itemCount;
  }

  /**
   * Client `id` read `key`. When that makes the table hold more than maxKeys
   * keys, the oldest ones are removed and handed to `evicted` with their
   * clients (which then must be sent an invalidation).
   */
  remember(key: string, id: number, evicted?: (key: string, ids: ReadonlySet<number>) => void): void {
    let ids = this.byKey.get(key);
    if (ids === undefined) {
      ids = new Set();
      this.byKey.set(key, ids);
    }
    if (!ids.has(id)) {
      ids.add(id);
      this.itemCount++;
    }
    if (this.maxKeys > 0 && this.byKey.size > this.maxKeys) this.trim(this.maxKeys, evicted);
  }

  /** Removes the oldest keys until at most `max` remain, handing each to `evicted`. */
  trim(max: number, evicted?: (key: string, ids: ReadonlySet<number>) => void): number {
    let n = 0;
    while (this.byKey.size > max) {
      const oldest = this.byKey.keys().next().value as string;
      const ids = this.take(oldest)!;
      n++;
      evicted?.(oldest, ids);
    }
    return n;
  }

  /** The key changed: removes it and returns the clients to tell (undefined: nobody read it). */
  take(key: string): ReadonlySet<number> | undefined {
    const ids = this.byKey.get(key);
    if (ids === undefined) return undefined;
    this.byKey.delete(key);
    this.itemCount -= ids.size;
    return ids;
  }

  /** Whether client `id` is remembered for `key` (tests, introspection). */
  has(key: string, id: number): boolean {
    return this.byKey.get(key)?.has(id) ?? false;
  }

  /** FLUSHALL: forgets everything (every tracking client is sent a null invalidation instead). */
  clear(): void {
    this.byKey.clear();
    this.itemCount = 0;
  }
}

interface Prefix {
  readonly clients: Set<number>;
  /** Keys written under the prefix since the last drain -> the id of the client that wrote it last (-1: none, an expiry or eviction). */
  pending: Map<string, number>;
}

/** Whether one of two prefixes starts the other (Redis refuses such pairs for one client). */
export function prefixesOverlap(a: string, b: string): boolean {
  return a.length <= b.length ? b.startsWith(a) : a.startsWith(b);
}

/**
 * BCAST mode: prefix -> the clients listening to it, and the keys written
 * under it, sent to every listener together once per event-loop turn (as
 * Redis does in beforeSleep). The empty prefix matches every key.
 */
export class PrefixTable {
  private readonly prefixes = new Map<string, Prefix>();
  /** Prefixes with pending keys. */
  private readonly dirty = new Set<Prefix>();

  /** How many distinct prefixes some client listens to (Redis's tracking_total_prefixes). */
  get size(): number {
    return this.prefixes.size;
  }

  get hasPending(): boolean {
    return this.dirty.size > 0;
  }

  add(prefix: string, id: number): void {
    let p = this.prefixes.get(prefix);
    if (p === undefined) {
      p = { clients: new Set(), pending: new Map() };
      this.prefixes.set(prefix, p);
    }
    p.clients.add(id);
  }

  /** Client `id` no longer listens to `prefix`; a prefix left without listeners is dropped with its pending keys. */
  remove(prefix: string, id: number): void {
    const p = this.prefixes.get(prefix);
    if (p === undefined) return;
    p.clients.delete(id);
    if (p.clients.size === 0) {
      this.prefixes.delete(prefix);
      this.dirty.delete(p);
    }
  }

  /** `key` changed (written by client `writer`, or -1): noted under every prefix it starts with. */
  written(key: string, writer: number): void {
    for (const [prefix, p] of this.prefixes) {
      if (!key.startsWith(prefix)) continue;
      // Re-inserted so that the keys go out in the order of their last write.
      p.pending.delete(key);
      p.pending.set(key, writer);
      this.dirty.add(p);
    }
  }

  /**
   * Hands out what was written since the last drain: for each listener of
   * each prefix with pending keys, those keys (without the ones it wrote
   * itself when `noloop(id)`), as one batch per prefix and client.
   */
  drain(noloop: (id: number) => boolean, send: (id: number, keys: string[]) => void): void {
    const dirty = [...this.dirty];
    this.dirty.clear();
    for (const p of dirty) {
      const pending = p.pending;
      p.pending = new Map();
      for (const id of p.clients) {
        const skipOwn = noloop(id);
        const keys: string[] = [];
        for (const [key, writer] of pending) if (!skipOwn || writer !== id) keys.push(key);
        if (keys.length > 0) send(id, keys);
      }
    }
  }

  /** FLUSHALL: pending keys are moot (every listener gets a null invalidation). */
  clearPending(): void {
    for (const p of this.dirty) p.pending = new Map();
    this.dirty.clear();
  }
}
