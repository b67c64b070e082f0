/**
 * The checker: what a scenario's cluster returned, against what it acknowledged.
 * Pure logic, no I/O and no clock: the workload reports every write and the
 * sampled reads with their times (ms since the run began, one clock for all
 * clients, since they run in one process) and `analyze` classifies afterwards.
 *
 * Inputs. A write of key k has a value of its own (values.ts: it names the
 * write's sequence number and key), a send time s and, once it ends, either an
 * acknowledgement at time a ("acked") or an error ("failed"). A failed write is
 * indeterminate: it may have been applied, then or later (a paused node runs
 * the requests it buffered when it resumes), so it is never held against the
 * cluster. Sequence numbers grow with send time. A read of k has a send time,
 * a reply time and the value returned (or nil); `final` reads are the read of
 * every written key after the workload stopped.
 *
 * Definitions, for a read R of key k sent at R.s and answered at R.r:
 * - Superseded: an acked write W of k is superseded at time T when another
 *   write W' of k was sent after W was acked (W.a < W'.s) and W' was acked
 *   before T. A superseded value can no longer be the key's value: W' was
 *   applied after W in real time.
 * - Due write M(R): among the writes of k acked before R was sent, the one
 *   sent last. If no write of k was acked before R.s, any value written to k
 *   (and nil) is acceptable.
 * - Wrong value: R returned something no write of this run sent for k before
 *   R.r: not a value of this run, a torn or altered value, another key's
 *   value, or a value whose write was sent after R was answered.
 * - Violation: R returned nil, or the value of a write superseded at R.s,
 *   although M(R) exists (nil is never acceptable: scenarios write without a
 *   TTL, never delete, and run the nodes without maxmemory).
 * - Stale read: a violation after which a later read of k (sent after R.r)
 *   returned M(R)'s value: the write survived, R was served from an
 *   out-of-date copy (a replica behind, a node that has not caught up).
 * - Lost write: an acknowledged write that was M(R) of a violation that is
 *   not stale: a read that began after it was acknowledged did not see it (nor
 *   anything newer) and no later read ever did. Counted once per write. A write
 *   overwritten before any later read could see it again counts as lost, so in
 *   modes with replicas lost-write counts are an upper bound and stale reads a
 *   lower one.
 *
 * Counts are attributed to the fault window in which the detecting read was
 * sent: before the first fault, "during" a fault (its start to its end), or
 * "after" it (its end until the next fault starts). The written-write record is
 * bounded (maxWrites, maxReads): past it the checker stops recording, checks
 * only what happened before that moment, and says so in its result.
 */
import { decodeValue } from './values.js';

const PENDING = 0;
const ACKED = 1;
const FAILED = 2;

/** Read outcomes stored in place of a sequence number. */
const NIL = -1;
const BAD = -2; // not a value of this run's format, tag or key
const NO_RECORD = -3; // a write made after the record was full: cannot be judged

export interface FaultWindow {
  id: string;
  /** Shown in reports, e.g. "kill -9 127.0.0.1:7001". */
  label: string;
  start: number;
  /** null: never undone (lasted to the end of the run). */
  end: number | null;
}

export interface WindowCounts {
  /** 'before' (no fault yet), or `${faultId}:during` / `${faultId}:after`. */
  window: string;
  label: string;
  faultId: string | null;
  wrongValues: number;
  lostWrites: number;
  staleReads: number;
  readsChecked: number;
}

export type ViolationKind = 'wrong-value' | 'lost-write' | 'stale-read';

export interface Violation {
  kind: ViolationKind;
  key: number;
  /** When the detecting read was sent (ms since the run began). */
  at: number;
  final: boolean;
  /** The due write's sequence number (lost/stale), if any. */
  expectedSeq: number | null;
  /** What the read returned: a sequence number, 'nil' or 'invalid'. */
  got: number | 'nil' | 'invalid';
  /**
   * Lost and stale: when the due write was sent and acknowledged, and when the
   * write read back was sent and ended (with its outcome), in ms since the run
   * began: what a person needs to place the violation among the faults.
   */
  timeline?: { dueSent: number; dueAcked: number; gotSent?: number; gotEnded?: number; gotOutcome?: 'acked' | 'failed' | 'pending' };
}

