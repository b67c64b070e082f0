/**
 * A local single-member etcd for `ringcache dev --etcd` given without an
 * endpoint: the `etcd` binary on PATH (Debian's etcd-server), free loopback
 * ports, a temporary data dir (on tmpfs when /dev/shm exists: etcd 3.4 has no
 * --unsafe-no-fsync), fast election flags (which also bring etcd's lease TTL
 * floor down to 1 s). stop() ends it and removes the data dir; a process exit
 * that skips stop() (an uncaught error) still kills it and removes the dir, and
 * a watchdog process does both when dev itself is killed (kill -9).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { EtcdKv } from '../membership/etcd-kv.js';

export interface LocalEtcd {
  /** `127.0.0.1:port` of its client URL. */
  readonly endpoint: string;
  readonly dataDir: string;
  readonly pid: number;
  /** SIGTERM (SIGKILL after 5 s), waits for the exit, removes the data dir. Idempotent. */
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5000;

/**
 * The watchdog's program (argv: etcd's pid, the data dir): its stdin is a pipe
 * from dev; "done" on it means dev stopped etcd itself; the pipe's end without
 * it (dev died) makes it kill etcd and remove the data dir. Detached, so a
 * Ctrl-C in the terminal does not reach it.
 */
const WATCHDOG_SOURCE = `
const [pid, dir] = [Number(process.argv[1]), process.argv[2]];
let done = false;
process.stdin.on('data', (d) => { if (String(d).includes('done')) done = true; });
const reap = () => {
  if (!done) {
    try { process.kill(pid, 'SIGKILL'); } catch {}
    setTimeout(() => { try { require('node:fs').rmSync(dir, { recursive: true, force: true }); } catch {} process.exit(0); }, 200);
  } else process.exit(0);
};
process.stdin.on('end', reap); process.stdin.on('error', reap); process.on('SIGINT', () => {}); process.on('SIGTERM', () => {});
`;

/** The etcd binary on PATH, or undefined. */
export function findEtcd(path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (dir === '') continue;
    const file = join(dir, 'etcd');
    try {
      if (statSync(file).isFile()) return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export async function startLocalEtcd(): Promise<LocalEtcd> {
  const binary = findEtcd();
  if (binary === undefined) throw new Error('--etcd without an endpoint starts a local etcd, but no etcd binary was found on PATH (Debian: apt-get install etcd-server); or give --etcd host:port');
  const clientPort = await freePort();
  let peerPort = await freePort();
  while (peerPort === clientPort) peerPort = await freePort();
  const dataDir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'ringcache-dev-etcd-'));
  const endpoint = `127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const args = [
    '--name', 'ringcache-dev',
    '--data-dir', dataDir,
    '--listen-client-urls', `http://${endpoint}`,
    '--advertise-client-urls', `http://${endpoint}`,
    '--listen-peer-urls', peer,
    '--initial-advertise-peer-urls', peer,
    '--initial-cluster', `ringcache-dev=${peer}`,
    '--initial-cluster-state', 'new',
    '--heartbeat-interval', '10',
    '--election-timeout', '100',
    '--logger', 'zap',
    '--log-level', 'error',
  ];
  // Its own process group: a Ctrl-C in the terminal reaches dev and the nodes, not etcd, which dev
  // stops last, once the nodes have left through it.
  const proc: ChildProcess = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let stderr = '';
  proc.stderr!.on('data', (chunk: Buffer) => {
    if (stderr.length < 8192) stderr += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  let spawnError: Error | undefined;
  proc.once('error', (err) => (spawnError = err));
  const removeDir = (): void => rmSync(dataDir, { recursive: true, force: true });
  const onExit = (): void => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    removeDir();
  };
  process.once('exit', onExit);
  // Only for a process that started (a pid of 0 would be the watchdog's own group).
  const watchdog = proc.pid === undefined ? undefined : spawn(process.execPath, ['-e', WATCHDOG_SOURCE, String(proc.pid), dataDir], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
  if (watchdog !== undefined) {
    watchdog.on('error', () => {});
    watchdog.stdin!.on('error', () => {});
    // Neither keeps dev's event loop alive.
    watchdog.unref();
    (watchdog.stdin as unknown as { unref?: () => void }).unref?.();
  }

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => (stopping ??= (async () => {
    process.off('exit', onExit);
    if (proc.exitCode === null && proc.signalCode === null && spawnError === undefined) {
      const timer = setTimeout(() => proc.kill('SIGKILL'), STOP_TIMEOUT_MS);
      proc.kill('SIGTERM');
      await exited;
      clearTimeout(timer);
    }
    removeDir();
    watchdog?.stdin!.end('done\n');
  })());

  // Ready once a range read answers (bounded).
  const probe = new EtcdKv({ endpoints: [endpoint], timeoutMs: 1000 });
  try {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (spawnError !== undefined) throw new Error(`cannot start ${binary}: ${spawnError.message}`);
      if (proc.exitCode !== null) throw new Error(`the local etcd exited with code ${proc.exitCode}: ${stderr.trim().split('\n').slice(-3).join(' ')}`);
      try {
        await probe.range('/ringcache/');
        break;
      } catch {
        if (Date.now() > deadline) throw new Error(`the local etcd was not ready within ${READY_TIMEOUT_MS} ms`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  } catch (err) {
    await probe.close().catch(() => {});
    await stop();
    throw err;
  }
  await probe.close();
  return { endpoint, dataDir, pid: proc.pid!, stop };
}
