/**
 * A single-member etcd for `ringcache scenario --etcd` without an endpoint:
 * Debian's `etcd` binary on two free loopback ports, with a temporary data dir
 * (on /dev/shm when there is one: etcd 3.4 has no --unsafe-no-fsync), the fast
 * election flags (which also bring etcd's lease TTL floor down to 1 s), and a
 * bounded readiness wait (its "serving client traffic" line, then /health).
 * It is a ManagedProcess, so the reaper kills it with the nodes if the runner
 * dies, and removes its data dir; stop() kills it and removes the data dir.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { freePorts, reaper, startProcess, type ManagedProcess } from './processes.js';

const READY_TIMEOUT_MS = 15_000;

export interface EtcdProcess {
  /** host:port of the client URL. */
  readonly endpoint: string;
  readonly proc: ManagedProcess;
  stop(): Promise<void>;
}

function healthy(endpoint: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(`http://${endpoint}/health`, { timeout: 1000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(res.statusCode === 200 && /"health"\s*:\s*"true"/.test(body)));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

export async function startEtcd(host = '127.0.0.1'): Promise<EtcdProcess> {
  const [clientPort, peerPort] = await freePorts(2, host);
  const base = existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
  const dir = await mkdtemp(path.join(base, 'ringcache-scenario-etcd-'));
  reaper.watchDir(dir);
  const removeDir = async () => {
    await rm(dir, { recursive: true, force: true });
    reaper.unwatchDir(dir);
  };
  const endpoint = `${host}:${clientPort}`;
  const peer = `http://${host}:${peerPort}`;
  let proc: ManagedProcess;
  try {
    proc = await startProcess({
      name: `etcd ${endpoint}`,
      command: 'etcd',
      args: [
        '--name', 'scenario',
        '--data-dir', dir,
        '--listen-client-urls', `http://${endpoint}`,
        '--advertise-client-urls', `http://${endpoint}`,
        '--listen-peer-urls', peer,
        '--initial-advertise-peer-urls', peer,
        '--initial-cluster', `scenario=${peer}`,
        '--initial-cluster-state', 'new',
        '--heartbeat-interval', '10',
        '--election-timeout', '100',
        '--logger', 'zap',
        '--log-level', 'info',
      ],
      ready: /serving client traffic/,
      readyTimeoutMs: READY_TIMEOUT_MS,
    });
  } catch (err) {
    await removeDir();
    throw err;
  }
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!(await healthy(endpoint))) {
    if (!proc.isRunning() || Date.now() > deadline) {
      await proc.kill();
      await removeDir();
      throw new Error(`etcd on ${endpoint} did not report healthy within ${READY_TIMEOUT_MS / 1000} s: ${proc.output().trim().slice(-400)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    endpoint,
    proc,
    stop: async () => {
      await proc.kill();
      await removeDir();
    },
  };
}
