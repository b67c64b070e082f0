/**
 * What must be stopped however a scenario ends: clusters, proxies, faults in
 * effect. Tasks run newest first, each bounded in time, once. install() hooks
 * SIGINT, SIGTERM and uncaught errors so a Ctrl-C or a crash of the runner
 * still stops every process it started (and the reaper in processes.ts covers
 * a runner that is killed outright).
 */

type Task = { name: string; run: () => Promise<void> };

const TASK_TIMEOUT_MS = 15_000;

export class Cleanup {
  private readonly tasks: Task[] = [];
  private running: Promise<void> | undefined;
  private handlers: Array<[string, (...args: unknown[]) => void]> = [];

  /** Adds a task; the returned function removes it (when the thing was stopped normally). */
  add(name: string, run: () => Promise<void>): () => void {
    const task = { name, run };
    this.tasks.push(task);
    return () => {
      const i = this.tasks.indexOf(task);
      if (i >= 0) this.tasks.splice(i, 1);
    };
  }

  /** Runs every task still registered, newest first, each bounded; errors are reported, not thrown. */
  runAll(report: (line: string) => void = () => {}): Promise<void> {
    this.running ??= (async () => {
      while (this.tasks.length > 0) {
        const task = this.tasks.pop()!;
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([task.run(), new Promise<void>((_, reject) => (timer = setTimeout(() => reject(new Error('timed out')), TASK_TIMEOUT_MS)))]);
        } catch (err) {
          report(`cleanup: ${task.name}: ${(err as Error).message}`);
        } finally {
          clearTimeout(timer);
        }
      }
    })();
    return this.running;
  }

  /**
   * On SIGINT/SIGTERM: runs the tasks and exits 130/143. On an uncaught error:
   * reports it, runs the tasks and exits 1.
   */
  install(report: (line: string) => void): void {
    const onSignal = (signal: NodeJS.Signals) => () => {
      report(`ringcache scenario: ${signal}: stopping everything it started`);
      void this.runAll(report).finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
    };
    const onError = (err: unknown) => {
      report(`ringcache scenario: uncaught error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      void this.runAll(report).finally(() => process.exit(1));
    };
    this.handlers = [['SIGINT', onSignal('SIGINT')], ['SIGTERM', onSignal('SIGTERM')], ['uncaughtException', onError], ['unhandledRejection', onError]];
    for (const [event, fn] of this.handlers) process.on(event as 'SIGINT', fn);
  }

  uninstall(): void {
    for (const [event, fn] of this.handlers) process.off(event as 'SIGINT', fn);
    this.handlers = [];
  }
}
