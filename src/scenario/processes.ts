/**
 * The processes a scenario starts (cache nodes, redis-servers) and the
 * guarantee that none outlives the runner.
 *
 * Normal ends, failed verdicts, Ctrl-C, SIGTERM and uncaught errors run the
 * cleanup list (cleanup.ts), which stops the clusters. What that cannot cover,
 * the runner being SIGKILLed or crashing hard, the reaper does: a small
 * detached process that holds a pipe from the runner and, when that pipe
 * closes (the runner is gone, whatever the reason), SIGKILLs every pid it was
 * told about. Pids are added when a process starts and removed when it exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import type { Writable } from 'node:stream';

const OUTPUT_LIMIT = 64 * 1024;

// The reaper's program: +pid adds, -pid removes, +dir:/path and -dir:/path the same for directories; on end of
// input it SIGCONTs and SIGKILLs the pids left, then removes the directories left (a started etcd's data).
const REAPER_SOURCE = `
const pids = new Set(); const dirs = new Set(); let buf = '';
process.stdin.on('data', (d) => { buf += d; let i; while ((i = buf.indexOf('\\n')) >= 0) { const l = buf.slice(0, i); buf = buf.slice(i + 1);
  if (l.slice(1, 5) === 'dir:') { if (l[0] === '+') dirs.add(l.slice(5)); else dirs.delete(l.slice(5)); continue; }
  const pid = Number(l.slice(1)); if (!Number.isInteger(pid) || pid <= 0) continue; if (l[0] === '+') pids.add(pid); else pids.delete(pid); } });
const reap = () => { for (const pid of pids) { try { process.kill(pid, 'SIGCONT'); process.kill(pid, 'SIGKILL'); } catch {} }
  setTimeout(() => { for (const dir of dirs) { try { require('fs').rmSync(dir, { recursive: true, force: true }); } catch {} } process.exit(0); }, 200); };
process.stdin.on('end', reap); process.stdin.on('error', reap); process.on('SIGTERM', () => {}); process.on('SIGINT', () => {});
`;

class Reaper {
  private input: Writable | undefined;

  private ensure(): Writable {
    if (this.input !== undefined) return this.input;
    const child = spawn(process.execPath, ['-e', REAPER_SOURCE], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
    child.unref();
    const input = child.stdin!;
    (input as unknown as net.Socket).unref?.();
    input.on('error', () => {});
    this.input = input;
    return input;
  }

  watch(pid: number): void {
    this.ensure().write(`+${pid}\n`);
  }

  unwatch(pid: number): void {
    this.input?.write(`-${pid}\n`);
  }

  /** A directory to remove if the runner dies (after the processes are killed). */
  watchDir(dir: string): void {
    this.ensure().write(`+dir:${dir}\n`);
  }

  unwatchDir(dir: string): void {
    this.input?.write(`-dir:${dir}\n`);
  }
}

export const reaper = new Reaper();

export interface ManagedProcess {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly pid: number;
  /** The last 64 KiB the process printed (stdout and stderr). */
  output(): string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  isRunning(): boolean;
  signal(sig: NodeJS.Signals): void;
  /** SIGTERM (after SIGCONT, for a paused process), SIGKILL after graceMs; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL; resolves once it has exited. */
  kill(): Promise<void>;
}

export interface SpawnOptions {
  name: string;
  command: string;
  args: string[];
  cwd?: string;
  /** Output that means "ready". */
  ready: RegExp;
  readyTimeoutMs: number;
}

/** Starts a process and waits (bounded) for its ready line; on failure it is killed and the error carries its output. */
export async function startProcess(o: SpawnOptions): Promise<ManagedProcess> {
  const proc = spawn(o.command, o.args, { stdio: ['ignore', 'pipe', 'pipe'], ...(o.cwd !== undefined && { cwd: o.cwd }) });
  let out = '';
  // RINGCACHE_SCENARIO_LOGS=<dir>: every process's whole output also goes to a file there (the in-memory copy is capped).
  const logDir = process.env.RINGCACHE_SCENARIO_LOGS;
  if (logDir !== undefined && logDir !== '') mkdirSync(logDir, { recursive: true });
  const logFile = logDir !== undefined && logDir !== '' ? createWriteStream(join(logDir, `${o.name.replace(/[^\w.-]+/g, '_')}-${Date.now()}.log`)) : undefined;
  const onData = (d: Buffer) => {
    logFile?.write(d);
    out += d.toString();
    if (out.length > OUTPUT_LIMIT) out = out.slice(-OUTPUT_LIMIT);
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  const spawned = new Promise<void>((resolve, reject) => {
    proc.once('spawn', resolve);
    proc.once('error', reject);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  try {
    await spawned;
  } catch (err) {
    throw new Error(`could not start ${o.name} (${o.command}): ${(err as Error).message}`);
  }
  const pid = proc.pid!;
  reaper.watch(pid);
  void exited.then(() => reaper.unwatch(pid));
  const running = () => proc.exitCode === null && proc.signalCode === null;
  const kill = async () => {
    if (running()) proc.kill('SIGKILL');
    await exited;
  };
  const managed: ManagedProcess = {
    name: o.name,
    proc,
    pid,
    output: () => out,
    exited,
    isRunning: running,
    signal: (sig) => {
      if (running()) proc.kill(sig);
    },
    async stop(graceMs = 5000) {
      if (!running()) return;
      proc.kill('SIGCONT');
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
    kill,
  };
  const deadline = Date.now() + o.readyTimeoutMs;
  while (!o.ready.test(out)) {
    if (!running()) {
      await exited;
      throw new Error(`${o.name} exited before it was ready (${proc.exitCode ?? proc.signalCode}): ${out.trim().slice(-500)}`);
    }
    if (Date.now() > deadline) {
      await kill();
      throw new Error(`${o.name} was not ready within ${o.readyTimeoutMs} ms: ${out.trim().slice(-500)}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return managed;
}

/** A TCP port of 127.0.0.1 that was free a moment ago. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** n distinct ports that were free a moment ago (bounded tries). */
export async function freePorts(n: number, host = '127.0.0.1'): Promise<number[]> {
  const ports = new Set<number>();
  for (let tries = 0; ports.size < n && tries < n * 20 + 20; tries++) ports.add(await freePort(host));
  if (ports.size < n) throw new Error(`could not find ${n} free ports`);
  return [...ports];
}

/** Whether a program is on the PATH. */
export function hasCommand(name: string): Promise<boolean> {
  return new Promise((resolve) => {
    const p = spawn('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    p.once('error', () => resolve(false));
    p.once('exit', (code) => resolve(code === 0));
  });
}

/** Runs a command to completion (bounded); resolves with its exit code and output. */
export function runCommand(command: string, args: string[], timeoutMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const proc = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    proc.stdout.on('data', (d: Buffer) => (output += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    proc.once('error', (err) => {
      clearTimeout(timer);
      resolve({ code: null, output: err.message });
    });
    proc.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}
