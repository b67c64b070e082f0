/**
 * Who is primary and who replicates whom, as the nodes themselves say it in
 * CLUSTER NODES (the same text from Redis Cluster and from ringcache), and
 * the checks the failover scenario builds on: the cluster has its shape (so
 * many primaries owning every slot, each with so many replicas whose link to
 * it is up and that CLUSTER SHARDS calls online, no node flagged failed), the
 * set of primaries (to tell a false
 * failover), and a write probe that tells when a key's slot accepts writes
 * again after its primary died.
 *
 * Everything here talks to nodes directly (resp-call.ts, or a few persistent
 * connections for the probe), never through the clients under test.
 */
import net from 'node:net';
import { slotOf } from '../client/lease-key.js';
import { encodeCommand, ReplyDecoder, type Arg, type Reply } from '../client/resp.js';
import type { NodeHandle } from './cluster-under-test.js';
import { call, replyText } from './resp-call.js';

const SLOTS = 16384;

/** One line of CLUSTER NODES. */
export interface NodeLine {
  id: string;
  /** host:port (the bus port and hostname cut off). */
  address: string;
  flags: string[];
  role: 'primary' | 'replica' | 'unknown';
  /** A replica's primary id; null for a primary. */
  primaryId: string | null;
  /** Flagged fail or fail? (PFAIL) by the node that answered. */
  failed: boolean;
  connected: boolean;
  /** Slot ranges it serves (inclusive), migrating/importing markers left out. */
  ranges: Array<[number, number]>;
  slots: number;
}

/** Parses CLUSTER NODES text (Redis's format: id addr flags master ping pong epoch link slot...). */
export function parseClusterNodes(text: string): NodeLine[] {
  const out: NodeLine[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    const f = line.split(/\s+/);
    if (f.length < 8) continue;
    const flags = f[2]!.split(',');
    const address = f[1]!.split('@')[0]!.split(',')[0]!;
    const ranges: Array<[number, number]> = [];
    for (const tok of f.slice(8)) {
      if (tok.startsWith('[')) continue;
      const m = /^(\d+)(?:-(\d+))?$/.exec(tok);
      if (m === null) continue;
      ranges.push([Number(m[1]), Number(m[2] ?? m[1])]);
    }
    out.push({
      id: f[0]!,
      address,
      flags,
      role: flags.includes('master') ? 'primary' : flags.includes('slave') || flags.includes('replica') ? 'replica' : 'unknown',
      primaryId: f[3] === '-' ? null : f[3]!,
      failed: flags.includes('fail') || flags.includes('fail?'),
      connected: f[7] === 'connected',
      ranges,
      slots: ranges.reduce((n, [a, b]) => n + b - a + 1, 0),
    });
  }
  return out;
}

/** The primaries that serve slots, as `id address`, sorted: what a failover changes. */
export function primarySet(lines: readonly NodeLine[]): string[] {
  return lines.filter((l) => l.role === 'primary' && l.slots > 0 && !l.failed).map((l) => `${l.id} ${l.address}`).sort();
}

/**
 * Why one node's view is not `primaries` primaries (owning all 16384 slots
 * between them) each with at least `replicas` replicas, none flagged failed;
 * undefined when it is.
 */
export function shapeProblem(lines: readonly NodeLine[], primaries: number, replicas: number): string | undefined {
  const failed = lines.filter((l) => l.failed);
  if (failed.length > 0) return `${failed.map((l) => l.address).join(', ')} flagged failed`;
  const owners = lines.filter((l) => l.role === 'primary' && l.slots > 0);
  const slots = owners.reduce((n, l) => n + l.slots, 0);
  if (slots !== SLOTS) return `${slots} of ${SLOTS} slots served`;
  if (owners.length !== primaries) return `${owners.length} primaries serve slots (expected ${primaries})`;
  for (const p of owners) {
    const n = lines.filter((l) => l.role === 'replica' && l.primaryId === p.id).length;
    if (n < replicas) return `${p.address} has ${n} replica(s) (expected ${replicas})`;
  }
  return undefined;
}

/** CLUSTER NODES of one node, parsed. */
export async function clusterNodes(host: string, port: number, timeoutMs = 1000): Promise<NodeLine[]> {
  return parseClusterNodes(replyText(await call(host, port, ['CLUSTER', 'NODES'], timeoutMs)));
}

/** Every running node's view (nodes that do not answer are left out, with their error). */
export async function views(nodes: readonly NodeHandle[]): Promise<Array<{ node: NodeHandle; lines: NodeLine[] } | { node: NodeHandle; error: string }>> {
  return Promise.all(nodes.filter((n) => n.state === 'running').map(async (node) => {
    try {
      return { node, lines: await clusterNodes(node.host, node.port) };
    } catch (err) {
      return { node, error: (err as Error).message };
    }
  }));
}

