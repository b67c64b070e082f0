/**
 * CLIENT TRACKING on a node: per-client tracking state, the store's hook
 * (every key written, deleted, expired or evicted, and flushes), and delivery
 * of invalidations, with Redis 7.0's semantics:
 *
 * - default mode: keys a client read (read-only commands) are remembered in a
 *   bounded TrackingTable; the first change of such a key sends each of its
 *   readers one `invalidate [key]` and forgets it;
 * - BCAST: keys written under a client's prefixes are sent in one batch per
 *   prefix at the end of the event-loop turn;
 * - OPTIN / OPTOUT (CLIENT CACHING YES|NO for the next command), NOLOOP (no
 *   invalidation for one's own writes), REDIRECT (to another client: a RESP3
 *   push there, or, for a RESP2 client in pub/sub mode, a `message` on
 *   `__redis__:invalidate`);
 * - FLUSHALL/FLUSHDB (and any flush of the store): a null invalidation to
 *   every tracking client.
 *
 * Delivery goes through one seam, deliver(trackingClient, keys): the peer
 * lookup (TrackingPeers) says whether a connection is RESP3 and whether it is
 * in pub/sub mode; the pub/sub code only has to report the latter.
 *
 * The store pays one null check per write while nobody tracks: the hook is
 * attached while some client has tracking on.
 */
import type { Key, KeyTracking, Keyspace } from '../store/keyspace.js';
import { PrefixTable, TrackingTable, prefixesOverlap } from './table.js';

export const TRACKING_CHANNEL = '__redis__:invalidate';

/** One connection, as delivery sees it. */
export interface TrackingPeer {
  readonly protocol: 2 | 3;
  /** RESP2: whether the connection is in pub/sub mode (subscribed to anything), as Redis checks. */
  readonly pubsub: boolean;
  /** Queues bytes for the client, after the replies it was already sent. */
  push(bytes: Buffer): void;
}

export interface TrackingPeers {
  peer(id: number): TrackingPeer | undefined;
}

/** The tracking state of one client (Session.tracking). */
export interface ClientTracking {
  readonly id: number;
  on: boolean;
  bcast: boolean;
  optin: boolean;
  optout: boolean;
  noloop: boolean;
  /** CLIENT CACHING YES (optin) / NO (optout) given for the next command. */
  caching: boolean;
  /** 0: no redirect. */
  redirect: number;
  brokenRedirect: boolean;
  /** BCAST prefixes, in the order given. */
  readonly prefixes: string[];
}

export interface TrackingOptions {
  redirect: number;
  bcast: boolean;
  optin: boolean;
  optout: boolean;
  noloop: boolean;
  prefixes: string[];
}

/** An error reply for CLIENT TRACKING (Redis's texts); null when the change is valid. */
export function checkTrackingOn(state: ClientTracking | undefined, o: TrackingOptions): string | null {
  if (!o.bcast && o.prefixes.length > 0) return 'ERR PREFIX option requires BCAST mode to be enabled';
  if (state?.on && state.bcast !== o.bcast) return "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.";
  if (o.bcast && (o.optin || o.optout)) return 'ERR OPTIN and OPTOUT are not compatible with BCAST';
  if (o.optin && o.optout) return "ERR You can't specify both OPTIN mode and OPTOUT mode";
  if (state?.on && ((o.optin && state.optout) || (o.optout && state.optin))) return "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.";
  if (o.bcast) {
    for (let i = 0; i < o.prefixes.length; i++) {
      const p = o.prefixes[i]!;
      for (const q of state?.on ? state.prefixes : []) {
        if (prefixesOverlap(q, p)) return `ERR Prefix '${p}' overlaps with an existing prefix '${q}'. Prefixes for a single client must not overlap.`;
      }
      for (let j = i + 1; j < o.prefixes.length; j++) {
        if (prefixesOverlap(p, o.prefixes[j]!)) return `ERR Prefix '${p}' overlaps with another provided prefix '${o.prefixes[j]!}'. Prefixes for a single client must not overlap.`;
      }
    }
  }
  return null;
}

