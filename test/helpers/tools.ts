/**
 * Running external programs (redis-cli, redis-benchmark) against a node, and
 * small utilities shared by the integration tests: reading INFO text, bounding
 * a promise in time, waiting for a condition.
 */
import { spawn } from 'node:child_process';

export interface ToolResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a program with optional stdin input; kills it after timeoutMs (bounded in time). */
export function runTool(cmd: string, args: string[], options: { input?: string | Buffer; timeoutMs?: number } = {}): Promise<ToolResult> {
  const { input, timeoutMs = 20_000 } = options;
  return new Promise((resolve, reject) => {
    const proc = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    proc.stdin.on('error', () => {});
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    proc.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    proc.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    proc.stdin.end(input ?? '');
  });
}

/** `redis-cli -h 127.0.0.1 -p <port> <args>`. */
export function redisCli(port: number, args: string[], options: { input?: string | Buffer; timeoutMs?: number } = {}): Promise<ToolResult> {
  return runTool('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], options);
}

/** The `name:value` fields of an INFO reply. */
export function infoFields(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) out.set(line.slice(0, i), line.slice(i + 1));
  }
  return out;
}

/** A numeric INFO field; throws if it is missing, so a renamed field fails the test. */
export function infoNumber(text: string, name: string): number {
  const v = infoFields(text).get(name);
  if (v === undefined) throw new Error(`INFO has no field ${name}`);
  return Number(v);
}

/** Rejects if the promise does not settle within ms. */
export async function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls until check() is true; throws after timeoutMs. */
export async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(10);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Every byte value 0..255, twice, in a few orders: a binary-safety probe. */
export function allBytes(): Buffer {
  const up = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  const down = Buffer.from(up).reverse();
  return Buffer.concat([up, Buffer.from('\r\n$-1\r\n*0\r\n'), down]);
}
