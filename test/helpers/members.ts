/**
 * Cluster members as real processes on a coordinator (a real etcd): start one,
 * read `ringcache cluster status`, wait until the map settles on a set of
 * nodes. Shared by the node-manager and migration tests.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { CLI, freePort, runCli, stopper, track } from './processes.js';
import { eventually } from './tools.js';

export interface Member {
  port: number;
  proc: ChildProcess;
  output(): string;
  /** SIGTERM (a graceful leave), SIGKILL after 5 s; resolves with the exit code. */
  stop(): Promise<number | null>;
}

export async function startMember(endpoint: string, cluster: string, options: { leaseTtlMs?: number; args?: string[] } = {}): Promise<Member> {
  const port = await freePort();
  const args = [CLI, 'server', '--port', String(port), '--etcd', endpoint, '--cluster', cluster, '--lease-ttl', String(options.leaseTtlMs ?? 1000), ...(options.args ?? [])];
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const output = track(proc);
  await eventually(() => {
    if (proc.exitCode !== null) throw new Error(`node exited ${proc.exitCode}: ${output()}`);
    return / ready on /.test(output());
  }, `node ${port} ready`, 10_000);
  return { port, proc, output, stop: stopper(proc) };
}

export interface ClusterStatus {
  epoch: number;
  controller: string;
  nodes: Array<{ id: string; address: string; state: string; slots: number; alive: boolean }>;
  moves: Array<{ id: string; from: string; to: string; slots: number; acknowledged: boolean; progress?: { keysSent: number; keysTotal: number; phase: string } }>;
  unassignedSlots: number;
}

export async function clusterStatus(endpoint: string, cluster: string): Promise<ClusterStatus> {
  const r = await runCli(['cluster', 'status', '--etcd', endpoint, '--cluster', cluster, '--json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as ClusterStatus;
}

/** Waits until the map gives every slot to exactly these ports, with no move in flight. */
export async function settledOn(endpoint: string, cluster: string, ports: number[], timeoutMs = 10_000): Promise<ClusterStatus> {
  let last: ClusterStatus | undefined;
  try {
    await eventually(async () => {
      last = await clusterStatus(endpoint, cluster);
      const owning = last.nodes.filter((n) => n.slots > 0).map((n) => Number(n.address.split(':')[1])).sort();
      return last.moves.length === 0 && last.unassignedSlots === 0 && JSON.stringify(owning) === JSON.stringify([...ports].sort());
    }, `cluster ${cluster} settled on ${ports.join(',')}`, timeoutMs);
  } catch (err) {
    throw new Error(`${(err as Error).message}; last status: ${JSON.stringify(last)}`);
  }
  return last!;
}
