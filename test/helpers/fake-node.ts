/**
 * A scripted fake node for client tests: a TCP server on 127.0.0.1 that parses
 * each request and answers with whatever the handler returns (raw RESP), or
 * nothing at all (to test timeouts). Lets tests produce replies a healthy
 * ringcache never sends: endless MOVED, ASK, TRYAGAIN, CLUSTERDOWN, silence.
 */
import net from 'node:net';
import { parseReply } from './raw-client.js';

export interface FakeNode {
  port: number;
  /** Every request received, as text arguments. */
  requests: string[][];
  close(): Promise<void>;
}

/** Handler: the RESP text to send back for one request, or undefined to stay silent. */
export type FakeHandler = (args: string[], requestIndex: number) => string | undefined;

export async function startFakeNode(handler: FakeHandler): Promise<FakeNode> {
  const requests: string[][] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buf = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      let out = '';
      for (;;) {
        const parsed = parseReply(buf, 0);
        if (parsed === undefined) break;
        buf = buf.subarray(parsed[1]);
        const args = (parsed[0] as Buffer[]).map((b) => b.toString());
        requests.push(args);
        out += handler(args, requests.length - 1) ?? '';
      }
      if (out !== '') socket.write(out);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A CLUSTER SHARDS reply (RESP2) in which one node serves every slot. */
export function shardsReplyFor(port: number): string {
  const bulk = (s: string) => `$${Buffer.byteLength(s)}\r\n${s}\r\n`;
  return (
    '*1\r\n*4\r\n' + bulk('slots') + '*2\r\n:0\r\n:16383\r\n' + bulk('nodes') +
    '*1\r\n*8\r\n' + bulk('id') + bulk('fake') + bulk('port') + `:${port}\r\n` + bulk('ip') + bulk('127.0.0.1') + bulk('role') + bulk('master')
  );
}
