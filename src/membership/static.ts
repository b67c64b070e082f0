/**
 * Static membership: a fixed list of peers (`--peers host:port,...`). Every node
 * computes the same map at epoch 1 from the list alone: ids derived from
 * host:port, slots planned from nothing (contiguous blocks in id order).
 */
import { createHash } from 'node:crypto';
import { ClusterMap, type MapNode } from '../cluster/cluster-map.js';
import { planSlots } from '../cluster/planner.js';
import type { MembershipHost, MembershipProvider } from './provider.js';

export interface PeerAddress {
  host: string;
  port: number;
  weight: number;
}

/** Parses "host:port[@weight],..."; throws with a message naming the bad entry. */
export function parsePeers(text: string): PeerAddress[] {
  const out: PeerAddress[] = [];
  const seen = new Set<string>();
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    const m = /^([^\s:]+|\[[0-9a-fA-F:]+\]):(\d{1,5})(?:@(\d+(?:\.\d+)?))?$/.exec(entry);
    const port = m ? Number(m[2]) : NaN;
    if (!m || port < 1 || port > 65535) throw new Error(`invalid peer '${entry}' (expected host:port)`);
    const weight = m[3] === undefined ? 1 : Number(m[3]);
    if (!(weight > 0)) throw new Error(`invalid weight in peer '${entry}'`);
    const key = `${m[1]}:${port}`;
    if (seen.has(key)) throw new Error(`peer ${key} is listed twice`);
    seen.add(key);
    out.push({ host: m[1]!, port, weight });
  }
  return out;
}

/** A static member's id: 40 hex digits derived from host:port, the same on every node. */
export function staticNodeId(a: { host: string; port: number }): string {
  return createHash('sha1').update(`${a.host}:${a.port}`).digest('hex');
}

/** The map every member of a static list computes. */
export function staticMap(peers: readonly PeerAddress[], cluster = 'static'): ClusterMap {
  const nodes: MapNode[] = peers.map((p) => ({ id: staticNodeId(p), host: p.host, port: p.port, role: 'primary', state: 'up', weight: p.weight }));
  const owners = planSlots(undefined, nodes.map((n) => ({ id: n.id, weight: n.weight })));
  return ClusterMap.build(cluster, 1, nodes, owners);
}

export class StaticMembership implements MembershipProvider {
  readonly selfId: string;

  constructor(
    private readonly peers: PeerAddress[],
    self: { host: string; port: number },
  ) {
    this.selfId = staticNodeId(self);
  }

  async start(host: MembershipHost): Promise<void> {
    host.applyMap(staticMap(this.peers));
  }

  async stop(): Promise<void> {}
}