export interface CheckResult {
  writes: { sent: number; acked: number; failed: number; pending: number };
  reads: { checked: number; final: number; unverifiable: number };
  wrongValues: number;
  lostWrites: number;
  staleReads: number;
  /** Final reads (after the run) that found the key lost. */
  lostKeysAtEnd: number;
  /** Lost writes by the owner of their key (when analyze was given ownerOf). */
  lostWritesByOwner: Record<string, number>;
  windows: WindowCounts[];
  /** Up to 20 of each kind. */
  examples: Violation[];
  /** When the record filled up (ms), or null. Later operations were not checked. */
  saturatedAt: number | null;
  notes: string[];
}

export interface CheckerOptions {
  /** The run tag of values.ts: values with another tag are wrong values. */
  tag: string;
  maxWrites?: number;
  maxReads?: number;
}

/** A growable Float64Array/Uint32Array pair of columns. */
class Column<T extends Float64Array | Uint32Array | Uint8Array> {
  data: T;
  constructor(private readonly make: (n: number) => T) {
    this.data = make(1024);
  }
  ensure(n: number): void {
    if (n <= this.data.length) return;
    let size = this.data.length;
    while (size < n) size *= 2;
    const next = this.make(size);
    next.set(this.data as never);
    this.data = next;
  }
}

const f64 = () => new Column((n) => new Float64Array(n));
const u32 = () => new Column((n) => new Uint32Array(n));

export class Checker {
  readonly tag: string;
  private readonly maxWrites: number;
  private readonly maxReads: number;
  private nextSeq = 0;
  private stored = 0;
  private readCount = 0;
  private saturatedAt: number | null = null;
  private readonly wKey = u32();
  private readonly wSent = f64();
  private readonly wEnd = f64();
  private readonly wStatus = new Column((n) => new Uint8Array(n));
  private readonly rKey = u32();
  private readonly rSent = f64();
  private readonly rReplied = f64();
  private readonly rSeq = f64();
  private readonly rFinal = new Column((n) => new Uint8Array(n));

  constructor(options: CheckerOptions) {
    this.tag = options.tag;
    this.maxWrites = options.maxWrites ?? 4_000_000;
    this.maxReads = options.maxReads ?? 4_000_000;
  }

  /** Sequence numbers issued so far (the next write gets this one). */
  get writesSent(): number {
    return this.nextSeq;
  }

  /** Registers a write about to be sent; returns its sequence number (put it in the value). */
  beginWrite(key: number, sentAt: number): number {
    const seq = this.nextSeq++;
    if (seq >= this.maxWrites) {
      this.saturate(sentAt);
      return seq;
    }
    if (this.saturatedAt !== null) return seq; // the read record is full: nothing more is checked
    const n = seq + 1;
    this.wKey.ensure(n);
    this.wSent.ensure(n);
    this.wEnd.ensure(n);
    this.wStatus.ensure(n);
    this.wKey.data[seq] = key;
    this.wSent.data[seq] = sentAt;
    this.wEnd.data[seq] = NaN;
    this.wStatus.data[seq] = PENDING;
    this.stored = n;
    return seq;
  }

  ackWrite(seq: number, at: number): void {
    if (seq < this.stored) {
      this.wStatus.data[seq] = ACKED;
      this.wEnd.data[seq] = at;
    }
  }

  /** The write ended in an error: it may or may not have been applied. */
  failWrite(seq: number, at: number): void {
    if (seq < this.stored) {
      this.wStatus.data[seq] = FAILED;
      this.wEnd.data[seq] = at;
    }
  }

  /** Records a read that got a reply (errors are not reads). */
  recordRead(key: number, sentAt: number, repliedAt: number, value: string | Buffer | null, final = false): void {
    if (this.saturatedAt !== null && sentAt >= this.saturatedAt) return;
    if (this.readCount >= this.maxReads) {
      this.saturate(sentAt);
      return;
    }
    let seq: number;
    if (value === null) seq = NIL;
    else {
      const d = decodeValue(value);
      if (d === undefined || d.tag !== this.tag || d.key !== key || d.seq >= this.nextSeq) seq = BAD;
      else if (d.seq >= this.stored) seq = NO_RECORD;
      else seq = d.seq;
    }
    const i = this.readCount++;
    const n = i + 1;
    this.rKey.ensure(n);
    this.rSent.ensure(n);
    this.rReplied.ensure(n);
    this.rSeq.ensure(n);
    this.rFinal.ensure(n);
    this.rKey.data[i] = key;
    this.rSent.data[i] = sentAt;
    this.rReplied.data[i] = repliedAt;
    this.rSeq.data[i] = seq;
    this.rFinal.data[i] = final ? 1 : 0;
  }

