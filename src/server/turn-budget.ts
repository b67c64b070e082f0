/**
 * Bounds how long one turn of the event loop spends on client input. A client
 * that floods a pipeline (a bulk load) would otherwise keep the loop in its
 * poll phase for tens of milliseconds: libuv reads a socket up to 32 times per
 * wake-up, and one 64 KiB read holds about a thousand commands. Connections
 * check the budget as they run commands; once a turn has used it, they stop
 * (mid-chunk if need be, the rest stays buffered), pause reading and wait for
 * the turn to end (setImmediate), so timers, the background cycle and other
 * clients get their turn, as Redis bounds what it processes per event-loop pass.
 *
 * The turn's clock starts at its first check, not at its first input: each
 * connection checks after every 32 commands (and at full 64 KiB reads), so up
 * to 32 commands per connection run before the clock starts, on top of the
 * budget. Opening a turn at every input cost a setImmediate per loop turn, and
 * at pipeline 1 nearly every request is a turn of its own: a fifth of the
 * node's allocation per request went to the Immediate and its processing.
 */
export class TurnBudget {
  /** Turns in which client input ran over the budget and was cut (INFO's input_turns_over_budget). */
  overBudget = 0;
  private startedAt = 0;
  private open = false;
  /** This turn is already counted in overBudget. */
  private counted = false;
  private waiting: Array<() => void> = [];
  private readonly endTurn = (): void => {
    this.open = false;
    this.counted = false;
    const waiting = this.waiting;
    this.waiting = [];
    for (const resume of waiting) resume();
  };

  constructor(
    private readonly budgetMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Whether this turn has used its budget; the turn's first check starts its clock. */
  spent(): boolean {
    if (!this.open) {
      // The turn closes when the loop reaches its check phase, after the poll phase's I/O.
      this.open = true;
      this.startedAt = this.now();
      setImmediate(this.endTurn);
      return false;
    }
    if (this.now() - this.startedAt < this.budgetMs) return false;
    if (!this.counted) {
      this.counted = true;
      this.overBudget++;
    }
    return true;
  }

  /** Calls resume once the event loop has had its turn (after timers and other I/O). */
  wait(resume: () => void): void {
    if (!this.open) this.spent(); // opens a turn, so that one ends and resumes the reader
    this.waiting.push(resume);
  }
}
