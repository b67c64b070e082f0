/**
 * A real single-member etcd for tests: free loopback ports, data on tmpfs
 * (/dev/shm; etcd 3.4 has no --unsafe-no-fsync), the fast election flags from
 * the etcd notes (which also bring the lease TTL floor down to 1 s), and a
 * bounded readiness wait. kill9() and restart() (same ports, same data) let
 * tests take it away and bring it back, pause() and resume() (SIGSTOP, SIGCONT)
 * make it hang with its connections open; stop() kills it and removes the data.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { freePort, track } from './processes.js';

export interface RunningEtcd {
  /** `127.0.0.1:port` of the client URL. */
  endpoint: string;
  clientPort: number;
  output(): string;
  /** SIGKILL, and waits for the exit. */
  kill9(): Promise<void>;
  /** Starts it again on the same ports and data dir (after kill9), and waits until it is ready. */
  restart(): Promise<void>;
  /** SIGSTOP: connections stay open but nothing answers (a hung or partitioned member). */
  pause(): Promise<void>;
  /** SIGCONT after pause(). */
  resume(): void;
  /** Kills it and removes the data dir. */
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 10_000;

function exited(proc: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
    proc.once('exit', () => resolve());
  });
}

export async function startEtcd(): Promise<RunningEtcd> {
  const clientPort = await freePort();
  let peerPort = await freePort();
  while (peerPort === clientPort) peerPort = await freePort();
  const dir = mkdtempSync('/dev/shm/ringcache-etcd-');
  const endpoint = `127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const args = [
    '--name', 't0',
    '--data-dir', dir,
    '--listen-client-urls', `http://${endpoint}`,
    '--advertise-client-urls', `http://${endpoint}`,
    '--listen-peer-urls', peer,
    '--initial-advertise-peer-urls', peer,
    '--initial-cluster', `t0=${peer}`,
    '--initial-cluster-state', 'new',
    '--heartbeat-interval', '10',
    '--election-timeout', '100',
    '--logger', 'zap',
    '--log-level', 'error',
  ];
  let proc: ChildProcess;
  let output: () => string = () => '';
  let log = '';

  const launch = async (): Promise<void> => {
    proc = spawn('etcd', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out = track(proc);
    output = () => log + out();
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null) throw new Error(`etcd exited with ${proc.exitCode}: ${output()}`);
      // Async, not spawnSync: a blocked event loop would stall the test's own timers and watches.
      const healthy = await new Promise<boolean>((resolve) =>
        execFile('etcdctl', ['--endpoints', endpoint, '--dial-timeout', '500ms', '--command-timeout', '500ms', 'endpoint', 'health'], {
          env: { ...process.env, ETCDCTL_API: '3' },
          timeout: 2000,
        }, (err) => resolve(err === null)),
      );
      if (healthy) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    proc.kill('SIGKILL');
    throw new Error(`etcd not ready after ${READY_TIMEOUT_MS} ms: ${output()}`);
  };

  const kill9 = async (): Promise<void> => {
    log = output();
    proc.kill('SIGCONT');
    proc.kill('SIGKILL');
    await exited(proc);
  };

  // A test process that ends without stop() (an uncaught error) must not leave etcd and its data behind.
  const onExit = (): void => {
    proc?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onExit);
  try {
    await launch();
  } catch (err) {
    process.off('exit', onExit);
    onExit();
    throw err;
  }
  return {
    endpoint,
    clientPort,
    output: () => output(),
    kill9,
    restart: launch,
    pause: async () => {
      proc.kill('SIGSTOP');
      // The stop is asynchronous: wait (bounded) until every thread is stopped ('T' in /proc), or a
      // request sent right after could still be answered.
      const deadline = Date.now() + 2000;
      while (Date.now() < deadline) {
        const tasks = readdirSync(`/proc/${proc.pid}/task`);
        const state = (t: string): string | undefined => /^\d+ \(.*\) (\S)/.exec(readFileSync(`/proc/${proc.pid}/task/${t}/stat`, 'utf8'))?.[1];
        if (tasks.every((t) => state(t) === 'T')) return;
        await new Promise((r) => setTimeout(r, 5));
      }
      throw new Error('etcd did not stop after SIGSTOP');
    },
    resume: () => void proc.kill('SIGCONT'),
    stop: async () => {
      process.off('exit', onExit);
      await kill9();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
