/** Static membership: a fixed list of peers (`--peers host:port,...`), one view at epoch 1. */
import type { NodeAddress } from '../cluster/topology.js';
import type { MemberView, MembershipProvider } from './provider.js';

/** Parses "host:port,host:port"; throws with a message naming the bad entry. */
export function parsePeers(text: string): NodeAddress[] {
  const out: NodeAddress[] = [];
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

export class StaticMembership implements MembershipProvider {
  constructor(private readonly members: NodeAddress[]) {}

  async start(onView: (view: MemberView) => void): Promise<void> {
    onView({ epoch: 1, members: this.members });
  }

  async stop(): Promise<void> {}
}