/**
 * Why the cluster does not have its shape, or undefined when it does: every
 * running node answers, says cluster_state:ok, and sees the shape; every
 * replica it lists reports master_link_status:up in INFO replication, and the
 * first node's CLUSTER SHARDS calls every node online (a replica that has not
 * finished its first sync, or in ringcache's sync mode is not yet in its
 * shard's in-sync set, cannot fail over).
 */
export async function clusterShapeProblem(nodes: readonly NodeHandle[], primaries: number, replicas: number): Promise<string | undefined> {
  const running = nodes.filter((n) => n.state === 'running');
  if (running.length === 0) return 'no running node';
  const seen = await views(running);
  let lines: NodeLine[] | undefined;
  for (const v of seen) {
    if ('error' in v) return `${v.node.id}: ${v.error}`;
    const problem = shapeProblem(v.lines, primaries, replicas);
    if (problem !== undefined) return `${v.node.id} sees: ${problem}`;
    lines ??= v.lines;
  }
  for (const n of running) {
    const info = replyText(await call(n.host, n.port, ['CLUSTER', 'INFO'], 1000));
    if (!/cluster_state:ok/.test(info)) return `${n.id}: ${/cluster_state:\w+/.exec(info)?.[0] ?? 'no cluster_state'}`;
  }
  // Every node online in CLUSTER SHARDS: a replica still loading (Redis) or not yet in its shard's in-sync set
  // (ringcache) is not one its primary can fail over to yet.
  const first = running[0]!;
  const notOnline = shardHealth(await call(first.host, first.port, ['CLUSTER', 'SHARDS'], 1000)).filter((h) => h.health !== 'online');
  if (notOnline.length > 0) return `${first.id}'s CLUSTER SHARDS: ${notOnline.map((h) => `${h.address} ${h.role} ${h.health}`).join(', ')}`;
  for (const r of lines!.filter((l) => l.role === 'replica')) {
    const node = running.find((n) => `${n.host}:${n.port}` === r.address);
    if (node === undefined) return `replica ${r.address} is not a running node of this cluster`;
    const info = replyText(await call(node.host, node.port, ['INFO', 'replication'], 1000));
    if (!/^master_link_status:up\s*$/m.test(info)) return `replica ${r.address}: ${/^master_link_status:\w+/m.exec(info)?.[0] ?? 'no master_link_status in INFO replication'}`;
  }
  return undefined;
}

/** Each node of a CLUSTER SHARDS reply (RESP2: flat field lists) with its role and health. */
export function shardHealth(reply: unknown): Array<{ address: string; role: string; health: string }> {
  const text = (v: unknown) => (Buffer.isBuffer(v) ? v.toString() : String(v));
  const fields = (list: unknown): Map<string, unknown> => {
    const m = new Map<string, unknown>();
    if (Array.isArray(list)) for (let i = 0; i + 1 < list.length; i += 2) m.set(text(list[i]), list[i + 1]);
    return m;
  };
  const out: Array<{ address: string; role: string; health: string }> = [];
  if (!Array.isArray(reply)) return out;
  for (const shard of reply) {
    const nodes = fields(shard).get('nodes');
    if (!Array.isArray(nodes)) continue;
    for (const node of nodes) {
      const f = fields(node);
      out.push({ address: `${text(f.get('ip') ?? f.get('endpoint'))}:${text(f.get('port'))}`, role: text(f.get('role')), health: text(f.get('health')) });
    }
  }
  return out;
}

/**
 * The primaries as the running nodes see them: the set when every answering
 * node agrees, otherwise each view joined (which never equals an agreed set).
 */
export async function agreedPrimaries(nodes: readonly NodeHandle[]): Promise<string[]> {
  const seen = await views(nodes);
  const sets = seen.filter((v): v is { node: NodeHandle; lines: NodeLine[] } => 'lines' in v).map((v) => primarySet(v.lines).join('; '));
  const distinct = [...new Set(sets)];
  return distinct.length === 1 ? distinct[0]!.split('; ') : distinct.map((s, i) => `view ${i + 1}: ${s}`);
}

/** A key (not one of the workload's) whose slot is in `ranges`. */
export function keyInRanges(ranges: ReadonlyArray<readonly [number, number]>, prefix = 'failover-probe'): string {
  for (let i = 0; i < 1_000_000; i++) {
    const key = `${prefix}:${i}`;
    const slot = slotOf(key);
    if (ranges.some(([a, b]) => slot >= a && slot <= b)) return key;
  }
  throw new Error('no probe key found for the ranges');
}

/** A persistent connection for the probe: one command at a time, bounded in time; reconnects after any failure. */
class ProbeLink {
  private socket: net.Socket | null = null;
  private waiting: { resolve: (r: Reply) => void; reject: (e: Error) => void } | null = null;

