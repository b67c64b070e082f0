// Pipelined loading of container commands (HSET, RPUSH, SADD, ZADD, ...) for
// the memory benchmark's data-type cases (bench/lib/types-memory.ts).
//
// Commands are built by the caller, one batch at a time, as RESP bytes. Every
// reply these commands get is one line (an integer, or an error), so replies
// are counted by line ends and an error reply ('-' at a line start) fails the
// load instead of being counted. At most `maxInFlight` commands are
// unanswered at any time, so neither side buffers an unbounded amount.
import net from 'node:net';
import { encodeRequest } from '../../src/protocol/request-encoder.js';
import { LOOPBACK } from './ports.js';

export interface CommandBatch {
  data: Buffer;
  commands: number;
}

export interface PipelineLoadResult {
  commands: number;
  durationMs: number;
  /** Longest time with commands in flight and no reply bytes arriving (client side). */
  maxReplyGapMs: number;
}

export function encodeBatch(commands: readonly (readonly (string | Buffer)[])[]): CommandBatch {
  return { data: Buffer.concat(commands.map((c) => encodeRequest(c as (string | Buffer)[]))), commands: commands.length };
}

export function pipelineLoad(
  port: number, batches: Iterable<CommandBatch>, signal?: AbortSignal, maxInFlight = 16_384,
): Promise<PipelineLoadResult> {
  return new Promise<PipelineLoadResult>((resolve, reject) => {
    const started = performance.now();
    let sent = 0;
    let acked = 0;
    let done = false; // every batch written
    let lineStart = true;
    let lastReplyAt = started;
    let maxGap = 0;
    let settled = false;
    let wake: (() => void) | undefined;
    const socket = net.connect({ port, host: LOOPBACK });
    socket.setNoDelay(true);

    const finish = (err?: Error): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      wake?.();
      if (err) reject(err);
      else resolve({ commands: sent, durationMs: performance.now() - started, maxReplyGapMs: maxGap });
    };
    const onAbort = (): void => {
      const reason = signal?.reason;
      finish(new Error(`load aborted after ${acked} replies: ${reason instanceof Error ? reason.message : String(reason)}`));
    };
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort);

    socket.on('data', (chunk: Buffer) => {
      const now = performance.now();
      if (sent > acked) maxGap = Math.max(maxGap, now - lastReplyAt);
      lastReplyAt = now;
      for (let i = 0; i < chunk.length; i++) {
        const c = chunk[i]!;
        if (lineStart && c === 45 /* - */) {
          const eol = chunk.indexOf('\r\n', i);
          return finish(new Error(`command #${acked + 1} got ${JSON.stringify(chunk.toString('latin1', i, eol < 0 ? Math.min(chunk.length, i + 200) : eol))}`));
        }
        lineStart = c === 10;
        if (c === 10) acked++;
      }
      if (acked > sent) return finish(new Error(`got ${acked} replies for ${sent} commands`));
      if (done && acked === sent) return finish();
      wake?.();
    });
    socket.on('drain', () => wake?.());
    socket.on('error', (err) => finish(new Error(`load connection: ${err.message} (after ${acked} replies)`)));
    socket.on('close', () => finish(new Error(`connection closed by the server after ${acked} replies`)));
    const waitFor = (): Promise<void> => new Promise((r) => (wake = r));

    socket.once('connect', () => {
      void (async () => {
        lastReplyAt = performance.now();
        for (const batch of batches) {
          while (!settled && sent - acked > maxInFlight) await waitFor();
          if (settled) return;
          if (sent === acked) lastReplyAt = performance.now();
          sent += batch.commands;
          if (!socket.write(batch.data)) await waitFor();
        }
        done = true;
        if (acked === sent) finish();
      })().catch((err: unknown) => finish(err instanceof Error ? err : new Error(String(err))));
    });
  });
}
