/**
 * Bounds how long one turn of the event loop spends on client input. A client
 * that floods a pipeline (a bulk load) would otherwise keep the loop in its
 * poll phase for tens of milliseconds: libuv reads a socket up to 32 times per
 * wake-up, and every read is parsed and executed at once. Once a turn has used
 * its budget, each connection that reads pauses until the turn ends
 * (setImmediate), so timers, the background cycle and other clients get their
 * turn, as Redis bounds what it reads from one client per event-loop pass.
 */
export class TurnBudget {
  private startedAt = 0;
  private open = false;
  private waiting: Array<() => void> = [];

  constructor(
    private readonly budgetMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /**
   * Called after a connection has processed input. Returns false when the
   * turn's budget is spent: the caller pauses reading and is called back with
   * `resume` once the event loop has had its turn.
   */
  afterWork(resume: () => void): boolean {
    const t = this.now();
    if (!this.open) {
      // The first work of a turn opens it; it closes when the loop reaches its check phase.
      this.open = true;
      this.startedAt = t;
      setImmediate(() => this.endTurn());
      return true;
    }
    if (t - this.startedAt < this.budgetMs) return true;
    this.waiting.push(resume);
    return false;
  }

  private endTurn(): void {
    this.open = false;
    const waiting = this.waiting;
    this.waiting = [];
    for (const resume of waiting) resume();
  }
}