  private saturate(at: number): void {
    if (this.saturatedAt === null) this.saturatedAt = at;
  }

  /**
   * Classifies every recorded read (see the file header). Call once the workload has stopped. ownerOf names the
   * owner (or any class) a lost write is counted under; it gets the lost write's acknowledgement time and the send
   * time of the read that missed it, for classes that depend on what happened in between.
   */
  analyze(faults: readonly FaultWindow[] = [], ownerOf?: (key: number, lost?: { ackedAt: number; detectedAt: number; repliedAt: number }) => string): CheckResult {
    const windows = new WindowIndex(faults);
    const result: CheckResult = {
      writes: { sent: this.nextSeq, acked: 0, failed: 0, pending: 0 },
      reads: { checked: 0, final: 0, unverifiable: 0 },
      wrongValues: 0,
      lostWrites: 0,
      staleReads: 0,
      lostKeysAtEnd: 0,
      lostWritesByOwner: {},
      windows: windows.buckets(),
      examples: [],
      saturatedAt: this.saturatedAt,
      notes: [],
    };
    const status = this.wStatus.data;
    for (let i = 0; i < this.stored; i++) {
      if (status[i] === ACKED) result.writes.acked++;
      else if (status[i] === FAILED) result.writes.failed++;
      else result.writes.pending++;
    }
    if (this.saturatedAt !== null) result.notes.push(`the checker's record filled up at ${(this.saturatedAt / 1000).toFixed(1)} s: later operations were not checked`);
    if (result.writes.pending > 0) result.notes.push(`${result.writes.pending} writes never ended (treated as indeterminate)`);

    const byKey = this.groupByKey();
    const lost = new Set<number>();
    const examples = new Map<ViolationKind, number>();
    const example = (v: Violation) => {
      const n = examples.get(v.kind) ?? 0;
      if (n < 20) result.examples.push(v);
      examples.set(v.kind, n + 1);
    };

    const outcome = (seq: number) => (status[seq] === ACKED ? 'acked' : status[seq] === FAILED ? 'failed' : 'pending');
    const timeline = (dueSeq: number, gotSeq: number): Violation['timeline'] => ({
      dueSent: this.wSent.data[dueSeq]!,
      dueAcked: this.wEnd.data[dueSeq]!,
      ...(gotSeq >= 0 && { gotSent: this.wSent.data[gotSeq]!, gotEnded: this.wEnd.data[gotSeq]!, gotOutcome: outcome(gotSeq) }),
    });
    for (const [key, group] of byKey) {
      const acks = this.ackHistory(group.writes);
      // Latest send time of each read that returned each sequence number, for the stale test.
      const lastSeen = new Map<number, number>();
      for (const r of group.reads) {
        const seq = this.rSeq.data[r]!;
        if (seq >= 0) lastSeen.set(seq, Math.max(lastSeen.get(seq) ?? -Infinity, this.rSent.data[r]!));
      }
      for (const r of group.reads) {
        const sent = this.rSent.data[r]!;
        const replied = this.rReplied.data[r]!;
        const final = this.rFinal.data[r] === 1;
        const seq = this.rSeq.data[r]!;
        if (seq === NO_RECORD) {
          result.reads.unverifiable++;
          continue;
        }
        result.reads.checked++;
        if (final) result.reads.final++;
        const bucket = windows.bucketOf(sent);
        bucket.readsChecked++;
        const got: Violation['got'] = seq === NIL ? 'nil' : seq === BAD ? 'invalid' : seq;
        if (seq === BAD || (seq >= 0 && (this.wKey.data[seq] !== key || this.wSent.data[seq]! > replied))) {
          result.wrongValues++;
          bucket.wrongValues++;
          example({ kind: 'wrong-value', key, at: sent, final, expectedSeq: null, got });
          continue;
        }
        const due = acks.dueAt(sent);
        if (due === undefined) continue;
        // An acked write is superseded at R.s when the due write was sent after it was acked (the due write is the
        // latest-sent of those acked before R.s). Failed and pending writes are never superseded: they are indeterminate.
        const superseded = seq >= 0 && status[seq] === ACKED && this.wEnd.data[seq]! < this.wSent.data[due.seq]!;
        if (seq !== NIL && !superseded) continue;
        if ((lastSeen.get(due.seq) ?? -Infinity) > replied) {
          result.staleReads++;
          bucket.staleReads++;
          example({ kind: 'stale-read', key, at: sent, final, expectedSeq: due.seq, got, timeline: timeline(due.seq, seq) });
          continue;
        }
        if (final) result.lostKeysAtEnd++;
        if (lost.has(due.seq)) continue;
        lost.add(due.seq);
        result.lostWrites++;
        bucket.lostWrites++;
        if (ownerOf !== undefined) {
          const owner = ownerOf(key, { ackedAt: this.wEnd.data[due.seq]!, detectedAt: sent, repliedAt: replied });
          result.lostWritesByOwner[owner] = (result.lostWritesByOwner[owner] ?? 0) + 1;
        }
        example({ kind: 'lost-write', key, at: sent, final, expectedSeq: due.seq, got, timeline: timeline(due.seq, seq) });
      }
    }
    result.windows = windows.buckets();
    return result;
  }

