/**
 * The load a scenario puts on a cluster: N concurrent clients (each its own
 * client object, so its own connections), each sending batches of `pipeline`
 * commands issued in one tick, a read/write mix over a key distribution, for a
 * duration, flat out or at a fixed total rate.
 *
 * At a fixed rate the load is open-loop: each client has a schedule of
 * intended send times (its share of the rate) and sends each batch at its
 * time whether or not the earlier ones were answered, up to 64 outstanding
 * batches; a batch held back by that bound (or by a busy event loop) is sent
 * late, and every latency is measured from the intended time. That is the
 * coordinated-omission correction: a stalled server is charged for the
 * requests it made wait, not only for the few that were in flight. Flat out,
 * each client has one batch in flight (closed loop) and latency runs from the
 * actual send.
 *
 * Every write goes through the checker (a value of its own, ack or failure);
 * reads are handed to it at `checkSample`. Metrics go to the run's Recorder.
 * Every loop is bounded by the phase's deadline; what is still in flight after
 * it gets the command timeout and a margin, then the clients are closed.
 */
import type { Checker } from './checker.js';
import { connectClient, errorType, type ClientKind, type ClientTarget, type KvClient } from './clients.js';
import { keyName, keyPicker, Rng, type KeySpaceOptions } from './keys.js';
import type { Recorder } from './metrics.js';
import { encodeValue } from './values.js';

export interface WorkloadConfig {
  clients: number;
  pipeline: number;
  /** Fraction of operations that are reads (GET); the rest are writes (SET). */
  readRatio: number;
  keySpace: KeySpaceOptions;
  /** Value sizes in bytes, drawn uniformly from [min, max]. */
  valueSize: { min: number; max: number };
  /** Total operations per second over all clients, or null for flat out. */
  rate: number | null;
  durationMs: number;
  seed: number;
  client: ClientKind;
  commandTimeoutMs: number;
  /** Fraction of reads handed to the checker. */
  checkSample: number;
}

/** What a workload needs from the run it is part of. */
export interface WorkloadHost {
  target: ClientTarget;
  checker: Checker;
  recorder: Recorder;
  /** ms since the run began. */
  now(): number;
  /** The node id that owns a key, when known (errors by node). */
  ownerOf?: (key: number) => string;
}

const CONNECT_TIMEOUT_MS = 1000;
/** At a fixed rate: batches a client may have outstanding before it waits (then latency accrues from the intended time). */
const MAX_BATCHES_IN_FLIGHT = 64;
const CONNECT_CONCURRENCY = 16;

/** Sleeps ms, in slices of at most 100 ms, returning early once done() says so. */
async function sleepUnless(ms: number, done: () => boolean): Promise<void> {
  const until = performance.now() + ms;
  for (let left = ms; left > 0 && !done(); left = until - performance.now()) await new Promise((r) => setTimeout(r, Math.min(left, 100)));
}

/** Connects n clients (a few at a time, so a 200-client sweep does not open 200 topology fetches at once). */
export async function connectClients(kind: ClientKind, target: ClientTarget, n: number, commandTimeoutMs: number): Promise<KvClient[]> {
  const clients: KvClient[] = [];
  try {
    for (let i = 0; i < n; i += CONNECT_CONCURRENCY) {
      const batch = await Promise.all(Array.from({ length: Math.min(CONNECT_CONCURRENCY, n - i) }, () => connectClient(kind, target, { commandTimeoutMs, connectTimeoutMs: CONNECT_TIMEOUT_MS })));
      clients.push(...batch);
    }
  } catch (err) {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
    throw err;
  }
  return clients;
}

/**
 * Runs the workload for cfg.durationMs (or until `stop` resolves) as phase
 * `name` of the host's recorder. Resolves once every client is closed.
 */
