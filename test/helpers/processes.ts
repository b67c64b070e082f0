/**
 * Real processes for integration tests: a ringcache node (the compiled CLI, as a
 * user runs it) and a reference redis-server, each on a free port of 127.0.0.1,
 * with every wait bounded in time.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = path.join(ROOT, 'bin/ringcache.js');

export interface Running {
  port: number;
  proc: ChildProcess;
  /** Everything the process printed so far (stdout and stderr). */
  output(): string;
  /** Sends SIGTERM and resolves with the exit code (killing it after a grace period). */
  stop(): Promise<number | null>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Collects everything a process prints (stdout and stderr). */
export function track(proc: ChildProcess): () => string {
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  return () => out;
}

/** A stop() for a process: SIGTERM, SIGKILL after 5 s; resolves with the exit code. */
export function stopper(proc: ChildProcess): () => Promise<number | null> {
  return () =>
    new Promise((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return resolve(proc.exitCode);
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      proc.once('exit', (code) => {
        clearTimeout(timer);
        resolve(code);
      });
      proc.kill('SIGTERM');
    });
}

async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** Runs `ringcache <args>` and resolves with its exit code and output (bounded in time). */
export function runCli(args: string[], timeoutMs = 10_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    // 'close', not 'exit': at 'exit' the child's stdout and stderr may not be read to
    // the end yet (a usage error then showed an empty stderr, now and then).
    proc.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Starts `ringcache server --port 0 <args>` and waits for its ready line. */
export async function startRingcache(args: string[] = []): Promise<Running> {
  const proc = spawn(process.execPath, [CLI, 'server', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const output = track(proc);
  let port = 0;
  await waitFor(() => {
    if (proc.exitCode !== null) throw new Error(`ringcache exited with ${proc.exitCode}: ${output()}`);
    const m = /ready on [\d.]+:(\d+)/.exec(output());
    if (m) port = Number(m[1]);
    return port > 0;
  }, 'the ringcache ready line');
  return { port, proc, output, stop: stopper(proc) };
}

/** Starts a reference redis-server with no persistence. */
export async function startRedis(args: string[] = []): Promise<Running> {
  const port = await freePort();
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const output = track(proc);
  await waitFor(() => {
    if (proc.exitCode !== null) throw new Error(`redis-server exited with ${proc.exitCode}: ${output()}`);
    return /Ready to accept connections/.test(output());
  }, 'redis-server to be ready');
  return { port, proc, output, stop: stopper(proc) };
}

/** Asserts the CLI's usage-error contract: exit 2, nothing on stdout, one `ringcache:` line on stderr matching pattern, no stack trace. */
export function assertUsageError(r: { code: number | null; stdout: string; stderr: string }, pattern: RegExp): void {
  assert.equal(r.code, 2, `exit code; stderr: ${r.stderr}`);
  assert.equal(r.stdout, '');
  const lines = r.stderr.split('\n');
  assert.equal(lines.length, 2, `exactly one line on stderr, got:\n${r.stderr}`);
  assert.equal(lines[1], '');
  assert.match(lines[0]!, /^ringcache: /);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(r.stderr, /\bat .+:\d+:\d+|Error:|\(outputHelp\)/, 'no stack trace or internals');
}
