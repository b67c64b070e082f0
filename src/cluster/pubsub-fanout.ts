/**
 * PUBLISH across a cluster, as Redis Cluster broadcasts it on its bus: every
 * other member gets a PEERPUBLISH (delivered to its own subscribers only) over
 * a link of its own, fire-and-forget. Pub/sub is at most once: a peer that is
 * down, or so slow that its link holds FANOUT_LIMIT_BYTES unsent, loses the
 * messages (counted in `dropped`); a publisher never waits on a peer, and the
 * memory held for one is bounded. Requests of one tick go out in one write,
 * in order per peer; the peer's replies are read and discarded.
 */
import net from 'node:net';
import { encodeRequest } from '../protocol/request-encoder.js';

/** Unsent bytes on one peer's link past which its messages are dropped. */
export const FANOUT_LIMIT_BYTES = 8 * 1024 * 1024;
/** After a link fails, messages to that peer are dropped for this long before it reconnects. */
const RETRY_MS = 1000;
const PEERPUBLISH = Buffer.from('PEERPUBLISH');

export interface FanoutPeer {
  readonly host: string;
  readonly port: number;
}

class FanoutLink {
  private socket: net.Socket | undefined;
  private downUntil = 0;
  private outbox: Buffer[] = [];
  private outboxBytes = 0;

  constructor(
    private readonly peer: FanoutPeer,
    private readonly password: () => string,
  ) {}

  /** Queues a request for this tick's write; false when it is dropped. */
  send(request: Buffer): boolean {
    if (Date.now() < this.downUntil) return false;
    const socket = this.socket ?? this.connect();
    if (socket.writableLength + this.outboxBytes + request.length > FANOUT_LIMIT_BYTES) return false;
    if (this.outbox.length === 0) process.nextTick(this.flush);
    this.outbox.push(request);
    this.outboxBytes += request.length;
    return true;
  }

  private readonly flush = (): void => {
    const batch = this.outbox;
    this.outbox = [];
    this.outboxBytes = 0;
    if (this.socket === undefined || batch.length === 0) return;
    this.socket.write(batch.length === 1 ? batch[0]! : Buffer.concat(batch));
  };

  private connect(): net.Socket {
    const socket = net.connect({ host: this.peer.host, port: this.peer.port, noDelay: true });
    this.socket = socket;
    const down = (): void => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.outbox = [];
      this.outboxBytes = 0;
      this.downUntil = Date.now() + RETRY_MS;
      socket.destroy();
    };
    socket.on('error', down);
    socket.on('close', down);
    // Replies (the handshake's and one integer per message) are not needed.
    socket.on('data', () => {});
    const password = this.password();
    socket.write(encodeRequest(password === '' ? ['HELLO', '2'] : ['HELLO', '2', 'AUTH', 'default', password]));
    return socket;
  }

  close(): void {
    const s = this.socket;
    this.socket = undefined;
    s?.destroy();
  }
}

export class PubsubFanout {
  private readonly links = new Map<string, FanoutLink>();
  /** Messages given to a peer's link, and messages a peer lost (down, or over the limit). */
  sent = 0;
  dropped = 0;

  constructor(
    /** The members to reach: every other node of the current map that is not failed. */
    private readonly peers: () => readonly FanoutPeer[],
    private readonly password: () => string,
  ) {}

  /** The seam PubsubHub calls on every PUBLISH. */
  publish(channel: Buffer, message: Buffer): void {
    const peers = this.peers();
    if (peers.length === 0) return;
    const request = encodeRequest([PEERPUBLISH, channel, message]);
    for (const p of peers) {
      const key = `${p.host}:${p.port}`;
      let link = this.links.get(key);
      if (link === undefined) this.links.set(key, (link = new FanoutLink(p, this.password)));
      if (link.send(request)) this.sent++;
      else this.dropped++;
    }
  }

  /** Closes the links to members no longer in the map. */
  retain(peers: readonly FanoutPeer[]): void {
    const keep = new Set(peers.map((p) => `${p.host}:${p.port}`));
    for (const [key, link] of this.links) {
      if (keep.has(key)) continue;
      link.close();
      this.links.delete(key);
    }
  }

  close(): void {
    for (const l of this.links.values()) l.close();
    this.links.clear();
  }
}
