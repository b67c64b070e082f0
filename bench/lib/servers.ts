// Starting the servers under test. Both ringcache and redis-server are run as
// plain foreground children bound to 127.0.0.1 on a free port, and are only
// considered "up" once they answer PING (see waitForPing).
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, LOOPBACK } from './ports.js';
import { describeExit, spawnTracked, stopProcess, type ExitInfo, type Spawned } from './processes.js';
import { waitForPing } from './resp.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface ServerHandle {
  readonly name: string;
  readonly port: number;
  readonly argv: readonly string[];
  readonly pid: number | undefined;
  /** Undefined while running; the exit info once the process is gone. */
  exitInfo(): ExitInfo | undefined;
  /** Resolves once the process has exited (never rejects). */
  readonly exited: Promise<ExitInfo>;
  /** Last few KiB of the server's stdout+stderr, for error messages. */
  output(): string;
  /** SIGTERM, then SIGKILL if needed; bounded in time. */
  stop(): Promise<ExitInfo | undefined>;
}

export interface StartServerOptions {
  /** Port to listen on; a free one is picked when omitted. */
  port?: number | undefined;
  /** maxmemory setting, e.g. "1gb"; omitted from the command line when undefined. */
  maxmemory?: string | undefined;
  /** How long to wait for +PONG (default 10 s). */
  startTimeoutMs?: number | undefined;
}

export interface StartRedisOptions extends StartServerOptions {
  /** redis-server executable (default "redis-server" from PATH). */
  bin?: string | undefined;
  extraArgs?: readonly string[] | undefined;
}

export interface StartRingcacheOptions extends StartServerOptions {
  /**
   * Command line template overriding the default
   * `node bin/ringcache.js server --port {port} --bind 127.0.0.1 --maxmemory {maxmemory}`.
   * Split like a shell would (quotes, backslashes; no expansion); `{port}` is
   * required, `{maxmemory}` optional. Useful to benchmark the harness itself
   * against a second redis-server before ringcache exists.
   */
  command?: string | undefined;
  cwd?: string | undefined;
  /** Environment of the process (default: ours), e.g. with NODE_OPTIONS=--max-old-space-size=N. */
  env?: NodeJS.ProcessEnv | undefined;
}

export async function startRedisServer(opts: StartRedisOptions = {}): Promise<ServerHandle> {
  const port = opts.port ?? (await freePort());
  // No persistence: we measure the in-memory path only, like ringcache.
  const argv = [opts.bin ?? 'redis-server', '--save', '', '--appendonly', 'no', '--port', String(port), '--bind', LOOPBACK];
  if (opts.maxmemory !== undefined) argv.push('--maxmemory', opts.maxmemory);
  argv.push(...(opts.extraArgs ?? []));
  return startServerProcess('redis', argv, port, opts.startTimeoutMs ?? 10_000);
}

export async function startRingcache(opts: StartRingcacheOptions = {}): Promise<ServerHandle> {
  const port = opts.port ?? (await freePort());
  const argv = ringcacheArgv(opts.command, port, opts.maxmemory);
  return startServerProcess('ringcache', argv, port, opts.startTimeoutMs ?? 10_000, opts.cwd ?? REPO_ROOT, opts.env);
}

/** The Node floor (node-floor-server.ts), a control server: see that file. */
export async function startNodeFloor(opts: StartServerOptions = {}): Promise<ServerHandle> {
  const port = opts.port ?? (await freePort());
  const argv = [process.execPath, '--import', 'tsx', resolve(REPO_ROOT, 'bench', 'lib', 'node-floor-server.ts'), '--port', String(port)];
  return startServerProcess('floor', argv, port, opts.startTimeoutMs ?? 10_000, REPO_ROOT);
}

/** Builds the ringcache command line (default or from a template). */
export function ringcacheArgv(template: string | undefined, port: number, maxmemory: string | undefined): string[] {
  if (template === undefined || template.trim() === '') {
    const bin = resolve(REPO_ROOT, 'bin', 'ringcache.js');
    if (!existsSync(bin)) throw new Error(`${bin} not found: run "npm run build" first, or pass a command override`);
    const argv = [process.execPath, bin, 'server', '--port', String(port), '--bind', LOOPBACK];
    if (maxmemory !== undefined) argv.push('--maxmemory', maxmemory);
    return argv;
  }
  if (!template.includes('{port}')) throw new Error('ringcache command override must contain {port}');
  if (template.includes('{maxmemory}') && maxmemory === undefined) {
    throw new Error('ringcache command override uses {maxmemory} but no maxmemory was given');
  }
  return splitCommandLine(template).map((arg) =>
    arg.replaceAll('{port}', String(port)).replaceAll('{maxmemory}', maxmemory ?? ''),
  );
}

/**
 * Splits a command line into argv: whitespace separates words, single quotes
 * are literal, double quotes allow \" and \\, a backslash outside quotes
 * escapes the next character. `""` yields an empty argument (needed for
 * redis-server's `--save ""`). No variables, globs or operators.
 */
export function splitCommandLine(line: string): string[] {
  const out: string[] = [];
  let word = '';
  let inWord = false;
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i] as string;
    if (quote === "'") {
      if (ch === "'") quote = null;
      else word += ch;
    } else if (quote === '"') {
      if (ch === '"') quote = null;
      else if (ch === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\')) word += line[++i];
      else word += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      inWord = true;
    } else if (ch === '\\' && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) out.push(word);
      word = '';
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (quote) throw new Error(`unterminated ${quote} quote in command: ${line}`);
  if (inWord) out.push(word);
  return out;
}

/**
 * Spawns `argv`, waits for +PONG on `port`, and returns a handle. Fails fast
 * (with the tail of the server's output) if the process exits first, and
 * kills it if it does not answer within `startTimeoutMs`.
 */
export async function startServerProcess(
  name: string,
  argv: readonly string[],
  port: number,
  startTimeoutMs: number,
  cwd?: string,
  env?: NodeJS.ProcessEnv,
): Promise<ServerHandle> {
  const proc = spawnTracked(argv, { cwd, env, captureLimit: 16 * 1024 });
  const output = (): string => (proc.stdout() + proc.stderr()).trim();
  const died = new AbortController();
  void proc.exited.then((info) => died.abort(describeExit(info)));
  try {
    await waitForPing(port, startTimeoutMs, died.signal);
  } catch (err) {
    const exitedEarly = proc.exitInfo();
    if (!exitedEarly) await stopProcess(proc, 2000, 2000);
    const why = exitedEarly ? `exited (${describeExit(exitedEarly)}) before answering PING` : (err as Error).message;
    throw new Error(`${name} failed to start: ${why}\n  command: ${formatArgv(argv)}${tail(output())}`);
  }
  return handle(name, port, argv, proc, output);
}

function handle(name: string, port: number, argv: readonly string[], proc: Spawned, output: () => string): ServerHandle {
  return {
    name,
    port,
    argv,
    pid: proc.child.pid,
    exitInfo: () => proc.exitInfo(),
    exited: proc.exited,
    output,
    stop: () => stopProcess(proc),
  };
}

export function formatArgv(argv: readonly string[]): string {
  return argv.map((a) => (a === '' ? '""' : /[\s"'\\$]/.test(a) ? `'${a.replaceAll("'", `'\\''`)}'` : a)).join(' ');
}

function tail(text: string, lines = 15): string {
  if (!text) return '';
  const last = text.split('\n').slice(-lines);
  return `\n  output (last ${last.length} lines):\n    ${last.join('\n    ')}`;
}
