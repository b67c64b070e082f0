// Fast, checked bulk loading of SET commands over one pipelined connection.
//
// Every command has the same length (fixed-width keys `key:%012d`, one value
// size), so we encode one SET with the node's request encoder, then build each
// batch by copying that template and writing the key's digits in place: no
// per-key encoder call or allocation. Writes stop while more than
// `maxInFlightBytes` of commands are unanswered (and on socket backpressure),
// so neither side buffers an unbounded amount. Replies are checked byte by
// byte against "+OK\r\n": an error reply (e.g. -OOM) fails the load instead
// of being counted.
//
// Keys are `key:` plus the zero-padded 12-digit index, which is also the key
// format of `redis-benchmark -r`, so a later `redis-benchmark -r <keys>` hits
// exactly the loaded keys.
import net from 'node:net';
import { encodeRequest } from '../../src/protocol/request-encoder.js';
import { LOOPBACK } from './ports.js';

export const KEY_PREFIX = 'key:';
export const KEY_DIGITS = 12;

export interface BulkLoadOptions {
  port: number;
  /** Keys 0 .. keys-1 are written. */
  keys: number;
  valueSize: number;
  /** Commands per socket write (default 8192). */
  batchKeys?: number | undefined;
  /** Most unanswered command bytes (default 8 MiB). */
  maxInFlightBytes?: number | undefined;
  /** Aborting fails the load with the signal's reason (timeouts, server exit). */
  signal?: AbortSignal | undefined;
  /** Called about once a second. */
  onProgress?: ((acked: number) => void) | undefined;
}

export interface BulkLoadResult {
  keys: number;
  bytesSent: number;
  durationMs: number;
  keysPerSec: number;
  /** Longest time with commands in flight and no reply bytes arriving: a client-side view of stalls. */
  maxReplyGapMs: number;
}

/** Key number `i` in the benchmark's format. */
export function benchKey(i: number): string {
  return KEY_PREFIX + String(i).padStart(KEY_DIGITS, '0');
}

/** The value every loaded key gets: printable, not all one byte. */
export function benchValue(size: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = 97 + (i % 26);
  return b;
}

/** SET template for one value size, and where its key digits are. */
export function setTemplate(valueSize: number): { template: Buffer; digitsAt: number } {
  const template = encodeRequest(['SET', benchKey(0), benchValue(valueSize)]);
  const keyAt = template.indexOf(benchKey(0));
  if (keyAt < 0) throw new Error('setTemplate: key not found in the encoded command');
  return { template, digitsAt: keyAt + KEY_PREFIX.length };
}

/** SET commands for keys from .. from+count-1, concatenated. */
export function encodeSetBatch(t: { template: Buffer; digitsAt: number }, from: number, count: number): Buffer {
  const len = t.template.length;
  const out = Buffer.allocUnsafe(len * count);
  for (let j = 0; j < count; j++) {
    const off = j * len;
    t.template.copy(out, off);
    out.write(String(from + j).padStart(KEY_DIGITS, '0'), off + t.digitsAt, KEY_DIGITS, 'latin1');
  }
  return out;
}

const OK = Buffer.from('+OK\r\n');

export function bulkLoad(opts: BulkLoadOptions): Promise<BulkLoadResult> {
  const t = setTemplate(opts.valueSize);
  const cmdLen = t.template.length;
  const batchKeys = Math.max(1, opts.batchKeys ?? 8192);
  const maxInFlight = Math.max(cmdLen, opts.maxInFlightBytes ?? 8 * 1024 * 1024);
  const total = opts.keys;

  return new Promise<BulkLoadResult>((resolve, reject) => {
    const started = performance.now();
    let sent = 0;
    let acked = 0;
    let okPos = 0; // position in "+OK\r\n" of the next expected reply byte
    let lastReplyAt = started;
    let maxGap = 0;
    let settled = false;
    let wake: (() => void) | undefined;
    let progressTimer: NodeJS.Timeout | undefined;

    const socket = net.connect({ port: opts.port, host: LOOPBACK });
    socket.setNoDelay(true);

    const finish = (err?: Error): void => {
      if (settled) return;
      settled = true;
      if (progressTimer) clearInterval(progressTimer);
      opts.signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      wake?.();
      if (err) return reject(err);
      const durationMs = performance.now() - started;
      resolve({
        keys: total, bytesSent: sent * cmdLen, durationMs,
        keysPerSec: durationMs > 0 ? (total / durationMs) * 1000 : NaN, maxReplyGapMs: maxGap,
      });
    };
    const onAbort = (): void => {
      const reason = opts.signal?.reason;
      finish(new Error(`load aborted after ${acked} of ${total} replies: ${reason instanceof Error ? reason.message : String(reason)}`));
    };
    if (opts.signal?.aborted) return onAbort();
    opts.signal?.addEventListener('abort', onAbort);

    if (opts.onProgress) {
      const cb = opts.onProgress;
      progressTimer = setInterval(() => cb(acked), 1000);
    }

    socket.on('data', (chunk: Buffer) => {
      const now = performance.now();
      if (sent > acked) maxGap = Math.max(maxGap, now - lastReplyAt);
      lastReplyAt = now;
      for (let i = 0; i < chunk.length; i++) {
        if (chunk[i] !== OK[okPos]) {
          const eol = chunk.indexOf('\r\n', i);
          const text = chunk.toString('latin1', Math.max(0, i - okPos), eol < 0 ? Math.min(chunk.length, i + 200) : eol);
          return finish(new Error(`SET #${acked + 1} of ${total} got ${JSON.stringify(text)} instead of +OK`));
        }
        if (++okPos === OK.length) {
          okPos = 0;
          acked++;
        }
      }
      if (acked === total) return finish();
      if (acked > sent) return finish(new Error(`got ${acked} replies for ${sent} commands`));
      wake?.();
    });
    socket.on('drain', () => wake?.());
    socket.on('error', (err) => finish(new Error(`load connection: ${err.message} (after ${acked} of ${total} replies)`)));
    socket.on('close', () => finish(new Error(`connection closed by the server after ${acked} of ${total} replies`)));

    const waitFor = (): Promise<void> => new Promise((r) => (wake = r));

    socket.once('connect', () => {
      void (async () => {
        lastReplyAt = performance.now();
        while (!settled && sent < total) {
          if ((sent - acked) * cmdLen > maxInFlight) {
            await waitFor();
            continue;
          }
          const n = Math.min(batchKeys, total - sent);
          const batch = encodeSetBatch(t, sent, n);
          if (sent === acked) lastReplyAt = performance.now(); // gap counts from the first unanswered write
          sent += n;
          if (!socket.write(batch)) await waitFor();
        }
      })().catch((err: unknown) => finish(err instanceof Error ? err : new Error(String(err))));
    });
    if (total === 0) socket.once('connect', () => finish());
  });
}
