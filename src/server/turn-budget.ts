/**
 * Bounds how long one turn of the event loop spends on client input. A client
 * that floods a pipeline (a bulk load) would otherwise keep the loop in its
 * poll phase for tens of milliseconds: libuv reads a socket up to 32 times per
 * wake-up, and one 64 KiB read holds about a thousand commands. Connections
 * check the budget as they run commands; once a turn has used it, they stop
 * (mid-chunk if need be, the rest stays buffered), pause reading and wait for
 * the turn to end (setImmediate), so timers, the background cycle and other
 * clients get their turn, as Redis bounds what it processes per event-loop pass.
 */
export class TurnBudget {
  private startedAt = 0;
  private open = false;
  private waiting: Array<() => void> = [];
  private readonly endTurn = (): void => {
    this.open = false;
    const waiting = this.waiting;
    this.waiting = [];
    for (const resume of waiting) resume();
  };

  constructor(
    private readonly budgetMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Called before a connection works on input: the first work of a turn opens it. */
  begin(): void {
    if (this.open) return;
    // The turn closes when the loop reaches its check phase, after the poll phase's I/O.
    this.open = true;
    this.startedAt = this.now();
    setImmediate(this.endTurn);
  }

  /** Whether the open turn has used its budget. */
  spent(): boolean {
    return this.open && this.now() - this.startedAt >= this.budgetMs;
  }

  /** Calls resume once the event loop has had its turn (after timers and other I/O). */
  wait(resume: () => void): void {
    this.waiting.push(resume);
  }
}
