/**
 * The coordination store seam: the few etcd operations the node manager needs
 * (keys with revisions, leases, compare-and-put transactions, prefix watches).
 * Membership, election and the cluster map are written once on top of it; the
 * backends are etcd (production, `etcd-kv.ts`), an in-memory store (`memory-kv.ts`,
 * the embedded default) and that same store served over TCP to node processes
 * (`remote-kv.ts`), so `ringcache dev` runs the very code production runs.
 *
 * Semantics follow etcd's: one revision counter for the whole store, raised by
 * every transaction that changes something; each key keeps the revision that
 * created it and the one that last changed it; a key attached to a lease is
 * deleted when the lease expires or is revoked.
 */

export interface KvEntry {
  key: string;
  value: string;
  /** Revision of the put that created the key (since its last deletion). */
  createRevision: number;
  /** Revision of the last put to the key. */
  modRevision: number;
  /** The lease the key is attached to, '' when none. */
  lease: string;
}

/** A condition of a transaction; the transaction's puts apply only when all hold. */
export type KvCompare =
  /** The key exists with this create revision (an election key still held by the same holder). */
  | { key: string; createRevision: number }
  /** The key's last change is this revision; 0 means the key does not exist. */
  | { key: string; modRevision: number };

export type KvOp =
  | { put: string; value: string; lease?: string }
  | { delete: string };

export interface KvTxnResult {
  succeeded: boolean;
  /** The store's revision after the transaction (unchanged when it failed). */
  revision: number;
}

export interface KvEvent {
  type: 'put' | 'delete';
  /** For a delete: the key, '' value, and modRevision of the deletion. */
  entry: KvEntry;
}

export interface KvWatch {
  cancel(): Promise<void>;
}

export interface KvWatchHandlers {
  /** Events in revision order, each batch at one revision or more. */
  onEvents(events: KvEvent[]): void;
  /**
   * The watch cannot continue (compacted, backend gone for good): the caller
   * re-reads with range() and watches again from the revision it read.
   */
  onError(err: Error): void;
}

export interface KvStore {
  /** Every key with the prefix, sorted by key, and the store's revision at the read. */
  range(prefix: string): Promise<{ entries: KvEntry[]; revision: number }>;
  get(key: string): Promise<KvEntry | undefined>;
  /** Applies ops atomically when every compare holds. */
  txn(compares: KvCompare[], ops: KvOp[]): Promise<KvTxnResult>;
  /** A new lease; ttlMs may be rounded up (etcd grants whole seconds, at least its floor). Returns its id and the TTL granted. */
  grantLease(ttlMs: number): Promise<{ id: string; ttlMs: number }>;
  /** One keep-alive; false when the lease no longer exists (expired or revoked). Rejects when the store is unreachable. */
  keepAlive(lease: string): Promise<boolean>;
  revokeLease(lease: string): Promise<void>;
  /** Watches keys with the prefix for changes after fromRevision. */
  watch(prefix: string, fromRevision: number, handlers: KvWatchHandlers): Promise<KvWatch>;
  close(): Promise<void>;
}

/** A failure to reach the store (as opposed to a transaction whose compare failed). */
export class KvUnavailableError extends Error {
  readonly code = 'KV_UNAVAILABLE';
}
