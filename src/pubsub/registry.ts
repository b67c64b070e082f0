/**
 * Who is subscribed to what on one node: channels, patterns and shard
 * channels, each to the set of its subscribers, and the reverse per
 * subscriber. Pure: no I/O, no encoding; delivery is the subscriber's own
 * (src/pubsub/delivery.ts encodes, the connection writes). Names are binary
 * strings (one char per byte), as keys are.
 */
import { globMatch } from '../store/glob.js';

export type Kind = 'channel' | 'pattern' | 'shard';

/** One client's subscriptions and how it is reached. */
export interface Subscriber {
  readonly id: number;
  readonly channels: Set<string>;
  readonly patterns: Set<string>;
  readonly shardChannels: Set<string>;
}

/** What a publish found: each subscriber with the pattern that matched (undefined for a channel or shard subscription). */
export type Receiver<S extends Subscriber> = readonly [subscriber: S, pattern: string | undefined];

export class PubsubRegistry<S extends Subscriber> {
  private readonly channels = new Map<string, Set<S>>();
  private readonly patterns = new Map<string, Set<S>>();
  private readonly shards = new Map<string, Set<S>>();

  private mapOf(kind: Kind): Map<string, Set<S>> {
    return kind === 'channel' ? this.channels : kind === 'pattern' ? this.patterns : this.shards;
  }

  private static setOf(s: Subscriber, kind: Kind): Set<string> {
    return kind === 'channel' ? s.channels : kind === 'pattern' ? s.patterns : s.shardChannels;
  }

  /** Subscribes s to name; false when it already was. */
  add(s: S, kind: Kind, name: string): boolean {
    const own = PubsubRegistry.setOf(s, kind);
    if (own.has(name)) return false;
    own.add(name);
    const map = this.mapOf(kind);
    const subs = map.get(name);
    if (subs === undefined) map.set(name, new Set([s]));
    else subs.add(s);
    return true;
  }

  /** Unsubscribes s from name; false when it was not subscribed. */
  remove(s: S, kind: Kind, name: string): boolean {
    const own = PubsubRegistry.setOf(s, kind);
    if (!own.delete(name)) return false;
    const map = this.mapOf(kind);
    const subs = map.get(name);
    if (subs !== undefined) {
      subs.delete(s);
      if (subs.size === 0) map.delete(name);
    }
    return true;
  }

  /** Drops every subscription of s (a closed connection, RESET). */
  removeAll(s: S): void {
    for (const kind of ['channel', 'pattern', 'shard'] as const) for (const name of [...PubsubRegistry.setOf(s, kind)]) this.remove(s, kind, name);
  }

  /** The subscribers a PUBLISH to channel reaches: channel subscribers, then one entry per matching pattern and subscriber. */
  receivers(channel: string): Receiver<S>[] {
    const out: Receiver<S>[] = [];
    const subs = this.channels.get(channel);
    if (subs !== undefined) for (const s of subs) out.push([s, undefined]);
    for (const [pattern, psubs] of this.patterns) if (globMatch(pattern, channel)) for (const s of psubs) out.push([s, pattern]);
    return out;
  }

  /** The subscribers of a shard channel (SPUBLISH). */
  shardReceivers(channel: string): ReadonlySet<S> {
    return this.shards.get(channel) ?? EMPTY;
  }

  /** Active channel (or shard channel) names, filtered by a glob when given (PUBSUB CHANNELS / SHARDCHANNELS). */
  names(kind: 'channel' | 'shard', pattern?: string): string[] {
    const out: string[] = [];
    for (const name of this.mapOf(kind).keys()) if (pattern === undefined || globMatch(pattern, name)) out.push(name);
    return out;
  }

  /** Subscribers of one channel or shard channel (PUBSUB NUMSUB / SHARDNUMSUB). */
  count(kind: 'channel' | 'shard', name: string): number {
    return this.mapOf(kind).get(name)?.size ?? 0;
  }

  /** Channels and shard channels with a subscriber (INFO's pubsub_channels, pubsubshard_channels). */
  get channelCount(): number {
    return this.channels.size;
  }

  get shardCount(): number {
    return this.shards.size;
  }

  /** Distinct patterns subscribed to (PUBSUB NUMPAT). */
  get patternCount(): number {
    return this.patterns.size;
  }

  /** Shard channel names, for dropping the subscriptions of a slot that moved away. */
  shardNames(): IterableIterator<string> {
    return this.shards.keys();
  }

  /** Subscribers of a shard channel, as a copy (to unsubscribe them while iterating). */
  shardSubscribers(name: string): S[] {
    return [...(this.shards.get(name) ?? [])];
  }
}

const EMPTY: ReadonlySet<never> = new Set();
