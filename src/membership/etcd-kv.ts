/**
 * The production coordination store: KvStore over etcd (API 3.4+) with the
 * etcd3 client. Measured pitfalls of etcd3 1.1.2 (see the etcd notes) are
 * handled here, once:
 * - its default per-host circuit breaker fails every call for 5 s after 3
 *   failures: ours re-tries the host after HALF_OPEN_MS;
 * - its watch backoff grows to 30 s: capped at WATCH_BACKOFF_MAX_MS (and the
 *   gRPC reconnect backoff likewise);
 * - calls have no deadline by default: every call gets timeoutMs, enforced
 *   by a timer too, and an unreachable etcd is a KvUnavailableError;
 * - leases: no automatic keep-alive (the caller keeps alive and tracks the
 *   last success itself, since `lost` fires only after 2 x TTL); keepAlive()
 *   is one keep-alive round trip, false when etcd says the lease is gone;
 * - a compacted or cancelled watch is not recovered by etcd3: it reaches
 *   onError, and the caller re-reads and watches again;
 * - a reconnected watch resumes after the last event delivered, not after the
 *   last header revision (which can run ahead of what was delivered);
 * - revisions come as decimal strings: numbers here (safe far beyond any
 *   revision a cluster reaches).
 * Raw RPCs (kv.txn, leaseGrant) are used rather than the builders: they give
 * the granted TTL and exact compares.
 */
import { ConsecutiveBreaker, ExponentialBackoff, circuitBreaker, handleWhen, noop, retry, type IBackoff } from 'cockatiel';
import {
  CompareResult,
  CompareTarget,
  Etcd3,
  EtcdLeaseInvalidError,
  GRPCInvalidArgumentError,
  Range,
  isRecoverableError,
  type ICompare,
  type IEvent,
  type IKeyValue,
  type IWatchResponse,
  type IRequestOp,
  type Watcher,
} from 'etcd3';
import {
  KvUnavailableError,
  type KvCompare,
  type KvEntry,
  type KvEvent,
  type KvOp,
  type KvStore,
  type KvTxnResult,
  type KvWatch,
  type KvWatchHandlers,
} from './kv.js';

export interface EtcdKvOptions {
  /** `host:port` of each etcd member (client URLs, plain http). */
  endpoints: string[];
  /** Bound on every call (and on a watch's creation). */
  timeoutMs?: number;
}

const HALF_OPEN_MS = 200;
const WATCH_BACKOFF_MAX_MS = 1000;

/** Parses `host:port[,host:port...]`; throws an Error naming the first bad entry. */
export function parseEtcdEndpoints(text: string): string[] {
  const parts = text.split(',').map((s) => s.trim());
  if (parts.length === 0 || (parts.length === 1 && parts[0] === '')) throw new Error('no etcd endpoints given (want host:port[,host:port])');
  for (const p of parts) {
    const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(p);
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) {
      throw new Error(`bad etcd endpoint '${p}' (want host:port, such as 127.0.0.1:2379)`);
    }
  }
  return parts;
}

const toNum = (v: string | number | undefined | null): number => Number(v ?? 0);

function entry(kv: IKeyValue): KvEntry {
  const lease = String(kv.lease ?? '0');
  return {
    key: kv.key.toString('utf8'),
    value: kv.value.toString('utf8'),
    createRevision: toNum(kv.create_revision),
    modRevision: toNum(kv.mod_revision),
    lease: lease === '0' ? '' : lease,
  };
}

export class EtcdKv implements KvStore {
  private readonly client: Etcd3;
  private readonly timeoutMs: number;
  private readonly label: string;
  private readonly watchers = new Set<Watcher>();

