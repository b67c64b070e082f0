/**
 * Writes a reply chunk straight to the socket's libuv handle when nothing is
 * queued before it, and through the socket (Node's Writable) otherwise.
 *
 * Why: at pipeline 1 every request is one `socket.write`, and the Writable
 * path around the system call costs: a new WriteWrap per write, the stream's
 * state checks, and a `process.nextTick` to finish each write, which makes
 * Node drain its tick queue after every read callback. Writing through the
 * handle with one reused request object cut the node's user time per GET at
 * pipeline 1 by about 10%, its CPU per request by 2-4% (A/B of two builds,
 * /proc CPU times; README, Benchmarks).
 *
 * The catch: `socket._handle.writeBuffer` and `process.binding('stream_wrap')`
 * are private Node API, as the shared read buffer's are. If either is missing,
 * every chunk goes through `socket.write`, as before. `process.binding` is
 * deprecated (DEP0111): with `--pending-deprecation` it prints a warning, and
 * under `--throw-deprecation` that warning ends the process.
 *
 * What direct writes skip: the socket's timeout refresh (the node sets no
 * socket timeouts) and Writable's own bookkeeping; `socket.bytesWritten`
 * stays right, as it comes from the handle's counter.
 *
 * Order: libuv keeps one write queue per handle, so a chunk written through
 * the socket after a direct write that is still pending goes out after it.
 * A direct write is made only when the socket holds nothing (writableLength
 * 0) and no direct write is pending: at most one is pending at any time.
 * A shutdown (`socket.end()`) waits in libuv for pending writes too.
 */
import type { Socket } from 'node:net';

/** libuv's write request, as Node's stream_wrap binding exposes it. */
interface WriteReq {
  oncomplete: (status: number) => void;
  buffer: Buffer | null;
}

interface StreamWrapBinding {
  WriteWrap: new () => WriteReq;
  streamBaseState: Int32Array;
  kLastWriteWasAsync: number;
}

interface WritableHandle {
  writeBuffer(req: WriteReq, chunk: Buffer): number;
}

function loadStreamWrap(): StreamWrapBinding | null {
  try {
    const binding = (process as unknown as { binding(name: string): Partial<StreamWrapBinding> }).binding('stream_wrap');
    const { WriteWrap, streamBaseState, kLastWriteWasAsync } = binding;
    if (typeof WriteWrap !== 'function' || !(streamBaseState instanceof Int32Array) || typeof kLastWriteWasAsync !== 'number') return null;
    return { WriteWrap, streamBaseState, kLastWriteWasAsync };
  } catch {
    return null;
  }
}

const streamWrap = loadStreamWrap();

export class HandleWriter {
  /** Reused while writes complete at once (libuv then keeps no reference to it). */
  private req: WriteReq | null;
  /** Bytes of the pending direct write (0 when none). */
  private pendingBytes = 0;

  /**
   * @param onDrained called when a direct write that had to wait completes,
   *   as the socket's 'drain' is for its own writes.
   */
  constructor(
    private readonly socket: Socket,
    private readonly onDrained: () => void,
  ) {
    this.req = streamWrap === null ? null : new streamWrap.WriteWrap();
  }

  /**
   * Bytes written and not yet all taken by the kernel: the socket's own, and
   * the whole of a pending direct write (even once the kernel took part of it).
   */
  get queuedBytes(): number {
    return this.pendingBytes + this.socket.writableLength;
  }

  /** False if this Node lacks the binding, so every chunk uses socket.write (true says nothing of a socket's handle). */
  get direct(): boolean {
    return this.req !== null;
  }

  /** Writes a reply: one chunk with write(), several (values passed by reference) corked into one writev. */
  send(pieces: readonly Buffer[]): void {
    if (pieces.length === 1) {
      this.write(pieces[0]!);
      return;
    }
    this.socket.cork();
    for (const p of pieces) this.socket.write(p);
    this.socket.uncork();
  }

  write(chunk: Buffer): void {
    const handle = (this.socket as unknown as { _handle?: Partial<WritableHandle> | null })._handle;
    if (
      this.req === null ||
      this.pendingBytes > 0 ||
      this.socket.writableLength > 0 ||
      // Writes made while corked count in writableLength already; this only says so.
      this.socket.writableCorked > 0 ||
      !this.socket.writable ||
      typeof handle?.writeBuffer !== 'function'
    ) {
      this.socket.write(chunk);
      return;
    }
    const req = this.req;
    const err = handle.writeBuffer(req, chunk);
    if (err < 0) {
      // EPIPE or ECONNRESET: the client is gone; its 'close' ends the connection.
      this.socket.destroy();
      return;
    }
    if (streamWrap!.streamBaseState[streamWrap!.kLastWriteWasAsync] === 0) return;
    // The kernel took part of it: libuv writes the rest when the socket is
    // writable, from this buffer, and calls the request back.
    this.pendingBytes = chunk.length;
    req.buffer = chunk;
    req.oncomplete = (status: number) => {
      req.buffer = null;
      this.pendingBytes = 0;
      if (status < 0) this.socket.destroy();
      else this.onDrained();
    };
    this.req = new streamWrap!.WriteWrap();
  }
}
