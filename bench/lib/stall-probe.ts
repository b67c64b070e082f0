/**
 * A control for event-loop delay figures: a separate, idle Node process that
 * samples its own event-loop delay exactly as the node does
 * (monitorEventLoopDelay, 5 ms resolution, the interval taken off each sample).
 * It does no work, so whatever delay it sees is the machine's: CPU contention
 * and the VM being descheduled. Read next to the node's figures over the same
 * interval, it tells the node's own pauses from the machine's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { LOOP_DELAY_RESOLUTION_MS, type LoopDelay } from './memory-report.js';

// The child: on "reset" it clears its histogram (and says so), on "read" it prints p99 and max in ms.
const CHILD = `
const { monitorEventLoopDelay } = require('node:perf_hooks');
const h = monitorEventLoopDelay({ resolution: ${LOOP_DELAY_RESOLUTION_MS} });
h.enable();
const ms = (ns) => (h.count === 0 ? 0 : Math.max(0, ns / 1e6 - ${LOOP_DELAY_RESOLUTION_MS}));
require('node:readline').createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'reset') { h.reset(); process.stdout.write('{}\\n'); }
  else if (line === 'read') process.stdout.write(JSON.stringify({ p99Ms: ms(h.percentile(99)), maxMs: ms(h.max) }) + '\\n');
});
process.stdin.on('end', () => process.exit(0));
`;

export class StallProbe {
  private readonly child: ChildProcess;
  /** Callers waiting for the child's answers, in order. */
  private readonly replies: Array<(answer: unknown) => void> = [];

  constructor() {
    this.child = spawn(process.execPath, ['-e', CHILD], { stdio: ['pipe', 'pipe', 'inherit'] });
    createInterface({ input: this.child.stdout! }).on('line', (line) => this.replies.shift()?.(JSON.parse(line)));
  }

  /** The probe's process id (tests stop it to make a stall). */
  get pid(): number {
    return this.child.pid!;
  }

  /** Starts a new interval (next to the node's CONFIG RESETSTAT); resolves once the child has. */
  async reset(): Promise<void> {
    await this.ask('reset');
  }

  /** The probe's p99 and max delay since the last reset. */
  async read(): Promise<LoopDelay> {
    return (await this.ask('read')) as LoopDelay;
  }

  private ask(line: string): Promise<unknown> {
    return new Promise((resolve) => {
      this.replies.push(resolve);
      this.child.stdin!.write(`${line}\n`);
    });
  }

  stop(): void {
    this.child.stdin!.end();
  }
}