export async function runWorkload(cfg: WorkloadConfig, host: WorkloadHost, name: string, stop?: Promise<void>): Promise<void> {
  const clients = await connectClients(cfg.client, host.target, cfg.clients, cfg.commandTimeoutMs);
  const { recorder, checker } = host;
  const start = host.now();
  const deadline = start + cfg.durationMs;
  recorder.beginPhase(name, start, { clients: cfg.clients, pipeline: cfg.pipeline, rate: cfg.rate ?? 'flat out' });
  let stopped = false;
  const pick = keyPicker(cfg.keySpace);
  const span = cfg.valueSize.max - cfg.valueSize.min + 1;
  // Per-client interval between batches at the fixed rate (ms), and each client's offset in it.
  const interval = cfg.rate === null ? 0 : (cfg.pipeline * cfg.clients * 1000) / cfg.rate;

  const issue = (client: KvClient, rng: Rng, sample: Rng, intended: number | undefined): Promise<void> => {
    const key = pick(rng);
    const read = rng.next() < cfg.readRatio;
    const sent = host.now();
    const from = intended ?? sent;
    if (read) {
      return client.get(keyName(key)).then(
        (value) => {
          const at = host.now();
          recorder.ok('read', at, (at - from) * 1000, value !== null);
          if (cfg.checkSample >= 1 || sample.next() < cfg.checkSample) checker.recordRead(key, sent, at, value);
        },
        (err: unknown) => recorder.error(host.now(), errorType(err), host.ownerOf?.(key)),
      );
    }
    const size = cfg.valueSize.min + (span > 1 ? rng.int(span) : 0);
    const seq = checker.beginWrite(key, sent);
    return client.set(keyName(key), encodeValue(checker.tag, seq, key, size)).then(
      () => {
        const at = host.now();
        checker.ackWrite(seq, at);
        recorder.ok('write', at, (at - from) * 1000);
      },
      (err: unknown) => {
        const at = host.now();
        checker.failWrite(seq, at);
        recorder.error(at, errorType(err), host.ownerOf?.(key));
      },
    );
  };

  // Flat out: each client has one batch in flight and sends the next when it is answered (closed loop).
  const closedLoop = async (client: KvClient, rng: Rng, sample: Rng) => {
    while (!stopped && host.now() < deadline) {
      const ops: Promise<void>[] = [];
      for (let i = 0; i < cfg.pipeline; i++) ops.push(issue(client, rng, sample, undefined));
      await Promise.all(ops);
    }
  };

  // At a rate: each client sends its batches at their intended times whether or not earlier ones were answered
  // (open loop), with at most MAX_BATCHES_IN_FLIGHT outstanding; a batch held back by that bound is sent late and
  // charged from its intended time.
  const openLoop = async (client: KvClient, rng: Rng, sample: Rng, offset: number) => {
    const pending = new Set<Promise<void>>();
    for (let batch = 0; !stopped; batch++) {
      const intended = start + offset + batch * interval;
      if (intended >= deadline) break;
      const wait = intended - host.now();
      if (wait > 0.5) await sleepUnless(wait, () => stopped);
      while (pending.size >= MAX_BATCHES_IN_FLIGHT && !stopped) await Promise.race(pending);
      if (stopped) break;
      const ops: Promise<void>[] = [];
      for (let i = 0; i < cfg.pipeline; i++) ops.push(issue(client, rng, sample, intended));
      const done: Promise<void> = Promise.all(ops).then(() => {
        pending.delete(done);
      });
      pending.add(done);
    }
    await Promise.all(pending);
  };

  const worker = (client: KvClient, w: number) => {
    const rng = new Rng(cfg.seed * 1_000_003 + w);
    const sample = new Rng(cfg.seed * 7_919 + w + 0x5eed);
    return cfg.rate === null ? closedLoop(client, rng, sample) : openLoop(client, rng, sample, interval * (w / cfg.clients));
  };

  const workers = Promise.all(clients.map((c, w) => worker(c, w)));
  // Bounded: after the deadline (or a stop), what is in flight gets the command timeout (with retries) and a margin.
  const grace = cfg.commandTimeoutMs * 3 + 5000;
  let guard: NodeJS.Timeout | undefined;
  let release = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  const arm = (ms: number) => {
    clearTimeout(guard);
    guard = setTimeout(release, ms);
  };
  arm(cfg.durationMs + grace);
  void stop?.then(() => {
    stopped = true;
    arm(grace);
  });
  await Promise.race([workers, released]);
  clearTimeout(guard);
  stopped = true;
  recorder.endPhase(host.now());
  await Promise.all(clients.map((c) => c.close().catch(() => {})));
}

/** Options for writing or reading every key once (preload, final read). */
export interface SweepConfig {
  keys: number;
  valueSize: { min: number; max: number };
  client: ClientKind;
  commandTimeoutMs: number;
  /** Commands in flight at once. */
  inFlight: number;
}

/** Writes every key 0..keys-1 once (through the checker), not measured as a phase. Returns how many writes failed. */
export async function preload(cfg: SweepConfig, host: WorkloadHost): Promise<{ written: number; failed: number }> {
  const [client] = await connectClients(cfg.client, host.target, 1, cfg.commandTimeoutMs);
  let failed = 0;
  try {
    await forEachKey(cfg.keys, cfg.inFlight, async (key) => {
      const seq = host.checker.beginWrite(key, host.now());
      try {
        await client!.set(keyName(key), encodeValue(host.checker.tag, seq, key, cfg.valueSize.min));
        host.checker.ackWrite(seq, host.now());
      } catch {
        host.checker.failWrite(seq, host.now());
        failed++;
      }
    });
  } finally {
    await client!.close();
  }
  return { written: cfg.keys - failed, failed };
}

/** Reads every key once more after the load (the checker's final read). Returns how many reads failed (not checked). */
export async function finalRead(cfg: SweepConfig, host: WorkloadHost): Promise<{ read: number; failed: number }> {
  const [client] = await connectClients(cfg.client, host.target, 1, cfg.commandTimeoutMs);
  let failed = 0;
  try {
    await forEachKey(cfg.keys, cfg.inFlight, async (key) => {
      const sent = host.now();
      try {
        const value = await client!.get(keyName(key));
        host.checker.recordRead(key, sent, host.now(), value, true);
      } catch {
        failed++;
      }
    });
  } finally {
    await client!.close();
  }
  return { read: cfg.keys - failed, failed };
}

/** Runs fn for 0..n-1 with at most `inFlight` calls pending at once. */
async function forEachKey(n: number, inFlight: number, fn: (key: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < n) await fn(next++);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(inFlight, n)) }, lane));
}
