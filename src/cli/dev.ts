/**
 * `ringcache dev`: a local cluster in one command. Starts N node processes with
 * static membership on 127.0.0.1, prints the topology and how to connect, and
 * stops them all on Ctrl-C. A node that dies is reported, never restarted
 * silently.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { staticMap } from '../membership/static.js';

export interface DevOptions {
  nodes: number;
  basePort: number;
  bind: string;
  proxy: boolean;
  /** Flags passed through to every node (--maxmemory ...). */
  nodeArgs: string[];
}

const CLI = fileURLToPath(new URL('../../bin/ringcache.js', import.meta.url));
const READY_TIMEOUT_MS = 15_000;

export async function runDev(opts: DevOptions): Promise<void> {
  const ports = Array.from({ length: opts.nodes }, (_, i) => opts.basePort + i);
  if (ports[ports.length - 1]! > 65535) throw new Error(`ports ${ports[0]}-${ports[ports.length - 1]} do not fit below 65536`);
  const peers = ports.map((p) => `${opts.bind}:${p}`).join(',');
  const children = new Map<number, ChildProcess>();
  let stopping = false;

  const stopAll = async (code: number) => {
    stopping = true;
    const exits = [...children.values()].map((c) => new Promise<void>((resolve) => {
      if (c.exitCode !== null || c.signalCode !== null) return resolve();
      const timer = setTimeout(() => c.kill('SIGKILL'), 5000);
      c.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      c.kill('SIGTERM');
    }));
    await Promise.all(exits);
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  const ready = ports.map((port) => new Promise<void>((resolve, reject) => {
    const args = [CLI, 'server', '--port', String(port), '--bind', opts.bind, '--peers', peers, ...(opts.proxy ? ['--proxy'] : []), ...opts.nodeArgs];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    children.set(port, child);
    const timer = setTimeout(() => reject(new Error(`node ${port} was not ready within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
    let seenReady = false;
    const relay = (stream: NodeJS.WritableStream) => (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) {
        // Each node's own banner (how to connect, how to stop) is replaced by dev's summary.
        if (line.trim() === '' || /^\s+(connect|stop):/.test(line)) continue;
        if (!seenReady && / ready on /.test(line)) {
          seenReady = true;
          clearTimeout(timer);
          resolve();
          continue;
        }
        stream.write(`[node ${port}] ${line}\n`);
      }
    };
    child.stdout!.on('data', relay(process.stdout));
    child.stderr!.on('data', relay(process.stderr));
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (!seenReady) reject(new Error(`node ${port} exited before it was ready (code ${code ?? signal})`));
      else if (!stopping) process.stderr.write(`ringcache dev: node ${port} exited (code ${code ?? signal}); it is not restarted\n`);
      children.delete(port);
      if (children.size === 0 && !stopping) process.exit(1);
    });
  }));

  try {
    await Promise.all(ready);
  } catch (err) {
    process.stderr.write(`ringcache: ${(err as Error).message}\n`);
    await stopAll(2);
  }

  const map = staticMap(ports.map((port) => ({ host: opts.bind, port, weight: 1 })));
  const lines = [
    `ringcache dev: ${opts.nodes} nodes ready${opts.proxy ? ' (proxy mode)' : ''}`,
    ...map.nodes.map((n) => `  ${n.host}:${n.port}  id ${n.id.slice(0, 8)}  ${map.slotCount(n.id)} slots`),
    `  cluster-aware clients: redis-cli -c -p ${opts.basePort}   (ioredis: new Redis.Cluster([{ host: '${opts.bind}', port: ${opts.basePort} }]))`,
    opts.proxy ? `  any client, any node:  redis-cli -p ${opts.basePort}` : `  plain clients: start with --proxy to let any node forward commands to the owner`,
    '  stop: Ctrl-C',
  ];
  process.stdout.write(lines.join('\n') + '\n');
}