  /** Write indexes and read indexes per key, each in time order. */
  private groupByKey(): Map<number, { writes: number[]; reads: number[] }> {
    const out = new Map<number, { writes: number[]; reads: number[] }>();
    const get = (k: number) => {
      let g = out.get(k);
      if (g === undefined) out.set(k, (g = { writes: [], reads: [] }));
      return g;
    };
    for (let i = 0; i < this.stored; i++) get(this.wKey.data[i]!).writes.push(i);
    for (let i = 0; i < this.readCount; i++) get(this.rKey.data[i]!).reads.push(i);
    for (const g of out.values()) g.reads.sort((a, b) => this.rSent.data[a]! - this.rSent.data[b]!);
    return out;
  }

  private ackHistory(writes: number[]): AckHistory {
    const acked = writes.filter((w) => this.wStatus.data[w] === ACKED).sort((a, b) => this.wEnd.data[a]! - this.wEnd.data[b]!);
    return new AckHistory(acked, this.wSent.data, this.wEnd.data);
  }
}

/** A key's acknowledged writes in ack order, with the latest-sent write acked so far after each. */
class AckHistory {
  private readonly ackAt: Float64Array;
  private readonly bestSeq: Float64Array;

  constructor(acked: number[], sent: Float64Array, end: Float64Array) {
    this.ackAt = new Float64Array(acked.length);
    this.bestSeq = new Float64Array(acked.length);
    let best = -1;
    for (let i = 0; i < acked.length; i++) {
      const w = acked[i]!;
      if (best < 0 || sent[w]! > sent[best]!) best = w;
      this.ackAt[i] = end[w]!;
      this.bestSeq[i] = best;
    }
  }

  /** How many writes were acked strictly before t. */
  private countBefore(t: number): number {
    let lo = 0;
    let hi = this.ackAt.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ackAt[mid]! < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The due write at t: among writes acked before t, the one sent last. */
  dueAt(t: number): { seq: number } | undefined {
    const n = this.countBefore(t);
    return n === 0 ? undefined : { seq: this.bestSeq[n - 1]! };
  }
}

/** Maps a time to its fault window bucket. */
class WindowIndex {
  private readonly faults: FaultWindow[];
  private readonly counts = new Map<string, WindowCounts>();

  constructor(faults: readonly FaultWindow[]) {
    this.faults = [...faults].sort((a, b) => a.start - b.start);
    const add = (window: string, label: string, faultId: string | null) =>
      this.counts.set(window, { window, label, faultId, wrongValues: 0, lostWrites: 0, staleReads: 0, readsChecked: 0 });
    add('before', this.faults.length === 0 ? 'whole run (no faults)' : 'before the first fault', null);
    for (const f of this.faults) {
      add(`${f.id}:during`, `during ${f.label}`, f.id);
      add(`${f.id}:after`, `after ${f.label}`, f.id);
    }
  }

  bucketOf(t: number): WindowCounts {
    let found: FaultWindow | undefined;
    for (const f of this.faults) {
      if (f.start <= t) found = f;
      else break;
    }
    if (found === undefined) return this.counts.get('before')!;
    const during = found.end === null || t < found.end;
    return this.counts.get(`${found.id}:${during ? 'during' : 'after'}`)!;
  }

  buckets(): WindowCounts[] {
    return [...this.counts.values()];
  }
}
