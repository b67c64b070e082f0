/**
 * The node's pub/sub: its registry, the encoding of messages (once per
 * protocol per publish, shared by every receiver: the buffers are never
 * changed after), and the fan-out of PUBLISH to the cluster's other nodes.
 * Delivery is the connection's (Connection.push): a frame is queued there and
 * written on the next tick, so a publisher never waits on a subscriber.
 */
import type { Session } from '../commands/context.js';
import { PubsubRegistry, type Kind, type Subscriber } from './registry.js';

export type Protocol = 2 | 3;

/** One client's subscriptions, made on its first (P|S)SUBSCRIBE and kept in its session. */
export class ClientPubsub implements Subscriber {
  readonly channels = new Set<string>();
  readonly patterns = new Set<string>();
  readonly shardChannels = new Set<string>();
  constructor(
    readonly session: Session,
    /** Writes a complete frame to the client, out of band of its replies (the connection's push). */
    readonly push: (frame: Buffer) => void,
  ) {}

  get id(): number {
    return this.session.id;
  }

  /** Channel and pattern subscriptions: what (UN)SUBSCRIBE and P(UN)SUBSCRIBE count, as Redis. */
  get classic(): number {
    return this.channels.size + this.patterns.size;
  }

  /** Any subscription at all: a RESP2 client is then in subscriber mode. */
  get total(): number {
    return this.channels.size + this.patterns.size + this.shardChannels.size;
  }
}

/** A frame of bulk strings (latin1 strings or bytes) and, last, an optional integer: `>n` in RESP3, `*n` in RESP2. */
export function frame(protocol: Protocol, parts: ReadonlyArray<string | Buffer | null>, count?: number): Buffer {
  let size = 16 + (count !== undefined ? 24 : 0);
  for (const p of parts) size += (p === null ? 0 : p.length) + 24;
  const buf = Buffer.allocUnsafe(size);
  let at = buf.latin1Write(`${protocol === 3 ? '>' : '*'}${parts.length + (count !== undefined ? 1 : 0)}\r\n`, 0);
  for (const p of parts) {
    if (p === null) {
      at += buf.latin1Write(protocol === 3 ? '_\r\n' : '$-1\r\n', at);
      continue;
    }
    at += buf.latin1Write(`$${p.length}\r\n`, at);
    at += typeof p === 'string' ? buf.latin1Write(p, at) : p.copy(buf, at);
    at += buf.latin1Write('\r\n', at);
  }
  if (count !== undefined) at += buf.latin1Write(`:${count}\r\n`, at);
  return buf.subarray(0, at);
}

/** Encodes one message at most once per protocol, for all its receivers. */
class Frames {
  private f2: Buffer | undefined;
  private f3: Buffer | undefined;
  constructor(private readonly parts: ReadonlyArray<string | Buffer>) {}
  of(protocol: Protocol): Buffer {
    if (protocol === 3) return (this.f3 ??= frame(3, this.parts));
    return (this.f2 ??= frame(2, this.parts));
  }
}

export class PubsubHub {
  readonly registry = new PubsubRegistry<ClientPubsub>();
  /** Clients with at least one subscription (INFO's pubsub_clients). */
  /** Set in a cluster: sends a PUBLISH to every other node (their local subscribers only). */
  fanout: ((channel: Buffer, message: Buffer) => void) | null = null;
  /** Messages delivered to clients, for INFO. */
  delivered = 0;

  /** The client's subscription state, made on first use. */
  clientOf(session: Session, push: (frame: Buffer) => void): ClientPubsub {
    return (session.pubsub ??= new ClientPubsub(session, push));
  }

  /** Delivers a PUBLISH to this node's subscribers; returns how many received it. */
  publishLocal(channel: Buffer, message: Buffer): number {
    const name = channel.latin1Slice(0, channel.length);
    const receivers = this.registry.receivers(name);
    if (receivers.length === 0) return 0;
    const plain = new Frames(['message', channel, message]);
    const byPattern = new Map<string, Frames>();
    for (const [s, pattern] of receivers) {
      let frames = plain;
      if (pattern !== undefined) {
        frames = byPattern.get(pattern) ?? new Frames(['pmessage', pattern, channel, message]);
        byPattern.set(pattern, frames);
      }
      s.push(frames.of(s.session.protocol));
    }
    this.delivered += receivers.length;
    return receivers.length;
  }

  /** PUBLISH: local delivery, and the other nodes of a cluster. */
  publish(channel: Buffer, message: Buffer): number {
    const n = this.publishLocal(channel, message);
    if (this.fanout !== null) this.fanout(channel, message);
    return n;
  }

  /** SPUBLISH: the shard channel's subscribers on this node (its slot's owner). */
  spublish(channel: Buffer, message: Buffer): number {
    const subs = this.registry.shardReceivers(channel.latin1Slice(0, channel.length));
    if (subs.size === 0) return 0;
    const frames = new Frames(['smessage', channel, message]);
    for (const s of subs) s.push(frames.of(s.session.protocol));
    this.delivered += subs.size;
    return subs.size;
  }

  /**
   * The shard channels whose slot this node no longer serves: their
   * subscribers get `sunsubscribe` for each, as Redis 7 does when a slot moves.
   */
  dropShardChannels(servesSlotOf: (channel: string) => boolean): void {
    for (const name of [...this.registry.shardNames()]) {
      if (servesSlotOf(name)) continue;
      for (const s of this.registry.shardSubscribers(name)) {
        this.registry.remove(s, 'shard', name);
        s.push(frame(s.session.protocol, ['sunsubscribe', name], s.shardChannels.size));
      }
    }
  }

  /** Drops a client's subscriptions (connection closed, RESET). */
  leave(session: Session): void {
    const s = session.pubsub;
    if (s === undefined) return;
    this.registry.removeAll(s);
    session.pubsub = undefined;
  }

  /** Subscribes or unsubscribes, for the commands. */
  add(s: ClientPubsub, kind: Kind, name: string): boolean {
    return this.registry.add(s, kind, name);
  }

  remove(s: ClientPubsub, kind: Kind, name: string): boolean {
    return this.registry.remove(s, kind, name);
  }
}

/** Hubs of services that have none of their own (in-process command harnesses): one per services object. */
const fallback = new WeakMap<object, PubsubHub>();

export function hubOf(node: { readonly pubsub?: PubsubHub }): PubsubHub {
  if (node.pubsub !== undefined) return node.pubsub;
  let hub = fallback.get(node);
  if (hub === undefined) fallback.set(node, (hub = new PubsubHub()));
  return hub;
}