const INVALIDATE_HEAD = Buffer.from('>2\r\n$10\r\ninvalidate\r\n');
const MESSAGE_HEAD = Buffer.from(`*3\r\n$7\r\nmessage\r\n$${TRACKING_CHANNEL.length}\r\n${TRACKING_CHANNEL}\r\n`);
const NULL3 = Buffer.from('_\r\n');
/** A flush, to a RESP2 redirect: Redis sends its RESP2 null, the nil bulk string. */
const NULL2 = Buffer.from('$-1\r\n');

/** The keys of an invalidation as a RESP array (keys are binary strings), or null's encoding. */
export function encodeKeys(keys: readonly string[] | null, protocol: 2 | 3): Buffer {
  if (keys === null) return protocol === 3 ? NULL3 : NULL2;
  let n = 0;
  for (const k of keys) n += k.length + 16;
  const b = Buffer.allocUnsafe(n + 16);
  let p = b.latin1Write(`*${keys.length}\r\n`, 0);
  for (const k of keys) {
    p += b.latin1Write(`$${k.length}\r\n`, p);
    p += b.latin1Write(k, p);
    p += b.latin1Write('\r\n', p);
  }
  return b.subarray(0, p);
}

/** `>2 invalidate keys` (RESP3 push). */
export function invalidatePush(keys: readonly string[] | null): Buffer {
  return Buffer.concat([INVALIDATE_HEAD, encodeKeys(keys, 3)]);
}

/** `message __redis__:invalidate keys` (RESP2 pub/sub message; a flush is a null array). */
export function invalidateMessage(keys: readonly string[] | null): Buffer {
  return Buffer.concat([MESSAGE_HEAD, encodeKeys(keys, 2)]);
}

export function redirBrokenPush(redirect: number): Buffer {
  return Buffer.from(`>2\r\n$21\r\ntracking-redir-broken\r\n:${redirect}\r\n`);
}

export class Tracker implements KeyTracking {
  readonly table: TrackingTable;
  readonly prefixTable = new PrefixTable();
  private readonly clients = new Map<number, ClientTracking>();
  /** The connection running a command (-1: none): its own invalidations go after its reply. */
  current = -1;
  /** Invalidations for the current connection, written after its command's reply (null: a flush). */
  private pendingForCurrent: Array<readonly string[] | null> = [];
  private drainScheduled = false;
  /** Invalidation messages sent (INFO). */
  invalidations = 0;

  constructor(
    private readonly store: Keyspace,
    private readonly peers: TrackingPeers,
    maxKeys = 1_000_000,
  ) {
    this.table = new TrackingTable(maxKeys);
  }

  /** Clients with tracking on (INFO's tracking_clients). */
  get trackingClients(): number {
    return this.clients.size;
  }

  stateOf(id: number): ClientTracking | undefined {
    return this.clients.get(id);
  }

  /** CLIENT TRACKING ON (checkTrackingOn passed): enables or changes tracking, as Redis's enableTracking. */
  enable(prev: ClientTracking | undefined, id: number, o: TrackingOptions): ClientTracking {
    const s: ClientTracking = prev?.on ? prev : { id, on: true, bcast: false, optin: false, optout: false, noloop: false, caching: false, redirect: 0, brokenRedirect: false, prefixes: [] };
    s.on = true;
    s.brokenRedirect = false;
    s.redirect = o.redirect;
    s.bcast = o.bcast;
    s.optin = o.optin;
    s.optout = o.optout;
    s.noloop = o.noloop;
    if (o.bcast) {
      const add = o.prefixes.length === 0 ? [''] : o.prefixes;
      for (const p of add) {
        if (!s.prefixes.includes(p)) s.prefixes.push(p);
        this.prefixTable.add(p, id);
      }
    }
    this.clients.set(id, s);
    this.store.tracking = this;
    return s;
  }

  /** CLIENT TRACKING OFF, RESET, or the connection closed. */
  disable(s: ClientTracking | undefined): void {
    if (s === undefined || !s.on) return;
    for (const p of s.prefixes) this.prefixTable.remove(p, s.id);
    s.prefixes.length = 0;
    s.on = s.bcast = s.optin = s.optout = s.noloop = s.caching = s.brokenRedirect = false;
    s.redirect = 0;
    this.clients.delete(s.id);
    if (this.clients.size === 0) {
      // Nobody left to tell: the table is dropped and writes are free again.
      this.table.clear();
      this.prefixTable.clearPending();
      if (this.store.tracking === this) this.store.tracking = null;
    }
  }

