// Child-process bookkeeping. Benchmarks start servers and load generators;
// a crashed or interrupted run must not leave them running (a leftover
// redis-benchmark spins at 100% CPU when its server disappears), so every
// child is registered here, every wait is bounded, and SIGINT/SIGTERM/exit
// handlers tear down whatever is still alive.
import { spawn, type ChildProcess } from 'node:child_process';

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be spawned at all (e.g. ENOENT). */
  error?: string;
}

export interface Spawned {
  readonly child: ChildProcess;
  readonly argv: readonly string[];
  /** Resolves once the process has exited (never rejects). */
  readonly exited: Promise<ExitInfo>;
  /** The exit info, or undefined while still running. */
  exitInfo(): ExitInfo | undefined;
  stdout(): string;
  stderr(): string;
}

const live = new Set<ChildProcess>();
let shuttingDown = false;

/** True once SIGINT/SIGTERM was received: callers should stop starting work. */
export function isShuttingDown(): boolean {
  return shuttingDown;
}

/** Keeps the last `limit` characters of a stream: enough for diagnostics, bounded in memory. */
function capture(stream: NodeJS.ReadableStream | null, limit: number): () => string {
  let text = '';
  stream?.setEncoding('utf8');
  stream?.on('data', (chunk: string) => {
    text += chunk;
    if (text.length > limit * 2) text = text.slice(-limit);
  });
  return () => (text.length > limit ? text.slice(-limit) : text);
}

export function spawnTracked(
  argv: readonly string[],
  opts: { cwd?: string | undefined; env?: NodeJS.ProcessEnv | undefined; captureLimit?: number | undefined } = {},
): Spawned {
  const [cmd, ...args] = argv;
  if (!cmd) throw new Error('spawnTracked: empty command');
  // After SIGINT nothing new may start: it could outlive us.
  if (shuttingDown) throw new Error(`not starting ${cmd}: shutting down`);
  const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  const limit = opts.captureLimit ?? 256 * 1024;
  const stdout = capture(child.stdout, limit);
  const stderr = capture(child.stderr, limit);
  let info: ExitInfo | undefined;
  const exited = new Promise<ExitInfo>((resolve) => {
    // 'close' (not 'exit') so that stdout/stderr are fully read when we resolve.
    child.once('close', (code, signal) => resolve((info ??= { code, signal })));
    child.on('error', (err) => {
      if (child.pid === undefined) resolve((info ??= { code: null, signal: null, error: err.message }));
    });
  }).finally(() => live.delete(child));
  return { child, argv, exited, exitInfo: () => info, stdout, stderr };
}

export function describeExit(info: ExitInfo | undefined): string {
  if (!info) return 'did not exit';
  if (info.error) return info.error;
  return info.signal ? `signal ${info.signal}` : `exit code ${info.code}`;
}

const timeout = (ms: number): Promise<'timeout'> =>
  new Promise((r) => setTimeout(() => r('timeout'), ms).unref());

/**
 * Stops a process: SIGTERM, wait up to `graceMs`, then SIGKILL and wait up to
 * `killMs`. Returns the exit info, or undefined if it still would not die.
 */
export async function stopProcess(p: Spawned, graceMs = 5000, killMs = 2000): Promise<ExitInfo | undefined> {
  if (p.exitInfo()) return p.exitInfo();
  p.child.kill('SIGTERM');
  const first = await Promise.race([p.exited, timeout(graceMs)]);
  if (first !== 'timeout') return first;
  p.child.kill('SIGKILL');
  const second = await Promise.race([p.exited, timeout(killMs)]);
  return second === 'timeout' ? undefined : second;
}

export function liveChildren(): number {
  return live.size;
}

let handlersInstalled = false;

/**
 * On SIGINT/SIGTERM: SIGTERM every tracked child, SIGKILL stragglers after
 * 2 s, then exit 130/143. On normal exit: SIGKILL anything left (a last
 * resort; normal code paths stop their children in `finally`).
 */
export function installCleanupHandlers(log: (msg: string) => void = (m) => process.stderr.write(`${m}\n`)): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  const onSignal = (signal: NodeJS.Signals): void => {
    const exitCode = signal === 'SIGINT' ? 130 : 143;
    if (shuttingDown) process.exit(exitCode); // second Ctrl+C: leave now (exit handler still SIGKILLs)
    shuttingDown = true;
    log(`\n${signal} received: stopping ${live.size} child process(es)...`);
    for (const child of live) child.kill('SIGTERM');
    const deadline = Date.now() + 2000;
    const poll = setInterval(() => {
      if (live.size === 0 || Date.now() > deadline) {
        clearInterval(poll);
        process.exit(exitCode);
      }
    }, 50);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}
