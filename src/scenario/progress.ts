/**
 * The runner's live progress line: phase, ops/s, errors, p99. In a terminal it
 * is one line rewritten in place (\r); elsewhere (CI, a pipe, a test) it is
 * one line per second. Other output goes through log(), which clears the live
 * line first so the two never mix.
 */

export interface ProgressStatus {
  run: string;
  phase: string;
  /** Seconds since the run began. */
  t: number;
  opsPerSec: number;
  errors: number;
  p99: number | null;
}

export class Progress {
  private readonly tty: boolean;
  private shown = false;

  constructor(private readonly out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number } = process.stdout, private readonly quiet = false) {
    this.tty = out.isTTY === true;
  }

  static format(s: ProgressStatus): string {
    const p99 = s.p99 === null ? '-' : `${s.p99.toFixed(s.p99 < 10 ? 2 : 1)} ms`;
    return `[${s.run}] ${s.phase}  t=${s.t.toFixed(0)}s  ${s.opsPerSec.toLocaleString('en-US')} ops/s  errors ${s.errors}  p99 ${p99}`;
  }

  update(s: ProgressStatus): void {
    if (this.quiet) return;
    const line = Progress.format(s);
    if (this.tty) {
      const width = Math.max(20, (this.out.columns ?? 120) - 1);
      this.out.write(`\r${line.slice(0, width)}\x1b[K`);
      this.shown = true;
    } else this.out.write(`${line}\n`);
  }

  log(line: string): void {
    this.clear();
    this.out.write(`${line}\n`);
  }

  clear(): void {
    if (this.shown) {
      this.out.write('\r\x1b[K');
      this.shown = false;
    }
  }
}
