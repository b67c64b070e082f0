/**
 * A byte-level client for tests: sends exact bytes and reads replies back as
 * raw RESP text and as decoded values, so tests can check the wire format
 * itself, malformed input, and what happens to the connection.
 */
import net from 'node:net';
import { encodeRequest } from '../../src/protocol/request-encoder.js';

export type Reply = string | number | bigint | null | boolean | Buffer | ReplyError | Reply[] | Map<Reply, Reply>;

export class ReplyError {
  constructor(readonly message: string) {}
}

/** Encodes a command as a RESP multibulk request (the node's own encoder). */
export const encodeCommand = encodeRequest;

/** Parses one reply at pos; returns [value, next position] or undefined if incomplete. */
export function parseReply(buf: Buffer, pos: number): [Reply, number] | undefined {
  if (pos >= buf.length) return undefined;
  const nl = buf.indexOf('\r\n', pos);
  if (nl < 0) return undefined;
  const type = String.fromCharCode(buf[pos]!);
  const line = buf.toString('utf8', pos + 1, nl);
  const next = nl + 2;
  switch (type) {
    case '+':
      return [line, next];
    case '-':
      return [new ReplyError(line), next];
    case ':':
      return [Number.isSafeInteger(Number(line)) ? Number(line) : BigInt(line), next];
    case ',':
      return [line === 'inf' ? Infinity : line === '-inf' ? -Infinity : Number(line), next];
    case '#':
      return [line === 't', next];
    case '_':
      return [null, next];
    case '$':
    case '=': {
      const n = Number(line);
      if (n < 0) return [null, next];
      if (next + n + 2 > buf.length) return undefined;
      return [buf.subarray(next, next + n), next + n + 2];
    }
    case '*':
    case '~':
    case '>':
    case '%': {
      const n = Number(line);
      if (n < 0) return [null, next];
      const items: Reply[] = [];
      let p = next;
      for (let i = 0; i < (type === '%' ? n * 2 : n); i++) {
        const r = parseReply(buf, p);
        if (!r) return undefined;
        items.push(r[0]);
        p = r[1];
      }
      if (type !== '%') return [items, p];
      const map = new Map<Reply, Reply>();
      for (let i = 0; i < items.length; i += 2) map.set(items[i]!, items[i + 1]!);
      return [map, p];
    }
    default:
      throw new Error(`unknown reply type ${JSON.stringify(type)} in ${JSON.stringify(buf.toString('latin1', pos, pos + 40))}`);
  }
}

export class RawClient {
  private buf = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  closed = false;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => {});
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, host, () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  write(bytes: Buffer | string): void {
    this.socket.write(bytes);
  }

  /** Sends a command and returns its decoded reply. */
  async call(...args: Array<string | Buffer>): Promise<Reply> {
    this.write(encodeCommand(args));
    return (await this.read(1))[0]!;
  }

  /** Reads n replies (bounded in time); throws if the connection closes first. */
  async read(n: number, timeoutMs = 5000): Promise<Reply[]> {
    const deadline = Date.now() + timeoutMs;
    const out: Reply[] = [];
    while (out.length < n) {
      const r = parseReply(this.buf, 0);
      if (r) {
        out.push(r[0]);
        this.buf = this.buf.subarray(r[1]);
        continue;
      }
      if (this.closed) throw new Error(`connection closed after ${out.length} of ${n} replies`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for reply ${out.length + 1} of ${n}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return out;
  }

  /** Raw bytes received and not yet read as replies. */
  get pending(): Buffer {
    return this.buf;
  }

  /** Resolves true once the server has closed the connection, false after timeoutMs. */
  async waitClosed(timeoutMs = 5000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    return this.closed;
  }

  close(): void {
    this.socket.destroy();
  }
}
