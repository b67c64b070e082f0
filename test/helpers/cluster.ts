/**
 * Local ringcache clusters for integration tests: N node processes (the compiled
 * CLI, as users run it) on fixed free ports of 127.0.0.1 with static membership
 * (`--peers`), every wait bounded in time. Also the slot map as clients see it
 * (CLUSTER SLOTS) and an independent CRC16 key-slot function, so tests can pick
 * keys owned by a given node without trusting the server's own hashing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { CLI, freePort, stopper, track, type Running } from './processes.js';
import { encodeCommand, parseReply, RawClient, type Reply } from './raw-client.js';
import { eventually } from './tools.js';

export const HOST = '127.0.0.1';
export const SLOT_COUNT = 16384;
const READY_TIMEOUT_MS = 20_000;
const START_ATTEMPTS = 3;

/** n distinct ports that were free a moment ago. */
export async function freePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  for (let tries = 0; ports.size < n && tries < n * 20; tries++) ports.add(await freePort());
  if (ports.size < n) throw new Error(`could not find ${n} free ports`);
  return [...ports];
}

/** Whether a TCP port of 127.0.0.1 can be listened on now. */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, HOST, () => srv.close(() => resolve(true)));
  });
}

/**
 * A base port such that base .. base+n-1 are all free (for `ringcache dev --base-port`).
 * Chosen below Linux's ephemeral range (32768+), where the local ends of client
 * connections (and their TIME_WAIT leftovers) cannot occupy it.
 */
export async function freePortRun(n: number): Promise<number> {
  for (let tries = 0; tries < 50; tries++) {
    const base = 20_000 + Math.floor(Math.random() * (12_000 - n));
    const free = await Promise.all(Array.from({ length: n }, (_, i) => portIsFree(base + i)));
    if (free.every(Boolean)) return base;
  }
  throw new Error(`could not find ${n} consecutive free ports`);
}

/** Resolves true if a connection to the port is refused (nothing listens), false if it is accepted. */
export function refusesConnections(port: number, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, HOST);
    const timer = setTimeout(() => {
      s.destroy();
      resolve(false);
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      s.destroy();
      resolve(false);
    });
    s.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(err.code === 'ECONNREFUSED');
    });
  });
}

/** Waits (bounded) until a spawned process prints a line matching `ready`; throws with its output if it exits first. */
export async function waitForOutput(proc: ChildProcess, output: () => string, ready: RegExp, what: string, timeoutMs = READY_TIMEOUT_MS): Promise<void> {
  await eventually(() => {
    if (ready.test(output())) return true;
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`${what} exited (${proc.exitCode ?? proc.signalCode}) before it was ready:\n${output()}`);
    return false;
  }, what, timeoutMs);
}

/** Starts `ringcache server --port <port> <args>` and waits for its 'ready on' line. */
export async function startNode(port: number, args: string[]): Promise<Running> {
  const proc = spawn(process.execPath, [CLI, 'server', '--port', String(port), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const output = track(proc);
  const running = { port, proc, output, stop: stopper(proc) };
  try {
    await waitForOutput(proc, output, / ready on /, `ringcache node on port ${port}`);
  } catch (err) {
    await running.stop();
    throw err;
  }
  return running;
}

export interface LocalCluster {
  readonly ports: number[];
  readonly nodes: Running[];
  /** The --peers value every node was started with. */
  readonly peers: string;
  /** SIGKILLs node i and waits until it has exited. */
  kill(i: number): Promise<void>;
  /** Stops every node (SIGTERM); resolves with the exit codes, null for a node that was killed. */
  stop(): Promise<Array<number | null>>;
}

/**
 * Starts n nodes `ringcache server --port P --peers <all> [--proxy]` on free
 * ports, concurrently, and waits until every one is ready. A port taken by
 * someone else between picking and binding (EADDRINUSE) is retried with new ports.
 */
export async function startCluster(n: number, options: { proxy?: boolean } = {}): Promise<LocalCluster> {
  for (let attempt = 1; ; attempt++) {
    const ports = await freePorts(n);
    const peers = ports.map((p) => `${HOST}:${p}`).join(',');
    const args = ['--peers', peers, ...(options.proxy ? ['--proxy'] : [])];
    const started = await Promise.allSettled(ports.map((p) => startNode(p, args)));
    const nodes = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failure = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failure === undefined) return clusterOf(ports, nodes, peers);
    await Promise.all(nodes.map((node) => node.stop()));
    const message = String((failure.reason as Error).message);
    if (!/EADDRINUSE/.test(message) || attempt >= START_ATTEMPTS) throw failure.reason;
  }
}

function clusterOf(ports: number[], nodes: Running[], peers: string): LocalCluster {
  return {
    ports,
    nodes,
    peers,
    async kill(i) {
      const { proc } = nodes[i]!;
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((resolve) => proc.once('exit', resolve));
      proc.kill('SIGKILL');
      await exited;
    },
    stop: () => Promise.all(nodes.map((node) => (node.proc.signalCode === 'SIGKILL' ? null : node.stop()))),
  };
}

/** Runs fn with a RawClient connected to the port, closing it afterwards. */
export async function withRaw<T>(port: number, fn: (c: RawClient) => Promise<T>): Promise<T> {
  const c = await RawClient.connect(port);
  try {
    return await fn(c);
  } finally {
    c.close();
  }
}

/**
 * Sends one command on a fresh connection and returns its reply (bounded in time).
 * Unlike RawClient, which re-parses its whole buffer on every chunk, this parses
 * only when the bytes received have doubled or stopped arriving, so a reply of a
 * megabyte (CLUSTER SLOTS of a cluster: thousands of ranges) costs linear time.
 */
export function call(port: number, ...args: Array<string | Buffer>): Promise<Reply> {
  const timeoutMs = 10_000;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let triedAt = 0;
    let idle: NodeJS.Timeout | undefined;
    let done = false;
    const socket = net.connect(port, HOST, () => socket.write(encodeCommand(args)));
    const finish = (err: Error | undefined, reply?: Reply) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(idle);
      socket.destroy();
      if (err) reject(err);
      else resolve(reply!);
    };
    const timer = setTimeout(() => finish(new Error(`timed out after ${timeoutMs} ms waiting for the reply to ${args.join(' ').slice(0, 80)} from ${port}`)), timeoutMs);
    const attempt = () => {
      triedAt = size;
      const parsed = parseReply(Buffer.concat(chunks), 0);
      if (parsed) finish(undefined, parsed[0]);
    };
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      size += d.length;
      clearTimeout(idle);
      if (size >= 2 * triedAt) attempt();
      else idle = setTimeout(attempt, 20);
    });
    socket.on('error', (err) => finish(err));
    socket.on('close', () => finish(new Error(`connection to ${port} closed before the reply to ${args.join(' ').slice(0, 80)}`)));
  });
}