  /** Applies a lower tracking-table-max-keys at once: the oldest keys' readers are told. */
  trim(): void {
    if (this.table.maxKeys > 0) this.table.trim(this.table.maxKeys, this.evicted);
  }

  /** After a read-only command of a tracking client in default mode: remembers its keys (OPTIN/OPTOUT as Redis). */
  remember(s: ClientTracking, keys: readonly string[]): void {
    if (!s.on || s.bcast) return;
    if ((s.optin && !s.caching) || (s.optout && s.caching)) return;
    for (const k of keys) this.table.remember(k, s.id, this.evicted);
  }

  private readonly evicted = (key: string, ids: ReadonlySet<number>): void => {
    for (const id of ids) {
      const t = this.clients.get(id);
      if (t !== undefined && !t.bcast) this.deliver(t, [key]);
    }
  };

  /** The store's hook: a key was written, deleted, expired or evicted. */
  touch(key: Key): void {
    const k = key;
    if (this.prefixTable.size > 0) {
      this.prefixTable.written(k, this.current);
      if (this.prefixTable.hasPending) this.scheduleBroadcast();
    }
    const ids = this.table.take(k);
    if (ids === undefined) return;
    for (const id of ids) {
      const t = this.clients.get(id);
      if (t === undefined || t.bcast) continue;
      if (t.noloop && id === this.current) continue;
      this.deliver(t, [k]);
    }
  }

  /** The store's hook: it was emptied (FLUSHALL, FLUSHDB, a replica's full sync). */
  flushed(): void {
    this.table.clear();
    this.prefixTable.clearPending();
    for (const t of this.clients.values()) this.deliver(t, null);
  }

  private scheduleBroadcast(): void {
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    setImmediate(() => {
      this.drainScheduled = false;
      this.broadcast();
    });
  }

  /** Sends the BCAST batches (once per turn; also callable directly). */
  broadcast(): void {
    this.prefixTable.drain(
      (id) => this.clients.get(id)?.noloop ?? false,
      (id, keys) => {
        const t = this.clients.get(id);
        if (t !== undefined && t.bcast) this.deliver(t, keys);
      },
    );
  }

  /**
   * The delivery seam: sends client t's invalidation of `keys` (null: a
   * flush) where t wants it, as Redis's sendTrackingMessage.
   */
  deliver(t: ClientTracking, keys: readonly string[] | null): void {
    if (t.id === this.current) {
      this.pendingForCurrent.push(keys);
      return;
    }
    this.send(t, keys);
  }

  private send(t: ClientTracking, keys: readonly string[] | null): void {
    if (t.redirect !== 0) {
      const target = this.peers.peer(t.redirect);
      if (target === undefined) {
        t.brokenRedirect = true;
        const self = this.peers.peer(t.id);
        if (self !== undefined && self.protocol === 3) self.push(redirBrokenPush(t.redirect));
        return;
      }
      if (target.protocol === 3) target.push(invalidatePush(keys));
      else if (target.pubsub) target.push(invalidateMessage(keys));
      else return;
      this.invalidations++;
      return;
    }
    const self = this.peers.peer(t.id);
    // RESP2 without a redirect: nowhere to send it (Redis sends nothing either).
    if (self === undefined || self.protocol !== 3) return;
    self.push(invalidatePush(keys));
    this.invalidations++;
  }

  /** A connection starts running a command. */
  begin(id: number): void {
    this.current = id;
  }

  /** The command's reply is written: hands back the invalidations for the connection itself, to write after it. */
  end(): Array<readonly string[] | null> | null {
    const id = this.current;
    this.current = -1;
    if (this.pendingForCurrent.length === 0) return null;
    const pending = this.pendingForCurrent;
    this.pendingForCurrent = [];
    const t = this.clients.get(id);
    if (t === undefined) return null;
    // Sent now through the ordinary path: the caller writes its reply first.
    return pending;
  }

  /** Sends the invalidations end() returned (once the reply is in the connection's output). */
  sendPending(id: number, pending: Array<readonly string[] | null>): void {
    const t = this.clients.get(id);
    if (t === undefined) return;
    for (const keys of pending) this.send(t, keys);
  }
}
