/**
 * Reads every client socket into one shared buffer instead of a new one per read.
 *
 * Why: for each read, Node allocates a 64 KiB backing store, shrinks it to the
 * bytes read and wraps it in an ArrayBuffer and a Buffer, then pushes it through
 * the Readable stream machinery. perf on a node serving SET with 1 KiB values at
 * pipeline 1 put malloc/free at 7% and garbage collection at 7% of its CPU,
 * most of it for these buffers (major GCs included: external memory drives them).
 * Node's `onread` socket option reads into a caller's buffer and hands the bytes
 * straight to a callback, skipping both. Reading into one buffer: the node's
 * CPU per request fell about 10% at pipeline 1 and 25-45% at pipeline 16 with
 * 1 KiB values (bench/node-vs-redis.ts measures the throughput).
 *
 * The catch: `onread` is public only for sockets Node creates for a client
 * (net.connect). An accepted socket is built by net.Server itself, so this
 * module moves its handle (`socket._handle`, private) to a new Socket built
 * with `onread`, using the Socket constructor's `handle` option (also
 * private; it is how net.Server builds its sockets). If either is missing,
 * as it could be in a future Node, the socket is read the ordinary way.
 *
 * Lifetime: the bytes passed to onChunk are valid only until it returns;
 * the next read, on any connection, overwrites them. One buffer serves all
 * connections because reads run one at a time on the event loop thread.
 */
import net from 'node:net';

/** libuv's own read size: a full read still means "more may wait" (see connection.ts). */
export const READ_BUFFER_BYTES = 64 * 1024;
const shared = Buffer.allocUnsafeSlow(READ_BUFFER_BYTES);
/**
 * The view of the shared buffer the last read filled. Reads of one size follow
 * each other (requests of one size): the same view serves, which saves making
 * one (two calls into V8's runtime) and a new object that the parser's
 * long-lived Argv would point to (a slower write barrier).
 */
let lastView = shared.subarray(0, 0);

/** The parts of an accepted socket's handle this module relies on. */
interface StreamHandle {
  useUserBuffer?: unknown;
  readStop?: unknown;
}

/** Who takes a socket's bytes. */
export interface ChunkReader {
  /** Bytes read; when they come from the shared buffer, valid only during the call. */
  onChunk(chunk: Buffer): void;
}

/**
 * The reader, kept on its socket: one callback function serves every socket
 * (Node calls it as a method of the socket), not a closure per socket.
 */
const READER = Symbol('ringcache.reader');
type ReaderSocket = net.Socket & { [READER]: ChunkReader };

function onSharedRead(this: ReaderSocket, n: number): boolean {
  if (lastView.length !== n) lastView = shared.subarray(0, n);
  this[READER].onChunk(lastView);
  return true; // pause() and resume() stop and start reads themselves
}

export interface AdoptedSocket {
  socket: net.Socket;
  /** True if chunks come from the shared buffer (valid only during the callback). */
  reused: boolean;
}

/**
 * Starts reading an accepted socket (from a server made with pauseOnConnect)
 * and returns the socket to use from then on: the same one, or its replacement
 * reading into the shared buffer.
 */
export function adoptAccepted(accepted: net.Socket, allowHalfOpen: boolean, reader: ChunkReader): AdoptedSocket {
  const holder = accepted as unknown as { _handle: StreamHandle | null };
  const handle = holder._handle;
  if (handle === null || typeof handle.useUserBuffer !== 'function' || typeof handle.readStop !== 'function') {
    accepted.on('data', (chunk: Buffer) => reader.onChunk(chunk));
    accepted.resume();
    return { socket: accepted, reused: false };
  }
  holder._handle = null;
  const socket = new net.Socket({
    handle,
    allowHalfOpen,
    readable: true,
    writable: true,
    onread: { buffer: shared, callback: onSharedRead },
  } as net.SocketConstructorOpts) as ReaderSocket;
  socket[READER] = reader; // before any read: reads start on a later turn of the loop
  // The handle-less original still counts as one of the server's connections:
  // destroying it once the real socket closes keeps server.close() and
  // getConnections() right. It has no handle, so this only updates the count.
  accepted.on('error', () => {});
  socket.once('close', () => accepted.destroy());
  return { socket, reused: true };
}
