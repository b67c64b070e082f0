/** What a move's old owner reports while it copies (INFO, the coordinator's progress keys, `ringcache cluster status`). */
export interface MoveProgress {
  moveId: string;
  from: string;
  to: string;
  /** copying: the first pass over the slots; catching-up: resending keys written meanwhile; handover: writes held, waiting for the commit. */
  phase: 'copying' | 'catching-up' | 'handover';
  slots: number;
  slotsDone: number;
  /** Keys in the moving slots when the move started (the copy's denominator). */
  keysTotal: number;
  keysSent: number;
  bytesSent: number;
  /** Keys sent again because they were written during the copy. */
  keysResent: number;
  startedAt: number;
  /** Keys per second over the move so far. */
  rate: number;
}

/** Seconds left at the current rate, or undefined when unknown. */
export function etaSeconds(p: MoveProgress): number | undefined {
  if (p.rate <= 0) return undefined;
  return Math.max(0, (p.keysTotal - p.keysSent) / p.rate);
}