  constructor(opts: EtcdKvOptions) {
    if (opts.endpoints.length === 0) throw new Error('EtcdKv needs at least one endpoint');
    this.timeoutMs = opts.timeoutMs ?? 1000;
    this.label = opts.endpoints.join(',');
    const timeoutMs = this.timeoutMs;
    this.client = new Etcd3({
      hosts: opts.endpoints.map((e) => `http://${e}`),
      dialTimeout: timeoutMs,
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + timeoutMs }),
      grpcOptions: {
        'grpc.initial_reconnect_backoff_ms': 100,
        'grpc.max_reconnect_backoff_ms': WATCH_BACKOFF_MAX_MS,
      },
      faultHandling: {
        host: () => circuitBreaker(handleWhen(isRecoverableError), { halfOpenAfter: HALF_OPEN_MS, breaker: new ConsecutiveBreaker(3) }),
        // With several members, a failed call moves on to another one (within the same deadline).
        global: opts.endpoints.length > 1 ? retry(handleWhen(isRecoverableError), { maxAttempts: opts.endpoints.length - 1 }) : noop,
        watchBackoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: WATCH_BACKOFF_MAX_MS }) as unknown as IBackoff<unknown>,
      },
    });
  }

  /** Waits for p at most timeoutMs, ignoring its outcome (etcd3's watcher.cancel() waits for etcd's answer). */
  private async bounded(p: Promise<unknown>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([p.catch(() => {}), new Promise((r) => (timer = setTimeout(r, this.timeoutMs)))]);
    clearTimeout(timer);
  }

  /** Runs a call with the deadline enforced here too, mapping transport failures to KvUnavailableError. */
  private async run<T>(what: string, fn: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new KvUnavailableError(`etcd ${this.label}: ${what}: no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
      timer.unref();
    });
    try {
      return await Promise.race([fn(), timeout]);
    } catch (err) {
      throw this.mapError(what, err);
    } finally {
      clearTimeout(timer);
    }
  }

  private mapError(what: string, err: unknown): Error {
    if (err instanceof KvUnavailableError) return err;
    const e = err instanceof Error ? err : new Error(String(err));
    if (e instanceof EtcdLeaseInvalidError || /lease not found/.test(e.message)) return new Error(`etcd: ${what}: lease not found (expired or revoked)`);
    if (e instanceof GRPCInvalidArgumentError) return new Error(`etcd: ${what}: ${e.message}`);
    return new KvUnavailableError(`etcd ${this.label}: ${what}: ${e.message}`);
  }

  async range(prefix: string): Promise<{ entries: KvEntry[]; revision: number }> {
    const r = Range.prefix(prefix);
    const res = await this.run('range', () => this.client.kv.range({ key: r.start, range_end: r.end, sort_order: 'Ascend', sort_target: 'Key' }));
    return { entries: res.kvs.map(entry), revision: toNum(res.header.revision) };
  }

  async get(key: string): Promise<KvEntry | undefined> {
    const res = await this.run('get', () => this.client.kv.range({ key: Buffer.from(key) }));
    return res.kvs[0] ? entry(res.kvs[0]) : undefined;
  }

  async txn(compares: KvCompare[], ops: KvOp[]): Promise<KvTxnResult> {
    const compare: ICompare[] = compares.map((c) =>
      'createRevision' in c
        ? { key: Buffer.from(c.key), result: CompareResult.Equal, target: CompareTarget.Create, create_revision: String(c.createRevision) }
        : { key: Buffer.from(c.key), result: CompareResult.Equal, target: CompareTarget.Mod, mod_revision: String(c.modRevision) },
    );
    // etcd compares an absent key's create revision as 0: `createRevision: 0` would hold
    // for an absent key, which the contract says it must not.
    const guard: ICompare[] = compares
      .filter((c) => 'createRevision' in c && c.createRevision <= 0)
      .map((c) => ({ key: Buffer.from(c.key), result: CompareResult.Greater, target: CompareTarget.Create, create_revision: '0' }));
    const success: IRequestOp[] = ops.map((op) =>
      'put' in op
        ? { request_put: { key: Buffer.from(op.put), value: Buffer.from(op.value), lease: op.lease ? op.lease : '0' } }
        : { request_delete_range: { key: Buffer.from(op.delete) } },
    );
    const res = await this.run('txn', () => this.client.kv.txn({ compare: [...compare, ...guard], success, failure: [] }));
    return { succeeded: res.succeeded, revision: toNum(res.header.revision) };
  }

  async grantLease(ttlMs: number): Promise<{ id: string; ttlMs: number }> {
    const ttl = Math.max(1, Math.ceil(ttlMs / 1000));
    const res = await this.run('lease grant', () => this.client.leaseClient.leaseGrant({ TTL: ttl, ID: 0 }));
    if (res.error) throw new Error(`etcd: lease grant: ${res.error}`);
    return { id: String(res.ID), ttlMs: toNum(res.TTL) * 1000 };
  }

  async keepAlive(lease: string): Promise<boolean> {
    let stream: Awaited<ReturnType<Etcd3['leaseClient']['leaseKeepAlive']>> | undefined;
    try {
      const ttl = await this.run('lease keep-alive', async () => {
        stream = await this.client.leaseClient.leaseKeepAlive({ deadline: Date.now() + this.timeoutMs });
        const s = stream;
        return new Promise<string>((resolve, reject) => {
          s.on('data', (res: { TTL: string }) => resolve(String(res.TTL)));
          s.on('error', reject);
          s.on('end', () => reject(new Error('keep-alive stream ended')));
          s.write({ ID: lease });
        });
      });
      return ttl !== '0';
    } finally {
      const s = stream as unknown as { end(): void; cancel?(): void; on(e: string, f: () => void): void } | undefined;
      if (s) {
        s.on('error', () => {});
        s.end();
        s.cancel?.();
      }
    }
  }

  /** Revokes a lease (its keys are deleted); a lease already gone is not an error. */
  async revokeLease(lease: string): Promise<void> {
    try {
      await this.run('lease revoke', () => this.client.leaseClient.leaseRevoke({ ID: lease }));
    } catch (err) {
      if (err instanceof KvUnavailableError) throw err;
      if (/lease not found/.test((err as Error).message)) return;
      throw err;
    }
  }

  async watch(prefix: string, fromRevision: number, handlers: KvWatchHandlers): Promise<KvWatch> {
    const watcher = this.client.watch().prefix(prefix).startRevision(String(fromRevision + 1)).watcher();
    this.watchers.add(watcher);
    let ended = false;
    const cancel = async (): Promise<void> => {
      if (ended) return;
      ended = true;
      this.watchers.delete(watcher);
      await this.bounded(watcher.cancel());
    };
    let lastRevision = fromRevision;
    // etcd3 resumes a reconnected watch from the last response's header revision + 1, but
    // etcd sends a catch-up batch (at most 1000 revisions) and the 'created' reply with
    // the store's current revision: a disconnect right after either would skip events
    // never delivered. These listeners run after etcd3's own and reset the resume point
    // to the last revision actually delivered + 1.
    const resumeAfterDelivered = (): void => {
      watcher.request.start_revision = String(lastRevision + 1);
    };
    watcher.on('connected', resumeAfterDelivered);
    watcher.on('data', (res: IWatchResponse) => {
      if (ended) return;
      if (res.events.length === 0) {
        // A progress notification: etcd sends one only when everything up to it was sent.
        lastRevision = Math.max(lastRevision, toNum(res.header.revision));
        return resumeAfterDelivered();
      }
      lastRevision = Math.max(lastRevision, ...res.events.map((ev: IEvent) => toNum(ev.kv.mod_revision)));
      resumeAfterDelivered();
      const events: KvEvent[] = res.events.map((ev: IEvent) => ({ type: ev.type === 'Delete' ? 'delete' : 'put', entry: entry(ev.kv) }));
      handlers.onEvents(events);
    });
    let created = false;
    await this.run('watch', async () => {
      await new Promise<void>((resolve, reject) => {
        watcher.once('connected', () => resolve());
        watcher.on('error', (err: Error) => {
          if (!created) {
            // A watch refused at creation (compacted revision) is reported like a later one.
            created = true;
            resolve();
          }
          if (ended) return;
          void cancel();
          void this.explain(prefix, lastRevision, err).then((e) => handlers.onError(e));
        });
        void reject;
      });
    }).catch((err: unknown) => {
      void cancel(); // not awaited: watch() settles within timeoutMs
      throw err;
    });
    created = true;
    return { cancel };
  }

  /**
   * etcd3 reports a compacted watch as "Watcher canceled: " with no reason: a
   * read at the next revision tells whether the history was compacted.
   */
  private async explain(prefix: string, lastRevision: number, err: Error): Promise<Error> {
    try {
      await this.run('range', () => this.client.kv.range({ key: Buffer.from(prefix || '\0'), revision: String(lastRevision + 1), limit: 1 }));
    } catch (probe) {
      if (/compacted/.test((probe as Error).message)) {
        return new Error(`etcd: the watch of '${prefix}' from revision ${lastRevision} was cancelled: history compacted (${(probe as Error).message}); re-read and watch again`);
      }
    }
    return new Error(`etcd: the watch of '${prefix}' was cancelled (${err.message}); re-read and watch again`);
  }

  /** Compacts etcd's history up to revision (tests, operations). */
  async compact(revision: number): Promise<void> {
    await this.run('compact', () => this.client.kv.compact({ revision: String(revision), physical: true }));
  }

  async close(): Promise<void> {
    await Promise.all([...this.watchers].map((w) => this.bounded(w.cancel())));
    this.watchers.clear();
    this.client.close();
  }
}
