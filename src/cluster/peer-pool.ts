/** One PeerLink per (peer, protocol), created on first use: the proxy's connection pool. */
import { PeerLink } from './peer-link.js';
import type { MapNode } from './cluster-map.js';

/** Longest a forwarded command waits for its owner's reply. */
export const FORWARD_TIMEOUT_MS = 2000;

export class PeerPool {
  private readonly links = new Map<string, PeerLink>();

  constructor(private readonly password: () => string) {}

  link(node: Pick<MapNode, 'host' | 'port'>, protocol: 2 | 3): PeerLink {
    const key = `${node.host}:${node.port}/${protocol}`;
    let link = this.links.get(key);
    if (link === undefined) {
      link = new PeerLink({ host: node.host, port: node.port, protocol, password: this.password(), timeoutMs: FORWARD_TIMEOUT_MS });
      this.links.set(key, link);
    }
    return link;
  }

  close(): void {
    for (const l of this.links.values()) l.close();
    this.links.clear();
  }
}