  constructor(readonly host: string, readonly port: number) {}

  private open(): net.Socket {
    const socket = net.connect(this.port, this.host);
    socket.setNoDelay(true);
    const decoder = new ReplyDecoder((reply) => {
      const w = this.waiting;
      this.waiting = null;
      if (w === null) return;
      if (reply instanceof Error) w.reject(reply);
      else w.resolve(reply);
    });
    socket.on('data', (d: Buffer) => decoder.feed(d));
    const broken = (err: Error) => {
      if (this.socket === socket) this.socket = null;
      socket.destroy();
      const w = this.waiting;
      this.waiting = null;
      w?.reject(err);
    };
    socket.on('error', broken);
    socket.on('close', () => broken(new Error(`connection to ${this.host}:${this.port} closed`)));
    this.socket = socket;
    return socket;
  }

  send(args: Arg[], timeoutMs: number): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const socket = this.socket ?? this.open();
      const timer = setTimeout(() => {
        this.waiting = null;
        // A reply that arrives later would be taken for the next command's: start afresh.
        if (this.socket === socket) this.socket = null;
        socket.destroy();
        reject(new Error(`no reply from ${this.host}:${this.port} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting = {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      socket.write(encodeCommand(args));
    });
  }

  close(): void {
    this.socket?.destroy();
    this.socket = null;
  }
}

export interface ProbeResult {
  /** performance.now() of the first write accepted after the probe began; null: none within the bound. */
  acceptedAt: number | null;
  /** host:port that accepted it. */
  acceptedBy: string | null;
  attempts: number;
  /** Replies and errors seen, with counts (e.g. "MOVED 127.0.0.1:7001": 40, "CLUSTERDOWN": 12). */
  outcomes: Record<string, number>;
}

export interface ProbeOptions {
  key: string;
  /** The running nodes to ask (re-read every round: the dead one is left out by its state). */
  nodes: () => NodeHandle[];
  /** Addresses never asked (the killed primary). */
  exclude: ReadonlySet<string>;
  everyMs?: number;
  timeoutMs: number;
  /** Per request. */
  requestTimeoutMs?: number;
}

/**
 * Sends SET key to every running node every `everyMs` until one accepts it,
 * following a MOVED to an address not asked in that round (one hop): when the
 * killed primary's slot accepts writes again, from the client's side. Bounded
 * by timeoutMs.
 */
export async function probeWrites(o: ProbeOptions): Promise<ProbeResult> {
  const every = o.everyMs ?? 20;
  const requestTimeout = o.requestTimeoutMs ?? 250;
  const links = new Map<string, ProbeLink>();
  const link = (address: string) => {
    let l = links.get(address);
    if (l === undefined) {
      const i = address.lastIndexOf(':');
      l = new ProbeLink(address.slice(0, i), Number(address.slice(i + 1)));
      links.set(address, l);
    }
    return l;
  };
  const result: ProbeResult = { acceptedAt: null, acceptedBy: null, attempts: 0, outcomes: {} };
  const count = (what: string) => (result.outcomes[what] = (result.outcomes[what] ?? 0) + 1);
  const deadline = performance.now() + o.timeoutMs;
  let n = 0;
  try {
    while (performance.now() < deadline && result.acceptedAt === null) {
      const round = performance.now();
      const targets = o.nodes().filter((h) => h.state === 'running').map((h) => `${h.host}:${h.port}`).filter((a) => !o.exclude.has(a));
      const asked = new Set(targets);
      const attempt = async (address: string, hops: number): Promise<void> => {
        result.attempts++;
        try {
          const reply = await link(address).send(['SET', o.key, `probe-${n++}`], requestTimeout);
          if (replyText(reply) === 'OK' && result.acceptedAt === null) {
            result.acceptedAt = performance.now();
            result.acceptedBy = address;
          }
          count(`reply ${replyText(reply).slice(0, 20)}`);
        } catch (err) {
          const message = (err as Error).message;
          const moved = /^MOVED \d+ (\S+)/.exec(message);
          count(moved !== null ? `MOVED ${moved[1]}` : (/ECONNREFUSED|ECONNRESET|no reply|closed/.exec(message)?.[0] ?? message.split(/\s/)[0]!));
          if (moved !== null && hops === 0 && !asked.has(moved[1]!) && !o.exclude.has(moved[1]!)) {
            asked.add(moved[1]!);
            await attempt(moved[1]!, 1);
          }
        }
      };
      await Promise.all(targets.map((a) => attempt(a, 0)));
      const wait = every - (performance.now() - round);
      if (result.acceptedAt === null && wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  } finally {
    for (const l of links.values()) l.close();
  }
  return result;
}