// ---- slots ----------------------------------------------------------------

/** CRC16-XMODEM (poly 0x1021, init 0), bit by bit: an independent reference for the server's key slot. */
export function crc16(data: Buffer): number {
  let crc = 0;
  for (const byte of data) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** The bytes Redis Cluster hashes: the first {...} with at least one byte inside, else the whole key. */
export function hashedPart(key: Buffer): Buffer {
  const open = key.indexOf('{');
  if (open < 0) return key;
  const close = key.indexOf('}', open + 1);
  return close > open + 1 ? key.subarray(open + 1, close) : key;
}

/** The Redis Cluster slot of a key, computed here from the spec. */
export function keySlot(key: string | Buffer): number {
  return crc16(hashedPart(typeof key === 'string' ? Buffer.from(key) : key)) % SLOT_COUNT;
}

export interface SlotRange {
  start: number;
  end: number;
  host: string;
  port: number;
  id: string;
}

const text = (r: Reply | undefined): string => (Buffer.isBuffer(r) ? r.toString() : String(r));

/** The entries of a CLUSTER SLOTS reply: [start, end, [host, port, id, ...], ...replicas]. */
export function parseClusterSlots(reply: Reply): SlotRange[] {
  if (!Array.isArray(reply)) throw new Error(`CLUSTER SLOTS did not return an array: ${String(reply)}`);
  return reply.map((entry) => {
    if (!Array.isArray(entry) || entry.length < 3 || !Array.isArray(entry[2])) throw new Error(`malformed CLUSTER SLOTS entry: ${JSON.stringify(entry)}`);
    const node = entry[2];
    return { start: Number(entry[0]), end: Number(entry[1]), host: text(node[0]), port: Number(node[1]), id: text(node[2]) };
  });
}

/** How many ranges cover each slot (every count should be 1). Out-of-range bounds are counted in `invalid`. */
export function slotCoverage(ranges: ReadonlyArray<{ start: number; end: number }>): { counts: Uint8Array; invalid: number } {
  const counts = new Uint8Array(SLOT_COUNT);
  let invalid = 0;
  for (const { start, end } of ranges) {
    if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && start <= end && end < SLOT_COUNT)) {
      invalid++;
      continue;
    }
    for (let s = start; s <= end; s++) counts[s] = Math.min(255, counts[s]! + 1);
  }
  return { counts, invalid };
}

/** A slot -> owner port table from CLUSTER SLOTS ranges (0 for a slot no range covers). */
export function ownerTable(ranges: readonly SlotRange[]): Int32Array {
  const owners = new Int32Array(SLOT_COUNT);
  for (const r of ranges) owners.fill(r.port, r.start, r.end + 1);
  return owners;
}

/** The slot map a node advertises (CLUSTER SLOTS), as a slot -> owner port table. */
export async function fetchOwners(port: number): Promise<Int32Array> {
  return ownerTable(parseClusterSlots(await call(port, 'CLUSTER', 'SLOTS')));
}

/** For every port, `count` keys `${prefix}<n>` whose slot that port owns. */
export function keysOwnedBy(owners: Int32Array, ports: readonly number[], prefix: string, count = 1): Map<number, string[]> {
  const out = new Map(ports.map((p) => [p, [] as string[]]));
  for (let i = 0; [...out.values()].some((keys) => keys.length < count); i++) {
    if (i > 1_000_000) throw new Error(`some node owns no key of the form ${prefix}<n>`);
    const key = `${prefix}${i}`;
    const list = out.get(owners[keySlot(key)]!);
    if (list !== undefined && list.length < count) list.push(key);
  }
  return out;
}

/** The DBSIZE of every port. */
export function dbsizes(ports: readonly number[]): Promise<number[]> {
  return Promise.all(ports.map(async (p) => Number(await call(p, 'DBSIZE'))));
}

/** FLUSHALL on every node (it is keyless, so each node flushes only its own keys). */
export async function flushAll(ports: readonly number[]): Promise<void> {
  await Promise.all(ports.map((p) => call(p, 'FLUSHALL')));
}
