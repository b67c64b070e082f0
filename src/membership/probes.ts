/**
 * The controller's failure detector: it pings every primary of the map every
 * PROBE_MS and reports a primary unreachable once no ping has been answered
 * for `failoverAfterMs` (default 900 ms: a 500 ms pause of a primary is not a
 * failure; a dead one is replaced in about a second instead of waiting for its
 * lease, 2 s and more, to expire). One missed ping never counts: only a
 * silence as long as the whole delay.
 */
import type { ClusterMap } from '../cluster/cluster-map.js';
import { PeerLink } from '../cluster/peer-link.js';
import { encodeRequest } from '../protocol/request-encoder.js';

const PROBE_MS = 100;
export const DEFAULT_FAILOVER_AFTER_MS = 900;

interface Target {
  link: PeerLink;
  address: string;
  lastOk: number;
  inFlight: boolean;
}

export interface ProberOptions {
  failoverAfterMs: number;
  password: () => string;
  /** The set of unreachable primaries changed. */
  onChange(): void;
  now?: () => number;
}

export class PrimaryProber {
  private readonly targets = new Map<string, Target>();
  private timer: NodeJS.Timeout | undefined;
  private last = '';
  private readonly now: () => number;

  constructor(private readonly opts: ProberOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** Follows the map's primaries (a new primary starts as just answered). */
  track(map: ClusterMap): void {
    const want = new Map(map.primaries().filter((n) => n.state !== 'failed').map((n) => [n.id, `${n.host}:${n.port}`]));
    for (const [id, t] of this.targets) {
      if (want.get(id) !== t.address) {
        t.link.close();
        this.targets.delete(id);
      }
    }
    for (const [id, address] of want) {
      if (this.targets.has(id)) continue;
      const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
      const link = new PeerLink({ host, port, protocol: 2, password: this.opts.password(), timeoutMs: Math.min(500, this.opts.failoverAfterMs) });
      this.targets.set(id, { link, address, lastOk: this.now(), inFlight: false });
    }
    if (this.timer === undefined && this.targets.size > 0) {
      this.timer = setInterval(() => this.round(), PROBE_MS);
      this.timer.unref();
    }
  }

  /** Primaries silent for the whole failover delay. */
  unreachable(): Set<string> {
    const now = this.now();
    const out = new Set<string>();
    for (const [id, t] of this.targets) if (now - t.lastOk >= this.opts.failoverAfterMs) out.add(id);
    return out;
  }

  private round(): void {
    for (const t of this.targets.values()) {
      if (t.inFlight) continue;
      t.inFlight = true;
      t.link.send(encodeRequest(['PING'])).then(
        (reply) => {
          t.inFlight = false;
          // A fenced or loading node still answers PING: alive is what failover asks about.
          if (reply.length > 0) t.lastOk = this.now();
        },
        () => {
          t.inFlight = false;
        },
      );
    }
    const key = [...this.unreachable()].sort().join(',');
    if (key !== this.last) {
      this.last = key;
      this.opts.onChange();
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const t of this.targets.values()) t.link.close();
    this.targets.clear();
  }
}
