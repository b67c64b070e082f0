// A deliberately tiny RESP2 client. The benchmark only needs PING for
// readiness, INFO for version strings and a handful of sanity checks, and a
// dependency-free client keeps the harness independent of the client
// libraries that ringcache itself is tested with.
import { encodeRequest } from '../../src/protocol/request-encoder.js';
import net from 'node:net';
import { LOOPBACK } from './ports.js';

/** An error reply (`-ERR ...`) from the server, kept as a value, not thrown. */
export class RespError {
  constructor(readonly message: string) {}
  toString(): string {
    return `-${this.message}`;
  }
}

export type RespValue = string | number | null | RespError | RespValue[];

export function encodeCommand(args: readonly (string | number)[]): Buffer {
  return encodeRequest(args.map(String));
}

/** Parses one reply at `offset`; returns undefined when more bytes are needed. */
export function parseReply(buf: Buffer, offset = 0): { value: RespValue; next: number } | undefined {
  const eol = buf.indexOf('\r\n', offset);
  if (eol < 0) return undefined;
  const type = String.fromCharCode(buf[offset] ?? 0);
  const line = buf.toString('utf8', offset + 1, eol);
  const afterLine = eol + 2;
  switch (type) {
    case '+':
      return { value: line, next: afterLine };
    case '-':
      return { value: new RespError(line), next: afterLine };
    case ':':
      return { value: Number(line), next: afterLine };
    case '$': {
      const len = Number(line);
      if (len < 0) return { value: null, next: afterLine };
      if (buf.length < afterLine + len + 2) return undefined;
      return { value: buf.toString('utf8', afterLine, afterLine + len), next: afterLine + len + 2 };
    }
    case '*': {
      const count = Number(line);
      if (count < 0) return { value: null, next: afterLine };
      const items: RespValue[] = [];
      let pos = afterLine;
      for (let i = 0; i < count; i++) {
        const item = parseReply(buf, pos);
        if (!item) return undefined;
        items.push(item.value);
        pos = item.next;
      }
      return { value: items, next: pos };
    }
    default:
      throw new Error(`unexpected RESP type byte ${JSON.stringify(type)}`);
  }
}

/**
 * Opens a connection, pipelines `commands`, returns one reply per command and
 * closes. Everything (connect + replies) is bounded by `timeoutMs`.
 */
export function sendCommands(
  port: number,
  commands: readonly (readonly (string | number)[])[],
  timeoutMs = 2000,
): Promise<RespValue[]> {
  return new Promise((resolve, reject) => {
    const replies: RespValue[] = [];
    let pending = Buffer.alloc(0);
    let settled = false;
    const socket = net.connect({ port, host: LOOPBACK });
    const finish = (err: Error | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(replies);
    };
    const timer = setTimeout(
      () => finish(new Error(`no reply from ${LOOPBACK}:${port} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.on('connect', () => {
      socket.write(Buffer.concat(commands.map((c) => encodeCommand(c))));
    });
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      try {
        for (;;) {
          const parsed = parseReply(pending);
          if (!parsed) break;
          replies.push(parsed.value);
          pending = pending.subarray(parsed.next);
          if (replies.length === commands.length) return finish(undefined);
        }
      } catch (err) {
        finish(err instanceof Error ? err : new Error(String(err)));
      }
    });
    socket.on('error', (err) => finish(err));
    socket.on('close', () => finish(new Error(`connection to ${LOOPBACK}:${port} closed after ${replies.length} replies`)));
  });
}

export async function sendCommand(port: number, args: readonly (string | number)[], timeoutMs = 2000): Promise<RespValue> {
  const [reply] = await sendCommands(port, [args], timeoutMs);
  return reply ?? null;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Polls until 127.0.0.1:`port` accepts a connection and answers PING with
 * +PONG. A printed "listening" line is not enough: the port must actually
 * serve commands before we start measuring. Rejects after `timeoutMs`, or as
 * soon as `signal` aborts (e.g. because the server process exited).
 */
export async function waitForPing(port: number, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastProblem = 'not tried';
  while (Date.now() < deadline) {
    if (signal?.aborted) throw new Error(`waitForPing(${port}) aborted: ${String(signal.reason)}`);
    try {
      const reply = await sendCommand(port, ['PING'], Math.max(50, Math.min(1000, deadline - Date.now())));
      if (reply === 'PONG') return;
      lastProblem = `unexpected reply ${JSON.stringify(String(reply))}`;
    } catch (err) {
      lastProblem = err instanceof Error ? err.message : String(err);
    }
    await sleep(Math.min(100, Math.max(0, deadline - Date.now())));
  }
  throw new Error(`no +PONG from ${LOOPBACK}:${port} within ${timeoutMs} ms (last: ${lastProblem})`);
}
