/**
 * One command to one node on a fresh connection, bounded in time: what the
 * runner uses to look at nodes directly (DBSIZE per node each second, CLUSTER
 * INFO while a Redis Cluster forms), apart from the clients under test.
 */
import net from 'node:net';
import { encodeCommand, ReplyDecoder, type Arg, type Reply } from '../client/resp.js';

export function call(host: string, port: number, args: Arg[], timeoutMs = 1000): Promise<Reply> {
  return new Promise((resolve, reject) => {
    let done = false;
    const socket = net.connect(port, host);
    const finish = (err: Error | undefined, reply?: Reply) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(reply!);
    };
    const timer = setTimeout(() => finish(new Error(`no reply from ${host}:${port} to ${String(args[0])} within ${timeoutMs} ms`)), timeoutMs);
    const decoder = new ReplyDecoder((reply) => finish(reply instanceof Error ? reply : undefined, reply));
    socket.once('connect', () => socket.write(encodeCommand(args)));
    socket.on('data', (d: Buffer) => decoder.feed(d));
    socket.once('error', (err) => finish(err));
    socket.once('close', () => finish(new Error(`connection to ${host}:${port} closed before the reply`)));
  });
}

/** A reply as text (bulk strings are Buffers). */
export const replyText = (r: Reply): string => (Buffer.isBuffer(r) ? r.toString() : String(r));
