/**
 * Singleflight: concurrent calls for the same key share one execution and its
 * outcome (value or error). Pure: no I/O, no timers.
 */
export class Singleflight<T> {
  private readonly inflight = new Map<string, Promise<T>>();

  /** Runs fn for key unless a call for key is already running, in which case it joins that call. */
  do(key: string, fn: () => Promise<T>): Promise<T> {
    const running = this.inflight.get(key);
    if (running !== undefined) return running;
    // fn starts on a later microtask, so even a synchronous throw settles after the entry is registered.
    const p: Promise<T> = Promise.resolve()
      .then(fn)
      .finally(() => {
        if (this.inflight.get(key) === p) this.inflight.delete(key);
      });
    this.inflight.set(key, p);
    return p;
  }

  /** Whether a call for key is running. */
  has(key: string): boolean {
    return this.inflight.has(key);
  }

  /** How many keys have a call running. */
  get size(): number {
    return this.inflight.size;
  }
}
